"""The day pages (``docs/days/dayNN.md``) against the agenda and the course's page style, and
the code they include.

The contract: :func:`check_day_pages` returns a :class:`~grader.course.curriculum.check.Problem`
for everything a day page lacks: its file, the blocks of :data:`DAY_PAGE_BLOCKS` in order, a
section per agenda item in the agenda's order, links that resolve. :func:`snippet_problems` checks
the code a page includes: a lab's answer comes from that lab's generated solution
(``--8<-- "lab01/api/health.py"``, written by the site's hook), only inside a folded solution, only
from a lab the day has reached (:func:`labs_taught`), and never with marker text.
:class:`SnippetSources` reads an include's file the way the site does; a lab's solution that
cannot be generated is reported as a problem, not raised.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path, PurePosixPath

from grader.course.curriculum.check import Problem, link_problems
from grader.course.curriculum.markdown import headings, links_in, outside_fences
from grader.course.curriculum.parse import Agenda, Day, Hour, LabHour, day_page

# What a day page must hold, as (description, pattern) pairs, in the order they must appear.
DAY_PAGE_BLOCKS: tuple[tuple[str, str], ...] = (
    ("an Objectives block", r'^!!! abstract "Objectives"'),
    ("a Questions block", r'^!!! question "Questions"'),
    ("the generated time-box table", r"^<!-- BEGIN GENERATED: day-schedule \d+ -->"),
    ("a 'Where we left off' section", r"^## Where we left off"),
    ("a challenge", r'^!!! example "Challenge'),
    ("a folded hint", r'^\s+\?\?\? tip "Hint'),
    ("a folded solution", r'^\s+\?\?\? success "Solution'),
    ("a Key points block", r'^!!! abstract "Key points"'),
    ("folded instructor notes", r'^\?\?\? note "Instructor notes"'),
)

# Lab marker lines (see docs/authors/lab-markers.md); never shown on a page.
_MARKER_LINE = re.compile(
    r"^\s*(?:#|//|/\*|\{#|<!--)\s*(?:BEGIN|STUB|END|FILE)\s+(?i:lab\d+|capstone)\b"
)
_SOLUTION_FOLD = re.compile(r'^\s*\?\?\? success "Solution')
_SNIPPET = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<spec>[^"]+)"\s*$')
SOLUTIONS = "solutions"
_RANGES = re.compile(r"^(?P<path>.+?)(?P<ranges>(?::\d*){1,2}(?:,\d*(?::\d*)?)*)?$")


def day_page_problems(
    agenda: Agenda, day: Day, root: Path, sources: SnippetSources | None = None
) -> list[Problem]:
    """What day ``day``'s page lacks: its file, its blocks in order, a heading per agenda item.

    The page needs a heading with the same anchor as each of the day's hours and its lab hour,
    in the agenda's order, so the agenda's links and the generated time box both land. Its
    includes are checked by :func:`snippet_problems`; answers may come only from the labs the
    agenda places on that day or before.
    """
    page = day_page(day.number)
    path = root / page
    if not path.is_file():
        return [Problem(agenda.path, day.line, f"day {day.number} has no page: write {page}")]
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    problems: list[Problem] = []
    position = 0
    for description, pattern in DAY_PAGE_BLOCKS:
        expression = re.compile(pattern)
        found = next(
            (index for index in range(position, len(lines)) if expression.match(lines[index])),
            None,
        )
        if found is None:
            problems.append(Problem(page, position + 1, f"missing {description} (or out of order)"))
        else:
            position = found + 1
    marker = f"<!-- BEGIN GENERATED: day-schedule {day.number} -->"
    if marker not in lines:
        problems.append(Problem(page, 1, f"the time-box table must be the block '{marker}'"))
    anchors = [heading.anchor for heading in headings(text) if heading.level == 2]
    wanted = [item.anchor for item in day.items]
    for item in day.items:
        if item.anchor not in anchors:
            problems.append(
                Problem(page, 1, f"no section '## {_heading_of(item)}' for the agenda's item")
            )
    present = [anchor for anchor in anchors if anchor in wanted]
    if present != [anchor for anchor in wanted if anchor in anchors]:
        problems.append(Problem(page, 1, "the hour sections are not in the agenda's order"))
    page_links = [
        link for index, line in outside_fences(lines) for link in links_in(line, index + 1)
    ]
    for line, message in link_problems(page_links, page, root):
        problems.append(Problem(page, line, message))
    problems += snippet_problems(
        page, text, root, labs_taught=labs_taught(agenda, day.number), sources=sources
    )
    return problems


def labs_taught(agenda: Agenda, day: int) -> tuple[str, ...]:
    """The labs the agenda places on day ``day`` or before: the answers that day may show."""
    return tuple(
        lab_hour.lab for lab_hour in agenda.lab_hours if lab_hour.day <= day and lab_hour.lab
    )


def _heading_of(item: Hour | LabHour) -> str:
    if isinstance(item, Hour):
        return f"Hour {item.number}: {item.title}"
    return f"Lab hour: {item.title}"


def check_day_pages(agenda: Agenda, root: Path) -> list[Problem]:
    """:func:`day_page_problems` for every day of the agenda."""
    problems: list[Problem] = []
    sources = SnippetSources(root)  # each lab's solution generated once for all pages
    for day in agenda.days:
        problems += day_page_problems(agenda, day, root, sources)
    return problems


class SnippetSources:
    """Where the site finds an include's file, read the way the site reads it.

    ``labNN/<path>`` is ``<path>`` in lab NN's generated solution (the site's hook writes those
    trees and puts them first on pymdownx.snippets' ``base_path``); any other path is relative to
    the repository root. The trees are generated in memory, once per lab.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._labs: tuple[str, ...] | None = None
        self._trees: dict[str, dict[str, bytes]] = {}

    @property
    def labs(self) -> tuple[str, ...]:
        """The labs of ``solutions/labs.toml`` in teaching order; none without the file."""
        if self._labs is None:
            from grader.course.labgen import ConfigError, load_config

            source = self.root / SOLUTIONS
            try:
                config = load_config(source)
            except ConfigError:
                self._labs = ()
            else:
                self._labs = config.labs
        return self._labs

    def lab_of(self, path: str) -> str | None:
        """The lab whose generated solution ``path`` names (``lab01/api/urls.py``), or None."""
        first = path.split("/", 1)[0]
        return first if first in self.labs else None

    def solution(self, lab: str) -> dict[str, bytes]:
        """Lab ``lab``'s generated solution tree: relative path -> bytes. Raises MarkerError."""
        if lab not in self._trees:
            from grader.course.labgen import load_config
            from grader.course.labgen.generate import build_tree

            source = self.root / SOLUTIONS
            tree = build_tree(source, load_config(source), lab, "solution")
            self._trees[lab] = {relative: output.data for relative, output in tree.items()}
        return self._trees[lab]

    def read(self, path: str) -> str | None:
        """The text the site includes for ``path``, or None when there is no such file."""
        lab = self.lab_of(path)
        if lab is not None:
            data = self.solution(lab).get(path.split("/", 1)[1])
            return None if data is None else data.decode("utf-8", errors="replace")
        file = self.root / path
        return file.read_text(encoding="utf-8") if file.is_file() else None


