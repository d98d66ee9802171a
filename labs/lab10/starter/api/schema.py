"""The API's contract as drf-spectacular writes it: what each operation takes and answers.

The views (`api/views.py`, `api/blog_views.py`, `api/auth_views.py`) read their input with
serializers by hand, so drf-spectacular cannot guess their bodies: this module says, for each
operation, the request body, every status code it can answer and the body of each. It also
makes the views that serve the schema and its pages, which `api/docs_urls.py` routes: importing
them describes the API's views before the schema is first generated.

Rules this module keeps, so the schema tells the truth:

- every 4xx body is the one error body of lab04 (the `Error` component, `api/errors.py`);
- `document_common_errors` (a postprocessing hook, `SPECTACULAR_SETTINGS`) adds to every
  versioned operation the errors any of them can answer: 401 (a bad or expired token is
  refused before the view runs, even where no login is needed), 406 (an unknown version) and
  429 (the rates of `api/throttles.py`);
- a list answered in both API versions documents both bodies: version 1's array and version 2's
  page (`oneOf`), and the post list documents the query parameters of `blog/filters.py`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers

from blog.models import PostStatus

from .auth_serializers import RefreshInputSerializer, RegisterInputSerializer, UserOutputSerializer
from .auth_views import LogoutApi, MeApi, RegisterApi, TokenObtainApi, TokenRefreshApi
from .blog_views import (
    CategoryListApi,
    CommentListApi,
    PostDetailApi,
    PostHistoryApi,
    PostListApi,
    PostTransitionApi,
    TagListApi,
)
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
from .views import HealthCheckApi


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable word to branch on: validation_error, ...")
    message = serializers.CharField(help_text="One sentence for people; its wording may change.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for errors about the request's fields: each field's messages.",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error the API answers (api/errors.py)."""

    error = ErrorDetailSerializer()


