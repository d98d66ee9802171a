"""Turn an exception into one line a learner can act on, never a traceback.

Rubric checks phrase their own assertion messages for learners ("GET /api/health/ answered 404,
expected 200"). Anything else (an exception raised by the learner's code during a request, an
import error) is reduced to its type, its message and the place in the submission it came from.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from types import TracebackType

LIMIT = 300


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


def location_in(tb: TracebackType | None, root: Path) -> str | None:
    """``path, line N`` of the deepest traceback frame inside ``root`` (the submission)."""
    where = None
    for frame in traceback.extract_tb(tb):
        try:
            rel = Path(frame.filename).resolve().relative_to(root)
        except ValueError:
            continue
        where = f"{rel.as_posix()}, line {frame.lineno}"
    return where


def _host_paths_shortened(text: str, root: Path) -> str:
    """``text`` with the project's folder and the interpreter's prefix replaced, before it is cut.

    The grader scrubs host paths from the whole result later, but a message cut at
    :data:`LIMIT` first could end in half a path, which no scrubber recognises; and long
    paths would push the learner's own words past the cut. Same words as the result's scrubber.
    """
    for prefix in sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}, key=len, reverse=True):
        if prefix and prefix != "/":
            text = text.replace(prefix, "<python>")
    project = str(root)
    return text.replace(project + "/", "").replace(project, "your project folder")


def describe_exception(exc: BaseException, root: Path) -> str:
    """One line: the assertion message for failed checks, else ``Type: message (at file, line)``."""
    if isinstance(exc, AssertionError):
        # pytest's assertion rewriting appends "\nassert a == b ..." to our message: keep the
        # sentence written for the learner, drop the introspection.
        text = _first_line(str(exc)) or "the check's assertion failed"
        return text[:LIMIT]
    name = type(exc).__name__
    if name in {"Failed", "OutcomeException"}:  # pytest.fail("...") from a check
        return (_first_line(str(exc)) or "the check failed")[:LIMIT]
    message = _host_paths_shortened(_first_line(str(exc)), root)
    where = location_in(exc.__traceback__, root)
    text = f"{name}: {message}" if message else name
    if where:
        text += f" (raised at {where})"
    return text[:LIMIT]