def _ranges(spec: str) -> list[tuple[int, int | None]]:
    """``:2:``, ``:3:9,12:14`` as 1-based inclusive ``(start, end)``; end None means to the end."""
    spans: list[tuple[int, int | None]] = []
    for part in spec.lstrip(":").split(","):
        start, _, end = part.partition(":")
        spans.append((int(start) if start else 1, int(end) if end else None))
    return spans


def _is_boundary(source: Sequence[str], number: int) -> bool:
    """True when line ``number`` (1-based) of ``source`` is outside it, blank or a lab marker."""
    if number < 1 or number > len(source):
        return True
    neighbour = source[number - 1]
    return not neighbour.strip() or bool(_MARKER_LINE.match(neighbour))


def _in_solution_fold(lines: Sequence[str], index: int) -> bool:
    """Whether line ``index`` sits inside a ``??? success "Solution…"`` block (by indentation)."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for above in range(index - 1, -1, -1):
        text = lines[above]
        if not text.strip():
            continue
        depth = len(text) - len(text.lstrip())
        if depth < indent:
            if _SOLUTION_FOLD.match(text):
                return True
            indent = depth
            if depth == 0:
                return False
    return False


def _lab_include_problem(
    path: str,
    lab: str,
    lines: Sequence[str],
    index: int,
    labs_taught: Collection[str] | None,
) -> str | None:
    """Why an include of lab ``lab``'s solution may not sit where it is, or None."""
    if not _in_solution_fold(lines, index):
        return (
            f"snippet {path!r} shows {lab}'s solution outside a folded "
            "'??? success \"Solution\"' block"
        )
    if labs_taught is not None and lab not in labs_taught:
        taught = ", ".join(labs_taught) or "none"
        return (
            f"snippet {path!r} shows {lab}'s solution, a lab the agenda places after this day "
            f"(labs placed so far: {taught})"
        )
    return None


