"""Exports of the result document: feedback, LMS CSV, JUnit, Gradescope, GitHub Classroom."""

from __future__ import annotations

import base64
import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import markdown
import pytest
import yaml

from grader.instructors.exports.canvas import assignment_column, canvas_csv
from grader.instructors.exports.classroom import to_exercism_v3, workflow
from grader.instructors.exports.feedback import Override, to_html, to_markdown
from grader.instructors.exports.gradescope import to_gradescope
from grader.instructors.exports.junit import to_junit
from grader.instructors.gradebook.store import GradeView, LearnerInfo
from tests.instructor.conftest import grader_cli, make_result

HOSTILE = "<script>alert('x')</script> | `tick` ``` **bold** [link](http://evil)"


def test_feedback_markdown_and_html_escape_what_checks_observed() -> None:
    result = make_result(["health-ok", "twelve-factor"], detail=HOSTILE)
    md = to_markdown(result, learner="<b>Zoë</b> O'Neil", override=Override(90, "<i>review</i>"))
    rendered = markdown.markdown(md, extensions=["tables", "fenced_code"])
    page = to_html(result, learner="<b>Zoë</b> O'Neil", override=Override(90, "<i>review</i>"))
    for html in (rendered, page):
        assert "<script>" not in html
        assert "<b>Zoë</b>" not in html
        assert "<i>review</i>" not in html
        assert 'href="http://evil"' not in html
        assert "&lt;script&gt;" in html  # shown, as text
    assert "**Score:** 90/100 (set by your instructor; the grader gave 60/100)" in md
    assert md.count("### ") == 2  # the two failing criteria, each with advice
    assert "<code>python manage.py startapp</code>" not in page  # a passed criterion: no advice
    apps = to_html(make_result(["local-apps"]))
    assert "<code>python manage.py startapp</code>" in apps  # rubric code spans kept as code


def test_feedback_links_the_handout_step_and_hides_the_grader_work_folder() -> None:
    """Issue 20: "See the handout: README.md#step-2…" was text, and a detail quoted
    /tmp/grader-lab04-…; the link must work in both formats and no work folder may show."""
    detail = (
        "File /tmp/grader-lab01-k3j_9xq2/submission/api/views.py, line 3; cwd "
        "/var/tmp/grader-lab01-k3j_9xq2/submission; log /tmp/grader-lab01-k3j_9xq2/run.log"
    )
    result = make_result(["health-ok"], detail=detail)
    see = next(c["see"] for c in result["criteria"] if c["id"] == "health-ok")
    anchor = see.partition("#")[2]
    step = anchor.split("-")[1]
    site_url = "https://org.github.io/blogcraft/"
    for site, href in (
        (site_url, f"{site_url}labs/lab01/#{anchor}"),
        (None, f"labs/lab01/README.md#{anchor}"),
    ):
        md = to_markdown(result, site_url=site)
        rendered = markdown.markdown(md, extensions=["tables", "fenced_code"])
        page = to_html(result, site_url=site)
        for html in (rendered, page):
            assert f'<a href="{href}">Step {step} of the lab01 handout</a>' in html
            assert "grader-lab01-" not in html
            assert "api/views.py, line 3; cwd your project folder" in html
            assert "log &lt;grader work folder&gt;/run.log" in html
        assert "See the handout:" not in md


def test_feedback_for_a_submission_that_could_not_be_graded() -> None:
    result = make_result(status="error", message="Syntax error in config/urls.py, line 3")
    md = to_markdown(result)
    assert "could not be graded (error)" in md
    assert "Syntax error in config/urls.py, line 3" in md
    assert "0/100" in md


def _grade_view(learner: LearnerInfo, result: dict, override: int | None = None) -> GradeView:
    return GradeView(
        learner=learner, lab="lab01", result_id=1, status=result["status"],
        points=override if override is not None else result["score"]["points"],
        graded_points=result["score"]["points"], max_points=100, override_points=override,
        override_reason="r" if override is not None else None, override_by=None,
        submission_digest="d", checks_digest="c", rubric_version="1.0.0",
        graded_at=datetime.now(UTC), document=result,
    )  # fmt: skip


