"""Mutants: deliberately wrong versions of a lab's solution that prove its rubric (decision 3).

``labs/<lab>/hidden/mutants.toml`` lists them::

    [[mutants]]
    id = "health-ignores-database"
    description = "The health view reports ok without touching the database."
    loses = ["health-degraded"]          # criterion ids that must fail; all others must pass
    [[mutants.edits]]
    file = "api/health.py"                # relative to the lab's generated solution
    find = "..."                          # must occur exactly once, so a stale mutant is loud
    replace = "..."

Text edits rather than patch files: they survive unrelated changes to the solution, and when the
solution moves on, the ``find`` that no longer matches names the mutant to update.

A mutant may end with ``regenerate = ["openapi.yaml"]``: after its edits, each named file of
labs.toml's ``[generated]`` table is written again by its command in the mutated tree. That is
the learner who changed the code *and* regenerated the committed contract (lab08), so the
mutant loses what the code change costs and not the stale contract as well.

In a notebook, an edit names the cell by its nbgrader grade id, ``cell = "prefetch_related"``
(with ``file`` the notebook): ``find`` and ``replace`` then apply to that cell's source as the
author sees it in Jupyter, not to the JSON text that stores it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import RubricError


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str
    cell: str | None = None  # a notebook cell's nbgrader grade id


@dataclass(frozen=True)
class Mutant:
    id: str
    description: str
    loses: tuple[str, ...]
    edits: tuple[Edit, ...]
    regenerate: tuple[str, ...] = ()


def load_mutants(path: Path, criterion_ids: set[str]) -> list[Mutant]:
    """Read ``mutants.toml``; every ``loses`` entry must name a criterion of the rubric."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None
    mutants = []
    for entry in data.get("mutants", []):
        try:
            mutant = Mutant(
                id=str(entry["id"]),
                description=str(entry["description"]),
                loses=tuple(entry["loses"]),
                edits=tuple(
                    Edit(
                        str(e["file"]),
                        str(e["find"]),
                        str(e["replace"]),
                        str(e["cell"]) if "cell" in e else None,
                    )
                    for e in entry["edits"]
                ),
                regenerate=tuple(str(name) for name in entry.get("regenerate", ())),
            )
        except (KeyError, TypeError) as exc:
            raise RubricError(f"{path}: a mutant lacks {exc}") from None
        unknown = set(mutant.loses) - criterion_ids
        if unknown or not mutant.loses or not mutant.edits:
            raise RubricError(
                f"{path}: mutant {mutant.id!r} must lose at least one criterion and make at least "
                f"one edit; unknown criteria: {sorted(unknown)}"
            )
        mutants.append(mutant)
    return mutants


def apply_mutant(tree: Path, mutant: Mutant) -> None:
    """Apply ``mutant``'s edits to the files under ``tree`` in place, then regenerate the files
    it names (see the module docstring)."""
    for edit in mutant.edits:
        target = tree / edit.file
        if edit.cell is not None:
            from grader.executors.notebook.cells import edit_cell

            try:
                edit_cell(target, edit.cell, edit.find, edit.replace)
            except FileNotFoundError:
                raise RubricError(f"mutant {mutant.id!r}: {edit.file} does not exist") from None
            except ValueError as exc:
                raise RubricError(f"mutant {mutant.id!r}: {exc}") from None
            continue
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RubricError(f"mutant {mutant.id!r}: {edit.file} does not exist") from None
        count = text.count(edit.find)
        if count != 1:
            raise RubricError(
                f"mutant {mutant.id!r}: the text to replace occurs {count} times in {edit.file} "
                f"(expected exactly once): {edit.find!r}"
            )
        target.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")
    if mutant.regenerate:
        _regenerate(tree, mutant)


def _regenerate(tree: Path, mutant: Mutant) -> None:
    from grader.course.labgen.config import load_config
    from grader.course.labgen.generated import run_command
    from grader.labs import find_course_root

    entries = {e.path: e for e in load_config(find_course_root() / "solutions").generated}
    for name in mutant.regenerate:
        if name not in entries:
            raise RubricError(
                f"mutant {mutant.id!r}: {name} is not in labs.toml's [generated] table"
            )
        data = run_command(entries[name], tree, f"mutant {mutant.id}: {name}")
        (tree / name).write_bytes(data)
