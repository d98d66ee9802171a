"""Escaping shared by the exports. Learner-influenced text (check messages, names) is never
trusted: in Markdown it goes into code fences or is escaped, in HTML and XML it is escaped."""

from __future__ import annotations

import html
import re

# Inline Markdown that could change meaning mid-line: emphasis, code, links and images (via [),
# attribute lists ({), tables (|), strike (~). Raw HTML is escaped as entities before this.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def md_text(text: str) -> str:
    """``text`` as literal Markdown inline text: no markup, no raw HTML, on one line.

    For use inside a line (after a label), never at the start of one, where ``#``, ``-`` or
    ``1.`` would also mean something."""
    flat = " ".join(text.split())
    escaped = html.escape(flat, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def md_authored(text: str) -> str:
    """Course-authored text (rubric titles and feedback): its Markdown (code spans) is kept,
    raw HTML is not, and table pipes are escaped."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def md_fence(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block whose fence is longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def html_authored(text: str) -> str:
    """Course-authored text as HTML: escaped, with `code spans` turned into <code>."""
    return _CODE_SPAN.sub(r"<code>\1</code>", html.escape(text, quote=True))


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (ElementTree escapes the rest)."""
    return _XML_INVALID.sub("\ufffd", text)


def csv_cell(text: str) -> str:
    """A spreadsheet-safe CSV cell: text starting with = + - @ is not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# The grader's own work folder (pipeline: tempfile prefix "grader-<lab>-", 8 random characters),
# wherever the system's temporary folder is. Grading scrubs it already (safetext.PathScrubber);
# a result stored by an older grader, or a path the scrubber did not know, is caught here too.
_WORK = re.compile(r"(?:/[\w.+-]+)*/grader-[a-z0-9]+-[a-z0-9_]{8}(?:/submission)?(?P<rest>/)?")


def scrub_work_paths(text: str) -> str:
    """``text`` without the grader's temporary folders: a file in the staged project relative
    to it (``api/views.py``), the project itself as words, anything else as a placeholder."""

    def replace(match: re.Match[str]) -> str:
        staged = match.group(0).rstrip("/").endswith("/submission")
        if staged:
            return "" if match.group("rest") else "your project folder"
        return "<grader work folder>" + ("/" if match.group("rest") else "")

    return _WORK.sub(replace, text)
