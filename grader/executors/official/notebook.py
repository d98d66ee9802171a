"""Notebook labs in official mode: nbgrader's autograde inside a sandbox of its own.

The same harness local mode runs (:mod:`grader.executors.notebook.harness`: nbgrader's
``generate_assignment``, then ``autograde`` of the learner's notebook in a fresh kernel) runs in a
one-shot sandbox (:mod:`grader.executors.official.oneshot`): the job's uid, the limits, no network,
the project copied into the sandbox's workspace, the course folder (the source notebook and the
learner's) copied into its ``/tmp``, and the report read back on the host as hostile input. On
``--database postgres`` the sandbox starts a PostgreSQL server of its own first, as the checks'
sandbox does (:mod:`grader.executors.official.postgres`).

What it can and cannot guarantee, said in every such result (``integrity.notes``): nbgrader runs
the hidden test cells in the learner's own kernel, after the learner's cells, so their verdicts
come from a process the learner's code ran in. Official mode keeps that process away from the
host, the grader and every other submission, and nothing it does outlives the sandbox; it cannot
stop a notebook written to forge its own results, as it stops a web project from forging an HTTP
answer. The lab's code criteria (the learner's own tests, ruff) are judged as for every lab.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.executors.base import CheckRun, RunRequest
from grader.executors.notebook.runner import (
    NotebookExecutor,
    NotebookRun,
    kernel_environment,
    make_course,
    read_timings,
    write_job,
)
from grader.executors.official.gates import MAX_REPORT_BYTES, sandbox_environment
from grader.executors.official.oneshot import (
    JOB_MOUNT,
    OUT_MOUNT,
    copy_regular,
    readable_job_folder,
    run_job,
)
from grader.executors.official.postgres import sandbox_bindir
from grader.executors.official.sandbox import WORKSPACE
from grader.report import Report, parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

COURSE_MOUNT = "/grader/course"  # read-only; the agent copies it to SANDBOX_COURSE
SANDBOX_COURSE = "/tmp/course"
KERNEL_NOTE = (
    "Official mode ran this notebook in a sandbox (no network, its own user, limits; nothing it "
    "did reached the grader), but nbgrader runs the hidden test cells in the learner's own "
    "kernel, so their verdicts come from a process the learner's code ran in: a notebook written "
    "to forge its results could. Spot-check notebooks whose score surprises you."
)


def run_official_notebook(
    *,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    database: str = "sqlite",
    timeout: float | None = None,
) -> NotebookRun:
    """Autograde the staged notebook in a sandbox; the same :class:`NotebookRun` as local mode."""
    bindir = sandbox_bindir(database)
    limit = float(timeout if timeout is not None else rubric.timeout_seconds)
    course = make_course(rubric, staged, work / "host")
    job_dir = work / "job"
    job_dir.mkdir(parents=True, exist_ok=True)
    write_job(job_dir / "job.json", rubric, SANDBOX_COURSE, f"{OUT_MOUNT}/report.json", limit)
    readable_job_folder(job_dir)
    readable_job_folder(course)
    env = sandbox_environment(rubric)
    env.update(kernel_environment(env["PATH"], WORKSPACE))
    ended = run_job(
        project=staged.path,
        work=work,
        command=["notebook", f"{JOB_MOUNT}/job.json", *([bindir] if bindir else [])],
        env=env,
        binds=((str(job_dir), JOB_MOUNT, False), (str(course), COURSE_MOUNT, False)),
        limit=limit,
        bindir=bindir,
    )
    report = None
    report_copy, timings_copy = work / "report.json", work / "timings.json"
    if not ended.timed_out and copy_regular(
        work / "out" / "report.json", report_copy, MAX_REPORT_BYTES
    ):
        report = parse_report(report_copy)
    timings = {}
    if copy_regular(work / "out" / "timings.json", timings_copy, 64 * 1024):
        timings = read_timings(timings_copy)
    run = CheckRun(report, ended.timed_out, ended.returncode, ended.seconds, "")
    return NotebookRun(run, timings)


class OfficialNotebookExecutor(NotebookExecutor):
    """Official mode for notebook labs: :func:`run_official_notebook`, and the note in every
    result of what it cannot guarantee (see module doc)."""

    kind = "official"

    def run(self, request: RunRequest) -> CheckRun:
        done = run_official_notebook(
            rubric=request.rubric,
            staged=request.staged,
            work=request.work,
            database=request.database,
            timeout=request.timeout,
        )
        return replace(done.run, timings={**done.run.timings, **done.timings})

    def annotate(self, result: dict[str, Any], report: Report) -> None:
        result["integrity"]["notes"] = [KERNEL_NOTE]


__all__ = [
    "KERNEL_NOTE",
    "OfficialNotebookExecutor",
    "run_official_notebook",
]
