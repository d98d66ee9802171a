"""lab08 (the API contract): the rubric's shape, the generated contract, the mutants, the checks.

The full proof of lab08 (solution, starter, every mutant, the earlier labs' rubrics) runs in
tests/grader/test_rubric_proofs.py and, in official mode, tests/official/. This module checks
what the proof does not: the rubric has the shape the brief asks, each lab's openapi.yaml is the
schema of its own tree, each mutant still applies (and regenerates the contract where it says
so), and the hidden checks reach the project only through grader fixtures.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.rubric import load_rubric
from tests.support import ROOT

LAB08 = ROOT / "labs" / "lab08"
RUBRIC = load_rubric(LAB08 / "rubric.toml")
IDS = {c.id for c in RUBRIC.criteria}
PROJECT = {"api", "blog", "accounts", "config", "grader"}
MUTANTS = {m.id: m for m in load_mutants(LAB08 / "hidden" / "mutants.toml", IDS)}


@pytest.fixture(scope="module")
def solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab08") / "solution"
    generate_lab(ROOT / "solutions", "lab08", "solution", dest)
    return dest


def test_rubric_has_seven_checked_criteria_two_gates_and_100_points() -> None:
    checked = [c for c in RUBRIC.criteria if c.gate is None]
    assert len(checked) >= 7
    assert {c.id for c in RUBRIC.criteria if c.gate is not None} == {"own-tests", "lint"}
    assert sum(c.points for c in RUBRIC.criteria) == 100
    own = next(c for c in RUBRIC.criteria if c.id == "own-tests")
    assert own.gate.min_coverage == 90  # type: ignore[union-attr]
    handout = (LAB08 / "README.md").read_text(encoding="utf-8").lower()
    headings = handout.replace(":", "").replace(",", "")
    for criterion in RUBRIC.criteria:
        anchor = str(criterion.see).split("#", 1)[1]
        assert f"## {anchor.replace('-', ' ')}" in headings, criterion.id


def test_the_solution_commits_its_own_schema_and_the_starter_none(solution: Path) -> None:
    contract = yaml.safe_load((solution / "openapi.yaml").read_text(encoding="utf-8"))
    assert str(contract["openapi"]).startswith("3.")
    assert "/api/posts/{post_id}/transition/" in contract["paths"]
    assert "Error" in contract["components"]["schemas"]
    assert not (LAB08 / "starter" / "openapi.yaml").exists()  # the learner commits it


@pytest.mark.parametrize("mutant_id", sorted(MUTANTS))
def test_each_mutant_applies_and_regenerates_what_it_says(
    mutant_id: str, solution: Path, tmp_path: Path
) -> None:
    mutant = MUTANTS[mutant_id]
    tree = tmp_path / "tree"
    shutil.copytree(solution, tree)
    before = (tree / "openapi.yaml").read_bytes()
    apply_mutant(tree, mutant)  # raises when a `find` no longer occurs exactly once
    after = (tree / "openapi.yaml").read_bytes()
    if mutant.regenerate:
        assert after != before, f"{mutant_id} regenerates openapi.yaml; the schema is the same"
    else:
        assert after == before


def test_hidden_checks_use_grader_fixtures_only() -> None:
    for path in sorted((LAB08 / "hidden").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                else:
                    names = [node.module or ""]
                for name in names:
                    assert name.split(".")[0] not in PROJECT, f"{path.name} imports {name}"
