"""The learner's command, exactly as the README gives it: `nox -s grade lab01`.

These run nox for real (it reuses `.nox/grade`, creating it with uv on the first run).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow


def nox(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )


@pytest.mark.parametrize("words", [["-s", "grade", "lab01"], ["-s", "grade", "--", "lab01"]])
def test_both_spellings_grade_lab01_once(words):
    done = nox(*words)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert output.count("Running session grade") == 1
    assert "Sessions not found" not in output
    assert "lab01 — Project architecture" in output
    assert "Score: 0/100 (0%)" in output  # the untouched starter
    assert "Next step:" in output


def test_unknown_lab_is_refused_in_one_line():
    done = nox("-s", "grade", "lab99")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    refusals = [line for line in output.splitlines() if "Unknown lab" in line]
    assert len(refusals) == 1
    assert "lab01" in refusals[0]
    assert "uv pip install" not in output  # refused before installing anything
