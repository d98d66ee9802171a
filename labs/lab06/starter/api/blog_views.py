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

from blog.models import Post
from blog.selectors import category_list, comment_list, post_get, post_list, tag_list
from blog.services import comment_create, post_create, post_delete, post_update

from .serializers import (
    CategoryOutputSerializer,
    CommentInputSerializer,
    CommentOutputSerializer,
    PostInputSerializer,
    PostOutputSerializer,
    TagOutputSerializer,
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


def _post_or_404(post_id: int) -> Post:
    # TODO(lab06): find the post among those the caller may see, post_get_visible(post_id=...,
    # viewer=request.user), so someone else's draft is a 404 (labs/lab06/README.md, step 3).
    post = post_get(post_id=post_id)
    if post is None:
        raise NotFound(f"There is no post with id {post_id}.")
    return post


class PostListApi(APIView):
    """GET: every post, newest first. POST: a new draft by the requesting user."""

    # TODO(lab06): only authors, editors and admins create posts (CanCreatePosts), and the list
    # shows only the posts the caller may see (posts_visible_to) (labs/lab06/README.md, step 3).
    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request) -> Response:
        return Response(PostOutputSerializer(post_list(), many=True).data)

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
    """GET: one post. PATCH: change some of its fields. DELETE: remove it with its comments."""

    # TODO(lab06): CanChangePost decides PATCH and DELETE: call
    # self.check_object_permissions(request, post) on the post found, and pass the caller to
    # the services as `actor` (labs/lab06/README.md, step 3).
    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request, post_id: int) -> Response:
        return Response(PostOutputSerializer(_post_or_404(post_id)).data)

    def patch(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(post_id)
        data = PostInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        post = post_update(post=post, **data.validated_data)
        return Response(PostOutputSerializer(post).data)

    def delete(self, request: Request, post_id: int) -> Response:
        post_delete(post=_post_or_404(post_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostTransitionApi(APIView):
    """POST {"to": "<status>", "note"?}: move a post through the editorial workflow."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, post_id: int) -> Response:
        # TODO(lab06): validate with TransitionInputSerializer, call post_transition() and
        # answer 200 with the post (labs/lab06/README.md, step 5).
        return Response(status=status.HTTP_501_NOT_IMPLEMENTED)


class PostHistoryApi(APIView):
    """GET: the post's audit entries, oldest first: for its author, editors and admins."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request, post_id: int) -> Response:
        # TODO(lab06): the history of a post the caller can see, for its author, editors and
        # admins (CanReadHistory), from audit_list() (labs/lab06/README.md, step 7).
        return Response(status=status.HTTP_501_NOT_IMPLEMENTED)


class CommentListApi(APIView):
    """GET: a post's comments, oldest first. POST: a new comment by the requesting user."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    def get(self, request: Request, post_id: int) -> Response:
        comments = comment_list(post=_post_or_404(post_id))
        return Response(CommentOutputSerializer(comments, many=True).data)

    def post(self, request: Request, post_id: int) -> Response:
        post = _post_or_404(post_id)
        data = CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_create(post=post, author=request.user, **data.validated_data)
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)
