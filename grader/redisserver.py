"""A throwaway Redis server, for the criteria that need a broker and a cache (lab09 on).

Those criteria are decided against a real Redis, never a fake. Where ``redis-server`` is
installed (Debian's ``redis-server`` package) the grader starts one of its own for one grading,
as :mod:`grader.pgcluster` does for PostgreSQL; else it uses the server ``GRADER_REDIS_URL``
names (a Redis database the grader may empty: it does, between checks); where neither exists,
those criteria are reported ``not_run`` with how to fix that (:func:`unavailable_reason`), never
passed or failed.

A throwaway server listens on 127.0.0.1 at a free port, keeps nothing on disk (no RDB
snapshots, no AOF), runs in a temporary folder that is deleted with it, and is owned by the
process that started it: :meth:`RedisServer.stop` ends it, :meth:`RedisServer.start` starts it
again on the same port (so URLs handed out stay valid), which is how a check takes Redis away
for a moment. Everything here is standard library only: the readiness probe speaks the few
bytes of RESP it needs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

START_TIMEOUT = 10.0  # seconds for the server to answer PING
URL_VARIABLE = "GRADER_REDIS_URL"


class RedisUnavailable(Exception):
    """No Redis could be had here; ``str`` says why, for a learner-facing detail."""


def find_server() -> str | None:
    """The path of ``redis-server`` on PATH (or Debian's /usr/bin), None when not installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


def unavailable_reason() -> str | None:
    """Why no Redis can be had here (None when one can): the learner-facing "how to fix"."""
    if find_server() or os.environ.get(URL_VARIABLE):
        return None
    return (
        "Not gradable here: it needs Redis, and redis-server is not installed and "
        f"{URL_VARIABLE} is not set. Install Redis (`apt-get install redis-server`; the grader "
        f"then starts a throwaway server of its own) or set {URL_VARIABLE}=redis://HOST:6379/0 "
        "to a Redis database the grader may empty, and grade again."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Redis server at host:port answers PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One throwaway ``redis-server`` process (see the module docstring)."""

    def __init__(self, program: str, folder: Path) -> None:
        self.program = program
        self.folder = folder
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server: on a free port the first time, on the same port after a stop.

        Raises RedisUnavailable when it does not answer PING within START_TIMEOUT (the port
        taken meanwhile by someone else, say); the message ends with the server's last words.
        """
        attempts = 3 if self.port == 0 else 1
        why = ""
        for _ in range(attempts):
            port = self.port or _free_port()
            log = self.folder / "redis.log"
            self._process = subprocess.Popen(
                [self.program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(log),
                 "--databases", "4", "--protected-mode", "yes", "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                cwd=self.folder,
            )  # fmt: skip
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self._process.poll() is None:
                if ping("127.0.0.1", port, timeout=0.2):
                    self.port = port
                    return
                time.sleep(0.01)
            self.stop()
            with suppress(OSError):
                why = " ".join(log.read_text(errors="replace").strip().splitlines()[-2:])
        raise RedisUnavailable(f"redis-server did not start: {why or 'no answer to PING'}")

    def stop(self) -> None:
        """End the server at once (SIGKILL: an outage, not a shutdown) and reap it."""
        if self._process is None:
            return
        with suppress(ProcessLookupError):
            self._process.kill()
        with suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        self._process = None


@contextmanager
def throwaway_redis() -> Iterator[RedisServer]:
    """Start a private Redis server; yield it; stop it and delete its folder.

    Raises RedisUnavailable (before yielding) when ``redis-server`` is missing or does not
    start. The server is stopped however the block ends.
    """
    program = find_server()
    if program is None:
        raise RedisUnavailable("redis-server is not installed here")
    folder = Path(tempfile.mkdtemp(prefix="grader-redis-"))
    server = RedisServer(program, folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
