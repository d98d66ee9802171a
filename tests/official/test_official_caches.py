"""Every check starts with empty caches, in official mode as in local mode.

Throttle counters live in the cache (lab07), so without a clear between checks the requests of
one check would use up the rate of the next and answer it 429. The submission here is lab01's
solution plus a view that counts its calls in the cache; two checks each expect to be its first
caller. Both pass only if the cache is cleared before each of them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.official.conftest import lab01_variant

pytestmark = pytest.mark.slow

COUNTER_VIEW = textwrap.dedent(
    """

    # Added by tests/official/test_official_caches.py: counts its calls in the default cache.
    from django.core.cache import cache as _cache
    from django.http import JsonResponse as _JsonResponse


    def _counter(request):
        calls = _cache.get("grader-test-calls", 0) + 1
        _cache.set("grader-test-calls", calls)
        return _JsonResponse({"calls": calls})


    urlpatterns.append(path("counter/", _counter))
    """
)

CHECKS = textwrap.dedent(
    """
    def _first_call(api):
        body = api.get("/counter/").json()
        assert body == {"calls": 1}, f"the cache kept {body} from an earlier check"


    def test_first(api):
        _first_call(api)


    def test_second(api):
        _first_call(api)
    """
)

CRITERION = textwrap.dedent(
    """

    [[criteria]]
    id = "fresh-cache"
    title = "Each check meets an empty cache"
    points = 5
    outcome = 1
    checks = ["test_counter.py::test_first", "test_counter.py::test_second"]
    feedback = "n/a"
    """
)


@pytest.fixture
def counting_submission(solution_copy: Path) -> Path:
    urls = solution_copy / "config" / "urls.py"
    assert "from django.urls import include, path" in urls.read_text()
    urls.write_text(urls.read_text() + COUNTER_VIEW)
    return solution_copy


@pytest.fixture
def counter_lab(tmp_path: Path) -> Path:
    return lab01_variant(tmp_path, "test_counter.py", CHECKS, CRITERION)


def _fresh_cache(result: dict[str, Any]) -> dict[str, Any]:
    return {c["id"]: c for c in result["criteria"]}["fresh-cache"]


def test_local_mode_clears_caches_between_checks(
    counter_lab: Path, counting_submission: Path
) -> None:
    result = grade_submission(counter_lab, counting_submission, GradeOptions())
    validate_result(result)
    assert _fresh_cache(result)["status"] == "passed", _fresh_cache(result)["detail"]


def test_official_mode_clears_caches_between_checks(
    official: Any, counter_lab: Path, counting_submission: Path
) -> None:
    result = official(counting_submission, lab_dir=counter_lab)
    assert _fresh_cache(result)["status"] == "passed", _fresh_cache(result)["detail"]
    assert not any("test_counter.py" in flag for flag in result["integrity"]["flags"])
