"""Lab markers in one file: parse the text once, then render it for any lab and kind.

The grammar is specified in ``docs/authors/lab-markers.md``. In short, a *marker* is a line
holding only a comment (``#``, ``{# #}``, ``<!-- -->``, ``//`` or ``/* */``) whose text is one of

- ``BEGIN LABnn`` / ``STUB LABnn`` / ``END LABnn``: a region of lab *nn*'s work, optionally split
  into solution lines (before ``STUB``) and commented-out stub lines (after it);
- ``BEGIN LABnn UNTIL LABmm``: a region of lab *nn*'s work that lab *mm* replaces: it is left out
  of lab *mm* and every later lab. The reference project is past lab *mm*, so each of its lines is
  a comment there (written, and uncommented, like stub lines);
- ``FILE LABnn`` / ``FILE LABnn SOLUTION``: the whole file starts to exist in lab *nn*.

Directive keywords are upper case (so prose comments such as ``# end of loop`` never match); lab
names are case-insensitive and are normalised to lower case. This module knows nothing about the
course's lab list beyond what :func:`render` and :func:`is_present` are given, and never touches
the file system.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from grader.errors import LocatedError

Kind = Literal["starter", "solution"]
KINDS: tuple[Kind, ...] = ("starter", "solution")

# Lab names a marker may use. Whether the name is one of the course's labs is checked later,
# against labs.toml, so a typo such as LAB1 is reported rather than silently ignored.
LAB_NAME = re.compile(r"lab\d+|capstone", re.IGNORECASE)

# The comment forms a marker or stub line may use, tried in order. `{#` comes before `#` so a
# Django comment is not read as a Python one.
_COMMENT_FORMS: tuple[tuple[str, str], ...] = (
    ("{#", "#}"),
    ("<!--", "-->"),
    ("/*", "*/"),
    ("//", ""),
    ("#", ""),
)

_DIRECTIVE = re.compile(
    r"(?P<keyword>BEGIN|STUB|END|FILE)\s+(?P<lab>(?i:lab\d+|capstone))\b\s*(?P<rest>.*)"
)


_UNTIL = re.compile(r"UNTIL\s+(?P<lab>(?i:lab\d+|capstone))")


class MarkerError(LocatedError):
    """A malformed marker: ``str(error)`` is ``path:line: message``, ready for a terminal.

    ``line`` is 1-based; 0 means the problem concerns the file as a whole.
    """

    path: str


@dataclass(frozen=True)
class FileDirective:
    """``FILE LABnn [SOLUTION]`` (or its ``[files]`` entry): when the whole file exists.

    ``line`` is where the directive was found, 0 when it came from labs.toml.
    """

    lab: str
    solution: bool
    line: int = 0


@dataclass(frozen=True)
class Region:
    """A ``BEGIN``/``END`` region; ``stub`` is None when the region has no ``STUB`` line.

    Lines keep their line endings; stub lines are stored already uncommented, and so are the
    solution lines of a region with an ``until`` lab (``BEGIN LABnn UNTIL LABmm``), which is
    absent from lab ``until`` on.
    """

    lab: str
    line: int
    solution: tuple[str, ...]
    stub: tuple[str, ...] | None
    until: str | None = None


@dataclass(frozen=True)
class MarkedFile:
    """One parsed file: plain lines (``str``) and regions, in order, plus its file directive."""

    path: str
    segments: tuple[str | Region, ...]
    directive: FileDirective | None


def comment_text(line: str) -> str | None:
    """The text inside a line that holds only one comment, or None if the line is not one."""
    body = line.strip()
    for opening, closing in _COMMENT_FORMS:
        if body.startswith(opening) and body.endswith(closing):
            inner = body[len(opening) : len(body) - len(closing)]
            if len(body) >= len(opening) + len(closing):
                return inner.strip()
    return None


def uncomment(line: str, path: str, number: int) -> str:
    """Remove exactly one comment prefix (and its closing) from a stub line.

    Indentation before the comment is kept, one space after the opening (and before the closing)
    is dropped, and a comment with nothing in it becomes an empty line. Blank lines stay blank.
    A stub line that is not a comment is an error: the reference project would not run.
    """
    ending = line[len(line.rstrip("\r\n")) :]
    content = line[: len(line) - len(ending)].rstrip()
    if not content:
        return ending
    body = content.lstrip()
    indent = content[: len(content) - len(body)]
    for opening, closing in _COMMENT_FORMS:
        if body.startswith(opening) and body.endswith(closing):
            if len(body) < len(opening) + len(closing):
                continue
            inner = body[len(opening) : len(body) - len(closing)]
            inner = inner.removeprefix(" ")
            if closing:
                inner = inner.removesuffix(" ")
            return (indent + inner if inner.strip() else "") + ending
    raise MarkerError(path, number, f"stub line is not a comment: {body!r}")


def parse(text: str, path: str) -> MarkedFile:
    """Split ``text`` into plain lines and regions; ``path`` is used only in error messages.

    Raises MarkerError for a nested ``BEGIN``, an ``END`` or ``STUB`` outside a region, a lab
    that differs from the open region's, a second ``STUB``, text after a marker, a second
    ``FILE`` directive, or a region still open at the end of the file.
    """
    segments: list[str | Region] = []
    directive: FileDirective | None = None
    # The open region: its lab, first line, and the solution/stub lines gathered so far.
    open_lab: str | None = None
    open_until: str | None = None
    open_line = 0
    solution: list[str] = []
    stub: list[str] | None = None

    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        found = _directive(line, path, number)
        if found is None:
            if open_lab is None:
                segments.append(line)
            elif stub is None:
                solution.append(line if open_until is None else uncomment(line, path, number))
            else:
                stub.append(uncomment(line, path, number))
            continue
        keyword, lab, is_solution, until = found
        if keyword == "FILE":
            if directive is not None:
                raise MarkerError(
                    path, number, f"second FILE directive (the first is on line {directive.line})"
                )
            directive = FileDirective(lab, is_solution, number)
        elif keyword == "BEGIN":
            if open_lab is not None:
                raise MarkerError(
                    path,
                    number,
                    f"BEGIN {lab.upper()} inside the {open_lab.upper()} region opened on line "
                    f"{open_line}; regions do not nest",
                )
            open_lab, open_until, open_line, solution, stub = lab, until, number, [], None
        elif open_lab is None:
            raise MarkerError(path, number, f"{keyword} {lab.upper()} without an open region")
        elif lab != open_lab:
            raise MarkerError(
                path,
                number,
                f"{keyword} {lab.upper()} does not match BEGIN {open_lab.upper()} on line "
                f"{open_line}",
            )
        elif keyword == "STUB":
            if stub is not None:
                raise MarkerError(path, number, f"second STUB {lab.upper()} in one region")
            stub = []
        else:  # END
            segments.append(
                Region(
                    open_lab,
                    open_line,
                    tuple(solution),
                    None if stub is None else tuple(stub),
                    open_until,
                )
            )
            open_lab = None

    if open_lab is not None:
        raise MarkerError(
            path, open_line, f"BEGIN {open_lab.upper()} has no END before the end of the file"
        )
    return MarkedFile(path, tuple(segments), directive)


def _directive(line: str, path: str, number: int) -> tuple[str, str, bool, str | None] | None:
    """``(keyword, lab, solution, until)`` if ``line`` is a marker, else None."""
    text = comment_text(line)
    if text is None:
        return None
    match = _DIRECTIVE.fullmatch(text)
    if match is None:
        return None
    keyword, lab, rest = match["keyword"], match["lab"].lower(), match["rest"]
    is_solution = keyword == "FILE" and rest.upper() == "SOLUTION"
    until = _UNTIL.fullmatch(rest) if keyword == "BEGIN" else None
    if until is not None:
        return keyword, lab, False, until["lab"].lower()
    if rest and not is_solution:
        # A marker with trailing words is almost certainly a typo; ignoring it would silently
        # leak solution code into a starter.
        raise MarkerError(path, number, f"unexpected {rest!r} after {keyword} {lab.upper()}")
    return keyword, lab, is_solution, None


def lab_index(lab: str, labs: Sequence[str], path: str, line: int) -> int:
    """Position of ``lab`` in the course order; MarkerError naming the known labs if absent."""
    try:
        return list(labs).index(lab)
    except ValueError:
        raise MarkerError(
            path, line, f"unknown lab {lab!r} (labs.toml lists {', '.join(labs)})"
        ) from None


def is_present(
    directive: FileDirective | None, path: str, lab: str, kind: Kind, labs: Sequence[str]
) -> bool:
    """Whether a file with this directive exists in ``lab``'s ``kind`` tree.

    ``FILE LABnn`` exists from lab *nn* on; ``FILE LABnn SOLUTION`` is lab *nn*'s answer, so it
    is in lab *nn*'s solution but only in starters from lab *nn+1* on. No directive: always.
    """
    if directive is None:
        return True
    first = lab_index(directive.lab, labs, path, directive.line)
    current = labs.index(lab)
    if directive.solution and kind == "starter":
        return current > first
    return current >= first


def render(marked: MarkedFile, lab: str, kind: Kind, labs: Sequence[str]) -> str | None:
    """The file's text in ``lab``'s ``kind`` tree, or None when the file is absent there.

    ``lab`` must be one of ``labs`` (the course order). Earlier labs' regions show their solution
    lines, this lab's region shows its stub in a starter and its solution lines in a solution,
    later labs' regions are removed, and so are regions whose ``UNTIL`` lab has come; marker
    lines never appear in the output.
    """
    current = labs.index(lab)
    # Check every lab name even when the file is absent, so a typo fails in every lab alike.
    for segment in marked.segments:
        if isinstance(segment, Region):
            first = lab_index(segment.lab, labs, marked.path, segment.line)
            if segment.until is not None:
                last = lab_index(segment.until, labs, marked.path, segment.line)
                if last <= first:
                    raise MarkerError(
                        marked.path,
                        segment.line,
                        f"UNTIL {segment.until.upper()} must name a lab after "
                        f"{segment.lab.upper()}",
                    )
    if not is_present(marked.directive, marked.path, lab, kind, labs):
        return None
    out: list[str] = []
    for segment in marked.segments:
        if isinstance(segment, str):
            out.append(segment)
            continue
        position = labs.index(segment.lab)
        if segment.until is not None and current >= labs.index(segment.until):
            continue  # a later lab replaced this region
        if position < current or (position == current and kind == "solution"):
            out.extend(segment.solution)
        elif position == current:
            out.extend(segment.stub or ())
    return "".join(out)
