# FILE LAB01 SOLUTION
"""App configuration for api: the HTTP interface over the other apps (it owns no models)."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The api app, registered as `api` in INSTALLED_APPS."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"
    # BEGIN LAB10

    def ready(self) -> None:
        # Connect the Celery signal handlers in every process that loads the project: the web
        # process sends the request id with each task, the worker restores it and counts
        # failures. Importing the modules registers them; keeping them here says why.
        from . import metrics, request_ids

        self.signal_handlers = (metrics, request_ids)
    # END LAB10
