"""``grader.course.curriculum``: the agenda in curriculum.md, its rules, the day pages and the
schedule.

The repository's own agenda must pass every rule; small agendas built in a temporary folder show
that each rule can fail, with a message that says where and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.course import curriculum
from grader.course.curriculum import (
    AgendaError,
    check_agenda,
    check_day_pages,
    github_anchor,
    lab_outcomes,
    load_agenda,
    parse_agenda,
    render_day_schedule,
    render_outcome_coverage,
    render_schedule,
    site_anchor,
    snippet_problems,
)
from grader.course.docs_sync import GeneratedBlockError, render_text
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# The repository's agenda


@pytest.fixture(scope="module")
def agenda() -> curriculum.Agenda:
    return load_agenda(ROOT)


def test_the_agenda_follows_every_rule(agenda: curriculum.Agenda) -> None:
    problems = check_agenda(agenda, ROOT)
    assert not problems, "\n".join(map(str, problems))


def test_the_day_pages_follow_the_agenda_and_the_page_style(agenda: curriculum.Agenda) -> None:
    problems = check_day_pages(agenda, ROOT)
    assert not problems, "\n".join(map(str, problems))


def test_hours_run_from_1_to_40_without_gaps_or_repeats(agenda: curriculum.Agenda) -> None:
    assert [hour.number for hour in agenda.hours] == list(range(1, 41))
    for hour in agenda.hours:
        assert hour.day == (hour.number - 1) // 4 + 1
        assert hour.time_box.total == 60, hour.number


def test_every_lab_is_placed_exactly_once_and_the_capstone_apart(
    agenda: curriculum.Agenda,
) -> None:
    placed = [lab_hour.lab for lab_hour in agenda.lab_hours]
    assert placed == [f"lab{n:02d}" for n in range(1, 11)]
    assert [lab_hour.day for lab_hour in agenda.lab_hours] == list(range(1, 11))
    assert agenda.capstone is not None
    assert agenda.capstone.lab == "capstone"


def test_every_outcome_is_served_by_three_hours_and_a_lab(agenda: curriculum.Agenda) -> None:
    served_by_lab = lab_outcomes(agenda, ROOT)
    for outcome in range(1, 7):
        hours = [hour.number for hour in agenda.hours if outcome in hour.outcomes]
        labs = [lab for lab, outcomes in served_by_lab.items() if outcome in outcomes]
        assert len(hours) >= 3, (outcome, hours)
        assert labs, outcome


def test_lab_outcomes_come_from_the_rubric_where_there_is_one(agenda: curriculum.Agenda) -> None:
    served_by_lab = lab_outcomes(agenda, ROOT)
    with_rubric = sorted(ROOT.glob("labs/lab*/rubric.toml"))
    assert with_rubric, "lab01 has a rubric"
    for path in with_rubric:
        lab = path.parent.name
        expected = tuple(sorted({c.outcome for c in load_rubric(path).criteria}))
        assert served_by_lab[lab] == expected, lab


def test_every_hour_links_to_its_day_page_section(agenda: curriculum.Agenda) -> None:
    for item in agenda.items:
        targets = [link.target for link in item.links]
        page = f"docs/days/day{item.day:02d}.md#{item.anchor}"
        assert page in targets, (item.anchor, targets)


def test_the_schedule_tables_are_generated_not_typed() -> None:
    """The overview, the coverage table and each day's time box come from generated blocks."""
    text = (ROOT / "curriculum.md").read_text(encoding="utf-8")
    assert "<!-- BEGIN GENERATED: schedule -->" in text
    assert "<!-- BEGIN GENERATED: outcome-coverage -->" in text
    for day in range(1, 11):
        page = (ROOT / f"docs/days/day{day:02d}.md").read_text(encoding="utf-8")
        assert f"<!-- BEGIN GENERATED: day-schedule {day} -->" in page


