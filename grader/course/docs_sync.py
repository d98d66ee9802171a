"""Generated blocks in hand-written Markdown: rubric tables that cannot drift from the rubrics.

A page keeps its prose by hand and marks the parts the tool owns with two comment lines::

    <!-- BEGIN GENERATED: rubric-table lab01 -->
    (anything here is replaced)
    <!-- END GENERATED: rubric-table lab01 -->

Kinds of block:

``rubric-table <lab>``
    The marking guide of one lab, from ``labs/<lab>/rubric.toml``: one row per criterion
    (title, points, learning outcome, the feedback a learner sees when it fails) and a total row.
``rubric-summary``
    One row per lab that has a rubric: title, number of criteria, points, outcomes served.
    Takes no argument.
``schedule``
    The ten days at a glance, from the agenda (``curriculum.md``, see ``grader.course.curriculum``):
    one row per day (theme, its hours, its lab hour, the outcomes it serves) and one for the
    capstone sprint. Takes no argument.
``day-schedule <day>``
    One day's time box from the agenda: talk, activity and review minutes of each hour, and
    the lab hour. For the day pages, e.g. ``day-schedule 3``.
``outcome-coverage``
    The hours and the labs that serve each learning outcome. Takes no argument.
``marking-guides``
    Every lab's marking guide: a ``### Lab NN marking guide`` heading, a line naming the
    handout, points and rubric version, and the ``rubric-table`` rows; a new lab's rubric
    appears here by itself. Takes no argument.
``capstone-rubric``
    The capstone's marking guide from ``templates/copier/capstone/rubric.toml`` (see
    ``grader.course.traceability``): criterion, points, outcome, how it is decided, what is checked.
``traceability``
    The outcome-by-criterion matrix over every lab rubric and the capstone: how many criteria and
    points serve each outcome, then one row per criterion. Takes no argument.

Files scanned (those that exist): ``labs/*/README.md``, ``assessments.md``, ``curriculum.md``,
``resources.md`` and ``docs/**/*.md``. Marker lines inside fenced code blocks are text, not
markers, so a page can show the syntax (as this docstring does).

Links in generated tables are relative to the page holding the block. Pages under ``docs/`` are
written in the site's layout (``docs/`` is the site root and the top-level pages and lab handouts
appear at their repository paths), so their links are computed in that layout; every other page
gets links that work both on the site and when browsing the repository.

Contracts: output is deterministic (labs in teaching order, no timestamps), so a second run
changes nothing; nothing is written unless every block in every scanned file is well formed.

Command line: ``python -m grader.course.docs_sync [--check] [--root DIR]``. Exit 0 when everything
is fresh (or was refreshed), 1 when ``--check`` found stale files (listed, nothing written), 2 when
a block is malformed (one line naming the file and line, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.course import curriculum, traceability
from grader.course.curriculum.markdown import outside_fences
from grader.errors import LocatedError, RubricError
from grader.labs import known_labs
from grader.rubric import Rubric, load_rubric

OK, STALE, MALFORMED = 0, 1, 2

# Short names of the track's six learning outcomes, shown next to the outcome number.
OUTCOME_NAMES: dict[int, str] = {
    1: "Project foundations",
    2: "Relational data",
    3: "Secure REST APIs",
    4: "Observability",
    5: "Automated testing",
    6: "Delivery",
}

_MARKER = re.compile(
    r"^\s*<!--\s*(?P<edge>BEGIN|END)\s+GENERATED:\s*(?P<kind>[^\s>]*)\s*(?P<arg>[^\s>]*)\s*-->\s*$"
)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# What Markdown would read as HTML in plain text: any "<" (a tag or a placeholder like <id>), and
# an "&" that starts a character reference (&amp; &#38; &#x26;).
_HTML_SPECIAL = re.compile(r"<|&(?=#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")


class GeneratedBlockError(LocatedError):
    """A malformed generated block; ``str(error)`` is ``<file>:<line>: <what is wrong>``."""

    path: Path


@dataclass(frozen=True)
class _Context:
    """What a renderer needs: the repository root and where the page sits in link space."""

    root: Path
    page_dir: PurePosixPath  # folder of the page, relative to the link space's root
    page: PurePosixPath  # the page itself, relative to the same root
    site_layout: bool  # True for docs/ pages: links are resolved in the site's layout


_Renderer = Callable[[str, _Context], list[str]]


# ---------------------------------------------------------------------------------------------
# Rendering


def _escape_html(text: str) -> str:
    """Show ``<`` and entity-like ``&`` in ``text`` as themselves, outside code spans.

    Rubric text is plain text. A placeholder such as ``Bearer <access>`` or ``/api/posts/<id>/``
    would otherwise reach the page as an HTML tag, which Markdown passes through and the browser
    then drops (and GitHub strips): the reader would see ``Bearer`` and ``/api/posts//``. Inside a
    code span the text is already shown as written, so it is left alone there.
    """
    parts = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_HTML_SPECIAL.sub(_entity, text[last : match.start()]))
        parts.append(match[0])
        last = match.end()
    parts.append(_HTML_SPECIAL.sub(_entity, text[last:]))
    return "".join(parts)


def _entity(match: re.Match[str]) -> str:
    return "&lt;" if match[0] == "<" else "&amp;"


def _cell(text: str) -> str:
    """Make ``text`` safe inside a table cell: one line, no bare pipe (it would split the cell),
    and no ``<`` or ``&...;`` that Markdown would pass through as HTML (see ``_escape_html``)."""
    flat = " ".join(text.split())
    return _escape_html(flat).replace("|", r"\|")


def _outcome(number: int) -> str:
    return f"{number} · {OUTCOME_NAMES[number]}"


def _in_link_space(ctx: _Context, repo_path: str) -> str:
    """``repo_path`` as the page sees it: for docs/ pages the site root is docs/."""
    if ctx.site_layout and repo_path.startswith("docs/"):
        return repo_path.removeprefix("docs/")
    return repo_path


def _is_this_page(ctx: _Context, target: str) -> bool:
    return PurePosixPath(_in_link_space(ctx, target.partition("#")[0])) == ctx.page


def _link(ctx: _Context, target: str) -> str:
    """Relative link from the page to ``target`` (a repository path, with optional #fragment)."""
    path, _, fragment = target.partition("#")
    path = _in_link_space(ctx, path)
    if _is_this_page(ctx, target):
        return f"#{fragment}" if fragment else "#"
    relative = os.path.relpath(path, ctx.page_dir.as_posix() or ".")
    relative = PurePosixPath(*Path(relative).parts).as_posix()
    return f"{relative}#{fragment}" if fragment else relative


def _load(ctx: _Context, lab: str) -> Rubric:
    if lab not in known_labs(ctx.root):
        known = ", ".join(known_labs(ctx.root)) or "none"
        raise ValueError(f"unknown lab {lab!r} (labs with a rubric: {known})")
    return load_rubric(ctx.root / "labs" / lab / "rubric.toml")


def _rubric_table(arg: str, ctx: _Context) -> list[str]:
    if not arg:
        raise ValueError("rubric-table needs a lab, e.g. `rubric-table lab01`")
    rubric = _load(ctx, arg)
    rows = [
        "| Criterion | Points | Outcome | What it checks / feedback |",
        "|---|--:|---|---|",
    ]
    for criterion in rubric.criteria:
        feedback = _cell(criterion.feedback)
        # `see` is relative to the lab folder (it usually points into the handout). No link to
        # a handout not written yet: it would be a broken link on every page showing the table.
        target = f"labs/{rubric.lab}/{criterion.see}" if criterion.see else ""
        if target and (ctx.root / target.partition("#")[0]).is_file():
            text = "this step" if _is_this_page(ctx, target) else "the handout"
            feedback += f" See [{text}]({_link(ctx, target)})."
        rows.append(
            f"| {_cell(criterion.title)} | {criterion.points} | {_outcome(criterion.outcome)} "
            f"| {feedback} |"
        )
    rows.append(f"| **Total** | **{rubric.max_points}** | | |")
    return rows


def _rubric_summary(arg: str, ctx: _Context) -> list[str]:
    if arg:
        raise ValueError(f"rubric-summary takes no argument (got {arg!r})")
    rows = [
        "| Lab | Title | Criteria | Points | Outcomes served |",
        "|---|---|--:|--:|---|",
    ]
    criteria_total = points_total = 0
    for lab in known_labs(ctx.root):
        rubric = _load(ctx, lab)
        outcomes = ", ".join(_outcome(n) for n in sorted({c.outcome for c in rubric.criteria}))
        page = f"labs/{lab}/README.md"
        name = f"[{lab}]({_link(ctx, page)})" if (ctx.root / page).is_file() else lab
        rows.append(
            f"| {name} | {_cell(rubric.title)} | {len(rubric.criteria)} | {rubric.max_points} "
            f"| {outcomes} |"
        )
        criteria_total += len(rubric.criteria)
        points_total += rubric.max_points
    rows.append(f"| **Total** | | **{criteria_total}** | **{points_total}** | |")
    return rows


def _no_argument(kind: str, arg: str) -> None:
    if arg:
        raise ValueError(f"{kind} takes no argument (got {arg!r})")


def _schedule(arg: str, ctx: _Context) -> list[str]:
    _no_argument("schedule", arg)
    agenda = curriculum.load_agenda(ctx.root)
    return curriculum.render_schedule(agenda, ctx.root, lambda target: _link(ctx, target))


def _day_schedule(arg: str, ctx: _Context) -> list[str]:
    if not arg.isdigit():
        raise ValueError(f"day-schedule needs a day number, e.g. `day-schedule 3` (got {arg!r})")
    agenda = curriculum.load_agenda(ctx.root)
    return curriculum.render_day_schedule(agenda, int(arg), lambda target: _link(ctx, target))


def _outcome_coverage(arg: str, ctx: _Context) -> list[str]:
    _no_argument("outcome-coverage", arg)
    agenda = curriculum.load_agenda(ctx.root)
    return curriculum.render_outcome_coverage(
        agenda, ctx.root, lambda target: _link(ctx, target), _outcome
    )


def _marking_guides(arg: str, ctx: _Context) -> list[str]:
    _no_argument("marking-guides", arg)
    return traceability.marking_guides(
        ctx.root, table=lambda lab: _rubric_table(lab, ctx), link=lambda t: _link(ctx, t)
    )


def _capstone_rubric(arg: str, ctx: _Context) -> list[str]:
    _no_argument("capstone-rubric", arg)
    return traceability.capstone_table(ctx.root, cell=_cell, outcome_label=_outcome)


def _traceability(arg: str, ctx: _Context) -> list[str]:
    _no_argument("traceability", arg)
    return traceability.traceability_matrix(
        ctx.root, link=lambda t: _link(ctx, t), cell=_cell, outcome_label=_outcome
    )


RENDERERS: dict[str, _Renderer] = {
    "rubric-table": _rubric_table,
    "rubric-summary": _rubric_summary,
    "schedule": _schedule,
    "day-schedule": _day_schedule,
    "outcome-coverage": _outcome_coverage,
    "marking-guides": _marking_guides,
    "capstone-rubric": _capstone_rubric,
    "traceability": _traceability,
}


# ---------------------------------------------------------------------------------------------
# Finding and replacing blocks


def _context(path: Path, root: Path) -> _Context:
    try:
        relative = PurePosixPath(path.resolve().relative_to(root.resolve()).as_posix())
    except ValueError:
        raise ValueError(f"{path} is not inside the course root {root}") from None
    site_layout = relative.parts[:1] == ("docs",)
    if site_layout:
        relative = PurePosixPath(*relative.parts[1:])
    return _Context(root=root, page_dir=relative.parent, page=relative, site_layout=site_layout)


def _label(kind: str, arg: str) -> str:
    return f"{kind} {arg}".strip()


def render_text(text: str, path: Path, root: Path) -> str:
    """Return ``text`` (the content of ``path``) with every generated block refreshed.

    Raises GeneratedBlockError for an unbalanced block, an unknown kind, an unknown lab or a
    rubric that does not load.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    ctx: _Context | None = None  # built on the first block: a page without blocks needs none
    copied = 0  # lines[:copied] are already in `out`
    begin: tuple[int, str, str] | None = None  # (index, kind, arg) of the open block
    for index, line in outside_fences(lines):
        match = _MARKER.match(line)
        if not match:
            continue
        edge, kind, arg = match["edge"], match["kind"], match["arg"]
        if edge == "BEGIN":
            if begin is not None:
                raise GeneratedBlockError(
                    path,
                    index + 1,
                    f"BEGIN GENERATED inside the block opened on line {begin[0] + 1}",
                )
            if kind not in RENDERERS:
                raise GeneratedBlockError(
                    path,
                    index + 1,
                    f"unknown generated block kind {kind!r} (known: {', '.join(RENDERERS)})",
                )
            begin = (index, kind, arg)
            continue
        if begin is None:
            raise GeneratedBlockError(path, index + 1, "END GENERATED without a BEGIN")
        start, open_kind, open_arg = begin
        if (kind, arg) != (open_kind, open_arg):
            raise GeneratedBlockError(
                path,
                index + 1,
                f"END GENERATED: {_label(kind, arg)} does not match "
                f"BEGIN GENERATED: {_label(open_kind, open_arg)} on line {start + 1}",
            )
        ctx = ctx or _context(path, root)
        try:
            body = RENDERERS[kind](arg, ctx)
        except (ValueError, RubricError) as error:
            raise GeneratedBlockError(path, start + 1, str(error)) from None
        # Keep the file's own line ending; blank lines around the table keep Markdown from
        # gluing it to the comment lines.
        newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
        out += lines[copied : start + 1]
        out += [newline, *(row + newline for row in body), newline]
        copied = index
        begin = None
    if begin is not None:
        raise GeneratedBlockError(
            path, begin[0] + 1, f"BEGIN GENERATED: {_label(*begin[1:])} has no matching END"
        )
    out += lines[copied:]
    return "".join(out)


def scanned_files(root: Path) -> list[Path]:
    """The Markdown files that may hold generated blocks, in a stable order."""
    found = sorted(root.glob("labs/*/README.md"))
    found += [root / name for name in ("assessments.md", "curriculum.md", "resources.md")]
    found += sorted((root / "docs").glob("**/*.md"))
    return [path for path in found if path.is_file()]


def _read(path: Path) -> str:
    # newline="" keeps CRLF files as they are, so a refresh never rewrites every line.
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def sync_file(path: Path, root: Path) -> bool:
    """Refresh the generated blocks of ``path``; return True when the file was rewritten."""
    current = _read(path)
    fresh = render_text(current, path, root)
    if fresh == current:
        return False
    _write(path, fresh)
    return True


def sync_all(root: Path, check: bool) -> list[Path]:
    """Refresh (or with ``check`` only find) every stale file; return the stale files.

    Every file is rendered before any is written, so a malformed block anywhere leaves the whole
    tree untouched (GeneratedBlockError propagates).
    """
    stale: list[tuple[Path, str]] = []
    for path in scanned_files(root):
        current = _read(path)
        fresh = render_text(current, path, root)
        if fresh != current:
            stale.append((path, fresh))
    if not check:
        for path, fresh in stale:
            _write(path, fresh)
    return [path for path, _ in stale]


# ---------------------------------------------------------------------------------------------
# Command line


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code (0 fresh, 1 stale with --check, 2 error)."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.course.docs_sync",
        description="Refresh the generated rubric tables in the course's Markdown pages.",
    )
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1")
    parser.add_argument("--root", type=Path, default=Path("."), help="course repository root")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else MALFORMED
    root: Path = args.root
    try:
        stale = sync_all(root, check=args.check)
    except GeneratedBlockError as error:
        where = _display(error.path, root)
        print(f"{where}:{error.line}: {error.message}", file=sys.stderr)
        return MALFORMED
    except OSError as error:
        print(f"docs_sync: {error}", file=sys.stderr)
        return MALFORMED
    if args.check:
        if stale:
            for path in stale:
                print(_display(path, root))
            print("the generated tables above are stale: run `nox -s labs` to refresh them")
            return STALE
        print("the generated tables match the rubrics")
        return OK
    for path in stale:
        print(f"updated {_display(path, root)}")
    return OK


if __name__ == "__main__":
    sys.exit(main())
