"""How the API answers a list: filtered by the query string, then an array or a page.

`filter_posts()` applies `blog.filters.PostFilter` to the posts the caller may see, and turns
a parameter that is not valid into a 400 naming it (DRF's ValidationError, so the error body
is the usual one).

`list_response()` answers version 1 with the whole list as a JSON array (as labs 04 to 06 did;
deprecated, see `api/versioning.py`) and version 2 with one page of it, `{"count", "next",
"previous", "results"}`: `count` is every row the caller may see with the filters applied,
`next` and `previous` are absolute URLs that keep the query string (or null). Clients ask for
`?page=N` (from 1) and `?page_size=M`: 10 unless asked, never more than 50 (a bigger page size
is served as 50, not refused, as DRF does). A page past the end is a 404 with the error body.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from blog.filters import PostFilter
from blog.models import Post

from .versioning import LEGACY_VERSION


class PagePagination(PageNumberPagination):
    """The pages of version 2: `?page=` and `?page_size=`, with a cap on the size."""

    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 50


def list_response(
    *,
    request: Request,
    view: APIView,
    queryset: QuerySet[Any],
    serializer_class: type[BaseSerializer[Any]],
) -> Response:
    """`queryset` as version 1 answers lists (every row, an array) or as version 2 (a page)."""
    if request.version == LEGACY_VERSION:
        return Response(serializer_class(queryset, many=True).data)
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def filter_posts(*, request: Request, queryset: QuerySet[Post]) -> QuerySet[Post]:
    """`queryset` narrowed by the query string's parameters; a 400 for one that is not valid.

    `queryset` must hold only the posts the caller may see: a filter can narrow it, never
    widen it.
    """
    filters = PostFilter(request.query_params, queryset=queryset)
    if not filters.is_valid():
        raise ValidationError(filters.errors)
    return filters.qs
