"""``python -m grader cohort dashboard``: the facilitator dashboard from the command line.

:func:`add_dashboard_command` is called by
:func:`grader.instructors.cli.add_cohort_commands`; it imports nothing heavy, so building the
parser stays cheap: matplotlib and SQLAlchemy are imported by the handler, when a dashboard is
actually built.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from grader.errors import EXIT_PASSED, UsageError


def add_dashboard_command(commands: Any, common: Any) -> None:
    """Add ``dashboard`` to the ``cohort`` sub-commands; ``common`` adds --gradebook/--actor."""
    dashboard = commands.add_parser(
        "dashboard",
        help="facilitators: progress dashboard, HTML and CSV (--public: aggregates only)",
    )
    dashboard.add_argument("--out", type=Path, required=True, metavar="DIR")
    dashboard.add_argument(
        "--public",
        action="store_true",
        help="aggregates only (no learner named or scored), for the course site",
    )
    dashboard.add_argument(
        "--lab",
        action="append",
        dest="labs",
        metavar="LAB",
        help="show this lab (repeat for more; default: every lab with results)",
    )
    dashboard.add_argument(
        "--stuck-after",
        default="2d",
        metavar="DURATION",
        help="no progress for this long means stuck: 2d, 36h, 90m, 1w (default 2d)",
    )
    dashboard.add_argument(
        "--repeated-failures",
        type=int,
        default=3,
        metavar="N",
        help="the same criterion failing in N consecutive attempts means stuck (default 3; 0: off)",
    )
    dashboard.add_argument(
        "--revisit-below",
        type=float,
        default=60.0,
        metavar="PERCENT",
        help="criteria met by fewer graded learners than this are marked to revisit (default 60)",
    )
    dashboard.add_argument(
        "--min-learners",
        type=int,
        default=None,
        help="public build: a lab with fewer graded learners shows no figures (default 5)",
    )
    common(dashboard)
    dashboard.set_defaults(handler=_dashboard)


def _dashboard(args: argparse.Namespace) -> int:
    from grader.instructors.dashboard.analysis import StuckRules, parse_duration
    from grader.instructors.dashboard.build import build_dashboard
    from grader.instructors.exports.aggregates import MIN_LEARNERS
    from grader.instructors.gradebook import open_course_gradebook
    from grader.labs import resolve_lab

    try:
        after = parse_duration(args.stuck_after)
    except ValueError as exc:
        raise UsageError(f"--stuck-after: {exc}.") from None
    if args.repeated_failures < 0:
        raise UsageError("--repeated-failures must be 0 (off) or more.")
    root, gradebook = open_course_gradebook(args.gradebook)
    with gradebook:
        labs = [resolve_lab(root, lab).name for lab in args.labs] if args.labs else None
        built = build_dashboard(
            gradebook,
            args.out,
            public=args.public,
            labs=labs,
            rules=StuckRules(after=after, repeated=args.repeated_failures),
            course_root=root,
            min_learners=MIN_LEARNERS if args.min_learners is None else args.min_learners,
            revisit_below=args.revisit_below / 100,
        )
    kind = "public (aggregates only)" if built.public else "private (names learners)"
    labs_text = ", ".join(built.labs) or "no lab has results yet"
    print(f"Dashboard, {kind}: {built.page}")
    print(f"  {built.learners} learner(s); labs: {labs_text}")
    if built.stuck is not None:
        print(f"  {built.stuck} learner(s) may be stuck")
    print(f"  CSV: {', '.join(p.name for p in built.files if p.suffix == '.csv')}")
    return EXIT_PASSED
