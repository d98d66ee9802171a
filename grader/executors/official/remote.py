"""The out-of-process forms of the grader's data fixtures: ``data``, ``models``, ``queries``,
``clock``, and the request/response protocol they share with the sandbox's agent.

Each fixture keeps local mode's contract (:mod:`grader.executors.harness.data`,
:mod:`grader.executors.harness.fixtures`): the same methods, arguments and plain-data answers, so
the hidden check files run unchanged in both modes. Only the learner's process can do what they need
(insert rows through the ORM, describe models, count the SQL a request ran, move DRF's throttle
timer), so each call is one request to the agent (:mod:`grader.executors.official.agent`) over
the control path: one handler per capability on each side.

The protocol. A request is ``POST /__grader__/<token>/<capability>`` with a JSON body of at most
64 KiB (the agent reads no more). An answer is a JSON object of at most :data:`MAX_REPLY_BYTES`:

- ``{"value": ...}``: the helper's answer, validated here against the shape local mode's helper
  returns (types, keys, sizes) before the check sees it;
- ``{"assertion": "<sentence>"}``: what local mode reports as a failed check (a model that does
  not exist, a row the database refused); raised here as ``AssertionError`` with that sentence,
  cut to :data:`MAX_MESSAGE_CHARS` and stripped of control characters. It can only fail a check;
- ``{"raised": "<Type: message>"}``: the project's code raised while the helper ran; the check
  fails with that line, as in local mode, where the check errors.

Anything else (another status, a body over the limit, JSON that is not an object, a value of the
wrong shape) raises :class:`ManualReviewRequired`: the check fails
closed and is flagged, with a sentence saying which answer was wrong, never a traceback.

What decides a verdict. The hidden check, here, on validated plain data; the agent answers
questions and never says "pass". Where the answer is itself evidence, it is checked as such: an
expired token must be a JWT whose ``exp`` this process reads and finds an hour old; a check on
throttling or authentication is decided by HTTP behaviour the trusted side provokes. Facts only
the learner's process can observe (a model's declared fields, the number of SQL statements a
request ran) are reported by that process: a submission that patches Django inside its own process
could misreport them. docs/grader.md says so.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from grader.executors.harness.fixtures import QueryCount

MAX_REPLY_BYTES = 1024 * 1024
MAX_MESSAGE_CHARS = 600
MAX_ROWS = 10_000
MAX_TEXT = 64 * 1024
MAX_DEPTH = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_REFUSAL = re.compile(r"^(unique|check|not_null|foreign_key|other): ")
_JWT_PART = re.compile(r"^[A-Za-z0-9_-]+$")


class Malformed(Exception):
    """An answer from the sandbox does not have the promised shape; ``str()`` says how."""


class ManualReviewRequired(Exception):
    """The check cannot be decided out of process; it fails closed and is flagged."""


class Control(Protocol):
    """The agent's control path (:class:`grader.executors.official.fixtures.Control`): one
    JSON request, one validated-as-an-object JSON answer, or :class:`ManualReviewRequired`."""

    token: str

    def call(
        self, action: str, payload: Any = None, *, timeout: float | None = None
    ) -> dict[str, Any]: ...


def clean(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` fit to show: control characters (ANSI escapes included) removed, cut."""
    return _CONTROL.sub(" ", text)[:limit].strip()


def shown(value: Any, limit: int = 80) -> str:
    """A short, safe rendering of a value from the sandbox, for messages."""
    return clean(repr(value), limit)


# --- shapes --------------------------------------------------------------------------------

Shape = Callable[[Any], None]


def plain(value: Any, depth: int = 0) -> None:
    """Plain JSON data (str, int, float, bool, None, lists and objects), nested at most
    :data:`MAX_DEPTH` deep, every string at most :data:`MAX_TEXT` characters."""
    if depth > MAX_DEPTH:
        raise Malformed("it is nested too deeply")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Malformed("it holds a number that is not finite")
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise Malformed("it holds an over-long text")
        return
    if isinstance(value, list):
        if len(value) > MAX_ROWS:
            raise Malformed("it holds an over-long list")
        for item in value:
            plain(item, depth + 1)
        return
    if isinstance(value, dict):
        if len(value) > MAX_ROWS:
            raise Malformed("it holds an over-long object")
        for item in value.values():
            plain(item, depth + 1)
        return
    raise Malformed(f"it holds a {type(value).__name__}")


