"""Quality gates (grader.executors.gates): the learner's own tests and ruff, as lab04's rubric
uses them.

Each gate is run on a staged copy of lab04's generated solution, changed the way a learner's
work goes wrong: a failing test, too little coverage, no tests at all, a lint error. Each must
fail its criterion with a message that says what was found and how to see it, and nothing the
submission ships (ruff.toml, pytest.ini, .coveragerc) may change the verdict.
"""

from __future__ import annotations

import configparser
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from grader import report as protocol
from grader.course.labgen import generate_lab
from grader.errors import RubricError, UsageError
from grader.executors import gates
from grader.executors.base import CheckRun
from grader.gatespec import LearnerTestsGate, RuffGate
from grader.report import Report
from grader.rubric import Rubric, load_rubric
from grader.staging import stage_submission
from tests.support import ROOT

LAB04 = ROOT / "labs" / "lab04"
OWN_TESTS = "learner-tests:own-tests"
LINT = "ruff:lint"


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric(LAB04 / "rubric.toml")


@pytest.fixture(scope="module")
def lab04_solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab04") / "solution"
    generate_lab(ROOT / "solutions", "lab04", "solution", dest)
    return dest


@pytest.fixture
def project(lab04_solution: Path, tmp_path: Path) -> Path:
    """A private, editable copy of lab04's solution: the learner's folder."""
    dest = tmp_path / "learner"
    shutil.copytree(lab04_solution, dest)
    return dest


@pytest.fixture
def run_gates(rubric: Rubric, tmp_path: Path) -> Any:
    """Stage a folder as the grader does and run lab04's gates on it; outcomes by check id."""

    def _run(folder: Path, mode: str = "local") -> gates.GateRun:
        work = tmp_path / f"work-{mode}"
        work.mkdir()
        staged = stage_submission(folder, work / "submission")
        return gates.run_quality_gates(rubric=rubric, staged=staged, work=work, mode=mode)

    return _run


@pytest.fixture
def run_ruff(rubric: Rubric, tmp_path: Path) -> Any:
    """Stage a folder as the grader does and run lab04's ruff gate alone on it."""

    def _run(folder: Path) -> protocol.TestOutcome:
        staged = stage_submission(folder, tmp_path / "staged")
        gate = next(c.gate for c in rubric.criteria if c.id == "lint")
        assert isinstance(gate, RuffGate)
        return gates.run_ruff(LINT, gates.ruff_config(rubric, gate), staged, tmp_path / "ruff")

    return _run


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# The rubric's side -----------------------------------------------------------------------------


def test_lab04_has_both_gates_outside_the_checks_run(rubric: Rubric) -> None:
    kinds = {c.id: c.kind for c in rubric.criteria if c.gate is not None}
    assert kinds == {"own-tests": "learner-tests", "lint": "ruff"}
    assert not any(check.startswith(("learner-tests", "ruff")) for check in rubric.check_ids)
    own = next(c.gate for c in rubric.criteria if c.id == "own-tests")
    assert own == LearnerTestsGate(tests="tests/yours", cover=("blog", "api"), min_coverage=80)


