"""Make submission text safe to show: no terminal control, no markup, no host paths.

Anything a grading run reports can carry text the learner chose: a check's assertion message
quotes what the project answered, ruff quotes file names, an archive's refusal quotes a member
name. That text is shown in a terminal (rich), in feedback files and in exports, so three things
must never pass through it:

- **terminal control**: ANSI/CSI and OSC escape sequences (colours, cursor moves, window titles,
  hyperlinks, clipboard writes) and the other C0/C1 control characters, plus the Unicode
  bidirectional overrides that make text read differently from how it is stored. Newlines and
  tabs are kept; everything else in those classes is removed (:func:`strip_control`).
- **rich markup**: ``[bold]`` or a stray ``[/x]`` is markup to rich, and an unbalanced closing
  tag makes rendering raise. :func:`for_rich` escapes it after stripping control characters.
- **host paths**: the course checkout, the Python installation, the grader's staging and
  temporary folders. They say nothing to a learner and tell an attacker where things are.
  :class:`PathScrubber` replaces them with short placeholders.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.markup import escape

# Whole escape sequences first, so no printable tail ("[31m") is left behind; then any single
# control character. CSI: ESC [ params intermediates final (or the one-byte C1 CSI, 0x9b).
# OSC/DCS/APC/PM/SOS: ESC ] ... terminated by BEL or ST (ESC \), or running to the end.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 except \t and \n; DEL; C1; zero-width and bidi controls (U+200B-U+200F, U+202A-U+202E,
# U+2066-U+2069); the line and paragraph separators some terminals treat as newlines.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)


def strip_control(text: str) -> str:
    """``text`` without escape sequences and control characters (newlines and tabs kept).

    A carriage return is removed too: alone, it lets a line overwrite what was printed before.
    """
    return _CONTROL.sub("", _SEQUENCES.sub("", text))


def for_rich(text: str) -> str:
    """``text`` as rich markup that prints literally: control stripped, brackets escaped."""
    return escape(strip_control(text))


def _variants(path: Path) -> list[str]:
    """``path`` as given and resolved (a symlinked /tmp shows up both ways in messages)."""
    found = {str(path)}
    with contextlib.suppress(OSError, RuntimeError):  # a loop: the given form is enough
        found.add(str(path.resolve()))
    return [p for p in found if len(p) > 1]  # never "/": it would eat every slash


class PathScrubber:
    """Replace host paths in learner-facing text with placeholders that say what they were.

    ``project`` folders (the staged copy, the unpacked archive) are shown as paths relative to
    the project: ``/tmp/grader-lab01-x/submission/api/views.py`` becomes ``api/views.py``, and
    the bare folder becomes "your project folder". Every other known folder becomes a
    placeholder in angle brackets: ``<grader work folder>``, ``<course>``, ``<python>``,
    ``<home>``. Longer paths are replaced first, so a staged copy inside the work folder is
    made relative rather than shown as ``<grader work folder>/submission/...``.
    """

    def __init__(self) -> None:
        self._rules: list[tuple[str, str, str]] = []  # (path, bare replacement, prefix repl.)
        self._pattern: re.Pattern[str] | None = None
        course = Path(__file__).resolve().parent.parent  # the checkout (editable install)
        self.add(course, "<course>")
        for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
            self.add(Path(prefix), "<python>")
        self.add(Path(sys.executable).parent, "<python>")
        self.add(Path.home(), "<home>")
        # Not the system's temporary folder as a whole: learners quote paths like /tmp/x.py
        # in their own files (an archive member's name, say), and a refusal must quote them
        # as they are. The grader's own temporary folders are registered one by one (add()).

    def add(self, path: Path, placeholder: str) -> None:
        """Show ``path`` (and anything under it) as ``placeholder`` (and ``placeholder/...``)."""
        for text in _variants(path):
            self._rules.append((text, placeholder, placeholder + "/"))
        self._pattern = None

    def add_project(self, path: Path) -> None:
        """Show ``path`` as the project itself: files under it relative, the folder in words."""
        for text in _variants(path):
            self._rules.append((text, "your project folder", ""))
        self._pattern = None

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            # Longest first: the alternation takes the first branch that matches. A path
            # matches only where it ends, so /tmp/grader-a is not found inside /tmp/grader-ab
            # or /x/foo inside /x/foo.py (a "." that ends a sentence is fine).
            paths = sorted({rule[0] for rule in self._rules}, key=len, reverse=True)
            alternation = "|".join(re.escape(p) for p in paths)
            self._pattern = re.compile(f"({alternation})(/|(?![\\w-]|\\.\\w))")
        return self._pattern

    def __call__(self, text: str) -> str:
        """``text`` with every known host path replaced (see the class doc)."""
        if not self._rules or not text:
            return text
        by_path: dict[str, tuple[str, str]] = {}
        for path, bare, prefix in self._rules:
            by_path.setdefault(path, (bare, prefix))  # the first rule added for a path wins

        def replace(match: re.Match[str]) -> str:
            bare, prefix = by_path[match.group(1)]
            return prefix if match.group(2) == "/" else bare

        return self._compiled().sub(replace, text)


def scrub_result(result: dict[str, Any], scrub: PathScrubber) -> dict[str, Any]:
    """The learner-facing text of a result document, control-stripped and path-scrubbed in place.

    Touches only what feedback shows (the message, each criterion's feedback and detail, each
    check's message, the integrity flags, the public checks' messages); the document's metadata
    (the submission path an instructor gave, digests, timings) is left as it is.
    """

    def clean(value: object) -> object:
        return strip_control(scrub(value)) if isinstance(value, str) else value

    result["message"] = clean(result.get("message"))
    for criterion in result.get("criteria", []):
        criterion["feedback"] = clean(criterion.get("feedback"))
        criterion["detail"] = clean(criterion.get("detail"))
        for test in criterion.get("tests", []):
            test["message"] = clean(test.get("message"))
    integrity = result.get("integrity", {})
    integrity["flags"] = [clean(flag) for flag in integrity.get("flags", [])]
    public = result.get("public_checks")
    if isinstance(public, dict):
        for test in public.get("tests", []):
            test["message"] = clean(test.get("message"))
    return result


def all_clean(texts: Iterable[str]) -> bool:
    """True when none of ``texts`` holds a control character or escape sequence."""
    return not any(_CONTROL.search(t) or _SEQUENCES.search(t) for t in texts)
