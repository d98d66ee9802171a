"""``grader.course.docs_sync``: generated rubric tables in hand-written Markdown, and their drift
check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.docs_sync import GeneratedBlockError, main, sync_all, sync_file

ROOT = Path(__file__).resolve().parents[2]

RUBRIC = '''\
lab = "{lab}"
title = "{title}"
version = "1.0.0"

[[criteria]]
id = "first"
title = "The first thing works"
points = 10
outcome = 1
checks = ["test_a.py::test_one"]
feedback = "Make the first thing work."
see = "README.md#step-1"

[[criteria]]
id = "second"
title = "Pipes | are escaped"
points = 25
outcome = 4
checks = ["test_a.py::test_two", "test_a.py::test_three"]
feedback = """Second:
  spread over lines."""
'''


def begin(label: str) -> str:
    return f"<!-- BEGIN GENERATED: {label} -->\n"


def end(label: str) -> str:
    return f"<!-- END GENERATED: {label} -->\n"


BLOCK = begin("rubric-table lab01") + end("rubric-table lab01")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course root with one lab (lab01, 35 points) and its handout holding an empty table."""
    write(tmp_path / "labs/lab01/rubric.toml", RUBRIC.format(lab="lab01", title="First lab"))
    write(tmp_path / "labs/lab01/README.md", "# Lab 01\n\n## Rubric\n\n" + BLOCK + "\nEnd.\n")
    return tmp_path


def test_fills_a_block_from_the_rubric(course: Path) -> None:
    readme = course / "labs/lab01/README.md"
    assert sync_file(readme, course) is True
    text = readme.read_text()
    assert text.startswith("# Lab 01\n\n## Rubric\n\n" + begin("rubric-table lab01"))
    assert text.endswith(end("rubric-table lab01") + "\nEnd.\n")
    assert "| The first thing works | 10 | 1 · Project foundations |" in text
    assert r"| Pipes \| are escaped | 25 | 4 · Observability |" in text
    assert "Second: spread over lines." in text  # one table row per criterion
    assert "| **Total** | **35** | | |" in text
    assert "See [this step](#step-1)." in text  # the handout links to its own heading


def test_placeholders_in_rubric_text_are_escaped_outside_code_spans(course: Path) -> None:
    """``Bearer <access>`` must reach the page as text: a raw ``<access>`` is an HTML tag that
    the browser drops. Code spans show their text as written, so they keep their ``<``."""
    rubric = course / "labs/lab01/rubric.toml"
    rubric.write_text(
        rubric.read_text().replace(
            'feedback = "Make the first thing work."',
            'feedback = "Send Authorization: Bearer <access> to GET /api/posts/<id>/ '
            'and {\\"to\\": \\"<status>\\"}; R&amp;D stays R&D, `curl -H \'<h>\'` as is."',
        )
    )
    readme = course / "labs/lab01/README.md"
    sync_file(readme, course)
    text = readme.read_text()
    assert "Bearer &lt;access> to GET /api/posts/&lt;id>/" in text
    assert '{"to": "&lt;status>"}' in text
    assert "R&amp;amp;D stays R&D," in text  # a character reference is shown, not decoded
    assert "`curl -H '<h>'`" in text  # untouched inside a code span
    assert "<access>" not in text
    assert "<id>" not in text


def test_second_run_changes_nothing(course: Path) -> None:
    readme = course / "labs/lab01/README.md"
    assert sync_all(course, check=False) == [readme]
    first = readme.read_bytes()
    assert sync_file(readme, course) is False
    assert sync_all(course, check=False) == []
    assert readme.read_bytes() == first


def test_replaces_stale_content(course: Path) -> None:
    readme = course / "labs/lab01/README.md"
    sync_file(readme, course)
    fresh = readme.read_text()
    readme.write_text(fresh.replace("| 10 |", "| 99 |"))
    assert sync_file(readme, course) is True
    assert readme.read_text() == fresh


