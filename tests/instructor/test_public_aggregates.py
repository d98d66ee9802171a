"""The public site shows aggregates only: no learner name, id, email or individual score.

A real cohort gradebook (results built by the grader's own code, schema-valid) is published,
the aggregates page is put into a copy of the course site, the site is built with MkDocs in
strict mode, and every file of the built site is searched for anything identifying.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.release.build import tracked_files
from grader.errors import UsageError
from grader.instructors.cohort.publish import publish_lab
from grader.instructors.exports.aggregates import aggregates_markdown, lab_stats
from grader.instructors.gradebook import Gradebook, LearnerInfo, gradebook_url
from tests.instructor.conftest import make_result
from tests.support import ROOT

# Distinctive identities and scores no page could contain by chance.
REASON = "regraded-by-hand-7731-after-review"
COHORT = {  # learner id: (name, failing criteria)
    "qx-7731": ("Quilla Xenakis-Brandt", ["health-ok"]),  # 80
    "zv-1194": ("Zebulon Vantongeren", ["health-ok", "local-apps"]),  # 65
    "mw-5502": ("Marisol Wickerstaff", []),  # 100
    "tk-3317": ("Thaddeus Kowalczykowski", ["twelve-factor", "no-secret-default"]),  # 65
    "jp-8843": ("Jolanda Pfeffernuss", ["health-degraded"]),  # 85
}


def _gradebook(
    tmp_path: Path,
    cohort: dict[str, tuple[str, list[str]]],
    modes: dict[str, str] | None = None,
) -> Gradebook:
    """A gradebook holding ``cohort``'s lab01 results, each graded in ``modes[learner]``
    (local by default)."""
    book = Gradebook.open(gradebook_url(str(tmp_path / "gb.sqlite3"), ROOT))
    book.sync_roster(
        [LearnerInfo(i, name, f"{i}@uni.example") for i, (name, _) in cohort.items()], "t"
    )
    for index, (learner, (_, failing)) in enumerate(cohort.items()):
        book.record_result(
            learner_id=learner,
            result=make_result(failing, mode=(modes or {}).get(learner, "local")),
            submission_digest=f"sha256:{index:064d}",
            checks_digest="sha256:" + "c" * 64,
            source="folder",
            actor="t",
        )
    return book


def _site_copy(dest: Path) -> Path:
    # The site is built from the work tree's files, committed or not yet.
    for rel in tracked_files(ROOT, include_untracked=True):
        if (
            rel.startswith(("docs/", "labs/", "templates/", "solutions/"))
            or rel
            in (
                "mkdocs.yml",
                "curriculum.md",
                "resources.md",
                "assessments.md",
                "README.md",
            )
        ) and (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def test_the_built_site_holds_aggregates_and_nothing_identifying(tmp_path: Path) -> None:
    with _gradebook(tmp_path, COHORT) as book:
        book.override("zv-1194", "lab01", 72, REASON, "prof")
        site = _site_copy(tmp_path / "course")
        page = site / "docs" / "cohort-lab01.md"
        publish_lab(book, "lab01", tmp_path / "out", site_page=page, allow_local=True)
    # As documented, with nothing else to do: the docs hook adds the page to the nav, so the
    # strict build does not fail with "pages exist in the docs directory, but are not included in
    # the nav".
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=site,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert built.returncode == 0, built.stderr
    html = (tmp_path / "site" / "cohort-lab01" / "index.html").read_text()
    assert 'href="cohort-lab01/"' in (tmp_path / "site" / "index.html").read_text()  # in the nav
    assert "Learners graded: 5" in html
    assert "Mean score: 80.4 of 100 points" in html  # (80 + 72 + 100 + 65 + 85) / 5
    assert "3 of 5" in html  # health-ok: two learners failed it

    forbidden = [REASON] + [
        s
        for learner, (name, _) in COHORT.items()
        for s in (learner, name, name.split()[0], f"{learner}@uni.example")
    ]
    leaks = []
    for path in (tmp_path / "site").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".txt", ".js"):
            text = path.read_text(errors="replace")
            leaks += [f"{path.name}: {s}" for s in forbidden if s in text]
    assert leaks == []
    # The page's figures are counts, rates and means; no line has the shape of a score.
    text = page.read_text()
    assert not re.search(r"\d+\s*/\s*\d+", text)
    assert re.findall(r"([\d.]+) of 100 points", text) == ["80.4"]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 7  # the header and one row per criterion
    for row in rows[1:]:
        assert re.fullmatch(r"\| .+ \| \d+ \| \d of 5 \| \d+% \| \d+\.\d \|", row), row
    # The private outputs, by contrast, do name the learner (so the search above could fail).
    assert "Quilla Xenakis-Brandt" in (tmp_path / "out/feedback/qx-7731.md").read_text()


def test_publish_refuses_local_grades_unless_allowed(tmp_path: Path) -> None:
    """Only official grades are published by default; one local grade stops the whole lab."""
    modes = {learner: "official" for learner in COHORT}
    modes["zv-1194"] = "local"
    out = tmp_path / "out"
    with _gradebook(tmp_path, COHORT, modes) as book:
        with pytest.raises(UsageError, match=r"1 of the 5 grades of lab01 .*\(zv-1194\)"):
            publish_lab(book, "lab01", out)
        assert not out.exists()  # nothing half-published
        written = publish_lab(book, "lab01", out, allow_local=True)
    assert ("canvas (private)", out / "canvas-lab01.csv") in written
    assert (out / "results" / "zv-1194.json").is_file()


def test_publish_takes_official_grades_without_asking(tmp_path: Path) -> None:
    modes = {learner: "official" for learner in COHORT}
    with _gradebook(tmp_path, COHORT, modes) as book:
        written = publish_lab(book, "lab01", tmp_path / "out")
    kinds = [kind for kind, _ in written]
    assert "canvas (private)" in kinds
    assert "aggregates (public)" in kinds


def test_a_small_cohort_publishes_no_numbers(tmp_path: Path) -> None:
    small = dict(list(COHORT.items())[:2])
    with _gradebook(tmp_path, small) as book:
        stats = lab_stats(book.grades("lab01"))
    assert stats is not None
    page = aggregates_markdown(stats)
    assert "Fewer than 5 learners" in page
    assert not re.search(r"\d+\.\d", page)
    assert "80" not in page
    assert "65" not in page


@pytest.mark.parametrize("failing", [["health-ok"], []])
def test_criterion_figures_are_counts_and_means(tmp_path: Path, failing: list[str]) -> None:
    cohort = {f"l{n}": (f"L {n}", failing if n < 3 else []) for n in range(6)}
    with _gradebook(tmp_path, cohort) as book:
        stats = lab_stats(book.grades("lab01"))
    assert stats is not None
    health = next(c for c in stats.criteria if c.id == "health-ok")
    expected_passed = 3 if failing else 6
    assert (health.graded, health.passed) == (6, expected_passed)
    assert health.mean_points == pytest.approx(20 * expected_passed / 6)
