"""Reading the agenda, ``curriculum.md``, into data: days, taught hours, lab hours, capstone.

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

The contract: :func:`parse_agenda` (and :func:`load_agenda`, which reads the file) returns an
:class:`Agenda` or raises :class:`AgendaError` for text that does not follow this shape. It judges
no content: numbering, coverage and links are :mod:`~grader.course.curriculum.check`'s rules.
:func:`day_page` and :func:`handout` name the files an agenda item belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course.curriculum.markdown import (
    Heading,
    Link,
    atx_heading,
    headings,
    links_in,
    outside_fences,
    site_anchor,
    unlinked,
)
from grader.errors import LocatedError
from grader.rubric import OUTCOMES

AGENDA = "curriculum.md"
DAYS = 10
HOURS_PER_DAY = 4
HOURS = DAYS * HOURS_PER_DAY
MINUTES_PER_HOUR = 60
LABS: tuple[str, ...] = tuple(f"lab{number:02d}" for number in range(1, DAYS + 1))
CAPSTONE = "capstone"

HOUR_FIELDS = ("Focus", "Activity", "Checkpoint", "Outcomes", "Time box", "Pages")
LAB_HOUR_FIELDS = ("Lab", "Builds", "Outcomes", "Pages")
CAPSTONE_FIELDS = ("Lab", "When", "Builds", "Outcomes", "Pages")
_FIELDS = {"hour": HOUR_FIELDS, "lab hour": LAB_HOUR_FIELDS, "capstone": CAPSTONE_FIELDS}

_DAY = re.compile(r"^Day (?P<number>\d+): (?P<theme>\S.*)$")
_HOUR = re.compile(r"^Hour (?P<number>\d+): (?P<title>\S.*)$")
_LAB_HOUR = re.compile(r"^Lab hour: (?P<title>\S.*)$")
_CAPSTONE_HEADING = "Capstone sprint"
_FIELD = re.compile(r"^- \*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^\s{2,}\S")
_LAB_ID = re.compile(r"\b(lab\d\d|capstone)\b")
_OUTCOME_LIST = re.compile(r"^\d+(?:\s*,\s*\d+)*$")
_TIME_BOX = re.compile(
    r"^(?P<talk>\d+) min talk · (?P<activity>\d+) min activity · (?P<review>\d+) min review$"
)


class AgendaError(LocatedError, ValueError):
    """The agenda cannot be read: ``str(error)`` is ``<file>:<line>: <what is wrong>``."""

    path: str


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


def day_page(day: int) -> str:
    """The repository path of day ``day``'s page: ``docs/days/day01.md``."""
    return f"docs/days/day{day:02d}.md"


def handout(lab: str) -> str:
    """The repository path of lab ``lab``'s handout: ``labs/lab01/README.md``."""
    return f"labs/{lab}/README.md"


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
    visible = unlinked(value).replace("`", "")
    ids = sorted(set(_LAB_ID.findall(visible)))
    if len(ids) != 1:
        raise AgendaError(
            path, line, f"Lab must name exactly one lab (lab01..lab10 or capstone), not {value!r}"
        )
    return str(ids[0])


def _finish(block: _Block, day: int, path: str) -> Hour | LabHour:
    expected = _FIELDS[block.kind]
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
        heading = atx_heading(line)
        if heading:
            level, title = heading
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
            expected = _FIELDS[block.kind]
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
