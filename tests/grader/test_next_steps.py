"""Next steps follow the handout's dependencies, and failures that share one cause show it once
(issue 20: lab07's starter repeated one symptom on 7 of 13 rows and sent the learner to step 3
although step 3 needs step 2)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from grader.errors import RubricError
from grader.nextsteps import first_to_fix, handout_step, waiting_on, work_order
from grader.render import next_step, render_result
from grader.rubric import load_rubric
from tests.support import ROOT


def _criterion(cid, status="failed", see=None, after=(), detail=None):
    return {
        "id": cid,
        "title": f"Title of {cid}",
        "outcome": 1,
        "points": 0 if status == "failed" else 5,
        "max_points": 5,
        "status": status,
        "feedback": None if status == "passed" else f"Advice for {cid}.",
        "detail": detail or (f"Observed for {cid}" if status == "failed" else None),
        "see": see,
        "after": list(after),
        "tests": [],
    }


def _result(criteria):
    return {
        "lab": {"id": "lab42", "title": "Lab"},
        "status": "graded",
        "message": None,
        "criteria": criteria,
        "score": {"points": 0, "max_points": 5 * len(criteria), "percent": 0.0},
        "integrity": {"flags": []},
    }


def _render(result):
    buffer = io.StringIO()
    render_result(result, Console(file=buffer, width=250), handout="labs/lab42/README.md")
    return buffer.getvalue()


def test_handout_step_reads_the_anchor():
    assert handout_step("README.md#step-12-caching") == 12
    assert handout_step("README.md#before-you-start") is None
    assert handout_step(None) is None


def test_work_order_puts_what_a_criterion_builds_on_first():
    criteria = [
        _criterion("pages", see="README.md#step-3-pages", after=["versions"]),
        _criterion("rates", see="README.md#step-6-rates"),
        _criterion("versions", see="README.md#step-2-versions"),
        _criterion("lint"),  # no step: after every criterion that has one
    ]
    assert [c["id"] for c in work_order(criteria)] == ["versions", "pages", "rates", "lint"]


def test_work_order_tolerates_unknown_ids_and_loops():
    criteria = [_criterion("a", after=["b", "gone"]), _criterion("b", after=["a"])]
    assert sorted(c["id"] for c in work_order(criteria)) == ["a", "b"]


def test_a_failure_waits_on_the_root_of_its_failing_chain():
    criteria = [
        _criterion("filters", see="README.md#step-4", after=["pages"]),
        _criterion("pages", see="README.md#step-3", after=["versions"]),
        _criterion("versions", see="README.md#step-2"),
        _criterion("rates", see="README.md#step-6"),
    ]
    waiting = waiting_on(criteria)
    assert {k: v["id"] for k, v in waiting.items()} == {"filters": "versions", "pages": "versions"}
    assert first_to_fix(criteria)["id"] == "versions"


def test_a_failure_after_a_passing_criterion_has_a_cause_of_its_own():
    criteria = [
        _criterion("pages", status="passed", see="README.md#step-3"),
        _criterion("filters", see="README.md#step-4", after=["pages"]),
        _criterion("rates", see="README.md#step-6"),
    ]
    assert waiting_on(criteria) == {}
    assert first_to_fix(criteria)["id"] == "filters"


def test_the_table_shows_one_cause_once_and_advice_for_every_other_failure():
    symptom = "GET /api/posts/ answered a JSON array; expected a page"
    criteria = [
        _criterion("pages", see="README.md#step-3-pages", after=["versions"], detail=symptom),
        _criterion("filters", see="README.md#step-4-filters", after=["pages"], detail=symptom),
        _criterion("order", see="README.md#step-5-order", after=["pages"], detail=symptom),
        _criterion("rates", see="README.md#step-6-rates"),
        _criterion("versions", see="README.md#step-2-versions"),
    ]
    shown = _render(_result(criteria))
    assert symptom not in shown  # its cause (versions) is shown instead, on its own row
    assert shown.count("Waits on step 2, “Title of versions”") == 3
    for own in ("rates", "versions"):  # failures with a cause of their own: observed and advice
        assert f"Observed for {own}" in shown
        assert f"What to do: Advice for {own}." in shown
    assert shown.count("What to do:") == 2
    step = next_step(_result(criteria), "labs/lab42/README.md")
    assert step.startswith("Start with “Title of versions” (labs/lab42/README.md#step-2-versions)")


def test_a_result_without_after_renders_in_handout_order():
    """Documents older than schema 1.3 carry no after: the handout's step order still holds."""
    criteria = [_criterion("late", see="README.md#step-5"), _criterion("early", see="README.md#s")]
    criteria[1]["see"] = "README.md#step-1"
    for c in criteria:
        del c["after"]
    assert next_step(_result(criteria), "README.md").startswith("Start with “Title of early”")
    assert "Waits on" not in _render(_result(criteria))


