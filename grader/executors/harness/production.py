"""The project run the way production runs it, and its log lines as written: lab10's evidence.

Standalone on purpose (it imports nothing from ``grader``): local mode's fixtures use it in the
checks' process, and official mode's agent loads it by path inside the sandbox
(``/grader/grader_production.py``), so both modes start the same server and capture the same
lines.

:class:`ProductionServer`
    The learner's project under Gunicorn (``python -m gunicorn config.wsgi:application``, which
    reads the project's own ``gunicorn.conf.py``) with ``config.settings.prod`` and the
    variables production sets, on a free loopback port, its output (every line it writes, on
    stdout or stderr) in a file of the server's own folder. ``HOME`` is that folder too, so
    nothing the server writes lands in a shared path (Gunicorn's control socket).
:class:`LogCapture`
    The lines the project's own logging writes in this process while a check runs: each
    console handler (a ``StreamHandler`` configured by the project's LOGGING) writes into a
    buffer instead of its stream, with the project's own formatter, and ``sys.stdout`` and
    ``sys.stderr`` are the buffer too (for loggers that print, as structlog's can).
:func:`http_get`
    One plain HTTP request to a loopback port, as a load balancer or a scraper sends it (with
    ``X-Forwarded-Proto: https``: a TLS-terminating proxy is in front of production).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

START_SECONDS = 40.0  # Gunicorn importing Django and the project, on a loaded machine
REQUEST_SECONDS = 10.0
MAX_BODY_BYTES = 2_000_000
MAX_LINES = 5_000
MAX_LINE_CHARS = 16_000
MAX_LOG_BYTES = 4_000_000
# What the production server is given beyond what the caller names; nothing else of this
# process's environment reaches it except these (the broker and cache URLs the grader's Redis
# answers at, and what a Python process needs to run).
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TMPDIR", "CELERY_BROKER_URL", "LIST_CACHE_URL")


def free_port() -> int:
    """A loopback port nothing listens on now (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = REQUEST_SECONDS
) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` from 127.0.0.1:``port``: the status, the headers (names lower-cased) and at
    most :data:`MAX_BODY_BYTES` of the body. Raises OSError when nothing answers."""
    sent = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https", "Connection": "close"}
    sent.update(headers or {})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=sent)
        response = connection.getresponse()
        body = response.read(MAX_BODY_BYTES)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    except http.client.HTTPException as exc:
        raise OSError(f"the answer was not HTTP: {exc}") from None
    finally:
        connection.close()


def lines_of(text: str) -> list[str]:
    """Non-empty lines, each cut to :data:`MAX_LINE_CHARS`, at most :data:`MAX_LINES`."""
    found = [line[:MAX_LINE_CHARS] for line in text.splitlines() if line.strip()]
    return found[:MAX_LINES]


class ProductionServer:
    """One Gunicorn server of the project in ``root``; its files in ``folder`` (see above)."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self.folder = folder
        self.log_file = folder / "production.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def environment(self, given: dict[str, str]) -> dict[str, str]:
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env.update(
            HOME=str(self.folder),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="config.settings.prod",
            DATABASE_URL=f"sqlite:///{self.folder / 'production.sqlite3'}",
            WEB_CONCURRENCY="1",
        )
        env.update(given)
        env["PORT"] = str(self.port)
        return env

    def start(self, given: dict[str, str]) -> str | None:
        """Start the server and wait until it answers HTTP; None when it does, else a sentence
        saying why it did not (it exited, with its code, or it did not answer in time)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                ],
                cwd=self.root,
                env=self.environment(given),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return (
                    f"`gunicorn config.wsgi:application` with config.settings.prod exited with "
                    f"code {code} before it answered"
                )
            with contextlib.suppress(OSError):
                http_get(self.port, "/health/live", timeout=2.0)
                return None
            time.sleep(0.2)
        return (
            f"`gunicorn config.wsgi:application` with config.settings.prod did not answer HTTP "
            f"within {START_SECONDS:.0f} s"
        )

    def lines(self) -> list[str]:
        """Every line the server wrote so far (stdout and stderr), as written."""
        try:
            with open(self.log_file, "rb") as log:
                data = log.read(MAX_LOG_BYTES)
        except OSError:
            return []
        return lines_of(data.decode("utf-8", "replace"))

    def stop(self) -> None:
        """Stop Gunicorn and its workers (its own session: the whole group)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class _Buffer(io.TextIOBase):
    """A text stream many threads write to at once (the server's threads, the worker's)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            if self._size < MAX_LOG_BYTES:
                self._parts.append(text)
                self._size += len(text)
        return len(text)

    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)


def _console_handlers() -> list[logging.StreamHandler[Any]]:
    """The project's console handlers: every StreamHandler (not a FileHandler) on the root or a
    named logger, except pytest's own capture handlers."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    found: dict[int, logging.StreamHandler[Any]] = {}
    for logger in loggers:
        for handler in list(logger.handlers):
            if not isinstance(handler, logging.StreamHandler) or isinstance(
                handler, logging.FileHandler
            ):
                continue
            if type(handler).__module__.startswith("_pytest"):
                continue
            found[id(handler)] = handler
    return list(found.values())


class LogCapture:
    """See the module docstring. ``start()``, then ``stop()`` returns the lines written."""

    def __init__(self) -> None:
        self._buffer: _Buffer | None = None
        self._swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
        self._streams: tuple[Any, Any] | None = None

    def start(self) -> None:
        self.stop()
        buffer = _Buffer()
        for handler in _console_handlers():
            self._swapped.append((handler, handler.setStream(buffer)))
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = buffer
        self._buffer = buffer

    def stop(self) -> list[str]:
        buffer, self._buffer = self._buffer, None
        if self._streams is not None:
            sys.stdout, sys.stderr = self._streams
            self._streams = None
        for handler, stream in self._swapped:
            with contextlib.suppress(Exception):
                handler.setStream(stream)
        self._swapped = []
        return lines_of(buffer.text()) if buffer is not None else []


CAPTURE = LogCapture()


class HttpAnswer:
    """What one request to the production server answered: status, headers, body."""

    def __init__(self, request_line: str, status: int, headers: dict[str, str], body: bytes):
        self.request_line = request_line
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; an AssertionError naming the request when it is not JSON."""
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(
                f"{self.request_line} answered {self.status} with a body that is not JSON: "
                f"{self.text[:200]!r}"
            ) from None


class Production:
    """The ``production`` fixture's contract in both modes: the running server's port, the
    secret values it was started with, requests to it and the lines it wrote."""

    def __init__(self, port: int, given: dict[str, str], lines: Any) -> None:
        self.port = port
        self.given = dict(given)
        self._lines = lines

    @property
    def metrics_token(self) -> str:
        return self.given["METRICS_TOKEN"]

    def get(self, path: str, headers: dict[str, str] | None = None) -> HttpAnswer:
        """GET ``path`` as the proxy in front of production forwards it (over HTTPS)."""
        line = f"GET {path} (Gunicorn, config.settings.prod)"
        try:
            status, answered, body = http_get(self.port, path, headers)
        except OSError as exc:
            raise AssertionError(f"{line} got no answer: {exc}") from None
        return HttpAnswer(line, status, answered, body)

    def lines(self) -> list[str]:
        """Every line the server wrote so far, as written (stdout and stderr together)."""
        found = self._lines()
        return list(found)


def production_variables() -> dict[str, str]:
    """The variables production sets, with fresh secrets: a strong ``DJANGO_SECRET_KEY`` (as
    ``check --deploy`` wants one), the hosts the server is asked under, a metrics token."""
    import secrets

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }
