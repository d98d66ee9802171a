"""The project's Celery app: ``celery -A config worker`` runs the tasks of every installed app.

Everything the app needs comes from Django's settings under the ``CELERY_`` prefix
(``CELERY_BROKER_URL`` is the app's ``broker_url``), and the settings read the environment, so
one codebase runs on a laptop, in CI and in production with nothing but variables changed.
"""

from __future__ import annotations

import os

from celery import Celery

# The worker is started by the celery command, not manage.py: it needs the settings module too.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("config")
# CELERY_BROKER_URL -> broker_url, CELERY_TASK_ACKS_LATE -> task_acks_late, and so on.
app.config_from_object("django.conf:settings", namespace="CELERY")
# Finds blog/tasks.py (and any other app's tasks.py) once Django's apps are loaded.
app.autodiscover_tasks()
