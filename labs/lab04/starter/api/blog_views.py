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

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from blog.selectors import category_list, tag_list

from .serializers import CategoryOutputSerializer, TagOutputSerializer


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


# TODO(lab04): the post and comment endpoints of the brief, one APIView per URL
# (labs/lab04/README.md, step 5): PostListApi (GET, POST), PostDetailApi (GET, PATCH,
# DELETE) and CommentListApi (GET, POST); then route them in api/urls.py.
