"""The trusted side of the agent protocol (grader/executors/official/remote.py), on answers
built here.

Every answer the sandbox sends is hostile input: these tests hand the validators well-formed
answers (which must come through unchanged) and malformed ones of many kinds (which must become
a ``Malformed`` with a sentence, never an exception of another type and never a value a check
could compare as if it were real).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import time
import uuid
from typing import Any

import pytest

from grader.executors.official.remote import (
    DATA_SHAPES,
    MAX_DEPTH,
    MODEL_SHAPES,
    Malformed,
    clean,
    encode,
    expired_jwt,
    plain,
    unpack,
)

FIELD = {
    "type": "CharField",
    "null": False,
    "blank": False,
    "unique": True,
    "primary_key": False,
    "max_length": 50,
    "choices": None,
    "default": None,
    "related_model": None,
    "column": "name",
}

GOOD: list[tuple[str, str, Any]] = [
    ("data", "create", 7),
    ("data", "create_rejected", None),
    ("data", "create_rejected", "unique: UNIQUE constraint failed: blog_post.slug"),
    ("data", "count", 0),
    ("data", "values", [{"id": 1, "title": "A", "published_at": "2024-09-17T08:30:00Z"}]),
    ("data", "command", {"ok": True, "output": "Installed 3 objects", "error": None}),
    ("data", "command", {"ok": False, "output": "", "error": "CommandError: no"}),
    ("data", "admin_action", 302),
    ("models", "exists", False),
    ("models", "user_model", "accounts.User"),
    ("models", "fields", {"name": FIELD}),
    ("models", "relation", None),
    (
        "models",
        "relation",
        {
            "kind": "foreign_key",
            "to": "accounts.User",
            "on_delete": "PROTECT",
            "null": False,
            "related_name": "posts",
        },
    ),
    (
        "models",
        "constraints",
        [{"name": "uniq", "kind": "unique", "fields": ["author", "slug"], "condition": None}],
    ),
    ("models", "admin", None),
    (
        "models",
        "migrations",
        [{"name": "0001_initial", "initial": True, "creates": ["post"], "dependencies": []}],
    ),
    ("models", "pending_migrations", ["Migrations for 'blog':", "~ Alter field name on tag"]),
]

BAD: list[tuple[str, str, Any]] = [
    ("data", "create", True),  # a bool is not a primary key
    ("data", "create", "7"),
    ("data", "create", 2**70),
    ("data", "create_rejected", "refused"),  # no kind
    ("data", "create_rejected", 0),
    ("data", "count", -1),
    ("data", "count", 1.5),
    ("data", "values", {"id": 1}),
    ("data", "values", [[1, 2]]),
    ("data", "command", {"ok": True, "output": "", "error": "but it failed"}),
    ("data", "command", {"ok": True, "output": ""}),
    ("data", "command", {"ok": True, "output": "", "error": None, "extra": 1}),
    ("data", "admin_action", 42),
    ("models", "exists", "yes"),
    ("models", "user_model", "not a label"),
    ("models", "fields", {"name": {**FIELD, "null": "no"}}),
    ("models", "fields", {"name": {k: v for k, v in FIELD.items() if k != "column"}}),
    ("models", "relation", {"kind": "generic", "to": "a.B"}),
    ("models", "constraints", [{"name": "x"}]),
    ("models", "migrations", "0001_initial"),
    ("models", "pending_migrations", [1, 2]),
]


def _shape(kind: str, op: str) -> Any:
    return (DATA_SHAPES if kind == "data" else MODEL_SHAPES)[op]


@pytest.mark.parametrize(("kind", "op", "value"), GOOD, ids=[f"{k}.{o}" for k, o, _ in GOOD])
def test_well_formed_answers_pass_unchanged(kind: str, op: str, value: Any) -> None:
    copy = json.loads(json.dumps(value))
    plain(copy)
    _shape(kind, op)(copy)
    assert copy == value


@pytest.mark.parametrize(("kind", "op", "value"), BAD, ids=[f"{k}.{o}" for k, o, _ in BAD])
def test_malformed_answers_are_refused_with_a_sentence(kind: str, op: str, value: Any) -> None:
    def validate() -> None:
        plain(value)
        _shape(kind, op)(value)

    with pytest.raises(Malformed) as caught:
        validate()
    assert str(caught.value).strip(), "a refusal must say why"


def test_every_capability_has_a_shape() -> None:
    from grader.executors.official.agent import Helpers

    assert set(DATA_SHAPES) == set(Helpers.DATA_OPS)
    assert set(MODEL_SHAPES) == set(Helpers.MODEL_OPS)


def test_plain_refuses_deep_nesting_long_texts_and_non_finite_numbers() -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH + 2):
        deep = [deep]
    for value in (deep, "x" * (64 * 1024 + 1), float("nan"), float("inf")):
        with pytest.raises(Malformed):
            plain(value)


def test_unpack_turns_assertions_into_failed_checks_and_refuses_other_shapes() -> None:
    assert unpack("data.count", {"value": 3}) == 3
    with pytest.raises(AssertionError, match=r"there is no model blog\.Post"):
        unpack("data.count", {"assertion": "there is no model blog.Post\x1b[31m"})
    with pytest.raises(AssertionError, match=r"your project's code raised.*ZeroDivisionError"):
        unpack("data.create", {"raised": "ZeroDivisionError: division by zero"})
    for document in ({}, {"value": 1, "extra": 2}, {"pass": True}, {"assertion": 3}):
        with pytest.raises(Malformed):
            unpack("data.count", document)


def test_clean_strips_terminal_escapes_and_cuts() -> None:
    shown = clean("\x1b]8;;http://evil\x07click\x1b[0m" + "y" * 2000)
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert len(shown) <= 600


def test_encode_sends_dates_as_iso_text_and_refuses_objects() -> None:
    when = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
    sent = encode({"at": when, "day": when.date(), "n": decimal.Decimal("1.5"), "ids": (1, 2)})
    assert sent == {
        "at": "2024-09-17T08:30:00+00:00",
        "day": "2024-09-17",
        "n": "1.5",
        "ids": [1, 2],
    }
    assert encode(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    with pytest.raises(TypeError, match="object cannot be sent"):
        encode(object())


def _jwt(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part(header or {'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


def test_an_expired_token_must_be_a_jwt_an_hour_old() -> None:
    now = time.time()
    token = _jwt({"exp": int(now) - 3600, "user_id": 4})
    assert expired_jwt(token, now) == token
    for forged in (
        _jwt({"exp": int(now) + 300}),  # still valid: the check would test nothing
        _jwt({"exp": int(now) - 60}),  # expired, but within a generous leeway
        _jwt({"user_id": 4}),
        _jwt({"exp": int(now) - 3600}, {"typ": "JWT"}),  # no algorithm
        "not-a-token",
        "a.b",
        "eyJ.!!!.x",
        None,
        "x" * 9000,
    ):
        with pytest.raises(Malformed):
            expired_jwt(forged, now)
