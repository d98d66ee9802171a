"""Prove a rubric (ARCHITECTURE decision 3): solution full marks, starter fails every criterion,
each mutant loses exactly the criteria it declares, and the solution still passes the rubric of
every earlier lab (labs build on each other, so a later lab must not break an earlier one).

Used by the course's test suite and by course authors (``python -m grader prove lab01``).

A criterion a graded run reports as ``not_run`` could not be decided by that run (it needs
PostgreSQL and the proof runs on SQLite): it is left out of the comparisons and listed in
``Proof.notes``, and a mutant that only loses such criteria is not graded.
Notebook labs' source notebooks are added to the generated solution
(:func:`grader.executors.notebook.add_source_notebooks`).

The capstone is proven by :func:`prove_capstone`, since it is no slice of the blog: its
reference (:func:`grader.course.capstone.build_reference`) passes every criterion a run decides;
the copier template rendered as ``labs/capstone/hidden/templates.toml`` lists fails exactly the
criteria each render says it leaves to the learner; each mutant loses exactly its criteria.
People-decided (manual) criteria wait for an instructor in every one of these results.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.course.capstone import build_reference, render_template
from grader.course.labgen import generate_lab, load_config
from grader.course.mutants import apply_mutant, load_mutants
from grader.errors import RubricError
from grader.executors.gates import GateMemo
from grader.executors.notebook import add_source_notebooks
from grader.pipeline import GradeOptions, grade_submission
from grader.rubric import load_rubric
from grader.scoring import AWAITING

CAPSTONE = "capstone"


@dataclass
class Proof:
    """Problems found while proving a lab's rubric; ``ok`` when there are none."""

    lab: str
    problems: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what this database could not prove

    @property
    def ok(self) -> bool:
        return not self.problems


def _failed(result: dict[str, Any]) -> set[str]:
    """Criteria the run decided against; a manual one waits for a person, which is no failure."""
    decided = {c["id"] for c in result["criteria"] if c["status"] not in ("passed", AWAITING)}
    return decided - _not_gradable(result)


def _not_gradable(result: dict[str, Any]) -> set[str]:
    """Criteria a graded run could not decide here (``not_run``: they need PostgreSQL)."""
    if result["status"] != "graded":
        return set()
    return {c["id"] for c in result["criteria"] if c["status"] == "not_run"}


MUTANT_SCOPES = ("all", "postgresql-only")


def prove_lab(
    root: Path,
    lab: str,
    options: GradeOptions | None = None,
    *,
    earlier: bool = True,
    mutants: str = "all",
) -> Proof:
    """Grade the solution, the committed starter and every mutant of ``lab``; collect problems.

    With ``earlier`` (the default), the solution is graded against every earlier lab's rubric
    too; the course's test suite leaves that out where another proof covers it (see
    ``tests/support.py``, ``proves_earlier``).

    ``mutants="postgresql-only"`` grades only the mutants that lose a criterion with
    ``requires = "postgresql"``, the ones a SQLite proof cannot decide. The course's test suite
    proves on PostgreSQL that way, beside a SQLite proof of every mutant in the same run: a
    mutant is an edit to the project that a check must notice, and the checks are the same
    code on both databases; what the database changes is the project's behaviour, which the
    solution's and the starter's gradings there exercise.

    The solution's gradings share their quality gates' runs (:class:`GateMemo`): graded against
    every earlier rubric, the same tests run on the same files, so they run once."""
    if mutants not in MUTANT_SCOPES:
        raise ValueError(f"mutants must be one of {MUTANT_SCOPES}, not {mutants!r}")
    if lab == CAPSTONE:  # another project, with no earlier labs: see prove_capstone
        return prove_capstone(root, options, mutants=mutants == "all")
    options = options or GradeOptions()
    if options.gate_memo is None:
        options = replace(options, gate_memo=GateMemo())
    lab_dir = root / "labs" / lab
    rubric = load_rubric(lab_dir / "rubric.toml")
    all_ids = {c.id for c in rubric.criteria}
    proof = Proof(lab)
    with tempfile.TemporaryDirectory(prefix=f"prove-{lab}-") as tmp:
        solution = Path(tmp) / "solution"
        generate_lab(root / "solutions", lab, "solution", solution)
        order = load_config(root / "solutions").labs
        add_source_notebooks(root, lab, solution, list(order))

        result = grade_submission(lab_dir, solution, options)
        proof.results["solution"] = result
        skipped = _not_gradable(result)
        if skipped:
            proof.notes.append(
                f"not gradable on this database, so not proven here: {sorted(skipped)} "
                "(prove with --database postgres://...)"
            )
        if result["status"] != "graded" or _failed(result):
            proof.problems.append(
                f"solution: status {result['status']}, failed {sorted(_failed(result))} "
                f"({result['message'] or 'see criteria details'})"
            )

        result = grade_submission(lab_dir, lab_dir / "starter", options)
        proof.results["starter"] = result
        passing = {c["id"] for c in result["criteria"] if c["status"] == "passed"}
        if result["status"] != "graded" or passing:
            proof.problems.append(
                f"starter: status {result['status']}, criteria that pass on the starter "
                f"(a defect): {sorted(passing)}"
            )

        for before in order[: order.index(lab)] if earlier else []:
            earlier_dir = root / "labs" / before
            if not (earlier_dir / "hidden").is_dir():
                continue
            result = grade_submission(earlier_dir, solution, options)
            proof.results[f"earlier:{before}"] = result
            if result["status"] != "graded" or _failed(result):
                proof.problems.append(
                    f"{lab} solution against the {before} rubric: status {result['status']}, "
                    f"failed {sorted(_failed(result))} ({result['message'] or 'see details'})"
                )

        postgresql_only = {c.id for c in rubric.criteria if c.requires == "postgresql"}
        for mutant in load_mutants(lab_dir / "hidden" / "mutants.toml", all_ids):
            if mutants == "postgresql-only" and not set(mutant.loses) & postgresql_only:
                proof.notes.append(
                    f"mutant {mutant.id} not graded here: it loses only criteria SQLite "
                    "decides, and this proof grades the PostgreSQL-only ones"
                )
                continue
            if set(mutant.loses) <= skipped:
                proof.notes.append(
                    f"mutant {mutant.id} not proven: it loses {sorted(mutant.loses)}, which "
                    "this database cannot grade"
                )
                continue
            tree = Path(tmp) / f"mutant-{mutant.id}"
            shutil.copytree(solution, tree)
            apply_mutant(tree, mutant)
            result = grade_submission(lab_dir, tree, options)
            proof.results[f"mutant:{mutant.id}"] = result
            failed = _failed(result)
            if result["status"] != "graded" or failed != set(mutant.loses) - skipped:
                proof.problems.append(
                    f"mutant {mutant.id}: expected to lose {sorted(mutant.loses)}, "
                    f"lost {sorted(failed)} (status {result['status']})"
                )
    return proof


