"""The grader's data fixtures (``grader.executors.harness.data``): their contracts, as rubric
checks see them.

The fixtures run inside the grader's child process, so they are tested there: each probe below
is a check file graded through the real pipeline (staging, hardened child, report) against
lab02's generated solution, or a copy of it with migrations missing. Every probe is its own
criterion, so a failure names the broken contract and carries the probe's assertion message.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.executors.harness.data import integrity_kind, plain
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT, postgres_url

# Probes against the complete lab02 solution. Helpers return plain data only, so every result is
# also passed through json.dumps.
PROBES_SOLUTION = """
import datetime
import itertools
import json

import pytest

_serial = itertools.count(1)


def _json(value):
    json.dumps(value)
    return value


def _post(data, **fields):
    n = next(_serial)
    values = {
        "title": "Probe", "slug": "probe", "body": "Probe body.", "author": data.user(),
        "category": data.create("blog.Category", name=f"Probes {n}", slug=f"probes-{n}"),
    }
    values.update(fields)
    return values


def test_create_returns_the_pk_and_values_read_it_back(data):
    pk = data.create("blog.Category", name="Notes", slug="notes")
    assert isinstance(pk, int)
    rows = _json(data.values("blog.Category", "name", "slug", pk=pk))
    assert rows == [{"name": "Notes", "slug": "notes"}]
    assert data.count("blog.Category", slug="notes") == 1


def test_create_rejected_names_the_kind_of_refusal(data):
    author = data.user()
    data.create("blog.Post", **_post(data, author=author))
    category = data.create("blog.Category", name="Other", slug="other")
    unique = data.create_rejected("blog.Post", **_post(data, author=author, category=category))
    check = data.create_rejected("blog.Post", **_post(data, slug="x", status="gone"))
    not_null = data.create_rejected("blog.Comment", post=None, author=author, body="hi")
    assert unique.startswith("unique: "), unique
    assert check.startswith("check: "), check
    assert not_null.startswith("not_null: "), not_null


def test_a_refusal_leaves_the_check_able_to_go_on(data):
    assert data.create_rejected("blog.Category", name="", slug="a") is None
    assert data.create_rejected("blog.Category", name="", slug="b") is not None
    assert data.create("blog.Category", name="After", slug="after")
    assert data.count("blog.Category") == 2


def test_an_accepted_row_stays(data):
    assert data.create_rejected("blog.Tag", name="kept", slug="kept") is None
    assert data.count("blog.Tag", slug="kept") == 1


def test_create_fails_the_check_when_a_valid_row_is_refused(data):
    data.create("blog.Tag", name="twice", slug="twice")
    with pytest.raises(AssertionError, match="the database refused a valid blog.Tag"):
        data.create("blog.Tag", name="twice", slug="twice")


def test_relations_take_primary_keys(data):
    tags = [data.create("blog.Tag", name=n, slug=n) for n in ("a", "b")]
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    pk = data.create("blog.Post", **_post(data, tags=tags, status="published", published_at=when))
    assert data.count("blog.Post", pk=pk, tags__in=tags) == 2
    row = _json(data.values("blog.Post", "published_at", "author", pk=pk))[0]
    assert row["published_at"].startswith("2024-01-01T00:00:00")
    assert isinstance(row["author"], int)


def test_user_sets_a_role_only_when_asked(data):
    reader = data.user()
    editor = data.user(role="editor")
    rows = data.values("accounts.User", "role", pk__in=[reader, editor])
    assert [r["role"] for r in rows] == ["reader", "editor"]


def test_learner_facing_errors(data):
    missing = "there is no model blog.Nope: define class Nope in blog/models.py"
    with pytest.raises(AssertionError, match=missing):
        data.create("blog.Nope")
    with pytest.raises(AssertionError, match="there is no installed app 'shop'"):
        data.count("shop.Item")
    with pytest.raises(AssertionError, match="blog.Tag has no field 'colour'"):
        data.create("blog.Tag", name="x", slug="x", colour="red")


def test_command_reports_success_and_failure(data):
    ran = _json(data.command("seed_governance"))
    assert ran["ok"] and ran["error"] is None and "categories" in ran["output"]
    missing = _json(data.command("no_such_command"))
    assert not missing["ok"]
    assert "there is no management command 'no_such_command'" in missing["error"]


