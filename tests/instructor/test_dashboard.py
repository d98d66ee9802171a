"""The facilitator dashboard: its rules, its figures, its privacy, its output folder, its CLI.

The cohort is made by hand in a real gradebook (:func:`build_cohort`): results are built with the
grader's own ``build_result`` (no checks run, so these tests are fast) and recorded through the
gradebook's API; then each result's ``graded_at`` (and each learner's roster entry in the audit)
is moved to a chosen moment before :data:`NOW`, so "no progress for 2 days" has a fixed answer.
Names and ids are unusual on purpose: finding one in a public build can only mean a leak, never a
coincidence with a word of the page. ``test_dashboard_browser.py`` opens the same builds in
Chromium.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grader.errors import UsageError
from grader.instructors.dashboard.analysis import StuckRules, find_stuck, parse_duration
from grader.instructors.dashboard.build import DashboardBuild, build_dashboard
from grader.instructors.dashboard.data import load_cohort
from grader.instructors.gradebook import Gradebook, LearnerInfo, gradebook_url
from grader.instructors.gradebook.models import AuditEntry, Result
from grader.report import TestOutcome as CheckOutcome
from grader.result import Outcome, build_result, validate_result
from grader.rubric import load_rubric
from grader.scoring import CriterionResult, Score
from grader.staging import StagedSubmission
from tests.support import ROOT

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ENROLLED = NOW - timedelta(days=3)

ROSTER = {  # learner id: name
    "qa-farrowmere": "Quillon Farrowmere",
    "bx-ostravenko": "Brisk Ostravenko",
    "tm-kelderwick": "Tamsin Kelderwick",
    "fn-abernathy": "Finnola Abernathy-Rusk",
    "nv-zoltarian": "Nevin Zoltarian",
    "er-quennell": "Erasmus Quennell",
    "rg-vantablack": "Ragnvald Vantablack",
    "od-thornquist": "Odalys Thornquist",
    "pv-oyelaran": "Pim Vasquez-Oyelaran",
    "sl-amadi": "Saoirse Lindqvist-Amadi",
    "kb-brennagh": "Kofi Brennagh",
    "yh-halvorsen": "Yusra Halvorsen-Quibb",
}


def email(learner_id: str) -> str:
    return f"{learner_id}@mail.example.org"


def fake_result(lab: str, failing: Iterable[str] = (), *, status: str = "graded") -> dict[str, Any]:
    """A schema-valid result of ``lab`` in which the ``failing`` criteria failed."""
    rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
    failed = set(failing)
    unknown = failed - {c.id for c in rubric.criteria}
    assert not unknown, f"no such criteria in {lab}: {unknown}"
    criteria = []
    for c in rubric.criteria:
        if status != "graded":
            criteria.append(CriterionResult(c, "not_run", 0, None, ()))
            continue
        ok = c.id not in failed
        tests = tuple(
            CheckOutcome(node, "passed" if ok else "failed", 0.01, None if ok else "expected 200")
            for node in c.checks
        )
        criteria.append(
            CriterionResult(c, "passed" if ok else "failed", c.points if ok else 0, None, tests)
        )
    staged = StagedSubmission(Path("/sub"), Path("/staged"), "sha256:" + "ab" * 32, 12, 3456)
    result = build_result(
        rubric=rubric,
        score=Score(tuple(criteria)),
        outcome=Outcome(
            status,
            None if status == "graded" else "settings do not import",
            None if status == "graded" else "settings",
        ),
        submission=Path("/sub"),
        staged=staged,
        database="sqlite",
        mode="local",
        timings={"total": 2.5},
        started_at="2026-11-21T10:00:00Z",
        reported_checks=len(rubric.check_ids),
    )
    validate_result(result)
    return result


def record(
    gradebook: Gradebook,
    learner_id: str,
    lab: str,
    failing: Iterable[str],
    at: datetime,
    submission: str,
    *,
    checks: str = "sha256:checks-1",
    status: str = "graded",
) -> None:
    """Record one grading of ``submission`` (any label: it becomes the digest) at ``at``."""
    result = fake_result(lab, failing, status=status)
    assert gradebook.record_result(
        learner_id=learner_id,
        result=result,
        submission_digest=f"sha256:{learner_id}-{submission}",
        checks_digest=checks,
        source="folder",
        actor="test",
    )
    with Session(gradebook.engine) as session, session.begin():
        newest = session.scalar(select(func.max(Result.id)))
        session.execute(update(Result).where(Result.id == newest).values(graded_at=at))


def ago(**span: float) -> datetime:
    return NOW - timedelta(**span)


def build_cohort(gradebook: Gradebook) -> None:
    """The cohort the dashboard tests assert on (each learner's story in the comments)."""
    gradebook.sync_roster(
        [LearnerInfo(i, name, email(i), "A") for i, name in ROSTER.items()], "test"
    )
    with Session(gradebook.engine) as session, session.begin():
        session.execute(
            update(AuditEntry).where(AuditEntry.action == "learner.added").values(at=ENROLLED)
        )
    health = ["health-ok", "health-degraded"]
    # Stuck, no progress: one attempt three days ago, not full marks.
    record(gradebook, "qa-farrowmere", "lab01", health, ago(days=3), "a")
    # Progressing: a better attempt an hour ago; lab02 started.
    record(gradebook, "bx-ostravenko", "lab01", ["twelve-factor", *health], ago(days=5), "a")
    record(gradebook, "bx-ostravenko", "lab01", [], ago(hours=1), "b")
    record(gradebook, "bx-ostravenko", "lab02", ["admin", "post-index"], ago(hours=2), "a")
    # Repeated failure: health-degraded fails in three attempts in a row (progress otherwise).
    record(gradebook, "tm-kelderwick", "lab01", ["twelve-factor", "health-degraded"],
           ago(days=1, hours=12), "a")  # fmt: skip
    record(gradebook, "tm-kelderwick", "lab01", ["health-degraded"], ago(days=1), "b")
    record(gradebook, "tm-kelderwick", "lab01", ["health-degraded"], ago(hours=3), "c")
    # Finished everything days ago: never stuck.
    record(gradebook, "fn-abernathy", "lab01", [], ago(days=4), "a")
    record(gradebook, "fn-abernathy", "lab02", [], ago(days=3), "a")
    # nv-zoltarian submitted nothing since joining the roster three days ago.
    # Three submissions that could not be graded (and nothing ever scored).
    for n, hours in enumerate((30, 20, 5)):
        record(gradebook, "er-quennell", "lab01", [], ago(hours=hours), f"e{n}", status="error")
    # A regrade of the same submission is not a new attempt: two attempts, so no repeated
    # failure by the 3-attempt rule; the newer attempt scored no better: no progress since 50 h.
    record(gradebook, "rg-vantablack", "lab01", health, ago(hours=50), "a")
    record(gradebook, "rg-vantablack", "lab01", health, ago(hours=26), "a", checks="sha256:c2")
    record(gradebook, "rg-vantablack", "lab01", health, ago(hours=1), "b", checks="sha256:c2")
    # Recent work, various results.
    record(gradebook, "od-thornquist", "lab01", [], ago(hours=4), "a")
    record(gradebook, "od-thornquist", "lab02", ["slug-per-author"], ago(hours=1), "a")
    record(gradebook, "pv-oyelaran", "lab01", ["no-secret-default"], ago(hours=6), "a")
    record(gradebook, "sl-amadi", "lab01", ["health-degraded"], ago(hours=5), "a")
    record(gradebook, "kb-brennagh", "lab01", health, ago(hours=7), "a")
    record(gradebook, "kb-brennagh", "lab02", ["migrations", "admin", "seed-governance"],
           ago(hours=2), "a")  # fmt: skip
    record(gradebook, "yh-halvorsen", "lab01", ["twelve-factor", "no-secret-default"],
           ago(hours=8), "a")  # fmt: skip


def demo_gradebook(path: Path) -> str:
    """Create the cohort in a new SQLite gradebook at ``path``; its URL."""
    url = gradebook_url(str(path), ROOT)
    with Gradebook.open(url) as gradebook:
        build_cohort(gradebook)
    return url


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return demo_gradebook(tmp_path_factory.mktemp("dashboard") / "gradebook.sqlite3")


@pytest.fixture(scope="module")
def builds(cohort_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, DashboardBuild]:
    """The private and the public build of the cohort, as of :data:`NOW`."""
    base = tmp_path_factory.mktemp("dashboard-out")
    with Gradebook.open(cohort_url) as gradebook:
        return {
            "private": build_dashboard(gradebook, base / "private", now=NOW, course_root=ROOT),
            "public": build_dashboard(
                gradebook, base / "public", public=True, now=NOW, course_root=ROOT
            ),
        }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def identifying_strings() -> list[str]:
    """Every roster name, id and e-mail address, and each name's parts of 4+ letters."""
    found = set()
    for learner_id, name in ROSTER.items():
        found |= {learner_id, name, email(learner_id)}
        found |= {part for part in name.replace("-", " ").split() if len(part) >= 4}
    return sorted(found)


def leaks(folder: Path) -> list[tuple[str, str]]:
    """``(file, string)`` for every identifying string found in any file under ``folder``."""
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8").casefold()
        hits += [(path.name, s) for s in identifying_strings() if s.casefold() in text]
    return hits


# -- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", timedelta(days=2)),
        ("36h", timedelta(hours=36)),
        ("90m", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 2D ", timedelta(days=2)),
    ],
)
def test_durations_read_as_people_write_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2x", "d", "2d junk", "-1d", "1.5d"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_stuck_learners_are_found_by_each_rule_and_only_them(cohort_url: str) -> None:
    with Gradebook.open(cohort_url) as gradebook:
        data = load_cohort(gradebook)
    assert data.labs == ("lab01", "lab02")
    stuck = {s.learner.id: s for s in find_stuck(data, StuckRules(timedelta(days=2), 3), NOW)}
    reasons = {i: [(r.kind, r.lab, r.criteria) for r in s.reasons] for i, s in stuck.items()}
    assert reasons == {
        "qa-farrowmere": [("no-progress", None, ())],
        "nv-zoltarian": [("no-progress", None, ())],
        "er-quennell": [("no-progress", None, ()), ("cannot-be-graded", "lab01", ())],
        "tm-kelderwick": [("repeated-failure", "lab01", ("health-degraded",))],
        # Its regrade (same submission, new checks) is not a third attempt; the newer
        # attempt scored no better, so its last progress is the first attempt's grading.
        "rg-vantablack": [("no-progress", None, ())],
    }
    # Issue 20: the reason names the criterion by its title, as every page does, not its id.
    assert stuck["tm-kelderwick"].reasons[0].text == (
        "lab01: “The health check notices a database outage” failed in each of the last 3 attempts"
    )
    assert stuck["qa-farrowmere"].last_progress == ago(days=3)
    assert stuck["qa-farrowmere"].reasons[0].text == "no progress for 3 days"
    assert stuck["nv-zoltarian"].last_progress == ENROLLED  # never scored: since joining
    assert "nothing scored yet" in stuck["nv-zoltarian"].reasons[0].text
    assert stuck["rg-vantablack"].last_progress == ago(hours=50)
    # fn-abernathy has not moved for three days either, but has full marks everywhere.
    assert "fn-abernathy" not in stuck


