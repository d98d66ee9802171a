"""lab01's rubric proven in official mode: the solution scores 100, the starter fails every
criterion, and each mutant in labs/lab01/hidden/mutants.toml loses exactly its criteria, all
graded by the out-of-process fixtures, so both modes agree on what the rubric measures."""

from __future__ import annotations

import pytest

from grader.course.proving import prove_lab
from grader.pipeline import GradeOptions
from grader.result import validate_result
from tests.support import ROOT

pytestmark = pytest.mark.slow


def test_lab01_rubric_proven_in_official_mode(official_available: None) -> None:
    proof = prove_lab(ROOT, "lab01", GradeOptions(mode="official"))
    assert proof.ok, "\n".join(proof.problems)
    mutants = [key for key in proof.results if key.startswith("mutant:")]
    assert len(mutants) >= 5
    for result in proof.results.values():
        validate_result(result)
        assert result["mode"] == "official"
        assert result["integrity"]["flags"] == []
    assert proof.results["solution"]["score"]["points"] == 100
    assert proof.results["starter"]["score"]["points"] == 0


def test_local_repeat_is_refused() -> None:
    from grader.errors import UsageError
    from grader.pipeline import grade_submission

    with pytest.raises(UsageError, match="--repeat applies to official grading only"):
        grade_submission(
            ROOT / "labs" / "lab01", ROOT / "labs" / "lab01" / "starter", GradeOptions(repeat=2)
        )
