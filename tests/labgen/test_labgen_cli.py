"""``python -m grader.course.labgen``: exit codes 0/1/2 and what is printed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.course.labgen.__main__ import main

MakeSource = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(make_source: MakeSource, tmp_path: Path) -> tuple[Path, Path]:
    source = make_source({"a.py": "x = 1\n# BEGIN LAB01\ny = 2\n# END LAB01\n"})
    labs_dir = tmp_path / "labs"
    (labs_dir / "lab01").mkdir(parents=True)
    return source, labs_dir


def starters(source: Path, labs_dir: Path, *extra: str) -> list[str]:
    return ["starters", "--source", str(source), "--labs-dir", str(labs_dir), *extra]


def test_starters_then_check(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, labs_dir = project
    assert main(starters(source, labs_dir)) == 0
    assert (labs_dir / "lab01/starter/a.py").read_text() == "x = 1\n"
    assert main(starters(source, labs_dir, "--check")) == 0
    assert "match" in capsys.readouterr().out


def test_check_with_drift_exits_1(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, labs_dir = project
    main(starters(source, labs_dir))
    (labs_dir / "lab01/starter/a.py").write_text("edited\n")
    capsys.readouterr()
    assert main(starters(source, labs_dir, "--check")) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("lab01/starter/a.py differs from the generator's output")
    assert "nox -s labs" in lines[-1]
    assert len(lines) == 2


def test_marker_error_exits_2_with_one_line(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, labs_dir = project
    (source / "b.py").write_text("# BEGIN LAB01\n# BEGIN LAB02\n")
    assert main(starters(source, labs_dir, "--check")) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{source / 'b.py'}:2: BEGIN LAB02 inside the LAB01 region opened on line 1; "
        "regions do not nest"
    ]
    assert "Traceback" not in captured.err + captured.out


def test_unknown_lab_exits_2(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, labs_dir = project
    assert main(starters(source, labs_dir, "lab42")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "lab01, lab02, lab03, capstone" in err


def test_solution_command(
    project: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = project
    dest = tmp_path / "sol"
    assert main(["solution", "--source", str(source), "LAB01", str(dest)]) == 0
    assert (dest / "a.py").read_text() == "x = 1\ny = 2\n"
    assert main(["solution", "--source", str(source), "lab01", str(dest)]) == 2  # not empty
    assert "must be an empty folder" in capsys.readouterr().err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert main(["solution", "lab01"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_source_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["starters", "--source", str(tmp_path / "nope"), "--check"]) == 2
    assert capsys.readouterr().err.startswith("labgen: ")


def test_runs_as_a_module(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "grader.course.labgen", *starters(source, labs_dir, "--check")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].endswith("lab01/starter is missing")
