"""Grader fixtures: the only way rubric checks touch a submission (ARCHITECTURE decision 4).

Rubric checks never import the learner's modules. They use:

``api``
    An HTTP-semantics client (:class:`ApiClient`): ``api.get("/api/health/")`` returns an
    :class:`ApiResponse` with ``status``, ``headers``, ``body`` and ``json()``. In local mode it
    drives Django's test client in this process; official grading swaps in a client that talks
    to the learner's server over real HTTP, so checks written against it run unchanged.
``project``
    Narrow inspection for what HTTP cannot show (:class:`ProjectInspector`): installed apps, and
    a settings module imported *in a fresh process* with an environment the check chooses.
``database_outage``
    Makes the default database unreachable for one check (the learner's code sees a real
    connection error), then restores it.
``queries``
    Counts the SQL queries the submission runs while a check's requests are served
    (:class:`QueryCounter`): ``with queries.count() as counted: api.get(...)``, then
    ``counted.total``. Official grading counts in the sandboxed server's process instead
    (:mod:`grader.executors.official.remote`), with the same contract.

``clock``
    A fake clock for DRF's throttles (:class:`FakeClock`): installed as
    ``rest_framework.throttling.SimpleRateThrottle.timer`` for one check, so a check can use up
    a rate, ``clock.advance(seconds)`` past the window and see requests allowed again, without
    sleeping. Official grading replaces the timer in the sandboxed server's process instead
    (:mod:`grader.executors.official.remote`), with the same contract.

Before every check the configured Django caches are cleared (an autouse fixture): throttle
counters and anything else a submission caches never leak from one check into the next, so a
check that makes twenty anonymous requests cannot use up the rate of the one after it.

``api.authenticate(pk)`` sends the following requests as that user (local mode): DRF views see
them logged in whatever authentication the project uses, as with DRF's ``force_authenticate``.

Every helper returns plain data (str, int, dict, list) so checks compare values, not objects the
submission could have shaped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROBE_TIMEOUT = 30
_PROBE_MARK = "@@GRADER-SETTINGS-PROBE@@"
_PROBE_SCRIPT = r"""
import importlib, json, sys
sys.path.insert(0, ".")
mark, module, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    mod = importlib.import_module(module)
except BaseException as exc:  # the point is to report *any* failure to import
    print(mark + json.dumps({"error": {"type": type(exc).__name__, "message": str(exc)[:300]}}))
    raise SystemExit(0)
values = {n: getattr(mod, n) for n in names if hasattr(mod, n)}
print(mark + json.dumps({"values": values}, default=str))
"""


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP response reduced to data: what a check may assert on."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self) -> Any:
        """The decoded JSON body; a failed check with a learner-facing message otherwise."""
        try:
            return json.loads(self.body)
        except ValueError:
            snippet = self.body[:80].decode("utf-8", "replace")
            raise AssertionError(
                f"{self.request_line} answered {self.status} with a body that is not JSON "
                f"(content type {self.content_type or 'none'}): {snippet!r}"
            ) from None


class ApiClient:
    """Sends requests to the submission and returns :class:`ApiResponse` objects."""

    def __init__(self) -> None:
        from django.test import Client

        # raise_request_exception=False: a crashing view is a 500 the check can judge, exactly
        # as a real HTTP client would see it, instead of an exception escaping into the check.
        self._client = Client(raise_request_exception=False)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body)
            kwargs["content_type"] = "application/json"
        response = getattr(self._client, method.lower())(path, **kwargs)
        return ApiResponse(
            method=method.upper(),
            path=path,
            status=int(response.status_code),
            headers={k.lower(): str(v) for k, v in response.headers.items()},
            body=bytes(response.content) if not response.streaming else b"".join(response),
        )

    def authenticate(self, user: int | None) -> None:
        """Send the next requests as the user whose primary key is ``user`` (None: nobody).

        DRF views then see that user, whatever authentication classes the project sets (lab04's
        sessions, lab05's tokens): the user is forced on each request as DRF's own
        ``APIClient.force_authenticate`` does. A plain Django view sees no one.
        """
        from django.contrib.auth import get_user_model
        from rest_framework.test import ForceAuthClientHandler

        handler = ForceAuthClientHandler(enforce_csrf_checks=False)
        handler._force_user = None if user is None else get_user_model()._base_manager.get(pk=user)
        self._client.handler = handler

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.request("DELETE", path, **kw)


@dataclass(frozen=True)
class SettingsProbe:
    """A settings module imported in a fresh process: its values, or the error it raised."""

    module: str
    values: dict[str, Any]
    error_type: str | None = None
    error_message: str | None = None

    @property
    def imported(self) -> bool:
        return self.error_type is None


class ProjectInspector:
    """Facts about the submission that HTTP cannot show. Returns plain data only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def installed_apps(self) -> list[str]:
        """Python paths of the installed apps (``AppConfig.name``), in settings order."""
        from django.apps import apps

        return [config.name for config in apps.get_app_configs()]

    def app_labels(self) -> list[str]:
        from django.apps import apps

        return [config.label for config in apps.get_app_configs()]

    def expired_access_token(self, user: int) -> str:
        """An access token for ``user`` (a primary key) that expired an hour ago (local mode).

        Made by Simple JWT's own ``AccessToken`` in this process, so it is signed the way the
        project's SIMPLE_JWT settings sign (its SIGNING_KEY, by default SECRET_KEY): the check
        never sees the key, and the token differs from a real one only in its ``exp``. An hour,
        not a second, so a project's ``LEEWAY`` cannot make it valid again. Official grading
        asks the sandboxed server to mint it and checks that it is a JWT an hour expired.
        """
        import datetime

        from django.contrib.auth import get_user_model
        from rest_framework_simplejwt.tokens import AccessToken

        token = AccessToken.for_user(get_user_model()._base_manager.get(pk=user))
        token.set_exp(lifetime=-datetime.timedelta(hours=1))
        return str(token)

    def app_path(self, label: str) -> str | None:
        """Folder of an installed app relative to the submission, or None if it lives elsewhere."""
        from django.apps import apps

        try:
            path = Path(apps.get_app_config(label).path).resolve()
            return path.relative_to(self.root).as_posix()
        except (LookupError, ValueError):
            return None

    def settings_module(
        self, module: str, *, env: Mapping[str, str] | None = None, names: list[str]
    ) -> SettingsProbe:
        """Import ``module`` in a new interpreter whose environment holds only ``env`` (plus
        PATH/HOME/LANG) and return the requested setting ``names`` as JSON-safe values."""
        child_env = {
            k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ
        }
        child_env["PYTHONDONTWRITEBYTECODE"] = "1"
        child_env.update(env or {})
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-I",
                    "-B",
                    "-c",
                    _PROBE_SCRIPT,
                    _PROBE_MARK,
                    module,
                    json.dumps(names),
                ],
                cwd=self.root,
                env=child_env,
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return SettingsProbe(
                module, {}, "Timeout", f"importing {module} took over {PROBE_TIMEOUT}s"
            )
        for line in reversed(done.stdout.splitlines()):
            if line.startswith(_PROBE_MARK):
                data = json.loads(line[len(_PROBE_MARK) :])
                if "error" in data:
                    return SettingsProbe(
                        module, {}, data["error"]["type"], data["error"]["message"]
                    )
                return SettingsProbe(module, dict(data["values"]))
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return SettingsProbe(module, {}, "ProbeFailed", tail[:300])


