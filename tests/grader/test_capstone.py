"""The capstone: its manifest's sentences, its reference, what the template promises.

The capstone's rubric proof (reference 100% of the automated points, template renders, mutants)
runs with every other lab's in tests/grader/test_rubric_proofs.py and, in official mode, in
tests/official/test_rubric_proof_official.py. These tests are the fast ones: a wrong manifest is
refused with a sentence before any check runs, and the documents agree with the proof's data.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from grader.course.capstone import build_reference, render_template
from grader.manifest import MANIFEST, ManifestError, load_manifest, parse_manifest
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT

LAB = ROOT / "labs" / "capstone"
TEMPLATE_MANIFEST = ROOT / "templates/copier/capstone/template/capstone.toml.jinja"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_reference(ROOT, tmp_path_factory.mktemp("capstone") / "reference")


def _manifest_text(reference: Path) -> str:
    return (reference / MANIFEST).read_text(encoding="utf-8")


def test_the_reference_is_a_task_manager_with_a_valid_manifest(reference: Path) -> None:
    manifest = load_manifest(reference)
    assert [r.collection for r in manifest.resources] == ["/api/v1/tasks/"]
    assert [(r.name, r.writes) for r in manifest.roles] == [("member", True), ("viewer", False)]
    assert (manifest.throttle.count, manifest.throttle.seconds) == (60, 60)
    assert manifest.task == "tasks.tasks.task_summarize_task"
    assert manifest.metrics == "/api/metrics/"
    assert not (reference / "blog").exists()  # another domain than the course's blog


# (id, (text in the reference's manifest, what replaces it), what the sentence must say)
WRONG = [
    ("unknown-table", ("[service]", "[servce]"), "has keys the grader does not know: servce"),
    (
        "path",
        ('readiness = "/api/health/"', 'readiness = "api/health"'),
        "[service] readiness must be a path",
    ),
    ("url", ('token = "/api/v1/auth/token/"', 'token = "http://x/"'), "[auth] token must"),
    ("no-writer", ("writes = true", "writes = false"), "at least one [[roles]] entry must have"),
    ("rate", ('anonymous = "60/minute"', 'anonymous = "lots"'), "[throttle] anonymous must be"),
    (
        "password",
        ('fields = { role = "viewer" }', 'fields = { password = "x" }'),
        "fields may not set 'password'",
    ),
    (
        "module",
        ('settings = "config.settings.prod"', 'settings = "config/settings/prod.py"'),
        "[deploy] settings must be like",
    ),
    ("no-resources", ("[[resources]]", "[[resource]]"), "add at least one [[resources]] entry"),
    ("toml", ("[service]", "[service\n"), "is not valid TOML"),
    (
        "task-name",
        ('name = "tasks.tasks.task_summarize_task"', 'name = "tasks/tasks.py"'),
        "[tasks] name must be like",
    ),
    ("task-key", ('name = "tasks.tasks.task_summarize_task"', 'task = "x"'), "[tasks] needs name"),
]


@pytest.mark.parametrize(("edit", "says"), [c[1:] for c in WRONG], ids=[c[0] for c in WRONG])
def test_a_wrong_manifest_is_a_sentence_naming_the_entry(
    reference: Path, edit: tuple[str, str], says: str
) -> None:
    text = _manifest_text(reference)
    assert edit[0] in text
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text.replace(*edit, 1))
    message = str(caught.value)
    assert says in message
    assert message.startswith(MANIFEST)
    assert "Traceback" not in message


def test_every_problem_is_listed_at_once(reference: Path) -> None:
    text = _manifest_text(reference).replace("writes = true", "writes = false")
    text = text.replace('anonymous = "60/minute"', 'anonymous = "often"')
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text)
    assert "writes = true" in str(caught.value)
    assert "[throttle] anonymous" in str(caught.value)


@pytest.mark.parametrize("case", ["missing", "broken"])
def test_a_submission_with_a_missing_or_broken_manifest_is_refused_with_a_sentence(
    reference: Path, tmp_path: Path, case: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(reference, project)
    if case == "missing":
        (project / MANIFEST).unlink()
        expected = "There is no capstone.toml at the top of your project"
    else:
        (project / MANIFEST).write_text("[service]\nschema = 1\n", encoding="utf-8")
        expected = "[service] schema must be a path"
    result = grade_submission(LAB, project, GradeOptions(database="sqlite"))
    validate_result(result)
    assert (result["status"], result["error_stage"]) == ("error", "stage")
    assert expected in result["message"]
    assert "Traceback" not in result["message"]
    assert result["score"]["points"] == 0
    assert {c["status"] for c in result["criteria"]} == {"not_run"}


def test_the_templates_manifest_is_valid_for_other_answers(tmp_path: Path) -> None:
    answers = {"app_name": "shop", "resource": "order", "resource_plural": "orders"}
    project = render_template(ROOT, tmp_path / "shop", answers)
    manifest = load_manifest(project)
    assert [r.collection for r in manifest.resources] == ["/api/v1/orders/"]
    assert manifest.throttle.path == "/api/v1/orders/"


def test_the_template_readmes_say_what_the_proof_proves() -> None:
    """templates.toml is what `prove capstone` holds the renders to; the template's README (for
    course authors) and its generated README (for learners) must promise the same."""
    renders = tomllib.loads((LAB / "hidden" / "templates.toml").read_text())["renders"]
    assert {r["id"] for r in renders} == {"defaults", "optional-parts-off"}
    assert renders[1]["answers"] == {"background_tasks": False, "docker": False, "github_ci": False}
    authors = (ROOT / "templates/copier/capstone/README.md").read_text()
    learners = (ROOT / "templates/copier/capstone/template/README.md.jinja").read_text()
    fails = {render["id"]: render["fails"] for render in renders}
    assert fails == {
        "defaults": ["roles", "metrics"],
        "optional-parts-off": ["roles", "metrics", "background", "container", "pipeline"],
    }, "update both READMEs with what the template fails"
    assert "every automated criterion\n  except `roles` and `metrics`" in authors
    assert "off it also fails `background`, `container` and\n  `pipeline`" in authors
    assert "of the capstone rubric but\ntwo, which are yours to add: `roles`" in learners
    assert "and `metrics` (Prometheus" in learners
    assert "{%- if not background_tasks %}" in learners
    assert "fails `background`" in learners
    assert "{%- if not docker %}" in learners
    assert "fails `container`" in learners
    assert "{%- if not github_ci %}" in learners
    assert "fails `pipeline`" in learners


def test_the_coverage_gate_counts_branches_when_the_rubric_asks(tmp_path: Path) -> None:
    """own-tests says branch = true: a file's measure is its statements plus its branches, as
    coverage.py's own percentage counts them, and a report claiming more covered branches than
    there are is refused (the learner's code ran in the process that wrote it)."""
    import json

    from grader.executors.gates import coverage_files
    from grader.rubric import load_rubric

    gate = next(c.gate for c in load_rubric(LAB / "rubric.toml").criteria if c.id == "own-tests")
    assert gate is not None
    assert (gate.branch, gate.cover, gate.min_coverage) == (True, (".",), 90)
    assert "tests/*" in gate.omit
    report = tmp_path / "coverage.json"

    def write(covered_branches: int) -> None:
        summary = {"num_statements": 10, "num_branches": 4, "covered_branches": covered_branches}
        entry = {"missing_lines": [3], "summary": summary}
        report.write_text(json.dumps({"files": {"app/views.py": entry}}), encoding="utf-8")

    write(2)
    (measured,) = coverage_files(report, tmp_path) or []
    assert (measured.measured, measured.hit) == (14, 11)  # 9 of 10 lines, 2 of 4 branches
    write(5)
    assert coverage_files(report, tmp_path) is None
