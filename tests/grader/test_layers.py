"""The grader's layers hold (ARCHITECTURE decision 11, issue 11): imports point down only.

The contracts live in ``pyproject.toml`` under ``[tool.importlinter]`` (import-linter): the CLI on
top, then the course-authoring and instructors' tools, the pipeline, the executors, and the
engine at the bottom; the notebook and self-check executors independent of each other, and
neither importing official mode (which builds on the notebook executor for notebook labs);
no import circle between sibling packages or modules anywhere in ``grader``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def _lint_imports(config: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_layers_and_the_no_circles_contracts_are_kept() -> None:
    run = _lint_imports()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "4 kept, 0 broken" in run.stdout, run.stdout[-2000:]


def test_the_contract_catches_an_import_that_points_up(tmp_path: Path) -> None:
    """The same tool, told that the engine sits above the executors, reports the real imports
    that contradict it: proof that the check above can fail."""
    config = tmp_path / "upside-down.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_package = "grader"\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "upside down"\n'
        'type = "layers"\n'
        'layers = ["grader.scoring", "grader.executors"]\n',
        encoding="utf-8",
    )
    run = _lint_imports(config)
    assert run.returncode != 0
    assert "grader.executors" in run.stdout
    assert "BROKEN" in run.stdout
