"""A throwaway PostgreSQL cluster, for criteria that need PostgreSQL when no server was given.

Some criteria can only be decided by PostgreSQL (lab03's full-text search, for one). A learner
who grades with ``--database auto`` (the command line's default) and gives no server still gets
them graded when PostgreSQL's programs are installed: the grader makes a cluster of its own in a
temporary folder, as pytest-postgresql does, and deletes it afterwards. Where neither a server
nor the programs exist, those criteria are reported ``not_run`` with how to fix that
(:func:`grader.pipeline.not_gradable_here`), never passed or failed on SQLite.

The cluster is private to one grading: ``initdb`` with trust authentication for its own
superuser, listening on 127.0.0.1 at a free port and on a Unix socket inside its folder, with
durability switched off (``fsync=off``: nothing in it must survive). PostgreSQL refuses to run
as root, so under root its programs run as the ``postgres`` system user (or ``nobody``), which
then owns the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUPERUSER = "grader"
START_TIMEOUT = 60  # seconds for initdb and for the server to accept connections


class ClusterUnavailable(Exception):
    """No throwaway cluster could be made here; ``str`` says why, for a learner-facing detail."""


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: from PATH, then ``pg_config --bindir``, then
    Debian's ``/usr/lib/postgresql/<version>/bin`` (newest first); None when there is none."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
        )
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(part) for part in Path(p).parent.name.split(".") if part.isdigit()],
        reverse=True,
    )
    candidates += [Path(p) for p in debian]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run PostgreSQL as when we are root; None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ClusterUnavailable(
        "PostgreSQL refuses to run as root and this machine has neither a 'postgres' nor a "
        "'nobody' account to run it as."
    )


def _command(account: pwd.struct_passwd | None, program: Path, *args: str) -> list[str]:
    if account is None:
        return [str(program), *args]
    return [
        "setpriv",
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--clear-groups",
        "--",
        str(program),
        *args,
    ]


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def _start(bindir: Path, account: pwd.struct_passwd | None, folder: Path) -> str:
    """initdb and start a cluster in ``folder``; its URL. Raises ClusterUnavailable."""
    data, log = folder / "data", folder / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    try:
        done = subprocess.run(
            _command(account, bindir / "initdb", "-D", str(data), "-A", "trust", "-U", SUPERUSER,
                     "-E", "UTF8", "--no-sync"),
            capture_output=True, text=True, env=env, timeout=START_TIMEOUT, check=False,
            cwd=folder,
        )  # fmt: skip
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip()[-300:]
            raise ClusterUnavailable(f"initdb failed: {why}")
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        done = subprocess.run(
            _command(account, bindir / "pg_ctl", "-D", str(data), "-o", options, "-l", str(log),
                     "-w", "-t", str(START_TIMEOUT), "start"),
            capture_output=True, text=True, env=env, timeout=START_TIMEOUT + 10, check=False,
            cwd=folder,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ClusterUnavailable(f"PostgreSQL did not start within {START_TIMEOUT} s") from None
    if done.returncode != 0:
        raise ClusterUnavailable(f"the server did not start: {_tail(log) or done.stderr.strip()}")
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/postgres"


def _stop(bindir: Path, account: pwd.struct_passwd | None, folder: Path) -> None:
    if (folder / "data" / "postmaster.pid").exists():
        subprocess.run(
            _command(account, bindir / "pg_ctl", "-D", str(folder / "data"), "-m", "immediate",
                     "-w", "stop"),
            capture_output=True, timeout=START_TIMEOUT, check=False, cwd=folder,
        )  # fmt: skip


@contextmanager
def throwaway_cluster(bindir: Path | None = None) -> Iterator[str]:
    """Start a private PostgreSQL cluster; yield its ``postgres://`` URL; stop and delete it.

    Raises ClusterUnavailable (before yielding) when PostgreSQL's programs are missing or the
    server does not start; the message says why. The server is stopped and its folder deleted
    however the block ends.
    """
    bindir = bindir or find_bindir()
    if bindir is None:
        raise ClusterUnavailable(
            "no PostgreSQL server was given and PostgreSQL's programs (initdb, pg_ctl) are not "
            "installed here to start a throwaway one"
        )
    account = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    try:
        if account is not None:
            os.chown(folder, account.pw_uid, account.pw_gid)
        url = _start(bindir, account, folder)
        yield url
    finally:
        _stop(bindir, account, folder)
        shutil.rmtree(folder, ignore_errors=True)
