"""The grader's agent inside the sandbox: serve the learner's project, answer narrow requests.

Started by :mod:`grader.executors.official.sandbox` as ``python -I -B /grader/agent.py serve …``
with the sandbox's uid, and runs as a plain script: it imports nothing from the ``grader`` package,
which is not in the sandbox. It is the only grader code that shares a process with the learner's
code, so it decides nothing. It reports observations as JSON, and the trusted process that
judges them (:mod:`grader.executors.official.fixtures`) treats every byte as hostile. It never
receives a hidden check or an expected value: only inputs (a module name, an environment).

``settings-probe MARK MODULE NAMES`` (in a sandbox of its own, started by the trusted side for
each probe; see :mod:`grader.executors.official.probe`) copies the submission, imports ``MODULE`` in
a fresh interpreter whose environment the check chose, and prints the requested setting values (or
the error the import raised) after ``MARK``, as local mode's probe does. No learner code has run
in that sandbox before, so code elsewhere in the project cannot answer for the settings module.

``serve`` does this, in this order:

1. Copy the read-only staged submission (``/grader/source``) into the writable, size-capped
   workspace (``/submission``). Learner code may write its own files, as in local mode, and
   nothing it writes reaches the host.
2. Start Django with the rubric's settings module, as pytest-django does in local mode:
   ``setup_test_environment(debug=False)`` (``testserver`` joins ``ALLOWED_HOSTS``, the e-mail
   backend is in-memory), then build the database. With the rubric's ``migrations = false``
   the tables come from the models (``migrate --run-syncdb`` with migrations disabled, as with
   ``--no-migrations``). Otherwise the project's migrations are applied, and models with no
   migration are refused with the ``makemigrations`` advice.
3. Listen on ``127.0.0.1:PORT``, in a network namespace nothing else shares, then report
   ``{"ready": true}`` (or ``{"fatal": {"stage", "message"}}``) as one JSON line on the status
   channel and close it.
4. Serve forever. Requests go to Django's own WSGI handler, without CSRF enforcement, exactly
   like the in-process test client of local mode. Requests under
   ``/__grader__/<token>/`` are the grader's and never reach Django:

   - ``GET apps``: the installed apps' name, label and path;
   - ``POST outage`` ``{"on": bool}``: make the default database unreachable for every new
     connection (the learner's code then meets a real driver error), or restore it;
   - ``POST caches``: clear every cache in ``settings.CACHES`` and answer how many, so throttle
     counters and cached answers never carry from one check into the next (local mode clears
     them before every check too).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

SOURCE = Path("/grader/source")
WORKSPACE = Path("/submission")
MESSAGE_LIMIT = 300
BODY_LIMIT = 64 * 1024
UNREACHABLE_SQLITE = "/nonexistent-grader-dir/unreachable.sqlite3"

Environ = dict[str, Any]


def describe(exc: BaseException, root: Path = WORKSPACE) -> str:
    """One line: ``Type: message (raised at file, line N)`` with the deepest frame in ``root``."""
    message = (str(exc).strip().splitlines() or [""])[0].strip()
    where = None
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            rel = Path(frame.filename).resolve().relative_to(root)
        except ValueError:
            continue
        where = f"{rel.as_posix()}, line {frame.lineno}"
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if where:
        text += f" (raised at {where})"
    return text[:MESSAGE_LIMIT]


class Channel:
    """The status channel: one JSON line to the grader, then closed."""

    def __init__(self, fd: int) -> None:
        os.set_inheritable(fd, False)  # learner subprocesses must not inherit it
        self.fd = fd
        self.sent = False

    def send(self, document: dict[str, Any]) -> None:
        if self.sent:
            return
        self.sent = True
        data = (json.dumps(document) + "\n").encode()
        try:
            while data:
                data = data[os.write(self.fd, data) :]
            os.close(self.fd)
        except OSError:
            pass


# --- settings probe: run in a fresh sandbox of its own ------------------------


def settings_probe(mark: str, module: str, names_json: str) -> None:
    """``agent.py settings-probe MARK MODULE NAMES``: the probe of the local settings fixture."""
    import importlib

    copy_source()
    os.chdir(WORKSPACE)
    sys.path.insert(0, ".")
    names = json.loads(names_json)
    try:
        mod = importlib.import_module(module)
    except BaseException as exc:  # the point is to report *any* failure to import
        error = {"type": type(exc).__name__, "message": str(exc)[:MESSAGE_LIMIT]}
        print(mark + json.dumps({"error": error}))
        raise SystemExit(0) from None
    values = {n: getattr(mod, n) for n in names if hasattr(mod, n)}
    print(mark + json.dumps({"values": values}, default=str))


# --- the database ------------------------------------------------------------


class DisableMigrations(dict[str, Any]):
    """``MIGRATION_MODULES`` that says "no migrations" for every app (pytest-django's trick)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def missing_migrations() -> list[str]:
    """``app: Model`` for every model change that no migration records (makemigrations --check)."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    loader = MigrationLoader(None, ignore_no_migrations=True)
    detector = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=None, dry_run=True),
    )
    changes = detector.changes(graph=loader.graph)
    return [
        f"{label}: {operation.describe()}"
        for label, migrations in sorted(changes.items())
        for migration in migrations
        for operation in migration.operations
    ]


def build_database(use_migrations: bool) -> tuple[str, str] | None:
    """Create the tables; ``(stage, message)`` when that fails, None when it worked."""
    from django.conf import settings
    from django.core.management import call_command

    if not use_migrations:
        settings.MIGRATION_MODULES = DisableMigrations()
    else:
        try:
            missing = missing_migrations()
        except BaseException as exc:
            return (
                "settings",
                f"Your migrations could not be loaded: {describe(exc)}. Fix them, then grade "
                "again.",
            )
        if missing:
            shown = "; ".join(missing[:3]) + ("; …" if len(missing) > 3 else "")
            return (
                "settings",
                f"Your models have changes that no migration records ({shown}). Run "
                "`python manage.py makemigrations`, include the new migration files, then grade "
                "again.",
            )
    try:
        call_command("migrate", interactive=False, verbosity=0, run_syncdb=not use_migrations)
    except BaseException as exc:
        return (
            "settings",
            f"Building the database failed: {describe(exc)}. Run `python manage.py migrate` "
            "against a fresh database to see the same error, fix it, then grade again.",
        )
    return None


class Outage:
    """Switches the default database between its real settings and an unreachable one.

    Django builds each thread's connection from the one dict in ``connections.settings``;
    changing that dict in place reaches every connection opened afterwards, and the threaded
    server opens one per request."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] | None = None
        self.lock = threading.Lock()

    def set(self, on: bool) -> bool:
        from django.db import connections

        with self.lock:
            conf = connections.settings["default"]
            if on and self.saved is None:
                self.saved = dict(conf)
                if "sqlite" in str(conf.get("ENGINE", "")):
                    conf["NAME"] = UNREACHABLE_SQLITE
                else:
                    conf.update(HOST="127.0.0.1", PORT="9")  # the discard port: nothing listens
                    conf["OPTIONS"] = {**conf.get("OPTIONS", {}), "connect_timeout": 2}
            elif not on and self.saved is not None:
                conf.clear()
                conf.update(self.saved)
                self.saved = None
            connections.close_all()
            return self.saved is not None


# --- the server --------------------------------------------------------------


def clear_caches() -> int:
    """Clear every configured cache; how many. A cache that cannot be cleared is not counted,
    so the caller, which expects them all, can tell.

    The same rule as :func:`grader.executors.harness.fixtures.clear_caches`, written again on
    purpose: this agent runs inside the sandbox, where the grader's package is not importable.
    """
    from django.conf import settings
    from django.core.cache import caches

    cleared = 0
    for alias in getattr(settings, "CACHES", {}) or {}:
        try:
            caches[alias].clear()
        except Exception:  # whatever the backend raises when it cannot be reached
            continue
        cleared += 1
    return cleared


def _json_response(start_response: Any, status: str, document: dict[str, Any]) -> list[bytes]:
    body = json.dumps(document, default=str).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _read_body(environ: Environ) -> Any:
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), BODY_LIMIT)
        return json.loads(environ["wsgi.input"].read(length) or b"null")
    except ValueError:
        return None


