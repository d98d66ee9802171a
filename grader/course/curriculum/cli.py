"""The checker's command line: ``python -m grader.course.curriculum [--root DIR]``.

Exit 0 when the agenda and day pages pass every rule, 1 when a rule fails (each problem on one
line, ``file:line: message``, on stderr), 2 when the agenda cannot be read or the command line is
wrong. :func:`main` returns the code instead of exiting (argparse's own ``--help`` and usage errors
still exit); ``__main__`` exits with it. It lives here rather than in ``__main__`` so that the
package can re-export it: a package that imports its own ``__main__`` makes ``python -m`` warn.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.course.curriculum.check import check_agenda
from grader.course.curriculum.day_pages import check_day_pages
from grader.course.curriculum.parse import AGENDA, AgendaError, load_agenda

OK, FAILED, UNREADABLE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Check the agenda and the day pages; return 0 (all rules hold), 1 (problems) or 2."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.course.curriculum",
        description="Check curriculum.md (the agenda) and the day pages against the course rules.",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="course repository root")
    args = parser.parse_args(argv)
    root: Path = args.root
    try:
        agenda = load_agenda(root)
    except AgendaError as error:
        print(error, file=sys.stderr)
        return UNREADABLE
    problems = check_agenda(agenda, root) + check_day_pages(agenda, root)
    for found in problems:
        print(found, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s): fix them in the files named above", file=sys.stderr)
        return FAILED
    print(
        f"{AGENDA}: {len(agenda.days)} days, {len(agenda.hours)} taught hours, "
        f"{len(agenda.lab_hours)} lab hours and the capstone; every rule holds"
    )
    return OK
