"""People-decided criteria (``kind = "manual"``): rubric, score, result, table, gradebook, exports.

A manual criterion is never decided by a run: it is reported ``awaiting_instructor`` (0 points,
part of the maximum) until an instructor scores it in the gradebook with a reason; from then on
the gradebook's grade, every export and the dashboard carry its points like any other.
Each gradebook test runs on SQLite and, where a server answers (always on CI), on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.errors import RubricError, UsageError
from grader.instructors.dashboard.analysis import criterion_rates, lab_summary, learner_matrix
from grader.instructors.dashboard.data import load_cohort
from grader.instructors.exports.canvas import canvas_csv
from grader.instructors.exports.classroom import to_exercism_v3
from grader.instructors.exports.feedback import to_html, to_markdown
from grader.instructors.exports.gradescope import to_gradescope
from grader.instructors.exports.junit import to_junit
from grader.instructors.exports.published import published_document
from grader.instructors.gradebook import Gradebook, LearnerInfo, gradebook_url
from grader.render import render_result
from grader.report import Report
from grader.report import TestOutcome as CheckOutcome
from grader.result import Outcome, build_result, validate_result
from grader.rubric import Rubric, load_rubric
from grader.scoring import score_report
from grader.staging import StagedSubmission
from tests.instructor.conftest import grader_cli
from tests.support import ROOT

LAB01 = ROOT / "labs" / "lab01" / "rubric.toml"
DEMO = """
[[criteria]]
id = "demo"
title = "The demo shows the service working end to end"
points = 20
outcome = 6
kind = "manual"
feedback = "At the demo: create, read, change and delete one item through the docs page."
see = "README.md#the-demo"

[[criteria]]
id = "code-review"
title = "The code reads well"
points = 10
outcome = 1
kind = "manual"
feedback = "In the code review: names, module boundaries, no dead code."
"""
DIGEST_1 = "sha256:" + "11" * 32
DIGEST_2 = "sha256:" + "22" * 32
CHECKS_1 = "sha256:" + "c1" * 32
CHECKS_2 = "sha256:" + "c2" * 32
AMY = LearnerInfo("amy", "Amy Archer", "amy@example.org", section="A", canvas_user_id="101")


def _rubric(tmp_path: Path, extra: str = DEMO) -> Rubric:
    """lab01's rubric with ``extra`` criteria appended, in a lab01 folder of its own."""
    path = tmp_path / "labs" / "lab01" / "rubric.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LAB01.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_rubric(path)


def _report(rubric: Rubric, failing: set[str] = frozenset(), extra: dict | None = None) -> Report:
    tests = {
        node: CheckOutcome(node, "failed" if c.id in failing else "passed", 0.01, "got 500")
        for c in rubric.criteria
        for node in c.checks
    }
    return Report(tests={**tests, **(extra or {})})


def _result(rubric: Rubric, failing: set[str] = frozenset()) -> dict[str, Any]:
    staged = StagedSubmission(Path("/sub"), Path("/staged"), DIGEST_1, 12, 3456)
    result = build_result(
        rubric=rubric,
        score=score_report(rubric, _report(rubric, failing)),
        outcome=Outcome("graded"),
        submission=Path("/sub"),
        staged=staged,
        database="sqlite",
        mode="official",
        timings={"total": 2.5},
        started_at="2026-12-03T10:00:00Z",
        reported_checks=len(rubric.check_ids),
    )
    validate_result(result)
    return result


# -- rubric and score -----------------------------------------------------------------------


def test_a_manual_criterion_names_no_checks_and_counts_in_the_maximum(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path)
    demo = next(c for c in rubric.criteria if c.id == "demo")
    assert (demo.kind, demo.checks, demo.gate) == ("manual", (), None)
    assert rubric.max_points == 130
    assert rubric.automated_points == 100
    assert not any(check.startswith("demo") for check in rubric.check_ids)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (DEMO.replace('kind = "manual"', 'kind = "manual"\nchecks = ["t.py::t"]', 1), "no checks"),
        (DEMO.replace('kind = "manual"', 'kind = "manual"\nevidence = "x"', 1), "unknown keys"),
        (DEMO.replace('kind = "manual"', 'kind = "manul"', 1), "manual"),
    ],
)
def test_a_wrong_manual_criterion_is_a_sentence_naming_it(
    tmp_path: Path, extra: str, says: str
) -> None:
    with pytest.raises(RubricError, match=says) as caught:
        _rubric(tmp_path, extra)
    assert "demo" in str(caught.value)


def test_a_rubric_only_people_decide_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labs" / "lab01" / "rubric.toml"
    path.parent.mkdir(parents=True)
    path.write_text('lab = "lab01"\ntitle = "t"\nversion = "1"\n' + DEMO, encoding="utf-8")
    with pytest.raises(RubricError, match="at least one criterion a grading run decides"):
        load_rubric(path)


