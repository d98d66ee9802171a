"""lab06 (authorization and governance): the rubric's shape, its mutants, the starter's feedback.

The full proof of lab06 (solution, starter, every mutant, the earlier labs' rubrics) runs in
tests/grader/test_rubric_proofs.py. This module checks what the proof does not: that the rubric
has the shape issue 5 asks of every lab, that each mutant still applies to the generated
solution (a `find` that no longer matches would silently stop proving anything), that the
starter holds none of this lab's answers but still runs, and that a learner grading the untouched
starter reads which cells of the permission tables answered what, never a traceback.
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

LAB06 = ROOT / "labs" / "lab06"
RUBRIC = load_rubric(LAB06 / "rubric.toml")
IDS = {c.id for c in RUBRIC.criteria}


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab06") / "solution"
    generate_lab(ROOT / "solutions", "lab06", "solution", dest)
    return dest


def test_rubric_has_eight_checked_criteria_two_gates_and_100_points() -> None:
    checked = [c for c in RUBRIC.criteria if c.gate is None]
    assert len(checked) >= 8
    assert sorted(c.kind for c in RUBRIC.criteria if c.gate is not None) == [
        "learner-tests",
        "ruff",
    ]
    assert sum(c.points for c in RUBRIC.criteria) == 100
    assert {c.outcome for c in RUBRIC.criteria} == {2, 3, 5}
    assert all(c.see and c.see.startswith("README.md#step-") for c in RUBRIC.criteria)


def test_every_check_the_rubric_names_exists() -> None:
    defined = {
        f"{path.name}::{node.name}"
        for path in (LAB06 / "hidden").glob("test_*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    named = {check for c in RUBRIC.criteria for check in c.checks if c.gate is None}
    assert named <= defined
    assert defined <= named, "a hidden check no criterion counts"


def test_every_step_the_rubric_points_at_is_a_heading_of_the_handout() -> None:
    handout = (LAB06 / "README.md").read_text(encoding="utf-8")
    anchors = {
        "#" + "".join(ch for ch in line[3:].lower() if ch.isalnum() or ch in " -").replace(" ", "-")
        for line in handout.splitlines()
        if line.startswith("## ")
    }
    for criterion in RUBRIC.criteria:
        assert criterion.see is not None
        assert criterion.see.removeprefix("README.md") in anchors, criterion.id


def test_mutants_cover_the_brief_and_apply(solution: Path, tmp_path: Path) -> None:
    mutants = {m.id: m for m in load_mutants(LAB06 / "hidden" / "mutants.toml", IDS)}
    assert {
        "list-not-scoped",
        "patch-without-object-check",
        "author-may-publish",
        "draft-straight-to-published",
        "status-through-patch",
        "audit-before-checks",
        "history-n-plus-one",
        # issue 15: the rules the brief states that no check owned before
        "refusal-without-reason",
        "no-op-edit-audited",
        "edit-credited-to-the-author",
        "edits-not-audited",  # one bug, one criterion (not history too)
    } <= set(mutants)
    checked = {c.id for c in RUBRIC.criteria if c.gate is None}
    assert checked <= {lost for m in mutants.values() for lost in m.loses}, (
        "a criterion no mutant takes away is not proven to catch anything"
    )
    for mutant in mutants.values():
        tree = tmp_path / mutant.id
        shutil.copytree(solution, tree)
        apply_mutant(tree, mutant)  # raises when a `find` no longer occurs exactly once


def _code(path: Path) -> str:
    """The lines of ``path`` that are code: comments (a starter's TODOs name the work) left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("#"))


def test_the_starter_holds_no_answer_of_this_lab() -> None:
    """The starter gives the routes, the input serializer and the permission classes' frames;
    the scoping, the rules, the workflow, the audit model and its writes are stubbed."""
    starter = LAB06 / "starter"
    assert "posts_visible_to(" not in _code(starter / "api" / "blog_views.py")
    assert "check_object_permissions" not in _code(starter / "api" / "blog_views.py")
    assert "Q(" not in _code(starter / "blog" / "selectors.py")
    assert "TRANSITIONS" not in _code(starter / "blog" / "services.py")
    assert "AuditEntry" not in _code(starter / "blog" / "models.py")
    assert not (starter / "blog" / "migrations" / "0002_auditentry.py").exists()
    assert "InvalidTransition" not in _code(starter / "blog" / "errors.py")
    assert "status=400" in _code(starter / "api" / "errors.py")  # lab04's, until step 5
    permissions = _code(starter / "api" / "permissions.py")
    assert "class CanChangePost" in permissions
    assert "Editors archive" not in permissions


def test_earlier_labs_do_not_see_this_labs_code() -> None:
    """lab04's and lab05's starters keep the views lab06 replaces, and none of lab06's."""
    for lab in ("lab04", "lab05"):
        starter = ROOT / "labs" / lab / "starter"
        assert not (starter / "api" / "permissions.py").exists()
        assert "AuditEntry" not in (starter / "blog" / "models.py").read_text(encoding="utf-8")
    views = _code(ROOT / "labs" / "lab05" / "starter" / "api" / "blog_views.py")
    assert "PostOutputSerializer(post_list(), many=True)" in views
    assert "post_transition" not in views


@pytest.mark.slow
def test_starter_feedback_names_the_cells_that_answered_wrong() -> None:
    result = grade_submission(LAB06, LAB06 / "starter", GradeOptions(database="sqlite"))
    assert result["status"] == "graded"
    assert result["score"]["points"] == 0
    by_id = {c["id"]: c for c in result["criteria"]}
    assert "a reader POST /api/posts/: got 201, expected 403" in by_id["create-by-role"]["detail"]
    assert "got 200, expected 403" in by_id["edit-rules"]["detail"]
    assert "answered 501" in by_id["workflow-moves"]["detail"]
    for criterion in result["criteria"]:
        assert "Traceback" not in (criterion.get("detail") or "")
