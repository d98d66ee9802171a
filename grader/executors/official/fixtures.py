"""Out-of-process grader fixtures: the same names and shapes as
:mod:`grader.executors.harness.fixtures`.

These run in the trusted checks process (:mod:`grader.executors.official.trusted`), which sits in
the sandbox's network namespace and never imports learner code. The hidden rubric files are the
very ones local mode runs; only the fixtures behind them differ:

``api``
    :class:`HttpApiClient`, a real HTTP client for the learner's server on ``127.0.0.1:8000``.
    It returns the same :class:`~grader.executors.harness.fixtures.ApiResponse` as local mode and
    sends ``Host: testserver`` as Django's test client does. Bodies are capped, every request has a
    timeout, and an unreachable server becomes a failed check with a sentence, never a hang.
``project``
    :class:`OfficialProject`, with the same methods as local mode's ``ProjectInspector``. The
    installed apps come from the agent's control path. A settings module is imported with the
    environment the check chose, in a fresh sandbox of its own
    (:mod:`grader.executors.official.probe`). Every fact arrives as JSON, is type-checked, and is
    judged here. ``root`` is the pristine staged copy on the host, so file checks read files the
    sandbox never had write access to.
``database_outage``
    Asks the agent to point the default database at an unreachable one for the duration of the
    check (the learner's code meets a real driver error, as in local mode). The agent must
    confirm the switch, or the check fails closed for manual review.
``contract``
    schemathesis over this ``api`` (:class:`~grader.executors.harness.contract.ContractRunner`,
    local mode's very runner): the requests are generated and judged here, in the trusted
    process, and sent to the sandboxed server over HTTP, so the verdict rests on what the
    server answered, never on what it reports.
``tasks``, ``outbox``, ``redis_outage``, ``commit_failure`` (and ``transactional_db``)
    lab09's background work: a Celery worker and a Redis server inside the sandbox, driven
    through the agent, the outage checked from here
    (:mod:`grader.executors.official.background`).
``data``, ``models``, ``queries``, ``clock``
    The same contracts as local mode's, each call one request to the agent, each answer
    validated before the check sees it (:mod:`grader.executors.official.remote`, which documents the
    protocol and what is evidence and what is the sandbox's report).
``api.authenticate(pk)`` and ``project.expired_access_token(pk)``
    The agent loads the user once and the requests that follow carry a marker header the agent
    turns into DRF's forced authentication (as local mode's ``force_authenticate``); the token
    is made by Simple JWT in the project's process and must be a JWT whose ``exp``, read here,
    is an hour old.

Before every check the agent puts the database back as it was after it was built (local mode
rolls each check's transaction back) and clears the server's caches (autouse fixtures), so rows
and throttle counters from one check never decide the next. A sandbox that does not confirm
either fails the check closed for manual review.

Fail closed: whatever cannot be decided out of process raises :class:`ManualReviewRequired`. That
covers a fixture this module does not provide (for example one only local mode has), an ``api`` or
``project`` helper that does not exist here, and a control answer that is missing or malformed.
The check is then reported as ``error`` with a "needs manual review" integrity flag, never as a
pass.
"""

from __future__ import annotations

import http.client
import json
import posixpath
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from grader.executors.harness.contract import ContractRunner
from grader.executors.harness.fixtures import ApiResponse, SettingsProbe
from grader.executors.official.background import BackgroundFixtures
from grader.executors.official.job import OfficialJob
from grader.executors.official.observability import ObservabilityFixtures
from grader.executors.official.probe import run_settings_probe
from grader.executors.official.remote import (
    MAX_REPLY_BYTES,
    Malformed,
    ManualReviewRequired,
    RemoteClock,
    RemoteData,
    RemoteModels,
    RemoteQueries,
    clean,
    expired_jwt,
    shown,
)
from grader.executors.official.sandbox import SandboxSpec
from grader.manifest import Manifest, load_manifest

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_FACT_CHARS = 500
MAX_REASON_CHARS = 300
AS_HEADER = "X-Grader-As"  # marks a request for the agent's forced authentication
# The project's folder inside the sandbox (grader.executors.official.sandbox).
WORKSPACE = "/submission"
MANUAL = "needs manual review"