def test_a_run_never_decides_a_manual_criterion(tmp_path: Path) -> None:
    rubric = _rubric(tmp_path)
    # Even a report that claims a "demo" check passed (a forged one) changes nothing.
    forged = {"demo": CheckOutcome("demo", "passed", 0.0, None)}
    score = score_report(rubric, _report(rubric, extra=forged))
    by_id = {c.criterion.id: c for c in score.criteria}
    assert (by_id["demo"].status, by_id["demo"].points) == ("awaiting_instructor", 0)
    assert (score.points, score.max_points, score.awaiting_points) == (100, 130, 30)
    assert score.all_passed
    assert score.integrity_flags == ()
    failing = score_report(rubric, _report(rubric, {"health-ok"}))
    assert not failing.all_passed


def test_the_result_and_the_learners_table_say_it_awaits_the_instructor(tmp_path: Path) -> None:
    result = _result(_rubric(tmp_path))
    demo = next(c for c in result["criteria"] if c["id"] == "demo")
    assert (demo["status"], demo["kind"], demo["points"], demo["max_points"]) == (
        "awaiting_instructor",
        "manual",
        0,
        20,
    )
    expected = {"points": 100, "max_points": 130, "percent": 76.9, "awaiting_points": 30}
    assert result["score"] == expected
    out = io.StringIO()
    render_result(result, Console(file=out, width=200, color_system=None), handout="README.md")
    text = out.getvalue()
    assert "INSTRUCTOR" in text
    assert "-/20" in text
    assert "30 points await your instructor" in text
    assert "Every criterion the grader decides passes; the other 30 points" in text


# -- gradebook ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gradebook]:
    if request.param == "sqlite":
        url = gradebook_url(str(tmp_path / "gradebook.sqlite3"), ROOT)
    else:
        url = gradebook_url(request.getfixturevalue("postgres_gradebook"), ROOT)
    with Gradebook.open(url) as gradebook:
        gradebook.sync_roster([AMY], "setup")
        yield gradebook


def _record(book: Gradebook, result: dict, digest: str = DIGEST_1, checks: str = CHECKS_1) -> None:
    book.record_result(
        learner_id="amy",
        result=result,
        submission_digest=digest,
        checks_digest=checks,
        source="folder",
        actor="runner",
    )


def test_an_instructor_scores_a_manual_criterion_with_an_audited_reason(
    book: Gradebook, tmp_path: Path
) -> None:
    _record(book, _result(_rubric(tmp_path), {"health-ok"}))
    before = book.grade("amy", "lab01")
    assert (before.points, before.max_points, before.awaiting) == (80, 130, ["demo", "code-review"])
    view = book.review("amy", "lab01", "demo", 15, "CRUD shown; delete was not", "prof-ng")
    assert (view.points, view.graded_points, view.awaiting) == (95, 95, ["code-review"])
    demo = next(c for c in view.document["criteria"] if c["id"] == "demo")
    assert (demo["status"], demo["points"]) == ("failed", 15)
    assert demo["review"]["reason"] == "CRUD shown; delete was not"
    assert view.document["score"]["awaiting_points"] == 10
    validate_result(view.document)
    full = book.review("amy", "lab01", "code-review", 10, "clear modules", "prof-ng")
    assert full.points == 105
    assert full.awaiting == []
    assert next(c for c in full.document["criteria"] if c["id"] == "code-review")["status"] == (
        "passed"
    )
    entry = book.audit("amy", "lab01")[-2]
    assert (entry.action, entry.actor, entry.reason) == (
        "review.set",
        "prof-ng",
        "CRUD shown; delete was not",
    )
    assert (entry.old, entry.new) == (
        {"criterion": "demo", "points": None},
        {"criterion": "demo", "points": 15},
    )
    cleared = book.review("amy", "lab01", "demo", None, "scored the wrong learner", "prof-ng")
    assert cleared.points == 90
    assert cleared.awaiting == ["demo"]
    assert book.audit("amy", "lab01")[-1].action == "review.cleared"
    # The stored result is never edited: the review lives beside it.
    stored = book.grade("amy", "lab01")
    assert stored.reviews.keys() == {"code-review"}


@pytest.mark.parametrize(
    ("criterion", "points", "reason", "says"),
    [
        ("health-ok", 5, "r", "not a manual criterion of lab01 (its manual criteria: code-review"),
        ("demo", 21, "r", "between 0 and 20"),
        ("demo", -1, "r", "between 0 and 20"),
        ("demo", 5, "  ", "Give the reason"),
    ],
)
def test_a_wrong_review_is_a_sentence(
    book: Gradebook, tmp_path: Path, criterion: str, points: int, reason: str, says: str
) -> None:
    _record(book, _result(_rubric(tmp_path)))
    with pytest.raises(UsageError) as caught:
        book.review("amy", "lab01", criterion, points, reason, "prof-ng")
    assert says in str(caught.value)
    with pytest.raises(UsageError, match="no grade in lab02"):
        book.review("amy", "lab02", "demo", 5, "r", "prof-ng")


