"""lab03, the notebook lab: the committed learner's notebook, its freshness, the rubric's format.

The learner's notebook (labs/lab03/starter/notebooks/) is nbgrader's release of the source
notebook (solutions/notebooks/). These tests read both as plain JSON and recompute on their own
what must never reach the learner: nbgrader's markers, the answers, the hidden tests.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from grader.course.mutants import apply_mutant, load_mutants
from grader.course.notebooks.release import differences, leaks
from grader.errors import RubricError, UsageError
from grader.executors.notebook.cells import (
    NotebookError,
    check_messages,
    edit_cell,
    grade_cells,
    read_notebook,
    source_of,
)
from grader.pipeline import GradeOptions, grade_submission
from grader.rubric import load_rubric
from tests.support import ROOT

LAB03 = ROOT / "labs" / "lab03"
RUBRIC = load_rubric(LAB03 / "rubric.toml")
assert RUBRIC.notebook is not None
SOURCE = ROOT / "solutions" / RUBRIC.notebook
RELEASED = LAB03 / "starter" / RUBRIC.notebook
# Spelled in pieces so that this file is not itself a marker carrier for text searches.
MARKERS = re.compile(r"(BEGIN|END)\s+(SOLUTION|HIDDEN\s+TESTS)")


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _regions(notebook: dict, kind: str) -> list[str]:
    """Every line of every ``kind`` region (SOLUTION or HIDDEN TESTS) of the notebook."""
    begin = re.compile(rf"^\s*###\s*BEGIN\s+{kind}")
    end = re.compile(rf"^\s*###\s*END\s+{kind}")
    lines, inside = [], False
    for cell in notebook["cells"]:
        for line in source_of(cell).splitlines():
            if begin.match(line):
                inside = True
            elif end.match(line):
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def test_the_source_notebook_has_answers_and_hidden_tests():
    source = _notebook(SOURCE)
    assert len(_regions(source, "SOLUTION")) > 30
    assert len(_regions(source, r"HIDDEN\s+TESTS")) > 30
    assert source["metadata"]["kernelspec"]["name"] == "python3"


def test_released_notebook_shows_no_hidden_test_and_no_answer():
    """The leak scan: no marker, no line of a hidden test, no answer line, in any cell."""
    source, released = _notebook(SOURCE), _notebook(RELEASED)
    text = RELEASED.read_text(encoding="utf-8")
    assert not MARKERS.search(text)
    given = {line.strip() for cell in released["cells"] for line in source_of(cell).splitlines()}
    outside = set()
    for cell in source["cells"]:
        outside |= {line.strip() for line in source_of(cell).splitlines()}
    secret = set(_regions(source, "SOLUTION")) | set(_regions(source, r"HIDDEN\s+TESTS"))
    # Lines also written outside the regions (`print(...)`, `pass`, a shared `expected = ...`)
    # are not secrets; everything else that is long enough to mean something must be absent.
    only_inside = {
        line
        for line in secret
        if len(line) >= 12 and not line.startswith("#") and _outside_count(source, line) == 0
    }
    assert only_inside, "the scan needs secret lines to look for"
    leaked = sorted(only_inside & given)
    assert leaked == []
    assert outside  # sanity
    # And the package's own scan agrees.
    assert leaks(released, source) == []


def _outside_count(notebook: dict, wanted: str) -> int:
    count = 0
    depth = 0
    for cell in notebook["cells"]:
        for line in source_of(cell).splitlines():
            if re.match(r"^\s*###\s*BEGIN\s", line):
                depth += 1
            elif re.match(r"^\s*###\s*END\s", line):
                depth -= 1
            elif depth == 0 and line.strip() == wanted:
                count += 1
    return count


def test_every_answer_cell_is_nbgraders_stub_and_every_check_is_locked():
    released = _notebook(RELEASED)
    answers = [c for c in released["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert len(answers) == 9
    for cell in answers:
        assert "raise NotImplementedError()" in source_of(cell), cell["id"]
    for cell in released["cells"]:
        nbgrader = cell["metadata"].get("nbgrader", {})
        if nbgrader.get("grade") or (nbgrader.get("locked") and not nbgrader.get("solution")):
            assert cell["metadata"].get("editable") is False, cell["id"]
        assert not cell.get("outputs"), f"{cell['id']} has outputs: they could show an answer"


def test_rubric_and_notebooks_name_the_same_grade_cells_with_the_same_points():
    """Each criterion is decided by one grade cell worth the criterion's points, in both
    notebooks; no grade cell is left out of the rubric."""
    expected = {c.checks[0].removeprefix("cell:"): float(c.points) for c in RUBRIC.criteria}
    assert all(len(c.checks) == 1 for c in RUBRIC.criteria)
    for path in (SOURCE, RELEASED):
        notebook = read_notebook(path.read_bytes(), path.name)
        assert grade_cells(notebook) == expected, path
    assert RUBRIC.max_points == 100
    assert len(RUBRIC.criteria) >= 6


def test_the_released_notebook_is_fresh():
    """What `nox -s tests` relies on: nbgrader's release of the source equals the committed one."""
    pytest.importorskip("nbgrader")
    from grader.course.notebooks.release import check_releases

    assert check_releases(ROOT, ["lab03"]) == []