def test_the_rendered_schedule_has_a_row_per_day_and_the_capstone(
    agenda: curriculum.Agenda,
) -> None:
    rows = render_schedule(agenda, ROOT, lambda target: target)
    body = rows[2:]
    assert len(body) == 11
    assert body[0].startswith("| [Day 1](docs/days/day01.md) |")
    assert "[lab01](labs/lab01/README.md)" in body[0]  # lab01 has a handout: linked
    assert body[-1].startswith("| [Capstone](curriculum.md#capstone-sprint) |")


def test_a_day_schedule_adds_up_to_five_hours(agenda: curriculum.Agenda) -> None:
    rows = render_day_schedule(agenda, 3, lambda target: target)
    total = rows[-1]
    minutes = [int(n) for n in re.findall(r"\*\*(\d+) min\*\*", total)]
    assert sum(minutes) == 5 * 60
    assert rows[2].startswith("| [Hour 9](docs/days/day03.md#hour-9-")


def test_outcome_coverage_lists_every_outcome(agenda: curriculum.Agenda) -> None:
    rows = render_outcome_coverage(agenda, ROOT, lambda target: target, str)
    assert [row.split("|")[1].strip() for row in rows[2:]] == ["1", "2", "3", "4", "5", "6"]


# ---------------------------------------------------------------------------------------------
# Small agendas that break one rule each

Edit = Callable[[str], str]


def _hour(number: int, outcomes: str) -> str:
    day = (number - 1) // 4 + 1
    return (
        f"### Hour {number}: Topic {number}\n\n"
        f"- **Focus:** What hour {number} explains.\n"
        f"- **Activity:** What learners do,\n"
        f"  over two lines.\n"
        f"- **Checkpoint:** A question for hour {number}?\n"
        f"- **Outcomes:** {outcomes}\n"
        f"- **Time box:** 20 min talk · 30 min activity · 10 min review\n"
        f"- **Pages:** [Day {day}](docs/days/day{day:02d}.md#hour-{number}-topic-{number})\n\n"
    )


def _lab_hour(day: int) -> str:
    lab = f"lab{day:02d}"
    return (
        f"### Lab hour: Practice {day}\n\n"
        f"- **Lab:** `{lab}`\n"
        f"- **Builds:** What the API gains on day {day}.\n"
        f"- **Outcomes:** {(day - 1) % 6 + 1}\n"
        f"- **Pages:** [Day {day}](docs/days/day{day:02d}.md#lab-hour-practice-{day})\n\n"
    )


def _valid_agenda() -> str:
    """Ten days, 40 hours cycling through the outcomes, lab NN on day NN, a capstone."""
    parts = ["# Curriculum\n\nIntroduction, with a [link](#day-1-theme-1).\n\n"]
    for day in range(1, 11):
        parts.append(f"## Day {day}: Theme {day}\n\n")
        for number in range(4 * day - 3, 4 * day + 1):
            parts.append(_hour(number, str((number - 1) % 6 + 1)))
        parts.append(_lab_hour(day))
    parts.append(
        "## Capstone sprint\n\n"
        "- **Lab:** `capstone`\n"
        "- **When:** After day 10\n"
        "- **Builds:** The finished service.\n"
        "- **Outcomes:** 1, 2, 3, 4, 5, 6\n"
        "- **Pages:** [Day 10](docs/days/day10.md)\n\n"
        "Prose after the capstone's fields is allowed.\n"
    )
    return "".join(parts)


def _day_page(day: int) -> str:
    hours = "".join(f"## Hour {n}: Topic {n}\n\n" for n in range(4 * day - 3, 4 * day + 1))
    return f"# Day {day}\n\n{hours}## Lab hour: Practice {day}\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course root with day pages whose headings match the valid agenda."""
    for day in range(1, 11):
        _write(tmp_path / f"docs/days/day{day:02d}.md", _day_page(day))
    return tmp_path


def _problems(root: Path, edit: Edit = lambda text: text) -> list[str]:
    text = edit(_valid_agenda())
    _write(root / "curriculum.md", text)
    return [str(problem) for problem in check_agenda(load_agenda(root), root)]