class ServerUnreachable(Exception):
    """The learner's server did not answer; ``str()`` is a learner-facing sentence."""


class SandboxConnection:
    """HTTP/1.1 requests to the sandboxed server, one connection per request, within limits."""

    def __init__(self, port: int, timeout: float, deadline: float) -> None:
        self.port = port
        self.timeout = timeout
        self.deadline = deadline
        self.seen_up = False

    def _wait_until_up(self) -> None:
        """Poll the port until the server listens (it starts while checks are collected)."""
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    self.seen_up = True
                    return
            except OSError:
                if time.monotonic() > self.deadline:
                    raise ServerUnreachable(
                        "your project's server never started listening, so no request could be "
                        "made: run `python manage.py runserver` to see why it does not start"
                    ) from None
                time.sleep(0.05)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
        limit: int = MAX_BODY_BYTES,
    ) -> tuple[int, dict[str, str], bytes]:
        """``(status, lower-cased headers, body)``; raises :class:`ServerUnreachable`, also for
        a body over ``limit`` bytes and when the whole answer takes over ``timeout`` seconds."""
        if not self.seen_up:
            self._wait_until_up()
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers))
            response = conn.getresponse()
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() - started > timeout:
                    raise TimeoutError
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ServerUnreachable(
                        f"{method} {path} answered with a body over {limit // 1024} KiB; "
                        "responses that large are not graded"
                    )
                chunks.append(chunk)
            found: dict[str, str] = {}
            for key, value in response.getheaders():
                key = key.lower()
                found[key] = f"{found[key]}, {value}" if key in found else value
            return int(response.status), found, b"".join(chunks)
        except TimeoutError:
            raise ServerUnreachable(
                f"{method} {path} did not answer within {timeout:.0f} seconds: look for an "
                "endless loop or a call that waits forever"
            ) from None
        except ConnectionError:
            raise ServerUnreachable(
                f"{method} {path}: your project's server stopped answering (it crashed or exited "
                "while handling an earlier request)"
            ) from None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            raise ServerUnreachable(
                f"{method} {path} got a malformed HTTP answer ({type(exc).__name__})"
            ) from None
        finally:
            conn.close()


class HttpApiClient:
    """``api`` out of process: same methods and return type as local mode's ``ApiClient``."""

    def __init__(self, connection: SandboxConnection, control: Control | None = None) -> None:
        self._connection = connection
        self._control = control
        self._as: str | None = None

    def authenticate(self, user: int | None) -> None:
        """Send the next requests as the user whose primary key is ``user`` (None: nobody), as
        local mode's ``ApiClient.authenticate``: DRF views see that user whatever
        authentication the project sets, a plain Django view sees no one. The agent loads the
        user now and must confirm it by its primary key."""
        if self._control is None:
            raise ManualReviewRequired("api.authenticate needs the sandbox's control path")
        if user is not None and (not isinstance(user, int) or isinstance(user, bool)):
            raise TypeError("api.authenticate takes a user's primary key (an int) or None")
        answer = self._control.call("auth", {"user": user})
        if set(answer) == {"assertion"}:
            raise AssertionError(clean(str(answer["assertion"])))
        if answer != {"user": user}:
            raise ManualReviewRequired(
                f"the sandbox answered api.authenticate({user}) with {shown(answer)}"
            )
        self._as = None if user is None else f"{self._control.token}:{user}"

    def __getattr__(self, name: str) -> NoReturn:
        # Helpers local mode's ApiClient may grow (authentication, tokens) that need the
        # learner's code in-process: fail closed until they have an out-of-process version.
        raise ManualReviewRequired(f"api.{name} cannot be provided out of process")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        sent = {"Host": "testserver", "Connection": "close", **dict(headers or {})}
        if self._as is not None:
            sent[AS_HEADER] = self._as
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif method.upper() in ("POST", "PUT", "PATCH"):
            body = b""
        try:
            status, found, data = self._connection.send(
                method.upper(), path, body, sent, self._connection.timeout
            )
        except ServerUnreachable as exc:
            raise AssertionError(str(exc)) from None
        return ApiResponse(
            method=method.upper(), path=path, status=status, headers=found, body=data
        )

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


