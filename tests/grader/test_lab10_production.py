"""lab10 (ready for production): the grader's own tools, which the proof uses but does not test.

The full proof of lab10 (solution, starter, every mutant and alternative, the earlier labs'
rubrics) runs in tests/grader/test_rubric_proofs.py, and in official mode in
tests/official/test_rubric_proof_official.py. This module checks the pieces under it: that the
delivery tools (hadolint, dockerfile-parse, the two JSON Schemas, actionlint) find what they
must and nothing in the reference; that the production server reports a project that cannot
start with a sentence and leaves nothing running; that the log capture sees the project's
formatted lines and gives every stream back; and that the rubric has the shape the issue asks.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.executors.harness.delivery import Delivery
from grader.executors.harness.production import LogCapture, ProductionServer
from grader.rubric import load_rubric
from tests.support import ROOT

LAB10 = ROOT / "labs" / "lab10"
RUBRIC = load_rubric(LAB10 / "rubric.toml")


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab10") / "solution"
    generate_lab(ROOT / "solutions", "lab10", "solution", dest)
    return dest


def test_the_rubric_grades_delivery_by_four_criteria_and_runs_in_both_modes() -> None:
    by_outcome: dict[int, list[str]] = {}
    for criterion in RUBRIC.criteria:
        by_outcome.setdefault(criterion.outcome, []).append(criterion.id)
    assert len(by_outcome[6]) >= 4, by_outcome  # the issue: outcome 6 by at least four
    assert sum(c.points for c in RUBRIC.criteria) == 100
    mutants = load_mutants(LAB10 / "hidden" / "mutants.toml", {c.id for c in RUBRIC.criteria})
    wanted = {
        "request-id-not-sent-to-the-task",
        "password-in-the-log",
        "readiness-ignores-redis",
        "no-hsts",
        "image-runs-as-root",
        "workflow-without-postgresql",
    }
    assert wanted <= {m.id for m in mutants}


def test_every_mutant_applies_to_the_solution(solution: Path, tmp_path: Path) -> None:
    import shutil

    criteria = {c.id for c in RUBRIC.criteria}
    for mutant in load_mutants(LAB10 / "hidden" / "mutants.toml", criteria):
        copy = tmp_path / mutant.id
        shutil.copytree(solution, copy)
        apply_mutant(copy, mutant)


def test_the_reference_delivery_files_pass_every_tool(solution: Path) -> None:
    delivery = Delivery(solution)
    assert delivery.hadolint() == []
    stages = {i.stage for i in delivery.dockerfile()}
    assert stages == {0, 1}
    assert delivery.schema_errors(delivery.compose(), "compose-spec") == []
    workflows = delivery.workflows()
    assert list(workflows) == [".github/workflows/ci.yml"]
    document = workflows[".github/workflows/ci.yml"]
    assert "on" in document  # YAML 1.1 reads `on:` as true; read back as "on"
    assert True not in document
    assert delivery.schema_errors(document, "github-workflows") == []
    assert delivery.actionlint(".github/workflows/ci.yml") == []


def test_the_tools_find_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python\nRUN cd /app && pip install x\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: 5\n    portz: []\n")
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.nope.x }}\n"
    )
    delivery = Delivery(tmp_path)
    codes = {f["code"] for f in delivery.hadolint()}
    assert "DL3006" in codes  # an untagged base image
    problems = delivery.schema_errors(delivery.compose(), "compose-spec")
    assert any("portz" in p for p in problems), problems
    findings = delivery.actionlint(".github/workflows/ci.yml")
    assert findings
    assert all(f.startswith(".github/workflows/ci.yml:") for f in findings)


def test_baked_secrets_are_values_in_the_image_and_an_env_file_copied_in(tmp_path: Path) -> None:
    """lab10's and the capstone's no-secret checks share this: a name that reads like a secret
    given a value by ENV or ARG, or the whole context copied while .dockerignore lets .env in."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11-slim\nARG GITHUB_TOKEN\nENV DEBUG=0 DJANGO_SECRET_KEY=abc\n"
        "COPY . .\n"
    )
    found = Delivery(tmp_path).baked_secrets()
    assert len(found) == 2, found
    assert "line 3 gives DJANGO_SECRET_KEY a value" in found[0]  # ARG without a value is fine
    assert ".dockerignore does not keep .env out" in found[1]
    (tmp_path / ".dockerignore").write_text(".git\n.env\n")
    dockerfile.write_text("FROM python:3.11-slim\nARG API_KEY=\"\"\nENV PORT=8000\nCOPY . .\n")
    assert Delivery(tmp_path).baked_secrets() == []


def test_a_missing_file_is_no_finding_and_no_crash(tmp_path: Path) -> None:
    delivery = Delivery(tmp_path)
    assert delivery.dockerfile() == []
    assert delivery.hadolint() == []
    assert delivery.compose() is None
    assert delivery.workflows() == {}


def test_a_project_that_cannot_start_under_gunicorn_is_a_sentence(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    (project / "config" / "__init__.py").write_text("")
    (project / "config" / "wsgi.py").write_text("raise RuntimeError('settings are broken')\n")
    server = ProductionServer(project, tmp_path / "server")
    try:
        problem = server.start({"DJANGO_SECRET_KEY": "k"})
    finally:
        server.stop()
    assert problem is not None
    assert "exited with code" in problem
    assert any("settings are broken" in line for line in server.lines())
    assert server.process is None


def test_the_log_capture_sees_formatted_lines_and_gives_the_streams_back() -> None:
    stream = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('{"message": "%(message)s"}'))
    logger = logging.getLogger("grader.test.lab10")
    logger.addHandler(handler)
    logger.propagate = False
    capture = LogCapture()
    try:
        capture.start()
        logger.warning("seen")
        print("printed")
        lines = capture.stop()
    finally:
        logger.removeHandler(handler)
    assert lines == ['{"message": "seen"}', "printed"]
    assert handler.stream is stream
    assert sys.stderr is stream
    assert capture.stop() == []  # stopping twice is harmless