def test_the_small_valid_agenda_passes(course: Path) -> None:
    assert _problems(course) == []


def _drop_hour(number: int) -> Edit:
    def edit(text: str) -> str:
        start = text.index(f"### Hour {number}:")
        end = text.index("###", start + 3)
        return text[:start] + text[end:]

    return edit


def test_a_missing_hour_is_a_gap(course: Path) -> None:
    problems = _problems(course, _drop_hour(7))
    assert any("hours missing from the agenda: 7" in p for p in problems), problems
    assert any("day 2 has 3 taught hours" in p for p in problems), problems


def test_a_repeated_hour_is_reported_with_its_first_line(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace("### Hour 7: Topic 7", "### Hour 6: Topic 7", 1)

    problems = _problems(course, edit)
    assert any("hour 6 appears twice (first on line" in p for p in problems), problems
    assert any("hours missing from the agenda: 7" in p for p in problems), problems


def test_an_hour_on_the_wrong_day(course: Path) -> None:
    def edit(text: str) -> str:
        # day 2's heading moves up one hour: hour 4 (and lab01's hour) now sit in day 2
        text = text.replace("## Day 2: Theme 2\n\n", "")
        return text.replace("### Hour 4:", "## Day 2: Theme 2\n\n### Hour 4:")

    problems = _problems(course, edit)
    assert any("hour 4 belongs to day 1, not day 2" in p for p in problems), problems
    assert any("day 1 has 0 lab hours, not 1" in p for p in problems), problems


def test_an_outcome_served_by_too_few_hours(course: Path) -> None:
    def edit(text: str) -> str:
        # hours 6, 12, 18, 24, 30, 36 serve outcome 6; keep it on two of them only
        for number in (18, 24, 30, 36):
            text = text.replace(_hour(number, "6"), _hour(number, "5"))
        return text

    problems = _problems(course, edit)
    assert any("outcome 6 is served by 2 hours" in p for p in problems), problems


def test_an_outcome_served_by_no_lab(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace(
            _lab_hour(6), _lab_hour(6).replace("- **Outcomes:** 6", "- **Outcomes:** 5")
        )

    problems = _problems(course, edit)
    assert problems == ["curriculum.md:1: outcome 6 is served by no lab (lab01..lab10)"]


def test_a_lab_placed_twice_and_another_never(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace("- **Lab:** `lab03`", "- **Lab:** `lab02`")

    problems = _problems(course, edit)
    assert any("lab02 is placed twice (first on line" in p for p in problems), problems
    assert any("labs not placed in any lab hour: lab03" in p for p in problems), problems


def test_the_capstone_is_not_a_lab_hour(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace("- **Lab:** `lab10`", "- **Lab:** `capstone`")

    problems = _problems(course, edit)
    assert any("the capstone is not a lab hour" in p for p in problems), problems
    assert any("labs not placed in any lab hour: lab10" in p for p in problems), problems


def test_labs_out_of_teaching_order(course: Path) -> None:
    def edit(text: str) -> str:
        text = text.replace("- **Lab:** `lab03`", "- **Lab:** `labXX`")
        text = text.replace("- **Lab:** `lab04`", "- **Lab:** `lab03`")
        return text.replace("- **Lab:** `labXX`", "- **Lab:** `lab04`")

    problems = _problems(course, edit)
    assert any("labs must be placed in teaching order" in p for p in problems), problems


def test_a_time_box_that_is_not_an_hour(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace(
            _hour(9, "3"), _hour(9, "3").replace("30 min activity", "35 min activity")
        )

    problems = _problems(course, edit)
    assert any("hour 9's time box adds up to 65 minutes" in p for p in problems), problems


def test_a_broken_link_and_a_broken_anchor(course: Path) -> None:
    def edit(text: str) -> str:
        text = text.replace("#hour-3-topic-3)", "#hour-3-no-such-heading)")
        return text + "\nSee [nothing](docs/nowhere.md).\n"

    problems = _problems(course, edit)
    assert any("docs/days/day01.md has no heading #hour-3-no-such-heading" in p for p in problems)
    assert any("docs/nowhere.md does not exist" in p for p in problems), problems


def test_a_link_leaving_the_repository(course: Path) -> None:
    problems = _problems(course, lambda text: text + "\n[up](../outside.md)\n")
    assert any("leaves the repository" in p for p in problems), problems


def test_an_hour_without_a_link_to_its_day_page(course: Path) -> None:
    def edit(text: str) -> str:
        return text.replace(
            "- **Pages:** [Day 1](docs/days/day01.md#hour-2-topic-2)",
            "- **Pages:** [Day 2](docs/days/day02.md#hour-5-topic-5)",
        )

    problems = _problems(course, edit)
    assert any("hour 2 must link to its day page, docs/days/day01.md" in p for p in problems)


def test_a_heading_whose_anchor_differs_on_github(course: Path) -> None:
    def edit(text: str) -> str:
        # the site collapses " / " to one hyphen, GitHub keeps two; the link uses the site's
        return text.replace("### Hour 2: Topic 2", "### Hour 2: Topic / 2")

    problems = _problems(course, edit)
    assert any("#hour-2-topic-2 on the site but #hour-2-topic--2 on GitHub" in p for p in problems)


def test_declared_lab_outcomes_must_match_the_rubric(course: Path) -> None:
    _write(
        course / "labs/lab01/rubric.toml",
        'lab = "lab01"\ntitle = "First"\nversion = "1.0.0"\n\n[[criteria]]\nid = "one"\n'
        'title = "One"\npoints = 10\noutcome = 4\nchecks = ["test_a.py::test_one"]\n'
        'feedback = "Do it."\n',
    )
    problems = _problems(course)
    assert any(
        "lab01 declares outcomes [1] but its rubric's criteria serve [4]" in p for p in problems
    )


def test_a_lab_with_a_handout_must_be_linked(course: Path) -> None:
    _write(course / "labs/lab02/README.md", "# Lab 02\n")
    problems = _problems(course)
    assert problems == [
        f"curriculum.md:{_line_of(course, '### Lab hour: Practice 2')}: lab02 has a handout now: "
        "link it, '[lab02](labs/lab02/README.md)'"
    ]
    linked = _problems(
        course,
        lambda text: text.replace("- **Lab:** `lab02`", "- **Lab:** [lab02](labs/lab02/README.md)"),
    )
    assert linked == []


def _line_of(root: Path, text: str) -> int:
    lines = (root / "curriculum.md").read_text(encoding="utf-8").splitlines()
    return lines.index(text) + 1


# (text to find, its replacement, what the error says); each breaks the format once.
MALFORMED = [
    ("- **Focus:** What hour 3", "- **Fokus:** What hour 3", "unknown field 'Fokus'"),
    ("- **Checkpoint:** A question for hour 5?\n", "", "has no Checkpoint"),
    ("- **Outcomes:** 1\n- **Time box", "- **Outcomes:** 1, 7\n- **Time box", "outcome 7"),
    ("20 min talk · 30 min activity", "20 talk, 30 activity", "Time box must read"),
    ("### Hour 2: Topic 2", "### Session 2: Topic 2", "unexpected heading 'Session 2: Topic 2'"),
    ("- **Lab:** `lab04`", "- **Lab:** somewhere", "Lab must name exactly one lab"),
    ("do,\n  over two lines.", "do,\nstray text", "holds only fields"),
]


@pytest.mark.parametrize(("old", "new", "message"), MALFORMED)
def test_text_that_does_not_follow_the_format_is_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(AgendaError) as raised:
        parse_agenda(_valid_agenda().replace(old, new, 1))
    assert message in str(raised.value)
    assert re.match(r"^curriculum\.md:\d+: ", str(raised.value))


# ---------------------------------------------------------------------------------------------
# Anchors, day pages and included code


ANCHORS = [
    ("Hour 1: A Django project", "hour-1-a-django-project"),
    ("Hour 4: A health check, its tests", "hour-4-a-health-check-its-tests"),
    ("Hour 11: The N+1 problem", "hour-11-the-n1-problem"),
    ("Who reads `.env`, and when", "who-reads-env-and-when"),
]


@pytest.mark.parametrize(("heading", "anchor"), ANCHORS)
def test_anchors_match_the_site_and_github(heading: str, anchor: str) -> None:
    assert site_anchor(heading) == anchor
    assert github_anchor(heading) == anchor


def test_a_day_page_missing_its_blocks_is_reported(course: Path) -> None:
    _write(course / "curriculum.md", _valid_agenda())
    problems = [str(p) for p in check_day_pages(load_agenda(course), course)]
    assert any("docs/days/day01.md:1: missing an Objectives block" in p for p in problems)
    assert any("missing folded instructor notes" in p for p in problems)


def test_a_missing_day_page_is_reported(course: Path) -> None:
    _write(course / "curriculum.md", _valid_agenda())
    (course / "docs/days/day04.md").unlink()
    problems = [str(p) for p in check_day_pages(load_agenda(course), course)]
    assert any("day 4 has no page: write docs/days/day04.md" in p for p in problems)


@pytest.fixture
def code_files(tmp_path: Path) -> Path:
    """A reference project with lab01's answer and lab02's code in one file, and lab01's starter.

    lab01's generated solution of ``api/thing.py`` is::

        1  \"\"\"A thing.\"\"\"
        2
        3  VALUE = 1
        4  ANSWER = 42
        5
        6  def helper():
        7      return VALUE
    """
    _write(tmp_path / "solutions/labs.toml", 'labs = ["lab01", "lab02"]\n')
    _write(
        tmp_path / "solutions/api/thing.py",
        "# FILE LAB01 SOLUTION\n"
        '"""A thing."""\n'
        "\n"
        "VALUE = 1\n"
        "# BEGIN LAB01\n"
        "ANSWER = 42\n"
        "# STUB LAB01\n"
        "# ANSWER = None\n"
        "# END LAB01\n"
        "# BEGIN LAB02\n"
        'LATER = "lab02 only"\n'
        "# END LAB02\n"
        "\n"
        "def helper():\n"
        "    return VALUE\n",
    )
    _write(tmp_path / "labs/lab01/starter/api/thing.py", '"""A thing."""\n\nVALUE = 1\n')
    _write(tmp_path / "templates/marked.py", "x = 1\n# BEGIN LAB01\ny = 2\n# END LAB01\n")
    return tmp_path


def _page(include: str, folded: bool) -> str:
    block = f'```python\n--8<-- "{include}"\n```\n'
    if not folded:
        return f"# Page\n\n{block}"
    indented = "".join(f"        {line}\n" for line in block.splitlines())
    return f'# Page\n\n!!! example "Challenge"\n\n    ??? success "Solution"\n\n{indented}'


@pytest.mark.parametrize(
    ("include", "folded", "expected"),
    [
        ("labs/lab01/starter/api/thing.py", False, None),
        ("lab01/api/thing.py", True, None),  # lab01's generated solution, whole
        ("lab01/api/thing.py:1:4", True, None),
        ("lab01/api/thing.py:1:1,6:7", True, None),
        ("lab02/api/thing.py", True, None),  # lab02 is taught by then (labs_taught below)
        ("lab01/api/thing.py", False, "lab01's solution outside a folded"),
        ("solutions/api/thing.py:2:4", True, "include the lab's generated solution instead"),
        ("solutions/api/thing.py", False, "'labNN/api/thing.py'"),
        ("lab01/api/thing.py:2:4", True, "starts on a blank line"),
        ("lab01/api/thing.py:3:3", True, "no longer starts and ends at a block boundary"),
        ("lab01/api/thing.py:1:6", True, "no longer starts and ends at a block boundary"),
        ("lab01/api/nothing.py", True, "does not exist in lab01's generated solution"),
        ("templates/nothing.py", False, "'templates/nothing.py' does not exist"),
        ("templates/marked.py", False, "shows a lab marker"),
    ],
)
def test_included_code(code_files: Path, include: str, folded: bool, expected: str | None) -> None:
    page = _page(include, folded)
    problems = [
        str(p)
        for p in snippet_problems("page.md", page, code_files, labs_taught=("lab01", "lab02"))
    ]
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert expected in problems[0]


def test_a_page_shows_no_answer_of_a_lab_its_day_has_not_reached(code_files: Path) -> None:
    problems = [
        str(p)
        for p in snippet_problems(
            "page.md", _page("lab02/api/thing.py", True), code_files, labs_taught=("lab01",)
        )
    ]
    assert problems == [
        "page.md:8: snippet 'lab02/api/thing.py' shows lab02's solution, a lab the agenda places "
        "after this day (labs placed so far: lab01)"
    ]


def test_included_solutions_show_no_later_lab_and_no_marker(code_files: Path) -> None:
    sources = curriculum.SnippetSources(code_files)
    lab01 = sources.read("lab01/api/thing.py")
    assert lab01 is not None
    assert "ANSWER = 42" in lab01
    assert "LATER" not in lab01
    assert "LAB0" not in lab01
    assert 'LATER = "lab02 only"' in (sources.read("lab02/api/thing.py") or "")
    assert sources.read("lab03/api/thing.py") is None  # not a lab: a (missing) repository path


def test_an_include_of_a_lab_whose_markers_are_broken(code_files: Path) -> None:
    thing = code_files / "solutions/api/thing.py"
    thing.write_text(thing.read_text().replace("# END LAB02\n", ""))
    problems = [
        str(p) for p in snippet_problems("page.md", _page("lab01/api/thing.py", True), code_files)
    ]
    assert len(problems) == 1, problems
    assert "lab01's solution cannot be generated" in problems[0]
    assert "solutions/api/thing.py" in problems[0]


def test_day_pages_may_show_only_the_labs_placed_by_their_day(course: Path) -> None:
    _write(course / "curriculum.md", _valid_agenda())
    agenda = load_agenda(course)
    assert curriculum.labs_taught(agenda, 1) == ("lab01",)
    assert curriculum.labs_taught(agenda, 3) == ("lab01", "lab02", "lab03")


# ---------------------------------------------------------------------------------------------
# Generated blocks and the command line


def test_docs_sync_renders_the_schedule_blocks(course: Path) -> None:
    _write(course / "curriculum.md", _valid_agenda())
    page = course / "docs/days/day02.md"
    text = "<!-- BEGIN GENERATED: day-schedule 2 -->\n<!-- END GENERATED: day-schedule 2 -->\n"
    rendered = render_text(text, page, course)
    assert "| [Hour 5](#hour-5-topic-5) | Topic 5 |" in rendered
    assert "| [Lab hour](#lab-hour-practice-2) | `lab02`: Practice 2 |" in rendered


def test_docs_sync_refuses_a_day_that_does_not_exist(course: Path) -> None:
    _write(course / "curriculum.md", _valid_agenda())
    text = "<!-- BEGIN GENERATED: day-schedule 11 -->\n<!-- END GENERATED: day-schedule 11 -->\n"
    with pytest.raises(GeneratedBlockError, match="the agenda has no day 11"):
        render_text(text, course / "docs/days/day01.md", course)


def test_command_line_exit_codes(course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert curriculum.main(["--root", str(ROOT)]) == curriculum.OK
    assert "every rule holds" in capsys.readouterr().out

    _write(course / "curriculum.md", _valid_agenda())
    assert curriculum.main(["--root", str(course)]) == curriculum.FAILED  # bare day pages
    assert "missing an Objectives block" in capsys.readouterr().err

    _write(course / "curriculum.md", "## Day 1: X\n\n### Hour 1: Y\n\n- **Nope:** z\n")
    assert curriculum.main(["--root", str(course)]) == curriculum.UNREADABLE
    assert "curriculum.md:5: unknown field 'Nope'" in capsys.readouterr().err
