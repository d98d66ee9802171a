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

from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Answer `exc` with the documented error body, or None for Django to answer 500."""
    # TODO(lab04): map domain errors, validation errors and every other DRF error to the one
    # error body in this module's docstring (labs/lab04/README.md, step 4). Until then DRF's
    # default handler answers, each error in a shape of its own.
    return exception_handler(exc, context)
