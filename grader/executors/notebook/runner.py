"""Grade a notebook lab's staged submission: nbgrader in the same hardened child as every lab.

:func:`check_notebook` runs with the other staging checks: the notebook the rubric names must be
in the submission and be a readable notebook, or the submission is refused with a sentence saying
how to restore it. :func:`run_notebook_checks` is the notebook counterpart of
:func:`grader.executors.local.run_checks` and returns the same
:class:`~grader.executors.local.CheckRun`, so the pipeline scores, renders and saves a notebook lab
like any other:

- the course folder nbgrader works in is made inside the grader's temporary folder: the course's
  source notebook (answers, hidden tests) as ``source/<lab>/``, the learner's notebook as
  ``submitted/learner/<lab>/``; nothing else of the course or the learner is in it;
- the child is ``python -I -B -m grader.executors.notebook.harness`` with the environment built from
  scratch
  (:func:`grader.executors.local.child_environment`), plus what the notebook's kernel needs: the
  project's location, ``DJANGO_ALLOW_ASYNC_UNSAFE=true`` and a ``PATH`` that starts with this
  virtual environment's ``bin`` (nbgrader's ``alembic``, the kernel's ``python``);
- the same limits (file size, open files), its own session, the rubric's wall-clock timeout
  (``--timeout``), after which the child, the kernel and anything they started are killed;
- on PostgreSQL the notebook builds ``test_<database>`` itself (its setup cell) and drops it in
  its last cell; if it never got there (timeout, crash) the database is dropped here.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from grader.errors import RubricError, SubmissionError
from grader.executors.base import CheckRun, RubricExecutor, RunRequest
from grader.executors.local import (
    _become_subreaper,
    _limit_child,
    _tail,
    child_environment,
    database_url_for,
    kill_tree,
)
from grader.executors.notebook import PROJECT_ROOT_ENV, STUDENT_ID, course_root_of, source_notebook
from grader.executors.notebook.cells import NotebookError, read_notebook
from grader.executors.notebook.course import tools_path
from grader.report import parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

CELL_TIMEOUT = 60  # seconds one cell may run before nbgrader interrupts it


@dataclass(frozen=True)
class NotebookRun:
    """The child's :class:`CheckRun` and the time nbgrader's steps took (seconds)."""

    run: CheckRun
    timings: dict[str, float] = field(default_factory=dict)


def check_notebook(staged: StagedSubmission, rubric: Rubric) -> None:
    """Refuse a submission without a readable copy of the lab's notebook (SubmissionError)."""
    assert rubric.notebook is not None
    path = staged.path / rubric.notebook
    restore = f"git checkout -- labs/{rubric.lab}/starter/{rubric.notebook}"
    if not path.is_file():
        raise SubmissionError(
            f"{rubric.notebook} is missing from the submission: {rubric.lab} grades the answers "
            f"in that notebook. Put it back where it was (`{restore}` restores the original; "
            "Jupyter may keep your last version in notebooks/.ipynb_checkpoints/).",
            stage="stage",
        )
    try:
        read_notebook(path.read_bytes(), rubric.notebook)
    except NotebookError as exc:
        raise SubmissionError(
            f"{exc}. Open it in Jupyter to see what is wrong, or restore it with `{restore}` "
            "and copy your answers back in.",
            stage="syntax",
        ) from None