GATE_RUBRIC = """
lab = "lab42"
title = "t"
version = "1"
[[criteria]]
id = "own"
title = "Own tests"
points = 5
outcome = 5
kind = "learner-tests"
tests = "tests/yours"
cover = ["blog"]
min_coverage = 80
feedback = "write tests"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('feedback = "write tests"', 'feedback = "w"\nchecks = ["t.py::x"]', "drop 'checks'"),
        ("min_coverage = 80\n", "", "needs min_coverage"),
        ("min_coverage = 80", "min_coverage = 101", "whole percentage from 1 to 100"),
        ("min_coverage = 80", "min_coverage = 79.5", "whole percentage"),
        ('tests = "tests/yours"', 'tests = "../elsewhere"', "a path inside the project"),
        ('cover = ["blog"]', "cover = []", "non-empty list"),
        ('feedback = "write tests"', 'feedback = "w"\nconfig = "x.toml"', "unknown keys"),
        ('kind = "learner-tests"', 'kind = "ruff"', "needs config"),
    ],
)
def test_bad_gate_entries_are_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    lab = tmp_path / "lab42"
    lab.mkdir()
    (lab / "rubric.toml").write_text(GATE_RUBRIC.replace(old, new))
    with pytest.raises(RubricError, match=message):
        load_rubric(lab / "rubric.toml")


def test_a_missing_tool_refuses_to_grade_before_anything_runs(
    rubric: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gates.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match=r"needs coverage\.py, which is not installed here"):
        gates.check_gate_tools(rubric)


def test_the_learner_ruff_settings_repeat_the_course_rules() -> None:
    course = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    learner = tomllib.loads((ROOT / "labs" / "learner-ruff.toml").read_text())
    assert set(course["lint"]["select"]) <= set(learner["lint"]["select"])
    assert learner["lint"]["ignore"] == course["lint"]["ignore"]
    assert learner["lint"]["isort"] == course["lint"]["isort"]
    assert learner["line-length"] == course["line-length"]


def test_the_starter_coveragerc_measures_what_the_grader_measures(rubric: Rubric) -> None:
    """What `coverage run -m pytest tests/yours` shows a learner is what the gate decides on."""
    config = configparser.ConfigParser()
    config.read(LAB04 / "starter" / ".coveragerc")
    gate = next(c.gate for c in rubric.criteria if c.id == "own-tests")
    assert isinstance(gate, LearnerTestsGate)
    assert config["run"]["source"].split() == list(gate.cover)
    assert config["run"]["omit"].split() == list(gates.COVERAGE_OMIT)


# The learner's own tests -----------------------------------------------------------------------


def test_the_solution_passes_both_gates(project: Path, run_gates: Any) -> None:
    outcomes = run_gates(project).outcomes
    assert outcomes[OWN_TESTS].outcome == "passed", outcomes[OWN_TESTS].message
    assert "tests pass and cover" in (outcomes[OWN_TESTS].message or "")
    assert outcomes[LINT].outcome == "passed", outcomes[LINT].message


def test_a_failing_own_test_fails_the_criterion_naming_it(project: Path, run_gates: Any) -> None:
    edit(project / "tests/yours/test_errors.py", '"message": "Gone."}', '"message": "Lost."}')

    outcome = run_gates(project).outcomes[OWN_TESTS]

    assert outcome.outcome == "failed"
    message = outcome.message or ""
    assert "1 of your" in message
    assert "tests/yours/test_errors.py::test_error_body_leaves_out_empty_fields" in message
    assert "pytest tests/yours" in message


def test_low_coverage_fails_naming_the_least_covered_files(project: Path, run_gates: Any) -> None:
    for test_file in (project / "tests/yours").glob("test_*.py"):
        if test_file.name != "test_errors.py":
            test_file.unlink()

    outcome = run_gates(project).outcomes[OWN_TESTS]

    assert outcome.outcome == "failed"
    message = outcome.message or ""
    assert "the lab asks for 80%" in message
    assert "Least covered: " in message
    assert "api/blog_views.py" in message or "blog/services.py" in message
    assert "coverage run -m pytest tests/yours && coverage report -m" in message


def test_no_tests_at_all_fails_without_running_anything(project: Path, run_gates: Any) -> None:
    shutil.rmtree(project / "tests/yours")

    outcome = run_gates(project).outcomes[OWN_TESTS]

    assert outcome.outcome == "failed"
    assert "There are no tests in tests/yours/" in (outcome.message or "")


def test_the_projects_own_pytest_and_coverage_settings_change_nothing(
    project: Path, run_gates: Any
) -> None:
    """A pytest.ini that deselects every test and a .coveragerc that measures nothing."""
    (project / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = config.settings.test\naddopts = -k no_such_test\n"
    )
    (project / ".coveragerc").write_text("[run]\nsource = config\nomit = blog/* api/*\n")
    edit(project / "tests/yours/test_errors.py", '"message": "Gone."}', '"message": "Lost."}')

    outcome = run_gates(project).outcomes[OWN_TESTS]

    assert outcome.outcome == "failed"
    assert "test_error_body_leaves_out_empty_fields" in (outcome.message or "")


def _official_or_skip() -> None:
    import os

    from grader.executors.official import official_unavailable_reason

    reason = official_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the learner-tests gate in official mode, but: {reason}")
        pytest.skip(f"official mode unavailable here: {reason}")


@pytest.mark.slow
def test_official_mode_runs_the_learners_tests_in_a_sandbox_and_judges_alike(
    project: Path, run_gates: Any
) -> None:
    """The same gate in official mode: the learner's tests run in a sandbox of their own, and
    the verdict and its sentence are local mode's, with no manual-review flag."""
    _official_or_skip()
    local, official = run_gates(project), run_gates(project, mode="official")
    assert official.flags == ()
    assert official.outcomes[OWN_TESTS].outcome == "passed", official.outcomes[OWN_TESTS].message
    assert official.outcomes[OWN_TESTS].message == local.outcomes[OWN_TESTS].message
    assert official.outcomes[LINT].outcome == "passed"  # ruff runs no code: it needs no sandbox


