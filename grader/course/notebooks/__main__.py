"""``python -m grader.course.notebooks release [--check] [LAB ...]``: the learners' notebooks.

``release`` writes nbgrader's release of each notebook lab's source notebook
(``solutions/<notebook>``) to ``labs/<lab>/starter/<notebook>``; ``--check`` writes nothing and
exits 1 while a committed notebook differs from a fresh release. ``nox -s labs`` runs it after the
lab generator (which rewrites the starter folders and leaves notebooks out). Needs the
``notebook`` extra (nbgrader). Exit codes: 0 fine, 1 drift, 2 error (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from grader.errors import GraderError
from grader.executors.notebook.cells import NotebookError
from grader.labs import find_course_root

OK, DRIFT, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.course.notebooks")
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="write (or --check) the learners' notebooks")
    release.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    release.add_argument("labs", nargs="*", metavar="LAB", help="default: every notebook lab")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE
    try:
        from grader.course.notebooks.release import check_releases, write_releases

        root = find_course_root()
        labs = list(args.labs) or None
        started = time.monotonic()
        if args.check:
            drift = check_releases(root, labs)
            for line in drift:
                print(line)
            if drift:
                print("the released notebooks are stale: run `nox -s labs` to regenerate them")
                return DRIFT
            print("the released notebooks match nbgrader's release of their sources")
            return OK
        for path in write_releases(root, labs):
            print(f"wrote {path.relative_to(root).as_posix()}")
        print(f"(nbgrader generate_assignment, {time.monotonic() - started:.1f} s)")
        return OK
    except ImportError as exc:
        print(
            f"grader.course.notebooks: nbgrader is not installed ({exc}); install the course with "
            "its notebook extra: pip install -e '.[lab,notebook]'",
            file=sys.stderr,
        )
    except (GraderError, NotebookError, OSError) as exc:
        print(f"grader.executors.notebook: {exc}", file=sys.stderr)
    return USAGE


if __name__ == "__main__":
    sys.exit(main())
