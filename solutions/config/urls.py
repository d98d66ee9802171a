"""Root URLconf: each app's routes are included under one prefix."""

from django.contrib import admin
from django.urls import include, path

# BEGIN LAB10
from api import metrics, probes

# END LAB10
urlpatterns = [
    path("admin/", admin.site.urls),
    # BEGIN LAB01
    path("api/", include("api.urls")),
    # STUB LAB01
    # # TODO(lab01): route "api/" to the api app's URLs (labs/lab01/README.md, step 4).
    # END LAB01
    # BEGIN LAB05
    path("api/auth/", include("api.auth_urls")),
    # STUB LAB05
    # path("api/auth/", include("api.auth_urls")),  # given: the views are yours to finish
    # END LAB05
    # BEGIN LAB08
    path("api/", include("api.docs_urls")),
    # STUB LAB08
    # # TODO(lab08): serve the schema and its docs pages (labs/lab08/README.md, step 2).
    # END LAB08
    # BEGIN LAB10
    # For the orchestrator and Prometheus: outside /api/, in no API version, never throttled.
    path("health/live", probes.live, name="health-live"),
    path("health/ready", probes.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    # STUB LAB10
    # # TODO(lab10): liveness, readiness and metrics (labs/lab10/README.md, steps 3 and 4).
    # END LAB10
]