def test_canvas_csv_matches_the_gradebook_import_layout() -> None:
    ann = LearnerInfo("ann", "Archer, Ann", "a@x.org", section="S1", canvas_user_id="5001")
    bob = LearnerInfo("bob", '=HYPERLINK("http://evil")', "b@x.org", sis_login_id="bob1")
    cat = LearnerInfo("cat", "Cat", "c@x.org")
    grades = [_grade_view(ann, make_result(["health-ok"])), _grade_view(bob, make_result(), 42)]
    column = assignment_column("Lab 01", "778")
    rows = list(csv.reader(io.StringIO(canvas_csv([ann, bob, cat], grades, column, 100))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lab 01 (778)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100"]
    assert rows[2] == ["Archer, Ann", "5001", "", "", "S1", "80"]
    assert rows[3][0].startswith("'=")  # a formula is not run by a spreadsheet
    assert rows[3][3:] == ["bob1", "", "42"]  # the override counts
    assert rows[4] == ["Cat", "", "cat", "", "", ""]  # no grade: blank, Canvas leaves it alone


def test_junit_xml_has_one_case_per_criterion() -> None:
    result = make_result(["health-degraded"], detail="got 200 \x00 expected 503")
    root = ET.fromstring(to_junit(result))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "1", "0")
    failures = suite.findall("testcase/failure")
    assert len(failures) == 1
    assert "SELECT 1" in failures[0].get("message", "")
    assert "got 200" in (failures[0].text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == "85/100"
    errored = ET.fromstring(to_junit(make_result(status="timeout", message="took too long")))
    assert len(errored.findall("testsuite/testcase/error")) == 6


def test_gradescope_results_follow_the_spec() -> None:
    result = make_result(["local-apps"])
    doc = to_gradescope(result, visibility="after_published")
    assert doc["score"] == 85.0
    assert sum(t["score"] for t in doc["tests"]) == doc["score"]
    assert [t["number"] for t in doc["tests"]] == ["1", "2", "3", "4", "5", "6"]
    first = doc["tests"][0]
    assert first["status"] == "failed"
    assert (first["max_score"], first["output_format"]) == (15.0, "md")
    assert first["visibility"] == "after_published"
    assert {t["status"] for t in doc["tests"][1:]} == {"passed"}
    allowed = {
        "score",
        "execution_time",
        "output",
        "output_format",
        "test_output_format",
        "test_name_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    }
    assert set(doc) <= allowed
    with pytest.raises(ValueError):
        to_gradescope(result, visibility="sometimes")


def test_exercism_v3_for_github_classroom() -> None:
    doc = to_exercism_v3(make_result(["health-ok"], detail="404"))
    assert (doc["version"], doc["status"], doc["max_score"]) == (3, "fail", 100)
    failing = [t for t in doc["tests"] if t["status"] == "fail"]
    assert len(failing) == 1
    assert failing[0]["message"].endswith("Observed: 404")
    assert all(t["message"] is None for t in doc["tests"] if t["status"] == "pass")
    assert sum(t["score"] for t in doc["tests"]) == 80
    error = to_exercism_v3(make_result(status="error", message="settings do not import"))
    assert (error["status"], error["message"]) == ("error", "settings do not import")
    assert to_exercism_v3(make_result())["status"] == "pass"


def test_classroom_step_writes_the_output_and_the_points_notice(tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps(make_result(["health-degraded"])))
    output = tmp_path / "github_output"
    done = grader_cli("export", "classroom", str(result_file), env={"GITHUB_OUTPUT": str(output)})
    assert done.returncode == 1  # not every point: the step reports failure, like the reporter
    lines = done.stdout.splitlines()
    assert lines[0] == "::notice title=Autograding complete::Points 85/100"
    assert json.loads(lines[1].split("::", 2)[2]) == {"totalPoints": 85, "maxPoints": 100}
    key, _, value = output.read_text().strip().partition("=")
    assert key == "result"
    decoded = json.loads(base64.b64decode(value))
    assert decoded["version"] == 3
    assert decoded["max_score"] == 100


def test_the_classroom_workflow_is_what_classroom_requires() -> None:
    text = workflow("lab01", "example-org/blogcraft-course")
    flow = yaml.safe_load(text)
    assert flow["name"] == "Autograding Tests"
    assert list(flow["jobs"]) == ["run-autograding-tests"]
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    assert steps[1]["with"]["repository"] == "example-org/blogcraft-course"
    assert steps[1]["with"]["token"] == "${{ secrets.COURSE_TOKEN }}"
    grade = steps[-1]["run"]
    assert 'grade lab01 --submission "$project"' in grade
    assert "export classroom ../result.json" in grade
    assert "labs/lab01/starter" in grade  # a copy of the whole course: its workspace
    chosen = yaml.safe_load(workflow("lab01", "o/r", "app/"))
    assert "project=../submission/app\n" in chosen["jobs"]["run-autograding-tests"]["steps"][-1][
        "run"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["root", "course-copy"])
def test_the_classroom_workflow_grades_either_repository_layout(
    tmp_path: Path, lab01_solution: Path, layout: str
) -> None:
    """Issue 20: the workflow graded ../submission/labs/lab01/starter only, so a template
    repository with manage.py at its root did not grade. Run its grading script as the runner
    would (course checked out beside the submission) for both layouts."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.support import ROOT

    submission = tmp_path / "submission"
    project = submission if layout == "root" else submission / "labs" / "lab01" / "starter"
    shutil.copytree(lab01_solution, project)
    step = yaml.safe_load(workflow("lab01", "o/r"))["jobs"]["run-autograding-tests"]["steps"][-1]
    # The runner's ../ is the folder holding both checkouts; here the course is this checkout,
    # so the script's ../ becomes tmp_path (a symlinked course would resolve ../ physically).
    script = step["run"].replace("../", f"{tmp_path}/")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("GITHUB_OUTPUT", None)
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert "::notice title=Autograding complete::Points 100/100" in done.stdout, done.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert Path(result["submission"]["path"]).resolve() == project.resolve()


def test_the_classroom_result_names_no_hidden_check() -> None:
    """Issue 20: test_code listed the hidden checks' node ids (test_x.py::test_y)."""
    result = make_result(["health-ok"])
    hidden = {t["id"] for c in result["criteria"] for t in c["tests"]}
    assert hidden
    text = json.dumps(to_exercism_v3(result))
    assert not [node for node in hidden if node in text or node.split("::")[-1] in text]
    assert "rubric criterion health-ok" in text


def test_export_refuses_a_file_that_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"score": 1}')
    done = grader_cli("export", "junit", str(bad))
    assert done.returncode == 2
    assert "is not a grader result document" in done.stderr


# Exports that agree (issue 13, item 6) --------------------------------------------------------


def test_an_override_shows_in_the_published_result_and_in_junit() -> None:
    from grader.instructors.exports.published import published_document
    from grader.result import validate_result

    result = make_result(["health-ok"])  # graded 80/100
    view = _grade_view(LearnerInfo("ann", "Ann", "a@x.org"), result, override=95)
    document = published_document(view)
    validate_result(document)
    assert document["score"]["points"] == 95
    assert document["score"]["percent"] == 95.0
    assert document["override"] == {"points": 95, "graded_points": 80, "reason": "r", "by": None}
    assert result["score"]["points"] == 80  # the gradebook's own document is left as it was
    props = {
        p.get("name"): p.get("value") for p in ET.fromstring(to_junit(document)).iter("property")
    }
    assert props["score"] == "95/100"
    assert props["override_graded_points"] == "80"
    plain = _grade_view(LearnerInfo("bob", "Bob", "b@x.org"), result)
    assert published_document(plain) is result  # no override: nothing added


def test_a_submission_that_could_not_be_graded_is_blank_in_the_lms_file_never_zero() -> None:
    ann = LearnerInfo("ann", "Ann", "a@x.org")
    bob = LearnerInfo("bob", "Bob", "b@x.org")
    cat = LearnerInfo("cat", "Cat", "c@x.org")
    errored = make_result(status="error", message="Syntax error in config/urls.py, line 3")
    timed_out = make_result(status="timeout", message="took too long")
    grades = [
        _grade_view(ann, errored),
        _grade_view(bob, timed_out, override=70),  # an instructor decided: that counts
        _grade_view(cat, make_result(["health-ok"])),
    ]
    rows = list(csv.reader(io.StringIO(canvas_csv([ann, bob, cat], grades, "Lab 01", 100))))
    assert [row[-1] for row in rows[2:]] == ["", "70", "80"]


def test_the_status_file_says_why_a_cell_is_blank_and_flags_identical_submissions() -> None:
    from grader.instructors.cohort.publish import status_csv
    from grader.instructors.exports.published import identical_submissions

    errored = make_result(status="error", message="Syntax error in config/urls.py, line 3")
    views = [
        _grade_view(LearnerInfo("ann", "Ann", "a@x.org"), errored),
        _grade_view(LearnerInfo("bob", "Bob", "b@x.org"), make_result(["health-ok"])),
        _grade_view(LearnerInfo("cat", "Cat", "c@x.org"), make_result(["health-ok"])),
    ]
    same = [views[0], *(replace(v, submission_digest="sha256:same") for v in views[1:])]
    assert identical_submissions(same) == [("sha256:same", ["bob", "cat"])]
    assert identical_submissions(views[:1]) == []
    rows = list(csv.DictReader(io.StringIO(status_csv(same))))
    assert [(r["learner_id"], r["status"], r["points"]) for r in rows] == [
        ("ann", "error", ""),
        ("bob", "graded", "80"),
        ("cat", "graded", "80"),
    ]
    assert rows[0]["message"].startswith("Syntax error")
    assert (rows[1]["identical_to"], rows[2]["identical_to"], rows[0]["identical_to"]) == (
        "cat",
        "bob",
        "",
    )


def test_junit_for_an_errored_submission_counts_each_case_once() -> None:
    errored = ET.fromstring(to_junit(make_result(status="error", message="no manage.py")))
    suite = errored.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert (suite.get("errors"), suite.get("failures"), suite.get("skipped")) == (
        str(len(cases)),
        "0",
        "0",
    )
    assert all(len(case) == 1 and case[0].tag == "error" for case in cases)