def test_check_reports_stale_files_and_writes_nothing(
    course: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = course / "labs/lab01/README.md"
    before = readme.read_bytes()
    assert sync_all(course, check=True) == [readme]
    assert main(["--check", "--root", str(course)]) == 1
    out = capsys.readouterr().out
    assert "labs/lab01/README.md" in out
    assert "run `nox -s labs`" in out
    assert readme.read_bytes() == before
    assert main(["--root", str(course)]) == 0
    assert main(["--check", "--root", str(course)]) == 0


def test_command_line_runs_as_a_module(course: Path) -> None:
    command = [sys.executable, "-m", "grader.course.docs_sync", "--check", "--root", str(course)]
    stale = subprocess.run(command, capture_output=True, text=True, check=False)
    assert stale.returncode == 1, stale.stderr
    assert "labs/lab01/README.md" in stale.stdout


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a\n" + begin("rubric-table lab01") + "b\n", 2, "has no matching END"),
        ("a\n\n" + end("rubric-table lab01"), 3, "END GENERATED without a BEGIN"),
        (
            begin("rubric-table lab01") + end("rubric-summary"),
            2,
            "does not match BEGIN GENERATED: rubric-table lab01 on line 1",
        ),
        (begin("rubric-table lab01") * 2, 2, "inside the block opened on line 1"),
        (
            begin("rubric-tabel lab01") + end("rubric-tabel lab01"),
            1,
            "unknown generated block kind 'rubric-tabel'",
        ),
        (BLOCK.replace("lab01", "lab07"), 1, "unknown lab 'lab07' (labs with a rubric: lab01)"),
        (BLOCK.replace(" lab01", ""), 1, "rubric-table needs a lab"),
        (begin("rubric-summary x") + end("rubric-summary x"), 1, "takes no argument"),
    ],
    ids=[
        "no-end",
        "no-begin",
        "mismatch",
        "nested",
        "unknown-kind",
        "unknown-lab",
        "no-lab",
        "arg",
    ],
)
def test_malformed_blocks_name_file_and_line(
    course: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, message: str
) -> None:
    page = write(course / "docs/guide/page.md", text)
    with pytest.raises(GeneratedBlockError) as raised:
        sync_file(page, course)
    assert raised.value.line == line
    assert message in str(raised.value)

    assert main(["--root", str(course)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"docs/guide/page.md:{line}: {raised.value.message}"]
    assert "Traceback" not in captured.err + captured.out
    # Nothing is written while any file is malformed, not even the healthy handout.
    assert "Total" not in (course / "labs/lab01/README.md").read_text()
    assert page.read_text() == text


def test_a_rubric_that_does_not_load_is_a_block_error(course: Path) -> None:
    write(course / "labs/lab01/rubric.toml", 'lab = "lab01"\n[[criteria]]\nid = "x"\n')
    with pytest.raises(GeneratedBlockError, match=r"README\.md:5: .*missing required key"):
        sync_file(course / "labs/lab01/README.md", course)


def test_markers_inside_code_fences_are_text(course: Path) -> None:
    text = "Write this:\n\n```markdown\n" + BLOCK + "```\n\n~~~~\n" + end("x") + "~~~~\n"
    page = write(course / "docs/authors/blocks.md", text)
    assert sync_file(page, course) is False
    assert page.read_text() == text


def test_links_are_relative_to_the_page(course: Path) -> None:
    top = write(course / "assessments.md", "# A\n\n" + BLOCK)
    site_page = write(course / "docs/guide/marking.md", BLOCK)
    sync_all(course, check=False)
    # A top-level page links through the repository, which is also the site's layout.
    assert "See [the handout](labs/lab01/README.md#step-1)." in top.read_text()
    # docs/ is the site's root, so from docs/guide/ the handout is one folder up.
    assert "See [the handout](../labs/lab01/README.md#step-1)." in site_page.read_text()


def test_summary_lists_every_lab_in_teaching_order(course: Path) -> None:
    write(course / "labs/capstone/rubric.toml", RUBRIC.format(lab="capstone", title="Capstone"))
    write(course / "labs/lab02/rubric.toml", RUBRIC.format(lab="lab02", title="Second lab"))
    summary = begin("rubric-summary") + end("rubric-summary")
    page = write(course / "assessments.md", summary)
    assert sync_file(page, course) is True
    rows = [line for line in page.read_text().splitlines() if line.startswith("| ")]
    outcomes = "1 · Project foundations, 4 · Observability"
    assert rows[1:] == [
        f"| [lab01](labs/lab01/README.md) | First lab | 2 | 35 | {outcomes} |",
        f"| lab02 | Second lab | 2 | 35 | {outcomes} |",  # no handout yet: no link
        f"| capstone | Capstone | 2 | 35 | {outcomes} |",
        "| **Total** | | **6** | **105** | |",
    ]


def test_windows_line_endings_are_kept(course: Path) -> None:
    readme = course / "labs/lab01/README.md"
    readme.write_bytes(BLOCK.replace("\n", "\r\n").encode())
    assert sync_file(readme, course) is True
    raw = readme.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")
    assert sync_file(readme, course) is False


def test_the_repository_tables_match_the_rubrics() -> None:
    """The drift test: fails when a rubric changed and its generated tables were not refreshed."""
    stale = sync_all(ROOT, check=True)
    assert stale == [], (
        "generated tables are stale in "
        + ", ".join(p.relative_to(ROOT).as_posix() for p in stale)
        + ": run `nox -s labs`"
    )