@pytest.mark.slow
def test_official_mode_names_a_failing_own_test(project: Path, run_gates: Any) -> None:
    _official_or_skip()
    edit(project / "tests/yours/test_errors.py", '"message": "Gone."}', '"message": "Lost."}')

    outcome = run_gates(project, mode="official").outcomes[OWN_TESTS]

    assert outcome.outcome == "failed"
    assert "tests/yours/test_errors.py::test_error_body_leaves_out_empty_fields" in (
        outcome.message or ""
    )
    assert "/submission" not in (outcome.message or "")  # no sandbox path in learner feedback


# Judging a run, without running one ------------------------------------------------------------

GATE = LearnerTestsGate(tests="tests/yours", cover=("blog", "api"), min_coverage=80)


def judged(run: CheckRun, coverage_file: Path | None = None) -> protocol.TestOutcome:
    measured = gates.coverage_files(coverage_file or Path("/nonexistent"), Path("/project"))
    return gates.judge_learner_tests(OWN_TESTS, GATE, run, measured, 60)


def test_a_run_that_timed_out_says_so() -> None:
    outcome = judged(CheckRun(None, True, None, 60.0, ""))
    assert "did not finish within 60 seconds" in (outcome.message or "")


def test_a_file_that_cannot_be_collected_is_named() -> None:
    error = "tests/yours/test_x.py: ImportError: no module named x"
    report = Report(collection_errors=[error], exit_code=2)
    outcome = judged(CheckRun(report, False, 2, 1.0, ""))
    assert outcome.outcome == "failed"
    assert "tests/yours/test_x.py: ImportError" in (outcome.message or "")


def test_the_graders_own_failure_is_an_error_not_failed_tests() -> None:
    """Issue 14: official mode's sandbox could not start PostgreSQL for the learner's tests, and
    the gate said "your tests could not run", blaming the learner. The agent now reports it
    as the grader's (stage "grader"): an error, which run_quality_gates flags for review."""
    said = "The grader could not start PostgreSQL inside the sandbox, so nothing was graded"
    report = Report(fatal={"stage": "grader", "message": said})
    outcome = judged(CheckRun(report, False, 3, 1.0, ""))
    assert outcome.outcome == "error"
    assert outcome.message == said
    learners = judged(CheckRun(Report(fatal={"stage": "checks", "message": "x"}), False, 3, 1, ""))
    assert learners.outcome == "failed"  # the learner's own crash stays theirs


def test_files_without_test_functions_are_explained() -> None:
    outcome = judged(CheckRun(Report(exit_code=5), False, 0, 1.0, ""))
    assert "found no test functions" in (outcome.message or "")


def test_a_coverage_report_that_is_missing_or_malformed_is_an_error(tmp_path: Path) -> None:
    passing = Report(tests={"t::a": protocol.TestOutcome("t::a", "passed")}, exit_code=0)
    bad = tmp_path / "coverage.json"
    bad.write_text('{"files": {"blog/x.py": {"summary": "not a dict"}}}')
    for coverage_file in (tmp_path / "absent.json", bad):
        outcome = judged(CheckRun(passing, False, 0, 1.0, ""), coverage_file)
        assert outcome.outcome == "error"
        assert "could not be measured" in (outcome.message or "")


def test_missing_lines_are_shown_as_ranges() -> None:
    assert gates._ranges((3, 4, 5, 9, 11, 12)) == "3-5, 9, 11-12"
    assert gates._ranges((1, 3, 5, 7, 9)) == "1, 3, 5, 7, …"