def test_admin_action_runs_as_a_superuser(data):
    chosen = data.create("blog.Post", **_post(data))
    status = data.admin_action("blog.Post", "archive", [chosen])
    assert status == 302
    assert data.values("blog.Post", "status", pk=chosen) == [{"status": "archived"}]


def test_model_inspection(models):
    assert models.exists("blog.Post") and not models.exists("blog.Nope")
    assert models.user_model() == "accounts.User"
    status = _json(models.fields("blog.Post"))["status"]
    assert status["choices"] == ["draft", "in_review", "published", "archived"]
    assert (status["default"], status["type"], status["null"]) == ("draft", "CharField", False)
    assert "comments" not in models.fields("blog.Post"), "reverse relations are not fields"
    assert _json(models.relation("blog.Post", "author")) == {
        "kind": "foreign_key", "to": "accounts.User", "on_delete": "PROTECT", "null": False,
        "related_name": "posts",
    }
    assert models.relation("blog.Post", "tags")["kind"] == "many_to_many"
    assert models.relation("blog.Post", "title") is None
    assert models.relation("blog.Post", "nothing") is None


def test_constraint_inspection(models):
    declared = {c["name"]: c for c in _json(models.constraints("blog.Post"))}
    assert declared["blog_post_unique_slug_per_author"]["fields"] == ["author", "slug"]
    assert declared["blog_post_status_valid"]["kind"] == "check"
    indexes = [c["columns"] for c in _json(models.db_constraints("blog.Post")) if c["index"]]
    assert ["status", "published_at"] in indexes


def test_admin_inspection(models):
    post = _json(models.admin("blog.Post"))
    assert post["class"] == "PostAdmin"
    assert "status" in post["list_filter"] and "title" in post["list_display"]
    assert {"archive", "delete_selected"} <= set(post["actions"])
    assert post["action_descriptions"]["archive"] == "Mark selected posts as archived"
    assert models.admin("auth.Group") is not None
    assert models.admin("sessions.Session") is None


def test_migration_inspection(models):
    history = _json(models.migrations("blog"))
    assert history[0]["name"] == "0001_initial" and history[0]["initial"]
    assert {"post", "comment", "category"} <= set(history[0]["creates"])
    assert any(dep.startswith("accounts.") for dep in history[0]["dependencies"])
    assert models.migrations("api") == []
    assert models.pending_migrations() == []
"""

# Probes against the solution without blog's migration: tables missing, changes pending.
PROBES_NO_BLOG_MIGRATION = """
import pytest


def test_a_missing_table_is_explained(data, models):
    with pytest.raises(AssertionError, match=r"no table for blog.Category .*makemigrations blog"):
        data.create("blog.Category", name="x", slug="x")
    with pytest.raises(AssertionError, match="no table for blog.Post"):
        data.count("blog.Post")
    with pytest.raises(AssertionError, match="no table for blog.Post"):
        models.db_constraints("blog.Post")


def test_pending_migrations_lists_the_changes(models):
    pending = models.pending_migrations()
    assert "Migrations for 'blog':" in pending
    assert any("Create model Post" in line for line in pending), pending
"""

# Probes against the solution with no migrations at all: the test database cannot be built.
PROBES_NO_MIGRATIONS = """
def test_needs_the_database(data):
    data.count("blog.Post")
