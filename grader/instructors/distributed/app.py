"""The grader's Celery application. Start a worker on each grading machine with::

    celery -A grader.instructors.distributed.app worker --pool=prefork --concurrency=2 -Q grader

(from the course's root, or anywhere the ``grader`` package is installed). The dispatcher and
every worker read the same environment:

==========================  =================================  ====================================
variable                    default                            meaning
==========================  =================================  ====================================
``GRADER_CELERY_BROKER``    ``redis://127.0.0.1:6379/0``       the Redis the jobs are queued in
``GRADER_CELERY_BACKEND``   the broker's URL                   where results wait for the dispatcher
``GRADER_CELERY_QUEUE``     ``grader``                         the queue (``-Q``) jobs are sent to
==========================  =================================  ====================================

Why these settings (see :func:`make_app`): a grading takes seconds and must never be lost or
run by two processes at once, so messages are acknowledged only after the task ends
(``task_acks_late``: a worker machine that disappears leaves its job to another once Redis's
visibility timeout passes) and each worker process reserves one job at a time
(``worker_prefetch_multiplier=1``: a slow machine does not hoard jobs a free one could run).
A worker *process* killed mid-grading (say, out of memory) is not retried automatically
(``task_reject_on_worker_lost`` stays off): a submission that kills its worker would otherwise
kill every worker in turn. The dispatcher reports it, and running the command again retries it.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

BROKER_ENV = "GRADER_CELERY_BROKER"
BACKEND_ENV = "GRADER_CELERY_BACKEND"
QUEUE_ENV = "GRADER_CELERY_QUEUE"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "grader"
RESULT_DAYS = 7  # results wait this long for a dispatcher to collect them (a long weekend)


def broker_url() -> str:
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER


def backend_url() -> str:
    return os.environ.get(BACKEND_ENV) or broker_url()


def default_queue() -> str:
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


def make_app(broker: str | None = None, backend: str | None = None) -> Any:
    """A configured Celery application (see module doc); URLs default to the environment's."""
    app = Celery(
        "grader",
        broker=broker or broker_url(),
        backend=backend or backend_url(),
        include=["grader.instructors.distributed.tasks"],
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=default_queue(),
        task_acks_late=True,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        # STARTED is stored, so a dispatcher started again can wait for a grading in progress
        # instead of sending it a second time.
        task_track_started=True,
        result_expires=RESULT_DAYS * 24 * 3600,
        broker_connection_retry_on_startup=True,
        # Gradings have their own time limit (the rubric's), which kills the checks' process
        # tree; a Celery hard limit would kill the worker process instead and orphan that tree.
        task_time_limit=None,
    )
    return app


app = make_app()
