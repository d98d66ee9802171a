"""Rubrics are proven, not trusted (ARCHITECTURE decision 3), on SQLite and on PostgreSQL.

For every lab with hidden checks: the generated solution scores full marks, the committed
starter fails every criterion, and each mutant loses exactly the criteria it declares.
"""

from __future__ import annotations

import pytest

from grader.course.proving import prove_lab
from grader.pipeline import GradeOptions
from grader.result import validate_result
from tests.support import ROOT, postgres_url, shared_proof

LABS = sorted(p.parent.parent.name for p in ROOT.glob("labs/*/hidden/mutants.toml"))

pytestmark = pytest.mark.slow


def _per_lab(lab: str, database: str) -> pytest.param:
    """One parameter per lab, in an xdist group of its own: each proof runs on whichever core is
    free (tests/conftest.py), and the tests that read the same proof share its worker."""
    return pytest.param(lab, id=lab, marks=pytest.mark.xdist_group(f"proof-{lab}-{database}"))


@pytest.fixture
def sqlite_proof(tmp_path_factory: pytest.TempPathFactory):
    """A lab's proof on SQLite, computed once per test session (tests.support.shared_proof)."""
    return lambda lab: shared_proof(tmp_path_factory, lab, database="sqlite")


def test_there_are_labs_to_prove():
    assert "lab01" in LABS


@pytest.mark.parametrize("lab", [_per_lab(lab, "sqlite") for lab in LABS])
def test_rubric_proven_on_sqlite(lab, sqlite_proof):
    proof = sqlite_proof(lab)
    assert proof.ok, "\n".join(proof.problems)
    for result in proof.results.values():
        validate_result(result)
    mutants = [k for k in proof.results if k.startswith("mutant:")]
    assert len(mutants) >= 2, f"{lab} needs at least 2 mutants, has {len(mutants)}"
    assert proof.results["starter"]["score"]["points"] == 0


@pytest.mark.postgres
@pytest.mark.parametrize("lab", [_per_lab(lab, "postgres") for lab in LABS])
def test_rubric_proven_on_postgres(lab):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server here (CI requires one)")
    proof = prove_lab(ROOT, lab, GradeOptions(database=url))
    assert proof.ok, "\n".join(proof.problems)
    assert proof.results["solution"]["environment"]["database"] == "postgresql"


@pytest.mark.xdist_group("proof-lab01-sqlite")
def test_mutant_feedback_names_the_problem(sqlite_proof):
    """A mutant's failing criterion carries the rubric's advice and what the check observed."""
    proof = sqlite_proof("lab01")
    result = proof.results["mutant:health-ignores-database"]
    (failed,) = [c for c in result["criteria"] if c["status"] == "failed"]
    assert failed["id"] == "health-degraded"
    assert "503" in failed["feedback"]
    assert "answered 200" in failed["detail"]