WHY = {
    400: "The request is not valid (code validation_error, or a rule such as banned_term).",
    401: "No valid credentials: log in (POST /api/auth/token/) and send the access token.",
    403: "Logged in, but this caller may not do this (code permission_denied).",
    404: "No such resource, or one the caller may not see (code not_found).",
    406: "The Accept header asks for a version the API does not have (code not_acceptable).",
    409: "The move is not one the editorial workflow has (code invalid_transition).",
    429: "Too many requests for this caller's rate; Retry-After says when to try again.",
}
# The errors document_common_errors adds to every versioned operation.
COMMON = (401, 406, 429)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses ``codes``, each with the one error body and a description."""
    return {code: OpenApiResponse(ErrorSerializer, description=WHY[code]) for code in codes}


def in_both_versions(name: str, row: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    """A list as version 1 answers it (an array of ``row``) or as version 2 does (a page)."""
    page = inline_serializer(
        f"{name}Page",
        fields={
            "count": serializers.IntegerField(help_text="Every row the caller may see."),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": row(many=True),
        },
    )
    return PolymorphicProxySerializer(
        component_name=f"{name}List",
        serializers=[row(many=True), page],
        resource_type_field_name=None,
        many=False,
    )


# The URLs take <int:post_id>: digits only, so a negative id never reaches a view (Django answers
# its own HTML 404), and the database's ids are 64-bit. The schema says what the URL accepts.
POST_ID = OpenApiParameter(
    "post_id",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    OpenApiParameter.PATH,
    description="The post's id.",
)
PAGES = [
    OpenApiParameter("page", int, description="Version 2: the page, from 1 (past the end: 404)."),
    OpenApiParameter("page_size", int, description="Version 2: rows a page (10; 50 at most)."),
]
POST_FILTERS = [
    OpenApiParameter("author", str, description="The author's username."),
    OpenApiParameter("category", str, description="A category's slug (unknown: 400)."),
    OpenApiParameter("tag", str, description="A tag's slug (unknown: 400)."),
    OpenApiParameter("status", str, enum=list(PostStatus.values)),
    OpenApiParameter("published_after", OpenApiTypes.DATETIME, description="Inclusive."),
    OpenApiParameter("published_before", OpenApiTypes.DATETIME, description="Inclusive."),
    OpenApiParameter("search", str, description="Every word, in the title or the body."),
    OpenApiParameter(
        "ordering",
        str,
        description="published_at, created_at, title, each optionally with -, comma separated.",
    ),
]
TOKENS = inline_serializer(
    "TokenPair", fields={"access": serializers.CharField(), "refresh": serializers.CharField()}
)
HEALTH = inline_serializer(
    "Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "error"]),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)

extend_schema_view(
    get=extend_schema(
        summary="Is the service up?",
        responses={
            200: OpenApiResponse(HEALTH, description="Every check passed."),
            503: OpenApiResponse(HEALTH, description="A check failed: see checks."),
        },
    )
)(HealthCheckApi)

extend_schema_view(
    get=extend_schema(
        summary="Every category",
        responses={200: CategoryOutputSerializer(many=True), **errors()},
    )
)(CategoryListApi)

extend_schema_view(
    get=extend_schema(
        summary="Every tag", responses={200: TagOutputSerializer(many=True), **errors()}
    )
)(TagListApi)

extend_schema_view(
    get=extend_schema(
        summary="The posts the caller may see",
        operation_id="posts_list",
        parameters=[*POST_FILTERS, *PAGES],
        responses={200: in_both_versions("Post", PostOutputSerializer), **errors(400, 404)},
    ),
    post=extend_schema(
        summary="A new draft by the caller (authors, editors, admins)",
        request=PostInputSerializer,
        responses={201: PostOutputSerializer, **errors(400, 403)},
    ),
)(PostListApi)

extend_schema_view(
    get=extend_schema(
        summary="One post",
        parameters=[POST_ID],
        responses={200: PostOutputSerializer, **errors(404)},
    ),
    patch=extend_schema(
        summary="Change a post's content",
        parameters=[POST_ID],
        request=PostInputSerializer,
        responses={200: PostOutputSerializer, **errors(400, 403, 404)},
    ),
    delete=extend_schema(
        summary="Delete a post and its comments",
        parameters=[POST_ID],
        responses={204: OpenApiResponse(description="Deleted."), **errors(403, 404)},
    ),
)(PostDetailApi)

extend_schema_view(
    post=extend_schema(
        summary="Move a post through the editorial workflow",
        parameters=[POST_ID],
        request=TransitionInputSerializer,
        responses={200: PostOutputSerializer, **errors(400, 403, 404, 409)},
    )
)(PostTransitionApi)

extend_schema_view(
    get=extend_schema(
        summary="A post's audit trail, oldest first",
        parameters=[POST_ID],
        responses={200: AuditEntryOutputSerializer(many=True), **errors(403, 404)},
    )
)(PostHistoryApi)

extend_schema_view(
    get=extend_schema(
        summary="A post's comments, oldest first",
        operation_id="posts_comments_list",
        parameters=[POST_ID, *PAGES],
        responses={200: in_both_versions("Comment", CommentOutputSerializer), **errors(404)},
    ),
    post=extend_schema(
        summary="A new comment by the caller",
        parameters=[POST_ID],
        request=CommentInputSerializer,
        responses={201: CommentOutputSerializer, **errors(400, 404)},
    ),
)(CommentListApi)

extend_schema_view(
    post=extend_schema(
        summary="A token pair for a username and password",
        responses={200: TOKENS, **errors(400)},
    )
)(TokenObtainApi)

extend_schema_view(
    post=extend_schema(
        summary="A new token pair for a refresh token (which is then refused)",
        responses={200: TOKENS, **errors(400)},
    )
)(TokenRefreshApi)

extend_schema_view(
    post=extend_schema(
        summary="A new reader's account",
        request=RegisterInputSerializer,
        responses={201: UserOutputSerializer, **errors(400)},
    )
)(RegisterApi)

extend_schema_view(
    post=extend_schema(
        summary="End a refresh token",
        request=RefreshInputSerializer,
        responses={204: OpenApiResponse(description="Refused from now on."), **errors(400)},
    )
)(LogoutApi)

extend_schema_view(
    get=extend_schema(summary="The caller's own account", responses={200: UserOutputSerializer})
)(MeApi)


def document_common_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the errors of ``COMMON`` on every operation but the health check.

    They come from what every view shares (authentication, versioning, throttles), not from
    any one view, so they are added here once rather than repeated on each operation.
    """
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if path == "/api/health/":  # not authenticated, not versioned, never throttled
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in COMMON:
                responses.setdefault(
                    str(code),
                    {"content": {"application/json": {"schema": error}}, "description": WHY[code]},
                )
    return result


# The schema is one document for both API versions: unversioned, or drf-spectacular would
# write the caller's version into info.version and the served schema would differ from the
# committed one.
schema_view = SpectacularAPIView.as_view(versioning_class=None)
docs_view = SpectacularSwaggerView.as_view(url_name="schema")
# api/templates/api/redoc.html: drf-spectacular's page without its Google Fonts links.
redoc_view = SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")

