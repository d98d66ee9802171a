"""The out-of-process fixtures keep local mode's contracts, and hostile answers fail closed.

A variant of lab01 (its rubric and checks copied to a temporary course, plus one check file)
exercises ``data`` and ``models`` through the sandbox's agent: rows written in one check are gone
in the next (the database is put back before every check, as local mode rolls back), an answer
over the size limit fails that check for manual review without harming the others, and a
submission that patches Django to forge what ``data`` reads back is refused by the shape check,
not believed.
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

CHECKS = textwrap.dedent(
    """
    USER = "auth.User"


    def test_rows_round_trip(data, models):
        assert data.count(USER) == 0
        pk = data.create(USER, username="grader-round-trip", password="!")
        assert isinstance(pk, int)
        assert data.values(USER, "username", pk=pk) == [{"username": "grader-round-trip"}]
        assert data.create_rejected(USER, username="grader-round-trip", password="!").startswith(
            "unique: "
        )
        assert models.exists(USER) and not models.exists("auth.Nothing")
        assert models.fields(USER)["username"]["unique"] is True


    def test_the_next_check_starts_from_the_built_database(data):
        assert data.count(USER) == 0, "rows of an earlier check are still there"


    def test_an_oversized_answer(data):
        for n in range(24):
            data.create(USER, username=f"{n}-" + "x" * 50_000, password="!")
        assert len(data.values(USER, "username")) == 24


    def test_a_missing_model_fails_with_the_helpers_sentence(data):
        data.count("blog.Nothing")
    """
)

CRITERIA = textwrap.dedent(
    """

    [[criteria]]
    id = "round-trip"
    title = "data and models answer through the agent"
    points = 5
    outcome = 1
    checks = ["test_fixtures.py::test_rows_round_trip"]
    feedback = "n/a"

    [[criteria]]
    id = "fresh-database"
    title = "each check starts from the built database"
    points = 5
    outcome = 1
    checks = ["test_fixtures.py::test_the_next_check_starts_from_the_built_database"]
    feedback = "n/a"

    [[criteria]]
    id = "oversized"
    title = "an answer over the size limit"
    points = 5
    outcome = 1
    checks = ["test_fixtures.py::test_an_oversized_answer"]
    feedback = "n/a"

    [[criteria]]
    id = "missing-model"
    title = "a model that does not exist"
    points = 5
    outcome = 1
    checks = ["test_fixtures.py::test_a_missing_model_fails_with_the_helpers_sentence"]
    feedback = "n/a"
    """
)

FORGE = textwrap.dedent(
    """

    # Added by tests/official/test_official_fixtures.py: every count answers a forged value, one
    # the grader's helper passes on (it is an int), so only the trusted side's shape check
    # stands between it and the check.
    import django.db.models.query as _forged_query

    _forged_query.QuerySet.count = lambda self: -5
    """
)


@pytest.fixture
def variant_lab(tmp_path: Path) -> Path:
    return lab01_variant(tmp_path, "test_fixtures.py", CHECKS, CRITERIA)


def _by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result["criteria"]}


def test_data_and_models_keep_local_contracts(
    official: Any, variant_lab: Path, lab01_solution: Path
) -> None:
    result = official(lab01_solution, lab_dir=variant_lab)
    criteria = _by_id(result)
    assert criteria["round-trip"]["status"] == "passed", criteria["round-trip"]["detail"]
    assert criteria["fresh-database"]["status"] == "passed", criteria["fresh-database"]["detail"]
    missing = criteria["missing-model"]
    assert missing["status"] == "failed"
    assert (
        missing["detail"]
        == "there is no model blog.Nothing: define class Nothing in blog/models.py"
    )
    oversized = criteria["oversized"]
    assert oversized["status"] == "failed"
    assert oversized["detail"].startswith("needs manual review"), oversized["detail"]
    assert "over 1024 KiB" in oversized["detail"]
    flags = result["integrity"]["flags"]
    assert [f for f in flags if "test_an_oversized_answer" in f], flags
    assert not [f for f in flags if "round_trip" in f or "missing_model" in f], flags
    # The lab's own criteria are decided as always, next to the variant's.
    assert all(
        c["status"] == "passed"
        for cid, c in criteria.items()
        if cid not in ("oversized", "missing-model")
    )
    assert "xxxxxxxxxx" not in str(result)  # the oversized rows never reach the result


def test_local_mode_agrees_on_the_contract(variant_lab: Path, lab01_solution: Path) -> None:
    """The same checks in local mode: the same passes and the same sentence for the missing
    model, so official mode's answers are local mode's. (Local mode has no answer size limit:
    its oversized check passes.)"""
    result = grade_submission(variant_lab, lab01_solution, GradeOptions(database="sqlite"))
    validate_result(result)
    criteria = _by_id(result)
    for cid in ("round-trip", "fresh-database", "oversized"):
        assert criteria[cid]["status"] == "passed", (cid, criteria[cid]["detail"])
    assert criteria["missing-model"]["detail"] == (
        "there is no model blog.Nothing: define class Nothing in blog/models.py"
    )


def test_a_forged_fact_is_refused_not_believed(
    official: Any, variant_lab: Path, solution_copy: Path
) -> None:
    settings = solution_copy / "config" / "settings" / "test.py"
    settings.write_text(settings.read_text() + FORGE)
    result = official(solution_copy, lab_dir=variant_lab)
    criteria = _by_id(result)
    for cid in ("round-trip", "fresh-database"):
        assert criteria[cid]["status"] == "failed", cid
        assert criteria[cid]["detail"].startswith("needs manual review"), criteria[cid]["detail"]
        assert "data.count is malformed" in criteria[cid]["detail"]
    assert "got -5" in criteria["fresh-database"]["detail"]
    assert any(
        "test_the_next_check_starts_from_the_built_database" in f
        for f in result["integrity"]["flags"]
    )
