"""The dispatcher: ``cohort grade --backend celery``, the Celery twin of
:func:`grader.instructors.cohort.run.grade_cohort`.

Same plan, same records, same resumability; only where jobs run differs:

1. **Plan** with :func:`grader.instructors.cohort.run.plan_cohort`: what the gradebook already holds
   (by
   submission digest and checks digest) is skipped.
2. **Check** that the broker answers and that at least one worker consumes the queue: without
   one, the run would wait forever, so it stops at once and says how to start a worker.
3. **Send** each job under a task id derived from the job itself (:func:`task_id`). A result
   still waiting in Redis from an earlier, interrupted dispatcher is collected instead of graded
   again; a job another dispatcher's worker has started is waited for; anything else is sent.
4. **Record** each result with :func:`grader.instructors.cohort.run.record` as it arrives, in
   completion
   order, then delete it from Redis. Only this process writes the gradebook.

Interrupting the dispatcher (Ctrl-C, ``kill -9``) leaves the queued jobs to the workers; the
next run collects what they finished and sends only the rest. Jobs that fail on a worker
(:class:`~grader.instructors.distributed.tasks.WorkerSetupError`, a worker process killed
mid-grading) are recorded nowhere; the run ends with :class:`~grader.errors.GraderError` naming them
once every other result is saved, and running the command again retries exactly those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from grader import __version__
from grader.errors import GraderError, UsageError
from grader.instructors.cohort.jobs import GradeJob
from grader.instructors.cohort.run import (
    CohortOptions,
    CohortReport,
    _progress,
    plan_cohort,
    record,
)
from grader.instructors.gradebook import Gradebook
from grader.safetext import for_rich

WORKER_WAIT = 1.5  # seconds to wait for workers to answer "who consumes this queue?"


@dataclass
class CeleryReport(CohortReport):
    """A :class:`~grader.instructors.cohort.run.CohortReport` plus what only a worker pool has.

    ``collected``: results an earlier, interrupted dispatcher left in Redis, recorded without
    grading again. ``workers``: the workers that consumed the queue when the run started.
    ``failed``: ``(learner_id, why)`` for jobs that failed on a worker (nothing recorded).
    """

    collected: int = 0
    workers: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def task_id(job: GradeJob) -> str:
    """A task id that names the job's content: the same job always gets the same id.

    Everything that could change the result is in it (the learner, submission and checks
    digests, paths, database, time limit, and the grader's version), so a result stored under
    this id is the result of this very job.
    """
    payload = json.dumps({"job": job.to_dict(), "grader": __version__}, sort_keys=True)
    return "grade-" + hashlib.sha256(payload.encode()).hexdigest()[:40]


def consuming_workers(app: Any, queue: str, timeout: float = WORKER_WAIT) -> list[str]:
    """Names of the workers consuming ``queue`` right now (an empty list: none answered).

    UsageError when the broker cannot be reached at all.
    """
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0.2, timeout=5)
    except Exception as exc:  # kombu wraps every transport error differently
        raise UsageError(
            f"Cannot reach the Celery broker at {_shown(app.conf.broker_url)}: {exc}. Start "
            "Redis, or set GRADER_CELERY_BROKER."
        ) from None
    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return sorted(
        name
        for name, queues in replies.items()
        if any(q.get("name") == queue for q in queues or [])
    )


def _shown(url: str) -> str:
    """A broker URL without its password, for messages."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def _failure(meta: dict[str, Any]) -> str:
    """One line saying why a task did not succeed."""
    value = meta.get("result")
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, dict) and "exc_type" in value:
        message = value.get("exc_message")
        text = " ".join(map(str, message)) if isinstance(message, list | tuple) else message
        return f"{value['exc_type']}: {text}"
    return f"{meta.get('status')}: {value!r}"