@dataclass
class QueryCount:
    """The queries counted in one ``with queries.count()`` block: how many, and their SQL."""

    total: int = 0
    sql: list[str] = field(default_factory=list)


class QueryCounter:
    """Counts the queries the default database runs (``django.test.utils`` does the work)."""

    @contextmanager
    def count(self) -> Iterator[QueryCount]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counted = QueryCount()
        with CaptureQueriesContext(connection) as captured:
            yield counted
        counted.sql = [str(query["sql"]) for query in captured.captured_queries]
        counted.total = len(counted.sql)


class FakeClock:
    """A clock a check moves by hand: ``clock()`` is the time now, in seconds since the epoch.

    It starts at the real time (so cache entries the throttles write expire as usual) and moves
    only when told: ``clock.advance(61)``.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (never back: a throttle's history assumes so)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += float(seconds)

    @property
    def now(self) -> float:
        return self._now


def clear_caches() -> int:
    """Clear every cache in ``settings.CACHES``; how many were cleared.

    A no-op (0) when Django is not set up or the project configures no cache. A cache that
    cannot be cleared (a Redis server that is down) is skipped: the checks that depend on it
    then fail on their own terms, with their own message.
    """
    try:
        from django.apps import apps
        from django.conf import settings
    except ImportError:
        return 0
    if not settings.configured or not apps.ready:
        return 0
    from django.core.cache import caches

    cleared = 0
    for alias in getattr(settings, "CACHES", {}) or {}:
        try:
            caches[alias].clear()
        except Exception:  # whatever the backend raises when it cannot be reached
            continue
        cleared += 1
    return cleared


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Every check starts with empty caches (see module docstring)."""
    clear_caches()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock installed as DRF's throttle timer for one check (see module docstring)."""
    import time

    from rest_framework.throttling import SimpleRateThrottle

    fake = FakeClock(time.time())
    # staticmethod: looked up on a throttle instance, the clock must not be bound to it.
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(fake))
    return fake


@pytest.fixture
def queries() -> QueryCounter:
    """Counts the SQL queries the submission runs (see module docstring)."""
    return QueryCounter()


@pytest.fixture
def api() -> ApiClient:
    """HTTP-semantics client for the submission (see module docstring)."""
    return ApiClient()


@pytest.fixture
def project() -> ProjectInspector:
    """Inspection helpers for what HTTP cannot show."""
    return ProjectInspector(Path.cwd().resolve())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def database_outage(django_db_blocker: Any) -> Iterator[None]:
    """Point the ``default`` connection at a database that cannot be reached.

    The real connection object is set aside, not closed: closing SQLite's shared in-memory test
    database would destroy it for every later check. Database access is unblocked so the
    learner's code meets a genuine ``OperationalError`` from the driver, as in production.
    """
    from django.db import connections
    from django.db.utils import load_backend

    original = connections["default"]
    settings = dict(original.settings_dict)
    if original.vendor == "sqlite":
        settings["NAME"] = str(Path("/nonexistent-grader-dir") / "unreachable.sqlite3")
    else:
        settings.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        settings["OPTIONS"] = {**settings.get("OPTIONS", {}), "connect_timeout": 2}
    broken = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, "default")
    with django_db_blocker.unblock():
        connections["default"] = broken
        try:
            yield
        finally:
            connections["default"] = original
            broken.close()
