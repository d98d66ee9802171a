"""The API's schema and its documentation pages, mounted under /api/ by config/urls.py.

- ``GET /api/schema/``: the OpenAPI 3 document, YAML by default, JSON with ``?format=json`` or
  ``Accept: application/vnd.oai.openapi+json`` (drf-spectacular's content negotiation);
- ``GET /api/docs/``: Swagger UI, ``GET /api/redoc/``: Redoc; both load their scripts and styles
  from this project's static files (drf-spectacular-sidecar), never from a CDN.

The views come from ``api.schema``, whose import also describes the API's views.
"""

from django.urls import path

from .schema import docs_view, redoc_view, schema_view

urlpatterns = [
    path("schema/", schema_view, name="schema"),
    path("docs/", docs_view, name="docs"),
    path("redoc/", redoc_view, name="redoc"),
]
