"""The committed starters, ``labs/<lab>/starter/``: check them against the generator, rewrite them.

Only the ``starter`` folder of a lab is the generator's; everything else in ``labs/<lab>/``
(README, hidden rubric tests, ...) is written by hand and never touched here.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grader.course.labgen.config import LabConfig, load_config
from grader.course.labgen.generate import OutputFile, build_tree, resolve_lab, write_tree
from grader.course.labgen.generated import source_copy

STARTER = "starter"


def select_labs(config: LabConfig, labs_dir: Path, labs: Sequence[str] | None) -> list[str]:
    """The labs to work on: those given (validated), else every lab with a ``labs_dir`` folder.

    Later labs may not have been written yet, so a missing folder is not an error by default.
    """
    if labs is None:
        return [lab for lab in config.labs if (labs_dir / lab).is_dir()]
    chosen = [resolve_lab(config, lab) for lab in labs]
    return list(dict.fromkeys(chosen))  # drop repeats, keep order


def check_starters(source: Path, labs_dir: Path, labs: Sequence[str] | None = None) -> list[str]:
    """Drift between each committed starter and a fresh generation; empty means all fresh.

    Each line names one path under ``labs_dir``: "... differs from the generator's output",
    "... is missing" or "... should not exist". Paths matching labs.toml's exclude patterns
    (caches, local databases) are ignored on the committed side, as git ignores them. Contents
    are compared byte for byte, modes only by the owner's executable bit (all git records).
    """
    config = load_config(source)
    drift: list[str] = []
    if labs is None:  # the source folder's own generated files (its openapi.yaml)
        for relative, data in source_copy(config, source).items():
            path = source / relative
            if not path.is_file() or path.read_bytes() != data:
                drift.append(f"{path.as_posix()} differs from what its command writes")
    for lab in select_labs(config, labs_dir, labs):
        fresh = build_tree(source, config, lab, "starter")
        starter = labs_dir / lab / STARTER
        if not starter.is_dir():
            drift.append(f"{starter.as_posix()} is missing")
            continue
        committed = _committed_files(starter, config)
        for relative in sorted(set(fresh) | committed):
            shown = (starter / relative).as_posix()
            if relative not in committed:
                drift.append(f"{shown} is missing")
            elif relative not in fresh:
                drift.append(f"{shown} should not exist")
            elif not _same(fresh[relative], starter / relative):
                drift.append(f"{shown} differs from the generator's output")
    return drift


def write_starters(source: Path, labs_dir: Path, labs: Sequence[str] | None = None) -> list[str]:
    """Regenerate ``labs_dir/<lab>/starter/`` completely; return the labs written.

    Without ``labs``, every lab that has a ``labs_dir/<lab>/`` folder; with it, exactly those
    labs (their folders are created). All trees are built before any is written, so a marker
    error leaves every committed starter as it was.
    """
    config = load_config(source)
    chosen = select_labs(config, labs_dir, labs)
    trees = {lab: build_tree(source, config, lab, "starter") for lab in chosen}
    if labs is None:  # the source folder's own generated files (its openapi.yaml)
        for relative, data in source_copy(config, source).items():
            (source / relative).write_bytes(data)
    for lab, tree in trees.items():
        lab_dir = labs_dir / lab
        lab_dir.mkdir(parents=True, exist_ok=True)
        # Build next to the old starter, then swap, so an interrupted run never leaves a
        # half-written starter in place of a complete one.
        staging = Path(tempfile.mkdtemp(prefix=".starter-", dir=lab_dir))
        try:
            fresh = staging / STARTER
            fresh.mkdir()
            write_tree(tree, fresh)
            target = lab_dir / STARTER
            if target.exists():
                _carry_kept(config, target, fresh)
                shutil.rmtree(target)
            fresh.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return chosen


def _carry_kept(config: LabConfig, old: Path, fresh: Path) -> None:
    """Copy the files of ``old`` that labs.toml's ``keep`` names (another tool's output, such as
    nbgrader's released notebook) into ``fresh``, where the generator did not write them."""
    if not config.keep:
        return
    for folder, _dirnames, filenames in os.walk(old):
        base = Path(folder).relative_to(old)
        for name in filenames:
            relative = (base / name).as_posix()
            if config.is_kept(relative) and not (fresh / relative).exists():
                (fresh / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, fresh / relative)


def _committed_files(starter: Path, config: LabConfig) -> set[str]:
    generated = {entry.path for entry in config.generated}
    found: set[str] = set()
    for folder, _dirnames, filenames in os.walk(starter):
        base = Path(folder).relative_to(starter)
        for name in filenames:
            relative = (base / name).as_posix()
            # A [generated] path is excluded from copying, yet the starter holds its own copy.
            if not config.is_excluded(relative) or relative in generated:
                found.add(relative)
    return found


def _same(fresh: OutputFile, committed: Path) -> bool:
    executable = bool(committed.stat().st_mode & stat.S_IXUSR)
    return fresh.data == committed.read_bytes() and executable == bool(fresh.mode & stat.S_IXUSR)
