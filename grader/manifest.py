"""The capstone manifest, ``capstone.toml``: what a learner's own service publishes, so that one
rubric can grade services of any domain (a task manager, an invoice tool, a shop).

The hidden checks cannot know a learner's endpoints in advance. The learner commits this small
file at the top of the project, and the checks read it (through ``project.manifest()``, which
parses the file without running anything: in official mode on the trusted side, from the
pristine staged copy). Format::

    [service]
    schema = "/api/schema/"            # the served OpenAPI schema
    liveness = "/api/health/live/"     # 200 whenever the process answers
    readiness = "/api/health/"         # 200 when its dependencies answer, 503 when not
    metrics = "/api/metrics/"          # optional: Prometheus text format

    [auth]
    token = "/api/v1/auth/token/"      # POST {"username", "password"} -> {"access", ...}

    [[roles]]                          # at least one; the grader makes a user of each
    name = "member"
    fields = { role = "member" }       # set on the user model (create_user(**fields))
    writes = true                      # may create items of every resource

    [[resources]]                      # at least one
    name = "tasks"
    collection = "/api/v1/tasks/"      # GET lists, POST creates
    create = { title = "Write the report" }   # a valid body for POST

    [throttle]
    path = "/api/v1/tasks/"            # an endpoint anonymous callers may GET
    anonymous = "60/minute"            # their rate: the next request is 429 with Retry-After

    [deploy]
    settings = "config.settings.prod"  # the settings `check --deploy` must find clean
    env = { DJANGO_SECRET_KEY = "{secret}", DATABASE_URL = "{database}" }

    [tasks]                            # optional (the background criterion needs it)
    name = "tasks.tasks.summarize"     # a Celery task creating an item queues (its registered name)

In ``deploy.env`` the placeholders ``{secret}``, ``{host}`` and ``{database}`` stand for values
the grader chooses afresh each time (a random 50-character secret, a host name, a database URL).

Contract: :func:`load_manifest` returns a validated :class:`Manifest` or raises
:class:`ManifestError`, a :class:`~grader.errors.SubmissionError` whose message is one or more
sentences naming the file, the entry and what to write instead, never a traceback. Unknown keys
are refused (a typo must not silently drop an endpoint from grading).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import SubmissionError

MANIFEST = "capstone.toml"
HANDOUT = "labs/capstone/README.md#the-manifest"
PLACEHOLDERS = ("{secret}", "{host}", "{database}")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]{0,200}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,60}$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,60}$")
_RATE = re.compile(r"^(?P<count>[1-9][0-9]{0,3})/(?P<unit>s|sec|second|m|min|minute|h|hour)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_MAX_ENTRIES = 20


class ManifestError(SubmissionError):
    """The manifest is missing or wrong; the message says what to write."""

    def __init__(self, message: str) -> None:
        super().__init__(message, stage="stage")


@dataclass(frozen=True)
class Role:
    name: str
    fields: dict[str, str | int | bool]
    writes: bool


@dataclass(frozen=True)
class Resource:
    name: str
    collection: str
    create: dict[str, Any]


@dataclass(frozen=True)
class Throttle:
    path: str
    rate: str
    count: int  # requests allowed ...
    seconds: int  # ... in this many seconds


@dataclass(frozen=True)
class Deploy:
    settings: str
    env: dict[str, str]


@dataclass(frozen=True)
class Manifest:
    """A validated ``capstone.toml`` (see the module doc for each entry)."""

    schema: str
    liveness: str
    readiness: str
    metrics: str | None
    token: str
    roles: tuple[Role, ...]
    resources: tuple[Resource, ...]
    throttle: Throttle
    deploy: Deploy
    task: str | None = None  # [tasks] name: the Celery task that creating an item queues
    extra: dict[str, Any] = field(default_factory=dict)  # later tables, read by their checks

    @property
    def writers(self) -> tuple[Role, ...]:
        return tuple(r for r in self.roles if r.writes)

    @property
    def readers(self) -> tuple[Role, ...]:
        """Roles that may read but not write: their writes must be refused with 403."""
        return tuple(r for r in self.roles if not r.writes)


class _Reader:
    """Collects every problem in the file, so the learner fixes them in one go."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def table(
        self, data: dict[str, Any], key: str, keys: set[str], optional: set[str]
    ) -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            self.problems.append(f"add a [{key}] table (see {HANDOUT})")
            return {}
        self.keys(value, f"[{key}]", keys | optional)
        for name in sorted(keys - set(value)):
            self.problems.append(f"[{key}] needs {name} = ...")
        return value

    def keys(self, value: dict[str, Any], where: str, allowed: set[str]) -> None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.problems.append(
                f"{where} has keys the grader does not know: {', '.join(unknown)} (it knows "
                f"{', '.join(sorted(allowed))}); check their spelling"
            )

    def path(self, value: Any, where: str) -> str:
        if isinstance(value, str) and _PATH.match(value) and "//" not in value:
            return value
        self.problems.append(
            f"{where} must be a path on your server starting with /, like \"/api/health/\" "
            f"(letters, digits and . _ ~ - / only), not {_shown(value)}"
        )
        return "/"

    def text(self, value: Any, where: str, pattern: re.Pattern[str], like: str) -> str:
        if isinstance(value, str) and pattern.match(value):
            return value
        self.problems.append(f"{where} must be like {like}, not {_shown(value)}")
        return ""

    def entries(self, data: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.problems.append(f"add at least one [[{key}]] entry: {what}")
            return []
        if len(value) > _MAX_ENTRIES:
            self.problems.append(f"list at most {_MAX_ENTRIES} [[{key}]] entries")
            return []
        tables = [v for v in value if isinstance(v, dict)]
        if len(tables) != len(value):
            self.problems.append(f"each [[{key}]] entry must be a table")
        return tables


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _role(reader: _Reader, entry: dict[str, Any], number: int) -> Role:
    where = f"[[roles]] entry {number}"
    reader.keys(entry, where, {"name", "fields", "writes"})
    name = reader.text(entry.get("name"), f"{where}: name", _NAME, '"member"')
    fields: dict[str, str | int | bool] = {}
    raw = entry.get("fields", {})
    if not isinstance(raw, dict) or len(raw) > 10:
        reader.problems.append(f"{where}: fields must be a table like {{ role = \"member\" }}")
        raw = {}
    for key, value in raw.items():
        if not _FIELD.match(key) or key in ("username", "password"):
            reader.problems.append(
                f"{where}: fields may not set {key!r} (the grader picks the username and the "
                "password itself)"
            )
        elif not isinstance(value, str | int | bool) or len(str(value)) > 100:
            reader.problems.append(f"{where}: fields.{key} must be a short string, number or bool")
        else:
            fields[key] = value
    writes = entry.get("writes")
    if not isinstance(writes, bool):
        reader.problems.append(f"{where}: writes must be true or false, not {_shown(writes)}")
        writes = False
    return Role(name, fields, writes)


def _resource(reader: _Reader, entry: dict[str, Any], number: int) -> Resource:
    where = f"[[resources]] entry {number}"
    reader.keys(entry, where, {"name", "collection", "create"})
    name = reader.text(entry.get("name"), f"{where}: name", _NAME, '"tasks"')
    collection = reader.path(entry.get("collection"), f"{where}: collection")
    create = entry.get("create")
    if not isinstance(create, dict) or not create:
        reader.problems.append(
            f"{where}: create must be a table holding a valid body for POST {collection}, like "
            "{ title = \"Write the report\" }"
        )
        create = {}
    return Resource(name, collection, dict(create))


def _throttle(reader: _Reader, data: dict[str, Any]) -> Throttle:
    table = reader.table(data, "throttle", {"path", "anonymous"}, set())
    path = reader.path(table.get("path"), "[throttle] path") if "path" in table else "/"
    rate = table.get("anonymous")
    match = _RATE.match(rate) if isinstance(rate, str) else None
    if match is None:
        if "anonymous" in table:
            reader.problems.append(
                f"[throttle] anonymous must be a DRF rate like \"60/minute\" (at most 9999 a "
                f"second, minute or hour), not {_shown(rate)}"
            )
        return Throttle(path, "", 0, 0)
    seconds = _UNIT_SECONDS[match["unit"][0]]
    return Throttle(path, str(rate), int(match["count"]), seconds)


def _deploy(reader: _Reader, data: dict[str, Any]) -> Deploy:
    table = reader.table(data, "deploy", {"settings"}, {"env"})
    settings = (
        reader.text(table.get("settings"), "[deploy] settings", _MODULE, '"config.settings.prod"')
        if "settings" in table
        else ""
    )
    env: dict[str, str] = {}
    raw = table.get("env", {})
    if not isinstance(raw, dict) or len(raw) > 30:
        reader.problems.append("[deploy] env must be a table of environment variables")
        raw = {}
    for key, value in raw.items():
        if not _ENV_NAME.match(key):
            reader.problems.append(f"[deploy] env: {key!r} is not an environment variable name")
        elif not isinstance(value, str) or len(value) > 300:
            reader.problems.append(
                f"[deploy] env.{key} must be a string: a value, or one of {', '.join(PLACEHOLDERS)}"
            )
        else:
            env[key] = value
    return Deploy(settings, env)


def parse_manifest(text: str) -> Manifest:
    """Validate the manifest's ``text``; ManifestError listing every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(
            f"{MANIFEST} is not valid TOML ({exc}): fix that line and grade again."
        ) from None
    reader = _Reader()
    known = {"service", "auth", "roles", "resources", "throttle", "deploy", "tasks", "logs"}
    reader.keys(data, MANIFEST, known)
    service = reader.table(data, "service", {"schema", "liveness", "readiness"}, {"metrics"})
    paths = {
        key: reader.path(service[key], f"[service] {key}")
        for key in ("schema", "liveness", "readiness", "metrics")
        if key in service
    }
    auth = reader.table(data, "auth", {"token"}, set())
    token = reader.path(auth["token"], "[auth] token") if "token" in auth else "/"
    roles = tuple(
        _role(reader, entry, n)
        for n, entry in enumerate(reader.entries(data, "roles", "a kind of user"), 1)
    )
    names = [r.name for r in roles]
    if len(set(names)) != len(names):
        reader.problems.append("[[roles]] names must differ from one another")
    if roles and not any(r.writes for r in roles):
        reader.problems.append("at least one [[roles]] entry must have writes = true")
    resources = tuple(
        _resource(reader, entry, n)
        for n, entry in enumerate(reader.entries(data, "resources", "what your API manages"), 1)
    )
    throttle = _throttle(reader, data)
    deploy = _deploy(reader, data)
    task = None
    if "tasks" in data:
        tasks = reader.table(data, "tasks", {"name"}, set())
        if "name" in tasks:
            like = '"tasks.tasks.summarize" (the name Celery registered)'
            task = reader.text(tasks["name"], "[tasks] name", _MODULE, like)
    if reader.problems:
        listed = "; ".join(reader.problems)
        raise ManifestError(f"{MANIFEST} needs fixing before it can be graded: {listed}.")
    return Manifest(
        schema=paths["schema"],
        liveness=paths["liveness"],
        readiness=paths["readiness"],
        metrics=paths.get("metrics"),
        token=token,
        roles=roles,
        resources=resources,
        throttle=throttle,
        deploy=deploy,
        task=task or None,
        extra={k: data[k] for k in ("logs",) if k in data},
    )


def load_manifest(root: Path, name: str = MANIFEST) -> Manifest:
    """The manifest at ``root / name``, validated (see :func:`parse_manifest`)."""
    path = root / name
    if path.is_symlink() or not path.is_file():
        raise ManifestError(
            f"There is no {name} at the top of your project. Commit one that names your "
            f"endpoints, roles and resources: the capstone template makes it, and {HANDOUT} "
            "shows every entry."
        )
    raw = path.read_bytes()
    if len(raw) > 64 * 1024:
        raise ManifestError(f"{name} is over 64 KiB; it should be a few dozen lines.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError(f"{name} is not UTF-8 text; save it as UTF-8.") from None
    return parse_manifest(text)
