"""The marker grammar on single files: what each lab sees, stub uncommenting, every error."""

from __future__ import annotations

import pytest

from grader.course.labgen.markers import (
    FileDirective,
    Kind,
    MarkerError,
    is_present,
    parse,
    render,
    uncomment,
)

LABS = ("lab01", "lab02", "lab03", "capstone")

THREE_REGIONS = """\
top = 0
# BEGIN LAB01
one = "solution 1"
# STUB LAB01
# one = "stub 1"
# END LAB01
# BEGIN LAB02
two = "solution 2"
# STUB LAB02
# two = "stub 2"
# END LAB02
# BEGIN LAB03
three = "solution 3"
# STUB LAB03
# three = "stub 3"
# END LAB03
bottom = 0
"""


def run(text: str, lab: str, kind: Kind = "starter") -> str | None:
    return render(parse(text, "f.py"), lab, kind, LABS)


@pytest.mark.parametrize(
    ("lab", "kind", "expected"),
    [
        # Earlier labs: solution lines; this lab: stub (starter) or solution; later: removed.
        ("lab01", "starter", ['one = "stub 1"']),
        ("lab01", "solution", ['one = "solution 1"']),
        ("lab02", "starter", ['one = "solution 1"', 'two = "stub 2"']),
        ("lab02", "solution", ['one = "solution 1"', 'two = "solution 2"']),
        ("lab03", "starter", ['one = "solution 1"', 'two = "solution 2"', 'three = "stub 3"']),
        (
            "lab03",
            "solution",
            ['one = "solution 1"', 'two = "solution 2"', 'three = "solution 3"'],
        ),
        (
            "capstone",
            "starter",
            ['one = "solution 1"', 'two = "solution 2"', 'three = "solution 3"'],
        ),
    ],
)
def test_regions_kept_stubbed_or_removed(lab: str, kind: Kind, expected: list[str]) -> None:
    assert run(THREE_REGIONS, lab, kind) == "\n".join(["top = 0", *expected, "bottom = 0"]) + "\n"


def test_region_without_stub_is_empty_in_its_own_starter() -> None:
    text = "a\n# BEGIN LAB02\nb\n# END LAB02\nc\n"
    assert run(text, "lab02") == "a\nc\n"
    assert run(text, "lab02", "solution") == "a\nb\nc\n"
    assert run(text, "lab03") == "a\nb\nc\n"


def test_text_without_markers_is_unchanged() -> None:
    text = "# a comment\nx = 1  # BEGIN LAB01\n# END of the loop\n"
    assert run(text, "lab01") == text


def test_lab_names_are_case_insensitive_but_keywords_are_not() -> None:
    text = "# BEGIN lab02\nsecret\n# END Lab02\n# begin LAB02\n"
    # The lower-case "begin" line is an ordinary comment and stays.
    assert run(text, "lab01") == "# begin LAB02\n"
    assert run(text, "lab02", "solution") == "secret\n# begin LAB02\n"


@pytest.mark.parametrize(
    ("begin", "end"),
    [
        ("# BEGIN LAB01", "# END LAB01"),
        ("{# BEGIN LAB01 #}", "{# END LAB01 #}"),
        ("<!-- BEGIN LAB01 -->", "<!-- END LAB01 -->"),
        ("// BEGIN LAB01", "// END LAB01"),
        ("/* BEGIN LAB01 */", "/* END LAB01 */"),
        ("    #BEGIN LAB01", "\t# END LAB01   "),
    ],
)
def test_every_comment_syntax_is_a_marker(begin: str, end: str) -> None:
    text = f"keep\n{begin}\nlab one\n{end}\n"
    assert run(text, "lab01") == "keep\n"
    assert run(text, "lab02") == "keep\nlab one\n"


@pytest.mark.parametrize(
    ("stub_line", "expected"),
    [
        ("# x = 1", "x = 1"),
        ("#x = 1", "x = 1"),
        ("# # TODO(lab01): do it", "# TODO(lab01): do it"),
        ("#", ""),
        ("        #", ""),
        ("    # return x", "    return x"),
        ("\t# return x", "\treturn x"),
        ("{# <p>{{ post.title }}</p> #}", "<p>{{ post.title }}</p>"),
        ("  {# {% block content %} #}", "  {% block content %}"),
        ("<!-- ## Step 4 -->", "## Step 4"),
        ("  <!-- <li>todo</li> -->", "  <li>todo</li>"),
        ("// const x = 1;", "const x = 1;"),
        ("    // return x;", "    return x;"),
        ("/* color: red; */", "color: red;"),
        ("", ""),
    ],
)
def test_stub_lines_lose_exactly_one_comment_prefix(stub_line: str, expected: str) -> None:
    assert uncomment(stub_line + "\n", "f", 1) == expected + "\n"


def test_stub_in_a_template_region() -> None:
    text = (
        "<ul>\n"
        "{# BEGIN LAB02 #}\n"
        "  {% for post in posts %}<li>{{ post }}</li>{% endfor %}\n"
        "{# STUB LAB02 #}\n"
        "  {# <li>TODO(lab02): list the posts</li> #}\n"
        "{# END LAB02 #}\n"
        "</ul>\n"
    )
    assert run(text, "lab02") == "<ul>\n  <li>TODO(lab02): list the posts</li>\n</ul>\n"


def test_stub_line_that_is_not_a_comment_is_an_error() -> None:
    text = "# BEGIN LAB01\nx\n# STUB LAB01\nraise NotImplementedError\n# END LAB01\n"
    with pytest.raises(MarkerError) as caught:
        parse(text, "f.py")
    assert caught.value.line == 4


