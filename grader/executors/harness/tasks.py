"""Grader fixtures for background work: a real Celery worker on a real Redis, and the mail sent.

Rubric checks never import the learner's modules; for lab09 they use:

``tasks`` (:class:`TaskTracker`)
    Starts a Celery worker for the check (``celery.contrib.testing.worker``: a real worker
    consuming from the real broker, never eager mode) running the project's app
    (``config/celery.py``, ``app``), and records every task message published while the check
    runs and every run of one: ``tasks.wait()`` returns once every message has been run (a retry
    is a new message, awaited too) or fails naming the ones still due; ``tasks.published()``
    and ``tasks.runs()`` return plain dicts; ``tasks.send(name, *args)`` queues a task by name,
    as a second delivery of a message would.
``outbox`` (:class:`Outbox`)
    The mails the project sent during the check, as plain dicts (to, subject, body), through
    Django's email framework; ``outbox.fail_next(n)`` makes the next ``n`` sends raise
    ``smtplib.SMTPServerDisconnected``, as a mail server that goes away does.
``redis_outage`` (:class:`RedisOutage`)
    Stops the grader's Redis server for the check (connections are refused: a real outage);
    ``redis_outage.restore()`` (or the end of the check) starts it again on the same port, empty.
``commit_failure`` (:class:`CommitFailure`)
    ``commit_failure.on_publish(post_id)``: the transaction that publishes that post fails at
    COMMIT (a deferred foreign key a database trigger breaks), after every line of the
    learner's code in it ran, so a task queued inside the transaction is seen queued although
    the publish rolled back.

The Redis the checks use is started by :func:`start_services` before Django is set up (the
project's settings read ``CELERY_BROKER_URL`` and ``LIST_CACHE_URL`` from the environment). The
worker runs in a thread of this process: local mode is a learner checking their own work, and
the mail, the task records and the database are then the very objects the learner's code used.
Between checks, messages still due (a retry far in the future) are revoked, so one check's
tasks never act in the next.

The worker, the records, the mail backend and the failing COMMIT are
:mod:`grader.executors.harness.taskwork`, which official mode's agent runs in the sandbox too;
this module adds the fixtures and the services of local mode.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from grader.executors.harness import taskwork
from grader.executors.harness.taskwork import WAIT_SECONDS
from grader.redisserver import RedisServer, RedisUnavailable, throwaway_redis

_server: RedisServer | None = None
_server_context: contextlib.ExitStack | None = None
_service_error: str | None = None


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def start_services(services: list[str], redis_url: str | None) -> None:
    """Start what the checks need before Django reads its settings (see the module docstring).

    A throwaway Redis unless ``redis_url`` names one; its database 0 is the Celery broker, 1
    the lists cache. A server that cannot start is remembered: the fixtures then fail each
    check with that sentence instead of a connection error.
    """
    global _server, _server_context, _service_error
    if "redis" not in services:
        return
    if redis_url:
        base = redis_url
        db = int((urlsplit(redis_url).path or "/0").strip("/") or 0)
        broker, cache = _with_db(base, db), _with_db(base, db + 1)
    else:
        stack = contextlib.ExitStack()
        try:
            _server = stack.enter_context(throwaway_redis())
        except RedisUnavailable as why:
            _service_error = f"The grader could not start its Redis server: {why}."
            return
        _server_context = stack
        broker, cache = _server.url(0), _server.url(1)
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["LIST_CACHE_URL"] = cache


def stop_services() -> None:
    """Stop the worker and the throwaway Redis (also done by the parent's process-tree kill)."""
    taskwork.WORKER.stop()
    if _server_context is not None:
        _server_context.close()


def _require_redis() -> None:
    if _service_error is not None:
        pytest.fail(_service_error, pytrace=False)
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        pytest.fail("This check needs the grader's Redis, which was not started.", pytrace=False)


# What the check's tasks did, and the mail ------------------------------------------------------


@contextlib.contextmanager
def _sentences() -> Iterator[None]:
    """taskwork's learner-facing failures become failed checks without a traceback."""
    try:
        yield
    except taskwork.CheckFailed as failure:
        pytest.fail(str(failure), pytrace=False)


class TaskTracker:
    """What the check's tasks did (see the module docstring). Plain data only."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def published(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every message published during the check (retries too), oldest first."""
        return taskwork.published(name)

    def runs(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every run of a task the check published, with its final state (SUCCESS, RETRY...)."""
        return taskwork.runs(name)

    def send(self, name: str, *args: Any) -> None:
        """Queue the task called ``name`` with ``args``, as the broker would deliver it again."""
        self._app.send_task(name, args=list(args))

    def wait(self, timeout: float = WAIT_SECONDS) -> None:
        """Return once every message published in the check has been run; fail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not taskwork.due():
                return
            time.sleep(0.02)
        pytest.fail(taskwork.overdue_sentence(taskwork.due(), timeout), pytrace=False)

    def describe(self, name: str) -> dict[str, Any]:
        """How the registered task ``name`` is set up: acks_late, max_retries (plain data)."""
        return taskwork.describe(self._app, name)


@pytest.fixture
def tasks(transactional_db: None) -> Iterator[TaskTracker]:
    """A worker for the project's app and the record of this check's tasks (module docstring)."""
    _require_redis()
    with _sentences():
        app = taskwork.start_recording()
    try:
        yield TaskTracker(app)
    finally:
        taskwork.revoke_outstanding()


class Outbox:
    """The mails sent during the check (see the module docstring)."""

    def messages(self) -> list[dict[str, Any]]:
        return taskwork.messages()

    def fail_next(self, times: int) -> None:
        """The next ``times`` sends raise SMTPServerDisconnected (a transient failure)."""
        taskwork.fail_next(times)

    def fail_from(self, send: int, *, times: int) -> None:
        """The ``send``-th send of the check (1-based) and the ``times - 1`` after it fail."""
        taskwork.fail_from(send, times)


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    """Mail goes to an in-memory outbox for the check, through the grader's backend."""
    from django.test import override_settings

    taskwork.reset_mail()
    with override_settings(EMAIL_BACKEND=taskwork.BACKEND):
        yield Outbox()
    taskwork.reset_mail()


# Redis taken away -------------------------------------------------------------------------------


class RedisOutage:
    """The grader's Redis, stopped for the check: ``restore()`` brings it back (empty)."""

    def __init__(self, server: RedisServer) -> None:
        self._server = server

    def restore(self) -> None:
        if not self._server.running:
            self._server.start()


@pytest.fixture
def redis_outage() -> Iterator[RedisOutage]:
    """No Redis for the check: the grader's server is stopped, then started again (empty)."""
    _require_redis()
    if _server is None:
        pytest.fail(
            "Taking Redis away needs the grader's own Redis server (install redis-server); the "
            "one GRADER_REDIS_URL names is never stopped.",
            pytrace=False,
        )
    # The worker would spend the outage reconnecting; the next check starts a new one.
    taskwork.WORKER.stop()
    _server.stop()
    outage = RedisOutage(_server)
    try:
        yield outage
    finally:
        outage.restore()


# A publish that rolls back ----------------------------------------------------------------------


@pytest.fixture
def commit_failure(transactional_db: None) -> Iterator[taskwork.CommitFailure]:
    """See :class:`~grader.executors.harness.taskwork.CommitFailure`; the trigger and its tables
    are dropped after the check."""
    failure = taskwork.CommitFailure()
    try:
        yield failure
    finally:
        failure.disarm()