def test_the_rules_are_settings(cohort_url: str) -> None:
    with Gradebook.open(cohort_url) as gradebook:
        data = load_cohort(gradebook)
    assert find_stuck(data, StuckRules(after=timedelta(days=4), repeated=0), NOW) == []
    strict = {s.learner.id: s for s in find_stuck(data, StuckRules(timedelta(days=9), 2), NOW)}
    # Two attempts now suffice; the criteria come in rubric order.
    assert [(r.kind, r.criteria) for r in strict["rg-vantablack"].reasons] == [
        ("repeated-failure", ("health-ok", "health-degraded"))
    ]
    assert sorted(strict) == ["er-quennell", "rg-vantablack", "tm-kelderwick"]


# -- figures --------------------------------------------------------------------------------


def test_private_csv_figures(builds: dict[str, DashboardBuild]) -> None:
    out = builds["private"].out
    criteria = {(r["lab"], r["criterion"]): r for r in read_csv(out / "criteria.csv")}
    degraded = criteria[("lab01", "health-degraded")]
    assert (degraded["graded"], degraded["passed"], degraded["pass_rate"]) == ("10", "5", "0.5")
    assert criteria[("lab01", "health-ok")]["passed"] == "7"
    assert criteria[("lab01", "twelve-factor")]["pass_rate"] == "0.9"
    assert criteria[("lab02", "admin")]["passed"] == "2"  # of 4 graded in lab02
    outcomes = {r["outcome"]: r for r in read_csv(out / "outcomes.csv")}
    # Outcome 1 in lab01 is worth 50 points a learner; 12 on the roster; 10 graded, of whom
    # all earn local-apps and settings-split (30) and 9 twelve-factor (20).
    assert (outcomes["1"]["earned"], outcomes["1"]["possible"]) == ("480", "600")
    assert outcomes["1"]["title"] == "Lay the foundations"  # read from docs/index.md
    assert (outcomes["2"]["earned"], outcomes["2"]["possible"]) == ("345", "1200")
    cells = read_csv(out / "learners-labs.csv")
    assert len(cells) == len(ROSTER) * 2
    status = {(r["learner_id"], r["lab"]): r["status"] for r in cells}
    assert status[("er-quennell", "lab01")] == "error"
    assert status[("nv-zoltarian", "lab01")] == "missing"
    labs = {r["lab"]: r for r in read_csv(out / "labs.csv")}
    assert (labs["lab01"]["graded"], labs["lab01"]["not_graded"], labs["lab01"]["missing"]) == (
        "10",
        "1",
        "1",
    )
    assert labs["lab01"]["full_marks"] == "3"
    stuck = read_csv(out / "stuck.csv")
    assert {r["learner_id"] for r in stuck} == {
        "qa-farrowmere", "nv-zoltarian", "er-quennell", "tm-kelderwick", "rg-vantablack"
    }  # fmt: skip
    assert builds["private"].stuck == 5


