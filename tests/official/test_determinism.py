"""Official grading is deterministic, and a check whose runs disagree is reported as flaky.

Policy (grader.executors.official.job.OfficialJob): every check runs ``repeat`` times (``--repeat
N``, default 1). A check that did not pass in any of those runs gets one rerun. A check whose runs
disagree is scored as failed, with a "flaky … needs manual review" message and integrity flag,
so the score never depends on which run happened to count.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

FAIL_FIRST_GET = textwrap.dedent(
    """

    _calls = {"get": 0}


    class HealthCheckApi(HealthCheckApi):
        def get(self, request):
            _calls["get"] += 1
            if _calls["get"] == 1:  # only the very first request of the server's life fails
                return Response({"status": "warming up"}, status=500)
            return super().get(request)
    """
)

FLAKY_POST = textwrap.dedent(
    """

    from rest_framework.exceptions import MethodNotAllowed

    _calls = {"post": 0}


    class HealthCheckApi(HealthCheckApi):
        def post(self, request):
            _calls["post"] += 1
            if _calls["post"] % 2 == 0:  # every second POST crashes instead of refusing
                return Response({"detail": "oops"}, status=500)
            raise MethodNotAllowed("POST")
    """
)


def _summary(result: dict[str, Any]) -> tuple[Any, ...]:
    return (
        result["status"],
        result["score"]["points"],
        tuple((c["id"], c["status"], c["detail"]) for c in result["criteria"]),
        tuple(result["integrity"]["flags"]),
    )


def _criterion(result: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in result["criteria"] if c["id"] == cid)


def test_the_same_submission_gets_the_same_result_every_time(
    official: Any, solution_copy: Path
) -> None:
    """A partly correct submission (a mutant) graded three times: identical results."""
    health = solution_copy / "api" / "health.py"
    health.write_text(
        health.read_text().replace(
            'checks: dict[str, CheckStatus] = {"database": database_check()}',
            'checks: dict[str, CheckStatus] = {"database": "ok"}',
        )
    )
    results = [official(solution_copy) for _ in range(3)]
    assert results[0]["score"]["points"] == 85
    assert results[0]["integrity"]["flags"] == []
    assert {_summary(r) for r in results} == {_summary(results[0])}


def test_a_check_that_fails_then_passes_is_flaky_not_scored(
    official: Any, solution_copy: Path
) -> None:
    views = solution_copy / "api" / "views.py"
    views.write_text(views.read_text() + FAIL_FIRST_GET)
    first, second = official(solution_copy), official(solution_copy)
    assert _summary(first) == _summary(second)
    health = _criterion(first, "health-ok")
    assert health["status"] == "failed"
    assert health["detail"].startswith("flaky: this check passed 1 of 2 runs")
    assert "needs manual review" in health["detail"]
    (flag,) = first["integrity"]["flags"]
    assert flag.startswith("flaky check test_health.py::test_health_reports_ok: passed 1 of 2")
    assert first["score"]["points"] == 80  # every other criterion is unaffected


def test_repeat_catches_a_check_that_passes_first(official: Any, solution_copy: Path) -> None:
    """A check that passes on its first run is not rerun; ``repeat`` runs it every time."""
    views = solution_copy / "api" / "views.py"
    views.write_text(views.read_text() + FLAKY_POST)
    once = official(solution_copy)
    assert once["score"]["points"] == 100
    assert once["integrity"]["flags"] == []
    repeated = official(solution_copy, repeat=3)
    health = _criterion(repeated, "health-ok")
    assert health["status"] == "failed"
    assert "passed 2 of 3 runs" in health["detail"]
    assert any(
        f.startswith("flaky check test_health.py::test_health_is_read_only")
        for f in repeated["integrity"]["flags"]
    )
