"""The course agenda, ``curriculum.md``: parse it, check it, and render the schedule from it.

The agenda is ordinary Markdown that reads well on GitHub and on the site, written to a fixed
shape so that a program can read it back::

    ## Day 2: Data modelling

    ### Hour 5: A custom user and its roles

    - **Focus:** what the talk explains.
    - **Activity:** what learners do.
    - **Checkpoint:** a question or command whose answer shows the hour landed.
    - **Outcomes:** 2, 3
    - **Time box:** 25 min talk · 25 min activity · 10 min review
    - **Pages:** [Day 2](docs/days/day02.md#hour-5-a-custom-user-and-its-roles)

    ### Lab hour: Data model and governance

    - **Lab:** [lab02](labs/lab02/README.md)        (or `lab02` while it has no handout)
    - **Builds:** what the blog API gains.
    - **Outcomes:** 2
    - **Pages:** [Day 2](docs/days/day02.md#lab-hour-data-model-and-governance)

    ## Capstone sprint

    - **Lab:** `capstone`
    - **When:** ...
    - **Builds:** ...
    - **Outcomes:** 1, 2, 3, 4, 5, 6
    - **Pages:** [...](assessments.md)

A field may continue on indented lines. Other level-2 sections (introductions, generated tables)
are prose and are skipped, as are fenced code blocks. Inside a day only ``Hour N: title`` and
``Lab hour: title`` headings are allowed, and an hour or lab hour holds only its fields, so a typo
is reported instead of silently dropped.

The decisions the checker enforces (:func:`check_agenda`):

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

:func:`check_day_pages` checks the day pages (``docs/days/dayNN.md``) against the agenda and the
course's page style; :func:`snippet_problems` checks the code they include: a lab's answer comes
from that lab's generated solution (``--8<-- "lab01/api/health.py"``, written by the site's hook),
only inside a folded solution, only from a lab the day has reached, and never with marker text.
The ``render_*`` functions produce the generated tables (``grader.course.docs_sync`` calls them).

Command line: ``python -m grader.course.curriculum [--root DIR]``. Exit 0 when the agenda and day
pages pass every rule, 1 when a rule fails (each problem on one line, ``file:line: message``), 2
when the agenda cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.errors import LocatedError, RubricError
from grader.rubric import OUTCOMES, load_rubric

AGENDA = "curriculum.md"
DAYS = 10
HOURS_PER_DAY = 4
HOURS = DAYS * HOURS_PER_DAY
MINUTES_PER_HOUR = 60
MIN_HOURS_PER_OUTCOME = 3
MIN_LABS_PER_OUTCOME = 1
LABS: tuple[str, ...] = tuple(f"lab{number:02d}" for number in range(1, DAYS + 1))
CAPSTONE = "capstone"

OK, FAILED, UNREADABLE = 0, 1, 2

HOUR_FIELDS = ("Focus", "Activity", "Checkpoint", "Outcomes", "Time box", "Pages")
LAB_HOUR_FIELDS = ("Lab", "Builds", "Outcomes", "Pages")
CAPSTONE_FIELDS = ("Lab", "When", "Builds", "Outcomes", "Pages")

_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_DAY = re.compile(r"^Day (?P<number>\d+): (?P<theme>\S.*)$")
_HOUR = re.compile(r"^Hour (?P<number>\d+): (?P<title>\S.*)$")
_LAB_HOUR = re.compile(r"^Lab hour: (?P<title>\S.*)$")
_CAPSTONE_HEADING = "Capstone sprint"
_FIELD = re.compile(r"^- \*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^\s{2,}\S")
_FENCE = re.compile(r"^\s{0,3}(?P<fence>`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"\n]*\")?\)")
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|/)", re.IGNORECASE)
_LAB_ID = re.compile(r"\b(lab\d\d|capstone)\b")
_OUTCOME_LIST = re.compile(r"^\d+(?:\s*,\s*\d+)*$")
_TIME_BOX = re.compile(
    r"^(?P<talk>\d+) min talk · (?P<activity>\d+) min activity · (?P<review>\d+) min review$"
)
_ATTR_ID = re.compile(r"\{[^}]*#(?P<id>[\w-]+)[^}]*\}\s*$")
_DAY_PAGE = re.compile(r"^docs/days/day(?P<number>\d\d)\.md$")


class AgendaError(LocatedError, ValueError):
    """The agenda cannot be read: ``str(error)`` is ``<file>:<line>: <what is wrong>``."""

    path: str


@dataclass(frozen=True)
class Problem:
    """One broken rule, located: ``str(problem)`` is ``<file>:<line>: <message>``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Link:
    """A Markdown link as written: its text, its target and the line it is on (1-based)."""

    text: str
    target: str
    line: int