def test_private_page_names_learners_and_marks_what_to_revisit(
    builds: dict[str, DashboardBuild],
) -> None:
    page = builds["private"].page.read_text(encoding="utf-8")
    for learner_id, name in ROSTER.items():
        assert f'data-learner="{learner_id}"' in page
        assert name in page
    assert page.count('<svg role="img" class="chart"') == 6
    # Met by fewer than 60% and standing out: lab01's health-degraded (5 of 10; of the three
    # who failed it before, one fixed it) and lab02's admin (2 of 4).
    assert page.count('<tr class="revisit">') == 2
    # Issue 20: who fails a criterion, by name (private build only).
    who = re.search(r'<td class="who" data-criterion="lab01/health-degraded">([^<]*)</td>', page)
    assert who is not None
    assert sorted(who.group(1).split(", ")) == sorted(
        ROSTER[i]
        for i in ("qa-farrowmere", "tm-kelderwick", "rg-vantablack", "sl-amadi", "kb-brennagh")
    )
    assert "<script" not in page  # charts are static SVG: nothing runs
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page) == []  # nothing from a network


def test_revisit_singles_out_a_criterion_only_when_it_stands_out() -> None:
    """Issue 20: 14 of 15 criteria were flagged in a small cohort where everything was low.
    The flag is relative to the lab's other criteria and to the criterion's history."""
    from grader.instructors.dashboard.analysis import CriterionRate

    def rate(passed: int, median: float, failed_before: int = 0, fixed: int = 0) -> bool:
        return CriterionRate(
            "lab01", "c", "C", 1, 10, graded=10, passed=passed, lab_median=median,
            failed_before=failed_before, fixed_since=fixed,
        ).revisit(0.6)  # fmt: skip

    assert rate(1, median=0.1) is False  # low, but so is every criterion: nothing stands out
    assert rate(1, median=0.8) is True  # far below the others
    assert rate(5, median=0.6) is False  # below 60%, yet only 10 points under the median
    assert rate(1, median=0.8, failed_before=4, fixed=2) is False  # resubmitting fixes it
    assert rate(1, median=0.8, failed_before=4, fixed=1) is True  # ... or does not


