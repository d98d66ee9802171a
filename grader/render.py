"""Render a result document for a person at a terminal: a table, a score, one next step.

Reads only the result document, so it renders a result from any source (this run, a file,
another machine) the same way.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_STATUS = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "not_run": ("NOT RUN", "yellow"),
}


def next_step(result: dict[str, Any], handout: str) -> str:
    """One sentence telling the learner what to do now."""
    if result["status"] != "graded":
        return f"Fix the problem above, then grade again. The handout is {handout}."
    failing = [c for c in result["criteria"] if c["status"] != "passed"]
    if not failing:
        return "Every criterion passes. Commit your work and move on to the next lab."
    first = failing[0]
    where = f" ({handout.rsplit('/', 1)[0]}/{first['see']})" if first.get("see") else ""
    return f"Start with “{first['title']}”{where}. {first['feedback']}"


def render_result(result: dict[str, Any], console: Console, *, handout: str) -> None:
    """Print the criteria table, the score line and the next step."""
    lab = result["lab"]
    console.print(Text(f"{lab['id']} — {lab['title']}", style="bold"))
    if result["status"] == "graded":
        table = Table(show_lines=False, expand=False, header_style="bold")
        table.add_column("Criterion", overflow="fold", max_width=34)
        table.add_column("Points", justify="right", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("Feedback", overflow="fold", ratio=1)
        for c in result["criteria"]:
            label, colour = _STATUS[c["status"]]
            table.add_row(
                c["title"],
                f"{c['points']}/{c['max_points']}",
                Text(label, style=colour),
                c["detail"] or c["feedback"] or "",
            )
        console.print(table)
    else:
        label = "ERROR" if result["status"] == "error" else "TIMEOUT"
        console.print(Text(f"{label}: ", style="bold red") + Text(result["message"] or ""))
        console.print(
            f"No criterion could be checked, so none scored (0/{result['score']['max_points']})."
        )
    score = result["score"]
    if result["status"] == "graded":
        console.print(
            Text(
                f"Score: {score['points']}/{score['max_points']} ({score['percent']:g}%)",
                style="bold",
            )
        )
    for flag in result["integrity"]["flags"]:
        console.print(Text(f"Integrity: {flag}", style="yellow"))
    console.print(Text("Next step: ", style="bold") + Text(next_step(result, handout)))
