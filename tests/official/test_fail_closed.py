"""What official mode cannot decide out of process fails closed, flagged for manual review.

A variant of lab01 (a copy of its rubric and checks in a temporary course folder) adds checks that
only local mode can run: one needs pytest-django's in-process ``settings`` fixture, one calls a
``project`` helper official mode does not have, and the rubric names a check that does not exist.
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

EXTRA_CHECKS = textwrap.dedent(
    """
    def test_uses_an_in_process_fixture(settings):
        assert settings.DEBUG is False


    def test_uses_a_helper_official_mode_lacks(project):
        assert project.model_fields("blog.Post") == []


    def test_uses_an_api_helper_official_mode_lacks(api):
        api.force_login(1)
        assert api.get("/api/health/").status == 200
    """
)

EXTRA_CRITERIA = textwrap.dedent(
    """

    [[criteria]]
    id = "in-process-only"
    title = "A criterion only an in-process fixture can decide"
    points = 5
    outcome = 1
    checks = ["test_extra.py::test_uses_an_in_process_fixture"]
    feedback = "n/a"

    [[criteria]]
    id = "future-helper"
    title = "A criterion using a project helper official mode does not provide"
    points = 5
    outcome = 1
    checks = ["test_extra.py::test_uses_a_helper_official_mode_lacks"]
    feedback = "n/a"

    [[criteria]]
    id = "future-api-helper"
    title = "A criterion using an api helper official mode does not provide"
    points = 5
    outcome = 1
    checks = ["test_extra.py::test_uses_an_api_helper_official_mode_lacks"]
    feedback = "n/a"

    [[criteria]]
    id = "check-that-does-not-exist"
    title = "A criterion whose check the hidden folder lacks"
    points = 5
    outcome = 1
    checks = ["test_health.py::test_that_was_renamed"]
    feedback = "n/a"
    """
)


@pytest.fixture
def variant_lab(tmp_path: Path) -> Path:
    return lab01_variant(tmp_path, "test_extra.py", EXTRA_CHECKS, EXTRA_CRITERIA)


def _by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result["criteria"]}


def test_undecidable_checks_fail_closed_with_flags(
    official: Any, variant_lab: Path, lab01_solution: Path
) -> None:
    result = official(lab01_solution, lab_dir=variant_lab)
    criteria = _by_id(result)
    for cid in ("in-process-only", "future-helper", "future-api-helper"):
        assert criteria[cid]["status"] == "failed"
        assert criteria[cid]["detail"].startswith("needs manual review"), criteria[cid]["detail"]
    assert "'settings'" in criteria["in-process-only"]["detail"]
    assert "project.model_fields" in criteria["future-helper"]["detail"]
    assert "api.force_login" in criteria["future-api-helper"]["detail"]
    assert criteria["check-that-does-not-exist"]["status"] == "failed"
    flags = result["integrity"]["flags"]
    assert any("test_extra.py::test_uses_an_in_process_fixture" in f for f in flags)
    assert any("test_extra.py::test_uses_a_helper_official_mode_lacks" in f for f in flags)
    assert any("test_extra.py::test_uses_an_api_helper_official_mode_lacks" in f for f in flags)
    assert any("test_health.py::test_that_was_renamed" in f for f in flags)
    # Everything official mode can decide is still decided, and the solution earns it.
    decided = {
        cid: c
        for cid, c in criteria.items()
        if c["max_points"]
        and cid
        not in (
            "in-process-only",
            "future-helper",
            "future-api-helper",
            "check-that-does-not-exist",
        )
    }
    assert all(c["status"] == "passed" for c in decided.values())
    assert result["score"]["points"] == 100


def test_local_mode_decides_the_in_process_check(variant_lab: Path, lab01_solution: Path) -> None:
    """The same variant in local mode: the in-process fixture exists there, so the check passes.
    The official failure above is the fail-closed policy, not a broken check."""
    result = grade_submission(variant_lab, lab01_solution, GradeOptions())
    validate_result(result)
    assert _by_id(result)["in-process-only"]["status"] == "passed"