"""


def _probe_lab(tmp: Path, name: str, probes: str) -> Path:
    """A lab folder whose rubric makes each probe test of ``probes`` its own criterion."""
    lab = tmp / name
    (lab / "hidden").mkdir(parents=True)
    (lab / "hidden" / "test_probe.py").write_text(textwrap.dedent(probes), encoding="utf-8")
    tests = [
        line.split("(")[0].removeprefix("def ")
        for line in probes.splitlines()
        if line.startswith("def test_")
    ]
    criteria = "".join(
        f'\n[[criteria]]\nid = "{test.removeprefix("test_").replace("_", "-")}"\n'
        f'title = "{test}"\npoints = 1\noutcome = 2\nchecks = ["test_probe.py::{test}"]\n'
        f'feedback = "probe {test} failed"\n'
        for test in tests
    )
    (lab / "rubric.toml").write_text(
        f'lab = "{name}"\ntitle = "probes"\nversion = "1"\nmigrations = true\n{criteria}',
        encoding="utf-8",
    )
    return lab


@pytest.fixture(scope="module")
def lab02_solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab02") / "solution"
    generate_lab(ROOT / "solutions", "lab02", "solution", dest)
    return dest


@pytest.fixture(scope="module")
def grade_probes(
    lab02_solution: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., dict[str, Any]]:
    """Grade ``probes`` against lab02's solution, minus the files named in ``remove``; the
    outcome of each probe by test name."""

    def grade(
        name: str, probes: str, remove: tuple[str, ...] = (), database: str = "sqlite"
    ) -> dict[str, Any]:
        # ``name`` is the probe lab's id, so it must look like one (labNN).
        tmp = tmp_path_factory.mktemp(name)
        submission = tmp / "submission"
        shutil.copytree(lab02_solution, submission)
        for relative in remove:
            (submission / relative).unlink()
        result = grade_submission(
            _probe_lab(tmp, name, probes), submission, GradeOptions(database=database)
        )
        validate_result(result)
        assert result["status"] == "graded", result["message"]
        return {c["title"]: c for c in result["criteria"]}

    return grade


@pytest.fixture(scope="module")
def solution_probes(grade_probes: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return grade_probes("lab91", PROBES_SOLUTION)


PROBE_NAMES = [
    line.split("(")[0].removeprefix("def ")
    for line in PROBES_SOLUTION.splitlines()
    if line.startswith("def test_")
]


@pytest.mark.parametrize("probe", PROBE_NAMES)
def test_fixture_contract_on_sqlite(solution_probes: dict[str, Any], probe: str) -> None:
    criterion = solution_probes[probe]
    assert criterion["status"] == "passed", criterion["detail"]


@pytest.mark.postgres
def test_fixture_contracts_on_postgres(grade_probes: Callable[..., dict[str, Any]]) -> None:
    """PostgreSQL aborts a transaction after an error; the savepoints must keep checks going."""
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server here (CI requires one)")
    probes = grade_probes("lab92", PROBES_SOLUTION, database=url)
    failed = {name: c["detail"] for name, c in probes.items() if c["status"] != "passed"}
    assert not failed


def test_missing_tables_and_pending_migrations_are_explained(
    grade_probes: Callable[..., dict[str, Any]],
) -> None:
    probes = grade_probes(
        "lab93",
        PROBES_NO_BLOG_MIGRATION,
        remove=("blog/migrations/0001_initial.py",),
    )
    failed = {name: c["detail"] for name, c in probes.items() if c["status"] != "passed"}
    assert not failed


def test_an_unbuildable_test_database_is_explained(
    grade_probes: Callable[..., dict[str, Any]],
) -> None:
    probes = grade_probes(
        "lab94",
        PROBES_NO_MIGRATIONS,
        remove=("accounts/migrations/0001_initial.py", "blog/migrations/0001_initial.py"),
    )
    detail = probes["test_needs_the_database"]["detail"]
    assert detail.startswith("the test database could not be built from your migrations: ")
    assert "Dependency on app with no migrations: accounts" in detail
    assert "Traceback" not in detail


# Pure helpers -----------------------------------------------------------------------------------


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("violates something")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate", "kind"),
    [
        ("UNIQUE constraint failed: blog_post.author_id, blog_post.slug", None, "unique"),
        ("CHECK constraint failed: blog_post_status_valid", None, "check"),
        ("NOT NULL constraint failed: blog_post.category_id", None, "not_null"),
        ("FOREIGN KEY constraint failed", None, "foreign_key"),
        ('new row violates check constraint "x"', "23514", "check"),
        ("duplicate key value violates unique constraint", "23505", "unique"),
        ('null value in column "x"', "23502", "not_null"),
        ("insert violates foreign key constraint", "23503", "foreign_key"),
        ("something else", None, "other"),
    ],
)
def test_integrity_kind(message: str, sqlstate: str | None, kind: str) -> None:
    error = Exception(message)
    if sqlstate is not None:
        error.__cause__ = _Cause(sqlstate)
    assert integrity_kind(error) == kind


def test_plain_turns_values_into_plain_data() -> None:
    import datetime
    import decimal
    import enum

    class Colour(enum.Enum):
        RED = "red"

    value = {
        "when": datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.UTC),
        "day": datetime.date(2024, 1, 2),
        "price": decimal.Decimal("1.50"),
        "colour": Colour.RED,
        "items": (1, "a", None, True),
        "other": object,
    }
    assert plain(value) == {
        "when": "2024-01-02T03:04:00+00:00",
        "day": "2024-01-02",
        "price": "1.50",
        "colour": "red",
        "items": [1, "a", None, True],
        "other": "<class 'object'>",
    }
