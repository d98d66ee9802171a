"""The rules the agenda must satisfy: every broken one reported at once, located, in line order.

The decisions :func:`check_agenda` enforces:

- days 1..10 in order, each with four taught hours and one lab hour;
- hours 1..40, consecutive, none missing or repeated, hour *n* on day ``(n - 1) // 4 + 1``;
- every time box adds up to 60 minutes;
- each lab hour places one of lab01..lab10; each of those labs is placed exactly once, in
  teaching order. The capstone is no lab hour: it is a sprint of its own, described once under
  ``## Capstone sprint``;
- a lab's outcomes are its rubric's (``labs/<lab>/rubric.toml``) when it has one, otherwise the
  ones its lab hour declares; a lab hour that declares other outcomes than its rubric is an error;
- every outcome 1..6 is served by at least three hours and at least one lab (lab01..lab10);
- every hour and lab hour links to its own day page, and a lab that has a handout is linked;
- every relative link in the agenda resolves to a file, and its ``#fragment`` to a heading;
- the agenda's headings give the same anchor on GitHub and on the site, and no two are equal.

The contract: :func:`check_agenda` takes a parsed :class:`~grader.course.curriculum.parse.Agenda`
and the course root and returns a list of :class:`Problem` (empty: every rule holds): a broken
rule, even a rubric that does not load, is a problem, not an exception. :func:`lab_outcomes` says
which outcomes each placed lab serves (the rendered tables use it too) and :func:`link_problems`
resolves the relative links of any page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.course.curriculum.markdown import (
    Link,
    github_anchor,
    heading_anchor,
    headings,
    site_anchor,
)
from grader.course.curriculum.parse import (
    CAPSTONE,
    DAYS,
    HOURS,
    HOURS_PER_DAY,
    LABS,
    MINUTES_PER_HOUR,
    Agenda,
    Hour,
    day_page,
    handout,
)
from grader.errors import RubricError
from grader.rubric import OUTCOMES, load_rubric

MIN_HOURS_PER_OUTCOME = 3
MIN_LABS_PER_OUTCOME = 1

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One broken rule, located: ``str(problem)`` is ``<file>:<line>: <message>``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def lab_outcomes(agenda: Agenda, root: Path) -> dict[str, tuple[int, ...]]:
    """Outcomes each placed lab serves: its rubric's criteria when it has a rubric, else declared.

    Raises RubricError when a rubric exists but does not load.
    """
    served: dict[str, tuple[int, ...]] = {}
    for lab_hour in agenda.lab_hours:
        rubric = root / "labs" / lab_hour.lab / "rubric.toml"
        if rubric.is_file():
            criteria = load_rubric(rubric).criteria
            served[lab_hour.lab] = tuple(sorted({criterion.outcome for criterion in criteria}))
        else:
            served.setdefault(lab_hour.lab, tuple(sorted(lab_hour.outcomes)))
    return served


def _check_numbering(agenda: Agenda, problem: Callable[[int, str], None]) -> None:
    numbers = [day.number for day in agenda.days]
    if numbers != list(range(1, DAYS + 1)):
        line = agenda.days[0].line if agenda.days else 1
        problem(line, f"days must run 1..{DAYS} in order, found {numbers}")
    for day in agenda.days:
        if len(day.hours) != HOURS_PER_DAY:
            problem(day.line, f"day {day.number} has {len(day.hours)} taught hours, not 4")
        if len(day.lab_hours) != 1:
            problem(day.line, f"day {day.number} has {len(day.lab_hours)} lab hours, not 1")
    first_line: dict[int, int] = {}
    for hour in agenda.hours:
        if hour.number in first_line:
            problem(
                hour.line,
                f"hour {hour.number} appears twice (first on line {first_line[hour.number]})",
            )
            continue
        first_line[hour.number] = hour.line
        if not 1 <= hour.number <= HOURS:
            problem(hour.line, f"hour {hour.number} is outside 1..{HOURS}")
        elif hour.day != (hour.number - 1) // HOURS_PER_DAY + 1:
            expected = (hour.number - 1) // HOURS_PER_DAY + 1
            problem(hour.line, f"hour {hour.number} belongs to day {expected}, not day {hour.day}")
    missing = [number for number in range(1, HOURS + 1) if number not in first_line]
    if missing:
        line = agenda.days[0].line if agenda.days else 1
        problem(line, f"hours missing from the agenda: {', '.join(map(str, missing))}")
    in_order = [hour.number for hour in agenda.hours]
    if in_order != sorted(in_order):
        problem(agenda.hours[0].line, f"hours are out of order: {in_order}")
    for hour in agenda.hours:
        if hour.time_box.total != MINUTES_PER_HOUR:
            problem(
                hour.line,
                f"hour {hour.number}'s time box adds up to {hour.time_box.total} minutes, not 60",
            )


def _check_labs(agenda: Agenda, root: Path, problem: Callable[[int, str], None]) -> None:
    placed: dict[str, int] = {}
    for lab_hour in agenda.lab_hours:
        if lab_hour.lab == CAPSTONE:
            problem(
                lab_hour.line,
                "the capstone is not a lab hour: describe it once under '## Capstone sprint'",
            )
            continue
        if lab_hour.lab in placed:
            problem(
                lab_hour.line,
                f"{lab_hour.lab} is placed twice (first on line {placed[lab_hour.lab]})",
            )
            continue
        placed[lab_hour.lab] = lab_hour.line
        if (root / handout(lab_hour.lab)).is_file() and not lab_hour.lab_linked:
            problem(
                lab_hour.line,
                f"{lab_hour.lab} has a handout now: link it, '[{lab_hour.lab}]"
                f"({handout(lab_hour.lab)})'",
            )
        rubric = root / "labs" / lab_hour.lab / "rubric.toml"
        if rubric.is_file():
            try:
                from_rubric = {c.outcome for c in load_rubric(rubric).criteria}
            except RubricError as error:
                problem(lab_hour.line, f"{lab_hour.lab}'s rubric does not load: {error}")
                continue
            if set(lab_hour.outcomes) != from_rubric:
                problem(
                    lab_hour.line,
                    f"{lab_hour.lab} declares outcomes {sorted(lab_hour.outcomes)} but its "
                    f"rubric's criteria serve {sorted(from_rubric)}: make Outcomes match it",
                )
    unplaced = [lab for lab in LABS if lab not in placed]
    if unplaced:
        line = agenda.days[0].line if agenda.days else 1
        problem(line, f"labs not placed in any lab hour: {', '.join(unplaced)}")
    unknown = [lab for lab in placed if lab not in LABS]
    for lab in unknown:
        problem(placed[lab], f"{lab} is not one of the course's labs (lab01..lab{DAYS:02d})")
    order = [lab for lab in placed if lab in LABS]
    if order != sorted(order):
        problem(placed[order[0]], f"labs must be placed in teaching order, found {order}")
    if agenda.capstone is None:
        problem(1, "the agenda has no '## Capstone sprint' section")
    elif agenda.capstone.lab != CAPSTONE:
        problem(agenda.capstone.line, "the capstone sprint's Lab field must name `capstone`")


def _check_coverage(agenda: Agenda, root: Path, problem: Callable[[int, str], None]) -> None:
    try:
        served_by_lab = lab_outcomes(agenda, root)
    except RubricError:
        return  # reported by _check_labs
    for outcome in OUTCOMES:
        hours = [hour.number for hour in agenda.hours if outcome in hour.outcomes]
        labs = [lab for lab, served in served_by_lab.items() if lab in LABS and outcome in served]
        if len(hours) < MIN_HOURS_PER_OUTCOME:
            problem(
                1,
                f"outcome {outcome} is served by {len(hours)} hours ({hours}); "
                f"it needs at least {MIN_HOURS_PER_OUTCOME}",
            )
        if len(labs) < MIN_LABS_PER_OUTCOME:
            problem(1, f"outcome {outcome} is served by no lab (lab01..lab10)")


def _check_pages_fields(agenda: Agenda, problem: Callable[[int, str], None]) -> None:
    for item in agenda.items:
        page = day_page(item.day)
        if not any(link.target.partition("#")[0] == page for link in item.links):
            name = f"hour {item.number}" if isinstance(item, Hour) else f"{item.lab}'s lab hour"
            problem(item.line, f"{name} must link to its day page, {page}")


def _check_headings(agenda: Agenda, problem: Callable[[int, str], None]) -> None:
    seen: dict[str, int] = {}
    for heading in agenda.headings:
        anchor = heading_anchor(heading.text)
        if anchor in seen:
            problem(
                heading.line,
                f"heading {heading.text!r} has the same anchor as line {seen[anchor]}; "
                "make it unique",
            )
        seen.setdefault(anchor, heading.line)
    parsed = {day.line for day in agenda.days} | {i.line for i in agenda.items}
    for heading in agenda.headings:
        if heading.line in parsed and site_anchor(heading.text) != github_anchor(heading.text):
            problem(
                heading.line,
                f"heading {heading.text!r} gets anchor #{site_anchor(heading.text)} on the site "
                f"but #{github_anchor(heading.text)} on GitHub: drop the punctuation that differs",
            )


def link_problems(links: Sequence[Link], page: str, root: Path) -> list[tuple[int, str]]:
    """``(line, message)`` for each relative link of ``page`` that does not resolve.

    ``page`` is the page's repository path. A target is resolved from the page's folder in the
    repository, must stay inside it and exist; a ``#fragment`` must name a heading of the target
    (or of the page itself) when that is a Markdown file. External and absolute links are not
    followed.

    Pages under ``docs/`` are written in the site's layout, where ``docs/`` is the root and the
    course files published from outside it (``curriculum.md``, ``labs/lab01/README.md``) sit at
    their repository paths: a target missing under ``docs/`` is looked up there too.
    """
    found: list[tuple[int, str]] = []
    anchors_of: dict[PurePosixPath, set[str]] = {}
    page_path = PurePosixPath(page)
    for link in links:
        if _EXTERNAL.match(link.target):
            continue
        path, _, fragment = link.target.partition("#")
        target = page_path if not path else _normalise(page_path.parent / path)
        if target is None or target.parts[:1] == ("..",):
            found.append((link.line, f"link {link.target!r} leaves the repository"))
            continue
        if target.parts[:1] == ("docs",) and not (root / target).exists():
            published = PurePosixPath(*target.parts[1:])
            if (root / published).is_file() and published.suffix == ".md":
                target = published
        file = root / target
        if not file.exists():
            found.append((link.line, f"link {link.target!r}: {target} does not exist"))
            continue
        if not fragment or file.suffix != ".md":
            continue
        if target not in anchors_of:
            text = file.read_text(encoding="utf-8")
            anchors_of[target] = {heading.anchor for heading in headings(text)}
        if fragment not in anchors_of[target]:
            found.append((link.line, f"link {link.target!r}: {target} has no heading #{fragment}"))
    return found


def _normalise(path: PurePosixPath) -> PurePosixPath | None:
    """Collapse ``..`` and ``.`` segments; None for an empty path."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append(part)
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else None


def check_agenda(agenda: Agenda, root: Path) -> list[Problem]:
    """Every broken rule of the agenda (see the module docstring), in line order."""
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(agenda.path, line, message))

    _check_numbering(agenda, problem)
    _check_labs(agenda, root, problem)
    _check_coverage(agenda, root, problem)
    _check_pages_fields(agenda, problem)
    _check_headings(agenda, problem)
    for line, message in link_problems(agenda.links, agenda.path, root):
        problem(line, message)
    return sorted(problems, key=lambda found: found.line)