@dataclass(frozen=True)
class TimeBox:
    """How an hour's 60 minutes are spent."""

    talk: int
    activity: int
    review: int

    @property
    def total(self) -> int:
        return self.talk + self.activity + self.review


@dataclass(frozen=True)
class Hour:
    """One taught hour of the agenda."""

    number: int
    title: str
    day: int
    focus: str
    activity: str
    checkpoint: str
    outcomes: tuple[int, ...]
    time_box: TimeBox
    links: tuple[Link, ...]
    line: int
    anchor: str


@dataclass(frozen=True)
class LabHour:
    """A guided lab hour, or the capstone sprint (``day`` is 0 for the capstone)."""

    lab: str
    title: str
    day: int
    builds: str
    outcomes: tuple[int, ...]
    links: tuple[Link, ...]
    lab_linked: bool  # the Lab field links to the handout (instead of naming the lab in code)
    line: int
    anchor: str
    when: str = ""


@dataclass(frozen=True)
class Day:
    """One day: its theme, its taught hours and its lab hour(s) as written."""

    number: int
    theme: str
    hours: tuple[Hour, ...]
    lab_hours: tuple[LabHour, ...]
    line: int
    anchor: str

    @property
    def items(self) -> tuple[Hour | LabHour, ...]:
        """The day's taught hours, then its lab hour(s), as the day page must present them."""
        return (*self.hours, *self.lab_hours)


@dataclass(frozen=True)
class Heading:
    """A heading of a Markdown page: level, text as written, anchor on the site, line."""

    level: int
    text: str
    anchor: str
    line: int


@dataclass(frozen=True)
class Agenda:
    """The parsed agenda. ``links`` holds every link of the page, prose included."""

    path: str
    days: tuple[Day, ...]
    capstone: LabHour | None
    links: tuple[Link, ...]
    headings: tuple[Heading, ...]

    @property
    def hours(self) -> tuple[Hour, ...]:
        return tuple(hour for day in self.days for hour in day.hours)

    @property
    def lab_hours(self) -> tuple[LabHour, ...]:
        return tuple(lab_hour for day in self.days for lab_hour in day.lab_hours)

    @property
    def items(self) -> tuple[Hour | LabHour, ...]:
        """Every taught hour, then every lab hour (the capstone is not one)."""
        return (*self.hours, *self.lab_hours)


# ---------------------------------------------------------------------------------------------
# Markdown helpers


def outside_fences(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(index, line)`` for the lines that are not inside a fenced code block."""
    open_fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE.match(line)
        if open_fence is None:
            if match:
                open_fence = match["fence"]
                continue
            yield index, line
        elif (
            match and match["fence"][0] == open_fence[0] and len(match["fence"]) >= len(open_fence)
        ):
            open_fence = None


def _plain_heading_text(text: str) -> str:
    """The text a reader sees in a heading: no attribute list, link targets or code ticks."""
    text = _ATTR_ID.sub("", text).rstrip()
    text = _LINK.sub(lambda match: match["text"], text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("**", "")


def site_anchor(text: str) -> str:
    """The anchor the site gives a heading: Python-Markdown's ``toc`` slugify, ASCII mode."""
    plain = unicodedata.normalize("NFKD", _plain_heading_text(text))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^\w\s-]", "", plain).strip().lower()
    return re.sub(r"[-\s]+", "-", plain)


