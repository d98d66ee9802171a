# FILE LAB04
"""HTTP endpoints over the blog app: categories, tags, posts and their comments.

One APIView per URL, one method per operation, and every method reads the same way: validate
the input with an input serializer, call one selector or service, answer with an output
serializer. Errors are raised, never built here: `api/errors.py` turns each one into the
documented error body.

Who may do what stays simple until the labs that teach it: anyone may read, and writing needs a
logged-in user (the project's session authentication), any of whom may change any post. Lab05
replaces sessions with JSON Web Tokens; lab06 adds roles and who owns what.
"""

from __future__ import annotations

# BEGIN LAB04
from django.urls import reverse
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
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

# STUB LAB04
# from rest_framework.permissions import AllowAny
# from rest_framework.request import Request
# from rest_framework.response import Response
# from rest_framework.views import APIView
#
# from blog.selectors import category_list, tag_list
#
# from .serializers import CategoryOutputSerializer, TagOutputSerializer
#
# END LAB04

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


# BEGIN LAB04
def _post_or_404(post_id: int) -> Post:
    post = post_get(post_id=post_id)
    if post is None:
        raise NotFound(f"There is no post with id {post_id}.")
    return post


class PostListApi(APIView):
    """GET: every post, newest first. POST: a new draft by the requesting user."""

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
# STUB LAB04
# # TODO(lab04): the post and comment endpoints of the brief, one APIView per URL
# # (labs/lab04/README.md, step 5): PostListApi (GET, POST), PostDetailApi (GET, PATCH,
# # DELETE) and CommentListApi (GET, POST); then route them in api/urls.py.
# END LAB04