def test_line_endings_are_preserved() -> None:
    text = "a\r\n# BEGIN LAB01\r\nb\r\n# STUB LAB01\r\n#     c\r\n# END LAB01\r\nd"
    assert run(text, "lab01") == "a\r\n    c\r\nd"
    assert run(text, "lab02") == "a\r\nb\r\nd"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("x\n# BEGIN LAB01\n# BEGIN LAB02\n# END LAB02\n# END LAB01\n", 3, "nest"),
        ("x\n# BEGIN LAB01\ny\n# BEGIN LAB01\n", 4, "nest"),
        ("x\n# END LAB01\n", 2, "without an open region"),
        ("# STUB LAB01\n", 1, "without an open region"),
        ("a\n# BEGIN LAB01\nb\n# END LAB01\n# END LAB01\n", 5, "without an open region"),
        ("# BEGIN LAB01\nx\n# END LAB02\n", 3, "does not match BEGIN LAB01 on line 1"),
        ("# BEGIN LAB01\nx\n# STUB LAB02\n# END LAB01\n", 3, "does not match"),
        ("# BEGIN LAB01\na\n# STUB LAB01\n# b\n# STUB LAB01\n# END LAB01\n", 5, "second STUB"),
        ("a\n\n# BEGIN LAB02\nb\n", 3, "no END"),
        ("# FILE LAB01\n# FILE LAB02 SOLUTION\n", 2, "second FILE"),
        ("# BEGIN LAB01 please\n# END LAB01\n", 1, "unexpected 'please'"),
    ],
)
def test_marker_errors_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(MarkerError) as caught:
        parse(text, "solutions/blog/views.py")
    error = caught.value
    assert error.line == line
    assert str(error).startswith(f"solutions/blog/views.py:{line}: ")
    assert words in str(error)
    assert "\n" not in str(error)


def test_unknown_lab_is_an_error_in_every_lab() -> None:
    marked = parse("a\n# BEGIN LAB11\nb\n# END LAB11\n", "f.py")
    for lab in LABS:
        with pytest.raises(MarkerError, match=r"^f\.py:2: unknown lab 'lab11'"):
            render(marked, lab, "solution", LABS)


def test_unknown_lab_in_file_directive() -> None:
    marked = parse("# FILE LAB1\n", "f.py")
    with pytest.raises(MarkerError, match=r"^f\.py:1: unknown lab 'lab1'"):
        render(marked, "lab02", "starter", LABS)


@pytest.mark.parametrize(
    ("solution", "lab", "kind", "present"),
    [
        (False, "lab01", "starter", False),
        (False, "lab01", "solution", False),
        (False, "lab02", "starter", True),
        (False, "lab02", "solution", True),
        (False, "capstone", "starter", True),
        (True, "lab01", "solution", False),
        (True, "lab02", "starter", False),
        (True, "lab02", "solution", True),
        (True, "lab03", "starter", True),
    ],
)
def test_file_directive_presence(solution: bool, lab: str, kind: Kind, present: bool) -> None:
    assert is_present(FileDirective("lab02", solution), "f", lab, kind, LABS) is present


def test_file_directive_line_is_dropped_and_regions_still_apply() -> None:
    text = "# FILE LAB02\nx\n# BEGIN LAB02\ny\n# STUB LAB02\n# z\n# END LAB02\n"
    assert run(text, "lab01") is None
    assert run(text, "lab02") == "x\nz\n"
    assert run(text, "lab02", "solution") == "x\ny\n"


def test_file_solution_directive_in_markdown() -> None:
    text = "# Title\n<!-- FILE lab02 solution -->\nbody\n"
    assert parse(text, "f.md").directive == FileDirective("lab02", True, 2)
    assert run(text, "lab02") is None
    assert run(text, "lab03") == "# Title\nbody\n"


REPLACED = """\
# BEGIN LAB01 UNTIL LAB03
# old = "solution 1"
# STUB LAB01
# old = "stub 1"
# END LAB01
# BEGIN LAB03
new = "solution 3"
# STUB LAB03
# new = "stub 3"
# END LAB03
"""


@pytest.mark.parametrize(
    ("lab", "kind", "expected"),
    [
        ("lab01", "starter", 'old = "stub 1"\n'),
        ("lab01", "solution", 'old = "solution 1"\n'),
        ("lab02", "starter", 'old = "solution 1"\n'),
        ("lab03", "starter", 'new = "stub 3"\n'),
        ("lab03", "solution", 'new = "solution 3"\n'),
        ("capstone", "solution", 'new = "solution 3"\n'),
    ],
)
def test_a_region_until_a_later_lab_is_replaced_there(lab: str, kind: Kind, expected: str) -> None:
    # The reference project is past lab03, so the replaced lines are comments in it.
    assert run(REPLACED, lab, kind) == expected


def test_until_must_name_a_later_lab() -> None:
    text = "# BEGIN LAB02 UNTIL LAB01\n# x = 1\n# END LAB02\n"
    with pytest.raises(MarkerError, match=r"f\.py:1: UNTIL LAB01 must name a lab after LAB02"):
        run(text, "lab03")


def test_until_lines_must_be_comments() -> None:
    with pytest.raises(MarkerError, match=r"f\.py:2: stub line is not a comment"):
        parse("# BEGIN LAB01 UNTIL LAB02\nx = 1\n# END LAB01\n", "f.py")
