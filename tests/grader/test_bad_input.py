"""Bad input gets a clear message and a definite status, and the learner's files never change."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.support import ROOT


def tree_fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash and mtime: any change shows."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        + str(p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_empty_workspace_is_an_error_with_advice(tmp_path, grade):
    empty = tmp_path / "workspace"
    empty.mkdir()
    result = grade(empty)
    assert result["status"] == "error"
    assert result["error_stage"] == "stage"
    assert "no Python files" in result["message"]
    assert all(c["status"] == "not_run" for c in result["criteria"])


def test_syntax_error_names_file_and_line(solution_copy, grade):
    views = solution_copy / "api" / "views.py"
    lines = views.read_text().splitlines()
    lines[5] = "def broken(:"
    views.write_text("\n".join(lines) + "\n")
    before = tree_fingerprint(solution_copy)
    result = grade(solution_copy)
    assert result["status"] == "error"
    assert result["error_stage"] == "syntax"
    assert "api/views.py, line 6" in result["message"]
    assert "Traceback" not in result["message"]
    assert tree_fingerprint(solution_copy) == before


def test_settings_that_fail_to_import(solution_copy, grade):
    base = solution_copy / "config" / "settings" / "base.py"
    base.write_text(base.read_text() + "\nTIME_ZONE = undefined_name\n")
    result = grade(solution_copy)
    assert result["status"] == "error"
    assert result["error_stage"] == "settings"
    assert "NameError" in result["message"]
    assert "config/settings/base.py" in result["message"]
    assert "Traceback" not in result["message"]


def test_process_exit_at_import_is_an_error_not_a_score(solution_copy, grade):
    base = solution_copy / "config" / "settings" / "base.py"
    base.write_text("import os\nos._exit(0)\n" + base.read_text())
    result = grade(solution_copy)
    assert result["status"] == "error"
    assert "stopped before reporting" in result["message"]
    assert result["score"]["points"] == 0


def test_learner_files_are_never_modified(solution_copy, grade):
    """Settings that write files and a checks run that builds a database touch only the copy."""
    base = solution_copy / "config" / "settings" / "base.py"
    base.write_text(
        base.read_text() + "\nfrom pathlib import Path as _P\n_P('written.txt').write_text('x')\n"
    )
    before = tree_fingerprint(solution_copy)
    result = grade(solution_copy)
    assert result["status"] == "graded"
    assert tree_fingerprint(solution_copy) == before
    assert not (solution_copy / "written.txt").exists()
    assert not list(solution_copy.rglob("__pycache__"))


@pytest.mark.slow
def test_timeout_kills_the_whole_process_tree(solution_copy, grade, tmp_path):
    """A settings module that starts a detached (setsid) grandchild and then hangs: the run ends
    with status timeout and neither process survives."""
    marker = f"grader-orphan-{os.getpid()}-{tmp_path.name}"
    base = solution_copy / "config" / "settings" / "test.py"
    base.write_text(
        base.read_text()
        + "\nimport subprocess, sys\n"
        + "subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(300)',"
        + f" {marker!r}], start_new_session=True)\n"
        + "while True:\n    pass\n"
    )
    result = grade(solution_copy, timeout=5)
    assert result["status"] == "timeout"
    assert "did not finish within 5 seconds" in result["message"]
    survivors = [
        p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])
    ]
    assert survivors == []


def test_unknown_lab_is_one_line_listing_the_labs():
    done = run_cli("grade", "lab99")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Unknown lab 'lab99'" in lines[0]
    assert "lab01" in lines[0]


def test_missing_submission_folder_is_a_usage_error(tmp_path):
    done = run_cli("grade", "lab01", "--submission", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_exit_codes_and_result_file(lab01_solution, tmp_path):
    out = tmp_path / "result.json"
    done = run_cli("grade", "lab01", "--submission", str(lab01_solution), "--output", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "100/100" in done.stdout
    assert out.is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli("grade", "lab01", "--submission", str(empty), "--output", str(out))
    assert done.returncode == 3
    assert "ERROR" in done.stdout