def test_freshness_ignores_what_jupyter_changes_and_sees_what_nbgrader_would():
    committed = _notebook(RELEASED)
    opened = copy.deepcopy(committed)
    for cell in opened["cells"]:
        cell["metadata"]["collapsed"] = True
        cell["metadata"]["execution"] = {"iopub.execute_input": "2025-01-01T00:00:00Z"}
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
    opened["metadata"]["language_info"]["version"] = "3.11.7"
    assert differences(opened, committed) == []

    edited = copy.deepcopy(committed)
    check = next(c for c in edited["cells"] if c["id"] == "test_annotate")
    check["source"] = ["pass\n"]
    found = differences(edited, committed)
    assert len(found) == 1
    assert "test_annotate" in found[0]
    assert "source" in found[0]

    retagged = copy.deepcopy(committed)
    retagged["cells"][1]["metadata"]["nbgrader"]["locked"] = False
    assert differences(retagged, committed)


def test_mutants_edit_cells_by_grade_id(tmp_path: Path):
    mutants = load_mutants(LAB03 / "hidden" / "mutants.toml", {c.id for c in RUBRIC.criteria})
    assert len(mutants) >= 3
    assert all(edit.cell for mutant in mutants for edit in mutant.edits)
    tree = tmp_path / "tree"
    (tree / "notebooks").mkdir(parents=True)
    for mutant in mutants:
        (tree / RUBRIC.notebook).write_bytes(SOURCE.read_bytes())
        apply_mutant(tree, mutant)
        changed = read_notebook((tree / RUBRIC.notebook).read_bytes(), "mutant")
        original = read_notebook(SOURCE.read_bytes(), "source")
        assert differences(changed, original), f"mutant {mutant.id} changed nothing"
    with pytest.raises(ValueError, match="occurs 0 times"):
        edit_cell(tree / RUBRIC.notebook, "aggregate", "no such text", "x")
    with pytest.raises(ValueError, match="no cell with grade id"):
        edit_cell(tree / RUBRIC.notebook, "no_such_cell", "x", "y")


def _cell(grade_id: str, **nbgrader: object) -> dict:
    return {
        "cell_type": "code",
        "metadata": {"nbgrader": {"grade_id": grade_id, **nbgrader}},
        "source": [],
        "outputs": [],
    }


