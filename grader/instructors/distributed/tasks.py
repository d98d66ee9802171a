"""The Celery task: grade one :class:`~grader.instructors.cohort.jobs.GradeJob` on a worker.

The task body, :func:`grade_on_worker`, is :func:`grader.instructors.cohort.jobs.grade_job` (the
very function the local pool runs) plus two checks that only matter on another machine. It takes
the job as plain data and returns plain data (JSON through Redis):
``{"result": <result document>, "seconds": <float>, "worker": <host name>}``.

It raises :class:`WorkerSetupError`, and grades nothing, when this worker cannot grade the job
as planned: it cannot see the submission or the course at the paths the job names (no shared
filesystem, or mounted elsewhere), or its copy of the lab's rubric and hidden checks differs
from the dispatcher's. Recording a result from such a worker would blame the learner (an
``error`` for a folder that exists) or file the result under checks it was not graded with.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from celery.signals import worker_process_init

from grader.instructors.cohort.jobs import GradeJob, checks_digest, grade_job
from grader.instructors.distributed.app import app

TASK_NAME = "grader.instructors.distributed.grade"
_PR_SET_PDEATHSIG = 1


class WorkerSetupError(Exception):
    """This worker cannot grade the job as planned (see module doc). Never the learner's fault;
    the dispatcher reports it and records nothing."""


def check_worker_can_grade(job: GradeJob) -> None:
    """Raise :class:`WorkerSetupError` unless this machine can grade ``job`` as planned."""
    host = socket.gethostname()
    lab_dir = Path(job.course_root) / "labs" / job.lab
    if not (lab_dir / "rubric.toml").is_file():
        raise WorkerSetupError(
            f"worker {host} cannot see the course at {job.course_root} (no labs/{job.lab}/"
            "rubric.toml): mount the instructors' course repository at the same path on every "
            "worker."
        )
    if checks_digest(lab_dir, job.mode) != job.checks_digest:
        raise WorkerSetupError(
            f"worker {host} has other checks for {job.lab} than the dispatcher (its rubric.toml "
            "or hidden/ differ): update the worker's copy of the course."
        )
    if job.problem is None and not Path(job.project).is_dir():
        raise WorkerSetupError(
            f"worker {host} cannot see the submission at {job.project}: submissions reach "
            "workers by path, so share the submissions and cache folders at the same path."
        )


def grade_on_worker(job: dict[str, Any]) -> dict[str, Any]:
    """The task body (see module doc)."""
    if threading.current_thread() is not threading.main_thread():
        # The grading makes its process a child subreaper and, on the way out, kills every
        # child the process has: two gradings in one process would kill each other's checks.
        raise WorkerSetupError(
            "grading needs a process of its own: start the worker with --pool=prefork (or solo)"
        )
    grade = GradeJob.from_dict(job)
    check_worker_can_grade(grade)
    started = time.monotonic()
    result = grade_job(grade)
    return {
        "result": result,
        "seconds": time.monotonic() - started,
        "worker": socket.gethostname(),
    }


grade_task = app.task(name=TASK_NAME)(grade_on_worker)


def _die_with_parent(**_: Any) -> None:
    """In each prefork worker process: end with the worker that started it.

    A worker killed with ``kill -9`` cannot stop its pool; its idle processes would linger. The
    kernel sends them SIGTERM instead, which Celery's pool turns into an exit that unwinds a
    grading in progress (whose runner then kills the checks' process tree).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


# weak=False: the receiver is a module-level function, but say so; a weak reference to a
# collected function would silently never run.
worker_process_init.connect(_die_with_parent, weak=False)
