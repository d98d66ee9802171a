"""One grading job: the unit of work a process pool (or a Celery worker) runs.

:class:`GradeJob` is plain data (``to_dict``/``from_dict`` round-trip through JSON), so it can cross
a process boundary or a message queue. :func:`grade_job` turns it into a result document and
never touches the gradebook: whoever ran the job records the result (the cohort runner in its
main process; a Celery task would call :meth:`grader.instructors.gradebook.Gradebook.record_result`
the same way). It must run one at a time per process: the local runner makes the grading process a
child subreaper and reaps every orphan it finds, including another grading's.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.errors import UsageError
from grader.pipeline import GradeOptions, grade_submission
from grader.result import Outcome, build_result, utc_now
from grader.rubric import load_rubric
from grader.scoring import unscored


@dataclass(frozen=True)
class GradeJob:
    """Everything needed to grade one submission, by value.

    ``submission_digest`` and ``checks_digest`` are the identity the gradebook stores the result
    under; ``problem`` is set (and nothing is graded) when the submission could not be unpacked.
    """

    learner_id: str
    lab: str
    course_root: str
    project: str
    submission_digest: str
    checks_digest: str
    source: str
    database: str = "sqlite"
    timeout: float | None = None
    problem: str | None = None
    mode: str = "local"  # "official": graded in the sandbox (grader.executors.official)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeJob:
        return cls(**data)


def checks_digest(lab_dir: Path, mode: str = "local") -> str:
    """SHA-256 of what decides a lab's grades: ``rubric.toml`` and every hidden check file,
    with ``+official`` appended for official grading.

    The rubric's own digest covers only rubric.toml; a fixed hidden check changes grades too, so
    the cohort runner regrades when either changes (and only the lab it belongs to). The mode is
    part of it because it decides who can be trusted with the verdict: a submission graded
    locally is graded again when the cohort is graded officially.
    """
    digest = hashlib.sha256()
    files = [lab_dir / "rubric.toml"]
    hidden = lab_dir / "hidden"
    if hidden.is_dir():
        files += sorted(
            p
            for p in hidden.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    for path in files:
        digest.update(path.relative_to(lab_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return "sha256:" + digest.hexdigest() + ("+official" if mode == "official" else "")


def error_result(job: GradeJob, message: str) -> dict[str, Any]:
    """A result document with status ``error`` for a submission that could not be graded."""
    lab_dir = Path(job.course_root) / "labs" / job.lab
    rubric = load_rubric(lab_dir / "rubric.toml")
    return build_result(
        rubric=rubric,
        score=unscored(rubric),
        outcome=Outcome("error", message, "stage"),
        submission=Path(job.project),
        staged=None,
        database=job.database,
        mode=job.mode,
        timings={"total": 0.0},
        started_at=utc_now(),
        reported_checks=0,
    )


def no_submission_result(course_root: Path, lab: str) -> dict[str, Any]:
    """The result document recorded for a learner who submitted nothing, so that an instructor
    can override their grade (work handed in another way, an agreed exemption). Status
    ``error``: no criterion was checked and none scored; the override is what counts."""
    rubric = load_rubric(course_root / "labs" / lab / "rubric.toml")
    return build_result(
        rubric=rubric,
        score=unscored(rubric),
        outcome=Outcome(
            "error",
            "No submission was received for this lab, so nothing was graded; the grade is an "
            "instructor's override.",
            "stage",
        ),
        submission=Path("(no submission)"),
        staged=None,
        database="sqlite",
        mode="local",
        timings={"total": 0.0},
        started_at=utc_now(),
        reported_checks=0,
    )


def grade_job(job: GradeJob) -> dict[str, Any]:
    """Grade ``job``'s submission and return its result document (schema-valid).

    Whatever is wrong with the submission ends as a result with status ``error`` or
    ``timeout``. A broken rubric (:class:`~grader.errors.RubricError`) propagates: every
    submission of the lab would fail the same way, so the caller should stop.
    """
    if job.problem:
        return error_result(job, job.problem)
    lab_dir = Path(job.course_root) / "labs" / job.lab
    options = GradeOptions(database=job.database, timeout=job.timeout, mode=job.mode)
    try:
        return grade_submission(lab_dir, Path(job.project), options)
    except UsageError as exc:  # e.g. the folder vanished between planning and grading
        return error_result(job, str(exc))


_PR_SET_PDEATHSIG = 1
_running = False  # a pool worker is inside run_job


class _Terminated(BaseException):
    """Raised in a pool worker by SIGTERM while it grades (not an Exception: nothing may
    swallow it on the way out)."""


def _terminate(signum: int, _frame: Any) -> None:
    if _running:
        # Unwinds through the runner's `finally`, which kills the checks' process tree.
        raise _Terminated(signum)
    os._exit(128 + signum)  # idle: nothing to clean up, and no exit handler may block us


def worker_init() -> None:
    """Initializer of a local pool's worker process: end with the process that started it.

    A parent killed with ``kill -9`` cannot stop its pool, and an idle pool worker would wait for
    work forever. On Linux the kernel sends the worker SIGTERM when its parent dies; SIGTERM then
    unwinds the grading in progress, whose runner kills the checks' process tree on the way out.
    """
    signal.signal(signal.SIGTERM, _terminate)
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            raise SystemExit(1)
    # Belt and braces: PR_SET_PDEATHSIG follows the parent *thread* that started us and is not
    # on every platform, so a daemon thread also watches for re-parenting and sends the same
    # SIGTERM (a CI run once saw two idle workers outlive a kill -9 of their pool's parent).
    parent_pid = os.getppid()

    def _watch_parent() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()


def run_job(job: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], float]:
    """Process-pool entry point: ``(job, result, seconds)``; plain data in and out.

    Terminated mid-grading (its parent died), the worker exits once the grading's cleanup has
    run; it must not report back, because the pool would treat the exit as a result and carry on.
    """
    global _running
    started = time.monotonic()
    _running = True
    try:
        result = grade_job(GradeJob.from_dict(job))
    except _Terminated as stop:
        os._exit(128 + int(stop.args[0]))
    finally:
        _running = False
    return job, result, time.monotonic() - started