GOOD = """
lab = "lab42"
title = "t"
version = "1"
[[criteria]]
id = "one"
title = "One"
points = 5
outcome = 2
checks = ["test_a.py::test_x"]
feedback = "do x"
AFTER_ONE
[[criteria]]
id = "two"
title = "Two"
points = 5
outcome = 2
checks = ["test_a.py::test_y"]
feedback = "do y"
AFTER_TWO
"""


def _rubric(tmp_path, after_one="", after_two=""):
    lab = tmp_path / "lab42"
    lab.mkdir()
    path = lab / "rubric.toml"
    path.write_text(GOOD.replace("AFTER_ONE", after_one).replace("AFTER_TWO", after_two))
    return load_rubric(path)


def test_after_is_optional_and_loads(tmp_path):
    rubric = _rubric(tmp_path, after_two='after = ["one"]')
    assert [c.after for c in rubric.criteria] == [(), ("one",)]


@pytest.mark.parametrize(
    ("after_one", "after_two", "message"),
    [
        ('after = ["three"]', "", r"after names no criterion \['three'\]"),
        ('after = ["one"]', "", "cannot wait on itself"),
        ('after = ["two"]', 'after = ["one"]', "after leads back to 'one'"),
        ('after = "two"', "", "after must be a list of criterion ids"),
        ('after = ["two", "two"]', "", "names a criterion twice"),
    ],
)
def test_bad_after_is_named(tmp_path, after_one, after_two, message):
    with pytest.raises(RubricError, match=message):
        _rubric(tmp_path, after_one, after_two)


def test_lab07_pages_wait_on_versions():
    rubric = load_rubric(ROOT / "labs" / "lab07" / "rubric.toml")
    after = {c.id: c.after for c in rubric.criteria}
    assert after["pagination"] == ("versioning",)
    assert all(after[c] == ("pagination",) for c in ("filters", "search", "ordering"))


def test_the_self_check_starts_with_the_first_step_of_the_handout():
    """Issue 20: the learners' edition's next step named the first failing public test by id
    (test_settings... sorts after test_health...), whatever step of the handout it belongs to."""

    def check(node, outcome):
        return {"id": node, "outcome": outcome, "duration": 0.0, "message": f"{node} said no"}

    early = _criterion("apps", status="official_only", see="README.md#step-1-apps")
    late = _criterion("health", status="official_only", see="README.md#step-5-health")
    early["tests"] = [check("test_settings.py::test_apps", "failed")]
    late["tests"] = [check("test_health.py::test_ok", "failed")]
    result = _result([late, early])
    result["public_checks"] = {
        "source": "labs/lab42/public",
        "passed": 0,
        "failed": 2,
        "tests": sorted(late["tests"] + early["tests"], key=lambda t: t["id"]),
    }
    step = next_step(result, "labs/lab42/README.md")
    assert step.startswith("Start with “Title of apps” (labs/lab42/README.md#step-1-apps)")
    assert "test_settings.py::test_apps" in step