def read_timings(path: Path) -> dict[str, float]:
    """nbgrader's step timings the harness wrote, numbers only (the file may be hostile)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1e6
    }


def drop_test_database(database: str, database_url: str) -> None:
    """Drop ``test_<name>`` of ``database_url`` on the PostgreSQL server of ``database``, if it is
    still there (the notebook's last cell drops it; a killed run never gets there)."""
    if not database.startswith(("postgres://", "postgresql://", "pgsql://")):
        return
    name = "test_" + urlsplit(database_url).path.lstrip("/")
    maintenance = urlunsplit(urlsplit(database)._replace(scheme="postgresql"))
    with contextlib.suppress(Exception):
        import psycopg
        from psycopg import sql

        with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def make_course(rubric: Rubric, staged: StagedSubmission, work: Path) -> Path:
    """The folder nbgrader works in, under ``work``: the course's source notebook (answers,
    hidden tests) as ``source/<lab>/``, the learner's as ``submitted/learner/<lab>/``."""
    assert rubric.notebook is not None
    source = source_notebook(course_root_of(rubric), rubric)
    if not source.is_file():
        raise RubricError(
            f"{rubric.lab}'s source notebook {source} is missing: the notebook's checks live there."
        )
    name = Path(rubric.notebook).name
    course = work / "course"
    shutil.rmtree(course, ignore_errors=True)  # a kept work folder (keep_workdir) starts afresh
    (course / "source" / rubric.lab).mkdir(parents=True)
    shutil.copyfile(source, course / "source" / rubric.lab / name)
    submitted = course / "submitted" / STUDENT_ID / rubric.lab
    submitted.mkdir(parents=True)
    shutil.copyfile(staged.path / rubric.notebook, submitted / name)
    return course


def write_job(
    job_file: Path, rubric: Rubric, course: Path | str, report: Path | str, limit: float
) -> None:
    """The harness's job (:mod:`grader.executors.notebook.harness`), paths as the harness sees
    them (on the host, or inside a sandbox)."""
    assert rubric.notebook is not None
    job = {
        "course": str(course),
        "assignment": rubric.lab,
        "notebook": Path(Path(rubric.notebook).name).stem,
        "report_file": str(report),
        "cell_timeout": int(min(CELL_TIMEOUT, max(1, limit))),
    }
    job_file.write_text(json.dumps(job, indent=2), encoding="utf-8")


def kernel_environment(path: str, project: Path | str) -> dict[str, str]:
    """What the notebook's kernel needs beyond the checks' environment (see module doc)."""
    return {
        "PATH": tools_path(path),
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        PROJECT_ROOT_ENV: str(project),
        "JUPYTER_PLATFORM_DIRS": "1",  # no deprecation warning about Jupyter's folders
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # no debugger warning in every kernel
    }


def run_notebook_checks(
    *,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    database: str = "sqlite",
    timeout: float | None = None,
) -> NotebookRun:
    """Autograde the staged notebook against the course's source notebook, in a child process."""
    _become_subreaper()
    job_id = secrets.token_hex(4)
    limit = timeout if timeout is not None else rubric.timeout_seconds
    course = make_course(rubric, staged, work)
    job_file = work / "job.json"
    write_job(job_file, rubric, course, work / "report.json", limit)
    report_file = work / "report.json"
    database_url = database_url_for(database, job_id)
    env = child_environment(work, rubric, database_url)
    env.update(kernel_environment(env["PATH"], staged.path))
    log_file = work / "checks.log"
    started = time.monotonic()
    try:
        with log_file.open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-B",
                    "-m",
                    "grader.executors.notebook.harness",
                    str(job_file),
                ],
                cwd=course,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_limit_child if os.name == "posix" else None,
            )
            timed_out = False
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_tree(proc)  # the kernel, and anything the learner's cells started
    finally:
        drop_test_database(database, database_url)
    run = CheckRun(
        report=None if timed_out else parse_report(report_file),
        timed_out=timed_out,
        returncode=proc.returncode,
        seconds=time.monotonic() - started,
        log_tail=_tail(log_file),
    )
    return NotebookRun(run, read_timings(work / "timings.json"))


class NotebookExecutor(RubricExecutor):
    """Notebook labs: nbgrader's generate and autograde in a hardened child
    (:func:`run_notebook_checks`); the run's timings name nbgrader's steps."""

    kind = "notebook"
    runs_gates = True
    gates_beside_checks = False

    def prepare(self, request: RunRequest) -> None:
        check_notebook(request.staged, request.rubric)

    def run(self, request: RunRequest) -> CheckRun:
        done = run_notebook_checks(
            rubric=request.rubric,
            staged=request.staged,
            work=request.work,
            database=request.database,
            timeout=request.timeout,
        )
        return replace(done.run, timings={**done.run.timings, **done.timings})
