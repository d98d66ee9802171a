"""Markdown as the course's pages are read by the site and by GitHub: fences, headings, links.

Nothing here knows the agenda; :mod:`~grader.course.curriculum.parse` and the checks build on it.
The contract:

- :func:`outside_fences` yields the lines a reader sees as prose: fenced code blocks are skipped.
- :func:`atx_heading` reads one line as a heading, :func:`headings` lists a page's headings with
  the anchors the site gives them (an explicit ``{#id}`` wins; repeats get ``_1``, ``_2``...).
- :func:`site_anchor` and :func:`github_anchor` are the two slug rules; a heading that must land
  on both needs both to agree.
- :func:`links_in` finds the links on one line of prose, ignoring those shown in code spans.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"\n]*\")?\)")
_ATTR_ID = re.compile(r"\{[^}]*#(?P<id>[\w-]+)[^}]*\}\s*$")


@dataclass(frozen=True)
class Link:
    """A Markdown link as written: its text, its target and the line it is on (1-based)."""

    text: str
    target: str
    line: int


@dataclass(frozen=True)
class Heading:
    """A heading of a Markdown page: level, text as written, anchor on the site, line."""

    level: int
    text: str
    anchor: str
    line: int


def outside_fences(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(index, line)`` for the lines that are not inside a fenced code block."""
    open_fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if open_fence is None:
            if match:
                open_fence = match["fence"]
                continue
            yield index, line
        elif (
            match and match["fence"][0] == open_fence[0] and len(match["fence"]) >= len(open_fence)
        ):
            open_fence = None


def atx_heading(line: str) -> tuple[int, str] | None:
    """``(level, text)`` when ``line`` is an ATX heading (``## Day 1: ...``), else None."""
    match = _HEADING.match(line)
    return (len(match["hashes"]), match["text"]) if match else None


def unlinked(text: str) -> str:
    """``text`` with every Markdown link replaced by its link text."""
    return _LINK.sub(lambda match: match["text"], text)


def _plain_heading_text(text: str) -> str:
    """The text a reader sees in a heading: no attribute list, link targets or code ticks."""
    text = unlinked(_ATTR_ID.sub("", text).rstrip())
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("**", "")


def site_anchor(text: str) -> str:
    """The anchor the site gives a heading: Python-Markdown's ``toc`` slugify, ASCII mode."""
    plain = unicodedata.normalize("NFKD", _plain_heading_text(text))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^\w\s-]", "", plain).strip().lower()
    return re.sub(r"[-\s]+", "-", plain)


def github_anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    plain = _plain_heading_text(text).strip().lower()
    plain = re.sub(r"[^\w\- ]", "", plain)
    return plain.replace(" ", "-")


def heading_anchor(text: str) -> str:
    """The anchor a heading asks for on the site: its ``{#id}`` if it has one, else its slug.

    Before de-duplication: two headings may ask for the same anchor (see :func:`headings`).
    """
    explicit = _ATTR_ID.search(text)
    return explicit["id"] if explicit else site_anchor(text)


def headings(text: str) -> list[Heading]:
    """The ATX headings of a Markdown page with their site anchors (duplicates get ``_1``...)."""
    found: list[Heading] = []
    seen: dict[str, int] = {}
    for index, line in outside_fences(text.splitlines()):
        heading = atx_heading(line)
        if heading is None:
            continue
        level, title = heading
        anchor = heading_anchor(title)
        if anchor in seen:
            seen[anchor] += 1
            anchor = f"{anchor}_{seen[anchor]}"
        else:
            seen[anchor] = 0
        found.append(Heading(level, title, anchor, index + 1))
    return found


def links_in(line: str, number: int) -> list[Link]:
    """The Markdown links on one line of prose, skipping those shown inside code spans."""
    visible = _CODE_SPAN.sub(lambda match: " " * len(match[0]), line)
    return [Link(match["text"], match["target"], number) for match in _LINK.finditer(visible)]
