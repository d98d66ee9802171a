"""The learner's notebook: nbgrader's own release of the source notebook, committed in the starter.

:func:`release_notebook` runs nbgrader's ``generate_assignment`` on the source notebook in a
throwaway course folder and returns the released notebook's bytes, after checking that nothing of
the answers or the hidden tests is left in it (:func:`leaks`). :func:`write_releases` writes it to
``labs/<lab>/starter/<notebook>``; :func:`check_releases` reports how the committed copy differs
from a fresh release (``nox -s tests`` and ``nox -s labs -- --check`` fail on any difference).

Two releases are compared as nbgrader's output means them: cell by cell, the id, type, source,
outputs and the metadata nbgrader sets (``nbgrader``, ``editable``, ``deletable``), plus the
notebook's format and kernel. Metadata that Jupyter changes when a notebook is merely opened or
run (execution counts, timings, collapsed or scrolled views, widget state) is ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.executors.notebook import course_root_of, notebook_rubrics, source_notebook
from grader.executors.notebook.cells import (
    Notebook,
    NotebookError,
    grade_id,
    read_notebook,
    source_of,
)
from grader.executors.notebook.course import failure_reason, nbgrader_api, tools_path
from grader.rubric import Rubric

STARTER = "starter"
KEPT_METADATA = ("nbgrader", "editable", "deletable")
# nbgrader's region markers, spelled with \s+ so that this file holds no marker text itself.
_BEGIN = re.compile(r"^\s*#+\s*BEGIN\s+(SOLUTION|HIDDEN\s+TESTS)\b")
_END = re.compile(r"^\s*#+\s*END\s+(SOLUTION|HIDDEN\s+TESTS)\b")
MARKER_TEXT = re.compile(r"\b(?:BEGIN|END)\s+(?:SOLUTION|HIDDEN\s+TESTS|MARK\s+SCHEME)\b")
MIN_SECRET = 12  # shorter answer lines (`return qs`, `pass`) are too common to count as a leak


@dataclass(frozen=True)
class Release:
    """One notebook lab's release: where its source is and where the learner's copy goes."""

    lab: str
    source: Path
    target: Path

    @classmethod
    def of(cls, rubric: Rubric) -> Release:
        root = course_root_of(rubric)
        assert rubric.notebook is not None
        return cls(
            lab=rubric.lab,
            source=source_notebook(root, rubric),
            target=rubric.path.parent / STARTER / rubric.notebook,
        )


@contextmanager
def _tools_on_path() -> Iterator[None]:
    old = os.environ.get("PATH")
    os.environ["PATH"] = tools_path(old)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = old


def release_notebook(source: Path, assignment: str) -> bytes:
    """nbgrader's release of the notebook ``source`` as assignment ``assignment``.

    Raises NotebookError when the source is not a notebook, nbgrader refuses it, or the release
    still holds answer or hidden-test text (see :func:`leaks`).
    """
    original = read_notebook(source.read_bytes(), str(source))
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        root = Path(tmp) / "course"
        folder = root / "source" / assignment
        folder.mkdir(parents=True)
        shutil.copyfile(source, folder / source.name)
        with _tools_on_path():
            result = nbgrader_api(root).generate_assignment(assignment)
        released = root / "release" / assignment / source.name
        if not result.get("success") or not released.is_file():
            raise NotebookError(f"nbgrader could not release {source}: {failure_reason(result)}")
        data = released.read_bytes()
    found = leaks(read_notebook(data, "the released notebook"), original)
    if found:
        raise NotebookError(f"the release of {source} leaks: " + "; ".join(found[:5]))
    return data


def _regions(notebook: Notebook) -> tuple[set[str], set[str]]:
    """(lines inside answer and hidden-test regions, lines outside them) of every cell."""
    inside: set[str] = set()
    outside: set[str] = set()
    for cell in notebook["cells"]:
        depth = 0
        for line in source_of(cell).splitlines():
            if _BEGIN.match(line):
                depth += 1
            elif _END.match(line):
                depth = max(0, depth - 1)
            elif line.strip():
                (inside if depth else outside).add(line.strip())
    return inside, outside


def leaks(released: Notebook, source: Notebook) -> list[str]:
    """What of the answers or the hidden tests the released notebook still shows.

    A leak is marker text anywhere, or a line that the source has only inside an answer or
    hidden-test region (at least ``MIN_SECRET`` characters, comments aside) found in any cell of
    the release, wherever it was moved.
    """
    inside, outside = _regions(source)
    secret = {
        line for line in inside - outside if len(line) >= MIN_SECRET and not line.startswith("#")
    }
    found = []
    for index, cell in enumerate(released["cells"]):
        where = f"cell {index} ({grade_id(cell) or cell.get('cell_type')})"
        text = source_of(cell)
        if MARKER_TEXT.search(text):
            found.append(f"{where} holds nbgrader marker text")
        for line in text.splitlines():
            if line.strip() in secret:
                found.append(f"{where} holds a line of an answer or hidden test: {line.strip()!r}")
    return found


def canonical(notebook: Notebook) -> dict[str, Any]:
    """What a release means, without what Jupyter changes by opening or running it."""
    metadata = notebook.get("metadata") or {}
    cells = []
    for cell in notebook["cells"]:
        cell_metadata = cell.get("metadata") or {}
        cells.append(
            {
                "id": cell.get("id"),
                "cell_type": cell.get("cell_type"),
                "source": source_of(cell),
                "metadata": {k: cell_metadata[k] for k in KEPT_METADATA if k in cell_metadata},
                "outputs": cell.get("outputs") or [],
            }
        )
    return {
        "nbformat": (notebook.get("nbformat"), notebook.get("nbformat_minor")),
        "kernelspec": metadata.get("kernelspec"),
        "cells": cells,
    }


def differences(committed: Notebook, fresh: Notebook) -> list[str]:
    """How ``committed`` differs from ``fresh`` (empty: the same release), cell by cell."""
    old, new = canonical(committed), canonical(fresh)
    found = [f"{key} differs" for key in ("nbformat", "kernelspec") if old[key] != new[key]]
    if len(old["cells"]) != len(new["cells"]):
        found.append(f"{len(old['cells'])} cells instead of {len(new['cells'])}")
    for index, (a, b) in enumerate(zip(old["cells"], new["cells"], strict=False)):
        changed = [key for key in a if a[key] != b[key]]
        if changed:
            name = (b["metadata"].get("nbgrader") or {}).get("grade_id") or b["id"]
            found.append(f"cell {index} ({name}): {', '.join(changed)} differ")
    return found


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def check_releases(root: Path, labs: list[str] | None = None) -> list[str]:
    """One line per committed learner notebook that is missing or differs from a fresh release."""
    drift = []
    for rubric in notebook_rubrics(root, labs):
        release = Release.of(rubric)
        shown = _shown(release.target, root)
        if not release.target.is_file():
            drift.append(f"{shown} is missing")
            continue
        fresh = read_notebook(release_notebook(release.source, release.lab), "the release")
        try:
            committed = read_notebook(release.target.read_bytes(), shown)
        except NotebookError as exc:
            drift.append(str(exc))
            continue
        found = differences(committed, fresh)
        if found:
            drift.append(
                f"{shown} differs from nbgrader's release of {_shown(release.source, root)}: "
                + "; ".join(found[:5])
            )
    return drift


def write_releases(root: Path, labs: list[str] | None = None) -> list[Path]:
    """Release every notebook lab's notebook (or those of ``labs``) into its starter."""
    written = []
    for rubric in notebook_rubrics(root, labs):
        release = Release.of(rubric)
        data = release_notebook(release.source, release.lab)
        release.target.parent.mkdir(parents=True, exist_ok=True)
        release.target.write_bytes(data)
        written.append(release.target)
    return written
