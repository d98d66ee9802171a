"""The grader's background-work helpers, in the process that runs the learner's project.

One implementation for both modes. Local mode's fixtures (:mod:`grader.executors.harness.tasks`)
import it as ``grader.executors.harness.taskwork`` and call it in the checks' own process.
Official mode's agent loads this very file by path inside the sandbox
(``/grader/grader_taskwork.py``; see :mod:`grader.executors.official.sandbox`), where the
``grader`` package is not importable, and calls it when the trusted side asks
(:mod:`grader.executors.official.tasks`). So this module imports nothing from ``grader`` and
nothing that is not in a lab's environment: the standard library at import time, Django and
Celery (the project's) inside functions. It decides nothing: it records and reports plain data.

What it holds:

- the project's Celery app (:func:`project_app`) and one embedded worker for it
  (:data:`WORKER`: ``celery.contrib.testing.worker``, a real worker on the real broker, never
  eager mode), in a thread of the calling process;
- the record of what a check queued and what ran (:func:`start_recording`, :func:`published`,
  :func:`runs`, :func:`due`, :func:`revoke_outstanding`), fed by Celery's signals;
- the mail the project sent (:class:`GraderMailBackend`, Django's in-memory backend that can be
  told to fail like a mail server that goes away) and :func:`messages`;
- :class:`CommitFailure`, which makes the COMMIT of one post's publish fail.

A learner-facing failure is raised as :class:`CheckFailed` (an ``AssertionError``): local mode
turns it into a failed check without a traceback, the agent into an ``assertion`` answer.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import smtplib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

WAIT_SECONDS = 20.0  # the longest a check waits for its tasks (lab09's retries take up to ~7 s)
TASK_APP_MODULE = "config.celery"
BACKEND = f"{__name__}.GraderMailBackend"  # this module's name in whichever process loaded it


class CheckFailed(AssertionError):
    """A learner-facing sentence: the check fails with it, without a traceback."""


# The project's Celery app and one worker for it ------------------------------------------------


def project_app() -> Any:
    """The learner's Celery app, ``app`` in config/celery.py, checked to use the grader's broker
    (``CELERY_BROKER_URL`` in this process's environment)."""
    try:
        module = importlib.import_module(TASK_APP_MODULE)
    except ImportError as error:
        raise CheckFailed(
            f"config/celery.py could not be imported ({error}): create the Celery app there "
            "(labs/lab09/README.md, step 1)."
        ) from None
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "send_task"):
        raise CheckFailed("config/celery.py defines no Celery app named `app`.")
    broker = str(app.conf.broker_url or "")
    if broker != os.environ.get("CELERY_BROKER_URL"):
        raise CheckFailed(
            "config/celery.py's app does not take its broker from Django's settings: it would "
            f"connect to {broker or 'its default broker'!r}, not CELERY_BROKER_URL. Call "
            'app.config_from_object("django.conf:settings", namespace="CELERY").'
        )
    # A project's test settings may run tasks eagerly (CELERY_TASK_ALWAYS_EAGER, the capstone
    # template's do, for the learner's own tests): the checks judge a real worker on the real
    # broker, so while they run, queued tasks go to the broker.
    app.conf.task_always_eager = False
    return app


class Worker:
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
            raise CheckFailed(
                f"A Celery worker could not start for config/celery.py's app: {error}"
            ) from None
        self._context = context

    def stop(self) -> None:
        if self._context is None:
            return
        context, self._context = self._context, None
        with contextlib.suppress(Exception):  # a worker that died already has nothing to stop
            context.__exit__(None, None, None)


WORKER = Worker()


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


def start_recording() -> Any:
    """Check the project's app, start recording this check's tasks, make sure a worker runs;
    the app."""
    app = project_app()
    _connect_signals()
    with _RECORDS.lock:
        _RECORDS.published.clear()
        _RECORDS.runs.clear()
        _RECORDS.outstanding.clear()
        _RECORDS.active = True
    WORKER.ensure(app)
    return app


