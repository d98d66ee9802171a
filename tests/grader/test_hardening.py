"""The submission's own pytest and Python configuration cannot change its grade.

Each attack is added to the untouched lab01 starter, which must still score 0: a criterion that
flips to passing means the attack got through.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.support import ROOT

FORCE_PASS_HOOK = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None
    """
)


@pytest.fixture
def starter_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "starter"
    shutil.copytree(ROOT / "labs" / "lab01" / "starter", dest)
    return dest


def assert_scores_zero(result):
    assert result["status"] == "graded"
    passing = [c["id"] for c in result["criteria"] if c["status"] == "passed"]
    assert passing == [], f"attack made these criteria pass: {passing}"


def test_conftest_hooks_are_ignored(starter_copy, grade):
    (starter_copy / "conftest.py").write_text(FORCE_PASS_HOOK)
    (starter_copy / "tests" / "conftest.py").write_text(FORCE_PASS_HOOK)
    assert_scores_zero(grade(starter_copy))


def test_ini_and_pyproject_addopts_are_ignored(starter_copy, grade):
    (starter_copy / "evil_plugin.py").write_text(FORCE_PASS_HOOK)
    for name in ("pytest.ini", "tox.ini"):
        (starter_copy / name).write_text("[pytest]\naddopts = -p evil_plugin\n")
    (starter_copy / "setup.cfg").write_text("[tool:pytest]\naddopts = -p evil_plugin\n")
    (starter_copy / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p evil_plugin"\n'
    )
    assert_scores_zero(grade(starter_copy))


def test_pytest_addopts_and_plugins_from_the_environment_are_ignored(
    starter_copy, grade, monkeypatch
):
    (starter_copy / "evil_plugin.py").write_text(FORCE_PASS_HOOK)
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p evil_plugin")
    monkeypatch.setenv("PYTEST_PLUGINS", "evil_plugin")
    monkeypatch.setenv("PYTHONPATH", str(starter_copy))
    assert_scores_zero(grade(starter_copy))


def test_sitecustomize_and_pth_files_never_run(starter_copy, grade, tmp_path):
    witness = tmp_path / "ran.txt"
    payload = f"open({str(witness)!r}, 'w').write('ran')\n"
    (starter_copy / "sitecustomize.py").write_text(payload)
    (starter_copy / "usercustomize.py").write_text(payload)
    (starter_copy / "evil.pth").write_text(f"import os; {payload}")
    assert_scores_zero(grade(starter_copy))
    assert not witness.exists(), "a startup hook from the submission ran during grading"


def test_checks_come_from_the_course_not_the_submission(starter_copy, grade):
    """A submission that ships its own `hidden/` checks that always pass changes nothing."""
    fake = starter_copy / "hidden"
    fake.mkdir()
    (fake / "test_health.py").write_text("def test_health_reports_ok():\n    pass\n")
    (starter_copy / "rubric.toml").write_text("lab = 'lab01'\n")
    assert_scores_zero(grade(starter_copy))
