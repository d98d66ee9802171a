"""One job in a sandbox of its own, run to completion: the learner-tests gate and notebook labs.

Where the checks' sandbox serves the project for the trusted process to question
(:mod:`grader.executors.official.runner`), these jobs run one command in a fresh sandbox (the
job's uid, the limits, no network, the grader's package read-only at ``/grader/lib``) and leave
their report in a folder only that sandbox may write, which the host then reads as hostile input
(:func:`copy_regular`). The sandbox's log is never shown to learners.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.executors.official.postgres import limits_for
from grader.executors.official.sandbox import (
    Limits,
    SandboxSpec,
    bwrap_argv,
    job_slot,
    limit_sandbox,
    runtime_paths,
    write_etc,
)

JOB_MOUNT = "/grader/job"
OUT_MOUNT = "/grader/out"
LIBRARY_MOUNT = "/grader/lib/grader"


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


@dataclass(frozen=True)
class Ended:
    """How a one-shot job ended: its exit code (None when it never ran) and whether it timed out."""

    returncode: int | None
    timed_out: bool
    seconds: float


def run_job(
    *,
    project: Path,
    work: Path,
    command: Sequence[str],
    env: Mapping[str, str],
    binds: Sequence[tuple[str, str, bool]],
    limit: float,
    bindir: str | None = None,
) -> Ended:
    """Run the agent's ``command`` in a new sandbox over ``project`` (read-only), with ``binds``
    (see :func:`~grader.executors.official.sandbox.bwrap_argv`); ``work/out`` is the one folder
    the sandbox may write, bound at :data:`OUT_MOUNT`. Waits at most ``limit`` seconds, then
    kills the sandbox (its pid namespace, and every process in it, goes too). ``bindir``: room
    for a PostgreSQL server of the sandbox's own."""
    out_dir = work / "out"
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + limit
    returncode: int | None = None
    timed_out = False
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
                limits=limits_for(bindir, Limits(cpu_seconds=int(limit) + 10)),
            )
            argv = bwrap_argv(
                spec,
                command,
                env,
                binds=(
                    (str(grader_package()), LIBRARY_MOUNT, False),
                    *binds,
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
                    proc.kill()
                    proc.wait()
    except TimeoutError:  # no job slot came free before the deadline
        timed_out = True
    return Ended(returncode, timed_out, time.monotonic() - started)


def readable_job_folder(folder: Path) -> None:
    """Let the sandbox's unprivileged uid read a job folder the host wrote."""
    for dirpath, _, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
