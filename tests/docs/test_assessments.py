"""assessments.md: its generated tables cover every rubric, and fail the suite when they drift.

The outcome-by-criterion matrix is the promise that every criterion of every lab and of the
capstone is traced to one learning outcome; these tests read it back from the page and compare
it with the rubric files, then prove on a copy of the course that changing a rubric makes the
page stale (so `grader.course.docs_sync --check`, and the drift test in test_docs_sync.py, fail).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from grader.course.docs_sync import sync_all, sync_file
from grader.course.traceability import CAPSTONE_RUBRIC, traced_criteria
from grader.labs import known_labs
from grader.rubric import OUTCOMES, load_rubric
from tests.support import ROOT

PAGE = ROOT / "assessments.md"


def block(text: str, kind: str) -> list[str]:
    """The lines of the generated block ``kind`` in ``text`` (fails if there is not exactly one)."""
    pattern = rf"<!-- BEGIN GENERATED: {kind} -->\n(.*?)<!-- END GENERATED: {kind} -->"
    found = re.findall(pattern, text, re.DOTALL)
    assert len(found) == 1, f"assessments.md needs exactly one `{kind}` block, found {len(found)}"
    return found[0].splitlines()


def matrix_rows(text: str) -> dict[tuple[str, str], tuple[int, set[int]]]:
    """(assessment, criterion id) -> (points, outcomes marked) from the traceability block."""
    rows: dict[tuple[str, str], tuple[int, set[int]]] = {}
    for line in block(text, "traceability"):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 + len(OUTCOMES) or not cells[1].endswith("`"):
            continue  # the summary table, header and separator rows
        assessment = re.sub(r"^\[(.+?)\]\(.*\)$", r"\1", cells[0])
        criterion = re.findall(r"`([a-z0-9-]+)`$", cells[1])[0]
        marked = {n for n, cell in zip(OUTCOMES, cells[3:9], strict=True) if cell == "●"}
        key = (assessment, criterion)
        assert key not in rows, f"{key} appears twice in the matrix"
        rows[key] = (int(cells[2]), marked)
    return rows


def test_the_page_has_every_generated_block() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for kind in ("rubric-summary", "marking-guides", "capstone-rubric", "traceability"):
        block(text, kind)


def test_the_matrix_traces_every_criterion_to_its_outcome() -> None:
    rows = matrix_rows(PAGE.read_text(encoding="utf-8"))
    expected = {(t.assessment, t.id): (t.points, {t.outcome}) for t in traced_criteria(ROOT)}
    assert rows == expected, "the matrix is stale: run `nox -s labs`"
    # Every lab with a rubric and the capstone are in it.
    assessments = {assessment for assessment, _ in rows}
    assert "capstone" in known_labs(ROOT)
    assert assessments == set(known_labs(ROOT))
    for lab in known_labs(ROOT):
        rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
        assert {c.id for c in rubric.criteria} == {i for a, i in rows if a == lab}


def test_every_outcome_is_assessed() -> None:
    summary = block(PAGE.read_text(encoding="utf-8"), "traceability")
    assert not [line for line in summary if "not assessed yet" in line]
    served = {t.outcome for t in traced_criteria(ROOT)}
    assert served == set(OUTCOMES)
    # The capstone alone covers all six: it is the track's final exam.
    capstone = load_rubric(ROOT / CAPSTONE_RUBRIC)
    assert {c.outcome for c in capstone.criteria} == set(OUTCOMES)
    assert capstone.max_points == 100


def test_every_lab_has_a_marking_guide_with_its_criteria() -> None:
    text = PAGE.read_text(encoding="utf-8")
    guides = "\n".join(block(text, "marking-guides"))
    for lab in known_labs(ROOT):
        if lab == "capstone":  # its own section, below
            continue
        rubric = load_rubric(ROOT / "labs" / lab / "rubric.toml")
        assert f"### Lab {lab[3:]} marking guide" in guides
        for criterion in rubric.criteria:
            assert criterion.title.replace("|", r"\|") in guides
    capstone = "\n".join(block(text, "capstone-rubric"))
    for criterion in load_rubric(ROOT / CAPSTONE_RUBRIC).criteria:
        assert criterion.title.replace("|", r"\|") in capstone
    # Who decides each capstone criterion: the manual ones are the instructor's.
    assert "| instructor review |" in capstone
    # Other pages link to these anchors.
    headings = {line for line in text.splitlines() if line.startswith("#")}
    for heading in ("### Lab 01 marking guide", "### Capstone rubric", "## Traceability matrix"):
        assert heading in headings


def test_the_feedback_example_is_a_valid_result_criterion() -> None:
    """The JSON shown under "Reading your feedback" matches the schema and the lab01 rubric."""
    text = PAGE.read_text(encoding="utf-8")
    example = json.loads(re.findall(r"```json\n(.*?)```", text, re.DOTALL)[0])
    schema = json.loads((ROOT / "grader/schema/result.schema.json").read_text())
    criterion_schema = {**schema["properties"]["criteria"]["items"], "$defs": schema.get("$defs")}
    jsonschema.Draft202012Validator(criterion_schema).validate(example)
    rubric = load_rubric(ROOT / "labs/lab01/rubric.toml")
    published = {c.id: c for c in rubric.criteria}[example["id"]]
    assert example["title"] == published.title
    assert example["feedback"] == published.feedback
    assert example["max_points"] == published.points
    assert example["see"] == published.see
    assert [t["id"] for t in example["tests"]] == list(published.checks)


# ---------------------------------------------------------------------------------------------
# Drift, on a copy of the course


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The page and every rubric it is generated from, copied and refreshed once."""
    shutil.copy(PAGE, tmp_path / "assessments.md")
    for rubric in ROOT.glob("labs/*/rubric.toml"):
        target = tmp_path / rubric.relative_to(ROOT)
        target.parent.mkdir(parents=True)
        shutil.copy(rubric, target)
    sync_all(tmp_path, check=False)
    assert sync_all(tmp_path, check=True) == []
    return tmp_path


