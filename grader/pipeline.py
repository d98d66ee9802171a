"""The grading pipeline for one submission.

resolve the rubric → stage a copy (limits) → compile (syntax) → run the checks in a hardened
child process → score against the rubric → one result document.

Every stage turns bad input into a definite status (``graded`` / ``error`` / ``timeout``) and a
learner-facing message. Usage errors (unknown lab, missing folder) raise
:class:`~grader.errors.UsageError` before any result exists; a rubric bug raises
:class:`~grader.errors.RubricError`. Without hidden checks (the learners' edition) the lab's
public tests run instead and every criterion is ``official_only``
(:mod:`grader.executors.selfcheck`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import RubricError, SubmissionError, UsageError
from grader.executors.gates import GateRun, check_gate_tools, gate_criteria, run_quality_gates
from grader.executors.local import run_checks
from grader.executors.official.runner import check_official_request, run_official_checks
from grader.executors.selfcheck import (
    PublicChecks,
    is_self_check,
    official_only,
    prepare_public_checks,
    public_summary,
)
from grader.pgcluster import ClusterUnavailable, throwaway_cluster
from grader.result import Outcome, build_result, utc_now
from grader.rubric import Rubric, load_rubric
from grader.scoring import CriterionResult, Score, score_report, unscored
from grader.staging import StagedSubmission, check_syntax, stage_submission
from grader.staging.intake import check_layout, open_submission


@dataclass(frozen=True)
class GradeOptions:
    """Knobs for one grading run.

    ``database`` is ``sqlite``, a ``postgres://`` URL, or ``auto``: SQLite, unless the rubric has
    criteria that need PostgreSQL and a throwaway cluster can be started here
    (:mod:`grader.pgcluster`), in which case the whole grading runs on that cluster.
    ``postgres_unavailable`` is internal: why ``auto`` fell back to SQLite, for the detail of
    the criteria that could not be graded.
    """

    database: str = "sqlite"
    timeout: float | None = None
    mode: str = "local"
    keep_workdir: Path | None = None  # for debugging a rubric: stage here and keep it
    repeat: int = 1  # official mode: runs of every check; disagreeing runs flag it flaky
    postgres_unavailable: str | None = None


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
    if options.database == "auto":
        return _grade_auto(lab_dir, submission, options, rubric)
    # The learners' edition has no hidden checks: run the public tests instead and mark every
    # criterion as decided by the official grading (grader.executors.selfcheck).
    public = is_self_check(rubric)
    public_checks: PublicChecks | None = None
    if options.mode not in ("local", "official"):
        raise UsageError(f"Unknown grading mode {options.mode!r}: use 'local' or 'official'.")
    if options.repeat != 1 and options.mode != "official":
        raise UsageError("--repeat applies to official grading only; add --official.")
    if options.mode == "official":  # refused before staging: no sandbox, postgres, no checks
        if rubric.notebook is not None and not public:
            raise UsageError(
                f"{rubric.lab} is a notebook lab, graded by nbgrader, which official mode does not "
                "run; grade it without --official (a separate, hardened local process)."
            )
        check_official_request(options.database, public)
    if not public:
        check_gate_tools(rubric)  # a missing ruff or coverage.py must never cost points
    started_at = utc_now()
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    gates: GateRun | None = None
    with tempfile.TemporaryDirectory(prefix=f"grader-{rubric.lab}-") as tmp:
        work = options.keep_workdir or Path(tmp)
        staged: StagedSubmission | None = None
        try:
            source = open_submission(submission, work / "unpacked")  # folder or archive
            staged = stage_submission(source, work / "submission")
            check_layout(staged, rubric)
            check_syntax(staged)
            if public:
                public_checks = prepare_public_checks(lab_dir, staged.path)
            elif rubric.notebook is not None:
                from grader.executors.notebook.runner import check_notebook

                check_notebook(staged, rubric)
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
        if options.mode == "official":
            run = run_official_checks(
                rubric=rubric,
                staged=staged,
                work=work,
                timeout=options.timeout,
                repeat=options.repeat,
            )
        elif rubric.notebook is not None and public_checks is None:
            from grader.executors.notebook.runner import run_notebook_checks

            notebook_run = run_notebook_checks(
                rubric=rubric,
                staged=staged,
                work=work,
                database=options.database,
                timeout=options.timeout,
            )
            run = notebook_run.run
            timings.update(notebook_run.timings)  # nbgrader_generate, nbgrader_autograde, ...
        else:
            run = run_checks(
                rubric=rubric,
                staged=staged,
                work=work,
                database=options.database,
                timeout=options.timeout,
                checks=public_checks.check_set if public_checks else None,
            )
        # Quality gates (ruff, the learner's own tests) once the checks have run at all.
        if public_checks is None and gate_criteria(rubric) and run.report and run.report.tests:
            gates = run_quality_gates(
                rubric=rubric,
                staged=staged,
                work=work,
                database=options.database,
                timeout=options.timeout,
                mode=options.mode,
            )
            timings["gates"] = gates.seconds
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
    if report.collection_errors and not report.tests and public_checks is None:
        raise RubricError(
            f"The hidden checks of {rubric.lab} could not be collected: "
            + "; ".join(report.collection_errors)
        )
    scored = gates.merged(report) if gates else report
    score = official_only(rubric) if public_checks else score_report(rubric, scored)
    if not public_checks:
        score = not_gradable_here(rubric, score, options.database, options.postgres_unavailable)
    if run.integrity_flags:  # official mode: manual review, flaky checks, a tampered channel
        score = replace(score, integrity_flags=score.integrity_flags + run.integrity_flags)
    if gates and gates.flags:
        score = replace(score, integrity_flags=score.integrity_flags + gates.flags)
    result = _finish(
        rubric,
        score,
        Outcome("graded"),
        submission,
        staged,
        options,
        timings,
        started_at,
        0 if public_checks else len(report.tests),  # integrity counts hidden checks only
    )
    if public_checks:
        result["public_checks"] = public_summary(report, public_checks.source)
    return result


def _grade_auto(
    lab_dir: Path, submission: Path, options: GradeOptions, rubric: Rubric
) -> dict[str, Any]:
    """``--database auto``: a throwaway PostgreSQL cluster when the rubric needs PostgreSQL and
    one can be started here, SQLite otherwise (official mode and the learners' edition: SQLite)."""
    needs_postgres = (
        options.mode == "local"
        and not is_self_check(rubric)
        and any(c.requires == "postgresql" for c in rubric.criteria)
    )
    if not needs_postgres:
        return grade_submission(lab_dir, submission, replace(options, database="sqlite"))
    try:
        with throwaway_cluster() as url:
            return grade_submission(lab_dir, submission, replace(options, database=url))
    except ClusterUnavailable as why:
        fallback = replace(options, database="sqlite", postgres_unavailable=str(why))
        return grade_submission(lab_dir, submission, fallback)


def not_gradable_here(rubric: Rubric, score: Score, database: str, why: str | None = None) -> Score:
    """Criteria that ``requires = "postgresql"`` become ``not_run`` (0 points) on SQLite, with a
    detail saying how to grade them: never a pass or a fail decided by the wrong database.
    ``why`` says why no throwaway cluster was used, when ``--database auto`` tried one."""
    if database.startswith("postgres"):
        return score
    results = []
    for result in score.criteria:
        if result.criterion.requires == "postgresql":
            result = CriterionResult(
                criterion=result.criterion,
                status="not_run",
                points=0,
                detail=(
                    "Not gradable here: it needs PostgreSQL and this grading used SQLite"
                    + (f" ({why})" if why else "")
                    + f". Grade with `nox -s grade -- {rubric.lab} --database postgres://USER@"
                    "HOST:5432/postgres` (or set GRADER_DATABASE_URL to that URL), or install "
                    "PostgreSQL (`apt-get install postgresql`), and the grader starts a "
                    "throwaway server of its own."
                ),
                tests=result.tests,
            )
        results.append(result)
    return replace(score, criteria=tuple(results))


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
