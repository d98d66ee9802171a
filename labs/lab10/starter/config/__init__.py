"""Project configuration: settings per environment, the root URLconf, WSGI and ASGI entry points."""

# Loaded with the project, so that @shared_task functions bind to this app and `.delay()` in a
# web process sends to the broker the settings name.
from .celery import app as celery_app

__all__ = ("celery_app",)
