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

``learner-tests JOB`` (in a sandbox of its own, for the learner-tests quality gate; see
:mod:`grader.official.gates`) copies the submission and runs the learner's own tests with the
grader's harness, as local mode's gate does. ``notebook JOB`` (likewise, for a notebook lab; see
:mod:`grader.executors.official.notebook`) runs nbgrader's autograde with the grader's notebook
harness.

``serve`` does this, in this order:

1. Copy the read-only staged submission (``/grader/source``) into the writable, size-capped
   workspace (``/submission``). Learner code may write its own files, as in local mode, and
   nothing it writes reaches the host.
2. When the job asks for PostgreSQL (``"postgres": BINDIR``), start a server of the sandbox's
   own first (:func:`start_postgres`: ``initdb`` into the sandbox's ``/tmp``, listening only on
   the sandbox's loopback) and point ``DATABASE_URL`` at it; otherwise the database is the
   SQLite file ``DATABASE_URL`` names. Then start Django with the rubric's settings module, as
   pytest-django does in local mode:
   ``setup_test_environment(debug=False)`` (``testserver`` joins ``ALLOWED_HOSTS``, the e-mail
   backend is in-memory), then build the database. With the rubric's ``migrations = false``
   the tables come from the models (``migrate --run-syncdb`` with migrations disabled, as with
   ``--no-migrations``). Otherwise the project's migrations are applied as they are, and models
   no migration creates are refused with the ``makemigrations`` advice. When the job asks for
   Redis (``"redis": PROGRAM``, a rubric with ``requires = "redis"``), a throwaway
   ``redis-server`` of the sandbox's own starts before Django reads its settings (database 0
   is ``CELERY_BROKER_URL``, 1 ``LIST_CACHE_URL``, as in local mode).
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
     them before every check too);
   - ``POST reset``: put the database back as it was right after it was built (a copy of the
     SQLite file taken then, or on PostgreSQL a database made from a template taken then), as
     local mode rolls each check's transaction back;
   - ``POST data`` / ``POST models`` ``{"op", "args", "kwargs"}``: run one method of the
     grader's ``DataHelper`` / ``ModelInspector`` (``grader/executors/harness/data.py``, mounted
     read-only at ``/grader/grader_data.py``) in this process, through the ORM;
   - ``POST auth`` ``{"user": pk | null}``: load that user once, so that requests carrying the
     header ``X-Grader-As: <token>:<pk>`` reach DRF force-authenticated as that user, as local
     mode's ``api.authenticate`` does (the header never reaches the project);
   - ``POST token`` ``{"user": pk}``: an access token for that user that expired an hour ago,
     made by Simple JWT with the project's settings;
   - ``POST queries`` ``{"on": bool}``: start counting the SQL the project runs (every
     connection, every thread), or stop and answer ``{"total", "sql"}``;
   - ``POST clock`` ``{"op": "install" | "advance" | "remove", "seconds"}``: replace DRF's
     throttle timer with a clock that moves only when told, move it, or put the real one back;
   - ``POST tasks`` / ``outbox`` / ``redis`` / ``commit`` ``{"op", "args", "kwargs"}``: the
     background-work helpers (:class:`Background`, over ``grader/executors/harness/taskwork.py``
     mounted at ``/grader/grader_taskwork.py``): record a check's Celery messages and runs with
     a worker of the project's app in this process, queue a task by name, read and fail the
     in-memory outbox, stop and restart the sandbox's Redis, make one publish's COMMIT fail.

   Every answer is ``{"value": ...}`` (or a handler's own small document), ``{"assertion":
   message}`` for what local mode reports as a failed check, or ``{"raised": message}`` for an
   exception the project's code raised. None of it is a verdict: the trusted side validates the
   shape of every answer and the hidden check decides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