def github_anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen."""
    plain = _plain_heading_text(text).strip().lower()
    plain = re.sub(r"[^\w\- ]", "", plain)
    return plain.replace(" ", "-")


def headings(text: str) -> list[Heading]:
    """The ATX headings of a Markdown page with their site anchors (duplicates get ``_1``...)."""
    found: list[Heading] = []
    seen: dict[str, int] = {}
    for index, line in outside_fences(text.splitlines()):
        match = _HEADING.match(line)
        if not match:
            continue
        explicit = _ATTR_ID.search(match["text"])
        anchor = explicit["id"] if explicit else site_anchor(match["text"])
        if anchor in seen:
            seen[anchor] += 1
            anchor = f"{anchor}_{seen[anchor]}"
        else:
            seen[anchor] = 0
        found.append(Heading(len(match["hashes"]), match["text"], anchor, index + 1))
    return found


def links_in(line: str, number: int) -> list[Link]:
    """The Markdown links on one line of prose, skipping those shown inside code spans."""
    visible = _CODE_SPAN.sub(lambda match: " " * len(match[0]), line)
    return [Link(match["text"], match["target"], number) for match in _LINK.finditer(visible)]


# ---------------------------------------------------------------------------------------------
# Parsing


@dataclass
class _Block:
    """An hour, lab hour or capstone being read: its heading and the fields seen so far."""

    kind: str  # "hour", "lab hour" or "capstone"
    title: str
    number: int
    line: int
    anchor: str
    fields: dict[str, tuple[str, int]]
    last_field: str | None = None
    prose: bool = False  # past the field list: the rest of the section is prose


def _outcomes(value: str, path: str, line: int) -> tuple[int, ...]:
    if not _OUTCOME_LIST.match(value):
        raise AgendaError(
            path, line, f"Outcomes must be numbers separated by commas, not {value!r}"
        )
    numbers = tuple(int(part) for part in value.split(","))
    unknown = [number for number in numbers if number not in OUTCOMES]
    if unknown:
        raise AgendaError(path, line, f"there is no learning outcome {unknown[0]} (they are 1-6)")
    if len(set(numbers)) != len(numbers):
        raise AgendaError(path, line, f"an outcome is listed twice in {value!r}")
    return numbers


def _time_box(value: str, path: str, line: int) -> TimeBox:
    match = _TIME_BOX.match(value)
    if not match:
        raise AgendaError(
            path,
            line,
            f"Time box must read 'N min talk · N min activity · N min review', not {value!r}",
        )
    return TimeBox(int(match["talk"]), int(match["activity"]), int(match["review"]))


def _links_of(block: _Block, keys: Sequence[str]) -> tuple[Link, ...]:
    found: list[Link] = []
    for key in keys:
        value, line = block.fields[key]
        found += links_in(value, line)
    return tuple(found)


def _lab_id(value: str, path: str, line: int) -> str:
    visible = _LINK.sub(lambda match: match["text"], value).replace("`", "")
    ids = sorted(set(_LAB_ID.findall(visible)))
    if len(ids) != 1:
        raise AgendaError(
            path, line, f"Lab must name exactly one lab (lab01..lab10 or capstone), not {value!r}"
        )
    return str(ids[0])


def _finish(block: _Block, day: int, path: str) -> Hour | LabHour:
    expected = {"hour": HOUR_FIELDS, "lab hour": LAB_HOUR_FIELDS, "capstone": CAPSTONE_FIELDS}[
        block.kind
    ]
    missing = [key for key in expected if key not in block.fields]
    if missing:
        raise AgendaError(
            path,
            block.line,
            f"{block.kind} {block.title!r} has no {', '.join(missing)} "
            f"(write them as '- **{missing[0]}:** ...')",
        )
    value = {key: text for key, (text, _) in block.fields.items()}
    outcomes = _outcomes(value["Outcomes"], path, block.fields["Outcomes"][1])
    if block.kind == "hour":
        return Hour(
            number=block.number,
            title=block.title,
            day=day,
            focus=value["Focus"],
            activity=value["Activity"],
            checkpoint=value["Checkpoint"],
            outcomes=outcomes,
            time_box=_time_box(value["Time box"], path, block.fields["Time box"][1]),
            links=_links_of(block, expected),
            line=block.line,
            anchor=block.anchor,
        )
    lab_value, lab_line = block.fields["Lab"]
    return LabHour(
        lab=_lab_id(lab_value, path, lab_line),
        title=block.title,
        day=day,
        builds=value["Builds"],
        outcomes=outcomes,
        links=_links_of(block, expected),
        lab_linked=bool(links_in(lab_value, lab_line)),
        line=block.line,
        anchor=block.anchor,
        when=value.get("When", ""),
    )


def parse_agenda(text: str, path: str = AGENDA) -> Agenda:
    """Read the agenda's days, hours, lab hours and capstone from ``text``.

    Raises AgendaError for text that does not follow the format (an unknown heading inside a
    day, an unknown, repeated or missing field, an unreadable outcome list or time box). Rules
    about the content (numbering, coverage, links) are :func:`check_agenda`'s job, so that every
    broken rule is reported at once.
    """
    lines = text.splitlines()
    days: list[Day] = []
    capstone: LabHour | None = None
    all_links: list[Link] = []
    day: tuple[int, str, int, str] | None = None  # number, theme, line, anchor
    items: list[Hour | LabHour] = []
    block: _Block | None = None
    in_capstone = False

    def close_block() -> None:
        nonlocal block, capstone
        if block is None:
            return
        finished = _finish(block, day[0] if day else 0, path)
        if block.kind == "capstone":
            if capstone is not None:
                raise AgendaError(path, block.line, "a second '## Capstone sprint' section")
            assert isinstance(finished, LabHour)
            capstone = finished
        else:
            items.append(finished)
        block = None

    def close_day() -> None:
        nonlocal day, items
        close_block()
        if day is not None:
            hours = tuple(item for item in items if isinstance(item, Hour))
            lab_hours = tuple(item for item in items if isinstance(item, LabHour))
            days.append(Day(day[0], day[1], hours, lab_hours, day[2], day[3]))
        day, items = None, []

    for index, line in outside_fences(lines):
        number = index + 1
        all_links += links_in(line, number)
        heading = _HEADING.match(line)
        if heading:
            level, title = len(heading["hashes"]), heading["text"]
            if level <= 2:
                close_day()
                in_capstone = False
                day_match = _DAY.match(title) if level == 2 else None
                if day_match:
                    day = (int(day_match["number"]), day_match["theme"], number, site_anchor(title))
                elif level == 2 and title == _CAPSTONE_HEADING:
                    in_capstone = True
                    block = _Block("capstone", title, 0, number, site_anchor(title), {})
                continue
            if day is None:
                if in_capstone:
                    raise AgendaError(
                        path, number, "the capstone sprint takes fields, not headings"
                    )
                continue
            close_block()
            hour_match = _HOUR.match(title) if level == 3 else None
            lab_match = _LAB_HOUR.match(title) if level == 3 else None
            if hour_match:
                block = _Block(
                    "hour",
                    hour_match["title"],
                    int(hour_match["number"]),
                    number,
                    site_anchor(title),
                    {},
                )
            elif lab_match:
                block = _Block("lab hour", lab_match["title"], 0, number, site_anchor(title), {})
            else:
                raise AgendaError(
                    path,
                    number,
                    f"unexpected heading {title!r} in day {day[0]}: use '### Hour N: title' "
                    "or '### Lab hour: title'",
                )
            continue
        if block is None or block.prose:
            continue  # prose between sections, or after the capstone's fields
        field = _FIELD.match(line)
        if field:
            key = field["key"].strip()
            expected = {
                "hour": HOUR_FIELDS,
                "lab hour": LAB_HOUR_FIELDS,
                "capstone": CAPSTONE_FIELDS,
            }[block.kind]
            if key not in expected:
                raise AgendaError(
                    path,
                    number,
                    f"unknown field {key!r} in {block.kind} {block.title!r} "
                    f"(fields: {', '.join(expected)})",
                )
            if key in block.fields:
                raise AgendaError(path, number, f"field {key!r} appears twice in {block.title!r}")
            block.fields[key] = (field["value"].strip(), number)
            block.last_field = key
        elif _CONTINUATION.match(line) and block.last_field is not None:
            value, first = block.fields[block.last_field]
            block.fields[block.last_field] = (f"{value} {line.strip()}", first)
        elif not line.strip():
            block.last_field = None
            # The capstone section may go on in prose once its field list has ended.
            block.prose = block.kind == "capstone" and bool(block.fields)
        else:
            raise AgendaError(
                path,
                number,
                f"{block.kind} {block.title!r} holds only fields ('- **Focus:** ...'); "
                f"found {line.strip()[:40]!r}",
            )
    close_day()
    return Agenda(path, tuple(days), capstone, tuple(all_links), tuple(headings(text)))


def load_agenda(root: Path) -> Agenda:
    """Parse ``curriculum.md`` of the course at ``root`` (AgendaError when it cannot be read)."""
    path = root / AGENDA
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AgendaError(AGENDA, 0, f"cannot read the agenda: {error.strerror}") from None
    return parse_agenda(text, AGENDA)


# ---------------------------------------------------------------------------------------------
# Checking


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


def _day_page(day: int) -> str:
    return f"docs/days/day{day:02d}.md"


def _handout(lab: str) -> str:
    return f"labs/{lab}/README.md"


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
        handout = root / _handout(lab_hour.lab)
        if handout.is_file() and not lab_hour.lab_linked:
            problem(
                lab_hour.line,
                f"{lab_hour.lab} has a handout now: link it, '[{lab_hour.lab}]"
                f"({_handout(lab_hour.lab)})'",
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
        page = _day_page(item.day)
        if not any(link.target.partition("#")[0] == page for link in item.links):
            name = f"hour {item.number}" if isinstance(item, Hour) else f"{item.lab}'s lab hour"
            problem(item.line, f"{name} must link to its day page, {page}")


def _check_headings(agenda: Agenda, problem: Callable[[int, str], None]) -> None:
    seen: dict[str, int] = {}
    for heading in agenda.headings:
        explicit = _ATTR_ID.search(heading.text)
        anchor = explicit["id"] if explicit else site_anchor(heading.text)
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


# ---------------------------------------------------------------------------------------------
# Day pages and included code

# What a day page must hold, as (description, pattern) pairs, in the order they must appear.
DAY_PAGE_BLOCKS: tuple[tuple[str, str], ...] = (
    ("an Objectives block", r'^!!! abstract "Objectives"'),
    ("a Questions block", r'^!!! question "Questions"'),
    ("the generated time-box table", r"^<!-- BEGIN GENERATED: day-schedule \d+ -->"),
    ("a 'Where we left off' section", r"^## Where we left off"),
    ("a challenge", r'^!!! example "Challenge'),
    ("a folded hint", r'^\s+\?\?\? tip "Hint'),
    ("a folded solution", r'^\s+\?\?\? success "Solution'),
    ("a Key points block", r'^!!! abstract "Key points"'),
    ("folded instructor notes", r'^\?\?\? note "Instructor notes"'),
)

# Lab marker lines (see docs/authors/lab-markers.md); never shown on a page.
_MARKER_LINE = re.compile(
    r"^\s*(?:#|//|/\*|\{#|<!--)\s*(?:BEGIN|STUB|END|FILE)\s+(?i:lab\d+|capstone)\b"
)
_SOLUTION_FOLD = re.compile(r'^\s*\?\?\? success "Solution')
_SNIPPET = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<spec>[^"]+)"\s*$')
SOLUTIONS = "solutions"
_RANGES = re.compile(r"^(?P<path>.+?)(?P<ranges>(?::\d*){1,2}(?:,\d*(?::\d*)?)*)?$")


def day_page_problems(
    agenda: Agenda, day: Day, root: Path, sources: SnippetSources | None = None
) -> list[Problem]:
    """What day ``day``'s page lacks: its file, its blocks in order, a heading per agenda item.

    The page needs a heading with the same anchor as each of the day's hours and its lab hour,
    in the agenda's order, so the agenda's links and the generated time box both land. Its
    includes are checked by :func:`snippet_problems`; answers may come only from the labs the
    agenda places on that day or before.
    """
    page = _day_page(day.number)
    path = root / page
    if not path.is_file():
        return [Problem(agenda.path, day.line, f"day {day.number} has no page: write {page}")]
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    problems: list[Problem] = []
    position = 0
    for description, pattern in DAY_PAGE_BLOCKS:
        expression = re.compile(pattern)
        found = next(
            (index for index in range(position, len(lines)) if expression.match(lines[index])),
            None,
        )
        if found is None:
            problems.append(Problem(page, position + 1, f"missing {description} (or out of order)"))
        else:
            position = found + 1
    marker = f"<!-- BEGIN GENERATED: day-schedule {day.number} -->"
    if marker not in lines:
        problems.append(Problem(page, 1, f"the time-box table must be the block '{marker}'"))
    anchors = [heading.anchor for heading in headings(text) if heading.level == 2]
    wanted = [item.anchor for item in day.items]
    for item in day.items:
        if item.anchor not in anchors:
            problems.append(
                Problem(page, 1, f"no section '## {_heading_of(item)}' for the agenda's item")
            )
    present = [anchor for anchor in anchors if anchor in wanted]
    if present != [anchor for anchor in wanted if anchor in anchors]:
        problems.append(Problem(page, 1, "the hour sections are not in the agenda's order"))
    page_links = [
        link for index, line in outside_fences(lines) for link in links_in(line, index + 1)
    ]
    for line, message in link_problems(page_links, page, root):
        problems.append(Problem(page, line, message))
    problems += snippet_problems(
        page, text, root, labs_taught=labs_taught(agenda, day.number), sources=sources
    )
    return problems


def labs_taught(agenda: Agenda, day: int) -> tuple[str, ...]:
    """The labs the agenda places on day ``day`` or before: the answers that day may show."""
    return tuple(
        lab_hour.lab for lab_hour in agenda.lab_hours if lab_hour.day <= day and lab_hour.lab
    )


def _heading_of(item: Hour | LabHour) -> str:
    if isinstance(item, Hour):
        return f"Hour {item.number}: {item.title}"
    return f"Lab hour: {item.title}"


def check_day_pages(agenda: Agenda, root: Path) -> list[Problem]:
    """:func:`day_page_problems` for every day of the agenda."""
    problems: list[Problem] = []
    sources = SnippetSources(root)  # each lab's solution generated once for all pages
    for day in agenda.days:
        problems += day_page_problems(agenda, day, root, sources)
    return problems


class SnippetSources:
    """Where the site finds an include's file, read the way the site reads it.

    ``labNN/<path>`` is ``<path>`` in lab NN's generated solution (the site's hook writes those
    trees and puts them first on pymdownx.snippets' ``base_path``); any other path is relative to
    the repository root. The trees are generated in memory, once per lab.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._labs: tuple[str, ...] | None = None
        self._trees: dict[str, dict[str, bytes]] = {}

    @property
    def labs(self) -> tuple[str, ...]:
        """The labs of ``solutions/labs.toml`` in teaching order; none without the file."""
        if self._labs is None:
            from grader.course.labgen import ConfigError, load_config

            source = self.root / SOLUTIONS
            try:
                config = load_config(source)
            except ConfigError:
                self._labs = ()
            else:
                self._labs = config.labs
        return self._labs

    def lab_of(self, path: str) -> str | None:
        """The lab whose generated solution ``path`` names (``lab01/api/urls.py``), or None."""
        first = path.split("/", 1)[0]
        return first if first in self.labs else None

    def solution(self, lab: str) -> dict[str, bytes]:
        """Lab ``lab``'s generated solution tree: relative path -> bytes. Raises MarkerError."""
        if lab not in self._trees:
            from grader.course.labgen import load_config
            from grader.course.labgen.generate import build_tree

            source = self.root / SOLUTIONS
            tree = build_tree(source, load_config(source), lab, "solution")
            self._trees[lab] = {relative: output.data for relative, output in tree.items()}
        return self._trees[lab]

    def read(self, path: str) -> str | None:
        """The text the site includes for ``path``, or None when there is no such file."""
        lab = self.lab_of(path)
        if lab is not None:
            data = self.solution(lab).get(path.split("/", 1)[1])
            return None if data is None else data.decode("utf-8", errors="replace")
        file = self.root / path
        return file.read_text(encoding="utf-8") if file.is_file() else None