def test_revisit_flags_nothing_in_a_cohort_where_everything_is_low(tmp_path: Path) -> None:
    from grader.instructors.dashboard.analysis import criterion_rates

    url = gradebook_url(str(tmp_path / "low.sqlite3"), ROOT)
    every = [c.id for c in load_rubric(ROOT / "labs" / "lab01" / "rubric.toml").criteria]
    learners = list(ROSTER)[: len(every)]
    with Gradebook.open(url) as gradebook:
        gradebook.sync_roster([LearnerInfo(i, ROSTER[i], email(i)) for i in learners], "test")
        for n, learner in enumerate(learners):  # learner n meets criterion n only
            record(gradebook, learner, "lab01", every[:n] + every[n + 1 :], ago(hours=2), "a")
        data = load_cohort(gradebook)
    rates = criterion_rates(data, "lab01")
    assert [r.passed for r in rates] == [1] * len(every)
    assert all(r.pass_rate is not None and r.pass_rate < 0.6 for r in rates)  # the old rule: all
    assert [r.id for r in rates if r.revisit(0.6)] == []  # nothing stands out: nothing marked


def test_public_build_holds_no_learner_name_id_or_email(builds: dict[str, DashboardBuild]) -> None:
    public = builds["public"]
    assert leaks(public.out) == []
    # The scan is sensitive: the private build, scanned the same way, holds every name and id
    # (e-mail addresses stay in the gradebook: facilitators do not need them here).
    found = {s for _, s in leaks(builds["private"].out)}
    assert found == {s for s in identifying_strings() if "@" not in s}
    page = public.page.read_text(encoding="utf-8")
    assert "data-learner" not in page
    assert public.stuck is None
    assert sorted(p.name for p in public.out.iterdir()) == [
        "criteria.csv", "dashboard.json", "index.html", "labs.csv", "outcomes.csv"
    ]  # fmt: skip


