"""Grade a cohort: plan, grade in parallel worker processes, record each result as it lands.

Resumability is a property of *where* results go, not of any state the run keeps:

1. **Plan.** For every roster learner with a submission, compute the submission digest and the
   lab's checks digest (:func:`grader.instructors.cohort.jobs.checks_digest`). The gradebook already
   holding a result with that identity means the work is done: skip it. Everything else is a job.
2. **Grade** the jobs in ``workers`` processes (``spawn``: no inherited database connections or
   threads), one job per process at a time.
3. **Record** each result in the gradebook, in its own transaction, the moment it comes back.

Killing the run at any point, even with ``kill -9``, loses at most the gradings in flight (they
were never recorded) and the next run grades exactly those: finished ones are recognised by
identity and skipped, and the unique identity makes a double record impossible. A changed
submission has a new digest and a changed rubric or hidden check a new checks digest, so exactly
the affected learners (or that one lab's submissions) are regraded.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from grader.errors import GraderError
from grader.instructors.cohort.jobs import GradeJob, checks_digest, run_job, worker_init
from grader.instructors.cohort.roster import load_roster
from grader.instructors.cohort.submissions import discover, prepare
from grader.instructors.gradebook import Gradebook
from grader.safetext import for_rich


@dataclass(frozen=True)
class CohortOptions:
    """One ``cohort grade`` run. ``workers`` defaults to the machine's cores."""

    course_root: Path
    lab: str
    submissions: Path
    roster: Path
    cache: Path
    workers: int = 0
    database: str = "sqlite"
    timeout: float | None = None
    actor: str = "grader"
    progress: bool = True
    mode: str = "local"  # "official": every job graded in the sandbox (cohort grade --official)


@dataclass
class CohortReport:
    """What a run did. ``graded`` counts results recorded by this run."""

    roster: int = 0
    graded: int = 0
    up_to_date: int = 0
    missing: list[str] = field(default_factory=list)
    not_on_roster: list[str] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True)
class Plan:
    jobs: list[GradeJob]
    up_to_date: list[str]
    missing: list[str]
    not_on_roster: list[str]


def default_workers() -> int:
    """The cores this process may use (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def plan_cohort(options: CohortOptions, gradebook: Gradebook) -> Plan:
    """Sync the roster into the gradebook and decide what needs grading (see module doc)."""
    learners = load_roster(options.roster)
    gradebook.sync_roster(learners, options.actor)
    found = discover(options.submissions)
    lab_dir = options.course_root / "labs" / options.lab
    checks = checks_digest(lab_dir, options.mode)
    done = gradebook.graded_keys(options.lab)
    roster_ids = {learner.id for learner in learners}
    jobs: list[GradeJob] = []
    up_to_date: list[str] = []
    missing: list[str] = []
    for learner in learners:
        submission = found.get(learner.id)
        if submission is None:
            missing.append(learner.id)
            continue
        prepared = prepare(submission, options.lab, options.cache)
        if (learner.id, prepared.digest, checks) in done:
            up_to_date.append(learner.id)
            continue
        jobs.append(
            GradeJob(
                learner_id=learner.id,
                lab=options.lab,
                course_root=str(options.course_root),
                project=str(prepared.project),
                submission_digest=prepared.digest,
                checks_digest=checks,
                source=prepared.source,
                database=options.database,
                timeout=options.timeout,
                problem=prepared.problem,
                mode=options.mode,
            )
        )
    return Plan(jobs, up_to_date, missing, sorted(set(found) - roster_ids))


def record(gradebook: Gradebook, job: GradeJob, result: dict[str, Any], actor: str) -> bool:
    """Store one job's result under its identity; True if it was new.

    The digest the grader measured while staging wins over the planned one when both exist: if
    the folder changed between planning and grading, the result describes what was graded.
    """
    digest = result["submission"]["digest"] or job.submission_digest
    return gradebook.record_result(
        learner_id=job.learner_id,
        result=result,
        submission_digest=digest,
        checks_digest=job.checks_digest,
        source=job.source,
        actor=actor,
    )


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
    )


def grade_cohort(
    options: CohortOptions,
    gradebook: Gradebook,
    console: Console,
    on_result: Callable[[GradeJob, dict[str, Any]], None] | None = None,
) -> CohortReport:
    """Grade every submission of ``options.lab`` not yet in ``gradebook`` (see module doc)."""
    plan = plan_cohort(options, gradebook)
    report = CohortReport(
        roster=len(plan.jobs) + len(plan.up_to_date) + len(plan.missing),
        up_to_date=len(plan.up_to_date),
        missing=plan.missing,
        not_on_roster=plan.not_on_roster,
    )
    if not plan.jobs:
        return report
    workers = min(options.workers or default_workers(), len(plan.jobs))
    # spawn: each worker starts clean (no copy of our database connections, no rich threads).
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=worker_init)
    finished = False
    with _progress(console, options.progress) as progress:
        task = progress.add_task(f"{options.lab}: grading", total=len(plan.jobs))
        futures: dict[Future[tuple[dict[str, Any], dict[str, Any], float]], GradeJob] = {
            pool.submit(run_job, job.to_dict()): job for job in plan.jobs
        }
        try:
            for future in as_completed(futures):
                job = futures[future]
                _, result, seconds = future.result()
                if record(gradebook, job, result, options.actor):
                    report.graded += 1
                if result["status"] != "graded":
                    report.errors += 1
                score = result["score"]
                progress.console.print(  # the id is an upload's file name: literal text only
                    for_rich(
                        f"{job.learner_id}: {result['status']} {score['points']}/"
                        f"{score['max_points']} ({seconds:.1f} s)"
                    ),
                    highlight=False,
                )
                if on_result is not None:
                    on_result(job, result)
                progress.advance(task)
            finished = True
        except BrokenProcessPool:
            raise GraderError(
                f"A grading worker died ({report.graded} result(s) of this run are saved). Run "
                "the same command again to grade the rest."
            ) from None
        finally:
            # On an error or Ctrl-C, queued jobs never start and we do not wait for running ones
            # (they end with the interrupt, unrecorded); the next run grades them.
            pool.shutdown(wait=finished, cancel_futures=not finished)
    return report
