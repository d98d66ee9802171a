"""labs.toml's ``[generated]`` table: a file written by a command run in each generated tree.

The command here is a tiny script that prints the tree's own ``api.txt``, so each tree's
generated file depends on that tree's code exactly as lab08's ``openapi.yaml`` depends on the
lab's views; no Django is started.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course.labgen import (
    ConfigError,
    check_starters,
    generate_lab,
    load_config,
    write_starters,
)
from grader.course.labgen.generated import GeneratedError
from tests.labgen.conftest import write_files

LABS = ("lab01", "lab02", "lab03")
SCRIPT = "import pathlib\nprint('schema of ' + pathlib.Path('api.txt').read_text().strip())\n"
API = (
    "# BEGIN LAB01\nhealth\n# END LAB01\n"
    "# BEGIN LAB02\nposts\n# STUB LAB02\n# posts-todo\n# END LAB02\n"
)


def _source(tmp_path: Path, *, excluded: bool = True, command: str = "describe.py") -> Path:
    source = tmp_path / "solutions"
    write_files(source, {"api.txt": API, "describe.py": SCRIPT, "contract.txt": "stale\n"})
    exclude = '"contract.txt"' if excluded else '"none"'
    (source / "labs.toml").write_text(
        f"labs = {list(LABS)!r}\n".replace("'", '"')
        + f"exclude = [{exclude}]\n"
        + "[generated]\n"
        + f'"contract.txt" = {{ lab = "lab02 solution", command = ["{command}"] }}\n',
        encoding="utf-8",
    )
    return source


def test_each_tree_gets_the_file_its_own_code_writes(tmp_path: Path) -> None:
    source = _source(tmp_path)
    for lab, kind, expected in [
        ("lab01", "solution", None),
        ("lab02", "starter", None),  # "lab02 solution": the learner writes it in lab02
        ("lab02", "solution", "schema of health\nposts\n"),
        ("lab03", "starter", "schema of health\nposts\n"),
    ]:
        dest = tmp_path / f"{lab}-{kind}"
        generate_lab(source, lab, kind, dest)
        found = dest / "contract.txt"
        if expected is None:
            assert not found.exists(), (lab, kind)
        else:
            assert found.read_text() == expected, (lab, kind)


def test_the_generated_file_follows_a_change_of_code(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (source / "api.txt").write_text(API.replace("posts\n# STUB", "posts and comments\n# STUB"))
    generate_lab(source, "lab02", "solution", tmp_path / "out")
    assert (tmp_path / "out/contract.txt").read_text() == "schema of health\nposts and comments\n"


def test_check_names_a_stale_source_copy_and_write_fixes_it(tmp_path: Path) -> None:
    source = _source(tmp_path)
    labs_dir = tmp_path / "labs"
    (labs_dir / "lab03").mkdir(parents=True)
    write_starters(source, labs_dir)
    assert (labs_dir / "lab03/starter/contract.txt").read_text() == "schema of health\nposts\n"
    # The source folder's own copy is written in the folder itself, from its own files.
    assert (source / "contract.txt").read_text() == "schema of " + API.strip() + "\n"
    assert check_starters(source, labs_dir) == []

    (labs_dir / "lab03/starter/contract.txt").write_text("edited by hand\n")
    (source / "contract.txt").write_text("edited by hand\n")
    drift = check_starters(source, labs_dir)
    stale = "solutions/contract.txt differs from what its command writes"
    assert any(line.endswith(stale) for line in drift)
    assert any("lab03/starter/contract.txt differs" in line for line in drift)


def test_a_failing_command_stops_the_generator_with_its_output(tmp_path: Path) -> None:
    source = _source(tmp_path)
    (source / "describe.py").write_text("raise SystemExit('the schema has 2 warnings')\n")
    with pytest.raises(GeneratedError, match=r"lab02 solution: contract.txt: .*has 2 warnings"):
        generate_lab(source, "lab02", "solution", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing is written when a file fails


def test_a_generated_file_must_be_excluded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not excluded too"):
        load_config(_source(tmp_path, excluded=False))


def test_a_malformed_entry_is_refused(tmp_path: Path) -> None:
    source = _source(tmp_path)
    text = (source / "labs.toml").read_text().replace('lab = "lab02 solution"', 'lab = "lab99"')
    (source / "labs.toml").write_text(text)
    with pytest.raises(ConfigError, match="unknown lab"):
        load_config(source)
