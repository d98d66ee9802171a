"""The authors' and instructors' guides say how to get a lab's reference solution, and the
command they give works as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

GUIDES = ["docs/authors/lab-markers.md", "docs/guides/instructor.md"]
COMMAND = re.compile(r"^python -m grader\.course\.labgen solution (?P<args>\S+ \S+)", re.M)


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_gives_a_working_solution_command(guide: str, tmp_path: Path) -> None:
    commands = COMMAND.findall((ROOT / guide).read_text(encoding="utf-8"))
    assert commands, f"{guide} does not say `python -m grader.course.labgen solution LAB DEST`"
    lab, _dest = shlex.split(commands[0])
    dest = tmp_path / "solution"
    done = subprocess.run(
        [sys.executable, "-m", "grader.course.labgen", "solution", lab, str(dest)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (dest / "manage.py").is_file()
    marker = re.compile(r"^\s*(#|<!--|\{#|//)\s*(BEGIN|END|STUB)\s+LAB\d\d", re.M | re.I)
    for path in dest.rglob("*.py"):
        assert not marker.search(path.read_text(encoding="utf-8")), path
