"""Run a rubric's checks against a staged submission in a separate, hardened process.

The child (:mod:`grader.executors.harness`) is started with:

- ``python -I -B``: no PYTHONPATH, no user site-packages, no current directory on ``sys.path``,
  so a ``sitecustomize.py``/``usercustomize.py`` or ``.pth`` file in the submission never runs;
- a scrubbed environment built from scratch (no ``PYTEST_ADDOPTS``, no ``PYTEST_PLUGINS``,
  ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), ``HOME`` and ``TMPDIR`` inside the grader's folder;
- pytest configured only by the grader (see :mod:`grader.executors.harness.__main__`): the
  submission's
  ``conftest.py``, ``pytest.ini``, ``pyproject.toml`` and ``setup.cfg`` are never read, and the
  checks come from the course's ``labs/<lab>/hidden/``, never from the submission;
- its own session and, on POSIX, limits on file size and open files;
- a wall-clock timeout after which the whole process tree is killed. The grader registers as
  a child subreaper (Linux), so even a grandchild that called ``setsid()`` and lost its parent
  is re-parented to us and found and killed.

This is the *local* isolation mode: it keeps a learner's own mistakes (and their project's test
configuration) from skewing their grade. It is not a security boundary against a hostile
submission; official grading runs the same checks inside a sandbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

if os.name == "posix":
    import resource as _resource

from grader.executors.base import CheckRun, RubricExecutor, RunRequest
from grader.report import Job, parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

LOG_LIMIT_BYTES = 64 * 1024 * 1024
JOB_MARK = "GRADER_JOB"  # in every local child's environment: which job its processes belong to
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class CheckSet:
    """Checks to run instead of the rubric's hidden ones: the learners' edition's public tests.

    ``folder`` already lies inside the staged copy (public tests locate the project from their
    own path, so they must sit where the starter has them) and is used in place. ``node_ids``
    name the test files to run. ``conftest`` lets the folder's own ``conftest.py`` load (the
    public tests' fixtures live there); conftest files above the folder are still never read.
    """

    folder: Path
    node_ids: tuple[str, ...]
    conftest: bool = True
    # The learner's own tests (grader.executors.gates): built from migrations as their own pytest
    # does, without the grader's fixtures, measured by coverage.py over `coverage` (folders).
    learner: bool = False
    coverage: tuple[Path, ...] = ()
    coverage_omit: tuple[str, ...] = ()


def _become_subreaper() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _limit_child() -> None:  # runs in the child between fork and exec
    # Only C-level calls on a module imported at the top: the pipeline starts children from two
    # threads at once (checks and gates), and a child forked from a threaded process must not
    # take a lock (an import, say) that another thread held at the moment of the fork.
    _resource.setrlimit(_resource.RLIMIT_FSIZE, (LOG_LIMIT_BYTES, LOG_LIMIT_BYTES))
    _resource.setrlimit(_resource.RLIMIT_NOFILE, (1024, 1024))


def _marked(process: psutil.Process, mark: str) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.environ().get(JOB_MARK) == mark
    return False


def kill_tree(proc: subprocess.Popen[bytes], mark: str | None = None) -> None:
    """Kill ``proc``, its process group and every descendant, including re-parented ones.

    Orphans re-parented to this process (it is a subreaper) are all killed when ``mark`` is None;
    with a ``mark``, only those whose environment carries it (``JOB_MARK``, inherited from the
    child it was given to), so that a stage running at the same time keeps its processes.
    """
    victims: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        victims = psutil.Process(proc.pid).children(recursive=True)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, 9)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    # Orphans re-parented to us (subreaper) are our children now, whatever session they made.
    known = {victim.pid for victim in victims}
    with contextlib.suppress(psutil.Error):
        for orphan in psutil.Process().children(recursive=True):
            if orphan.pid not in known and (mark is None or _marked(orphan, mark)):
                victims.append(orphan)
    for victim in victims:
        with contextlib.suppress(psutil.Error):
            victim.kill()
    proc.wait()
    for victim in victims:
        with contextlib.suppress(psutil.Error, ChildProcessError):
            victim.wait(timeout=0.5)  # reap zombies that are now our children


def database_url_for(database: str, job_id: str) -> str:
    """The DATABASE_URL the child gets. ``sqlite`` (default) needs nothing installed; a
    ``postgres://`` URL gets a database name unique to this job so concurrent gradings never
    share a test database (pytest-django creates ``test_<name>`` and drops it afterwards)."""
    if database in ("", "sqlite"):
        return "sqlite:///:memory:"
    parts = urlsplit(database)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        return database
    return urlunsplit(parts._replace(path=f"/grader_{job_id}"))


def child_environment(work: Path, rubric: Rubric, database_url: str) -> dict[str, str]:
    """The complete environment of the child: built from nothing, so nothing leaks in."""
    home = work / "home"
    tmp = work / "tmp"
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "DJANGO_SETTINGS_MODULE": rubric.settings_module,
        "DATABASE_URL": database_url,
    }


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_checks(
    *,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    database: str = "sqlite",
    timeout: float | None = None,
    checks: CheckSet | None = None,
) -> CheckRun:
    """Run ``rubric``'s hidden checks (or ``checks``) against ``staged`` inside ``work``."""
    _become_subreaper()
    if checks is None:
        checks_dir = work / "checks"
        shutil.copytree(
            rubric.hidden_dir, checks_dir, ignore=shutil.ignore_patterns("__pycache__", "*.toml")
        )
    else:
        checks_dir = checks.folder
    ini = work / "grader-pytest.ini"
    ini.write_text("[pytest]\npython_files = test_*.py\nconsider_namespace_packages = false\n")
    job_id = secrets.token_hex(4)
    job = Job(
        submission=str(staged.path),
        checks_dir=str(checks_dir),
        ini_file=str(ini),
        report_file=str(work / "report.json"),
        settings_module=rubric.settings_module,
        node_ids=list(rubric.check_ids) if checks is None else list(checks.node_ids),
        migrations=rubric.migrations or (checks is not None and checks.learner),
        conftest=checks is not None and checks.conftest,
        grader_fixtures=checks is None or not checks.learner,
        coverage_source=[str(p) for p in checks.coverage] if checks else [],
        coverage_omit=list(checks.coverage_omit) if checks else [],
        coverage_report=str(work / "coverage.json") if checks and checks.coverage else None,
        # The hidden checks of a lab that needs Redis get one; the learner's own tests and the
        # public ones run on the test settings' in-memory stand-ins instead.
        services=["redis"] if checks is None and rubric.needs_redis else [],
        redis_url=os.environ.get("GRADER_REDIS_URL") or None,
    )
    job_file = work / "job.json"
    job.write(job_file)
    log_file = work / "checks.log"
    env = child_environment(work, rubric, database_url_for(database, job_id))
    env[JOB_MARK] = job_id
    limit = timeout if timeout is not None else rubric.timeout_seconds
    started = time.monotonic()
    with log_file.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", "grader.executors.harness", str(job_file)],
            cwd=staged.path,
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
            kill_tree(proc, job_id)  # also ends what the checks left running behind
    return CheckRun(
        report=None if timed_out else parse_report(Path(job.report_file)),
        timed_out=timed_out,
        returncode=proc.returncode,
        seconds=time.monotonic() - started,
        log_tail=_tail(log_file),
    )


class LocalExecutor(RubricExecutor):
    """Local mode: the rubric's hidden checks in one hardened child process (:func:`run_checks`).

    Its children are this process's own, each marked with its job's id, so the quality gates
    can run beside the checks without either stage's clean-up touching the other's processes.
    """

    kind = "local"
    runs_gates = True
    gates_beside_checks = True

    def run(self, request: RunRequest) -> CheckRun:
        return run_checks(
            rubric=request.rubric,
            staged=request.staged,
            work=request.work,
            database=request.database,
            timeout=request.timeout,
        )
