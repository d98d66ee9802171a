"""Render a result document for a person at a terminal: a table, a score, one next step.

Reads only the result document, so it renders a result from any source (this run, a file,
another machine) the same way. Every string from the document reaches rich as a
:class:`~rich.text.Text` (never parsed as markup) with control characters and escape sequences
removed (:func:`grader.safetext.strip_control`): a result may quote what the learner's project
said, and neither ``[/x]`` nor an ANSI or OSC sequence in it may reach the terminal as such.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.nextsteps import first_to_fix, handout_step, waiting_on, work_order
from grader.safetext import strip_control

_STATUS = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "not_run": ("NOT RUN", "yellow"),
    "official_only": ("OFFICIAL", "cyan"),
    "awaiting_instructor": ("INSTRUCTOR", "magenta"),  # a manual criterion, not scored yet
}
# Criteria a run does not decide: shown as -/points, never as 0 points earned.
_UNDECIDED = ("official_only", "not_run", "awaiting_instructor")


def _plain(value: object, style: str = "") -> Text:
    """A result string (or None) as literal text for rich: no markup, no control characters."""
    return Text(strip_control(str(value)) if value is not None else "", style=style)


def next_step(result: dict[str, Any], handout: str) -> str:
    """One sentence telling the learner what to do now."""
    if result["status"] != "graded":
        return f"Fix the problem above, then grade again. The handout is {handout}."
    public = result.get("public_checks")
    if public is not None:  # the learners' edition: no hidden checks here
        failing_checks = [t for t in public["tests"] if t["outcome"] in ("failed", "error")]
        for c in work_order(result["criteria"]):  # the handout's order, via the rubric's public
            near = [t for t in c.get("tests") or () if t["outcome"] in ("failed", "error")]
            if c["status"] == "official_only" and near:
                where = f" ({handout.rsplit('/', 1)[0]}/{c['see']})" if c.get("see") else ""
                return (
                    f"Start with “{c['title']}”{where}: make the public check {near[0]['id']} "
                    f"pass: {near[0]['message']}"
                )
        if failing_checks:
            first_check = failing_checks[0]
            return f"Make the public check {first_check['id']} pass: {first_check['message']}"
        return (
            "Every public check passes. The criteria above are decided by the official grading "
            f"only; the handout ({handout}) says what each one asks for."
        )
    failing = [c for c in result["criteria"] if c["status"] not in ("passed", *_UNDECIDED)]
    first = first_to_fix(result["criteria"])  # dependencies first (grader.nextsteps)
    not_here = [c for c in result["criteria"] if c["status"] == "not_run"]
    people = sum(
        c["max_points"] for c in result["criteria"] if c["status"] == "awaiting_instructor"
    )
    if not failing and not_here:  # graded, but some criteria need e.g. PostgreSQL
        return (
            f"Every criterion that could be graded here passes. “{not_here[0]['title']}”: "
            f"{not_here[0]['detail'] or 'not graded in this run.'}"
        )
    if not failing and people:
        return (
            f"Every criterion the grader decides passes; the other {people} points are scored "
            "by your instructor (the criteria marked INSTRUCTOR: the demo and the code review)."
        )
    if not failing:
        return "Every criterion passes. Commit your work and move on to the next lab."
    first = first or failing[0]
    where = f" ({handout.rsplit('/', 1)[0]}/{first['see']})" if first.get("see") else ""
    return f"Start with “{first['title']}”{where}. {first['feedback']}"


def _row_text(criterion: dict[str, Any], root: dict[str, Any] | None) -> str:
    """A row's feedback cell: what was observed and what to do, or the failure it waits on."""
    if root is not None:  # the same cause as an earlier row: name it once, there
        step = handout_step(root.get("see"))
        title = root["title"] if len(root["title"]) <= 48 else root["title"][:47] + "…"
        where = f"step {step}, “{title}”" if step is not None else f"“{title}”"
        return f"Waits on {where}, which fails: fix that first, then grade again."
    if criterion["status"] == "official_only" and criterion["tests"]:  # learners' edition
        tests = criterion["tests"]
        passed = sum(t["outcome"] == "passed" for t in tests)
        return (
            f"Public checks for this criterion: {passed}/{len(tests)} pass. {criterion['feedback']}"
        )
    detail, advice = criterion["detail"], criterion["feedback"]
    if criterion["status"] == "failed" and detail and advice and advice not in detail:
        return f"{detail}\nWhat to do: {advice}"
    return detail or advice or ""