def integer(low: int = -(2**63), high: int = 2**63 - 1) -> Shape:
    def check(value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Malformed(f"expected a whole number from {low} to {high}, got {shown(value)}")

    return check


def boolean(value: Any) -> None:
    if not isinstance(value, bool):
        raise Malformed(f"expected true or false, got {shown(value)}")


def text(limit: int = MAX_TEXT, pattern: re.Pattern[str] | None = None) -> Shape:
    def check(value: Any) -> None:
        if not isinstance(value, str) or len(value) > limit:
            raise Malformed(f"expected a text of at most {limit} characters, got {shown(value)}")
        if pattern is not None and not pattern.search(value):
            raise Malformed(f"expected a text like {pattern.pattern!r}, got {shown(value)}")

    return check


def optional(shape: Shape) -> Shape:
    def check(value: Any) -> None:
        if value is not None:
            shape(value)

    return check


def one_of(*choices: str) -> Shape:
    def check(value: Any) -> None:
        if value not in choices:
            raise Malformed(f"expected one of {', '.join(choices)}, got {shown(value)}")

    return check


def list_of(shape: Shape, limit: int = MAX_ROWS) -> Shape:
    def check(value: Any) -> None:
        if not isinstance(value, list) or len(value) > limit:
            raise Malformed(f"expected a list of at most {limit} items, got {shown(value)}")
        for item in value:
            shape(item)

    return check


def record(**fields: Shape) -> Shape:
    """An object with exactly these keys, each of its shape."""

    def check(value: Any) -> None:
        if not isinstance(value, dict) or set(value) != set(fields):
            keys = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise Malformed(f"expected an object with {sorted(fields)}, got {shown(keys)}")
        for key, shape in fields.items():
            shape(value[key])

    return check


def mapping(key: Shape, item: Shape, limit: int = MAX_ROWS) -> Shape:
    def check(value: Any) -> None:
        if not isinstance(value, dict) or len(value) > limit:
            raise Malformed(f"expected an object of at most {limit} entries, got {shown(value)}")
        for name, entry in value.items():
            key(name)
            item(entry)

    return check


NAME = text(200)
LABEL = text(200, _LABEL)
NAMES = list_of(NAME, 1000)
PK = integer()

FIELD = record(
    type=NAME,
    null=boolean,
    blank=boolean,
    unique=boolean,
    primary_key=boolean,
    max_length=optional(integer(0)),
    choices=optional(list_of(plain, 1000)),
    default=plain,
    related_model=optional(LABEL),
    column=optional(NAME),
)


def _command(value: Any) -> None:
    record(ok=boolean, output=text(), error=optional(text(2000)))(value)
    if value["ok"] != (value["error"] is None):
        raise Malformed("it says the command both failed and succeeded")


DATA_SHAPES: dict[str, Shape] = {
    "create": PK,
    "create_rejected": optional(text(2000, _REFUSAL)),
    "user": PK,
    "count": integer(0),
    "values": list_of(mapping(NAME, plain, 200)),
    "command": _command,
    "admin_action": integer(100, 599),
}

MODEL_SHAPES: dict[str, Shape] = {
    "exists": boolean,
    "user_model": LABEL,
    "fields": mapping(NAME, FIELD, 1000),
    "relation": optional(
        record(
            kind=one_of("foreign_key", "one_to_one", "many_to_many"),
            to=LABEL,
            on_delete=optional(NAME),
            null=boolean,
            related_name=optional(NAME),
        )
    ),
    "constraints": list_of(
        record(name=optional(NAME), kind=NAME, fields=NAMES, condition=optional(text(2000))),
        1000,
    ),
    "db_constraints": list_of(
        record(
            name=NAME,
            columns=NAMES,
            orders=NAMES,
            unique=boolean,
            check=boolean,
            index=boolean,
            primary_key=boolean,
            foreign_key=optional(NAME),
        ),
        1000,
    ),
    "admin": optional(
        record(
            **{
                "class": NAME,
                "list_display": NAMES,
                "list_filter": NAMES,
                "search_fields": NAMES,
                "actions": NAMES,
                "action_descriptions": mapping(NAME, text(500), 1000),
            }
        )
    ),
    "migrations": list_of(
        record(name=NAME, initial=boolean, creates=NAMES, dependencies=NAMES), 1000
    ),
    "pending_migrations": list_of(text(2000), 1000),
}


# --- requests ------------------------------------------------------------------------------


def encode(value: Any, depth: int = 0) -> Any:
    """A check's argument as JSON: dates and times as ISO 8601 text (which Django's fields
    parse back), decimals and UUIDs as text. Anything else that is not plain data is a
    grader problem, not the learner's: :class:`TypeError`."""
    if depth > MAX_DEPTH:
        raise TypeError("an argument is nested too deeply to send")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {str(k): encode(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__} cannot be sent to the sandbox")


def unpack(capability: str, document: dict[str, Any]) -> Any:
    """The ``value`` of an answer; ``AssertionError`` for ``assertion``/``raised`` answers;
    :class:`Malformed` for anything else."""
    if set(document) == {"assertion"} and isinstance(document["assertion"], str):
        raise AssertionError(clean(document["assertion"]) or f"{capability} failed")
    if set(document) == {"raised"} and isinstance(document["raised"], str):
        raise AssertionError(
            f"your project's code raised while the grader ran {capability}: "
            + clean(document["raised"])
        )
    if set(document) == {"value"}:
        return document["value"]
    raise Malformed(f"it has the keys {shown(sorted(document))}")


class _Remote:
    """One helper object whose methods are requests to one agent capability."""

    kind = ""
    shapes: dict[str, Shape] = {}

    def __init__(self, control: Control, timeout: float) -> None:
        self._control = control
        self._timeout = timeout

    def _ask(self, op: str, *args: Any, **kwargs: Any) -> Any:
        what = f"{self.kind}.{op}"
        try:
            payload = {"op": op, "args": encode(list(args)), "kwargs": encode(kwargs)}
        except TypeError as exc:
            raise ManualReviewRequired(f"{what}: {exc}") from None
        document = self._control.call(self.kind, payload, timeout=self._timeout)
        try:
            value = unpack(what, document)
            plain(value)
            self.shapes[op](value)
        except Malformed as exc:
            raise ManualReviewRequired(
                f"the sandbox's answer to {what} is malformed ({exc})"
            ) from None
        return value


class RemoteData(_Remote):
    """``data`` out of process: :class:`grader.executors.harness.data.DataHelper`'s contract,
    each call run by the agent through the project's ORM, each answer validated here."""

    kind = "data"
    shapes = DATA_SHAPES

    def create(self, label: str, **fields: Any) -> int:
        value: int = self._ask("create", label, **fields)
        return value

    def create_rejected(self, label: str, **fields: Any) -> str | None:
        value: str | None = self._ask("create_rejected", label, **fields)
        return value

    def user(self, role: str | None = None, **fields: Any) -> int:
        value: int = self._ask("user", role, **fields)
        return value

    def count(self, label: str, **filters: Any) -> int:
        value: int = self._ask("count", label, **filters)
        return value

    def values(self, label: str, *fields: str, **filters: Any) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._ask("values", label, *fields, **filters)
        return value

    def command(self, name: str, *args: str) -> dict[str, Any]:
        value: dict[str, Any] = self._ask("command", name, *args)
        return value

    def admin_action(self, label: str, action: str, pks: Any) -> int:
        value: int = self._ask("admin_action", label, action, list(pks))
        return value


class RemoteModels(_Remote):
    """``models`` out of process: the contract of
    :class:`grader.executors.harness.data.ModelInspector`."""

    kind = "models"
    shapes = MODEL_SHAPES

    def exists(self, label: str) -> bool:
        value: bool = self._ask("exists", label)
        return value

    def user_model(self) -> str:
        value: str = self._ask("user_model")
        return value

    def fields(self, label: str) -> dict[str, dict[str, Any]]:
        value: dict[str, dict[str, Any]] = self._ask("fields", label)
        return value

    def relation(self, label: str, field: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._ask("relation", label, field)
        return value

    def constraints(self, label: str) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._ask("constraints", label)
        return value

    def db_constraints(self, label: str) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._ask("db_constraints", label)
        return value

    def admin(self, label: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._ask("admin", label)
        return value

    def migrations(self, app_label: str) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._ask("migrations", app_label)
        return value

    def pending_migrations(self) -> list[str]:
        value: list[str] = self._ask("pending_migrations")
        return value


class RemoteQueries:
    """``queries`` out of process: ``with queries.count() as counted: api.get(...)`` counts the
    statements the project's server sent to its database meanwhile (``counted.total``,
    ``counted.sql``), as local mode's :class:`grader.executors.harness.fixtures.QueryCounter`
    does."""

    def __init__(self, control: Control) -> None:
        self._control = control

    @contextmanager
    def count(self) -> Iterator[QueryCount]:
        counted = QueryCount()
        self._control.call("queries", {"on": True})
        try:
            yield counted
        finally:
            answer = self._control.call("queries", {"on": False})
            try:
                record(total=integer(0), sql=list_of(text(2000), 1000))(answer)
                if answer["total"] < len(answer["sql"]):
                    raise Malformed("it lists more statements than it counted")
            except Malformed as exc:
                raise ManualReviewRequired(
                    f"the sandbox's query count is malformed ({exc})"
                ) from None
        counted.total = int(answer["total"])
        counted.sql = [str(sql) for sql in answer["sql"]]


class RemoteClock:
    """``clock`` out of process: DRF's throttle timer in the project's server, replaced by one
    that moves only when ``advance`` says. ``clock()``/``now`` is the time it shows."""

    def __init__(self, control: Control) -> None:
        self._control = control
        self._now = self._set({"op": "install"})

    def _set(self, request: dict[str, Any]) -> float:
        answer = self._control.call("clock", request)
        if set(answer) == {"assertion"}:
            raise AssertionError(clean(str(answer["assertion"])))
        now = answer.get("now")
        if set(answer) != {"now"} or not isinstance(now, int | float) or isinstance(now, bool):
            raise ManualReviewRequired(
                f"the sandbox's throttle clock answered {shown(answer)}, not the time it shows"
            )
        if not math.isfinite(now) or (request["op"] == "advance" and now < self._now):
            raise ManualReviewRequired("the sandbox's throttle clock moved backwards")
        return float(now)

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the server's throttle clock ``seconds`` forward (never back)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        expected = self._now + float(seconds)
        self._now = self._set({"op": "advance", "seconds": float(seconds)})
        if abs(self._now - expected) > 1e-3:
            raise ManualReviewRequired(
                f"the sandbox's throttle clock moved to {self._now}, not {expected}"
            )

    def remove(self) -> None:
        self._control.call("clock", {"op": "remove"})


def _segment(part: str) -> Any:
    if not _JWT_PART.match(part):
        raise Malformed("a part is not base64url")
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error):
        raise Malformed("a part is not JSON") from None


def expired_jwt(token: Any, now: float | None = None) -> str:
    """``token`` if it is a JWT (three base64url parts, JSON header with ``alg``, JSON payload)
    whose ``exp`` is at least half an hour in the past, read here; :class:`Malformed` if not."""
    if not isinstance(token, str) or len(token) > 8192:
        raise Malformed("it is not a text of at most 8192 characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise Malformed("it is not three dot-separated parts")
    header, payload = _segment(parts[0]), _segment(parts[1])
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise Malformed("its header names no algorithm")
    exp = payload.get("exp") if isinstance(payload, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise Malformed("its payload has no exp")
    if exp > (time.time() if now is None else now) - 1800:
        raise Malformed("its exp is not in the past")
    return token
