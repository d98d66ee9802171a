"""Run a rubric's checks in official mode: the submission in a sandbox, the verdicts outside.

:func:`run_official_checks` is the official counterpart of :func:`grader.executors.local.run_checks`
and returns the same :class:`~grader.executors.local.CheckRun`, so :mod:`grader.pipeline` scores
both alike. One run, within one wall-clock deadline (the rubric's ``timeout_seconds`` or
``--timeout``):

1. Take a job slot, which gives this job a user id no other job has.
2. Start the sandbox (:mod:`grader.executors.official.sandbox`) with the agent serving the project,
   and
   learn its pid from bwrap's ``--info-fd``.
3. Start the trusted checks process in the sandbox's network namespace
   (``nsenter --net=/proc/PID/ns/net``) at once. It imports pytest and collects the checks
   while the project starts, and waits for the port before its first request.
4. Watch both. The agent's status channel carries exactly one JSON line (``ready`` or
   ``fatal``). A fatal report ends the run with status ``error`` and the agent's sentence. A
   sandbox that dies before it is ready, extra data on the channel, or an over-long line does
   the same. Reaching the deadline ends it with ``timeout``.
5. Kill the sandbox (its whole pid namespace), the trusted process, and anything left running
   under the job's uid.

The trusted process's report is trusted code's output, but it is still parsed defensively, and
``grader.scoring`` still fails closed on any expected check that is missing from it. A report
that is missing, malformed or over its size cap (a submission can inflate it, for example with
megabyte-long answers that the checks quote) ends the run with status ``error`` and
:data:`REPORT_UNREADABLE`, a sentence that quotes nothing. The sandbox and trusted logs, which
can hold a hidden check's source lines and pytest's assertion introspection, go only to the
instructor-side debug log (:func:`grader.incidents.record_incident`), never into the result.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from grader.errors import UsageError
from grader.executors.base import CheckRun, RubricExecutor, RunRequest
from grader.executors.local import JOB_MARK, _tail, kill_tree
from grader.executors.official.job import SERVER_PORT, OfficialJob
from grader.executors.official.postgres import limits_for, sandbox_bindir
from grader.executors.official.sandbox import (
    Limits,
    Sandbox,
    SandboxSpec,
    job_slot,
    require_official,
    runtime_paths,
    start_sandbox,
    write_etc,
)
from grader.incidents import record_incident
from grader.redisserver import find_server
from grader.report import Report, parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

STATUS_LINE_LIMIT = 16 * 1024
MAX_FLAGS = 50
SANDBOX_DATABASE = "sqlite:////tmp/grader-db.sqlite3"
_PR_SET_PDEATHSIG = 1

REPORT_UNREADABLE = (
    "The grader could not read the verdicts of the checks (their report was missing or larger "
    "than its limit), so this submission could not be graded. Very large responses from your "
    "project can cause this: make sure no endpoint answers with megabytes of data, then grade "
    "again. An instructor has the details."
)

TAMPERED = (
    "Your project wrote to the grader's status channel (a file descriptor it did not open), so "
    "it could not be graded. Remove code that writes to inherited file descriptors, then grade "
    "again."
)


@dataclass
class StatusReader:
    """The agent's status channel: one JSON line, ``{"ready": true}`` or ``{"fatal": {...}}``.

    Written by a process that also ran the learner's code, so anything else is tampering: a
    second line, a line over the limit, or a document of any other shape."""

    buffer: bytes = b""
    lines: list[bytes] = field(default_factory=list)
    eof: bool = False
    tampered: bool = False

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            self.eof = True
            return
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        self.lines += complete
        if len(self.lines) > 1 or len(self.buffer) > STATUS_LINE_LIMIT:
            self.tampered = True

    def document(self) -> dict[str, object] | None:
        if not self.lines:
            return None
        try:
            data: object = json.loads(self.lines[0])
        except ValueError:
            self.tampered = True
            return None
        if not isinstance(data, dict) or len(data) != 1:
            self.tampered = True
            return None
        if data == {"ready": True}:
            return {"ready": True}
        fatal = data.get("fatal")
        if (
            isinstance(fatal, dict)
            and set(fatal) == {"stage", "message"}
            and fatal["stage"] in ("settings", "checks")
            and isinstance(fatal["message"], str)
        ):
            return {"fatal": {"stage": fatal["stage"], "message": fatal["message"]}}
        self.tampered = True
        return None


def _die_with_parent() -> None:  # child, between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def sandbox_environment(rubric: Rubric) -> dict[str, str]:
    """The sandbox's whole environment (bwrap starts from ``--clearenv``)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "DJANGO_SETTINGS_MODULE": rubric.settings_module,
        "DATABASE_URL": SANDBOX_DATABASE,
    }


