"""lab05 (authentication): the rubric's shape, its mutants, and the starter's feedback.

The full proof of lab05 (solution, starter, every mutant, the earlier labs' rubrics) runs in
tests/grader/test_rubric_proofs.py. This module checks what the proof does not: that the rubric
has the shape issue 5 asks of every lab, that each mutant still applies to the generated
solution (a `find` that no longer matches would silently stop proving anything), and that a
learner grading the untouched starter reads feedback, never a traceback.
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

LAB05 = ROOT / "labs" / "lab05"
RUBRIC = load_rubric(LAB05 / "rubric.toml")
IDS = {c.id for c in RUBRIC.criteria}


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab05") / "solution"
    generate_lab(ROOT / "solutions", "lab05", "solution", dest)
    return dest


def test_rubric_has_six_checked_criteria_two_gates_and_100_points() -> None:
    checked = [c for c in RUBRIC.criteria if c.gate is None]
    assert len(checked) >= 6
    assert sorted(c.kind for c in RUBRIC.criteria if c.gate is not None) == [
        "learner-tests",
        "ruff",
    ]
    assert sum(c.points for c in RUBRIC.criteria) == 100
    assert all(c.see and c.see.startswith("README.md#step-") for c in RUBRIC.criteria)


def test_every_check_the_rubric_names_exists() -> None:
    defined = {
        f"{path.name}::{node.name}"
        for path in (LAB05 / "hidden").glob("test_*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    named = {check for c in RUBRIC.criteria for check in c.checks if c.gate is None}
    assert named <= defined
    assert defined <= named, "a hidden check no criterion counts"


def test_mutants_cover_the_brief_and_apply(solution: Path, tmp_path: Path) -> None:
    mutants = {m.id: m for m in load_mutants(LAB05 / "hidden" / "mutants.toml", IDS)}
    assert {
        "no-rotation",
        "logout-keeps-the-token",
        "register-skips-password-validation",
        "role-missing-from-token",
        "month-long-access-tokens",  # issue 15: token lifetimes are owned by token-obtain
        "register-answers-200",  # issue 15: one bug, one criterion (not no-leaks too)
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
    """The starter gives the token views and the routes; what the learner writes is stubbed."""
    starter = LAB05 / "starter"
    views = _code(starter / "api" / "auth_views.py")
    assert ".blacklist()" not in views
    assert "user_register" not in views
    assert 'token["role"]' not in _code(starter / "api" / "auth_serializers.py")
    assert "SIMPLE_JWT" not in _code(starter / "config" / "settings" / "base.py")
    assert "user_register" in _code(starter / "accounts" / "services.py")  # the stub to finish


@pytest.mark.slow
def test_starter_feedback_says_what_to_do() -> None:
    result = grade_submission(LAB05, LAB05 / "starter", GradeOptions(database="sqlite"))
    assert result["status"] == "graded"
    assert result["score"]["points"] == 0
    by_id = {c["id"]: c for c in result["criteria"]}
    assert "Bearer" in by_id["token-obtain"]["feedback"]
    for criterion in result["criteria"]:
        assert "Traceback" not in (criterion.get("detail") or "")