def test_a_new_submission_clears_the_reviews_and_a_regrade_keeps_them(
    book: Gradebook, tmp_path: Path
) -> None:
    rubric = _rubric(tmp_path)
    _record(book, _result(rubric))
    book.review("amy", "lab01", "demo", 20, "all shown", "prof-ng")
    _record(book, _result(rubric), DIGEST_1, CHECKS_2)  # same files, changed checks
    assert book.grade("amy", "lab01").points == 120
    _record(book, _result(rubric, {"health-ok"}), DIGEST_2, CHECKS_2)  # new work
    grade = book.grade("amy", "lab01")
    assert (grade.points, grade.awaiting) == (80, ["demo", "code-review"])
    actions = [e.action for e in book.audit("amy", "lab01")]
    assert actions.count("review.superseded") == 1


def test_every_export_and_the_dashboard_carry_the_instructors_points(
    book: Gradebook, tmp_path: Path
) -> None:
    _record(book, _result(_rubric(tmp_path), {"health-ok"}))
    book.review("amy", "lab01", "demo", 15, "delete was not shown", "prof-ng")
    grade = book.grade("amy", "lab01")
    document = published_document(grade)
    validate_result(document)
    assert (document["score"]["points"], document["score"]["max_points"]) == (95, 130)

    suite = ET.fromstring(to_junit(document).split("\n", 1)[1]).find("testsuite")
    assert suite is not None
    cases = {c.get("classname"): c for c in suite.iter("testcase")}
    assert "delete was not shown" in ET.tostring(cases["lab01.demo"], "unicode")
    assert cases["lab01.code-review"].find("skipped") is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == "95/130"

    scope = to_gradescope(document)
    assert scope["score"] == 95.0
    demo = next(t for t in scope["tests"] if "demo" in t["tags"])
    assert (demo["score"], demo["max_score"]) == (15.0, 20.0)
    assert "delete was not shown" in demo["output"]
    review = next(t for t in scope["tests"] if "code-review" in t["tags"])
    assert review["output"].startswith("Awaiting your instructor")

    classroom = to_exercism_v3(document)
    assert sum(t["score"] for t in classroom["tests"]) == 95

    page = to_markdown(document)
    assert "delete was not shown" in page
    assert "| 15/20 |" in page
    assert "awaiting your instructor" in page
    assert "delete was not shown" in to_html(document)

    lms = canvas_csv([AMY], [grade], "lab01", 130)
    assert lms.strip().splitlines()[-1].endswith(",95")

    cohort = load_cohort(book, ["lab01"])
    (row,) = learner_matrix(cohort)
    assert (row.cells[0].points, row.cells[0].max_points) == (95, 130)
    summary = lab_summary(cohort, "lab01")
    assert summary is not None
    assert summary.mean_points == 95
    rates = {r.id: r for r in criterion_rates(cohort, "lab01")}
    assert (rates["demo"].graded, rates["demo"].passed) == (1, 0)
    assert rates["code-review"].graded == 0  # nobody scored it: no rate yet
    json.dumps(document)  # the published document stays plain JSON


@pytest.mark.slow  # three CLI processes (~10 s each on a loaded machine)
def test_the_cohort_review_command_scores_and_refuses_with_a_sentence(tmp_path: Path) -> None:
    course = tmp_path / "course"
    _rubric(course)
    url = str(tmp_path / "book.sqlite3")
    with Gradebook.open(gradebook_url(url, ROOT)) as book:
        book.sync_roster([AMY], "setup")
        _record(book, _result(_rubric(tmp_path)))
    env = {"GRADER_COURSE_ROOT": str(course), "GRADER_ACTOR": "prof-ng"}
    review = ("cohort", "review", "amy", "lab01", "demo", "--gradebook", url)
    done = grader_cli(*review, "--points", "12", "--reason", "half the demo", env=env)
    assert done.returncode == 0, done.stderr
    assert "demo: 12 points; 112/130 now counts; still awaiting: code-review" in done.stdout
    wrong = grader_cli(*review, "--points", "99", "--reason", "x", env=env)
    assert wrong.returncode == 2
    assert "between 0 and 20" in wrong.stderr + wrong.stdout
    assert "Traceback" not in wrong.stderr
    # Wide enough that the Points cell is not folded across lines (the table has a Why column).
    wide = {**(env or {}), "COLUMNS": "200"}
    status = grader_cli("cohort", "status", "--lab", "lab01", "--gradebook", url, env=wide)
    assert "112/130 (1 manual awaiting)" in status.stdout
