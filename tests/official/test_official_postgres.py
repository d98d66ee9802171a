"""Official grading on PostgreSQL: a server of the sandbox's own (executors/official/postgres.py).

The sandbox cannot reach the host's server, so ``--database postgres`` makes the agent start one
inside it. What must hold: lab07's reference solution scores full marks with its PostgreSQL-only
criterion (search-stemming) decided, not ``not_run``; the mutant that only PostgreSQL can tell
apart loses exactly that criterion; every check starts from the database as it was built (the
fixtures' contract, on PostgreSQL's template copy this time); ``--database auto`` picks the
sandbox's server for a lab that needs one; a server URL is refused with a sentence. The whole
proof of every lab on PostgreSQL in official mode is ``python -m grader prove LAB --official
--database postgres`` (too long for every CI run: BENCHMARKS.md has its figures).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.executors.official.postgres import postgres_unavailable_reason
from grader.result import validate_result
from grader.rubric import load_rubric
from tests.official.conftest import lab01_variant
from tests.official.test_official_fixtures import CHECKS, CRITERIA
from tests.support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("official-postgres")]
LAB07 = ROOT / "labs" / "lab07"


@pytest.fixture(scope="module")
def sandbox_postgres() -> None:
    reason = postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab07_solution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("lab07") / "solution"
    generate_lab(ROOT / "solutions", "lab07", "solution", dest)
    return dest


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result["criteria"]}


def test_the_mutant_only_postgres_tells_apart_loses_exactly_its_criterion(
    official: Any, sandbox_postgres: None, lab07_solution: Path, tmp_path: Path
) -> None:
    rubric = load_rubric(LAB07 / "rubric.toml")
    mutants = load_mutants(LAB07 / "hidden" / "mutants.toml", {c.id for c in rubric.criteria})
    mutant = next(m for m in mutants if m.id == "search-without-full-text")
    tree = tmp_path / "mutant"
    shutil.copytree(lab07_solution, tree)
    apply_mutant(tree, mutant)
    result = official(tree, lab_dir=LAB07, database="postgres")
    lost = {cid for cid, status in _statuses(result).items() if status != "passed"}
    assert lost == set(mutant.loses) == {"search-stemming"}
    assert result["integrity"]["flags"] == []


def test_each_check_starts_from_the_built_database_on_postgres(
    official: Any, sandbox_postgres: None, tmp_path: Path, lab01_solution: Path
) -> None:
    lab = lab01_variant(tmp_path, "test_fixtures.py", CHECKS, CRITERIA)
    result = official(lab01_solution, lab_dir=lab, database="postgres")
    assert result["environment"]["database"] == "postgresql"
    criteria = {c["id"]: c for c in result["criteria"]}
    for cid in ("round-trip", "fresh-database"):
        assert criteria[cid]["status"] == "passed", (cid, criteria[cid]["detail"])


def test_lab07_solution_scores_full_marks_on_the_sandbox_server_auto_picks(
    sandbox_postgres: None, official_available: None, lab07_solution: Path, tmp_path: Path
) -> None:
    """Through the command line, as an instructor grades (``--database auto`` is the default):
    the sandbox's own server is used, and the PostgreSQL-only criterion is decided."""
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "lab07", "--official", "--database", "auto",
         "--submission", str(lab07_solution), "--output", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    validate_result(result)
    assert result["mode"] == "official"
    assert result["environment"]["database"] == "postgresql"
    assert result["integrity"]["flags"] == []
    assert _statuses(result)["search-stemming"] == "passed"
    assert set(_statuses(result).values()) == {"passed"}, _statuses(result)
    assert result["score"]["points"] == result["score"]["max_points"]


def test_a_server_url_is_refused_with_what_to_type(
    official_available: None, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "lab01", "--official", "--database",
         "postgres://postgres@127.0.0.1:5432/postgres", "--submission",
         str(ROOT / "labs" / "lab01" / "starter"), "--output", str(tmp_path / "r.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Use --database postgres (no URL)" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "r.json").exists()


def test_the_notebook_lab_is_graded_on_the_sandbox_server_with_its_limits_said(
    official: Any, sandbox_postgres: None, tmp_path: Path
) -> None:
    """lab03's nbgrader autograde in a sandbox, on its own PostgreSQL: full-text search is
    decided, and the result says what official mode cannot guarantee for a notebook."""
    from grader.course.labgen import load_config
    from grader.executors.notebook import add_source_notebooks

    solution = tmp_path / "lab03"
    generate_lab(ROOT / "solutions", "lab03", "solution", solution)
    add_source_notebooks(ROOT, "lab03", solution, list(load_config(ROOT / "solutions").labs))
    result = official(solution, lab_dir=ROOT / "labs" / "lab03", database="postgres")
    assert result["environment"]["database"] == "postgresql"
    assert result["integrity"]["flags"] == []
    assert set(_statuses(result).values()) == {"passed"}, _statuses(result)
    assert "learner's own kernel" in " ".join(result["integrity"]["notes"])
