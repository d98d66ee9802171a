"""lab07 (API ergonomics and protection): the rubric's shape, its mutants, and the starter.

The full proof of lab07 (solution, starter, every mutant, the earlier labs' rubrics) runs in
tests/grader/test_rubric_proofs.py. This module checks what the proof does not: that the rubric
has the shape the brief asks (at least eight checked criteria, two gates, 100 points, every
criterion tied to a handout step), that its throttling checks never sleep, that each mutant
still applies to the generated solution, and that a learner grading the untouched starter reads
feedback, never a traceback.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.pipeline import GradeOptions, grade_submission
from grader.rubric import load_rubric
from tests.support import ROOT

LAB07 = ROOT / "labs" / "lab07"
RUBRIC = load_rubric(LAB07 / "rubric.toml")
IDS = {c.id for c in RUBRIC.criteria}
HIDDEN = sorted((LAB07 / "hidden").glob("test_*.py"))


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab07") / "solution"
    generate_lab(ROOT / "solutions", "lab07", "solution", dest)
    return dest


def test_rubric_has_eight_checked_criteria_two_gates_and_100_points() -> None:
    checked = [c for c in RUBRIC.criteria if c.gate is None]
    assert len(checked) >= 8
    assert sorted(c.kind for c in RUBRIC.criteria if c.gate is not None) == [
        "learner-tests",
        "ruff",
    ]
    assert sum(c.points for c in RUBRIC.criteria) == 100
    assert {c.outcome for c in RUBRIC.criteria} == {3, 5}
    assert all(c.see and c.see.startswith("README.md#step-") for c in RUBRIC.criteria)
    assert [c.id for c in RUBRIC.criteria if c.requires == "postgresql"] == ["search-stemming"]


def test_every_see_anchor_is_a_heading_of_the_handout() -> None:
    handout = (LAB07 / "README.md").read_text(encoding="utf-8")
    headings = {
        "README.md#"
        + "".join(
            ch
            for ch in line.lstrip("#").strip().lower().replace(" ", "-")
            if ch.isalnum() or ch == "-"
        )
        for line in handout.splitlines()
        if line.startswith("## ")
    }
    assert {c.see for c in RUBRIC.criteria} <= headings


def test_every_check_the_rubric_names_exists() -> None:
    defined = {
        f"{path.name}::{node.name}"
        for path in HIDDEN
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    named = {check for c in RUBRIC.criteria for check in c.checks if c.gate is None}
    assert named <= defined
    assert defined <= named, "a hidden check no criterion counts"


def test_throttling_checks_move_the_clock_and_never_sleep() -> None:
    for path in HIDDEN:
        source = path.read_text(encoding="utf-8")
        assert "sleep(" not in source, f"{path.name} sleeps"
    throttling = ast.parse((LAB07 / "hidden" / "test_throttling.py").read_text(encoding="utf-8"))
    for node in throttling.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            assert "clock" in {a.arg for a in node.args.args}, f"{node.name} has no clock"


def test_mutants_cover_the_brief_and_apply(solution: Path, tmp_path: Path) -> None:
    mutants = {m.id: m for m in load_mutants(LAB07 / "hidden" / "mutants.toml", IDS)}
    assert len(mutants) >= 6
    assert {
        "ordering-drops-unknown-fields",
        "ordering-without-tie-breaker",
        "filters-search-every-post",
        "readers-get-the-author-rate",
        "throttle-without-retry-after",
        "v1-without-deprecation-headers",
        "pages-without-a-cap",
        "page-loads-rows-one-by-one",
        # issue 15: one bug, one criterion; categories and tags stay arrays
        "page-size-parameter-misnamed",
        "categories-paged-in-version-2",
    } <= set(mutants)
    for mutant in mutants.values():
        tree = tmp_path / mutant.id
        shutil.copytree(solution, tree)
        apply_mutant(tree, mutant)  # raises when a `find` no longer occurs exactly once


def _code(path: Path) -> str:
    """The lines of ``path`` that are code: comments (a starter's TODOs name the work) left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("#"))


def test_the_starter_holds_no_answer_of_this_lab() -> None:
    """The starter gives the four modules' skeletons; what the learner writes is stubbed."""
    starter = LAB07 / "starter"
    settings = _code(starter / "config" / "settings" / "base.py")
    for name in ("DEFAULT_VERSIONING_CLASS", "DEFAULT_THROTTLE_RATES", "CACHES", "API_V1_SUNSET"):
        assert name not in settings
    assert "max_page_size" not in _code(starter / "api" / "lists.py")
    assert "TIE_BREAKER)" not in _code(starter / "blog" / "filters.py")
    assert "SearchQuery" not in _code(starter / "blog" / "filters.py")
    assert "list_response(" not in _code(starter / "api" / "blog_views.py")
    assert "throttle_classes" not in _code(starter / "api" / "views.py")
    assert "get_ident" in _code(starter / "api" / "throttles.py")  # the stub to finish


@pytest.mark.slow
def test_starter_feedback_says_what_to_do() -> None:
    result = grade_submission(LAB07, LAB07 / "starter", GradeOptions(database="sqlite"))
    assert result["status"] == "graded"
    assert result["score"]["points"] == 0
    by_id = {c["id"]: c for c in result["criteria"]}
    assert by_id["search-stemming"]["status"] == "not_run"
    assert "version=2" in by_id["pagination"]["detail"]
    assert "429" in by_id["throttle-limits"]["detail"]
    for criterion in result["criteria"]:
        assert "Traceback" not in (criterion.get("detail") or "")