def snippet_problems(
    page: str,
    text: str,
    root: Path,
    *,
    labs_taught: Collection[str] | None = None,
    sources: SnippetSources | None = None,
) -> list[Problem]:
    """Check every ``--8<--`` include of a page that takes code from the course's files.

    A lab's answer is included from that lab's generated solution, ``labNN/<path>``
    (:class:`SnippetSources`): everything up to and including lab NN, no markers, no later lab's
    code. Such an include must sit inside a folded ``??? success "Solution"`` block, which the
    learners' edition leaves out, and, when ``labs_taught`` is given (a day page: the labs the
    agenda has placed by that day), name one of those labs. An include from ``solutions/`` is an
    error: it shows every lab's code and the lab markers, and its line numbers move whenever a
    later lab edits the file. Code shown openly comes from files both editions ship, such as the
    generated starters.

    Every include must name a file that exists, and what it shows must not contain a lab marker
    line (``# BEGIN LAB01`` and the like). A line range must also start on a non-blank line right
    after the start of the file, a blank line or a marker line, and end right before the end of
    the file, a blank line or a marker line. Ranges are chosen at such boundaries, so when an edit
    to the file shifts its lines, the include fails here instead of quietly showing other code.
    """
    from grader.course.labgen import MarkerError

    sources = sources if sources is not None and sources.root == root else SnippetSources(root)
    problems: list[Problem] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _SNIPPET.match(line)
        if not match:
            continue
        parts = _RANGES.match(match["spec"])
        assert parts is not None  # the pattern accepts any text
        path = parts["path"]

        def problem(message: str, number: int = index + 1) -> None:
            problems.append(Problem(page, number, message))

        if PurePosixPath(path).parts[:1] == (SOLUTIONS,):
            inside = path.split("/", 1)[1] if "/" in path else "..."
            problem(
                f"snippet {path!r} includes solutions/, which holds every lab's code and the lab "
                f"markers: include the lab's generated solution instead, 'labNN/{inside}'"
            )
            continue
        lab = sources.lab_of(path)
        if lab is not None:
            where = _lab_include_problem(path, lab, lines, index, labs_taught)
            if where is not None:
                problem(where)
        try:
            content = sources.read(path)
        except MarkerError as error:
            problem(f"snippet {path!r}: {lab}'s solution cannot be generated: {error}")
            continue
        if content is None:
            shown_in = f" in {lab}'s generated solution" if lab else ""
            problem(f"snippet {path!r} does not exist{shown_in}")
            continue
        source = content.splitlines()
        spans = _ranges(parts["ranges"]) if parts["ranges"] else [(1, len(source))]
        for start, end in spans:
            last = len(source) if end is None else end
            shown = source[start - 1 : last]

            where = f"{path}:{start}:{'' if end is None else end}"
            if any(_MARKER_LINE.match(shown_line) for shown_line in shown):
                problem(f"snippet {where} shows a lab marker")
            elif not shown or not shown[0].strip():
                problem(f"snippet {where} starts on a blank line")
            elif parts["ranges"] and not (
                _is_boundary(source, start - 1) and _is_boundary(source, last + 1)
            ):
                problem(
                    f"snippet {where} no longer starts and ends at a block boundary: "
                    "the file changed, fix the line numbers"
                )
    return problems
