"""App configuration for api: the HTTP interface over the other apps (it owns no models)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The api app, registered as `api` in INSTALLED_APPS."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"
