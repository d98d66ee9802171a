"""Prove a rubric (ARCHITECTURE decision 3): solution full marks, starter fails every criterion,
each mutant loses exactly the criteria it declares, and the solution still passes the rubric of
every earlier lab (labs build on each other, so a later lab must not break an earlier one).

Used by the course's test suite and by course authors (``python -m grader prove lab01``).

A criterion a graded run reports as ``not_run`` could not be decided by that run (it needs
PostgreSQL and the proof runs on SQLite): it is left out of the comparisons and listed in
``Proof.notes``, and a mutant that only loses such criteria is not graded.
Notebook labs' source notebooks are added to the generated solution
(:func:`grader.executors.notebook.add_source_notebooks`).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.course.labgen import generate_lab, load_config
from grader.course.mutants import apply_mutant, load_mutants
from grader.executors.gates import GateMemo
from grader.executors.notebook import add_source_notebooks
from grader.pipeline import GradeOptions, grade_submission
from grader.rubric import load_rubric


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
    return {c["id"] for c in result["criteria"] if c["status"] != "passed"} - _not_gradable(result)


def _not_gradable(result: dict[str, Any]) -> set[str]:
    """Criteria a graded run could not decide here (``not_run``: they need PostgreSQL)."""
    if result["status"] != "graded":
        return set()
    return {c["id"] for c in result["criteria"] if c["status"] == "not_run"}


def prove_lab(root: Path, lab: str, options: GradeOptions | None = None) -> Proof:
    """Grade the solution, the committed starter and every mutant of ``lab``; collect problems.

    The solution's gradings share their quality gates' runs (:class:`GateMemo`): graded against
    every earlier rubric, the same tests run on the same files, so they run once."""
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

        for earlier in order[: order.index(lab)]:
            earlier_dir = root / "labs" / earlier
            if not (earlier_dir / "hidden").is_dir():
                continue
            result = grade_submission(earlier_dir, solution, options)
            proof.results[f"earlier:{earlier}"] = result
            if result["status"] != "graded" or _failed(result):
                proof.problems.append(
                    f"{lab} solution against the {earlier} rubric: status {result['status']}, "
                    f"failed {sorted(_failed(result))} ({result['message'] or 'see details'})"
                )

        for mutant in load_mutants(lab_dir / "hidden" / "mutants.toml", all_ids):
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
