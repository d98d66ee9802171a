"""The one interface every executor has, and the run it hands back to the pipeline.

The pipeline (:mod:`grader.pipeline`) builds one :class:`RunRequest` per grading and asks the
executor chosen for the lab and mode (:func:`grader.executors.choose_executor`) to

1. :meth:`Executor.prepare` the staged copy: whatever this executor needs before it can run
   (the notebook is present and readable, the public tests are in place). Refusals raise
   :class:`~grader.errors.SubmissionError`, like staging's;
2. :meth:`Executor.run` the checks and return a :class:`CheckRun`;
3. :meth:`Executor.score` the report against the rubric.

Executors never import the pipeline, the course tools or the instructors' tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.report import Report
from grader.rubric import Rubric
from grader.scoring import Score, score_report
from grader.staging import StagedSubmission


@dataclass(frozen=True)
class RunRequest:
    """What an executor is asked to grade: the same for every executor."""

    lab_dir: Path
    rubric: Rubric
    staged: StagedSubmission
    work: Path  # the grading's own scratch folder; the executor may use any part of it
    database: str = "sqlite"
    timeout: float | None = None
    repeat: int = 1  # official mode: runs of every check


@dataclass(frozen=True)
class CheckRun:
    """What came back from the checks. ``report`` is None if none was written (crash, kill)."""

    report: Report | None
    timed_out: bool
    returncode: int | None
    seconds: float
    log_tail: str
    # Official mode (grader.executors.official.runner): checks needing manual review, flaky checks.
    integrity_flags: tuple[str, ...] = ()
    # Named steps inside the run, seconds (the notebook executor: nbgrader's steps).
    timings: dict[str, float] = field(default_factory=dict)


class Executor(Protocol):
    """Where a rubric's checks run. One instance serves one grading."""

    #: ``local``, ``official``, ``notebook`` or ``selfcheck``: what the result's timings and the
    #: tests call it.
    kind: str
    #: whether the rubric's quality gates run (the learners' edition has none to run).
    runs_gates: bool
    #: whether the gates may run beside the checks, at the same time: where the checks'
    #: processes are this process's own children (local), or each stage has a sandbox and a
    #: job slot of its own (official). The notebook and self-check executors keep them after.
    gates_beside_checks: bool

    def prepare(self, request: RunRequest) -> None:
        """Make the staged copy ready for :meth:`run`; SubmissionError when it cannot be."""

    def run(self, request: RunRequest) -> CheckRun:
        """Run the checks against the staged copy."""

    def score(self, rubric: Rubric, report: Report) -> Score:
        """The rubric's score from the (gate-merged) report."""

    def annotate(self, result: dict[str, Any], report: Report) -> None:
        """Add executor-specific members to a graded result (the public checks' summary)."""


class RubricExecutor:
    """What most executors share: nothing to prepare, the rubric's own scoring, nothing to add.

    A subclass sets the three class attributes and defines :meth:`run`; it overrides the other
    methods only where it differs (the notebook executor prepares, the self-check scores).
    """

    kind = "rubric"
    runs_gates = True
    gates_beside_checks = False

    def prepare(self, request: RunRequest) -> None:
        return None

    def run(self, request: RunRequest) -> CheckRun:
        raise NotImplementedError

    def score(self, rubric: Rubric, report: Report) -> Score:
        return score_report(rubric, report)

    def annotate(self, result: dict[str, Any], report: Report) -> None:
        return None
