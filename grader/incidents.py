"""The instructor-side debug log: where what must never reach a learner goes instead.

When grading meets something it cannot turn into a precise sentence (an exception nobody
foresaw, a trusted report over its cap), the learner gets a definite status and a short, safe
sentence, and the details (tracebacks, sandbox and trusted-process logs, which can quote a
hidden check's source) are written here, one file per incident, for the people who run the
grader.

The folder is ``GRADER_DEBUG_DIR`` when set, else ``<course root>/.grader/debug`` (git-ignored,
next to the result files). Nothing here is ever printed or put in a result document; the result
only says that an instructor has the details.
"""

from __future__ import annotations

import os
import secrets
import traceback
from datetime import UTC, datetime
from pathlib import Path

INCIDENT_BYTES = 256 * 1024  # one incident file at most; a log tail is enough to debug with


def debug_dir() -> Path:
    """Where incident files go (see the module doc)."""
    override = os.environ.get("GRADER_DEBUG_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / ".grader" / "debug"


def record_incident(kind: str, text: str) -> Path | None:
    """Write ``text`` to a new incident file named after ``kind``; its path, or None.

    Never raises: failing to keep a debug log must not turn a definite status into a crash.
    The file is created owner-only (0600): it can hold hidden-check source.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_kind = "".join(c if c.isalnum() or c in "-_" else "-" for c in kind)[:40]
    try:
        folder = debug_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stamp}-{safe_kind}-{secrets.token_hex(4)}.log"
        data = text.encode("utf-8", "replace")[-INCIDENT_BYTES:]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path
    except OSError:
        return None


def record_exception(kind: str, exc: BaseException, context: str = "") -> Path | None:
    """:func:`record_incident` with ``exc``'s traceback (and ``context`` before it)."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return record_incident(kind, (context + "\n" if context else "") + "".join(lines))