def _render_public_checks(result: dict[str, Any], console: Console) -> None:
    """The learners' edition: how the public tests went, failing ones first (at most five)."""
    public = result["public_checks"]
    console.print(
        _plain(
            f"Public checks ({public['source']}): {public['passed']} passed, "
            f"{public['failed']} failed",
            style="bold green" if public["failed"] == 0 else "bold red",
        )
    )
    failing = [t for t in public["tests"] if t["outcome"] in ("failed", "error")]
    for check in failing[:5]:
        console.print(_plain(f"  FAIL {check['id']}: ", style="red") + _plain(check["message"]))
    if len(failing) > 5:
        console.print(f"  … and {len(failing) - 5} more (see the result JSON)")


def render_result(result: dict[str, Any], console: Console, *, handout: str) -> None:
    """Print the criteria table, the score line and the next step."""
    lab = result["lab"]
    console.print(_plain(f"{lab['id']} — {lab['title']}", style="bold"))
    if result["status"] == "graded":
        table = Table(show_lines=False, expand=False, header_style="bold")
        table.add_column("Criterion", overflow="fold", max_width=34)
        table.add_column("Points", justify="right", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Feedback", overflow="fold", ratio=1)
        waiting = waiting_on(result["criteria"])
        for c in result["criteria"]:
            label, colour = _STATUS[c["status"]]
            if c["status"] == "not_run":  # in a graded result: cannot be graded in this run
                label = "NOT GRADABLE"
            undecided = c["status"] in _UNDECIDED
            text = _row_text(c, waiting.get(c["id"]))
            if c["status"] == "awaiting_instructor":
                text = f"Awaiting your instructor (demo or code review): {c['feedback']}"
            elif c.get("review"):
                text = f"Scored by {c['review']['by']}: {c['review']['reason']}"
            table.add_row(
                _plain(c["title"]),
                f"-/{c['max_points']}" if undecided else f"{c['points']}/{c['max_points']}",
                Text(label, style=colour),
                _plain(text),
            )
        console.print(table)
        if result.get("public_checks") is not None:
            _render_public_checks(result, console)
    else:
        label = "ERROR" if result["status"] == "error" else "TIMEOUT"
        console.print(Text(f"{label}: ", style="bold red") + _plain(result["message"]))
        console.print(
            f"No criterion could be checked, so none scored (0/{result['score']['max_points']})."
        )
    score = result["score"]
    if result["status"] == "graded" and result.get("public_checks") is not None:
        console.print(
            Text(
                f"Score: decided by the official grading ({score['max_points']} points). This "
                "copy of the course has no hidden checks; it ran the public tests only.",
                style="bold",
            )
        )
    elif result["status"] == "graded":
        ungraded = sum(c["max_points"] for c in result["criteria"] if c["status"] == "not_run")
        people = sum(
            c["max_points"] for c in result["criteria"] if c["status"] == "awaiting_instructor"
        )
        console.print(
            Text(
                f"Score: {score['points']}/{score['max_points']} ({score['percent']:g}%)"
                + (f"; {ungraded} points could not be graded here (see above)" if ungraded else "")
                + (f"; {people} points await your instructor" if people else ""),
                style="bold",
            )
        )
    for flag in result["integrity"]["flags"]:
        console.print(_plain(f"Integrity: {flag}", style="yellow"))
    console.print(Text("Next step: ", style="bold") + _plain(next_step(result, handout)))
