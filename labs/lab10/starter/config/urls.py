"""Root URLconf: each app's routes are included under one prefix."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("api/auth/", include("api.auth_urls")),
    path("api/", include("api.docs_urls")),
    # TODO(lab10): liveness, readiness and metrics (labs/lab10/README.md, steps 3 and 4).
]
