"""The quality gates beside the hidden checks (local mode's default) give exactly the result of
running them one after the other (``--serial``, GradeOptions(concurrent=False)).

What could differ if the concurrency were wrong: one stage's clean-up killing the other stage's
processes (the learner's tests would then fail or lose coverage), the two children sharing a
scratch file or a database, or the gates' outcomes counting for a submission whose checks never
reported. Each case grades the same submission both ways and compares everything but times.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from grader.rubric import load_rubric
from tests.support import ROOT

pytestmark = pytest.mark.slow

LAB04 = ROOT / "labs" / "lab04"


def _essentials(result: dict[str, Any]) -> dict[str, Any]:
    """What a grading decided, without the parts that are different on every run."""
    return {
        "status": result["status"],
        "message": result["message"],
        "score": result["score"],
        "criteria": [
            {key: c.get(key) for key in ("id", "status", "points", "detail")}
            for c in result["criteria"]
        ],
        "flags": result["integrity"],
    }


@pytest.fixture(scope="module")
def lab04_solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab04") / "solution"
    generate_lab(ROOT / "solutions", "lab04", "solution", dest)
    return dest


def _both_ways(submission: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    beside = grade_submission(LAB04, submission, GradeOptions(database="sqlite"))
    serial = grade_submission(LAB04, submission, GradeOptions(database="sqlite", concurrent=False))
    validate_result(beside)
    validate_result(serial)
    assert set(beside["timings"]) == set(serial["timings"])
    return _essentials(beside), _essentials(serial)


def test_the_solution_scores_the_same_beside_and_serial(lab04_solution: Path) -> None:
    beside, serial = _both_ways(lab04_solution)
    assert beside == serial
    assert beside["score"]["percent"] == 100  # own-tests and lint among them: the gates ran


def test_a_mutant_loses_the_same_criteria_beside_and_serial(
    lab04_solution: Path, tmp_path: Path
) -> None:
    ids = {c.id for c in load_rubric(LAB04 / "rubric.toml").criteria}
    mutant = load_mutants(LAB04 / "hidden" / "mutants.toml", ids)[0]
    tree = tmp_path / "mutant"
    shutil.copytree(lab04_solution, tree)
    apply_mutant(tree, mutant)
    beside, serial = _both_ways(tree)
    assert beside == serial
    lost = {c["id"] for c in beside["criteria"] if c["status"] != "passed"}
    assert lost == set(mutant.loses)


def test_a_learner_test_that_leaves_a_process_behind_does_not_disturb_the_checks(
    lab04_solution: Path, tmp_path: Path
) -> None:
    """A learner's test starts a detached sleeper (re-parented to the grader, a subreaper) and
    passes. The gates' clean-up ends it; the hidden checks, running meanwhile, are unaffected;
    and nothing of it survives the grading."""
    import psutil

    tree = tmp_path / "leaves-a-process"
    shutil.copytree(lab04_solution, tree)
    marker = f"sleeper-{uuid.uuid4().hex[:10]}"
    (tree / "tests" / "yours" / "test_leaves_a_process.py").write_text(
        textwrap.dedent(f"""\
            import subprocess
            import sys

            SLEEPER = "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(300)"


            def test_starts_a_detached_sleeper():
                subprocess.run([sys.executable, "-c", SLEEPER, "{marker}"], check=True)
            """),
        encoding="utf-8",
    )
    beside, serial = _both_ways(tree)
    assert beside == serial
    assert beside["score"]["percent"] == 100, [c for c in beside["criteria"] if c["points"] == 0]
    left = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []
