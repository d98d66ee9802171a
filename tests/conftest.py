"""Fixtures shared by the course's own tests (not the learners', not the rubrics')."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT

# Gradings with --database auto keep a warm PostgreSQL cluster under .grader/; in the course's
# own tests it stops soon after the last one, not ten minutes after the suite has ended.
os.environ.setdefault("GRADER_PG_IDLE", "20")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``, as ``nox -s tests`` runs it), keep each test
    module on one worker unless a test names its own ``xdist_group``.

    Many modules build something expensive once (a module-scoped proof, a generated solution,
    a cohort): on one worker they build it once. The rubric proofs name one group per lab and
    database instead, so the slowest file of the suite spreads over every core. Runs before
    xdist's own hook, which reads the group marks.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else "_"))
    # Longest first (``nox -s tests`` passes --no-loadscope-reorder, so xdist hands groups out
    # in this order): the rubric proofs, latest lab first, then the alternatives, then the
    # rest as collected. By default xdist orders groups by their number of tests, which sent
    # the proofs (one to three tests each, 10 to 20 minutes) last: the run then ended with one
    # worker on a 20-minute group and the other idle. A stable sort: within a group, and among
    # the other modules, the order stays the collection's.
    items.sort(key=_schedule_rank)


def _schedule_rank(item: pytest.Item) -> tuple[int, int]:
    """(0, -position) for a lab's proof group (later labs cost more), (1, 0) for the module of
    the alternatives, (2, 0) for everything else."""
    from tests.support import lab_order

    marker = item.get_closest_marker("xdist_group")
    group = str(marker.args[0]) if marker and marker.args else ""
    if group.startswith("proof-"):
        lab = group.removeprefix("proof-").split("-")[0]
        order = lab_order()
        position = order.index(lab) if lab in order else len(order)
        return (0, -2 * position - (0 if group.count("-") > 1 else 1))
    if group == "tests.grader.test_rubric_proofs":
        return (1, 0)
    return (2, 0)


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
