"""HTTP endpoints over the blog app: categories, tags, posts and their comments.

One APIView per URL, one method per operation, and every method reads the same way: validate
the input with an input serializer, call one selector or service, answer with an output
serializer. Errors are raised, never built here: `api/errors.py` turns each one into the
documented error body.

Who may do what (lab06): callers find only the posts they may see (`posts_visible_to`), so any
other post is a 404; the permission classes of `api/permissions.py` then decide what they may do
with a post they can see (a 403 says why not), and the workflow's service decides who may move a
post from one status to another.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from blog.cache import cached_post_list, post_list_key, viewer_scope
from blog.models import Post
from blog.selectors import (
    audit_list,
    category_list,
    comment_list,
    post_get_visible,
    posts_visible_to,
    tag_list,
)
from blog.services import comment_create, post_create, post_delete, post_transition, post_update

from .lists import filter_posts, list_response
from .permissions import CanChangePost, CanCreatePosts, CanReadHistory
from .serializers import (
    AuditEntryOutputSerializer,
    CategoryOutputSerializer,
    CommentInputSerializer,
    CommentOutputSerializer,
    PostInputSerializer,
    PostOutputSerializer,
    TagOutputSerializer,
    TransitionInputSerializer,
)


class CategoryListApi(APIView):
    """GET: every category, by name (the governance data `seed_governance` loads)."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(CategoryOutputSerializer(category_list(), many=True).data)


class TagListApi(APIView):
    """GET: every tag, by name."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(TagOutputSerializer(tag_list(), many=True).data)


def _post_or_404(request: Request, post_id: int) -> Post:
    """The post with id `post_id` if the caller may see it; NotFound (404) otherwise, whether
    it does not exist or is someone else's draft: the answer reveals nothing."""
    post = post_get_visible(post_id=post_id, viewer=request.user)
    if post is None:
        raise NotFound(f"There is no post with id {post_id}.")
    return post


class PostListApi(APIView):
    """GET: the posts the caller may see, newest first. POST: a new draft by the caller, who
    must be an author, an editor or an admin."""

    permission_classes = [IsAuthenticatedOrReadOnly, CanCreatePosts]

    def get(self, request: Request) -> Response:
        def build() -> object:
            # The filters narrow the posts the caller may see: they can never widen them.
            posts = filter_posts(request=request, queryset=posts_visible_to(request.user))
            response = list_response(
                request=request, view=self, queryset=posts, serializer_class=PostOutputSerializer
            )
            return response.data

        # Whose view (scope), which version, which page, filters and ordering (the whole URL,
        # whose host is in the pages' links): an answer is only reused for the same question
        # from the same kind of caller.
        key = post_list_key(
            version=str(request.version),
            scope=viewer_scope(request.user),
            path=request.build_absolute_uri(),
        )
        return Response(cached_post_list(key=key, build=build))

    def post(self, request: Request) -> Response:
        data = PostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = post_create(author=request.user, **data.validated_data)
        location = reverse("api:post-detail", kwargs={"post_id": post.pk})
        return Response(
            PostOutputSerializer(post).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class PostDetailApi(APIView):
    """GET: one post. PATCH: change its content. DELETE: remove it with its comments.

    The post must be one the caller may see (else 404); CanChangePost decides PATCH and DELETE.
    Its status never changes here: the workflow has an endpoint of its own.
    """

    permission_classes = [IsAuthenticatedOrReadOnly, CanChangePost]

    def get(self, request: Request, post_id: int) -> Response:
        return Response(PostOutputSerializer(_post_or_404(request, post_id)).data)

    def patch(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(request, post_id)
        self.check_object_permissions(request, post)
        data = PostInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        post = post_update(post=post, actor=request.user, **data.validated_data)
        return Response(PostOutputSerializer(post).data)

    def delete(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(request, post_id)
        self.check_object_permissions(request, post)
        post_delete(post=post, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostTransitionApi(APIView):
    """POST {"to": "<status>", "note"?}: move a post through the editorial workflow.

    200 with the post; 409 invalid_transition for a move the workflow does not have; 403 for a
    caller who may not make this move; 404 for a post the caller cannot see.
    """

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(request, post_id)
        data = TransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = post_transition(post=post, actor=request.user, **data.validated_data)
        return Response(PostOutputSerializer(post).data)


class PostHistoryApi(APIView):
    """GET: the post's audit entries, oldest first: for its author, editors and admins."""

    permission_classes = [IsAuthenticated, CanReadHistory]

    def get(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(request, post_id)
        self.check_object_permissions(request, post)
        return Response(AuditEntryOutputSerializer(audit_list(post=post), many=True).data)


class CommentListApi(APIView):
    """GET: a post's comments, oldest first. POST: a new comment by the requesting user.

    Only on a post the caller may see: any other is a 404, for reading and for commenting.
    """

    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request, post_id: int) -> Response:
        comments = comment_list(post=_post_or_404(request, post_id))
        return list_response(
            request=request, view=self, queryset=comments, serializer_class=CommentOutputSerializer
        )

    def post(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(request, post_id)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_create(post=post, author=request.user, **data.validated_data)
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)
