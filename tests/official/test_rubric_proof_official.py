"""Rubrics proven in official mode: for lab01, lab02 and lab04 to lab07 the solution scores full
marks with no integrity flag, the starter fails every criterion, and each mutant in the lab's
``hidden/mutants.toml`` loses exactly its criteria, all graded by the out-of-process fixtures
(``data``, ``models``, ``queries``, ``clock``, ``api.authenticate``, ...) and the sandboxed
learner-tests gate. And both modes give every proof submission the same score: official
grading measures what local grading measures, only where the learner cannot reach the verdict.

lab03 (the notebook lab) is not graded in official mode yet; criteria that need PostgreSQL are
``not_run`` on SQLite in both modes and left out, as ``grader.course.proving`` does.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.course.proving import Proof, prove_lab
from grader.pipeline import GradeOptions
from grader.result import validate_result
from tests.support import ROOT

pytestmark = pytest.mark.slow

LABS = ("lab01", "lab02", "lab04", "lab05", "lab06", "lab07")
MIN_MUTANTS = 5


@pytest.fixture(scope="module")
def official_proofs(official_available: None) -> dict[str, Proof]:
    """Each lab proven in official mode, once per module (the comparison below reuses them)."""
    return {}


def _official(proofs: dict[str, Proof], lab: str) -> Proof:
    if lab not in proofs:
        proofs[lab] = prove_lab(ROOT, lab, GradeOptions(mode="official"))
    return proofs[lab]


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["criteria"]}


@pytest.mark.parametrize("lab", LABS)
def test_rubric_proven_in_official_mode(lab: str, official_proofs: dict[str, Proof]) -> None:
    proof = _official(official_proofs, lab)
    assert proof.ok, "\n".join(proof.problems)
    mutants = [key for key in proof.results if key.startswith("mutant:")]
    assert len(mutants) >= MIN_MUTANTS
    for key, result in proof.results.items():
        validate_result(result)
        assert result["mode"] == "official", key
        assert result["integrity"]["flags"] == [], (key, result["integrity"]["flags"])
    solution = proof.results["solution"]
    gradable = sum(c["max_points"] for c in solution["criteria"] if c["status"] != "not_run")
    assert solution["score"]["points"] == gradable
    assert all(c["status"] in ("passed", "not_run") for c in solution["criteria"])
    assert proof.results["starter"]["score"]["points"] == 0


@pytest.mark.parametrize("lab", LABS)
def test_official_and_local_mode_score_every_proof_submission_alike(
    lab: str, official_proofs: dict[str, Proof]
) -> None:
    official = _official(official_proofs, lab)
    local = prove_lab(ROOT, lab, GradeOptions(database="sqlite"))
    assert local.ok, "\n".join(local.problems)
    assert set(official.results) == set(local.results) - {
        key for key in local.results if key.startswith("earlier:") and key not in official.results
    }
    for key, result in official.results.items():
        other = local.results[key]
        assert result["score"]["points"] == other["score"]["points"], key
        assert _statuses(result) == _statuses(other), key


def test_local_repeat_is_refused() -> None:
    from grader.errors import UsageError
    from grader.pipeline import grade_submission

    with pytest.raises(UsageError, match="--repeat applies to official grading only"):
        grade_submission(
            ROOT / "labs" / "lab01", ROOT / "labs" / "lab01" / "starter", GradeOptions(repeat=2)
        )