def make_application(token: str) -> Any:
    """The WSGI callable: the grader's requests under ``/__grader__/<token>/``, Django's after."""
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

    class GraderRequest(WSGIRequest):  # type: ignore[misc]  # Django has no stubs here
        # The local mode's test client sets this too: checks judge API behaviour, not CSRF
        # tokens, and a real client without a session has none.
        _dont_enforce_csrf_checks = True

    class GraderHandler(WSGIHandler):  # type: ignore[misc]
        request_class = GraderRequest

    django_app = GraderHandler()
    outage = Outage()
    prefix = f"/__grader__/{token}/"

    def application(environ: Environ, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix):
            return django_app(environ, start_response)
        action = path[len(prefix) :]
        try:
            if action == "apps":
                from django.apps import apps

                found = [
                    {"name": c.name, "label": c.label, "path": str(Path(c.path).resolve())}
                    for c in apps.get_app_configs()
                ]
                return _json_response(start_response, "200 OK", {"apps": found})
            if action == "outage":
                request = _read_body(environ)
                on = isinstance(request, dict) and request.get("on") is True
                return _json_response(start_response, "200 OK", {"outage": outage.set(on)})
            if action == "caches":
                from django.conf import settings

                expected = len(getattr(settings, "CACHES", {}) or {})
                cleared = clear_caches()
                return _json_response(
                    start_response, "200 OK", {"cleared": cleared, "expected": expected}
                )
        except Exception as exc:
            return _json_response(
                start_response, "500 Internal Server Error", {"agent_error": describe(exc)}
            )
        return _json_response(start_response, "404 Not Found", {})

    return application


