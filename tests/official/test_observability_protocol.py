"""The trusted side of lab10's ``logs`` and ``production`` fixtures
(grader/executors/official/observability.py), and the agent's refusal of what it must not do.

As in tests/official/test_background_protocol.py, a scripted control path stands in for an
agent that lies: well-formed answers come through unchanged, malformed ones fail the check
closed for manual review. The honest agent, with Gunicorn in a real sandbox, is proven by
lab10's official proof (tests/official/test_rubric_proof_official.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.executors.harness.production import MAX_LINE_CHARS, MAX_LINES, Production
from grader.executors.official.agent import PRODUCTION_VARIABLES, Background
from grader.executors.official.observability import RemoteLogs, RemoteProduction
from grader.executors.official.remote import ManualReviewRequired
from tests.official.test_background_protocol import Scripted  # a lying agent, scripted


def test_well_formed_answers_come_through_unchanged() -> None:
    line = '{"level": "INFO", "message": "request finished", "request_id": "a-1"}'
    logs = RemoteLogs(Scripted({"value": None}, {"value": [line]}), 5.0)
    logs.start()
    assert logs.stop() == [line]
    control = Scripted({"value": {"port": 40123, "problem": None}}, {"value": [line]})
    production = RemoteProduction(control, 5.0)
    assert production.start({"METRICS_TOKEN": "t"}) == (40123, None)
    assert production.lines() == [line]
    assert control.asked[0] == (
        "production",
        {"op": "start", "args": [{"METRICS_TOKEN": "t"}], "kwargs": {}},
    )


def test_a_server_that_did_not_start_is_reported_with_the_agents_sentence() -> None:
    said = "`gunicorn config.wsgi:application` with config.settings.prod exited with code 3"
    production = RemoteProduction(Scripted({"value": {"port": 1, "problem": said}}), 5.0)
    assert production.start({}) == (1, said)


@pytest.mark.parametrize(
    "value",
    [
        "one line, not a list",
        [7],
        ["x" * (MAX_LINE_CHARS + 1)],
        ["line"] * (MAX_LINES + 1),
    ],
)
def test_log_lines_that_are_not_a_bounded_list_of_text_fail_closed(value: Any) -> None:
    logs = RemoteLogs(Scripted({"value": value}), 5.0)
    with pytest.raises(ManualReviewRequired, match=r"logs\.stop"):
        logs.stop()


@pytest.mark.parametrize(
    "value",
    [
        {"port": 0, "problem": None},
        {"port": 70000, "problem": None},
        {"port": "8000", "problem": None},
        {"port": 8000},
        {"port": 8000, "problem": None, "extra": 1},
        {"port": 8000, "problem": 5},
    ],
)
def test_a_malformed_start_answer_fails_closed(value: Any) -> None:
    production = RemoteProduction(Scripted({"value": value}), 5.0)
    with pytest.raises(ManualReviewRequired, match=r"production\.start"):
        production.start({})


def test_the_agent_refuses_variables_the_trusted_side_may_not_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grader.executors.harness import production
    from grader.executors.official import agent

    # Outside a sandbox the helper file is not mounted at /grader: load it from the package.
    monkeypatch.setattr(agent, "PRODUCTION_HELPERS", Path(production.__file__))
    background = Background(server=None)
    for given in ({"PATH": "/evil"}, {"DJANGO_SECRET_KEY": 5}, "not an object"):
        answer = background.call("production", {"op": "start", "args": [given], "kwargs": {}})
        assert answer == {"assertion": "the grader sent malformed production variables"}
    assert {"DJANGO_SECRET_KEY", "METRICS_TOKEN"} <= PRODUCTION_VARIABLES
    assert "DATABASE_URL" not in PRODUCTION_VARIABLES  # the helper's own SQLite file


def test_the_production_contract_asks_over_http_and_fails_with_a_sentence() -> None:
    production = Production(1, {"METRICS_TOKEN": "abc"}, lambda: ["a line"])
    assert production.metrics_token == "abc"
    assert production.lines() == ["a line"]
    with pytest.raises(AssertionError, match=r"GET /health/live \(Gunicorn.*got no answer"):
        production.get("/health/live")  # port 1: nothing listens
