from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP interface over the other apps. It owns no models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"
