"""The gradebook on a real database: migrations, identity, overrides, audit.

Each test runs on SQLite and, where a server answers (always on CI), on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from grader.errors import UsageError
from grader.instructors.gradebook import Gradebook, LearnerInfo, gradebook_url
from grader.instructors.gradebook.migrate import current_revision, head_revision
from tests.instructor.conftest import make_result
from tests.support import ROOT

LEARNERS = [
    LearnerInfo("amy", "Amy Archer", "amy@example.org", section="A", canvas_user_id="101"),
    LearnerInfo("bob", "Bob Bryce", "bob@example.org", sis_user_id="S-2"),
]
DIGEST_1 = "sha256:" + "11" * 32
DIGEST_2 = "sha256:" + "22" * 32
CHECKS = "sha256:" + "cc" * 32


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield gradebook_url(str(tmp_path / "gradebook.sqlite3"), ROOT)
    else:
        yield gradebook_url(request.getfixturevalue("postgres_gradebook"), ROOT)


@pytest.fixture
def book(url: str) -> Iterator[Gradebook]:
    with Gradebook.open(url) as gradebook:
        gradebook.sync_roster(LEARNERS, "setup")
        yield gradebook


def _record(
    book: Gradebook, learner: str, result: dict, digest: str = DIGEST_1, checks: str = CHECKS
) -> bool:
    return book.record_result(
        learner_id=learner,
        result=result,
        submission_digest=digest,
        checks_digest=checks,
        source="folder",
        actor="runner",
    )


def test_opening_migrates_to_the_newest_schema_once(url: str) -> None:
    with Gradebook.open(url) as first:
        assert current_revision(first.engine) == head_revision()
        tables = set(inspect(first.engine).get_table_names())
    assert {"learners", "results", "grades", "audit_log", "alembic_version"} <= tables
    with Gradebook.open(url) as again:  # already at head: nothing to do, nothing breaks
        assert current_revision(again.engine) == head_revision()


def test_the_same_identity_is_stored_once(book: Gradebook) -> None:
    result = make_result(["health-ok"])
    assert _record(book, "amy", result) is True
    assert _record(book, "amy", result) is False
    assert book.results_count("lab01") == 1
    assert book.graded_keys("lab01") == {("amy", DIGEST_1, CHECKS)}
    grade = book.grade("amy", "lab01")
    assert grade is not None
    assert (grade.points, grade.max_points, grade.status) == (80, 100, "graded")


def test_a_new_submission_becomes_current_and_history_stays(book: Gradebook) -> None:
    _record(book, "amy", make_result(["health-ok"]), DIGEST_1)
    _record(book, "amy", make_result([]), DIGEST_2)
    assert book.grade("amy", "lab01").points == 100
    assert book.results_count("lab01", "amy") == 2
    # Going back to the first submission reuses its stored result: no second row for it.
    assert _record(book, "amy", make_result(["health-ok"]), DIGEST_1) is False
    assert book.grade("amy", "lab01").points == 80
    assert book.results_count("lab01", "amy") == 2


def test_override_and_its_audit_trail(book: Gradebook) -> None:
    _record(book, "bob", make_result(["settings-split", "twelve-factor"]))
    view = book.override("bob", "lab01", 90, "settings checked by hand in review", "prof-ng")
    assert (view.points, view.graded_points, view.override_by) == (90, 65, "prof-ng")
    entry = book.audit("bob", "lab01")[-1]
    assert (entry.action, entry.actor, entry.reason) == (
        "override.set",
        "prof-ng",
        "settings checked by hand in review",
    )
    assert (entry.old["points"], entry.new["points"]) == (65, 90)
    assert entry.at.tzinfo is not None
    cleared = book.override("bob", "lab01", None, "override was a mistake", "prof-ng")
    assert cleared.points == 65
    assert book.audit("bob", "lab01")[-1].action == "override.cleared"


def test_an_override_does_not_survive_new_work(book: Gradebook) -> None:
    _record(book, "bob", make_result(["health-ok"]), DIGEST_1)
    book.override("bob", "lab01", 100, "flaky check on review", "prof-ng")
    _record(book, "bob", make_result(["health-ok", "local-apps"]), DIGEST_2)
    grade = book.grade("bob", "lab01")
    assert grade.override_points is None
    assert grade.points == 65
    actions = [e.action for e in book.audit("bob", "lab01")]
    assert actions[-2:] == ["override.superseded", "grade.recorded"]


@pytest.mark.parametrize(
    ("learner", "points", "reason", "message"),
    [
        ("amy", 50, "  ", "reason"),
        ("amy", 101, "too many", "between 0 and 100"),
        ("amy", -1, "negative", "between 0 and 100"),
        ("bob", 10, "no grade yet", "no grade in lab01"),
    ],
)
def test_bad_overrides_are_refused(
    book: Gradebook, learner: str, points: int, reason: str, message: str
) -> None:
    _record(book, "amy", make_result([]))
    with pytest.raises(UsageError, match=message):
        book.override(learner, "lab01", points, reason, "prof")
    assert book.grade("amy", "lab01").override_points is None


def test_roster_changes_are_audited_and_nobody_is_dropped(book: Gradebook) -> None:
    renamed = LearnerInfo(
        "amy", "Amy Archer-Lee", "amy@example.org", section="A", canvas_user_id="101"
    )
    assert book.sync_roster([renamed], "registrar") == (0, 1)
    assert book.sync_roster([renamed], "registrar") == (0, 0)
    entry = book.audit("amy")[-1]
    assert (entry.action, entry.old["name"], entry.new["name"]) == (
        "learner.updated",
        "Amy Archer",
        "Amy Archer-Lee",
    )
    assert [learner.id for learner in book.learners()] == ["amy", "bob"]


def test_a_result_for_someone_off_the_roster_is_refused(book: Gradebook) -> None:
    with pytest.raises(UsageError, match="not on the roster"):
        _record(book, "mallory", make_result([]))
    assert book.results_count("lab01") == 0


def test_an_unreachable_gradebook_is_a_clear_usage_error() -> None:
    with pytest.raises(UsageError, match="Cannot open the gradebook at postgresql"):
        Gradebook.open("postgresql+psycopg://nobody:secret@127.0.0.1:9/none?connect_timeout=2")


def test_gradebook_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_GRADEBOOK_URL", raising=False)
    assert gradebook_url(None, tmp_path) == f"sqlite:///{tmp_path / '.grader/gradebook.sqlite3'}"
    assert gradebook_url("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("GRADER_GRADEBOOK_URL", "postgresql://u@h/other")
    assert gradebook_url(None, tmp_path) == "postgresql+psycopg://u@h/other"
    assert gradebook_url(str(tmp_path / "g.db"), tmp_path) == f"sqlite:///{tmp_path / 'g.db'}"
