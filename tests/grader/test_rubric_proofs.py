"""Rubrics are proven, not trusted (ARCHITECTURE decision 3), on SQLite and on PostgreSQL.

For every lab with hidden checks: the generated solution scores full marks, the committed
starter fails every criterion, and each mutant loses exactly the criteria it declares (on
SQLite every mutant; on PostgreSQL the mutants of criteria only PostgreSQL decides, see
``grader.course.proving.prove_lab``; ``python -m grader prove LAB --database postgres://...``
grades them all).

And the other way round (issue 15): ``labs/<lab>/hidden/alternatives.toml`` lists correct
solutions written in another style than the reference, as edits to the generated solution in
the format of ``mutants.toml`` (without ``loses``). Each must score full marks, so a check that
over-fits the reference (its wording, its error codes where the brief leaves them open, its
structure) fails here rather than costing a learner points.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from grader.course.labgen import generate_lab
from grader.course.mutants import Edit, Mutant, apply_mutant, load_mutants
from grader.course.proving import prove_capstone, prove_lab
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from grader.rubric import load_rubric
from tests.support import ROOT, postgres_url, proves_earlier, shared_proof

LABS = sorted(p.parent.parent.name for p in ROOT.glob("labs/*/hidden/mutants.toml"))


def _alternatives(lab: str) -> list[Mutant]:
    """The alternatives of ``lab``: mutants that must lose nothing."""
    path = ROOT / "labs" / lab / "hidden" / "alternatives.toml"
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("alternatives", [])
    return [
        Mutant(
            id=str(entry["id"]),
            description=str(entry["description"]),
            loses=(),
            edits=tuple(
                Edit(str(e["file"]), str(e["find"]), str(e["replace"])) for e in entry["edits"]
            ),
            regenerate=tuple(str(name) for name in entry.get("regenerate", ())),
        )
        for entry in entries
    ]


ALTERNATIVES = [
    pytest.param(lab, alternative, id=f"{lab}-{alternative.id}")
    for lab in sorted(p.parent.parent.name for p in ROOT.glob("labs/*/hidden/alternatives.toml"))
    for alternative in _alternatives(lab)
]

pytestmark = pytest.mark.slow


def _per_lab(lab: str, database: str) -> pytest.param:
    """One parameter per lab, in an xdist group of its own: each proof runs on whichever core is
    free (tests/conftest.py), and the tests that read the same proof share its worker.

    The SQLite proof shares its group with the lab's official proof (tests/official), since
    the test comparing the two modes reads both: on two workers it waited for the other's."""
    group = f"proof-{lab}" if database == "sqlite" else f"proof-{lab}-{database}"
    return pytest.param(lab, id=lab, marks=pytest.mark.xdist_group(group))


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
    if lab == "capstone":  # no starter: the copier template's renders (grader/course/proving.py)
        assert len(mutants) >= 6, f"the capstone needs at least 6 mutants, has {len(mutants)}"
        assert {"template:defaults", "template:optional-parts-off"} <= set(proof.results)
        assert proof.results["solution"]["score"]["awaiting_points"] == 26  # demo, code review
        return
    assert len(mutants) >= 2, f"{lab} needs at least 2 mutants, has {len(mutants)}"
    assert proof.results["starter"]["score"]["points"] == 0
    # On SQLite every lab's solution is graded against every earlier rubric (proves_earlier).
    before = [other for other in LABS if other < lab and other != "capstone"]
    graded = [k.removeprefix("earlier:") for k in proof.results if k.startswith("earlier:")]
    assert sorted(graded) == before