def _error(cell: dict, ename: str, evalue: str) -> dict:
    cell["outputs"] = [{"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}]
    return cell


def test_check_messages_name_the_cell_and_the_cause_without_a_traceback():
    notebook = {
        "cells": [
            _cell("setup", locked=True),
            _cell("one", solution=True),
            _error(
                _cell("test_one", grade=True, points=5),
                "AssertionError",
                "f('x'): expected ['a'], got []",
            ),
            _cell("two", solution=True),
            _error(_cell("test_two", grade=True, points=5), "NotImplementedError", ""),
            _error(_cell("three", solution=True), "SyntaxError", "invalid syntax (line 3)"),
            _error(
                _cell("test_three", grade=True, points=5), "NameError", "name 'g' is not defined"
            ),
            _cell("test_four", grade=True, points=5),
        ]
    }
    messages = check_messages(notebook, cell_timeout=60)
    assert messages["test_one"] == "cell test_one: f('x'): expected ['a'], got []"
    assert "not answered yet" in messages["test_two"]
    assert "`two`" in messages["test_two"]
    assert messages["test_three"] == (
        "cell test_three: your answer cell `three` raised SyntaxError: invalid syntax (line 3)"
    )
    assert "test_four" not in messages
    assert all("Traceback" not in m for m in messages.values())

    broken = copy.deepcopy(notebook)
    _error(broken["cells"][0], "ModuleNotFoundError", "No module named 'blog'")
    messages = check_messages(broken)
    assert all("the locked cell `setup` failed" in m for m in messages.values())
    assert "No module named 'blog'" in messages["test_one"]


def test_read_notebook_says_what_is_wrong():
    with pytest.raises(NotebookError, match="not valid JSON"):
        read_notebook(b"{", "nb.ipynb")
    with pytest.raises(NotebookError, match="no cells list"):
        read_notebook(b"{}", "nb.ipynb")


def _rubric(tmp_path: Path, text: str) -> Path:
    lab = tmp_path / "lab03"
    lab.mkdir()
    (lab / "rubric.toml").write_text(
        'lab = "lab03"\ntitle = "t"\nversion = "1"\n' + text, encoding="utf-8"
    )
    return lab / "rubric.toml"


CRITERION = """
[[criteria]]
id = "a"
title = "A"
points = 5
outcome = 2
feedback = "f"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'notebook = "nb.ipynb"\n' + CRITERION + 'kind = "nbgrader"\nchecks = ["t.py::x"]\n',
            "cell:<grade id>",
        ),
        (
            'notebook = "nb.ipynb"\n' + CRITERION + 'checks = ["t.py::x"]\n',
            "must be kind = 'nbgrader'",
        ),
        (CRITERION + 'kind = "nbgrader"\nchecks = ["cell:x"]\n', "need notebook"),
        (
            'notebook = "../nb.ipynb"\n' + CRITERION + 'kind = "nbgrader"\nchecks = ["cell:x"]\n',
            "relative path to an .ipynb",
        ),
        (
            'notebook = "nb.ipynb"\n' + CRITERION + 'kind = "nbgrader"\nchecks = ["cell:x"]\n'
            'requires = "mysql"\n',
            "requires must be one of postgresql",
        ),
    ],
)
def test_rubric_loader_validates_notebook_labs(tmp_path: Path, text: str, message: str):
    with pytest.raises(RubricError, match=re.escape(message)):
        load_rubric(_rubric(tmp_path, text))


def test_rubric_loader_reads_a_notebook_lab(tmp_path: Path):
    rubric = load_rubric(
        _rubric(
            tmp_path,
            'notebook = "notebooks/nb.ipynb"\n' + CRITERION + 'kind = "nbgrader"\n'
            'checks = ["cell:test_a"]\nrequires = "postgresql"\n',
        )
    )
    assert rubric.notebook == "notebooks/nb.ipynb"
    assert rubric.check_ids == ("cell:test_a",)
    assert rubric.criteria[0].requires == "postgresql"


def test_official_mode_refuses_a_server_url_for_a_notebook_lab_before_anything_runs(
    tmp_path: Path,
):
    """Official mode grades lab03 in a sandbox (tests/official/test_rubric_proof_official.py),
    which cannot reach a server: a URL is refused as for every lab, before staging."""
    from grader.executors.official import official_unavailable_reason

    if official_unavailable_reason():
        pytest.skip(official_unavailable_reason() or "")
    with pytest.raises(UsageError, match="starts one of its own inside the sandbox"):
        grade_submission(
            LAB03,
            LAB03 / "starter",
            GradeOptions(mode="official", database="postgres://u@127.0.0.1:5432/x"),
        )


@pytest.mark.parametrize(
    ("damage", "stage", "says"),
    [
        ("delete", "stage", "is missing from the submission"),
        ("corrupt", "syntax", "is not valid JSON"),
    ],
)
def test_a_missing_or_broken_notebook_is_refused_with_how_to_restore_it(
    tmp_path: Path, damage: str, stage: str, says: str
):
    import shutil

    submission = tmp_path / "work"
    shutil.copytree(LAB03 / "starter", submission)
    target = submission / RUBRIC.notebook
    if damage == "delete":
        target.unlink()
    else:
        target.write_text('{"cells": [', encoding="utf-8")
    result = grade_submission(LAB03, submission, GradeOptions())
    assert result["status"] == "error"
    assert result["error_stage"] == stage
    assert says in result["message"]
    assert (
        "git checkout -- labs/lab03/starter/notebooks/lab03_orm_workbook.ipynb" in result["message"]
    )
