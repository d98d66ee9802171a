"""The learner's command, exactly as the README gives it: `nox -s grade lab01`, and the other
ways people type it (`7`, `labs/lab07`, options without `--`, `-s=grade`, from a workspace).

These run nox for real (it reuses `.nox/grade`, creating it with uv on the first run).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

STARTER = ROOT / "labs/lab07/starter"
# A submission that does not exist: the grader refuses it at once, after nox has logged the exact
# command the session ran, so a spelling is checked without a whole grading.
MISSING = "/nonexistent/grade-words-check"


def nox(*args: str, cwd: Path = ROOT, wrapper: bool = False) -> subprocess.CompletedProcess[str]:
    """nox (or ``python3 noxw.py``) run in ``cwd`` as a shell would start it (PWD set)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTEST_ADDOPTS")}
    env["NO_COLOR"] = "1"
    env["PWD"] = str(cwd)
    command = [str(ROOT / "noxw.py")] if wrapper else ["-m", "nox"]
    return subprocess.run(
        [sys.executable, *command, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


def ran(done: subprocess.CompletedProcess[str]) -> str:
    """The grader command the grade session ran (nox logs it), checked to be the only session."""
    output = done.stdout + done.stderr
    assert "usage:" not in output, output  # nox's usage means it refused the words
    assert "Sessions not found" not in output, output
    assert output.count("Running session grade") == 1, output
    commands = re.findall(r"^nox > (python -m grader grade .*)$", output, re.M)
    assert len(commands) == 1, output
    return commands[0]


def _noxw() -> Any:
    spec = importlib.util.spec_from_file_location("noxw_under_test", ROOT / "noxw.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.parametrize(
    ("wrapper", "words"),
    [
        (False, ["-s", "grade", "labs/lab07", "--", "--submission", MISSING]),
        (False, ["-s", "grade", "labs/lab07/starter/", "--", "--submission", MISSING]),
        (False, ["-s", "grade", "--", "7", "--submission", MISSING]),
        (False, ["-s", "grade", "7", "--", "--submission", MISSING]),
        # nox refuses these two before it reads noxfile.py; the wrapper rewrites them first.
        (True, ["-s", "grade", "lab07", "--submission", MISSING]),
        (True, ["-s=grade", "lab07", "--submission", MISSING]),
    ],
)
def test_each_spelling_grades_what_was_meant(wrapper: bool, words: list[str]) -> None:
    done = nox(*words, wrapper=wrapper)
    assert ran(done) == f"python -m grader grade lab07 --submission={MISSING}"
    assert "The submission folder" in done.stdout + done.stderr  # the grader itself answered


def test_from_a_workspace_paths_mean_what_they_say_there() -> None:
    """From labs/lab07/starter/, as the handout's hint types it and with nox's -f: the session
    runs, and a relative --submission is read from the workspace, not from the repository root."""
    wrapped = nox("-s", "grade", "lab07", "--submission", "nothere", cwd=STARTER, wrapper=True)
    assert ran(wrapped) == f"python -m grader grade lab07 --submission={STARTER / 'nothere'}"
    plain = nox("-f", "../../../noxfile.py", "-s", "grade", "lab07", "--", "--submission",
                "nothere", cwd=STARTER)  # fmt: skip
    assert ran(plain) == f"python -m grader grade lab07 --submission={STARTER / 'nothere'}"


def test_the_handouts_hint_grades_from_the_workspace() -> None:
    """Every handout says what to type in its workspace; lab01's hint, run there, grades."""
    for handout in sorted(ROOT.glob("labs/lab*/README.md")):
        lab = handout.parent.name
        grade_section = handout.read_text(encoding="utf-8").split("## Grade your work", 1)[1]
        assert f"`python3 ../../../noxw.py -s grade {lab}`" in grade_section, handout
    assert (ROOT / "labs/lab01/starter/../../../noxw.py").resolve() == ROOT / "noxw.py"
    done = nox("-s", "grade", "lab01", cwd=ROOT / "labs/lab01/starter", wrapper=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "lab01 — Project architecture" in output
    assert "Score: 0/100 (0%)" in output


def test_a_session_without_a_lab_says_what_to_type_in_one_line() -> None:
    done = nox("-s", "grade", "--", "--submission", MISSING)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    lines = [line for line in output.splitlines() if "Name the lab" in line]
    assert len(lines) == 1
    assert "nox -s grade lab01" in lines[0]
    assert "lab07" in lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("-s grade lab07 --submission X", "-s grade -- lab07 --submission /w/X"),
        ("-s=grade lab07", "-s grade -- lab07"),
        ("--sessions=grade 7 --database sqlite", "--sessions grade -- 7 --database sqlite"),
        ("-s grade lab07 --json -r", "-s grade -r -- lab07 --json"),
        ("-s grade lab07 -- --database postgres://u@h/db", "-s grade -- lab07 --database postgres://u@h/db"),
        ("-s grade 7 -j 2", "-s grade -j 2 -- 7"),  # 2 is -j's value, not a lab
        ("-f ../../../noxfile.py -s grade lab07", "-f /noxfile.py -s grade -- lab07"),
        ("-s tests -- quick", "-s tests -- quick"),  # other sessions: untouched
        ("-l --json", "-l --json"),
    ],
)  # fmt: skip
def test_grade_words_for_nox(argv: str, expected: str) -> None:
    rewrite = _noxw().grade_words_for_nox
    result = rewrite(argv.split(), cwd="/w")
    assert " ".join(result) == expected
    assert rewrite(result, cwd="/w") == result  # a second pass changes nothing: no exec loop
