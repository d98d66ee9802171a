"""The grading pipeline for one submission.

resolve the rubric → stage a copy (limits) → compile (syntax) → run the checks in a hardened
child process → score against the rubric → one result document.

Every stage turns bad input into a definite status (``graded`` / ``error`` / ``timeout``) and a
learner-facing message. Usage errors (unknown lab, missing folder) raise
:class:`~grader.errors.UsageError` before any result exists; a rubric bug raises
:class:`~grader.errors.RubricError`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import RubricError, SubmissionError
from grader.result import Outcome, build_result, utc_now
from grader.rubric import Rubric, load_rubric
from grader.runner import run_checks
from grader.scoring import score_report, unscored
from grader.staging import StagedSubmission, check_syntax, stage_submission


@dataclass(frozen=True)
class GradeOptions:
    """Knobs for one grading run. ``database`` is ``sqlite`` or a ``postgres://`` URL."""

    database: str = "sqlite"
    timeout: float | None = None
    mode: str = "local"
    keep_workdir: Path | None = None  # for debugging a rubric: stage here and keep it


def _timeout_message(seconds: float) -> str:
    return (
        f"The checks did not finish within {seconds:.0f} seconds and were stopped. Look for an "
        "endless loop, a request that waits forever, or code that runs at import time; run your "
        "project's tests to find it."
    )


def grade_submission(
    lab_dir: Path, submission: Path, options: GradeOptions | None = None
) -> dict[str, Any]:
    """Grade ``submission`` against the rubric in ``lab_dir`` and return the result document."""
    options = options or GradeOptions()
    rubric = load_rubric(lab_dir / "rubric.toml")
    if not rubric.hidden_dir.is_dir():
        raise RubricError(
            f"{rubric.hidden_dir} is missing: this copy of the course has no hidden checks for "
            f"{rubric.lab}. Official grading decides this lab's criteria."
        )
    started_at = utc_now()
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix=f"grader-{rubric.lab}-") as tmp:
        work = options.keep_workdir or Path(tmp)
        staged: StagedSubmission | None = None
        try:
            staged = stage_submission(submission, work / "submission")
            check_syntax(staged)
        except SubmissionError as exc:
            timings["stage"] = time.monotonic() - t0
            timings["total"] = timings["stage"]
            return _finish(
                rubric,
                unscored(rubric),
                Outcome("error", str(exc), exc.stage),
                submission,
                staged,
                options,
                timings,
                started_at,
                0,
            )
        timings["stage"] = time.monotonic() - t0
        run = run_checks(
            rubric=rubric,
            staged=staged,
            work=work,
            database=options.database,
            timeout=options.timeout,
        )
    timings["checks"] = run.seconds
    timings["total"] = time.monotonic() - t0
    limit = options.timeout if options.timeout is not None else rubric.timeout_seconds
    if run.timed_out:
        outcome = Outcome("timeout", _timeout_message(limit), "timeout")
        return _finish(
            rubric, unscored(rubric), outcome, submission, staged, options, timings, started_at, 0
        )
    report = run.report
    if report is not None and report.fatal:
        outcome = Outcome("error", report.fatal.get("message"), report.fatal.get("stage", "checks"))
        return _finish(
            rubric, unscored(rubric), outcome, submission, staged, options, timings, started_at, 0
        )
    if report is None or report.exit_code is None:
        outcome = Outcome(
            "error",
            "The checks stopped before reporting any result (the process exited with code "
            f"{run.returncode}). Something in your project ends the Python process, for example "
            "sys.exit() or os._exit() at import time; remove it and grade again.",
            "checks",
        )
        return _finish(
            rubric, unscored(rubric), outcome, submission, staged, options, timings, started_at, 0
        )
    if report.collection_errors and not report.tests:
        raise RubricError(
            f"The hidden checks of {rubric.lab} could not be collected: "
            + "; ".join(report.collection_errors)
        )
    score = score_report(rubric, report)
    return _finish(
        rubric,
        score,
        Outcome("graded"),
        submission,
        staged,
        options,
        timings,
        started_at,
        len(report.tests),
    )


def _finish(
    rubric: Rubric,
    score: Any,
    outcome: Outcome,
    submission: Path,
    staged: StagedSubmission | None,
    options: GradeOptions,
    timings: dict[str, float],
    started_at: str,
    reported: int,
) -> dict[str, Any]:
    return build_result(
        rubric=rubric,
        score=score,
        outcome=outcome,
        submission=submission,
        staged=staged,
        database=options.database,
        mode=options.mode,
        timings=timings,
        started_at=started_at,
        reported_checks=reported,
    )
