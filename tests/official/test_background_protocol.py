"""The trusted side of lab09's background-work fixtures (grader/executors/official/background.py).

The sandbox's answers are hostile input. Here a scripted control path stands in for an agent
that lies, so each refusal can be provoked: well-formed answers come through unchanged,
malformed ones fail the check closed for manual review, a Redis that is not really taken away
is caught by the trusted side's own connection attempt, and a wait never outlasts its limit.
The honest agent, with Redis and a Celery worker in a real sandbox, is proven by lab09's
official proof (tests/official/test_rubric_proof_official.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from grader.executors.official.agent import Background
from grader.executors.official.background import (
    RemoteCommitFailure,
    RemoteOutbox,
    RemoteRedisOutage,
    RemoteTasks,
)
from grader.executors.official.observability import RemoteLogs, RemoteProduction
from grader.executors.official.remote import ManualReviewRequired

MESSAGE = {
    "name": "blog.tasks.notify_subscribers",
    "id": "3f1c",
    "args": [7],
    "eta": None,
    "retries": 0,
    "at": 1796330000.25,
    "in_transaction": False,
}
MAIL = {"to": ["a@example.com"], "subject": "New post", "body": "Hello", "from": "blog@x.org"}


class Scripted:
    """A control path that answers every request with the next scripted document."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, Any]] = []

    def call(self, action: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        self.asked.append((action, payload))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_every_agent_operation_has_a_shape_here() -> None:
    remote = {
        "tasks": RemoteTasks,
        "outbox": RemoteOutbox,
        "redis": RemoteRedisOutage,
        "commit": RemoteCommitFailure,
        "logs": RemoteLogs,  # lab10 (tests/official/test_observability_protocol.py)
        "production": RemoteProduction,
    }
    assert set(remote) == set(Background.OPS)
    for kind, cls in remote.items():
        assert cls.kind == kind
        assert set(cls.shapes) == set(Background.OPS[kind]), kind


def test_well_formed_answers_come_through_unchanged() -> None:
    tasks = RemoteTasks(Scripted({"value": [MESSAGE]}), 5.0, deadline=float("inf"))
    assert tasks.published() == [MESSAGE]
    outbox = RemoteOutbox(Scripted({"value": [MAIL]}), 5.0)
    assert outbox.messages() == [MAIL]
    described = RemoteTasks(Scripted({"value": {"acks_late": True, "max_retries": 3}}), 5.0, 1e12)
    assert described.describe("x") == {"acks_late": True, "max_retries": 3}


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("published", [{**MESSAGE, "retries": "0"}]),
        ("published", [{**MESSAGE, "at": True}]),
        ("published", [{k: v for k, v in MESSAGE.items() if k != "eta"}]),
        ("runs", [{"name": "t", "id": "1", "state": 3}]),
        ("runs", {"name": "t"}),
        ("describe", {"acks_late": "yes"}),
        ("describe", {"acks_late": True, "passed": True}),
        ("send", "sent"),
    ],
)
def test_a_malformed_task_answer_fails_closed(op: str, value: Any) -> None:
    tasks = RemoteTasks(Scripted({"value": value}), 5.0, deadline=float("inf"))
    args = {"send": ("blog.tasks.notify_subscribers", 1), "describe": ("x",)}.get(op, ())
    with pytest.raises(ManualReviewRequired, match="malformed"):
        getattr(tasks, op)(*args)


def test_a_malformed_mail_fails_closed() -> None:
    outbox = RemoteOutbox(Scripted({"value": [{**MAIL, "to": "a@example.com"}]}), 5.0)
    with pytest.raises(ManualReviewRequired, match="malformed"):
        outbox.messages()


def test_the_agents_failure_sentence_fails_the_check_as_in_local_mode() -> None:
    sentence = "config/celery.py defines no Celery app named `app`."
    tasks = RemoteTasks(Scripted({"assertion": sentence}), 5.0, deadline=float("inf"))
    with pytest.raises(AssertionError, match="no Celery app"):
        tasks.start()


def test_a_wait_that_never_ends_fails_with_what_is_still_due() -> None:
    tasks = RemoteTasks(Scripted({"value": [MESSAGE]}), 5.0, deadline=float("inf"))
    with pytest.raises(pytest.fail.Exception, match="still not run every task") as failed:
        tasks.wait(timeout=0.2)
    assert "blog.tasks.notify_subscribers" in str(failed.value)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something listens on, as a sandbox that only claims to have stopped Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


def test_an_outage_the_trusted_side_cannot_see_fails_closed(listening: int) -> None:
    lie = Scripted({"value": {"port": listening, "running": False}})
    with pytest.raises(ManualReviewRequired, match="did not take its Redis away"):
        RemoteRedisOutage(lie, 5.0)


def test_a_redis_that_does_not_come_back_fails_closed() -> None:
    with socket.socket() as probe:  # a port nothing listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    script = Scripted(
        {"value": {"port": port, "running": False}},
        {"value": {"port": port, "running": True}},  # says it is back; nothing answers PING
    )
    outage = RemoteRedisOutage(script, 5.0)
    with pytest.raises(ManualReviewRequired, match="did not bring its Redis back"):
        outage.restore()
    assert [action for action, _ in script.asked] == ["redis", "redis"]