def _renders(lab_dir: Path, ids: set[str]) -> list[tuple[str, dict[str, Any], set[str]]]:
    """``templates.toml``: ``(id, copier answers, criteria that must fail)`` per render."""
    path = lab_dir / "hidden" / "templates.toml"
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8"))["renders"]
        renders = [(str(e["id"]), dict(e["answers"]), set(e["fails"])) for e in entries]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise RubricError(f"{path}: not a list of [[renders]] ({exc})") from None
    for render_id, _, fails in renders:
        if fails - ids:
            raise RubricError(f"{path}: render {render_id!r} names unknown criteria")
    return renders


def prove_capstone(
    root: Path, options: GradeOptions | None = None, *, mutants: bool = True
) -> Proof:
    """The capstone's proof (module doc): reference, template renders and (``mutants``) the
    mutants. Without them it is the quick proof a second database gets: the checks a mutant
    fails do not depend on the database, and the capstone's gradings are long."""
    lab_dir = root / "labs" / CAPSTONE
    rubric = load_rubric(lab_dir / "rubric.toml")
    all_ids = {c.id for c in rubric.criteria}
    proof = Proof(CAPSTONE)
    with tempfile.TemporaryDirectory(prefix="prove-capstone-") as tmp:
        reference = build_reference(root, Path(tmp) / "reference")
        result = grade_submission(lab_dir, reference, options)
        proof.results["solution"] = result
        skipped = _not_gradable(result)
        if result["status"] != "graded" or _failed(result):
            proof.problems.append(
                f"reference: status {result['status']}, failed {sorted(_failed(result))} "
                f"({result['message'] or 'see criteria details'})"
            )
        for render_id, answers, fails in _renders(lab_dir, all_ids):
            tree = render_template(root, Path(tmp) / f"template-{render_id}", answers)
            result = grade_submission(lab_dir, tree, options)
            proof.results[f"template:{render_id}"] = result
            failed = _failed(result)
            if result["status"] != "graded" or failed != fails - skipped:
                proof.problems.append(
                    f"template render {render_id}: expected to fail {sorted(fails)}, failed "
                    f"{sorted(failed)} (status {result['status']})"
                )
        for mutant in load_mutants(lab_dir / "hidden" / "mutants.toml", all_ids):
            if not mutants:
                proof.notes.append(f"mutant {mutant.id} not graded in this quick proof")
                continue
            tree = Path(tmp) / f"mutant-{mutant.id}"
            shutil.copytree(reference, tree)
            apply_mutant(tree, mutant)
            result = grade_submission(lab_dir, tree, options)
            proof.results[f"mutant:{mutant.id}"] = result
            failed = _failed(result)
            if result["status"] != "graded" or failed != set(mutant.loses) - skipped:
                proof.problems.append(
                    f"mutant {mutant.id}: expected to lose {sorted(mutant.loses)}, "
                    f"lost {sorted(failed)} (status {result['status']})"
                )
    return proof
