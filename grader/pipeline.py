"""The grading pipeline for one submission.

    rubric → intake and staging → executor (prepare, run; the quality gates beside or after)
           → score → result

Each step is one call in :func:`grade_submission`. Where the checks run is decided once, by
:func:`grader.executors.choose_executor` (local child, official sandbox, notebook, or the
learners' edition's public checks); every executor has the same small interface and returns
the same :class:`~grader.executors.base.CheckRun`, so the steps after it never ask which one ran.

Every step turns bad input into a definite status (``graded`` / ``error`` / ``timeout``) and a
learner-facing message. Usage errors (unknown lab, missing folder, a mode this machine cannot
do) raise :class:`~grader.errors.UsageError` before any result exists; a rubric bug raises
:class:`~grader.errors.RubricError`. That holds for failures nobody foresaw too: an unexpected
exception while staging, running the checks or running a gate ends as status ``error`` (or a
gate's ``error`` outcome) with a sentence saying an instructor has the details, and the
traceback goes to the instructor-side debug log (:mod:`grader.incidents`), never into the
result. Before the result is returned, its learner-facing text is stripped of control
characters and host paths (:func:`grader.safetext.scrub_result`): the staged copy's path becomes
the project-relative path, the grader's own folders become placeholders.

Speed (issue 12): in local mode the quality gates (the learner's own tests under coverage, ruff)
run at the same time as the hidden checks, each in its own child process with its own scratch
folder and database, because on two cores the longest stage, not their sum, should set the time.
The gates' outcomes count only when the checks produced a report, exactly as when they ran after.
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.errors import RubricError, SubmissionError, UsageError
from grader.executors import CheckRun, Executor, RunRequest, choose_executor, is_self_check
from grader.executors.gates import (
    GateMemo,
    GateRun,
    check_gate_tools,
    gate_criteria,
    gate_failure,
    run_quality_gates,
)
from grader.incidents import record_exception
from grader.pgcluster import ClusterUnavailable, throwaway_cluster, warm_cluster
from grader.redisserver import unavailable_reason as redis_unavailable_reason
from grader.report import Report
from grader.result import Outcome, build_result, utc_now
from grader.rubric import Rubric, load_rubric
from grader.safetext import PathScrubber, scrub_result
from grader.scoring import CriterionResult, Score, unscored
from grader.staging import (
    StagedSubmission,
    check_layout,
    check_syntax,
    open_submission,
    stage_submission,
)


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
    # The quality gates beside the checks where the executor allows it; False: one after the
    # other (slower, the same result: tests/grader/test_concurrent_stages.py compares them).
    concurrent: bool = True
    postgres_unavailable: str | None = None
    # Gate runs shared by gradings of one submission (a proof grades its solution against every
    # earlier rubric): see grader.executors.gates.GateMemo. Never set for a learner's grading.
    gate_memo: GateMemo | None = field(default=None, compare=False, repr=False)


@dataclass
class _Grading:
    """One grading in progress: what every step after staging needs to finish the result."""

    rubric: Rubric
    submission: Path
    options: GradeOptions
    started_at: str
    t0: float
    timings: dict[str, float]
    staged: StagedSubmission | None = None

    def finish(self, score: Score, outcome: Outcome, reported: int = 0) -> dict[str, Any]:
        self.timings["total"] = time.monotonic() - self.t0
        return build_result(
            rubric=self.rubric,
            score=score,
            outcome=outcome,
            submission=self.submission,
            staged=self.staged,
            database=self.options.database,
            mode=self.options.mode,
            timings=self.timings,
            started_at=self.started_at,
            reported_checks=reported,
        )


def _timeout_message(seconds: float) -> str:
    return (
        f"The checks did not finish within {seconds:.0f} seconds and were stopped. Look for an "
        "endless loop, a request that waits forever, or code that runs at import time; run your "
        "project's tests to find it."
    )


def unexpected(what: str, exc: BaseException) -> str:
    """The learner's sentence for an exception the grader did not foresee (see module doc);
    the traceback is recorded for instructors."""
    where = record_exception(f"unexpected-{what.split()[0]}", exc)
    kept = "An instructor has the details" if where else "The grader could not keep the details"
    return (
        f"The grader could not {what} (it met a problem it does not handle: "
        f"{type(exc).__name__}), so nothing was scored; this is not a verdict on your work. "
        f"{kept}; grade again, and if it happens again, send your instructor this submission."
    )


def grade_submission(
    lab_dir: Path, submission: Path, options: GradeOptions | None = None
) -> dict[str, Any]:
    """Grade ``submission`` against the rubric in ``lab_dir`` and return the result document.

    Raises only :class:`~grader.errors.UsageError` (nothing could be graded: the request is
    wrong) and :class:`~grader.errors.RubricError` (the course's own files are broken);
    whatever the submission holds, the answer is a result document.
    """
    options = options or GradeOptions()
    rubric = load_rubric(lab_dir / "rubric.toml")
    if options.database == "auto" or (options.database == "postgres" and options.mode == "local"):
        return _grade_auto(lab_dir, submission, options, rubric)
    scrub = PathScrubber()
    scrub.add(lab_dir, "<lab>")
    return scrub_result(_grade(lab_dir, submission, options, rubric, scrub), scrub)


def _grade(
    lab_dir: Path, submission: Path, options: GradeOptions, rubric: Rubric, scrub: PathScrubber
) -> dict[str, Any]:
    """:func:`grade_submission` for one database; registers its folders with ``scrub``."""
    executor = choose_executor(rubric, options.mode, options.database, options.repeat)
    if executor.runs_gates:
        check_gate_tools(rubric)  # a missing ruff or coverage.py must never cost points
    grading = _Grading(rubric, submission, options, utc_now(), time.monotonic(), {})
    # ignore_cleanup_errors: a clean-up that fails must not turn a definite result into a crash
    # (staging bounds depth, so rmtree cannot hit the recursion limit; this is the last guard).
    with tempfile.TemporaryDirectory(
        prefix=f"grader-{rubric.lab}-", ignore_cleanup_errors=True
    ) as tmp:
        work = options.keep_workdir or Path(tmp)
        scrub.add(work, "<grader work folder>")
        scrub.add_project(work / "submission")
        try:
            _intake(grading, work, scrub)
            assert grading.staged is not None
            request = RunRequest(
                lab_dir, rubric, grading.staged, work, options.database, options.timeout,
                options.repeat,
            )  # fmt: skip
            executor.prepare(request)
        except SubmissionError as exc:
            refusal: Outcome | None = Outcome("error", str(exc), exc.stage)
        except (UsageError, RubricError):
            raise
        except Exception as exc:  # every submission gets a definite status, never exit 5
            message = unexpected("prepare this submission for grading", exc)
            refusal = Outcome("error", message, "stage")
        else:
            refusal = None
        grading.timings["stage"] = time.monotonic() - grading.t0
        if refusal is not None:
            return grading.finish(unscored(rubric), refusal)
        run, gates = _run(executor, request, options)
    grading.timings.update(run.timings)
    grading.timings["checks"] = run.seconds
    if gates is not None:
        grading.timings["gates"] = gates.seconds
    return _conclude(grading, executor, run, gates)


def _intake(grading: _Grading, work: Path, scrub: PathScrubber) -> None:
    """Open (folder or archive), stage a copy, check its layout and syntax: SubmissionError.

    ``grading.staged`` is set as soon as the copy exists, so a layout or syntax refusal still
    records the submission's digest. An unpacked archive's project folder is registered with
    ``scrub``, so messages naming its files show them relative to the project."""
    source = open_submission(grading.submission, work / "unpacked")
    if source.is_relative_to(work):
        scrub.add_project(source)
    grading.staged = stage_submission(source, work / "submission")
    check_layout(grading.staged, grading.rubric)
    check_syntax(grading.staged)


def _run(
    executor: Executor, request: RunRequest, options: GradeOptions
) -> tuple[CheckRun, GateRun | None]:
    """The executor's checks and, when the rubric has them, its quality gates.

    Beside each other when the executor allows it (local mode) and ``options.concurrent``, one
    after the other otherwise.
    Gates count only when the checks produced a report with tests (a submission that cannot even
    start is an ``error`` already), so either way the outcome is the same. An exception nobody
    foresaw is a fatal report (checks) or an ``error`` outcome for every gate (gates), never a
    crash: see :func:`unexpected`.
    """
    started = time.monotonic()

    def checks() -> CheckRun:
        try:
            return executor.run(request)
        except (UsageError, RubricError):
            raise
        except Exception as exc:  # a definite status, never a crash (exit 5)
            fatal = {"stage": "checks", "message": unexpected("run the checks", exc)}
            return CheckRun(Report(fatal=fatal), False, None, time.monotonic() - started, "")

    if not (executor.runs_gates and gate_criteria(request.rubric)):
        return checks(), None

    def gates() -> GateRun:
        try:
            return run_quality_gates(
                rubric=request.rubric,
                staged=request.staged,
                work=request.work,
                database=request.database,
                timeout=request.timeout,
                mode=options.mode,
                concurrent=beside,
                memo=options.gate_memo,
            )
        except (UsageError, RubricError):
            raise
        except Exception as exc:  # a gate outcome, never a crash (exit 5)
            return gate_failure(request.rubric, unexpected("run the quality gates", exc))

    beside = executor.gates_beside_checks and options.concurrent
    if beside:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-gates") as pool:
            pending = pool.submit(gates)
            run = checks()
            gate_run: GateRun | None = pending.result()
    else:
        run = checks()
        gate_run = gates() if run.report and run.report.tests else None
    if not (run.report and run.report.tests):
        gate_run = None
    return run, gate_run


def _conclude(
    grading: _Grading, executor: Executor, run: CheckRun, gates: GateRun | None
) -> dict[str, Any]:
    """The result: a timeout or an error when the run says so, else the score."""
    rubric, options = grading.rubric, grading.options
    limit = options.timeout if options.timeout is not None else rubric.timeout_seconds
    if run.timed_out:
        outcome = Outcome("timeout", _timeout_message(limit), "timeout")
        return grading.finish(unscored(rubric), outcome)
    report = run.report
    if report is not None and report.fatal:
        fatal = report.fatal
        outcome = Outcome("error", fatal.get("message"), fatal.get("stage", "checks"))
        return grading.finish(unscored(rubric), outcome)
    if report is None or report.exit_code is None:
        outcome = Outcome(
            "error",
            "The checks stopped before reporting any result (the process exited with code "
            f"{run.returncode}). Something in your project ends the Python process, for example "
            "sys.exit() or os._exit() at import time; remove it and grade again.",
            "checks",
        )
        return grading.finish(unscored(rubric), outcome)
    public = executor.kind == "selfcheck"
    if report.collection_errors and not report.tests and not public:
        raise RubricError(
            f"The hidden checks of {rubric.lab} could not be collected: "
            + "; ".join(report.collection_errors)
        )
    score = executor.score(rubric, gates.merged(report) if gates else report)
    if not public:
        score = not_gradable_here(rubric, score, options.database, options.postgres_unavailable)
        score = not_gradable_without_redis(rubric, score, redis_unavailable_reason())
    flags = run.integrity_flags + (gates.flags if gates else ())
    if flags:  # official mode: manual review, flaky checks, a tampered channel
        score = replace(score, integrity_flags=score.integrity_flags + flags)
    # integrity counts hidden checks only
    result = grading.finish(score, Outcome("graded"), 0 if public else len(report.tests))
    executor.annotate(result, report)
    return result


def _grade_auto(
    lab_dir: Path, submission: Path, options: GradeOptions, rubric: Rubric
) -> dict[str, Any]:
    """``--database auto``: PostgreSQL when the rubric needs it and a cluster can be had here,
    SQLite otherwise (the learners' edition: SQLite). In official mode the cluster is one the
    sandbox starts for itself (:mod:`grader.executors.official.postgres`).

    The cluster is this user's warm one (:func:`grader.pgcluster.warm_cluster`: started on
    demand, kept between gradings, stopped after idle) when the lab sits in a course checkout,
    unless ``GRADER_PG_WARM=0``; else, or when the warm one cannot start, a throwaway cluster.
    """
    asked = options.database == "postgres"  # local mode: a cluster the grader starts, or refuse
    needs_postgres = asked or (
        not is_self_check(rubric) and any(c.requires == "postgresql" for c in rubric.criteria)
    )
    if not needs_postgres:
        return grade_submission(lab_dir, submission, replace(options, database="sqlite"))
    if options.mode == "official":  # a server inside the sandbox, or SQLite saying why not
        from grader.executors.official.postgres import (
            SANDBOX_POSTGRES,
            postgres_unavailable_reason,
        )

        why = postgres_unavailable_reason()
        database = "sqlite" if why else SANDBOX_POSTGRES
        chosen = replace(options, database=database, postgres_unavailable=why)
        return grade_submission(lab_dir, submission, chosen)
    course_root = lab_dir.resolve().parent.parent
    if (course_root / "labs").is_dir() and os.environ.get("GRADER_PG_WARM", "1") != "0":
        try:
            with warm_cluster(course_root) as url:
                return grade_submission(lab_dir, submission, replace(options, database=url))
        except ClusterUnavailable:
            pass  # e.g. the checkout is not readable by the postgres account: a throwaway one
    try:
        with throwaway_cluster() as url:
            return grade_submission(lab_dir, submission, replace(options, database=url))
    except ClusterUnavailable as why:
        if asked:
            raise UsageError(
                f"--database postgres needs a PostgreSQL cluster the grader can start, and {why}."
                " Give a server's URL instead (--database postgres://USER@HOST:5432/postgres)."
            ) from None
        fallback = replace(options, database="sqlite", postgres_unavailable=str(why))
        return grade_submission(lab_dir, submission, fallback)


def not_gradable_without_redis(rubric: Rubric, score: Score, why: str | None) -> Score:
    """Criteria that ``requires = "redis"`` become ``not_run`` (0 points) when no Redis could be
    had here (``why``, from :func:`grader.redisserver.unavailable_reason`, says how to fix it):
    their checks ran against no server, so their failures say nothing about the submission."""
    if why is None:
        return score
    results = tuple(
        CriterionResult(
            criterion=r.criterion, status="not_run", points=0, detail=why, tests=r.tests
        )
        if r.criterion.requires == "redis"
        else r
        for r in score.criteria
    )
    return replace(score, criteria=results)


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