def test_public_build_shows_no_figure_for_a_lab_with_few_graded(
    builds: dict[str, DashboardBuild],
) -> None:
    out = builds["public"].out
    # lab02 has 4 graded learners, fewer than 5: a share of 4 could reveal a learner's result.
    assert [r["lab"] for r in read_csv(out / "labs.csv")] == ["lab01"]
    assert {r["lab"] for r in read_csv(out / "criteria.csv")} == {"lab01"}
    assert "2" not in {r["outcome"] for r in read_csv(out / "outcomes.csv")}  # lab02's only
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Fewer than 5 learners graded" in page
    for header in (read_csv(out / name)[0].keys() for name in ("labs.csv", "criteria.csv")):
        assert not {"learner_id", "name", "email"} & set(header)


def test_same_gradebook_same_bytes(cohort_url: str, tmp_path: Path) -> None:
    with Gradebook.open(cohort_url) as gradebook:
        first = build_dashboard(gradebook, tmp_path / "a", now=NOW, course_root=ROOT)
        second = build_dashboard(gradebook, tmp_path / "b", now=NOW, course_root=ROOT)
    for a, b in zip(first.files, second.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


# -- the output folder ----------------------------------------------------------------------


def test_public_build_over_a_private_one_leaves_no_private_file(
    cohort_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "site-dashboard"
    with Gradebook.open(cohort_url) as gradebook:
        build_dashboard(gradebook, out, now=NOW, course_root=ROOT)
        assert (out / "stuck.csv").is_file()
        build_dashboard(gradebook, out, public=True, now=NOW, course_root=ROOT)
    assert not (out / "stuck.csv").exists()
    assert not (out / "learners-labs.csv").exists()
    assert leaks(out) == []


def test_a_folder_with_other_files_is_refused(cohort_url: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    with Gradebook.open(cohort_url) as gradebook, pytest.raises(UsageError, match="not empty"):
        build_dashboard(gradebook, tmp_path, public=True, now=NOW)
    built = tmp_path / "built"
    with Gradebook.open(cohort_url) as gradebook:
        build_dashboard(gradebook, built, public=True, now=NOW)
        (built / "roster.csv").write_text("learner_id\n")
        with pytest.raises(UsageError, match=r"roster\.csv"):
            build_dashboard(gradebook, built, public=True, now=NOW)
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    assert (built / "roster.csv").is_file()


def test_names_are_text_not_markup(tmp_path: Path) -> None:
    url = gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT)
    name = '<b>Zed</b> "$x^2$" & Co'
    with Gradebook.open(url) as gradebook:
        gradebook.sync_roster([LearnerInfo("zed", name, "z@example.org")], "test")
        record(gradebook, "zed", "lab01", ["health-ok"], ago(hours=1), "a")
        built = build_dashboard(gradebook, tmp_path / "out", now=NOW)
    page = built.page.read_text(encoding="utf-8")
    assert "<b>Zed</b>" not in page
    assert "&lt;b&gt;Zed&lt;/b&gt;" in page
    assert "$x^2$" in page  # on the chart as written: mathtext is off


# -- command line ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", "cohort", "dashboard", *args],
        cwd=ROOT,
        env={**os.environ, "GRADER_ACTOR": "test"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_command_builds_both_editions(cohort_url: str, tmp_path: Path) -> None:
    private = _cli("--out", str(tmp_path / "p"), "--gradebook", cohort_url, "--stuck-after", "1w")
    assert private.returncode == 0, private.stderr
    assert "private (names learners)" in private.stdout
    assert "learner(s) may be stuck" in private.stdout
    assert (tmp_path / "p" / "stuck.csv").is_file()
    public = _cli(
        "--out", str(tmp_path / "q"), "--gradebook", cohort_url, "--public", "--lab", "lab01"
    )
    assert public.returncode == 0, public.stderr
    assert "public (aggregates only)" in public.stdout
    assert "labs: lab01\n" in public.stdout
    assert leaks(tmp_path / "q") == []


def test_command_refuses_a_bad_duration(cohort_url: str, tmp_path: Path) -> None:
    done = _cli("--out", str(tmp_path / "p"), "--gradebook", cohort_url, "--stuck-after", "2x")
    assert done.returncode == 2
    assert "--stuck-after" in done.stderr
    assert "not a duration" in done.stderr
    assert not (tmp_path / "p").exists()
