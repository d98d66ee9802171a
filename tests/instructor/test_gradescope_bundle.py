"""The Gradescope autograder bundle, run for real in a simulated /autograder layout.

The zip is unpacked into ``<tmp>/autograder/source`` as Gradescope does, the submission goes to
``<tmp>/autograder/submission``, and the bundle's own ``run_autograder`` runs with
``GRADESCOPE_ROOT`` pointing at ``<tmp>/autograder`` (and ``GRADER_PYTHON`` at this
environment's Python instead of the venv ``setup.sh`` would have built).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.instructors.exports.gradescope import build_bundle, load
from tests.support import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gradescope") / "lab01-autograder.zip"
    build_bundle(ROOT, "lab01", path)
    return path


def _autograder(tmp: Path, bundle: Path, submission: Path | None) -> Path:
    root = tmp / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops modes: restore them as Gradescope does
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    (root / "submission").mkdir()
    if submission is not None:
        shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    return root


def _run(root: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": python}
    env.pop("GRADER_COURSE_ROOT", None)
    return subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_bundle_layout(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "pyproject.toml", "labs/lab01/rubric.toml"} <= names
    assert "labs/lab01/hidden/test_health.py" in names
    assert not any("mutants" in n and n.endswith(".toml") for n in names)
    assert not any(n.startswith(("solutions/", "labs/lab01/starter/")) for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR
    assert modes["setup.sh"] & stat.S_IXUSR


def test_run_autograder_grades_a_solution(
    bundle: Path, tmp_path: Path, lab01_solution: Path
) -> None:
    root = _autograder(tmp_path, bundle, lab01_solution)
    done = _run(root)
    assert done.returncode == 0, done.stderr
    results = load(root / "results" / "results.json")
    assert results["score"] == 100.0
    assert len(results["tests"]) == 6
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert results["extra_data"]["lab"] == "lab01"


def test_run_autograder_grades_a_zip_upload_of_the_starter(bundle: Path, tmp_path: Path) -> None:
    # Gradescope keeps an uploaded folder's top directory: the project sits one level down.
    root = _autograder(tmp_path, bundle, None)
    shutil.copytree(ROOT / "labs/lab01/starter", root / "submission" / "my-lab01")
    done = _run(root)
    assert done.returncode == 0, done.stderr
    results = load(root / "results" / "results.json")
    assert results["score"] == 0.0
    assert {t["status"] for t in results["tests"]} == {"failed"}
    assert all(t["output"] for t in results["tests"])


def test_run_autograder_always_writes_a_result(bundle: Path, tmp_path: Path) -> None:
    root = _autograder(tmp_path, bundle, None)  # an empty submission
    done = _run(root)
    assert done.returncode == 0, done.stderr
    results = load(root / "results" / "results.json")
    assert results["score"] == 0.0
    assert "could not be graded" in results["output"]
    broken = _autograder(tmp_path / "broken", bundle, None)
    assert _run(broken, python=str(tmp_path / "no-python")).returncode == 0  # cannot start
    assert "could not start" in load(broken / "results" / "results.json")["output"]
