"""Command line: ``python -m grader grade LAB [--submission PATH] ...`` and friends.

Every error a user can cause ends as one sentence on stderr and an exit code from
:mod:`grader.errors`; a traceback appears only for a bug in the grader itself (exit 5), and then
with a request to report it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from grader import __version__
from grader.errors import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_PASSED,
    EXIT_SUBMISSION_ERROR,
    EXIT_TIMEOUT,
    GraderError,
    UsageError,
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade BlogCraftAI course labs against their rubrics."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one or more labs")
    grade.add_argument("labs", nargs="+", metavar="LAB", help="lab id, e.g. lab01 (or just 1)")
    grade.add_argument(
        "--submission",
        type=Path,
        help="folder, .zip or .tar.gz to grade (default: your workspace, labs/LAB/starter)",
    )
    grade.add_argument(
        "--output", type=Path, help="write the result JSON here (default: .grader/results/LAB.json)"
    )
    grade.add_argument(
        "--database",
        default=os.environ.get("GRADER_DATABASE_URL", "auto"),
        help="'auto' (default: SQLite, or a throwaway PostgreSQL when the lab needs one and "
        "PostgreSQL is installed), 'sqlite', 'postgres' (always a PostgreSQL server the grader "
        "starts; in official mode, inside the sandbox), or a postgres:// URL (local mode; env "
        "GRADER_DATABASE_URL)",
    )
    grade.add_argument("--timeout", type=float, help="seconds before the checks are stopped")
    grade.add_argument("--json", action="store_true", help="print the result JSON, not a table")
    grade.add_argument(
        "--official",
        action="store_true",
        help="instructors: grade in a bubblewrap sandbox, verdicts decided out of process",
    )
    grade.add_argument(
        "--repeat",
        type=_positive_int,
        default=1,
        help="official mode: run every check N times; disagreeing runs are flagged flaky",
    )
    grade.add_argument(
        "--serial",
        action="store_true",
        help="run the quality gates after the checks, not beside them (slower; same result)",
    )

    sub.add_parser("list", help="list the labs that can be graded")

    prove = sub.add_parser(
        "prove", help="course authors: solution scores full, starter fails all, mutants lose"
    )
    prove.add_argument("labs", nargs="+", metavar="LAB")
    prove.add_argument("--database", default=os.environ.get("GRADER_DATABASE_URL", "sqlite"))
    prove.add_argument("--official", action="store_true", help="prove in official mode")

    release = sub.add_parser("release", help="build the learners' edition into DEST")
    release.add_argument("dest", type=Path, metavar="DEST")
    release.add_argument(
        "--include-untracked",
        action="store_true",
        help="also publish files git does not track yet (to try a release before committing)",
    )
    release.add_argument(
        "--labs",
        metavar="LABS",
        help="release only these labs: lab01..lab03, lab01,lab02 or 1..3 (default: every lab)",
    )
    release.add_argument(
        "--update",
        action="store_true",
        help="DEST is an edition built before: rebuild it in place (its .git stays), e.g. with "
        "the next lab added to --labs",
    )
    release.set_defaults(handler=_release)

    from grader.instructors.cli import add_cohort_commands, add_export_commands

    add_cohort_commands(sub)  # instructors: cohort grade|override|status|audit|publish
    add_export_commands(sub)  # export a result; Gradescope bundle; Classroom workflow
    return parser


def _grade(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from grader.labs import default_workspace, find_course_root, resolve_lab
    from grader.pipeline import GradeOptions, grade_submission
    from grader.render import render_result
    from grader.result import default_result_paths, write_json

    root = find_course_root()
    lab_dirs = [resolve_lab(root, lab) for lab in args.labs]  # all unknown labs fail up front
    if args.submission and len(lab_dirs) > 1:
        raise UsageError("--submission grades one lab at a time; name a single lab.")
    if args.output and len(lab_dirs) > 1:
        raise UsageError("--output names one file; grade a single lab with it.")
    console = Console(highlight=False)
    worst = EXIT_PASSED
    for lab_dir in lab_dirs:
        if args.submission is None and not default_workspace(lab_dir).is_dir():
            # The capstone has no starter: every learner's service is their own project.
            raise UsageError(
                f"{lab_dir.name} has no workspace in the course: grade your own project with "
                f"`nox -s grade {lab_dir.name} -- --submission /path/to/your/project`."
            )
        submission = (args.submission or default_workspace(lab_dir)).resolve()
        options = GradeOptions(
            database=args.database,
            timeout=args.timeout,
            mode="official" if args.official else "local",
            repeat=args.repeat,
            concurrent=not args.serial,
        )
        result = grade_submission(lab_dir, submission, options)
        latest, history = default_result_paths(root, lab_dir.name, result["started_at"])
        if args.output:
            write_json(args.output, result)
        else:
            write_json(latest, result)
            write_json(history, result)
        if args.json:
            sys.stdout.write(json.dumps(result, indent=2) + "\n")
        else:
            handout = os.path.relpath(lab_dir / "README.md")
            render_result(result, console, handout=handout)
            shown = args.output or latest
            console.print(Text(f"Result saved to {os.path.relpath(shown)}", style="dim"))
        score = result["score"]
        # Points an instructor has yet to score (manual criteria) cannot fail a run.
        passed = score["points"] == score["max_points"] - score.get("awaiting_points", 0)
        if "public_checks" in result:  # learners' edition: the public checks decide the exit
            passed = result["public_checks"]["failed"] == 0
        code = {
            "error": EXIT_SUBMISSION_ERROR,
            "timeout": EXIT_TIMEOUT,
        }.get(result["status"], EXIT_PASSED if passed else EXIT_FAILED)
        worst = max(worst, code)
    return worst


def _list() -> int:
    from grader.labs import find_course_root, known_labs

    for lab in known_labs(find_course_root()):
        print(lab)
    return EXIT_PASSED


def _prove(args: argparse.Namespace) -> int:
    from grader.course.proving import prove_lab
    from grader.labs import find_course_root, resolve_lab
    from grader.pipeline import GradeOptions

    root = find_course_root()
    worst = EXIT_PASSED
    for lab in args.labs:
        lab_dir = resolve_lab(root, lab)
        mode = "official" if args.official else "local"
        proof = prove_lab(root, lab_dir.name, GradeOptions(database=args.database, mode=mode))
        runs = len(proof.results)
        if proof.ok:
            graded = "reference, template renders" if lab_dir.name == "capstone" else (
                "solution, starter"
            )
            print(f"{lab_dir.name}: rubric proven ({runs} gradings: {graded}, mutants)")
        else:
            worst = EXIT_FAILED
            print(f"{lab_dir.name}: {len(proof.problems)} problem(s) in {runs} gradings")
            for problem in proof.problems:
                print(f"  - {problem}")
        for note in proof.notes:  # e.g. criteria that need PostgreSQL, proven on SQLite
            print(f"  note: {note}")
    return worst


def _release(args: argparse.Namespace) -> int:
    from grader.course.release.build import build_edition, parse_labs
    from grader.course.release.manifest import lab_ids
    from grader.labs import find_course_root

    root = find_course_root()
    labs = parse_labs(args.labs, lab_ids(root)) if args.labs else None
    edition = build_edition(
        root, args.dest, include_untracked=args.include_untracked, labs=labs, update=args.update
    )
    print(
        f"Learners' edition in {edition.dest} ({', '.join(labs or lab_ids(root))}): "
        f"{len(edition.files)} files; left out "
        f"{len(edition.excluded)} (solutions, hidden checks, author pages, the course's tests"
        f"{', labs not released' if labs else ''}); "
        f"{len(edition.notebooks)} notebook(s) stripped; public tests for "
        f"{', '.join(edition.public_labs) or 'no lab'}. Leak scan: clean."
    )
    return EXIT_PASSED


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        handler = getattr(args, "handler", None)
        if handler is not None:  # release, cohort and export commands
            code: int = handler(args)
            return code
        if args.command == "grade":
            return _grade(args)
        if args.command == "prove":
            return _prove(args)
        return _list()
    except GraderError as exc:
        from grader.safetext import strip_control

        # A message may quote a path or name the learner chose: never a terminal sequence.
        print(f"grader: {strip_control(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grader: interrupted; nothing was changed in your files.", file=sys.stderr)
        return 130
    except Exception:  # a grader bug: say so plainly, with the details needed to report it
        import traceback

        traceback.print_exc()
        print(
            "grader: internal error (a bug in the grader, not in your work). Please report it "
            "with the text above.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
