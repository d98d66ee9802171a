"""The learner-tests quality gate in official mode: the learner's own tests run in a sandbox.

Local mode runs the learner's ``test_*.py`` files in a hardened child process on the host
(:func:`grader.executors.gates.run_learner_tests`). Official mode runs the very same harness
job inside a fresh bubblewrap sandbox of its own (the job's uid, limits, no network; the
grader's package read-only at ``/grader/lib``, with no hidden check in it), and the host judges
what came back with local mode's judge (:func:`grader.executors.gates.judge_learner_tests`), so
both modes give one verdict for one submission.

What it can and cannot guarantee. The tests are the learner's code, so their pass/fail and the
coverage data come from the learner's process by nature, in both modes: official mode keeps
that process away from the grader (nothing it does reaches the host or the other checks), and
reads its report and coverage JSON as hostile input (regular files only, never a link or a
FIFO, size-capped, parsed defensively). A submission that forges its own report can earn this
one gate, as one that writes tests asserting nothing could; it cannot touch any other verdict.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from grader.executors.base import CheckRun
from grader.executors.official.sandbox import (
    WORKSPACE,
    Limits,
    SandboxSpec,
    bwrap_argv,
    job_slot,
    limit_sandbox,
    runtime_paths,
    write_etc,
)
from grader.report import Job, parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

JOB_MOUNT = "/grader/job"
OUT_MOUNT = "/grader/out"
LIBRARY_MOUNT = "/grader/lib/grader"
MAX_REPORT_BYTES = 4 * 1024 * 1024
MAX_COVERAGE_BYTES = 8 * 1024 * 1024


def grader_package() -> Path:
    """The folder of the ``grader`` package this process runs (mounted read-only)."""
    import grader

    return Path(grader.__file__).resolve().parent


def copy_regular(source: Path, target: Path, limit: int) -> bool:
    """Copy ``source`` to ``target`` if it is a regular file (not a link, FIFO or device) of
    at most ``limit`` bytes; False, copying nothing, otherwise. The sandbox wrote ``source``."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return False
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        return False
    target.write_bytes(data)
    return True


def sandbox_environment(rubric: Rubric) -> dict[str, str]:
    """The gate's environment inside the sandbox: local mode's child environment, with the
    sandbox's own HOME and TMPDIR and an in-memory SQLite database for pytest-django."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "DJANGO_SETTINGS_MODULE": rubric.settings_module,
        "DATABASE_URL": "sqlite:///:memory:",
    }


def run_learner_tests_in_sandbox(
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    files: list[str],
    cover: tuple[str, ...] | list[str],
    omit: tuple[str, ...],
    limit: float,
) -> tuple[CheckRun, Path, Path]:
    """Run the learner's test ``files`` (paths in the project) in a sandbox (see module doc),
    measuring the packages ``cover`` with coverage.py; ``(run, coverage JSON, project root as
    the coverage data names it)``, read by :func:`grader.executors.gates.coverage_files` and judged
    by :func:`grader.executors.gates.judge_learner_tests`.

    Never raises for what the submission does: a run that times out, or writes no report, a
    malformed one or no coverage data, comes back as such (``report`` None, no coverage file),
    and the judge gives local mode's sentence for that case."""
    project = staged.path
    work.mkdir(parents=True, exist_ok=True)
    job_dir, out_dir = work / "job", work / "out"
    job_dir.mkdir(exist_ok=True)
    out_dir.mkdir(mode=0o700, exist_ok=True)
    (job_dir / "grader-pytest.ini").write_text(
        "[pytest]\npython_files = test_*.py\nconsider_namespace_packages = false\n"
    )
    Job(
        submission=WORKSPACE,
        checks_dir=WORKSPACE,
        ini_file=f"{JOB_MOUNT}/grader-pytest.ini",
        report_file=f"{OUT_MOUNT}/report.json",
        settings_module=rubric.settings_module,
        node_ids=files,
        migrations=True,
        conftest=True,  # the learner's tests need their own conftest.py files
        grader_fixtures=False,
        coverage_source=[f"{WORKSPACE}/{package}" for package in cover],
        coverage_omit=list(omit),
        coverage_report=f"{OUT_MOUNT}/coverage.json",
    ).write(job_dir / "job.json")
    for path in (job_dir, *job_dir.iterdir()):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    started = time.monotonic()
    deadline = started + limit
    timed_out = False
    returncode: int | None = None
    try:
        with job_slot(deadline) as uid:
            os.chown(out_dir, uid, uid)
            write_etc(work / "etc", uid)
            spec = SandboxSpec(
                uid=uid,
                source=str(project),
                python=sys.executable,
                runtime=runtime_paths(),
                etc_dir=str(work / "etc"),
                log_file=str(work / "sandbox.log"),
                limits=Limits(cpu_seconds=int(limit) + 10),
            )
            argv = bwrap_argv(
                spec,
                ["learner-tests", f"{JOB_MOUNT}/job.json"],
                sandbox_environment(rubric),
                binds=(
                    (str(grader_package()), LIBRARY_MOUNT, False),
                    (str(job_dir), JOB_MOUNT, False),
                    (str(out_dir), OUT_MOUNT, True),
                ),
            )
            with open(spec.log_file, "ab") as log:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=functools.partial(limit_sandbox, spec.limits),
                )
                try:
                    returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = True
                    proc.kill()  # bwrap: its pid namespace, and every test process, goes too
                    proc.wait()
    except TimeoutError:  # no job slot came free before the deadline
        timed_out = True
    seconds = time.monotonic() - started
    report_copy, coverage_copy = work / "report.json", work / "coverage.json"
    report = None
    if not timed_out and copy_regular(out_dir / "report.json", report_copy, MAX_REPORT_BYTES):
        report = parse_report(report_copy)
    if not copy_regular(out_dir / "coverage.json", coverage_copy, MAX_COVERAGE_BYTES):
        coverage_copy.unlink(missing_ok=True)
    return CheckRun(report, timed_out, returncode, seconds, ""), coverage_copy, Path(WORKSPACE)