def _ranges(spec: str) -> list[tuple[int, int | None]]:
    """``:2:``, ``:3:9,12:14`` as 1-based inclusive ``(start, end)``; end None means to the end."""
    spans: list[tuple[int, int | None]] = []
    for part in spec.lstrip(":").split(","):
        start, _, end = part.partition(":")
        spans.append((int(start) if start else 1, int(end) if end else None))
    return spans


def _is_boundary(source: Sequence[str], number: int) -> bool:
    """True when line ``number`` (1-based) of ``source`` is outside it, blank or a lab marker."""
    if number < 1 or number > len(source):
        return True
    neighbour = source[number - 1]
    return not neighbour.strip() or bool(_MARKER_LINE.match(neighbour))


def _in_solution_fold(lines: Sequence[str], index: int) -> bool:
    """Whether line ``index`` sits inside a ``??? success "Solution…"`` block (by indentation)."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    for above in range(index - 1, -1, -1):
        text = lines[above]
        if not text.strip():
            continue
        depth = len(text) - len(text.lstrip())
        if depth < indent:
            if _SOLUTION_FOLD.match(text):
                return True
            indent = depth
            if depth == 0:
                return False
    return False


def _lab_include_problem(
    path: str,
    lab: str,
    lines: Sequence[str],
    index: int,
    labs_taught: Collection[str] | None,
) -> str | None:
    """Why an include of lab ``lab``'s solution may not sit where it is, or None."""
    if not _in_solution_fold(lines, index):
        return (
            f"snippet {path!r} shows {lab}'s solution outside a folded "
            "'??? success \"Solution\"' block"
        )
    if labs_taught is not None and lab not in labs_taught:
        taught = ", ".join(labs_taught) or "none"
        return (
            f"snippet {path!r} shows {lab}'s solution, a lab the agenda places after this day "
            f"(labs placed so far: {taught})"
        )
    return None


