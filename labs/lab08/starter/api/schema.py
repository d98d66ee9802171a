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

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

# TODO(lab08): describe every operation of labs 01-07 with extend_schema_view/extend_schema:
# request bodies, every status code and its body (labs/lab08/README.md, step 3); the one error
# body as a component, used by every 4xx (step 4).


def document_common_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the 401, 406 and 429 every versioned operation can answer."""
    # TODO(lab08): add them to every operation but the health check (step 4).
    return result


schema_view = SpectacularAPIView.as_view()
docs_view = SpectacularSwaggerView.as_view(url_name="schema")
redoc_view = SpectacularRedocView.as_view(url_name="schema")
