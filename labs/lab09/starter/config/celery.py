"""The project's Celery app: ``celery -A config worker`` runs the tasks of every installed app.

Everything the app needs comes from Django's settings under the ``CELERY_`` prefix
(``CELERY_BROKER_URL`` is the app's ``broker_url``), and the settings read the environment, so
one codebase runs on a laptop, in CI and in production with nothing but variables changed.
"""

from __future__ import annotations

from celery import Celery

# TODO(lab09): read the app's configuration from Django's settings, CELERY_ namespace, and
# find the apps' tasks (labs/lab09/README.md, step 1).
app = Celery("config")