def snippet_problems(
    page: str,
    text: str,
    root: Path,
    *,
    labs_taught: Collection[str] | None = None,
    sources: SnippetSources | None = None,
) -> list[Problem]:
    """Check every ``--8<--`` include of a page that takes code from the course's files.

    A lab's answer is included from that lab's generated solution, ``labNN/<path>``
    (:class:`SnippetSources`): everything up to and including lab NN, no markers, no later lab's
    code. Such an include must sit inside a folded ``??? success "Solution"`` block, which the
    learners' edition leaves out, and, when ``labs_taught`` is given (a day page: the labs the
    agenda has placed by that day), name one of those labs. An include from ``solutions/`` is an
    error: it shows every lab's code and the lab markers, and its line numbers move whenever a
    later lab edits the file. Code shown openly comes from files both editions ship, such as the
    generated starters.

    Every include must name a file that exists, and what it shows must not contain a lab marker
    line (``# BEGIN LAB01`` and the like). A line range must also start on a non-blank line right
    after the start of the file, a blank line or a marker line, and end right before the end of
    the file, a blank line or a marker line. Ranges are chosen at such boundaries, so when an edit
    to the file shifts its lines, the include fails here instead of quietly showing other code.
    """
    from grader.course.labgen import MarkerError

    sources = sources if sources is not None and sources.root == root else SnippetSources(root)
    problems: list[Problem] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = _SNIPPET.match(line)
        if not match:
            continue
        parts = _RANGES.match(match["spec"])
        assert parts is not None  # the pattern accepts any text
        path = parts["path"]

        def problem(message: str, number: int = index + 1) -> None:
            problems.append(Problem(page, number, message))

        if PurePosixPath(path).parts[:1] == (SOLUTIONS,):
            inside = path.split("/", 1)[1] if "/" in path else "..."
            problem(
                f"snippet {path!r} includes solutions/, which holds every lab's code and the lab "
                f"markers: include the lab's generated solution instead, 'labNN/{inside}'"
            )
            continue
        lab = sources.lab_of(path)
        if lab is not None:
            where = _lab_include_problem(path, lab, lines, index, labs_taught)
            if where is not None:
                problem(where)
        try:
            content = sources.read(path)
        except MarkerError as error:
            problem(f"snippet {path!r}: {lab}'s solution cannot be generated: {error}")
            continue
        if content is None:
            shown_in = f" in {lab}'s generated solution" if lab else ""
            problem(f"snippet {path!r} does not exist{shown_in}")
            continue
        source = content.splitlines()
        spans = _ranges(parts["ranges"]) if parts["ranges"] else [(1, len(source))]
        for start, end in spans:
            last = len(source) if end is None else end
            shown = source[start - 1 : last]

            where = f"{path}:{start}:{'' if end is None else end}"
            if any(_MARKER_LINE.match(shown_line) for shown_line in shown):
                problem(f"snippet {where} shows a lab marker")
            elif not shown or not shown[0].strip():
                problem(f"snippet {where} starts on a blank line")
            elif parts["ranges"] and not (
                _is_boundary(source, start - 1) and _is_boundary(source, last + 1)
            ):
                problem(
                    f"snippet {where} no longer starts and ends at a block boundary: "
                    "the file changed, fix the line numbers"
                )
    return problems


# ---------------------------------------------------------------------------------------------
# Rendering the generated tables

LinkMaker = Callable[[str], str]
OutcomeLabel = Callable[[int], str]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", r"\|")


def _lab_cell(lab: str, root: Path, link: LinkMaker) -> str:
    handout = _handout(lab)
    return f"[{lab}]({link(handout)})" if (root / handout).is_file() else f"`{lab}`"


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
            f"| [Day {day.number}]({link(_day_page(day.number))}) | {_cell(day.theme)} | {hours} "
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
    page = _day_page(day.number)
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


# ---------------------------------------------------------------------------------------------
# Command line


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


if __name__ == "__main__":
    sys.exit(main())
