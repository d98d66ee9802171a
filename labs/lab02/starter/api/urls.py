"""Routes of the api app, mounted under /api/ by config/urls.py."""

from django.urls import path

from .views import HealthCheckApi

app_name = "api"

urlpatterns = [
    path("health/", HealthCheckApi.as_view(), name="health"),
]
