"""The API's one error format, and the one exception handler that produces it.

Every error the API answers has this body, whatever raised it:

    {"error": {"code": "validation_error",
               "message": "The request is not valid: see the fields.",
               "fields": {"title": ["Ensure this field has no more than 200 characters."]}}}

- `code`: a stable, machine-readable word for clients to branch on: `validation_error`,
  `not_found`, `method_not_allowed`, `not_authenticated`, `permission_denied`, `parse_error`,
  or a domain error's own code (`banned_term`, `slug_taken`);
- `message`: one sentence for people; its wording may change;
- `fields`: only when the error is about the request's fields: each field's messages, nested
  fields with dotted names (`tags.0`), errors about the request as a whole under
  `non_field_errors`.

`api_exception_handler` is registered as `REST_FRAMEWORK["EXCEPTION_HANDLER"]`, so DRF calls it
for every exception a DRF view raises. DRF's own handler still decides the status code and the
headers (`Allow` on a 405, `WWW-Authenticate` on a 401); this one only reshapes the body, and maps
the blog's domain errors (`blog/errors.py`) to 400. Anything else is a bug: it is left to Django,
which answers 500 and logs the traceback.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from blog.errors import DomainError


def error_body(
    *, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The documented error body; `fields` is left out when there is nothing to say in it."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _field_messages(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's error detail (nested dicts and lists) as `{field: [messages]}`."""
    if isinstance(detail, dict):
        items: Any = detail.items()
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        items = enumerate(detail)  # a list of nested objects: name each by its position
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in messages]}
    found: dict[str, list[str]] = {}
    for key, value in items:
        found.update(_field_messages(value, f"{prefix}.{key}" if prefix else str(key)))
    return found


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer `exc` with the documented error body, or None for Django to answer 500."""
    if isinstance(exc, DomainError):
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields),
            status=exc.status_code,
        )
    response = exception_handler(exc, context)  # DRF's: status code and headers
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = error_body(
            code="validation_error",
            message="The request is not valid: see the fields.",
            fields=_field_messages(exc.detail),
        )
    else:
        # DRF's body for every other error is {"detail": ErrorDetail}, whose `code` is a word
        # such as "not_found"; Http404 and Django's PermissionDenied arrive converted.
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = error_body(code=str(getattr(detail, "code", "error")), message=str(detail))
    return response
