# FILE LAB10 SOLUTION
"""When the database is down, every endpoint answers 503 in the API's one error body.

Without this, a lost database reaches Django as an unhandled exception: a 500 with an HTML page
in production, which clients cannot tell from a bug. DRF's exception handler
(api/errors.py) leaves a DatabaseError alone (it is no API error), so the exception travels up
to this middleware, which answers what is true: the service is unavailable for now, try again
later. The details (host names, SQL) are logged, never returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class DatabaseOutageMiddleware:
    """Turns a DatabaseError raised by any view into 503 `service_unavailable`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        logger.error("database unavailable", exc_info=exception)
        response = JsonResponse(
            error_body(
                code="service_unavailable",
                message="The service cannot reach its database right now; try again shortly.",
            ),
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
