"""Rubrics proven in official mode: for every lab and the capstone the solution scores
full marks (the capstone's: every automated point) with no integrity flag, the starter fails
every criterion (the capstone's template renders fail what they promise), and each mutant in
the lab's ``hidden/mutants.toml`` loses exactly its criteria, all graded by the out-of-process
fixtures (``data``, ``models``, ``queries``, ``clock``, ``api.authenticate``, lab09's ``tasks``,
``outbox``, ``redis_outage`` with Redis and a Celery worker inside the sandbox, ...) and the
sandboxed learner-tests gate. And both modes give every proof submission the same score:
official grading measures what local grading measures, only where the learner cannot reach the
verdict.

lab03, the notebook lab, runs nbgrader in a sandbox and says in every result what that cannot
guarantee (``integrity.notes``). Criteria that need PostgreSQL are ``not_run`` on SQLite in both
modes and left out, as ``grader.course.proving`` does (tests/official/test_official_postgres.py
grades them on the sandbox's own server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from grader.course.proving import Proof
from grader.pipeline import GradeOptions
from grader.result import validate_result
from grader.rubric import load_rubric
from tests.support import ROOT, shared_proof

pytestmark = pytest.mark.slow

LABS = (
    "lab01", "lab02", "lab03", "lab04", "lab05", "lab06", "lab07", "lab08", "lab09", "lab10",
    "capstone",
)  # fmt: skip
MIN_MUTANTS = 5


def _per_lab(lab: str) -> Any:
    """Each lab's official proof in an xdist group of its own (tests/conftest.py), so the
    proofs spread over the cores. The group is the one of the lab's SQLite proof
    (tests/grader/test_rubric_proofs.py): the comparison of the two modes reads both, and in
    two groups it held one worker waiting for the other's proof (254 s for lab10 in CI)."""
    return pytest.param(lab, id=lab, marks=pytest.mark.xdist_group(f"proof-{lab}"))


@pytest.fixture
def official_proofs(
    official_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Proof]:
    """A lab's proof in official mode, computed once per test session (shared_proof)."""
    return lambda lab: shared_proof(tmp_path_factory, lab, mode="official")


def _official(proofs: Callable[[str], Proof], lab: str) -> Proof:
    return proofs(lab)


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["criteria"]}


@pytest.mark.parametrize("lab", [_per_lab(lab) for lab in LABS])
def test_rubric_proven_in_official_mode(lab: str, official_proofs: Callable[[str], Proof]) -> None:
    proof = _official(official_proofs, lab)
    assert proof.ok, "\n".join(proof.problems)
    mutants = [key for key in proof.results if key.startswith("mutant:")]
    assert len(mutants) >= MIN_MUTANTS
    for key, result in proof.results.items():
        validate_result(result)
        assert result["mode"] == "official", key
        assert result["integrity"]["flags"] == [], (key, result["integrity"]["flags"])
    solution = proof.results["solution"]
    undecided = ("not_run", "awaiting_instructor")  # manual criteria wait for an instructor
    gradable = sum(c["max_points"] for c in solution["criteria"] if c["status"] not in undecided)
    assert solution["score"]["points"] == gradable
    assert all(c["status"] in ("passed", *undecided) for c in solution["criteria"])
    if lab != "capstone":  # the capstone has no starter: templates.toml's renders instead
        assert proof.results["starter"]["score"]["points"] == 0
    else:
        assert {"template:defaults", "template:optional-parts-off"} <= set(proof.results)
    notebook = load_rubric(ROOT / "labs" / lab / "rubric.toml").notebook is not None
    for key, result in proof.results.items():
        if result["status"] == "graded" and not key.startswith("earlier:"):
            assert bool(result["integrity"].get("notes")) == notebook, (key, result["integrity"])


@pytest.mark.parametrize("lab", [_per_lab(lab) for lab in LABS])
def test_official_and_local_mode_score_every_proof_submission_alike(
    lab: str, official_proofs: Callable[[str], Proof], tmp_path_factory: pytest.TempPathFactory
) -> None:
    official = _official(official_proofs, lab)
    # The same local proof tests/grader/test_rubric_proofs.py reads: computed once a session.
    local = shared_proof(tmp_path_factory, lab, database="sqlite")
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
