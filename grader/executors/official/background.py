"""The out-of-process forms of the background-work fixtures: ``tasks``, ``outbox``,
``redis_outage`` and ``commit_failure`` (lab09 on), with local mode's contracts
(:mod:`grader.executors.harness.tasks`), so lab09's hidden checks run unchanged in both modes.

Where the work happens. The sandbox's agent starts a Redis server of the sandbox's own before
the project's settings are read (the rubric ``requires = "redis"``), and a Celery worker of the
project's app in its own process, as local mode does in the checks' process: the same code,
:mod:`grader.executors.harness.taskwork`, mounted read-only in the sandbox. Each call below is
one request to the agent over the control path (:mod:`grader.executors.official.remote`'s
protocol); each answer is validated here against the shape local mode returns before the check
sees it, and anything else fails the check closed for manual review.

What is evidence and what is the sandbox's report. The Redis outage is checked from here: with
the server stopped, this process must find its port refusing connections, and after
``restore()`` answering PING; a sandbox that does not really take Redis away fails the check
closed. The mail a check expects and the task messages and runs are reported by the project's
own process (Celery's signals and Django's in-memory outbox), as the query count is: a submission
that patches Celery or Django inside its own process could misreport them (docs/grader.md). The
hidden check decides every verdict, here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from grader.executors.harness.taskwork import WAIT_SECONDS, overdue_sentence
from grader.executors.official.remote import (
    NAME,
    Control,
    Malformed,
    ManualReviewRequired,
    _Remote,
    boolean,
    integer,
    list_of,
    optional,
    plain,
    record,
    text,
)

POLL_SECONDS = 0.05  # between two questions "is every task run?" while a check waits


def nothing(value: Any) -> None:
    """The answer of an operation that returns nothing."""
    if value is not None:
        raise Malformed(f"expected nothing, got {type(value).__name__}")


def number(value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Malformed(f"expected a number, got {type(value).__name__}")
    plain(value)


MESSAGE = record(
    name=NAME,
    id=text(200),
    args=list_of(plain, 100),
    eta=optional(text(100)),
    retries=integer(0, 10_000),
    at=number,
    in_transaction=boolean,
)
RUN = record(name=NAME, id=text(200), state=text(100))
MAIL = record(to=list_of(text(500), 1000), subject=text(2000), body=text(), **{"from": text(500)})


def _task_setup(value: Any) -> None:
    if not isinstance(value, dict) or not set(value) <= {"acks_late", "max_retries"}:
        raise Malformed("expected an object with acks_late and max_retries, or nothing")
    if "acks_late" in value:
        boolean(value["acks_late"])
    if "max_retries" in value:
        optional(integer(0))(value["max_retries"])


class RemoteTasks(_Remote):
    """``tasks`` out of process: :class:`grader.executors.harness.tasks.TaskTracker`'s
    contract, answered by the worker and the records in the sandbox."""

    kind = "tasks"
    shapes = {
        "start": nothing,
        "stop": nothing,
        "published": list_of(MESSAGE, 1000),
        "runs": list_of(RUN, 1000),
        "due": list_of(MESSAGE, 1000),
        "send": nothing,
        "describe": _task_setup,
    }

    def __init__(self, control: Control, timeout: float, deadline: float) -> None:
        super().__init__(control, timeout)
        self._deadline = deadline

    def start(self) -> None:
        self._ask("start")

    def stop(self) -> None:
        self._ask("stop")

    def published(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every message published during the check (retries too), oldest first."""
        value: list[dict[str, Any]] = self._ask("published", name)
        return value

    def runs(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every run of a task the check published, with its final state."""
        value: list[dict[str, Any]] = self._ask("runs", name)
        return value

    def send(self, name: str, *args: Any) -> None:
        """Queue the task called ``name`` with ``args``, as the broker would deliver it again."""
        self._ask("send", name, *args)

    def wait(self, timeout: float = WAIT_SECONDS) -> None:
        """Return once every message published in the check has been run; fail otherwise.

        Never past the grading's deadline: the remaining time is the whole run's."""
        limit = min(time.monotonic() + timeout, self._deadline - 1.0)
        while True:
            due: list[dict[str, Any]] = self._ask("due")
            if not due:
                return
            if time.monotonic() >= limit:
                pytest.fail(overdue_sentence(due, timeout), pytrace=False)
            time.sleep(POLL_SECONDS)

    def describe(self, name: str) -> dict[str, Any]:
        """How the registered task ``name`` is set up: acks_late, max_retries."""
        value: dict[str, Any] = self._ask("describe", name)
        return value


class RemoteOutbox(_Remote):
    """``outbox`` out of process: the in-memory outbox of the project's process."""

    kind = "outbox"
    shapes = {
        "start": nothing,
        "stop": nothing,
        "messages": list_of(MAIL, 1000),
        "fail_next": nothing,
        "fail_from": nothing,
    }

    def start(self) -> None:
        self._ask("start")

    def stop(self) -> None:
        self._ask("stop")

    def messages(self) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._ask("messages")
        return value

    def fail_next(self, times: int) -> None:
        """The next ``times`` sends raise SMTPServerDisconnected (a transient failure)."""
        self._ask("fail_next", int(times))

    def fail_from(self, send: int, *, times: int) -> None:
        """The ``send``-th send of the check (1-based) and the ``times - 1`` after it fail."""
        self._ask("fail_from", int(send), int(times))


def _refuses(port: int) -> bool:
    """Whether nothing listens on the sandbox's ``port`` (seen from here)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RemoteRedisOutage(_Remote):
    """``redis_outage`` out of process: the sandbox's Redis stopped for the check, its port
    checked from here to refuse connections; ``restore()`` starts it again on the same port and
    checks from here that it answers."""

    kind = "redis"
    shapes = {
        "stop": record(port=integer(1, 65535), running=boolean),
        "start": record(port=integer(1, 65535), running=boolean),
    }

    def __init__(self, control: Control, timeout: float) -> None:
        super().__init__(control, timeout)
        answer = self._ask("stop")
        self._port = int(answer["port"])
        if answer["running"] or not _refuses(self._port):
            raise ManualReviewRequired("the sandbox did not take its Redis away for the check")
        self._restored = False

    def restore(self) -> None:
        if self._restored:
            return
        answer = self._ask("start")
        if answer["port"] != self._port or not answer["running"] or not _pong(self._port):
            raise ManualReviewRequired("the sandbox did not bring its Redis back after the check")
        self._restored = True


class RemoteCommitFailure(_Remote):
    """``commit_failure`` out of process: the trigger that fails one publish's COMMIT, created
    and dropped by the agent through the project's database connection."""

    kind = "commit"
    shapes = {"on_publish": nothing, "disarm": nothing}

    def on_publish(self, post_id: int) -> None:
        """From now on, a transaction that publishes ``post_id`` fails when it commits."""
        self._ask("on_publish", int(post_id))

    def disarm(self) -> None:
        self._ask("disarm")


class BackgroundFixtures:
    """The four fixtures (and ``transactional_db``), as a pytest plugin object bound to the
    job's control path. Registered beside :class:`~grader.executors.official.fixtures.
    OfficialFixtures`."""

    def __init__(self, control: Control, timeout: float, deadline: float) -> None:
        self._control = control
        self._timeout = timeout
        self._deadline = deadline

    def _helper_timeout(self) -> float:
        return max(1.0, min(self._timeout, self._deadline - time.monotonic()))

    @pytest.fixture
    def transactional_db(self) -> None:
        """Rows written through the server are committed for real here, and every check starts
        from the database as it was built (the autouse reset), which is what local mode's
        ``transactional_db`` gives a check."""

    @pytest.fixture
    def tasks(self) -> Iterator[RemoteTasks]:
        """A worker for the project's app and the record of this check's tasks."""
        tracker = RemoteTasks(self._control, self._helper_timeout(), self._deadline)
        tracker.start()
        try:
            yield tracker
        finally:
            tracker.stop()

    @pytest.fixture
    def outbox(self) -> Iterator[RemoteOutbox]:
        """The server's mail goes to an in-memory outbox for the check."""
        box = RemoteOutbox(self._control, self._helper_timeout())
        box.start()
        try:
            yield box
        finally:
            box.stop()

    @pytest.fixture
    def redis_outage(self) -> Iterator[RemoteRedisOutage]:
        """No Redis for the check: the sandbox's server is stopped, then started again."""
        outage = RemoteRedisOutage(self._control, self._helper_timeout())
        try:
            yield outage
        finally:
            outage.restore()

    @pytest.fixture
    def commit_failure(self) -> Iterator[RemoteCommitFailure]:
        """See :class:`RemoteCommitFailure`; the trigger is dropped after the check."""
        failure = RemoteCommitFailure(self._control, self._helper_timeout())
        try:
            yield failure
        finally:
            failure.disarm()
