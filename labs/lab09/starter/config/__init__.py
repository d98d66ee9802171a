"""Project configuration: settings per environment, the root URLconf, WSGI and ASGI entry points."""

# TODO(lab09): load the Celery app with the project (labs/lab09/README.md, step 1).
