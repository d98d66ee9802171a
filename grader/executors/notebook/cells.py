"""Reading notebooks as plain JSON: cells by nbgrader grade id, one-line messages from outputs.

Nothing here imports nbgrader or Jupyter, so the grading pipeline can check a learner's notebook
(and the mutants can edit a solution's) without the notebook extra installed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

Notebook = dict[str, Any]
Cell = dict[str, Any]

MESSAGE_LIMIT = 400
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookError(ValueError):
    """A file that is not a readable notebook; ``str`` says what is wrong, in one sentence."""


def read_notebook(data: bytes, shown: str) -> Notebook:
    """Parse ``.ipynb`` bytes; raise NotebookError naming ``shown`` when they are not a notebook."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{shown} is not UTF-8 text, so it is not a notebook") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{shown} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{shown} is JSON but not a Jupyter notebook (it has no cells list)")
    if notebook.get("nbformat") != 4:
        raise NotebookError(f"{shown} is not a version 4 notebook (nbformat 4)")
    return notebook


def source_of(cell: Cell) -> str:
    """A cell's source as one string (notebooks store it as a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def nbgrader_of(cell: Cell) -> dict[str, Any]:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def grade_id(cell: Cell) -> str | None:
    value = nbgrader_of(cell).get("grade_id")
    return value if isinstance(value, str) else None


def find_cell(notebook: Notebook, cell_id: str) -> Cell | None:
    """The cell whose nbgrader grade id is ``cell_id``, or None."""
    for cell in notebook["cells"]:
        if isinstance(cell, dict) and grade_id(cell) == cell_id:
            return cell
    return None


def grade_cells(notebook: Notebook) -> dict[str, float]:
    """Every autograded cell's grade id and points, in notebook order."""
    return {
        gid: float(nbgrader_of(cell).get("points") or 0)
        for cell in notebook["cells"]
        if isinstance(cell, dict) and nbgrader_of(cell).get("grade") and (gid := grade_id(cell))
    }


def edit_cell(path: Path, cell_id: str, find: str, replace: str) -> None:
    """Replace the one occurrence of ``find`` in the source of cell ``cell_id`` of the notebook
    at ``path`` (used by mutants); ValueError when the cell or the text is not there once."""
    notebook = read_notebook(path.read_bytes(), str(path))
    cell = find_cell(notebook, cell_id)
    if cell is None:
        raise ValueError(f"{path.name} has no cell with grade id {cell_id!r}")
    source = source_of(cell)
    count = source.count(find)
    if count != 1:
        raise ValueError(
            f"the text to replace occurs {count} times in cell {cell_id!r} of {path.name} "
            f"(expected exactly once): {find!r}"
        )
    cell["source"] = source.replace(find, replace).splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` without terminal colours, on one line, at most ``limit`` characters."""
    flat = " ".join(_ANSI.sub("", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def first_error(cell: Cell) -> tuple[str, str] | None:
    """``(ename, evalue)`` of the first error a cell's outputs show, or None."""
    for output in cell.get("outputs") or []:
        if isinstance(output, dict) and output.get("output_type") == "error":
            return str(output.get("ename") or "Error"), str(output.get("evalue") or "")
    return None


def describe_error(ename: str, evalue: str) -> str:
    """An exception as a learner reads it: the assertion's own sentence, or ``Name: value``."""
    ename, evalue = one_line(ename, 80), one_line(evalue)
    if ename == "AssertionError":
        return evalue or "an assertion failed without a message"
    return f"{ename}: {evalue}" if evalue else ename


def _timed(cell: Cell) -> float:
    """Seconds a cell ran, from the timestamps Jupyter records in its metadata (0.0 if absent)."""
    from datetime import datetime

    execution = (cell.get("metadata") or {}).get("execution") or {}
    try:
        start = datetime.fromisoformat(str(execution["iopub.execute_input"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(execution["shell.execute_reply"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds())


def check_messages(notebook: Notebook, cell_timeout: int | None = None) -> dict[str, str]:
    """For each grade cell of an autograded notebook that failed, what to tell the learner.

    The cause is looked for where it lies: a locked cell that failed before the check (setup,
    data) explains every later check; then an answer cell between the previous check and this
    one that raised; then the check's own error (its assertion's sentence, expected vs got).
    """
    messages: dict[str, str] = {}
    broken_locked: tuple[str, str] | None = None
    answers: list[tuple[str, tuple[str, str] | None]] = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta, gid, error = nbgrader_of(cell), grade_id(cell), first_error(cell)
        if gid is None:
            continue
        if meta.get("solution"):
            answers.append((gid, error))
            continue
        if not meta.get("grade"):
            if meta.get("locked") and error and broken_locked is None:
                broken_locked = (gid, describe_error(*error))
            continue
        answer = answers[-1][0] if answers else None
        raised = next(((a, e) for a, e in answers if e is not None), None)
        answers = []
        if broken_locked is not None:
            locked, what = broken_locked
            messages[gid] = (
                f"cell {gid}: the locked cell `{locked}` failed before it ({what}), so this check "
                "could not run; run the notebook from the top in Jupyter to see why"
            )
        elif raised is not None:
            what = describe_error(*raised[1])
            messages[gid] = f"cell {gid}: your answer cell `{raised[0]}` raised {what}"
        elif error is not None:
            ename, _ = error
            if ename == "NotImplementedError":
                where = f"the answer cell `{answer}`" if answer else "the answer above it"
                messages[gid] = (
                    f"cell {gid}: not answered yet: {where} still raises NotImplementedError; "
                    "replace `raise NotImplementedError()` with your code"
                )
            elif ename in ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError"):
                limit = f" {cell_timeout} seconds" if cell_timeout else " its time"
                messages[gid] = (
                    f"cell {gid} ran longer than{limit} and was stopped: look for a loop that "
                    "never ends or a query that waits on a lock"
                )
            else:
                messages[gid] = f"cell {gid}: {describe_error(*error)}"
    return messages


def cell_durations(notebook: Notebook) -> dict[str, float]:
    """Seconds each grade cell ran, by grade id."""
    return {
        gid: _timed(cell)
        for cell in notebook["cells"]
        if isinstance(cell, dict) and nbgrader_of(cell).get("grade") and (gid := grade_id(cell))
    }