SOURCE = Path("/grader/source")
WORKSPACE = Path("/submission")
DATA_HELPERS = Path("/grader/grader_data.py")  # grader/executors/harness/data.py, read-only
TASK_HELPERS = Path("/grader/grader_taskwork.py")  # grader/executors/harness/taskwork.py
REDIS_HELPERS = Path("/grader/grader_redis.py")  # grader/redisserver.py
# grader/executors/harness/production.py: Gunicorn under config.settings.prod, log capture
PRODUCTION_HELPERS = Path("/grader/grader_production.py")
# The variables the trusted side may set for the production server (production's own);
# everything else it runs with comes from the helper (the sandbox's Redis, a SQLite file).
PRODUCTION_VARIABLES = frozenset({"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "METRICS_TOKEN"})
MESSAGE_LIMIT = 300
BODY_LIMIT = 64 * 1024
OUTPUT_LIMIT = 16 * 1024  # characters of a management command's output sent back
SQL_LIMIT = 200  # statements (each cut to MESSAGE_LIMIT characters) sent back by ``queries``
AS_HEADER = "HTTP_X_GRADER_AS"
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


# --- a PostgreSQL server of the sandbox's own ----------------------------------------

PG_DATA = Path("/tmp/grader-pg")
PG_PORT = 5432  # on the sandbox's loopback, in a network namespace nothing else shares
PG_USER = "grader"
PG_DATABASE = "grader"
PG_START_TIMEOUT = 60.0
# Settings for a server that lives for one grading: nothing needs to survive a crash, so no
# fsync; no Unix socket (its default folder is not writable here); dynamic shared memory in
# files of the data folder, since the sandbox's /dev/shm belongs to root.
PG_OPTIONS = (
    "listen_addresses=127.0.0.1", f"port={PG_PORT}", "unix_socket_directories=",
    "fsync=off", "synchronous_commit=off", "full_page_writes=off",
    "dynamic_shared_memory_type=mmap", "max_connections=60", "shared_buffers=32MB",
)  # fmt: skip


def pg_url(database: str = PG_DATABASE) -> str:
    return f"postgres://{PG_USER}@127.0.0.1:{PG_PORT}/{database}"


def pg_admin(*statements: str) -> None:
    """Run ``statements`` one by one on the server's ``postgres`` database, outside any
    transaction (CREATE and DROP DATABASE refuse to run inside one)."""
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)


def start_postgres(bindir: str) -> str:
    """``initdb`` and start PostgreSQL in this sandbox; the URL of an empty database on it.

    The server runs with the sandbox's uid, dies with the sandbox's pid namespace, and keeps its
    files in the sandbox's size-capped ``/tmp``. Raises :class:`RuntimeError` with a sentence for
    the grader's log when it cannot start (that is the grader's failure, not the learner's).
    """
    programs = Path(bindir)
    log = Path("/tmp/grader-pg.log")
    with log.open("wb") as out:
        # 1 MB WAL segments: a 16 MB one would meet the sandbox's file-size limit.
        done = subprocess.run(
            [str(programs / "initdb"), "-D", str(PG_DATA), "-A", "trust", "-U", PG_USER,
             "-E", "UTF8", "--locale=C.UTF-8", "--wal-segsize=1", "--no-sync",
             "--no-instructions"],
            stdout=out, stderr=subprocess.STDOUT, timeout=PG_START_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed (exit code {done.returncode}); see {log}")
        args = [str(programs / "postgres"), "-D", str(PG_DATA)]
        for option in PG_OPTIONS:
            args += ["-c", option]
        server = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + PG_START_TIMEOUT
    while True:
        try:
            pg_admin(f'CREATE DATABASE "{PG_DATABASE}"')
            return pg_url()
        except Exception:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the PostgreSQL server did not start; see {log}") from None
            time.sleep(0.05)


# --- the database ------------------------------------------------------------


class DisableMigrations(dict[str, Any]):
    """``MIGRATION_MODULES`` that says "no migrations" for every app (pytest-django's trick)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def missing_migrations() -> list[str]:
    """``app: Create model X`` for every model no migration creates (makemigrations --check).

    Only whole models: without their table nothing can be graded. A change to an existing model
    (a longer field) is left to the rubric's migrations check, as in local mode, where the test
    database is built from the migrations as they are."""
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
    from django.db.migrations.operations import CreateModel

    changes = detector.changes(graph=loader.graph)
    return [
        f"{label}: {operation.describe()}"
        for label, migrations in sorted(changes.items())
        for migration in migrations
        for operation in migration.operations
        if isinstance(operation, CreateModel)
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


class Database:
    """The database as it was right after it was built, put back on request.

    Local mode rolls every check's transaction back; here each check starts from this copy: of
    the SQLite file, or on the sandbox's own PostgreSQL server (``postgres``) a template database
    that ``reset`` makes the database again from (``DROP DATABASE … WITH (FORCE)``, then
    ``CREATE DATABASE … TEMPLATE``). For any other database ``reset`` says it cannot, and the
    trusted side fails the check closed.
    """

    TEMPLATE = "grader_template"

    def __init__(self, postgres: bool = False) -> None:
        self.path: Path | None = None
        self.postgres = postgres
        self.templated = False
        self.lock = threading.Lock()

    def snapshot(self) -> None:
        from django.db import connections

        conf = connections.settings["default"]
        name = str(conf.get("NAME", ""))
        if self.postgres and name == PG_DATABASE:
            connections.close_all()
            pg_admin(f'CREATE DATABASE "{self.TEMPLATE}" TEMPLATE "{PG_DATABASE}"')
            self.templated = True
            return
        if "sqlite" not in str(conf.get("ENGINE", "")) or not name.startswith("/"):
            return
        connections.close_all()
        path = Path(name)
        if path.is_file():
            shutil.copyfile(path, path.with_name(path.name + ".grader-template"))
            self.path = path

    def reset(self) -> bool:
        from django.db import connections

        if self.templated:
            with self.lock:
                connections.close_all()
                pg_admin(
                    f'DROP DATABASE "{PG_DATABASE}" WITH (FORCE)',
                    f'CREATE DATABASE "{PG_DATABASE}" TEMPLATE "{self.TEMPLATE}"',
                )
            return True
        if self.path is None:
            return False
        with self.lock:
            connections.close_all()
            template = self.path.with_name(self.path.name + ".grader-template")
            fresh = self.path.with_name(self.path.name + ".grader-fresh")
            shutil.copyfile(template, fresh)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            os.replace(fresh, self.path)  # connections opened from now on see the copy
        return True


class QueryCounter:
    """Counts every statement the project sends to any database, on any thread, while on.

    Hooked into each connection as Django opens it (``connection_created``), through
    ``execute_wrappers``: the same statements local mode's ``CaptureQueriesContext`` logs.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.on = False
        self.total = 0
        self.sql: list[str] = []

    def __call__(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        if self.on:
            with self.lock:
                self.total += 1
                if len(self.sql) < SQL_LIMIT:
                    self.sql.append(str(sql)[:MESSAGE_LIMIT])
        return execute(sql, params, many, context)

    def install(self) -> None:
        from django.db.backends.signals import connection_created

        def hook(sender: Any, connection: Any, **kwargs: Any) -> None:
            if self not in connection.execute_wrappers:
                connection.execute_wrappers.append(self)

        connection_created.connect(hook, weak=False)

    def switch(self, on: bool) -> dict[str, Any]:
        with self.lock:
            found = {"total": self.total, "sql": list(self.sql)}
            self.on, self.total, self.sql = on, 0, []
        return found


class ThrottleClock:
    """DRF's throttle timer, replaced by a clock that moves only when the grader says so."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: float | None = None
        self.original: Any = None

    def __call__(self) -> float:
        with self.lock:
            import time

            return self.now if self.now is not None else time.time()

    def handle(self, request: Any) -> dict[str, Any]:
        import math
        import time

        from rest_framework.throttling import SimpleRateThrottle

        op = request.get("op") if isinstance(request, dict) else None
        with self.lock:
            if op == "install":
                if self.original is None:
                    self.original = SimpleRateThrottle.__dict__.get("timer")
                self.now = time.time()
                # staticmethod: looked up on a throttle instance, the clock must not be bound.
                SimpleRateThrottle.timer = staticmethod(self)
            elif op == "advance":
                seconds = request.get("seconds")
                if (
                    self.now is None
                    or not isinstance(seconds, int | float)
                    or isinstance(seconds, bool)
                    or not math.isfinite(seconds)
                    or not 0 <= seconds <= 10**7
                ):
                    return {"assertion": "the clock moves forward only, once installed"}
                self.now += float(seconds)
            elif op == "remove":
                if self.original is not None:
                    SimpleRateThrottle.timer = self.original
                self.now, self.original = None, None
                return {"now": None}
            else:
                return {"assertion": f"unknown clock operation {op!r}"}
            return {"now": self.now}


class Helpers:
    """The grader's data helpers (``grader/executors/harness/data.py``), loaded in this process."""

    DATA_OPS = frozenset(
        {"create", "create_rejected", "user", "count", "values", "command", "admin_action"}
    )
    MODEL_OPS = frozenset(
        {
            "exists",
            "user_model",
            "fields",
            "relation",
            "constraints",
            "db_constraints",
            "admin",
            "migrations",
            "pending_migrations",
        }
    )

    def __init__(self) -> None:
        self._module: Any = None

    def module(self) -> Any:
        if self._module is None:
            self._module = load_helper_file("grader_data", DATA_HELPERS)
        return self._module

    def call(self, kind: str, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            return {"assertion": "the grader sent a malformed request"}
        op, args, kwargs = request.get("op"), request.get("args", []), request.get("kwargs", {})
        allowed = self.DATA_OPS if kind == "data" else self.MODEL_OPS
        if op not in allowed or not isinstance(args, list) or not isinstance(kwargs, dict):
            return {"assertion": f"the grader asked for an unknown {kind} helper {op!r}"}
        module = self.module()
        target = module.DataHelper() if kind == "data" else module.ModelInspector(WORKSPACE)
        try:
            value = getattr(target, op)(*args, **kwargs)
        except AssertionError as exc:
            return {"assertion": (str(exc).strip().splitlines() or [""])[0][: MESSAGE_LIMIT * 2]}
        except Exception as exc:  # the project's code raised: local mode's check errors too
            return {"raised": describe(exc)}
        if op == "command" and isinstance(value, dict):
            value["output"] = str(value.get("output", ""))[:OUTPUT_LIMIT]
        return {"value": module.plain(value)}


def load_helper_file(name: str, path: Path) -> Any:
    """A grader helper file mounted read-only, imported under ``name`` (and registered, so a
    dotted path such as Django's ``EMAIL_BACKEND`` setting can name what it defines)."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"the grader's helper {path} is missing from the sandbox")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def start_redis(program: str) -> Any:
    """The sandbox's own Redis (:mod:`grader.redisserver`'s throwaway server, in ``/tmp``), with
    the URLs the project's settings read set in the environment; the server object."""
    import tempfile

    redis = load_helper_file("grader_redis", REDIS_HELPERS)
    server = redis.RedisServer(program, Path(tempfile.mkdtemp(prefix="grader-redis-")))
    server.start()
    os.environ["CELERY_BROKER_URL"] = server.url(0)
    os.environ["LIST_CACHE_URL"] = server.url(1)
    return server


class Background:
    """The background-work helpers for the trusted side's ``tasks``, ``outbox``,
    ``redis_outage`` and ``commit_failure`` fixtures: each op one call into taskwork, each answer
    plain data (or ``assertion`` for a learner-facing failure, ``raised`` for the project's
    exception), as :class:`Helpers` answers for ``data``."""

    OPS = {
        "tasks": frozenset({"start", "stop", "published", "runs", "due", "send", "describe"}),
        "outbox": frozenset({"start", "stop", "messages", "fail_next", "fail_from"}),
        "redis": frozenset({"stop", "start"}),
        "commit": frozenset({"on_publish", "disarm"}),
        # lab10: the project's log lines during a block of a check, and the production server
        "logs": frozenset({"start", "stop"}),
        "production": frozenset({"start", "lines", "stop"}),
    }

    def __init__(self, server: Any) -> None:
        self.server = server  # the sandbox's Redis, None when the job has none
        self.app: Any = None
        self.commit: Any = None
        self.production: Any = None
        self.lock = threading.Lock()

    def call(self, kind: str, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            return {"assertion": "the grader sent a malformed request"}
        op, args, kwargs = request.get("op"), request.get("args", []), request.get("kwargs", {})
        if op not in self.OPS[kind] or not isinstance(args, list) or not isinstance(kwargs, dict):
            return {"assertion": f"the grader asked for an unknown {kind} helper {op!r}"}
        if kind in ("tasks", "redis") and self.server is None:
            return {"assertion": "this grading has no Redis: the rubric does not require it"}
        if kind in ("logs", "production"):
            work = load_helper_file("grader_production", PRODUCTION_HELPERS)
        else:
            work = load_helper_file("grader_taskwork", TASK_HELPERS)
        try:
            with self.lock:  # one helper call at a time: they share the worker and the records
                value = getattr(self, f"_{kind}")(work, op, *args, **kwargs)
        except AssertionError as exc:
            return {"assertion": (str(exc).strip().splitlines() or [""])[0][: MESSAGE_LIMIT * 2]}
        except Exception as exc:  # the project's code raised: local mode's check errors too
            return {"raised": describe(exc)}
        return {"value": load_helper_file("grader_data", DATA_HELPERS).plain(value)}

    def _tasks(self, work: Any, op: str, *args: Any) -> Any:
        if op == "start":
            self.app = work.start_recording()
            return None
        if op == "stop":
            work.revoke_outstanding()
            return None
        if op in ("published", "runs"):
            return getattr(work, op)(*args[:1])
        if op == "due":
            return work.due()
        if self.app is None:
            raise AssertionError("the grader used its tasks helper before starting it")
        if op == "send":
            name, rest = str(args[0]), list(args[1:])
            self.app.send_task(name, args=rest)
            return None
        return work.describe(self.app, str(args[0]))  # describe

    def _outbox(self, work: Any, op: str, *args: Any, **kwargs: Any) -> Any:
        if op in ("start", "stop"):
            from django.conf import settings

            work.reset_mail()
            settings.EMAIL_BACKEND = work.BACKEND  # an in-memory outbox that can be made to fail
            return None
        if op == "messages":
            return work.messages()
        getattr(work, op)(*args, **kwargs)  # fail_next(times) / fail_from(send, times)
        return None

    def _redis(self, work: Any, op: str) -> Any:
        if op == "stop":
            work.WORKER.stop()  # it would spend the outage reconnecting; the next check starts one
            self.server.stop()
        elif not self.server.running:
            self.server.start()  # on the same port, empty
        return {"port": int(self.server.port), "running": bool(self.server.running)}

    def _logs(self, work: Any, op: str) -> Any:
        if op == "start":
            work.CAPTURE.start()
            return None
        return work.CAPTURE.stop()

    def _production(self, work: Any, op: str, *args: Any) -> Any:
        import tempfile

        if op == "start":
            given = args[0] if args else None
            if not isinstance(given, dict) or not all(
                key in PRODUCTION_VARIABLES and isinstance(value, str)
                for key, value in given.items()
            ):
                raise AssertionError("the grader sent malformed production variables")
            if self.production is not None:
                self.production.stop()
            folder = Path(tempfile.mkdtemp(prefix="grader-production-"))
            self.production = work.ProductionServer(WORKSPACE, folder)
            problem = self.production.start(given)
            return {"port": int(self.production.port), "problem": problem}
        if self.production is None:
            return [] if op == "lines" else None
        if op == "lines":
            return self.production.lines()
        self.production.stop()
        self.production = None
        return None

    def _commit(self, work: Any, op: str, *args: Any) -> Any:
        if op == "on_publish":
            self.commit = work.CommitFailure()
            self.commit.on_publish(int(args[0]))
        elif self.commit is not None:
            self.commit.disarm()
            self.commit = None
        return None


def expired_token(user: Any) -> dict[str, Any]:
    """``{"token"}``: Simple JWT's access token for ``user`` with ``exp`` an hour ago."""
    import datetime

    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    model = get_user_model()
    try:
        found = model._base_manager.get(pk=user)
    except (model.DoesNotExist, ValueError, TypeError):
        return {"assertion": f"there is no user with the primary key {user!r}"}
    token = AccessToken.for_user(found)
    token.set_exp(lifetime=-datetime.timedelta(hours=1))
    return {"token": str(token)}


class ForcedUsers:
    """Users loaded by ``auth``, by primary key: requests marked with ``X-Grader-As`` reach DRF
    as them. Loaded once, as local mode's ``api.authenticate`` loads the user once, so query
    counts match local mode's."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.users: dict[int, Any] = {}
        self.lock = threading.Lock()

    def load(self, request: Any) -> dict[str, Any]:
        from django.contrib.auth import get_user_model

        pk = request.get("user") if isinstance(request, dict) else None
        if pk is None:
            return {"user": None}
        if not isinstance(pk, int) or isinstance(pk, bool):
            return {"assertion": "api.authenticate takes a user's primary key"}
        model = get_user_model()
        try:
            found = model._base_manager.get(pk=pk)
        except model.DoesNotExist:
            return {"assertion": f"api.authenticate: there is no user with the primary key {pk}"}
        with self.lock:
            self.users[pk] = found
        return {"user": pk}

    def clear(self) -> None:
        with self.lock:
            self.users.clear()

    def pop(self, environ: Environ) -> Any:
        """The user a request is marked for, or None; the marker is removed either way."""
        marker = str(environ.pop(AS_HEADER, ""))
        prefix = self.token + ":"
        if not marker.startswith(prefix) or not marker[len(prefix) :].isdigit():
            return None
        with self.lock:
            return self.users.get(int(marker[len(prefix) :]))


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


def make_application(token: str, postgres: bool = False, redis: Any = None) -> Any:
    """The WSGI callable: the grader's requests under ``/__grader__/<token>/``, Django's after."""
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

    forced = ForcedUsers(token)

    class GraderRequest(WSGIRequest):  # type: ignore[misc]  # Django has no stubs here
        # The local mode's test client sets this too: checks judge API behaviour, not CSRF
        # tokens, and a real client without a session has none.
        _dont_enforce_csrf_checks = True

        def __init__(self, environ: Environ) -> None:
            user = forced.pop(environ)
            super().__init__(environ)
            if user is not None:
                # What DRF's force_authenticate sets: DRF's Request then authenticates as them.
                self._force_auth_user = user

    class GraderHandler(WSGIHandler):  # type: ignore[misc]
        request_class = GraderRequest

    django_app = GraderHandler()
    outage = Outage()
    database = Database(postgres=postgres)
    database.snapshot()
    counter = QueryCounter()
    counter.install()
    clock = ThrottleClock()
    helpers = Helpers()
    background = Background(redis)
    prefix = f"/__grader__/{token}/"

    def application(environ: Environ, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix):
            return django_app(environ, start_response)
        action = path[len(prefix) :]
        try:
            return _control(action, environ, start_response)
        finally:
            from django.db import connections

            connections.close_all()  # as Django does after each request it serves

    def _control(action: str, environ: Environ, start_response: Any) -> Any:
        def answer(document: dict[str, Any]) -> list[bytes]:
            return _json_response(start_response, "200 OK", document)

        try:
            if action in ("data", "models"):
                return answer(helpers.call(action, _read_body(environ)))
            if action in Background.OPS:
                return answer(background.call(action, _read_body(environ)))
            if action == "reset":
                forced.clear()
                return answer({"database": "reset" if database.reset() else "not-a-file"})
            if action == "auth":
                return answer(forced.load(_read_body(environ)))
            if action == "token":
                request = _read_body(environ)
                return answer(
                    expired_token(request.get("user") if isinstance(request, dict) else None)
                )
            if action == "queries":
                request = _read_body(environ)
                on = isinstance(request, dict) and request.get("on") is True
                return answer(counter.switch(on))
            if action == "clock":
                return answer(clock.handle(_read_body(environ)))
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


def use_postgres(bindir: object) -> str | None:
    """Start the sandbox's own PostgreSQL when the job names its programs' folder, and point
    ``DATABASE_URL`` at it; the grader's sentence when it could not start, else None."""
    if not isinstance(bindir, str) or not bindir:
        return None
    try:
        os.environ["DATABASE_URL"] = start_postgres(bindir)
    except Exception as exc:
        traceback.print_exc()  # into the sandbox log, for instructors
        return (
            "The grader could not start PostgreSQL inside the sandbox, so nothing was graded; "
            f"this is not a verdict on your work ({str(exc)[:MESSAGE_LIMIT]}). Grade again, or "
            "ask your instructor."
        )
    return None


def serve(args: dict[str, Any], channel: Channel) -> int:
    port = int(args["port"])
    copy_source()
    os.chdir(WORKSPACE)
    sys.path.insert(0, str(WORKSPACE))
    module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
    problem = use_postgres(args.get("postgres"))
    redis = None
    if not problem and isinstance(args.get("redis"), str):
        try:
            redis = start_redis(args["redis"])
        except Exception as exc:
            traceback.print_exc()  # into the sandbox log, for instructors
            problem = (
                "The grader could not start Redis inside the sandbox, so nothing was graded; "
                f"this is not a verdict on your work ({str(exc)[:MESSAGE_LIMIT]}). Grade again, "
                "or ask your instructor."
            )
    if problem:
        channel.send({"fatal": {"stage": "checks", "message": problem}})
        return 3
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
    built = build_database(bool(args.get("migrations")))
    if built:
        channel.send({"fatal": {"stage": built[0], "message": built[1]}})
        return 3
    try:
        from django.core.servers.basehttp import run

        application = make_application(
            str(args["token"]), postgres=bool(args.get("postgres")), redis=redis
        )
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


GRADER_LIBRARY = "/grader/lib"  # the grader's package, mounted for the learner-tests gate only


def learner_tests(job_file: str, postgres: str | None = None) -> int:
    """``agent.py learner-tests JOB [BINDIR]``: the learner's own tests, with coverage, in this
    sandbox (on a PostgreSQL server of its own when BINDIR names its programs' folder).

    The grader's harness (mounted read-only for this gate only, with no hidden check in it)
    runs them as local mode's gate does; it writes its report and coverage.py's JSON where the
    job says (a folder the host reads afterwards, defensively). Only the learner's own tests
    run here: they are the learner's code, so what they report is the learner's to answer for.
    """
    copy_source()
    os.chdir(WORKSPACE)
    problem = use_postgres(postgres)
    sys.path.insert(0, GRADER_LIBRARY)
    if problem:
        # The grader's failure, not the learner's: a report saying so (stage "grader"), which
        # the host turns into "not graded, needs manual review" instead of failed tests.
        from grader.report import Job, Report

        print(problem, file=sys.stderr)
        report = Report(fatal={"stage": "grader", "message": problem})
        Path(Job.read(Path(job_file)).report_file).write_text(report.to_json(), encoding="utf-8")
        return 3
    from grader.executors.harness.__main__ import main as harness_main

    return int(harness_main([job_file]))


def notebook(job_file: str, postgres: str | None = None) -> int:
    """``agent.py notebook JOB [BINDIR]``: a notebook lab's autograde, in this sandbox.

    The course folder nbgrader works in (the source notebook with its hidden tests, the
    learner's notebook) is mounted read-only and copied to ``/tmp/course``; the project to the
    workspace, where the notebook's setup cell finds it. The grader's notebook harness (mounted
    read-only) runs nbgrader, which runs the notebook in a kernel of this sandbox; the report
    goes where the job says, for the host to read as hostile input."""
    copy_source()
    shutil.copytree("/grader/course", "/tmp/course")
    os.chdir("/tmp/course")
    problem = use_postgres(postgres)
    if problem:
        print(problem, file=sys.stderr)
        return 3
    sys.path.insert(0, GRADER_LIBRARY)
    from grader.executors.notebook.harness import main as harness_main

    return int(harness_main([job_file]))


def main(argv: list[str]) -> int:
    if argv[:1] == ["notebook"] and len(argv) in (2, 3):
        return notebook(argv[1], argv[2] if len(argv) == 3 else None)
    if argv[:1] == ["settings-probe"]:
        settings_probe(argv[1], argv[2], argv[3])
        return 0
    if argv[:1] == ["learner-tests"] and len(argv) in (2, 3):
        return learner_tests(argv[1], argv[2] if len(argv) == 3 else None)
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
