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
    data = folder / "data"
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
    except subprocess.TimeoutExpired:
        raise ClusterUnavailable(f"PostgreSQL did not start within {START_TIMEOUT} s") from None
    return _serve(bindir, account, folder)


def _serve(bindir: Path, account: pwd.struct_passwd | None, folder: Path) -> str:
    """Start the initialised cluster in ``folder`` on a free port; its URL (ClusterUnavailable)."""
    data, log = folder / "data", folder / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
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


# A warm cluster: kept between a learner's gradings ----------------------------------------------

IDLE_SECONDS = 600.0  # a warm cluster stops after this long without a grading (GRADER_PG_IDLE)
_REAP_EVERY = 5.0  # how often the reaper looks, at most


def warm_folder(course_root: Path) -> Path:
    """Where this user's warm cluster lives: ``<course root>/.grader/postgres-<uid>/``.

    One folder per user id, mode 0700, so a cluster is never shared between users (two users of
    one checkout each get their own); the grader's processes in one checkout share it.
    """
    return course_root / ".grader" / f"postgres-{os.getuid()}"


def _running(bindir: Path, account: pwd.struct_passwd | None, folder: Path) -> bool:
    if not (folder / "data" / "postmaster.pid").exists():
        return False
    done = subprocess.run(
        _command(account, bindir / "pg_ctl", "-D", str(folder / "data"), "status"),
        capture_output=True, timeout=START_TIMEOUT, check=False, cwd=folder,
    )  # fmt: skip
    return done.returncode == 0


def _accepts(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return True
    except OSError:
        return False


def _start_reaper(folder: Path, idle: float) -> None:
    """A detached process that stops the cluster once nobody has used it for ``idle`` seconds."""
    import sys

    # Its own session and no inherited descriptors: it outlives the grading (and must not keep
    # a caller's pipe open); started from the folder that holds this package, so `-m` finds it.
    subprocess.Popen(
        [sys.executable, "-m", "grader.pgcluster", "reap", str(folder), str(idle)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True, cwd=Path(__file__).resolve().parent.parent,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
    )  # fmt: skip


@contextmanager
def warm_cluster(
    course_root: Path, idle: float | None = None, bindir: Path | None = None
) -> Iterator[str]:
    """A PostgreSQL cluster kept warm for this user and checkout; yield its URL.

    Started on demand (``initdb`` once, then ``pg_ctl start``) in :func:`warm_folder`, reused
    by every later grading while it runs, and stopped by a detached reaper once no grading has
    used it for ``idle`` seconds (``GRADER_PG_IDLE``, default :data:`IDLE_SECONDS`). Each grading
    still gets databases of its own (the child names them after its job), so nothing one
    grading writes is seen by the next. A grading holds a shared lock on ``lease`` while it
    uses the cluster; the reaper stops it only when it can take that lock exclusively.
    Raises ClusterUnavailable, like :func:`throwaway_cluster`, when none can be started.
    """
    import fcntl

    bindir = bindir or find_bindir()
    if bindir is None:
        raise ClusterUnavailable(
            "no PostgreSQL server was given and PostgreSQL's programs (initdb, pg_ctl) are not "
            "installed here to start one"
        )
    if idle is None:
        try:
            idle = float(os.environ.get("GRADER_PG_IDLE", IDLE_SECONDS))
        except ValueError:
            idle = IDLE_SECONDS
    account = _run_as()
    folder = warm_folder(course_root)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700 if account is None else 0o755)
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
    url_file, stamp = folder / "url", folder / "last-used"
    with (folder / "lease").open("a+") as lease:
        with (folder / "start.lock").open("a+") as start_lock:
            fcntl.flock(start_lock, fcntl.LOCK_EX)  # one starter at a time
            url = url_file.read_text().strip() if url_file.is_file() else ""
            if not (url and _running(bindir, account, folder) and _accepts(url)):
                _stop(bindir, account, folder)  # a half-dead server from a crash, if any
                if not (folder / "data" / "PG_VERSION").is_file():
                    shutil.rmtree(folder / "data", ignore_errors=True)
                    url = _start(bindir, account, folder)
                else:
                    url = _serve(bindir, account, folder)
                url_file.write_text(url + "\n")
                _start_reaper(folder, idle)
            fcntl.flock(lease, fcntl.LOCK_SH)  # taken before the start lock is let go
            stamp.touch()
        try:
            yield url
        finally:
            stamp.touch()  # the idle time counts from the end of the last grading


def reap(folder: Path, idle: float) -> int:
    """The reaper's loop: stop the warm cluster in ``folder`` after ``idle`` unused seconds.

    Exits as soon as the cluster is no longer running (stopped by hand, or by another reaper).
    """
    import fcntl
    import time

    bindir = find_bindir()
    if bindir is None:
        return 0
    account = _run_as()
    stamp = folder / "last-used"
    while True:
        time.sleep(max(0.5, min(_REAP_EVERY, idle / 4)))
        if not _running(bindir, account, folder):
            return 0
        try:
            unused = time.time() - stamp.stat().st_mtime
        except OSError:
            unused = idle
        if unused < idle:
            continue
        with (folder / "lease").open("a+") as lease, (folder / "start.lock").open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a grading is using it right now
            _stop(bindir, account, folder)
            (folder / "url").unlink(missing_ok=True)
            return 0


# python -m grader.pgcluster reap FOLDER IDLE: the warm cluster's reaper (_start_reaper).
if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "reap":
        raise SystemExit(reap(Path(sys.argv[2]), float(sys.argv[3])))
    raise SystemExit("usage: python -m grader.pgcluster reap FOLDER IDLE_SECONDS")