def grade_cohort_celery(
    options: CohortOptions,
    gradebook: Gradebook,
    console: Console,
    *,
    queue: str | None = None,
    app: Any = None,
    on_result: Callable[[GradeJob, dict[str, Any]], None] | None = None,
) -> CeleryReport:
    """Grade every submission of ``options.lab`` not yet in ``gradebook`` on Celery workers
    consuming ``queue`` (see module doc). ``options.workers`` is not used: each worker's
    ``--concurrency`` decides how many gradings run at once."""
    from celery.result import AsyncResult, ResultSet

    from grader.instructors.distributed.app import app as default_app
    from grader.instructors.distributed.app import default_queue
    from grader.instructors.distributed.tasks import TASK_NAME

    app = app or default_app
    queue = queue or default_queue()
    plan = plan_cohort(options, gradebook)
    report = CeleryReport(
        roster=len(plan.jobs) + len(plan.up_to_date) + len(plan.missing),
        up_to_date=len(plan.up_to_date),
        missing=plan.missing,
        not_on_roster=plan.not_on_roster,
    )
    if not plan.jobs:
        return report
    report.workers = consuming_workers(app, queue)
    if not report.workers:
        raise UsageError(
            f"No Celery worker consumes the queue {queue!r} at {_shown(app.conf.broker_url)}. "
            f"Start one: celery -A grader.instructors.distributed.app worker --pool=prefork "
            f"-Q {queue} (on a machine that sees the course and the submissions at the same paths)."
        )
    jobs: dict[str, GradeJob] = {}
    pending: list[Any] = []
    left_over: set[str] = set()  # finished before this run started: collected, not sent
    for job in plan.jobs:
        tid = task_id(job)
        jobs[tid] = job
        earlier = AsyncResult(tid, app=app)
        state = earlier.state
        if state in ("SUCCESS", "STARTED"):  # left by an interrupted dispatcher
            if state == "SUCCESS":
                left_over.add(tid)
            pending.append(earlier)
            continue
        # By name, through ``app``: the job goes to the broker this run was given, whatever
        # the environment said when the task module was imported.
        pending.append(app.send_task(TASK_NAME, args=[job.to_dict()], task_id=tid, queue=queue))
    with _progress(console, options.progress) as progress:
        task = progress.add_task(
            f"{options.lab}: grading on {len(report.workers)} worker(s)", total=len(pending)
        )
        try:
            for tid, meta in ResultSet(pending, app=app).iter_native():
                job = jobs[tid]
                if meta.get("status") != "SUCCESS":
                    why = _failure(meta)
                    report.failed.append((job.learner_id, why))
                    # The id is an upload's file name and ``why`` quotes a worker's exception.
                    progress.console.print(for_rich(f"{job.learner_id}: not graded ({why})"))
                    AsyncResult(tid, app=app).forget()  # reported; the next run sends it again
                    progress.advance(task)
                    continue
                payload = meta["result"]
                result = payload["result"]
                if record(gradebook, job, result, options.actor):
                    report.graded += 1
                    report.collected += tid in left_over
                if result["status"] != "graded":
                    report.errors += 1
                score = result["score"]
                progress.console.print(
                    for_rich(
                        f"{job.learner_id}: {result['status']} {score['points']}/"
                        f"{score['max_points']} ({payload['seconds']:.1f} s on {payload['worker']})"
                    ),
                    highlight=False,
                )
                AsyncResult(tid, app=app).forget()  # recorded: Redis need not keep it
                if on_result is not None:
                    on_result(job, result)
                progress.advance(task)
        except KeyboardInterrupt:
            progress.console.print(
                "Interrupted: the workers go on with the queued gradings. Run the same command "
                "again to record them (finished ones are collected, not graded again)."
            )
            raise
    if report.failed:
        listed = "; ".join(f"{learner} ({why})" for learner, why in report.failed[:5])
        more = f" and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
        raise GraderError(
            f"{len(report.failed)} grading(s) failed on the workers and were not recorded: "
            f"{listed}{more}. {report.graded} result(s) of this run are saved. Fix the cause "
            "and run the same command again to grade the rest."
        )
    return report
