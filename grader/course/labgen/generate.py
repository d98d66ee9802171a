"""Generate one lab's starter or solution tree from the reference project.

The whole tree is built in memory first (:func:`build_tree`) and written only when every file
rendered, so a marker error never leaves a half-written lab behind.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from grader.course.labgen.config import CONFIG_NAME, LabConfig, load_config
from grader.course.labgen.generated import MODE as GENERATED_MODE
from grader.course.labgen.generated import add_generated
from grader.course.labgen.markers import KINDS, Kind, MarkerError, is_present, parse, render


@dataclass(frozen=True)
class OutputFile:
    """One generated file: its bytes and its permission bits (``stat.S_IMODE``)."""

    data: bytes
    mode: int


def resolve_lab(config: LabConfig, lab: str) -> str:
    """``lab`` in its config spelling (lower case); ValueError listing the known labs if unknown."""
    normalised = lab.lower()
    if normalised not in config.labs:
        raise ValueError(f"unknown lab {lab!r}; known labs: {', '.join(config.labs)}")
    return normalised


def source_files(source: Path, config: LabConfig) -> list[str]:
    """Every file under ``source`` that may be copied, as sorted POSIX relative paths.

    labs.toml itself is the generator's configuration, not part of the project, so it is never
    copied; neither is anything matching an ``exclude`` pattern.
    """
    found: list[str] = []
    for folder, dirnames, filenames in os.walk(source):
        dirnames.sort()
        base = PurePosixPath(Path(folder).relative_to(source).as_posix())
        for name in filenames:
            relative = str(base / name)
            if relative != CONFIG_NAME and not config.is_excluded(relative):
                found.append(relative)
    return sorted(found)


def build_tree(source: Path, config: LabConfig, lab: str, kind: Kind) -> dict[str, OutputFile]:
    """The generated tree for ``lab`` (already resolved) and ``kind``, keyed by relative path.

    Text (valid UTF-8) files have their markers applied; other files are copied byte for byte,
    present in every lab unless the ``[files]`` table says otherwise. Files of the
    ``[generated]`` table are then written by their command, run in a copy of the tree
    (:mod:`grader.course.labgen.generated`). Raises MarkerError, or GeneratedError when a
    command fails.
    """
    tree: dict[str, OutputFile] = {}
    for relative in source_files(source, config):
        path = source / relative
        shown = str(path)  # how errors name the file, e.g. solutions/blog/views.py
        data = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
        listed = config.files.get(relative)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if is_present(listed, shown, lab, kind, config.labs):
                tree[relative] = OutputFile(data, mode)
            continue
        marked = parse(text, shown)
        if listed is not None:
            if marked.directive is not None:
                raise MarkerError(
                    shown,
                    marked.directive.line,
                    "FILE directive in a file that labs.toml's [files] table also lists",
                )
            marked = replace(marked, directive=listed)
        rendered = render(marked, lab, kind, config.labs)
        if rendered is not None:
            tree[relative] = OutputFile(rendered.encode("utf-8"), mode)
    made = add_generated({k: v.data for k, v in tree.items()}, config, lab, kind)
    for relative, data in made.items():
        tree[relative] = OutputFile(data, GENERATED_MODE)
    return tree


def write_tree(tree: dict[str, OutputFile], dest: Path) -> list[Path]:
    """Write ``tree`` under ``dest`` (which must exist), preserving modes; the paths written."""
    written: list[Path] = []
    for relative, output in sorted(tree.items()):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.data)
        os.chmod(target, output.mode)
        written.append(Path(relative))
    return written


def generate_lab(source: Path, lab: str, kind: Kind, dest: Path) -> list[Path]:
    """Write ``lab``'s ``kind`` tree into ``dest``; return the relative paths written, sorted.

    ``dest`` must be absent or an empty folder (FileExistsError otherwise); it is created.
    Unknown lab or kind: ValueError. Malformed markers: MarkerError, and nothing is written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    config = load_config(source)
    lab = resolve_lab(config, lab)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest}: must be an empty folder or not exist")
    tree = build_tree(source, config, lab, kind)
    dest.mkdir(parents=True, exist_ok=True)
    return write_tree(tree, dest)