@pytest.mark.postgres
@pytest.mark.parametrize("lab", [_per_lab(lab, "postgres") for lab in LABS])
def test_rubric_proven_on_postgres(lab):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server here (CI requires one)")
    if lab == "capstone":  # the reference and the template renders: mutants are proven on SQLite
        proof = prove_capstone(ROOT, GradeOptions(database=url), mutants=False)
    else:
        # The mutants SQLite cannot decide; test_rubric_proven_on_sqlite grades the rest in
        # this run (grader.course.proving.prove_lab says why that is enough).
        proof = prove_lab(
            ROOT,
            lab,
            GradeOptions(database=url),
            earlier=proves_earlier(lab, database=url),
            mutants="postgresql-only",
        )
    assert proof.ok, "\n".join(proof.problems)
    if proves_earlier(lab, database=url):
        assert [k for k in proof.results if k.startswith("earlier:")], "no earlier rubric graded"
    assert proof.results["solution"]["environment"]["database"] == "postgresql"
    if lab != "capstone":  # every mutant of a criterion only PostgreSQL decides, and no other
        rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
        only_here = {c.id for c in rubric.criteria if c.requires == "postgresql"}
        ids = {c.id for c in rubric.criteria}
        expected = {
            f"mutant:{m.id}"
            for m in load_mutants(ROOT / "labs" / lab / "hidden" / "mutants.toml", ids)
            if set(m.loses) & only_here
        }
        assert {k for k in proof.results if k.startswith("mutant:")} == expected
        assert bool(expected) == bool(only_here), f"{lab}: a PostgreSQL-only criterion, no mutant"


@pytest.mark.xdist_group("proof-lab07")
def test_lab07_starter_shows_each_cause_once_and_starts_at_step_2(sqlite_proof):
    """Issue 20: lab07's starter repeated "answered a JSON array" on 7 of 13 rows, gave advice
    for the first failure only and sent the learner to step 3, which needs step 2."""
    import io

    from rich.console import Console

    from grader.render import next_step, render_result

    result = sqlite_proof("lab07").results["starter"]
    buffer = io.StringIO()
    render_result(result, Console(file=buffer, width=400), handout="labs/lab07/README.md")
    shown = buffer.getvalue()
    assert shown.count("answered a JSON array") <= 1
    failed = [c for c in result["criteria"] if c["status"] == "failed"]
    waiting = shown.count("Waits on step 2")
    assert waiting >= 6  # pagination and the list criteria after it
    assert shown.count("What to do:") == len(failed) - waiting  # every other failure: advice
    assert "step-2-versions-in-the-accept-header" in next_step(result, "labs/lab07/README.md")


@pytest.mark.xdist_group("proof-lab01")
def test_mutant_feedback_names_the_problem(sqlite_proof):
    """A mutant's failing criterion carries the rubric's advice and what the check observed."""
    proof = sqlite_proof("lab01")
    result = proof.results["mutant:health-ignores-database"]
    (failed,) = [c for c in result["criteria"] if c["status"] == "failed"]
    assert failed["id"] == "health-degraded"
    assert "503" in failed["feedback"]
    assert "answered 200" in failed["detail"]


def _grade_alternative(lab: str, alternative: Mutant, tmp_path: Path, database: str) -> dict:
    tree = tmp_path / "solution"
    generate_lab(ROOT / "solutions", lab, "solution", tree)
    apply_mutant(tree, alternative)  # the same edits as a mutant's: each `find` occurs once
    return grade_submission(ROOT / "labs" / lab, tree, GradeOptions(database=database))


def _short_of_full_marks(result: dict) -> list[str]:
    return [
        f"{c['id']}: {c['status']}: {c.get('detail') or c.get('feedback', '')}"[:400]
        for c in result["criteria"]
        if c["status"] not in ("passed", "not_run")
    ]


def test_there_are_alternatives_to_prove():
    assert len(ALTERNATIVES) >= 2


@pytest.mark.parametrize(("lab", "alternative"), ALTERNATIVES)
def test_alternatives_score_full_marks(lab, alternative, tmp_path):
    result = _grade_alternative(lab, alternative, tmp_path, "sqlite")
    assert result["status"] == "graded", result["message"]
    lost = _short_of_full_marks(result)
    assert not lost, f"{lab} alternative {alternative.id!r} lost: " + "\n".join(lost)


@pytest.mark.postgres
@pytest.mark.parametrize(("lab", "alternative"), ALTERNATIVES)
def test_alternatives_score_full_marks_on_postgres(lab, alternative, tmp_path):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server here (CI requires one)")
    result = _grade_alternative(lab, alternative, tmp_path, url)
    assert result["status"] == "graded", result["message"]
    assert result["environment"]["database"] == "postgresql"
    lost = _short_of_full_marks(result)
    assert not lost, f"{lab} alternative {alternative.id!r} lost: " + "\n".join(lost)
