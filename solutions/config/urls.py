"""Root URLconf: each app's routes are included under one prefix."""

from django.contrib import admin
from django.urls import include, path

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
]
