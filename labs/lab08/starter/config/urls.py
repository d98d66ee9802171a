"""Root URLconf: each app's routes are included under one prefix."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("api/auth/", include("api.auth_urls")),
    # TODO(lab08): serve the schema and its docs pages (labs/lab08/README.md, step 2).
]