def copy_source() -> None:
    """Copy the read-only staged copy into the writable workspace (contents only: the workspace
    root is the tmpfs mount point, owned by root, whose mode and times cannot be set)."""
    for dirpath, dirnames, filenames in os.walk(SOURCE):
        target = WORKSPACE / Path(dirpath).relative_to(SOURCE)
        target.mkdir(exist_ok=True)
        for name in filenames:
            shutil.copyfile(Path(dirpath) / name, target / name)
        dirnames.sort()


def serve(args: dict[str, Any], channel: Channel) -> int:
    port = int(args["port"])
    copy_source()
    os.chdir(WORKSPACE)
    sys.path.insert(0, str(WORKSPACE))
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    try:
        import django

        django.setup()
        from django.test.utils import setup_test_environment

        setup_test_environment(debug=False)
    except BaseException as exc:  # any failure of the learner's settings or apps ends here
        where = module.replace(".", "/") + ".py"
        channel.send(
            {
                "fatal": {
                    "stage": "settings",
                    "message": f"Django could not start with {module} ({where}): {describe(exc)}",
                }
            }
        )
        return 3
    problem = build_database(bool(args.get("migrations")))
    if problem:
        channel.send({"fatal": {"stage": problem[0], "message": problem[1]}})
        return 3
    try:
        from django.core.servers.basehttp import run

        application = make_application(str(args["token"]))
        run(
            "127.0.0.1",
            port,
            application,
            threading=True,
            on_bind=lambda _port: channel.send({"ready": True}),
        )
    except BaseException as exc:
        channel.send(
            {
                "fatal": {
                    "stage": "checks",
                    "message": f"The project's server could not start: {describe(exc)}",
                }
            }
        )
        return 3
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["settings-probe"]:
        settings_probe(argv[1], argv[2], argv[3])
        return 0
    if len(argv) != 4 or argv[0] != "serve" or argv[2] != "--status-fd":
        print("usage: agent.py serve JSON --status-fd N", file=sys.stderr)
        return 2
    channel = Channel(int(argv[3]))
    try:
        return serve(json.loads(argv[1]), channel)
    except BaseException as exc:
        traceback.print_exc()
        channel.send(
            {"fatal": {"stage": "checks", "message": f"The server stopped: {describe(exc)}"}}
        )
        raise
    finally:
        # Whatever happened, the grader hears exactly once (a no-op after "ready").
        channel.send({"fatal": {"stage": "checks", "message": "The project's server stopped."}})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
