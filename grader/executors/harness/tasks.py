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
"""

from __future__ import annotations

import contextlib
import importlib
import os
import smtplib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from grader.redisserver import RedisServer, RedisUnavailable, throwaway_redis

WAIT_SECONDS = 20.0  # the longest a check waits for its tasks (lab09's retries take up to ~7 s)
TASK_APP_MODULE = "config.celery"

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
    _WORKER.stop()
    if _server_context is not None:
        _server_context.close()


def _require_redis() -> None:
    if _service_error is not None:
        pytest.fail(_service_error, pytrace=False)
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        pytest.fail("This check needs the grader's Redis, which was not started.", pytrace=False)


# The project's Celery app and one worker for it ------------------------------------------------


def project_app() -> Any:
    """The learner's Celery app, ``app`` in config/celery.py, checked to use the grader's broker."""
    try:
        module = importlib.import_module(TASK_APP_MODULE)
    except ImportError as error:
        pytest.fail(
            f"config/celery.py could not be imported ({error}): create the Celery app there "
            "(labs/lab09/README.md, step 1).",
            pytrace=False,
        )
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "send_task"):
        pytest.fail("config/celery.py defines no Celery app named `app`.", pytrace=False)
    broker = str(app.conf.broker_url or "")
    if broker != os.environ.get("CELERY_BROKER_URL"):
        pytest.fail(
            "config/celery.py's app does not take its broker from Django's settings: it would "
            f"connect to {broker or 'its default broker'!r}, not CELERY_BROKER_URL. Call "
            "app.config_from_object(\"django.conf:settings\", namespace=\"CELERY\").",
            pytrace=False,
        )
    return app


class _Worker:
    """One embedded worker for the app, started on first use and kept until stopped."""

    def __init__(self) -> None:
        self._context: contextlib.AbstractContextManager[Any] | None = None

    def ensure(self, app: Any) -> None:
        if self._context is not None:
            return
        from celery.contrib.testing.worker import start_worker

        context = start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING",
            shutdown_timeout=10.0,
        )  # fmt: skip
        try:
            context.__enter__()
        except Exception as error:  # the broker refused us: a sentence, not a traceback
            pytest.fail(f"A Celery worker could not start for config/celery.py's app: {error}",
                        pytrace=False)  # fmt: skip
        self._context = context

    def stop(self) -> None:
        if self._context is None:
            return
        context, self._context = self._context, None
        with contextlib.suppress(Exception):  # a worker that died already has nothing to stop
            context.__exit__(None, None, None)


_WORKER = _Worker()


# What was queued and what ran ----------------------------------------------------------------


@dataclass
class _Records:
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: bool = False
    published: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    outstanding: dict[str, int] = field(default_factory=dict)  # task id -> messages not run yet


_RECORDS = _Records()
_connected = False


def _in_transaction() -> bool:
    with contextlib.suppress(Exception):
        from django.db import connection

        return bool(connection.in_atomic_block)
    return False


def _on_publish(sender: Any = None, headers: Any = None, body: Any = None, **_: Any) -> None:
    headers = headers or {}
    args = body[0] if isinstance(body, list | tuple) and body else []
    entry = {
        "name": str(headers.get("task", sender)),
        "id": str(headers.get("id", "")),
        "args": list(args) if isinstance(args, list | tuple) else [],
        "eta": headers.get("eta"),
        "retries": int(headers.get("retries") or 0),
        "at": time.time(),
        "in_transaction": _in_transaction(),
    }
    with _RECORDS.lock:
        if not _RECORDS.active:
            return
        _RECORDS.published.append(entry)
        _RECORDS.outstanding[entry["id"]] = _RECORDS.outstanding.get(entry["id"], 0) + 1


def _finished(task_id: str, entry: dict[str, Any]) -> None:
    with _RECORDS.lock:
        if task_id not in _RECORDS.outstanding:
            return
        _RECORDS.runs.append(entry)
        _RECORDS.outstanding[task_id] -= 1
        if _RECORDS.outstanding[task_id] <= 0:
            del _RECORDS.outstanding[task_id]


def _on_postrun(task_id: Any = None, task: Any = None, state: Any = None, **_: Any) -> None:
    name = str(getattr(task, "name", ""))
    _finished(str(task_id), {"name": name, "id": str(task_id), "state": str(state)})


def _on_unknown(name: Any = None, **kwargs: Any) -> None:
    task_id = str(kwargs.get("id"))  # the signal's argument is called `id`
    _finished(task_id, {"name": str(name), "id": task_id, "state": "UNREGISTERED"})


def _on_revoked(request: Any = None, **_: Any) -> None:
    task_id = str(getattr(request, "id", ""))
    _finished(task_id, {"name": str(getattr(request, "task", "")), "id": task_id,
                        "state": "REVOKED"})  # fmt: skip


def _connect_signals() -> None:
    global _connected
    if _connected:
        return
    from celery import signals

    signals.before_task_publish.connect(_on_publish, weak=False)
    signals.task_postrun.connect(_on_postrun, weak=False)
    signals.task_unknown.connect(_on_unknown, weak=False)
    signals.task_revoked.connect(_on_revoked, weak=False)
    _connected = True


class TaskTracker:
    """What the check's tasks did (see the module docstring). Plain data only."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def published(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every message published during the check (retries too), oldest first."""
        with _RECORDS.lock:
            rows = [dict(row) for row in _RECORDS.published]
        return [row for row in rows if name is None or row["name"] == name]

    def runs(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every run of a task the check published, with its final state (SUCCESS, RETRY...)."""
        with _RECORDS.lock:
            rows = [dict(row) for row in _RECORDS.runs]
        return [row for row in rows if name is None or row["name"] == name]

    def send(self, name: str, *args: Any) -> None:
        """Queue the task called ``name`` with ``args``, as the broker would deliver it again."""
        self._app.send_task(name, args=list(args))

    def wait(self, timeout: float = WAIT_SECONDS) -> None:
        """Return once every message published in the check has been run; fail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with _RECORDS.lock:
                if not _RECORDS.outstanding:
                    return
            time.sleep(0.02)
        with _RECORDS.lock:
            due = [row for row in _RECORDS.published if row["id"] in _RECORDS.outstanding]
        described = "; ".join(
            f"{row['name']} (retry {row['retries']}, due {row['eta'] or 'now'})" for row in due[-3:]
        )
        pytest.fail(
            f"After {timeout:.0f} s the worker had still not run every task queued: {described}. "
            "A retry must come within seconds (exponential backoff from 1 s), and the task must "
            "be registered under the name the brief gives.",
            pytrace=False,
        )

    def describe(self, name: str) -> dict[str, Any]:
        """How the registered task ``name`` is set up: acks_late, max_retries (plain data)."""
        task = self._app.tasks.get(name)
        if task is None:
            return {}
        return {"acks_late": bool(task.acks_late), "max_retries": task.max_retries}


def _revoke_outstanding() -> None:
    """Discard the check's messages still due, so none of them runs during a later check."""
    with _RECORDS.lock:
        due = list(_RECORDS.outstanding)
        _RECORDS.active = False
        _RECORDS.outstanding.clear()
    if due:
        from celery.worker import state

        for task_id in due:
            state.revoked.add(task_id)


@pytest.fixture
def tasks(transactional_db: None) -> Iterator[TaskTracker]:
    """A worker for the project's app and the record of this check's tasks (module docstring)."""
    _require_redis()
    app = project_app()
    _connect_signals()
    with _RECORDS.lock:
        _RECORDS.published.clear()
        _RECORDS.runs.clear()
        _RECORDS.outstanding.clear()
        _RECORDS.active = True
    _WORKER.ensure(app)
    try:
        yield TaskTracker(app)
    finally:
        _revoke_outstanding()


# Mail -------------------------------------------------------------------------------------------


class _MailFaults:
    """Which sends fail: the ``first``-th to the ``last``-th of the check (1-based), if any."""

    lock = threading.Lock()
    sends = 0
    first = 0
    last = -1

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.sends, cls.first, cls.last = 0, 0, -1


class GraderMailBackend:
    """Django's in-memory mail backend, failing the next sends ``outbox.fail_next`` asked for."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from django.core.mail.backends.locmem import EmailBackend

        class _Backend(EmailBackend):  # type: ignore[misc]
            def send_messages(self, messages: Any) -> int:
                with _MailFaults.lock:
                    _MailFaults.sends += 1
                    number = _MailFaults.sends
                    failing = _MailFaults.first <= number <= _MailFaults.last
                if failing:
                    raise smtplib.SMTPServerDisconnected(
                        f"grader: the mail server went away (send {number} of the check failed)"
                    )
                return int(super().send_messages(messages))

        return _Backend(*args, **kwargs)


class Outbox:
    """The mails sent during the check (see the module docstring)."""

    def messages(self) -> list[dict[str, Any]]:
        from django.core import mail

        return [
            {
                "to": list(message.to),
                "subject": str(message.subject),
                "body": str(message.body),
                "from": str(message.from_email),
            }
            for message in getattr(mail, "outbox", [])
        ]

    def fail_next(self, times: int) -> None:
        """The next ``times`` sends raise SMTPServerDisconnected (a transient failure)."""
        with _MailFaults.lock:
            _MailFaults.first = _MailFaults.sends + 1
            _MailFaults.last = _MailFaults.sends + times

    def fail_from(self, send: int, *, times: int) -> None:
        """The ``send``-th send of the check (1-based) and the ``times - 1`` after it fail."""
        with _MailFaults.lock:
            _MailFaults.first = send
            _MailFaults.last = send + times - 1


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    """Mail goes to an in-memory outbox for the check, through the grader's backend."""
    from django.core import mail
    from django.test import override_settings

    mail.outbox = []
    _MailFaults.reset()
    with override_settings(EMAIL_BACKEND=f"{__name__}.GraderMailBackend"):
        yield Outbox()
    _MailFaults.reset()


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
    _WORKER.stop()  # it would spend the outage reconnecting; the next check starts a new one
    _server.stop()
    outage = RedisOutage(_server)
    try:
        yield outage
    finally:
        outage.restore()


# A publish that rolls back ----------------------------------------------------------------------

_SQLITE_DOOM = [
    "CREATE TABLE grader_nowhere (id integer PRIMARY KEY)",
    "CREATE TABLE grader_doomed (ref integer REFERENCES grader_nowhere (id) "
    "DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER grader_fail_publish AFTER UPDATE ON {table} "
    "WHEN NEW.id = {pk} AND NEW.status = 'published' "
    "BEGIN INSERT INTO grader_doomed (ref) VALUES (-1); END",
]
_SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS grader_fail_publish",
    "DROP TABLE IF EXISTS grader_doomed",
    "DROP TABLE IF EXISTS grader_nowhere",
]
_POSTGRES_DOOM = [
    "CREATE TABLE grader_nowhere (id integer PRIMARY KEY)",
    "CREATE TABLE grader_doomed (ref integer REFERENCES grader_nowhere (id) "
    "DEFERRABLE INITIALLY DEFERRED)",
    "CREATE FUNCTION grader_doom() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO grader_doomed (ref) VALUES (-1); RETURN NEW; END $$",
    "CREATE TRIGGER grader_fail_publish AFTER UPDATE ON {table} FOR EACH ROW "
    "WHEN (NEW.id = {pk} AND NEW.status = 'published') EXECUTE FUNCTION grader_doom()",
]
_POSTGRES_UNDO = [
    "DROP TABLE IF EXISTS grader_doomed",
    "DROP TABLE IF EXISTS grader_nowhere",
    "DROP TRIGGER IF EXISTS grader_fail_publish ON {table}",
    "DROP FUNCTION IF EXISTS grader_doom()",
]


class CommitFailure:
    """Makes the COMMIT of a post's publish fail (see the module docstring)."""

    def __init__(self) -> None:
        self._armed = False

    def _run(self, statements: list[str], **values: Any) -> None:
        from django.apps import apps
        from django.db import connection

        table = connection.ops.quote_name(apps.get_model("blog", "Post")._meta.db_table)
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.format(table=table, **values))

    def on_publish(self, post_id: int) -> None:
        """From now on, a transaction that publishes ``post_id`` fails when it commits."""
        from django.db import connection

        doom = _POSTGRES_DOOM if connection.vendor == "postgresql" else _SQLITE_DOOM
        self._run(doom, pk=int(post_id))
        self._armed = True

    def disarm(self) -> None:
        if not self._armed:
            return
        from django.db import connection

        undo = _POSTGRES_UNDO if connection.vendor == "postgresql" else _SQLITE_UNDO
        self._run(undo)
        self._armed = False


@pytest.fixture
def commit_failure(transactional_db: None) -> Iterator[CommitFailure]:
    """See :class:`CommitFailure`; the trigger and its tables are dropped after the check."""
    failure = CommitFailure()
    try:
        yield failure
    finally:
        failure.disarm()
