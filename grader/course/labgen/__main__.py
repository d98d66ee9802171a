"""``python -m grader.course.labgen``: regenerate or check the committed starters, or write a
solution.

Exit codes: 0 success, 1 drift found by ``starters --check``, 2 usage or marker/config error
(reported as one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.course.labgen.generate import generate_lab
from grader.course.labgen.markers import MarkerError
from grader.course.labgen.starters import check_starters, write_starters

OK, DRIFT, USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader.course.labgen", description="Generate the labs from solutions/."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    starters = commands.add_parser("starters", help="rewrite (or --check) labs/<lab>/starter/")
    starters.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    starters.add_argument("--source", type=Path, default=Path("solutions"))
    starters.add_argument("--labs-dir", type=Path, default=Path("labs"))
    starters.add_argument("labs", nargs="*", metavar="LAB", help="default: every labs/<lab>/")
    solution = commands.add_parser("solution", help="write one lab's solution tree to DEST")
    solution.add_argument("--source", type=Path, default=Path("solutions"))
    solution.add_argument("lab", metavar="LAB")
    solution.add_argument("dest", type=Path, metavar="DEST")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting (argparse's own usage
    errors are turned into a return value too)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE
    try:
        if args.command == "solution":
            written = generate_lab(args.source, args.lab, "solution", args.dest)
            print(f"wrote {len(written)} files to {args.dest}")
            return OK
        labs = args.labs or None
        if args.check:
            drift = check_starters(args.source, args.labs_dir, labs)
            for line in drift:
                print(line)
            if drift:
                print("the starters are stale: run `nox -s labs` to regenerate them")
                return DRIFT
            print("the starters match the generator's output")
            return OK
        for lab in write_starters(args.source, args.labs_dir, labs):
            print(f"wrote {(args.labs_dir / lab / 'starter').as_posix()}")
        return OK
    except MarkerError as error:
        print(error, file=sys.stderr)
    except (ValueError, OSError) as error:
        # ConfigError is a ValueError; OSError covers a missing source or a non-empty DEST.
        print(f"labgen: {error}", file=sys.stderr)
    return USAGE


if __name__ == "__main__":
    sys.exit(main())