NEW_CRITERION = """
[[criteria]]
id = "brand-new"
title = "A criterion added after the page was generated"
points = 5
outcome = 5
checks = ["test_new.py::test_new"]
feedback = "Do the new thing."
"""


def test_a_new_criterion_makes_the_page_stale_until_refreshed(course: Path) -> None:
    rubric = course / "labs/lab01/rubric.toml"
    rubric.write_text(rubric.read_text() + NEW_CRITERION)
    page = course / "assessments.md"
    assert sync_all(course, check=True) == [page]
    assert sync_file(page, course) is True
    rows = matrix_rows(page.read_text())
    assert rows[("lab01", "brand-new")] == (5, {5})


def test_a_changed_outcome_or_capstone_criterion_is_drift(course: Path) -> None:
    rubric = course / "labs/lab01/rubric.toml"
    rubric.write_text(rubric.read_text().replace("outcome = 6", "outcome = 1", 1))
    assert sync_all(course, check=True) == [course / "assessments.md"]
    sync_all(course, check=False)
    capstone = course / CAPSTONE_RUBRIC
    capstone.write_text(capstone.read_text().replace("points = 12", "points = 11", 1))
    assert sync_all(course, check=True) == [course / "assessments.md"]


def test_a_new_lab_gets_its_marking_guide_by_itself(course: Path) -> None:
    # lab11: a lab number the course does not have (lab09 and lab10 are written now).
    lab11 = course / "labs/lab11"
    lab11.mkdir()
    source = (course / "labs/lab01/rubric.toml").read_text()
    (lab11 / "rubric.toml").write_text(source.replace('lab = "lab01"', 'lab = "lab11"'))
    sync_all(course, check=False)
    text = (course / "assessments.md").read_text()
    assert "### Lab 11 marking guide" in block(text, "marking-guides")
    assert any(line.startswith("| lab11 |") for line in block(text, "rubric-summary"))
    assert ("lab11", "health-ok") in matrix_rows(text)
