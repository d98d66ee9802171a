"""Turn an exception into one line a learner can act on, never a traceback.

Rubric checks phrase their own assertion messages for learners ("GET /api/health/ answered 404,
expected 200"). Anything else (an exception raised by the learner's code during a request, an
import error) is reduced to its type, its message and the place in the submission it came from.
"""

from __future__ import annotations

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
    message = _first_line(str(exc))
    where = location_in(exc.__traceback__, root)
    text = f"{name}: {message}" if message else name
    if where:
        text += f" (raised at {where})"
    return text[:LIMIT]
