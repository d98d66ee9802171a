"""Fixtures shared by the course's own tests (not the learners', not the rubrics')."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def lab01_solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lab01's reference solution, generated from solutions/ once per test session."""
    dest = tmp_path_factory.mktemp("lab01") / "solution"
    generate_lab(ROOT / "solutions", "lab01", "solution", dest)
    return dest


@pytest.fixture
def solution_copy(lab01_solution: Path, tmp_path: Path) -> Path:
    """A private, editable copy of lab01's solution."""
    dest = tmp_path / "submission"
    shutil.copytree(lab01_solution, dest)
    return dest


@pytest.fixture
def grade() -> Callable[..., dict[str, Any]]:
    """Grade a folder against a lab's rubric and validate the result against the schema."""

    def _grade(submission: Path, lab: str = "lab01", **options: Any) -> dict[str, Any]:
        result = grade_submission(ROOT / "labs" / lab, submission, GradeOptions(**options))
        validate_result(result)
        return result

    return _grade
