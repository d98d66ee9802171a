"""check_starters and write_starters against labs folders built in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.course.labgen import MarkerError, check_starters, write_starters

MakeSource = Callable[..., Path]

FILES = {
    "manage.py": "#!/usr/bin/env python\n",
    "config/urls.py": "urls = []\n# BEGIN LAB01\nurls.append('health')\n# END LAB01\n",
    "blog/serializers.py": "# FILE LAB02\nclass PostSerializer:\n    pass\n",
}


@pytest.fixture
def project(make_source: MakeSource, tmp_path: Path) -> tuple[Path, Path]:
    """A source tree and a labs folder in which lab01 and lab02 exist (lab03 not yet)."""
    source = make_source(FILES)
    os.chmod(source / "manage.py", 0o755)
    labs_dir = tmp_path / "labs"
    for lab in ("lab01", "lab02"):
        (labs_dir / lab).mkdir(parents=True)
        (labs_dir / lab / "README.md").write_text(f"# {lab}\n")
    return source, labs_dir


def test_write_then_check_is_fresh(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    assert write_starters(source, labs_dir) == ["lab01", "lab02"]
    assert not (labs_dir / "lab03").exists()
    assert (labs_dir / "lab01/starter/config/urls.py").read_text() == "urls = []\n"
    assert (labs_dir / "lab02/starter/blog/serializers.py").is_file()
    assert os.access(labs_dir / "lab01/starter/manage.py", os.X_OK)
    assert check_starters(source, labs_dir) == []


def test_write_replaces_the_starter_but_keeps_the_rest(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    stale = labs_dir / "lab01/starter/old/stale.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("gone\n")
    (labs_dir / "lab01/hidden").mkdir()
    (labs_dir / "lab01/hidden/test_rubric.py").write_text("kept\n")
    write_starters(source, labs_dir, ["LAB01"])
    assert not stale.exists()
    assert not (labs_dir / "lab01/starter/old").exists()
    assert (labs_dir / "lab01/README.md").read_text() == "# lab01\n"
    assert (labs_dir / "lab01/hidden/test_rubric.py").read_text() == "kept\n"
    assert sorted(p.name for p in (labs_dir / "lab01").iterdir()) == [
        "README.md",
        "hidden",
        "starter",
    ]
    assert not (labs_dir / "lab02/starter").exists()  # only the lab asked for


def test_check_reports_differs_missing_and_extra(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    (labs_dir / "lab01/starter/config/urls.py").write_text("urls = ['edited']\n")
    (labs_dir / "lab02/starter/blog/serializers.py").unlink()
    (labs_dir / "lab02/starter/extra.py").write_text("")
    drift = check_starters(source, labs_dir)
    assert drift == [
        f"{labs_dir.as_posix()}/lab01/starter/config/urls.py differs from the generator's output",
        f"{labs_dir.as_posix()}/lab02/starter/blog/serializers.py is missing",
        f"{labs_dir.as_posix()}/lab02/starter/extra.py should not exist",
    ]


def test_check_reports_a_lost_executable_bit(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    os.chmod(labs_dir / "lab01/starter/manage.py", 0o644)
    assert check_starters(source, labs_dir) == [
        f"{labs_dir.as_posix()}/lab01/starter/manage.py differs from the generator's output"
    ]


def test_check_reports_a_source_change(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    (source / "config/urls.py").write_text("urls = ['fixed']\n")
    drift = check_starters(source, labs_dir)
    assert len(drift) == 2
    assert all("config/urls.py differs" in line for line in drift)


def test_check_ignores_excluded_paths_in_the_committed_starter(
    project: tuple[Path, Path],
) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    cache = labs_dir / "lab01/starter/config/__pycache__/urls.cpython-311.pyc"
    cache.parent.mkdir()
    cache.write_bytes(b"\x00")
    (labs_dir / "lab01/starter/db.sqlite3").write_bytes(b"\x00")
    assert check_starters(source, labs_dir) == []


def test_check_only_existing_labs_unless_named(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    assert check_starters(source, labs_dir) == []
    assert check_starters(source, labs_dir, ["lab03"]) == [
        f"{labs_dir.as_posix()}/lab03/starter is missing"
    ]
    with pytest.raises(ValueError, match="known labs"):
        check_starters(source, labs_dir, ["lab99"])


def test_marker_error_leaves_every_starter_untouched(project: tuple[Path, Path]) -> None:
    source, labs_dir = project
    write_starters(source, labs_dir)
    before = (labs_dir / "lab01/starter/config/urls.py").read_text()
    (source / "config/urls.py").write_text("# BEGIN LAB02\nnew\n")
    with pytest.raises(MarkerError):
        write_starters(source, labs_dir)
    assert (labs_dir / "lab01/starter/config/urls.py").read_text() == before
    assert sorted(p.name for p in (labs_dir / "lab01").iterdir()) == ["README.md", "starter"]


def test_write_carries_over_what_labs_toml_keeps(project: tuple[Path, Path]) -> None:
    """Another tool's output in a starter (nbgrader's released notebook) survives a rewrite;
    other stale files do not, and check_starters ignores the kept file (it is excluded)."""
    source, labs_dir = project
    toml = (source / "labs.toml").read_text()
    kept = '"notebooks/*.ipynb"'
    toml = toml.replace("exclude = [", f"keep = [{kept}]\nexclude = [{kept}, ")
    (source / "labs.toml").write_text(toml)
    write_starters(source, labs_dir)
    released = labs_dir / "lab01/starter/notebooks/workbook.ipynb"
    released.parent.mkdir()
    released.write_text('{"cells": []}\n')
    (labs_dir / "lab01/starter/notebooks/scratch.py").write_text("stale\n")
    write_starters(source, labs_dir, ["lab01"])
    assert released.read_text() == '{"cells": []}\n'
    assert not (labs_dir / "lab01/starter/notebooks/scratch.py").exists()
    assert check_starters(source, labs_dir) == []
