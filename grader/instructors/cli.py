"""The ``cohort`` and ``export`` commands of ``python -m grader`` (instructors).

``grader.cli`` adds them with :func:`add_cohort_commands` and :func:`add_export_commands`; each
sub-command stores its handler as ``args.handler`` (exit code in, like every grader command).
SQLAlchemy and friends are imported inside the handlers, so ``grade`` stays as light as it was.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from grader.errors import EXIT_FAILED, EXIT_PASSED, UsageError
from grader.safetext import strip_control

ACTOR_ENV = "GRADER_ACTOR"


def _actor(given: str | None) -> str:
    if given:
        return given
    try:
        return os.environ.get(ACTOR_ENV) or getpass.getuser()
    except OSError:  # no user name on this system
        return "unknown"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gradebook",
        metavar="URL",
        help="SQLAlchemy URL, postgres:// URL or SQLite file (env GRADER_GRADEBOOK_URL; "
        "default .grader/gradebook.sqlite3)",
    )
    parser.add_argument(
        "--actor", help=f"who is acting, for the audit (env {ACTOR_ENV}; default: your login)"
    )


def add_cohort_commands(sub: Any) -> None:
    """Add ``cohort grade|override|review|status|audit|publish`` under ``sub`` (a subparsers
    action)."""
    cohort = sub.add_parser(
        "cohort", help="instructors: grade a cohort, keep the gradebook, publish results"
    )
    commands = cohort.add_subparsers(dest="cohort_command", required=True)

    grade = commands.add_parser("grade", help="grade every submission not graded yet")
    grade.add_argument("--lab", required=True)
    grade.add_argument("--submissions", type=Path, required=True, metavar="DIR")
    grade.add_argument("--roster", type=Path, required=True, metavar="CSV")
    grade.add_argument("--workers", type=int, default=0, help="worker processes (default: cores)")
    grade.add_argument(
        "--database",
        default=os.environ.get("GRADER_DATABASE_URL", "sqlite"),
        help="database the checks run on: 'sqlite' or a postgres:// URL",
    )
    grade.add_argument("--timeout", type=float, help="seconds per submission (default: rubric's)")
    grade.add_argument(
        "--official",
        action="store_true",
        help="grade every submission in official mode (bubblewrap sandbox, root): the only "
        "grades cohort publish takes without --allow-local",
    )
    grade.add_argument("--cache", type=Path, help="where archives are unpacked")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.add_argument(
        "--backend",
        choices=("local", "celery"),
        default="local",
        help="local: a process pool on this machine (default); celery: Celery workers on Redis "
        "(see grader.instructors.distributed; env GRADER_CELERY_BROKER)",
    )
    grade.add_argument(
        "--queue", help="celery: the queue the workers consume (env GRADER_CELERY_QUEUE; grader)"
    )
    _common(grade)
    grade.set_defaults(handler=_cohort_grade)

    override = commands.add_parser("override", help="set or clear a learner's points, audited")
    override.add_argument("learner")
    override.add_argument("lab")
    group = override.add_mutually_exclusive_group(required=True)
    group.add_argument("--points", type=int)
    group.add_argument("--clear", action="store_true", help="remove the override")
    override.add_argument("--reason", required=True)
    _common(override)
    override.set_defaults(handler=_cohort_override)

    review = commands.add_parser(
        "review", help="score (or unscore) a people-decided criterion of a learner, audited"
    )
    review.add_argument("learner")
    review.add_argument("lab")
    review.add_argument("criterion", help="the id of a kind = 'manual' criterion")
    group = review.add_mutually_exclusive_group(required=True)
    group.add_argument("--points", type=int)
    group.add_argument("--clear", action="store_true", help="remove the score")
    review.add_argument("--reason", required=True, help="shown to the learner and audited")
    _common(review)
    review.set_defaults(handler=_cohort_review)

    status = commands.add_parser("status", help="current grades of a lab (private)")
    status.add_argument("--lab", required=True)
    _common(status)
    status.set_defaults(handler=_cohort_status)

    audit = commands.add_parser("audit", help="the audit trail")
    audit.add_argument("--learner")
    audit.add_argument("--lab")
    audit.add_argument("--json", action="store_true")
    _common(audit)
    audit.set_defaults(handler=_cohort_audit)

    publish = commands.add_parser(
        "publish", help="feedback pages, Canvas CSV, JUnit XML, and the public aggregates page"
    )
    publish.add_argument("--lab", required=True)
    publish.add_argument("--out", type=Path, required=True, metavar="DIR")
    publish.add_argument("--assignment", help="Canvas column name (default: 'LAB: title')")
    publish.add_argument("--canvas-assignment-id", help="Canvas assignment id to update")
    publish.add_argument(
        "--site-page", type=Path, help="also write the public aggregates page here"
    )
    publish.add_argument("--min-learners", type=int, default=None)
    publish.add_argument(
        "--site-url",
        default=os.environ.get("SITE_URL"),
        help="the course site, for handout links in feedback pages (env SITE_URL; default: "
        "links into the course repository)",
    )
    publish.add_argument(
        "--allow-local",
        action="store_true",
        help="publish grades from local-mode grading too (a learner can tamper with those)",
    )
    _common(publish)
    publish.set_defaults(handler=_cohort_publish)

    from grader.instructors.dashboard.cli import (
        add_dashboard_command,  # light: imports nothing heavy
    )

    add_dashboard_command(commands, _common)  # facilitators: cohort dashboard


def _open(args: argparse.Namespace) -> tuple[Path, Any]:
    from grader.instructors.gradebook import open_course_gradebook

    return open_course_gradebook(args.gradebook)


def _lab(root: Path, lab: str) -> str:
    from grader.labs import resolve_lab

    return resolve_lab(root, lab).name


def _cohort_grade(args: argparse.Namespace) -> int:
    from rich.console import Console

    from grader.instructors.cohort.run import CohortOptions, CohortReport, grade_cohort

    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab)
        if not (root / "labs" / lab / "hidden").is_dir():
            raise UsageError(
                f"labs/{lab}/hidden is missing: cohorts are graded from the instructors' edition."
            )
        if args.workers < 0:
            raise UsageError("--workers must be 1 or more (0 means one per core).")
        if args.backend == "celery" and args.workers:
            raise UsageError("--workers is for the local pool; Celery workers set --concurrency.")
        if args.official:
            from grader.executors.official.runner import check_official_request

            check_official_request(args.database, False)  # no sandbox here: one sentence, exit 2
        options = CohortOptions(
            course_root=root,
            lab=lab,
            submissions=args.submissions.resolve(),
            roster=args.roster,
            cache=(args.cache or root / ".grader" / "cohort" / "unpacked").resolve(),
            workers=args.workers,
            database=args.database,
            timeout=args.timeout,
            actor=_actor(args.actor),
            progress=not args.no_progress,
            mode="official" if args.official else "local",
        )
        console = Console(stderr=True, highlight=False)
        if args.backend == "celery":
            from grader.instructors.distributed.dispatch import grade_cohort_celery

            report: CohortReport = grade_cohort_celery(
                options, gradebook, console, queue=args.queue
            )
        else:
            report = grade_cohort(options, gradebook, console)
        shown = gradebook.engine.url.render_as_string(hide_password=True)
    print(
        f"{lab}: {report.roster} learner(s) on the roster; graded {report.graded}, already "
        f"graded and unchanged {report.up_to_date}, no submission {len(report.missing)}; "
        f"{report.errors} could not be graded (see their feedback). Gradebook: {shown}"
    )
    if report.missing:
        print(f"No submission from: {strip_control(', '.join(report.missing))}")
    if report.not_on_roster:
        # Entries named by whoever uploaded them: never a terminal sequence.
        print(f"Not on the roster (ignored): {strip_control(', '.join(report.not_on_roster))}")
    return EXIT_PASSED


def _cohort_override(args: argparse.Namespace) -> int:
    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab)
        points = None if args.clear else args.points
        if points is not None and args.reason.strip() and not gradebook.grade(args.learner, lab):
            _record_no_submission(root, gradebook, args.learner, lab, points, _actor(args.actor))
        view = gradebook.override(args.learner, lab, points, args.reason, _actor(args.actor))
    if view.override_points is None:
        print(f"{args.learner} {lab}: override cleared; {view.points}/{view.max_points} stands.")
    else:
        print(
            f"{args.learner} {lab}: {view.override_points}/{view.max_points} (graded "
            f"{view.graded_points}); reason recorded in the audit."
        )
    return EXIT_PASSED


def _record_no_submission(
    root: Path, gradebook: Any, learner: str, lab: str, points: int, actor: str
) -> None:
    """A learner on the roster with no grade in ``lab``: record "no submission" (nothing graded,
    nothing scored), so an override has a grade to sit on. A later submission is graded as usual
    and supersedes it (the audit says so). Not on the roster: the gradebook refuses, naming it.
    Points out of range are refused before anything is recorded."""
    from grader.instructors.cohort.jobs import no_submission_result
    from grader.instructors.gradebook.store import NO_SUBMISSION

    result = no_submission_result(root, lab)
    if not 0 <= points <= result["score"]["max_points"]:
        raise UsageError(f"Points must be between 0 and {result['score']['max_points']}.")
    gradebook.record_result(
        learner_id=learner,
        result=result,
        submission_digest=NO_SUBMISSION,
        checks_digest=NO_SUBMISSION,
        source="no submission (recorded for an override)",
        actor=actor,
    )
    print(f"{strip_control(learner)} {lab}: no submission; recorded as not graded.")


def _cohort_review(args: argparse.Namespace) -> int:
    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab)
        points = None if args.clear else args.points
        view = gradebook.review(
            args.learner, lab, args.criterion, points, args.reason, _actor(args.actor)
        )
    left = view.awaiting
    print(
        f"{args.learner} {lab} {args.criterion}: "
        + ("score cleared" if points is None else f"{points} points")
        + f"; {view.points}/{view.max_points} now counts"
        + (f"; still awaiting: {', '.join(left)}" if left else "; no manual criterion awaits")
        + ". Reason recorded in the audit."
    )
    return EXIT_PASSED


def _cohort_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab)
        grades = gradebook.grades(lab)
        learners = gradebook.learners()
    graded = {g.learner.id for g in grades}
    table = Table(title=f"{lab}: current grades (private)")
    for column in ("Learner", "Status", "Points", "Override", "Graded at (UTC)", "Why"):
        table.add_column(column, overflow="fold")
    for g in grades:
        why = g.document.get("message") if g.status != "graded" else None
        table.add_row(  # ids, reasons and messages are text, never rich markup
            Text(strip_control(g.learner.id)),
            g.status,
            f"{g.points}/{g.max_points}"
            + (f" ({len(g.awaiting)} manual awaiting)" if g.awaiting else ""),
            Text(strip_control(f"{g.override_points} ({g.override_reason})"))
            if g.override_points is not None
            else "",
            g.graded_at.strftime("%Y-%m-%d %H:%M"),
            Text(strip_control(why or "")),
        )
    missing = [learner for learner in learners if learner.id not in graded]
    for learner in missing:  # on the roster, never graded in this lab
        table.add_row(Text(strip_control(learner.id)), "no submission", "-", "", "", "")
    Console(highlight=False).print(table)
    print(
        f"{len(grades)} of {len(learners)} learner(s) on the roster have a grade in {lab}; "
        f"{sum(g.status != 'graded' for g in grades)} could not be graded (Why), "
        f"{len(missing)} submitted nothing."
    )
    return EXIT_PASSED


def _cohort_audit(args: argparse.Namespace) -> int:
    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab) if args.lab else None
        entries = gradebook.audit(args.learner, lab)
    for e in entries:
        if args.json:
            record = {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "learner": e.learner_id,
                "lab": e.lab,
                "old": e.old,
                "new": e.new,
                "reason": e.reason,
            }
            print(json.dumps(record))
        else:
            old = e.old.get("points") if e.old else None
            new = e.new.get("points") if e.new else None
            change = f" points {old} -> {new}" if (e.old or e.new) and old != new else ""
            why = f" ({e.reason})" if e.reason else ""
            print(
                f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor} {e.action} {e.learner_id or ''} "
                f"{e.lab or ''}{change}{why}"
            )
    return EXIT_PASSED


def _cohort_publish(args: argparse.Namespace) -> int:
    from grader.instructors.cohort.publish import publish_lab

    root, gradebook = _open(args)
    with gradebook:
        lab = _lab(root, args.lab)
        written = publish_lab(
            gradebook,
            lab,
            args.out,
            assignment=args.assignment,
            canvas_assignment_id=args.canvas_assignment_id,
            site_page=args.site_page,
            min_learners=args.min_learners,
            allow_local=args.allow_local,
            site_url=args.site_url,
        )
    for kind, path in written:
        print(f"{kind}: {path}")
    return EXIT_PASSED


def add_export_commands(sub: Any) -> None:
    """Add ``export ...``: one result document to another format, and the engine bundles."""
    export = sub.add_parser("export", help="convert a result JSON; Gradescope and Classroom")
    commands = export.add_subparsers(dest="export_command", required=True)
    for name, text in (
        ("feedback", "feedback page (--format md or html)"),
        ("junit", "JUnit XML"),
        ("gradescope", "Gradescope results.json"),
        ("classroom", "GitHub Classroom step: result output and Points notice"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("result", type=Path, metavar="RESULT.json")
        command.add_argument("--out", type=Path, help="write here instead of standard output")
        if name == "feedback":
            command.add_argument("--format", choices=("md", "html"), default="md")
            command.add_argument(
                "--site-url",
                default=os.environ.get("SITE_URL"),
                help="the course site, for handout links (env SITE_URL)",
            )
        if name == "gradescope":
            command.add_argument("--visibility", default="visible")
        command.set_defaults(handler=_export_result, export_kind=name)

    bundle = commands.add_parser("gradescope-bundle", help="the Gradescope autograder zip")
    bundle.add_argument("--lab", required=True)
    bundle.add_argument("--out", type=Path, required=True, metavar="ZIP")
    bundle.add_argument("--visibility", default="visible")
    bundle.set_defaults(handler=_export_bundle)

    run = commands.add_parser("gradescope-run", help="what run_autograder runs (on Gradescope)")
    run.add_argument("--lab", required=True)
    run.add_argument("--root", type=Path, default=Path(os.environ.get("GRADESCOPE_ROOT", "/")))
    run.add_argument("--visibility", default="visible")
    run.set_defaults(handler=_export_gradescope_run)

    flow = commands.add_parser("classroom-workflow", help="the GitHub Classroom workflow file")
    flow.add_argument("--lab", required=True)
    flow.add_argument("--course-repo", required=True, metavar="OWNER/REPO")
    flow.add_argument("--workspace", help="folder graded in the learner's repository")
    flow.add_argument("--out", type=Path)
    flow.set_defaults(handler=_export_workflow)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")


def _read_result(path: Path) -> dict[str, Any]:
    from grader.result import validate_result

    try:
        result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        validate_result(result)
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist.") from None
    except Exception as exc:  # not JSON, or not a result document
        raise UsageError(f"{path} is not a grader result document: {exc}") from None
    if result.get("public_checks") is not None:
        raise UsageError(
            f"{path} is a learners' edition self-check: it scored nothing (only the public tests "
            "ran), so there is nothing to export. Grade the submission in the instructors' "
            "edition first."
        )
    return result


def _export_result(args: argparse.Namespace) -> int:
    result = _read_result(args.result)
    kind = args.export_kind
    if kind == "feedback":
        from grader.instructors.exports.feedback import to_html, to_markdown

        site = args.site_url
        page = to_html(result, site_url=site) if args.format == "html" else None
        _emit(page or to_markdown(result, site_url=site), args.out)
    elif kind == "junit":
        from grader.instructors.exports.junit import to_junit

        _emit(to_junit(result), args.out)
    elif kind == "gradescope":
        from grader.instructors.exports.gradescope import to_gradescope

        try:
            document = to_gradescope(result, visibility=args.visibility)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _emit(json.dumps(document, indent=2) + "\n", args.out)
    else:
        from grader.instructors.exports.classroom import github_step, to_exercism_v3

        output = os.environ.get("GITHUB_OUTPUT")
        for line in github_step(result, Path(output) if output else None):
            print(line)
        if args.out:
            _emit(json.dumps(to_exercism_v3(result), indent=2) + "\n", args.out)
        score = result["score"]
        return EXIT_PASSED if score["points"] == score["max_points"] else EXIT_FAILED
    return EXIT_PASSED


def _export_bundle(args: argparse.Namespace) -> int:
    from grader.instructors.exports.gradescope import build_bundle
    from grader.labs import find_course_root

    root = find_course_root()
    lab = _lab(root, args.lab)
    try:
        names = build_bundle(root, lab, args.out, visibility=args.visibility)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(f"{args.out}: Gradescope autograder for {lab} ({len(names)} files)")
    return EXIT_PASSED


def _export_gradescope_run(args: argparse.Namespace) -> int:
    from grader.instructors.exports.gradescope import run_autograder
    from grader.labs import find_course_root

    root = find_course_root()
    document = run_autograder(
        root, _lab(root, args.lab), args.root.resolve(), visibility=args.visibility
    )
    print(f"score {document['score']} ({len(document['tests'])} tests)")
    return EXIT_PASSED


def _export_workflow(args: argparse.Namespace) -> int:
    from grader.instructors.exports.classroom import workflow
    from grader.labs import find_course_root

    lab = _lab(find_course_root(), args.lab)
    _emit(workflow(lab, args.course_repo, args.workspace), args.out)
    return EXIT_PASSED