# ruff ------------------------------------------------------------------------------------------


def test_a_lint_error_fails_naming_file_line_and_rule(project: Path, run_ruff: Any) -> None:
    urls = project / "api/urls.py"
    edit(urls, "from django.urls import path\n", "import os\n\nfrom django.urls import path\n")

    outcome = run_ruff(project)

    assert outcome.outcome == "failed"
    message = outcome.message or ""
    assert "api/urls.py:3 F401" in message
    assert "See them all with `ruff check --config " in message
    assert "learner-ruff.toml --ignore-noqa .` in your project" in message


def test_the_projects_own_ruff_settings_change_nothing(project: Path, run_ruff: Any) -> None:
    (project / "ruff.toml").write_text('[lint]\nselect = []\nexclude = ["*"]\n')
    (project / "api" / "ruff.toml").write_text('[lint]\nignore = ["ALL"]\n')
    (project / ".gitignore").write_text("api/\n")
    typing = "from typing import Any\n"
    edit(project / "api/errors.py", typing, "import os\n" + typing)

    outcome = run_ruff(project)

    assert outcome.outcome == "failed"
    assert "api/errors.py" in (outcome.message or "")


def test_a_todo_left_in_counts(project: Path, run_ruff: Any) -> None:
    edit(project / "blog/services.py", "def post_delete(", "# TODO: soft delete\ndef post_delete(")

    outcome = run_ruff(project)

    assert outcome.outcome == "failed"
    assert "FIX002" in (outcome.message or "")


# A memo shared by gradings of one submission (grader.course.proving) --------------------------


def _staged_gates(rubric: Rubric, folder: Path, work: Path, memo: gates.GateMemo) -> gates.GateRun:
    work.mkdir(parents=True)
    staged = stage_submission(folder, work / "submission")
    return gates.run_quality_gates(rubric=rubric, staged=staged, work=work, memo=memo)


def test_a_memo_reuses_a_gate_run_on_the_same_files_and_applies_each_rubrics_threshold(
    rubric: Rubric, project: Path, tmp_path: Path
) -> None:
    memo = gates.GateMemo()
    first = _staged_gates(rubric, project, tmp_path / "first", memo)
    assert first.outcomes[OWN_TESTS].outcome == "passed"
    assert memo.hits == 0

    # A rubric asking for more coverage than the solution's tests reach (as a later lab's may):
    # the same run is reused, and judged against this rubric's threshold, not the first one's.
    strict = replace_gate(rubric, min_coverage=100)
    second = _staged_gates(strict, project, tmp_path / "second", memo)
    assert memo.hits == 2  # the learner tests and ruff, both from the first run
    assert second.outcomes[LINT] == first.outcomes[LINT]
    assert second.outcomes[OWN_TESTS].outcome == "failed"
    assert "the lab asks for 100%" in (second.outcomes[OWN_TESTS].message or "")
    # The same measurement ("Your N tests pass and cover X% ..."), judged differently.
    measured = (first.outcomes[OWN_TESTS].message or "").removesuffix(".")
    assert (second.outcomes[OWN_TESTS].message or "").startswith(measured + "; ")


def test_a_memo_never_answers_for_different_files(
    rubric: Rubric, project: Path, tmp_path: Path
) -> None:
    memo = gates.GateMemo()
    assert _staged_gates(rubric, project, tmp_path / "first", memo).outcomes[OWN_TESTS].outcome == (
        "passed"
    )
    edit(project / "tests/yours/test_errors.py", '"message": "Gone."}', '"message": "Lost."}')
    changed = _staged_gates(rubric, project, tmp_path / "second", memo)
    assert memo.hits == 0
    assert changed.outcomes[OWN_TESTS].outcome == "failed"


def replace_gate(rubric: Rubric, **changes: Any) -> Rubric:
    """``rubric`` with its learner-tests gate changed (``dataclasses.replace`` on both)."""
    from dataclasses import replace

    criteria = tuple(
        replace(c, gate=replace(c.gate, **changes)) if isinstance(c.gate, LearnerTestsGate) else c
        for c in rubric.criteria
    )
    return replace(rubric, criteria=criteria)
