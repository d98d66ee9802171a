"""The generated Markdown tables drawn from the agenda (:mod:`grader.course.docs_sync` calls them).

The contract: each ``render_*`` function takes a parsed
:class:`~grader.course.curriculum.parse.Agenda` and returns the table's lines, without the
generated-block markers. ``link`` turns a repository path (``docs/days/day01.md#hour-1-...``) into
the link the page needs; ``outcome_label`` names a learning outcome. The schedule and the outcome
coverage take a lab's outcomes from its rubric
(:func:`~grader.course.curriculum.check.lab_outcomes`) and raise ``ValueError`` when one does not
load; :func:`render_day_schedule` raises ``ValueError`` for a day the agenda lacks. Rendering
checks no rules: that is the checker's job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader.course.curriculum.check import lab_outcomes
from grader.course.curriculum.parse import LABS, MINUTES_PER_HOUR, Agenda, day_page, handout
from grader.errors import RubricError
from grader.rubric import OUTCOMES

LinkMaker = Callable[[str], str]
OutcomeLabel = Callable[[int], str]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", r"\|")


def _lab_cell(lab: str, root: Path, link: LinkMaker) -> str:
    readme = handout(lab)
    return f"[{lab}]({link(readme)})" if (root / readme).is_file() else f"`{lab}`"


def render_schedule(agenda: Agenda, root: Path, link: LinkMaker) -> list[str]:
    """The ten days at a glance: one row per day and one for the capstone sprint.

    Compact on purpose: each day's theme, its hours (linked to the agenda), its lab and lab hour,
    and the outcomes the day serves. What each lab builds is in the agenda itself.
    """
    try:
        served = lab_outcomes(agenda, root)
    except RubricError as error:
        raise ValueError(str(error)) from None
    rows = [
        "| Day | Theme | Hours | Lab hour | Outcomes |",
        "|---|---|---|---|---|",
    ]
    for day in agenda.days:
        numbers = [hour.number for hour in day.hours]
        span = f"{numbers[0]}\N{EN DASH}{numbers[-1]}" if numbers else "—"
        hours = f"[{span}]({link(f'{agenda.path}#{day.anchor}')})"
        labs = "<br>".join(
            f"{_lab_cell(item.lab, root, link)}: {_cell(item.title)}" for item in day.lab_hours
        )
        outcomes = sorted(
            {n for hour in day.hours for n in hour.outcomes}
            | {n for item in day.lab_hours for n in served.get(item.lab, item.outcomes)}
        )
        rows.append(
            f"| [Day {day.number}]({link(day_page(day.number))}) | {_cell(day.theme)} | {hours} "
            f"| {labs or '—'} | {', '.join(map(str, outcomes))} |"
        )
    if agenda.capstone is not None:
        capstone = agenda.capstone
        rows.append(
            f"| [Capstone]({link(f'{agenda.path}#{capstone.anchor}')}) "
            f"| Capstone sprint, {_cell(capstone.when[:1].lower() + capstone.when[1:])} | — "
            f"| `{capstone.lab}`: the finished service | "
            f"{', '.join(map(str, sorted(capstone.outcomes)))} |"
        )
    return rows


def render_day_schedule(agenda: Agenda, day_number: int, link: LinkMaker) -> list[str]:
    """A day's time box: one row per hour (talk, activity, review minutes) and its lab hour."""
    day = next((day for day in agenda.days if day.number == day_number), None)
    if day is None:
        raise ValueError(f"the agenda has no day {day_number}")
    page = day_page(day.number)
    rows = [
        "| Block | Topic | Talk | Activity | Review | Outcomes |",
        "|---|---|--:|--:|--:|---|",
    ]
    talk = activity = review = 0
    for hour in day.hours:
        box = hour.time_box
        talk, activity, review = talk + box.talk, activity + box.activity, review + box.review
        rows.append(
            f"| [Hour {hour.number}]({link(f'{page}#{hour.anchor}')}) | {_cell(hour.title)} "
            f"| {box.talk} min | {box.activity} min | {box.review} min "
            f"| {', '.join(map(str, hour.outcomes))} |"
        )
    for lab_hour in day.lab_hours:
        activity += MINUTES_PER_HOUR
        rows.append(
            f"| [Lab hour]({link(f'{page}#{lab_hour.anchor}')}) | `{lab_hour.lab}`: "
            f"{_cell(lab_hour.title)} | — | 60 min | — | "
            f"{', '.join(map(str, lab_hour.outcomes))} |"
        )
    rows.append(
        f"| **Day {day.number}** | {len(day.hours)} taught hours, {len(day.lab_hours)} lab hour "
        f"| **{talk} min** | **{activity} min** | **{review} min** | |"
    )
    return rows


def render_outcome_coverage(
    agenda: Agenda, root: Path, link: LinkMaker, outcome_label: OutcomeLabel
) -> list[str]:
    """Which hours and which labs serve each learning outcome (the hour → lab half of the trace)."""
    try:
        served = lab_outcomes(agenda, root)
    except RubricError as error:
        raise ValueError(str(error)) from None
    rows = ["| Outcome | Taught hours | Labs |", "|---|---|---|"]
    for outcome in OUTCOMES:
        hours = [hour for hour in agenda.hours if outcome in hour.outcomes]
        hour_links = ", ".join(
            f"[{hour.number}]({link(f'{agenda.path}#{hour.anchor}')})" for hour in hours
        )
        labs = ", ".join(
            _lab_cell(lab, root, link) for lab in LABS if lab in served and outcome in served[lab]
        )
        rows.append(
            f"| {_cell(outcome_label(outcome))} | {hour_links or '—'} ({len(hours)}) "
            f"| {labs or '—'} |"
        )
    return rows