def published(name: str | None = None) -> list[dict[str, Any]]:
    """Every message published during the check (retries too), oldest first: ``name``,
    ``id``, ``args``, ``eta`` (ISO text or None), ``retries``, ``at`` (epoch seconds) and
    ``in_transaction``."""
    with _RECORDS.lock:
        rows = [dict(row) for row in _RECORDS.published]
    return [row for row in rows if name is None or row["name"] == name]


def runs(name: str | None = None) -> list[dict[str, Any]]:
    """Every run of a task the check published: ``name``, ``id``, final ``state``."""
    with _RECORDS.lock:
        rows = [dict(row) for row in _RECORDS.runs]
    return [row for row in rows if name is None or row["name"] == name]


def due() -> list[dict[str, Any]]:
    """The messages published in the check and not run yet (empty once every one has run)."""
    with _RECORDS.lock:
        return [dict(row) for row in _RECORDS.published if row["id"] in _RECORDS.outstanding]


def overdue_sentence(rows: list[dict[str, Any]], timeout: float) -> str:
    """The failed check's sentence when ``rows`` were still due after ``timeout`` seconds."""
    described = "; ".join(
        f"{row.get('name')} (retry {row.get('retries')}, due {row.get('eta') or 'now'})"
        for row in rows[-3:]
    )
    return (
        f"After {timeout:.0f} s the worker had still not run every task queued: {described}. "
        "A retry must come within seconds (exponential backoff from 1 s), and the task must "
        "be registered under the name the brief gives."
    )


def describe(app: Any, name: str) -> dict[str, Any]:
    """How the registered task ``name`` is set up: acks_late, max_retries (plain data)."""
    task = app.tasks.get(name)
    if task is None:
        return {}
    return {"acks_late": bool(task.acks_late), "max_retries": task.max_retries}


def revoke_outstanding() -> None:
    """Stop recording and discard the check's messages still due, so none of them runs during a
    later check."""
    with _RECORDS.lock:
        outstanding = list(_RECORDS.outstanding)
        _RECORDS.active = False
        _RECORDS.outstanding.clear()
    if outstanding:
        from celery.worker import state

        for task_id in outstanding:
            state.revoked.add(task_id)


# Mail -------------------------------------------------------------------------------------------


class _MailFaults:
    """Which sends fail: the ``first``-th to the ``last``-th of the check (1-based), if any."""

    lock = threading.Lock()
    sends = 0
    first = 0
    last = -1


def reset_mail() -> None:
    """An empty outbox and a mail server that works."""
    from django.core import mail

    mail.outbox = []
    with _MailFaults.lock:
        _MailFaults.sends, _MailFaults.first, _MailFaults.last = 0, 0, -1


class GraderMailBackend:
    """Django's in-memory mail backend, failing the sends :func:`fail_next` asked for."""

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


def messages() -> list[dict[str, Any]]:
    """The mails sent since :func:`reset_mail`: ``to``, ``subject``, ``body``, ``from``."""
    from django.core import mail

    return [
        {
            "to": [str(address) for address in message.to],
            "subject": str(message.subject),
            "body": str(message.body),
            "from": str(message.from_email),
        }
        for message in getattr(mail, "outbox", [])
    ]


def fail_next(times: int) -> None:
    """The next ``times`` sends raise SMTPServerDisconnected (a transient failure)."""
    with _MailFaults.lock:
        _MailFaults.first = _MailFaults.sends + 1
        _MailFaults.last = _MailFaults.sends + int(times)


def fail_from(send: int, times: int) -> None:
    """The ``send``-th send of the check (1-based) and the ``times - 1`` after it fail."""
    with _MailFaults.lock:
        _MailFaults.first = int(send)
        _MailFaults.last = int(send) + int(times) - 1


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
    """Makes the COMMIT of a post's publish fail: a deferred foreign key that a trigger breaks
    when the post becomes published, so every line of the learner's code in the transaction runs
    and only the COMMIT fails."""

    def __init__(self) -> None:
        self.armed = False

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
        self.armed = True

    def disarm(self) -> None:
        if not self.armed:
            return
        from django.db import connection

        undo = _POSTGRES_UNDO if connection.vendor == "postgresql" else _SQLITE_UNDO
        self._run(undo)
        self.armed = False