def trusted_environment(work: Path, mark: str = "") -> dict[str, str]:
    """The trusted process's environment: built from nothing, no plugin autoloading. ``mark``
    (``JOB_MARK``) tells this job's processes from those of a stage running beside it."""
    for name in ("home", "tmp"):
        (work / name).mkdir(exist_ok=True)
    return {
        JOB_MARK: mark,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def check_official_request(database: str, self_check: bool) -> None:
    """Refuse, before anything is staged, an official run this machine or course cannot do.

    Raises a one-line :class:`~grader.errors.UsageError` (exit 2): no bubblewrap, not root,
    a PostgreSQL server URL (the sandbox has no network to reach one; ``postgres`` asks for a
    server inside the sandbox, :mod:`grader.executors.official.postgres`) or PostgreSQL's
    programs missing, or no hidden checks.
    """
    require_official()
    sandbox_bindir(database)
    if self_check:
        raise UsageError(
            "Official grading needs the lab's hidden checks, and this copy of the course has none "
            "(the learners' edition); grade without --official to run the public checks."
        )


def sandbox_redis(rubric: Rubric) -> str | None:
    """The ``redis-server`` the agent starts inside the sandbox for a rubric that needs Redis;
    None when it needs none, or when none is installed under ``/usr`` (the only system folder
    the sandbox sees): its criteria are then ``not_run`` with how to fix it, as in local mode."""
    program = find_server() if rubric.needs_redis else None
    if program is None or not os.path.realpath(program).startswith("/usr/"):
        return None
    # The name, not the link's target: Debian's redis-server is a link to redis-check-rdb, one
    # program that picks its part by the name it was started under.
    return os.path.abspath(program)


def _fatal(stage: str, message: str) -> Report:
    return Report(fatal={"stage": stage, "message": message})


def _stopped_early(code: int | None) -> Report:
    return _fatal(
        "checks",
        f"Your project stopped while it was starting (exit code {code}), before it could serve a "
        "single request. Something ends the Python process at import time, for example "
        "sys.exit() or os._exit() in your settings or apps; remove it and grade again.",
    )


@dataclass
class Watch:
    """How the watched run ended."""

    report: Report | None = None  # a fatal report; None when the trusted checks decide
    timed_out: bool = False
    flags: list[str] = field(default_factory=list)


def _watch(server: Sandbox, trusted: subprocess.Popen[bytes], deadline: float) -> Watch:
    status = StatusReader()
    fd = server.status.fileno()
    ready = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Watch(timed_out=True)
        if not status.eof:
            readable, _, _ = select.select([fd], [], [], min(remaining, 0.05))
            if readable:
                status.feed(os.read(fd, 4096))
        else:
            time.sleep(min(remaining, 0.05))
        document = status.document()
        if status.tampered:
            return Watch(report=_fatal("checks", TAMPERED))
        if document is not None and "fatal" in document:
            fatal = cast(dict[str, str], document["fatal"])  # shape checked by document()
            return Watch(report=_fatal(fatal["stage"], fatal["message"][:500]))
        ready = ready or document is not None
        if not ready and server.proc.poll() is not None:
            # The agent may have written its last words just before exiting: read them first.
            with contextlib.suppress(OSError):
                status.feed(os.read(fd, STATUS_LINE_LIMIT))
            document = status.document()
            if document is not None and "fatal" in document and not status.tampered:
                continue
            return Watch(report=_stopped_early(server.proc.returncode))
        # The trusted checks may finish before the agent has reported (a fast rubric, or a
        # submission whose own listener answered in the server's place): its verdict is only
        # accepted once the agent said "ready" or closed the channel, never while a "fatal"
        # may still be on its way.
        if trusted.poll() is not None and (ready or status.eof):
            watch = Watch()
            if status.eof and not ready:
                watch.flags.append(
                    "the sandbox closed the grader's status channel without reporting; "
                    "needs manual review"
                )
            return watch


def _trusted_flags(path: Path) -> tuple[str, ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    flags = data.get("integrity_flags") if isinstance(data, dict) else None
    if not isinstance(flags, list):
        return ()
    return tuple(str(f)[:500] for f in flags[:MAX_FLAGS] if isinstance(f, str))


def _readable(folder: Path) -> None:
    """Let the sandbox's unprivileged uid read the staged copy (staging keeps the learner's
    modes, and a 0600 file would otherwise be invisible to the project)."""
    for dirpath, _, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


def _start_trusted(
    server: Sandbox, job_file: Path, work: Path, log: Path, mark: str
) -> subprocess.Popen[bytes]:
    """The trusted checks process, in the sandbox's network namespace and nowhere else in it."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                shutil.which("nsenter") or "nsenter",
                f"--net={server.netns}",
                "--",
                sys.executable,
                "-I",
                "-B",
                "-m",
                "grader.executors.official.trusted",
                str(job_file),
            ],
            cwd=work,
            env=trusted_environment(work, mark),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _copy_checks(rubric: Rubric, work: Path) -> tuple[Path, Path]:
    """The hidden checks and the grader's pytest ini, in the grader's root-only folder."""
    checks_dir = work / "checks"
    shutil.copytree(
        rubric.hidden_dir, checks_dir, ignore=shutil.ignore_patterns("__pycache__", "*.toml")
    )
    ini = work / "grader-pytest.ini"
    ini.write_text("[pytest]\npython_files = test_*.py\nconsider_namespace_packages = false\n")
    return checks_dir, ini


def run_official_checks(
    *,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    timeout: float | None = None,
    repeat: int = 1,
    database: str = "sqlite",
) -> CheckRun:
    """Grade ``staged`` against ``rubric``'s hidden checks in official mode (see module doc), on
    SQLite or (``database="postgres"``) on a PostgreSQL server inside the sandbox."""
    limit = timeout if timeout is not None else float(rubric.timeout_seconds)
    bindir = sandbox_bindir(database)
    started = time.monotonic()
    deadline = started + limit
    checks_dir, ini = _copy_checks(rubric, work)
    _readable(staged.path)  # again when called on its own, not through OfficialExecutor
    report_file, job_file = work / "report.json", work / "official-job.json"
    sandbox_log, trusted_log = work / "sandbox.log", work / "trusted.log"
    token = secrets.token_hex(8)
    trusted: subprocess.Popen[bytes] | None = None
    watch = Watch(timed_out=True)
    try:
        with job_slot(deadline) as uid:
            write_etc(work / "etc", uid)
            spec = SandboxSpec(
                uid=uid,
                source=str(staged.path),
                python=sys.executable,
                runtime=runtime_paths(),
                etc_dir=str(work / "etc"),
                log_file=str(sandbox_log),
                limits=limits_for(bindir, Limits(cpu_seconds=int(limit) + 10)),
            )
            job = OfficialJob(
                checks_dir=str(checks_dir),
                ini_file=str(ini),
                report_file=str(report_file),
                node_ids=list(rubric.check_ids),
                project_root=str(staged.path),
                token=token,
                deadline=deadline,
                sandbox=spec.to_json(),
                scratch=str(work / "probes"),
                request_timeout=min(10.0, max(2.0, limit / 10)),
                probe_timeout=min(30.0, max(5.0, limit / 4)),
                repeat=max(1, repeat),
            )
            job.write(job_file)
            serve_args = {
                "port": SERVER_PORT, "token": token, "migrations": rubric.migrations,
                "postgres": bindir, "redis": sandbox_redis(rubric),
            }  # fmt: skip
            server = start_sandbox(
                spec,
                ["serve", json.dumps(serve_args)],
                sandbox_environment(rubric),
                timeout=max(1.0, min(20.0, deadline - time.monotonic())),
            )
            try:
                trusted = _start_trusted(server, job_file, work, trusted_log, token)
                watch = _watch(server, trusted, deadline)
            finally:
                server.kill()
                if trusted is not None:
                    # Only this job's orphans: the learner-tests gate's sandbox runs beside it.
                    kill_tree(trusted, mark=token)
    except TimeoutError:  # no job slot came free before the deadline
        watch = Watch(timed_out=True)
    seconds = time.monotonic() - started
    log_tail = _tail(sandbox_log) + _tail(trusted_log)
    returncode = trusted.returncode if trusted is not None else None
    if watch.timed_out or watch.report is not None:
        return CheckRun(watch.report, watch.timed_out, returncode, seconds, log_tail)
    report = parse_report(report_file)
    if report is None:
        try:
            size = f"{report_file.stat().st_size} bytes"
        except OSError:
            size = "missing"
        record_incident(
            f"official-report-{rubric.lab}",
            f"The trusted checks process ended without a readable report (exit code "
            f"{returncode}, report {size}).\n--- sandbox and trusted logs (tail) ---\n{log_tail}",
        )
        return CheckRun(_fatal("checks", REPORT_UNREADABLE), False, returncode, seconds, "")
    flags = tuple(watch.flags) + _trusted_flags(report_file)
    return CheckRun(report, False, returncode, seconds, log_tail, flags)


class OfficialExecutor(RubricExecutor):
    """Official mode: the project in a bubblewrap sandbox, verdicts decided by a trusted process
    (:func:`run_official_checks`). The gates run beside the checks, as in local mode: the
    learner-tests gate in a sandbox of its own, with a job slot (and so a user id) of its own,
    so neither sandbox's limits, processes or clean-up reach the other."""

    kind = "official"
    runs_gates = True
    gates_beside_checks = True

    def prepare(self, request: RunRequest) -> None:
        # Before either stage starts: both sandboxes read the staged copy as their own uid.
        _readable(request.staged.path)

    def run(self, request: RunRequest) -> CheckRun:
        return run_official_checks(
            rubric=request.rubric,
            staged=request.staged,
            work=request.work,
            timeout=request.timeout,
            repeat=request.repeat,
            database=request.database,
        )