class Control:
    """The agent's control path. Any failure here is the grader's to flag, not the learner's
    to lose points silently, so it raises :class:`ManualReviewRequired`."""

    def __init__(self, connection: SandboxConnection, token: str, probe_timeout: float) -> None:
        self._connection = connection
        self.token = token
        self._prefix = f"/__grader__/{token}/"
        self._probe_timeout = probe_timeout

    def call(
        self, action: str, payload: Any = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """The agent's JSON answer to one request (see :mod:`grader.executors.official.remote`).

        At most ``MAX_REPLY_BYTES`` within ``timeout`` seconds (default: the probe timeout
        plus five), a JSON object with status 200; anything else raises
        :class:`ManualReviewRequired` with a sentence naming the request."""
        body = None if payload is None else json.dumps(payload).encode()
        method = "GET" if payload is None else "POST"
        headers = {"Connection": "close", "Content-Type": "application/json"}
        wait = self._probe_timeout + 5 if timeout is None else timeout
        try:
            status, _, data = self._connection.send(
                method, self._prefix + action, body, headers, wait, MAX_REPLY_BYTES
            )
        except ServerUnreachable as exc:
            raise ManualReviewRequired(
                f"the sandbox did not answer the grader's {action!r} request: {exc}"
            ) from None
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            document = None
        if status != 200 or not isinstance(document, dict):
            raise ManualReviewRequired(
                f"the sandbox answered the grader's {action!r} request with status {status} and "
                "no valid report (the submission may interfere with the grader's agent)"
            )
        return document


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ManualReviewRequired("the sandbox reported a fact that is not text")
    return value[:MAX_FACT_CHARS]


Prober = Callable[[str, dict[str, str], list[str]], dict[str, Any]]


class OfficialProject:
    """``project`` out of process: facts come from the sandbox as JSON, judgement stays here."""

    def __init__(self, root: Path, control: Control, prober: Prober | None = None) -> None:
        self.root = root
        self._control = control
        self._prober = prober
        self._apps: list[tuple[str, str, str]] | None = None

    def __getattr__(self, name: str) -> NoReturn:
        # Only reached for helpers local mode may have and this class lacks: fail closed.
        raise ManualReviewRequired(
            f"project.{name} cannot be provided out of process; the check was not decided"
        )

    def _app_facts(self) -> list[tuple[str, str, str]]:
        if self._apps is None:
            apps = self._control.call("apps").get("apps")
            if not isinstance(apps, list) or len(apps) > 1000:
                raise ManualReviewRequired("the sandbox reported no valid list of installed apps")
            facts = []
            for app in apps:
                if not isinstance(app, dict):
                    raise ManualReviewRequired("the sandbox reported a malformed installed app")
                facts.append(
                    (_text(app.get("name")), _text(app.get("label")), _text(app.get("path")))
                )
            self._apps = facts
        return self._apps

    def installed_apps(self) -> list[str]:
        return [name for name, _, _ in self._app_facts()]

    def app_labels(self) -> list[str]:
        return [label for _, label, _ in self._app_facts()]

    def app_path(self, label: str) -> str | None:
        """The app's folder relative to the project root, or None if it lives elsewhere.

        The sandbox reports its own path; it is normalised here as text and never followed.
        """
        for _, found, path in self._app_facts():
            if found != label:
                continue
            normal = posixpath.normpath(path)
            if normal == WORKSPACE:
                return "."
            if normal.startswith(WORKSPACE + "/"):
                return normal[len(WORKSPACE) + 1 :]
            return None
        return None

    def manifest(self) -> Manifest:
        """The project's ``capstone.toml``, parsed here from the pristine staged copy (a file
        read, never run), as local mode's helper."""
        return load_manifest(self.root)

    def expired_access_token(self, user: int) -> str:
        """An access token for ``user`` (a primary key) that expired an hour ago, as local mode's
        helper: made by Simple JWT in the project's process with its own settings and key. It
        must be a JWT whose ``exp``, decoded here, is at least half an hour old, or the check
        fails closed; the check then decides on how the server treats it."""
        answer = self._control.call("token", {"user": user})
        if set(answer) == {"assertion"}:
            raise AssertionError(clean(str(answer["assertion"])))
        try:
            if set(answer) != {"token"}:
                raise Malformed(f"it has the keys {shown(sorted(answer))}")
            return expired_jwt(answer["token"])
        except Malformed as exc:
            raise ManualReviewRequired(
                f"the sandbox's expired access token is not one ({exc})"
            ) from None

    def settings_module(
        self, module: str, *, env: Mapping[str, str] | None = None, names: list[str]
    ) -> SettingsProbe:
        """Import ``module`` in a fresh sandbox whose environment holds only ``env`` (plus
        PATH/HOME/LANG/TMPDIR) and return the requested setting ``names`` as JSON values."""
        if self._prober is None:
            raise ManualReviewRequired("settings probes are not available in this run")
        report = self._prober(module, dict(env or {}), list(names))
        if "values" in report and isinstance(report["values"], dict):
            return SettingsProbe(module, dict(report["values"]))
        error = report.get("error")
        if isinstance(error, dict):
            return SettingsProbe(module, {}, _text(error.get("type")), _text(error.get("message")))
        if isinstance(report.get("ended"), int):
            return SettingsProbe(
                module,
                {},
                "ProbeFailed",
                f"importing {module} ended the process (exit code {report['ended']}) before it "
                "could report",
            )
        raise ManualReviewRequired(f"the sandbox's report on {module} is malformed")


class OfficialFixtures:
    """The fixtures, bound to one job. Registered as a pytest plugin object."""

    def __init__(self, job: OfficialJob) -> None:
        self.job = job
        self.connection = SandboxConnection(job.port, job.request_timeout, job.deadline)
        self.control = Control(self.connection, job.token, job.probe_timeout)
        self.spec = SandboxSpec.from_json(job.sandbox) if job.sandbox else None
        # tasks, outbox, redis_outage, commit_failure: a plugin object of their own
        self.background = BackgroundFixtures(self.control, job.probe_timeout + 5, job.deadline)
        # logs, production (lab10): a plugin object of their own too
        self.observability = ObservabilityFixtures(
            self.control, job.probe_timeout + 5, job.deadline
        )

    def probe(self, module: str, env: dict[str, str], names: list[str]) -> dict[str, Any]:
        """One settings probe in a fresh sandbox (:mod:`grader.executors.official.probe`)."""
        if self.spec is None:
            raise ManualReviewRequired("no sandbox is configured for settings probes")
        timeout = min(self.job.probe_timeout, max(1.0, self.job.deadline - time.monotonic()))
        return run_settings_probe(
            self.spec, module, env, names, timeout=timeout, scratch=Path(self.job.scratch)
        )

    @pytest.fixture
    def api(self) -> HttpApiClient:
        """HTTP client for the sandboxed server (see module docstring)."""
        return HttpApiClient(self.connection, self.control)

    @pytest.fixture
    def contract(self, api: HttpApiClient) -> ContractRunner:
        """schemathesis through ``api``, judged in this process (see module docstring)."""
        return ContractRunner(api)

    @pytest.fixture
    def data(self) -> RemoteData:
        """Rows in the server's database, through the agent (:class:`RemoteData`)."""
        return RemoteData(self.control, self._helper_timeout())

    @pytest.fixture
    def models(self) -> RemoteModels:
        """What the project's models declare, through the agent (:class:`RemoteModels`)."""
        return RemoteModels(self.control, self._helper_timeout(70.0))

    @pytest.fixture
    def queries(self) -> RemoteQueries:
        """Counts the SQL the server runs (:class:`RemoteQueries`)."""
        return RemoteQueries(self.control)

    @pytest.fixture
    def clock(self) -> Iterator[RemoteClock]:
        """DRF's throttle timer in the server, moved by hand for one check, then restored."""
        clock = RemoteClock(self.control)
        try:
            yield clock
        finally:
            clock.remove()

    def _helper_timeout(self, wanted: float | None = None) -> float:
        """Seconds a helper may take: its own need (``makemigrations`` starts a process), never
        past the run's deadline."""
        want = self.job.probe_timeout + 5 if wanted is None else max(wanted, self.job.probe_timeout)
        return max(1.0, min(want, self.job.deadline - time.monotonic()))

    @pytest.fixture
    def project(self) -> OfficialProject:
        """Facts about the submission, judged here (see module docstring)."""
        return OfficialProject(Path(self.job.project_root), self.control, self.probe)

    @pytest.fixture
    def database_outage(self) -> Iterator[None]:
        """The default database is unreachable during the check, then restored."""
        if self.control.call("outage", {"on": True}).get("outage") is not True:
            raise ManualReviewRequired("the sandbox did not confirm the database outage")
        try:
            yield
        finally:
            if self.control.call("outage", {"on": False}).get("outage") is not False:
                raise ManualReviewRequired("the sandbox did not restore the database")

    @pytest.fixture(autouse=True)
    def _fresh_database(self) -> None:
        """Each check starts from the database as it was built (see module docstring)."""
        answer = self.control.call("reset", {})
        if answer != {"database": "reset"}:
            raise ManualReviewRequired(
                f"the sandbox could not put the database back before the check ({shown(answer)}): "
                "the project may not use the SQLite file the grader set in DATABASE_URL"
            )

    @pytest.fixture(autouse=True)
    def _fresh_caches(self, _fresh_database: None) -> None:
        """The server's caches are empty when each check starts (see module docstring)."""
        answer = self.control.call("caches", {})
        cleared, expected = answer.get("cleared"), answer.get("expected")
        if not isinstance(cleared, int) or cleared != expected:
            raise ManualReviewRequired(
                f"the sandbox cleared {shown(cleared, 20)} of {shown(expected, 20)} caches "
                "before the check, so counters from earlier checks could decide it"
            )

    def pytest_configure(self, config: pytest.Config) -> None:
        # Rubric files mark checks for pytest-django, which this process never loads: the
        # server's database is put back before every check instead (_fresh_database).
        config.addinivalue_line("markers", "django_db: ignored out of process")
        configure_trusted_django()


TRUSTED_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def configure_trusted_django() -> None:
    """Stock Django settings for this process, which never loads the project's: enough for a
    check to call ``django.contrib.auth.hashers.make_password`` (lab05 stores a known password
    that way). The hasher is the one the course's test settings use
    (``config/settings/test.py``), so the project's server accepts the hash as in local mode."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True, PASSWORD_HASHERS=TRUSTED_PASSWORD_HASHERS)


def manual_review_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means "cannot be decided here", or None for an ordinary failure."""
    if isinstance(exc, ManualReviewRequired):
        return clean(str(exc), MAX_REASON_CHARS)
    from _pytest.fixtures import FixtureLookupError

    if isinstance(exc, FixtureLookupError):
        return (
            f"the check needs the fixture {exc.argname!r}, which official grading cannot provide "
            "out of process"
        )
    return None
