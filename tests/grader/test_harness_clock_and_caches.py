"""The grader's throttling support (``grader.executors.harness.fixtures``): empty caches before
every check, and the ``clock`` fixture that drives DRF's throttles without sleeping.

Like the data fixtures, these run inside the grader's child process, so each probe below is a
check file graded through the real pipeline against lab05's generated solution (the first lab
with DRF's throttling classes importable and a cache configured by Django's defaults). Every
probe is its own criterion, so a failure names the broken contract.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.executors.official.remote import ManualReviewRequired, RemoteClock
from grader.pipeline import GradeOptions, grade_submission
from tests.support import ROOT

# Checks run in the order they are written: the second relies on the first having run.
PROBES = """
import time

import pytest
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


class TwoAMinute(SimpleRateThrottle):
    rate = "2/minute"

    def get_cache_key(self, request, view):
        return "grader-probe-throttle"


def _allowed():
    return TwoAMinute().allow_request(None, None)


def test_a_check_leaves_values_in_the_cache():
    caches["default"].set("grader-probe", "left over", 300)
    assert [_allowed(), _allowed(), _allowed()] == [True, True, False]


def test_the_next_check_starts_with_empty_caches():
    assert caches["default"].get("grader-probe") is None
    assert _allowed(), "the throttle's count leaked from the previous check"


def test_the_clock_drives_the_throttles(clock):
    start = clock()
    assert abs(start - time.time()) < 60, "the clock starts at the real time"
    assert TwoAMinute().timer() == start
    assert [_allowed(), _allowed(), _allowed()] == [True, True, False]
    throttle = TwoAMinute()
    assert not throttle.allow_request(None, None)
    assert throttle.wait() == 60
    clock.advance(59)
    assert not _allowed()
    clock.advance(1)
    assert clock.now == start + 60
    assert _allowed()
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_the_real_timer_is_back_after_the_check():
    assert SimpleRateThrottle.timer is time.time
"""


def _probe_lab(tmp: Path) -> Path:
    lab = tmp / "lab05"
    (lab / "hidden").mkdir(parents=True)
    (lab / "hidden" / "test_probe.py").write_text(textwrap.dedent(PROBES), encoding="utf-8")
    tests = [
        line.split("(")[0].removeprefix("def ")
        for line in PROBES.splitlines()
        if line.startswith("def test_")
    ]
    criteria = "".join(
        f'\n[[criteria]]\nid = "{test.removeprefix("test_").replace("_", "-")}"\n'
        f'title = "{test}"\npoints = 1\noutcome = 2\nchecks = ["test_probe.py::{test}"]\n'
        f'feedback = "probe {test} failed"\n'
        for test in tests
    )
    (lab / "rubric.toml").write_text(
        f'lab = "lab05"\ntitle = "probes"\nversion = "1"\nmigrations = true\n{criteria}',
        encoding="utf-8",
    )
    return lab


@pytest.mark.slow
def test_caches_are_emptied_and_the_clock_drives_throttles(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    generate_lab(ROOT / "solutions", "lab05", "solution", submission)
    result: dict[str, Any] = grade_submission(
        _probe_lab(tmp_path), submission, GradeOptions(database="sqlite")
    )
    assert result["status"] == "graded", result
    failed = {c["id"]: c.get("detail") for c in result["criteria"] if c["status"] != "passed"}
    assert not failed, failed


class _ScriptedControl:
    """Answers the clock's requests from a script: what a hostile sandbox could send."""

    token = "t"

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.sent: list[Any] = []

    def call(self, action: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        self.sent.append((action, payload))
        return self.answers.pop(0)


def test_official_clock_moves_the_servers_timer_and_refuses_a_clock_that_lies() -> None:
    """Out of process the clock is the agent's (the lab07 proof drives the real one); here the
    trusted side's checks on its answers: it must show the time it was moved to, never go back,
    and be a number."""
    honest = _ScriptedControl([{"now": 1000.0}, {"now": 1061.0}, {"now": None}])
    clock = RemoteClock(honest)
    clock.advance(61)
    assert clock() == clock.now == 1061.0
    clock.remove()
    assert honest.sent == [
        ("clock", {"op": "install"}),
        ("clock", {"op": "advance", "seconds": 61.0}),
        ("clock", {"op": "remove"}),
    ]
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)
    for lie in ({"now": 1000.0}, {"now": 5000.0}, {"now": "later"}, {"pass": True}):
        lying = RemoteClock(_ScriptedControl([{"now": 1000.0}, lie]))
        with pytest.raises(ManualReviewRequired, match="throttle clock"):
            lying.advance(61)


def test_clear_caches_is_a_no_op_without_django() -> None:
    from grader.executors.harness.fixtures import clear_caches

    assert clear_caches() >= 0  # never raises, whatever state this process's Django is in
