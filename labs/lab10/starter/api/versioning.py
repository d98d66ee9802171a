"""API versions, and the headers that tell version 1's clients it is going away.

Clients choose a version in the Accept header (DRF's `AcceptHeaderVersioning`, configured in
`REST_FRAMEWORK`): `Accept: application/json; version=2`. A request that names no version is
served as version 1, the API of labs 04 to 06; one that names a version the API does not have is
answered 406 `not_acceptable`.

Version 1 is deprecated. Every response served as version 1 says so in three headers, so a
client's logs show the deprecation long before the sunset breaks anything:

- `Deprecation: @1788220800`: since when (RFC 9745, seconds since the epoch);
- `Sunset: Mon, 01 Mar 2027 00:00:00 GMT`: from when it stops working (RFC 8594, an HTTP-date);
- `Link: <notes>; rel="deprecation"`: where the migration notes are (RFC 9745).

The dates and the link are settings (`API_V1_DEPRECATED_AT`, `API_V1_SUNSET`,
`API_V1_MIGRATION_NOTES` in `config/settings/base.py`), so a change of plan is one edit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

LEGACY_VERSION = "1"


def deprecation_headers() -> dict[str, str]:
    """The three headers every version 1 response carries."""
    deprecated_at = datetime.datetime.fromisoformat(settings.API_V1_DEPRECATED_AT)
    sunset = datetime.datetime.fromisoformat(settings.API_V1_SUNSET)
    return {
        "Deprecation": f"@{int(deprecated_at.timestamp())}",
        "Sunset": http_date(sunset.timestamp()),
        "Link": f'<{settings.API_V1_MIGRATION_NOTES}>; rel="deprecation"',
    }


class DeprecationHeadersMiddleware:
    """Adds `deprecation_headers()` to every response a DRF view served as version 1.

    DRF decides the version in the view and keeps it on its own request object, which a
    response carries in `renderer_context`. A response no DRF view made (the admin, a 404 page)
    or one made before a version was decided (a 406 for an unknown version) has none and is
    left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        context = getattr(response, "renderer_context", None) or {}
        version = getattr(context.get("request"), "version", None)
        if version == LEGACY_VERSION:
            for name, value in deprecation_headers().items():
                response.headers[name] = value
        return response
