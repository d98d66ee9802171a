"""The public self-check: what ``grade LAB`` does in the learners' edition.

The learners' edition has no ``labs/<lab>/hidden/``, so only the official grading can decide a
lab's criteria. Rather than refuse, or score a silent zero, the grader then runs the lab's
*public* tests through the same hardened runner and produces a normal result document
(``status: graded``) in which

- every criterion has status ``official_only`` and no points (null: not scored here), and keeps
  its title, points available and the rubric's advice, so the learner sees what will be graded
  and what is worth what; its ``tests`` are the public tests that approach it (the rubric's
  ``public``), so each row can say "public checks for this criterion: 3/3 pass";
- the score's points and percent are null, and ``score.not_scored`` says why (schema 1.3): a
  self-check never writes 0 points for work it did not score;
- ``public_checks`` lists each public test's outcome (schema 1.1).

The public tests are ``labs/<lab>/public/``: a pristine copy of the starter's ``tests/`` that the
release step takes (:mod:`grader.course.release.build`). It is placed over the staged copy's
``tests/``, so a learner who edits or deletes their own tests changes nothing; where that folder is
absent, the submission's own ``tests/`` run instead (and ``source`` says so).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import SubmissionError
from grader.executors.base import CheckRun, RubricExecutor, RunRequest
from grader.executors.local import CheckSet, run_checks
from grader.report import Report, TestOutcome
from grader.rubric import MANUAL, Criterion, Rubric
from grader.scoring import CriterionResult, Score, awaiting

PUBLIC_DIR = "public"  # labs/<lab>/public/ in the learners' edition
TESTS_DIR = "tests"  # where the starter keeps its tests (they find the project from there)


@dataclass(frozen=True)
class PublicChecks:
    """The public tests to run and where they came from (shown in the result)."""

    check_set: CheckSet
    source: str


def prepare_public_checks(lab_dir: Path, staged: Path) -> PublicChecks:
    """Put the lab's pristine public tests into the staged copy; return what to run.

    Raises :class:`SubmissionError` (stage ``collect``) when there is nothing to run.
    """
    pristine = lab_dir / PUBLIC_DIR
    target = staged / TESTS_DIR
    if pristine.is_dir():
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        shutil.copytree(pristine, target, ignore=shutil.ignore_patterns("__pycache__"))
        source = f"labs/{lab_dir.name}/{PUBLIC_DIR}"
    elif target.is_dir():
        source = f"{TESTS_DIR}/ of the submission"
    else:
        raise SubmissionError(
            f"There are no public tests to run: labs/{lab_dir.name}/{PUBLIC_DIR}/ is missing and "
            f"the submission has no {TESTS_DIR}/ folder. Restore it with "
            f"`git checkout -- labs/{lab_dir.name}`.",
            stage="collect",
        )
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("test_*.py"))
    if not files:
        raise SubmissionError(
            f"The public tests ({source}) hold no test_*.py file, so nothing can be checked.",
            stage="collect",
        )
    return PublicChecks(CheckSet(folder=target, node_ids=tuple(files)), source)


NOT_SCORED = (
    "This copy of the course has no hidden checks, so nothing was scored: the official grading "
    "decides every criterion. The public tests ran; each criterion lists those that approach it."
)


def approaches(entry: str, nodeid: str) -> bool:
    """Whether the public test ``nodeid`` is one the rubric's ``public`` ``entry`` names."""
    if "::" not in entry:
        return nodeid.split("::", 1)[0] == entry
    return nodeid == entry or nodeid.startswith(entry + "[")


def official_only(rubric: Rubric, report: Report | None = None) -> Score:
    """Every criterion ``official_only``: published, worth its points, decided elsewhere; a
    manual one stays ``awaiting_instructor`` (a person decides it in either edition). With
    ``report``, each carries the public tests that approach it (the rubric's ``public``)."""
    tests = sorted(report.tests.values(), key=lambda t: t.nodeid) if report else []

    def near(c: Criterion) -> tuple[TestOutcome, ...]:
        return tuple(t for t in tests if any(approaches(e, t.nodeid) for e in c.public))

    return Score(
        tuple(
            awaiting(c)
            if c.kind == MANUAL
            else CriterionResult(c, "official_only", 0, None, near(c))
            for c in rubric.criteria
        )
    )


def not_scored(result: dict[str, Any]) -> None:
    """Null points where nothing was scored, and the reason (module doc)."""
    result["score"].update(points=None, percent=None, not_scored=NOT_SCORED)
    for criterion in result["criteria"]:
        if criterion["status"] == "official_only":
            criterion["points"] = None


def public_summary(report: Report, source: str) -> dict[str, Any]:
    """The ``public_checks`` member of the result: each public test's outcome, sorted by id.

    A test file that could not be collected counts as one ``error`` entry, so a broken import
    in the learner's project shows up as a failing check instead of vanishing.
    """
    tests = [
        {
            "id": t.nodeid,
            "outcome": t.outcome,
            "duration": round(t.duration, 4),
            "message": t.message,
        }
        for t in sorted(report.tests.values(), key=lambda t: t.nodeid)
    ]
    tests += [
        {
            "id": error.split(": ", 1)[0] or "collection",
            "outcome": "error",
            "duration": 0.0,
            "message": error,
        }
        for error in report.collection_errors
    ]
    return {
        "source": source,
        "passed": sum(t["outcome"] == "passed" for t in tests),
        "failed": sum(t["outcome"] in ("failed", "error") for t in tests),
        "tests": tests,
    }


class SelfCheckExecutor(RubricExecutor):
    """The learners' edition: the lab's public tests in the hardened local child; every
    criterion ``official_only`` (decided by the official grading), the tests' outcomes shown."""

    kind = "selfcheck"
    runs_gates = False
    gates_beside_checks = False

    def __init__(self) -> None:
        self._public: PublicChecks | None = None

    def prepare(self, request: RunRequest) -> None:
        self._public = prepare_public_checks(request.lab_dir, request.staged.path)

    def run(self, request: RunRequest) -> CheckRun:
        assert self._public is not None, "prepare() first"
        return run_checks(
            rubric=request.rubric,
            staged=request.staged,
            work=request.work,
            database=request.database,
            timeout=request.timeout,
            checks=self._public.check_set,
        )

    def score(self, rubric: Rubric, report: Report) -> Score:
        return official_only(rubric, report)

    def annotate(self, result: dict[str, Any], report: Report) -> None:
        assert self._public is not None, "prepare() first"
        result["public_checks"] = public_summary(report, self._public.source)
        not_scored(result)
