"""lab09 (tasks and a cache): the throwaway Redis, the rubric's shape, its mutants, the starter.

The full proof of lab09 (solution, starter, every mutant, the earlier labs' rubrics) runs in
tests/grader/test_rubric_proofs.py. This module checks what the proof does not: that the grader's
own Redis starts, answers, can be taken away and brought back on the same port; that the Redis
criteria are ``not_run`` with how to fix it where no Redis can be had (never passed or failed);
that the rubric has the shape the brief asks; that the checks never sleep and never use eager
mode; that each mutant applies; and that the untouched starter gets feedback, not a traceback.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from grader import pipeline
from grader.course.labgen import generate_lab
from grader.course.mutants import apply_mutant, load_mutants
from grader.pipeline import GradeOptions, grade_submission
from grader.redisserver import find_server, ping, throwaway_redis, unavailable_reason
from grader.rubric import load_rubric
from grader.scoring import CriterionResult, Score
from tests.support import ROOT

LAB09 = ROOT / "labs" / "lab09"
RUBRIC = load_rubric(LAB09 / "rubric.toml")
IDS = {c.id for c in RUBRIC.criteria}
HIDDEN = sorted((LAB09 / "hidden").glob("test_*.py"))
needs_redis_server = pytest.mark.skipif(
    find_server() is None, reason="redis-server is not installed (.ci/run installs it)"
)


@needs_redis_server
def test_the_throwaway_redis_answers_goes_away_and_comes_back_on_its_port() -> None:
    with throwaway_redis() as server:
        port = server.port
        assert ping("127.0.0.1", port)
        assert server.url(1) == f"redis://127.0.0.1:{port}/1"
        server.stop()
        assert not ping("127.0.0.1", port, timeout=0.3)
        server.start()
        assert (server.port, ping("127.0.0.1", port)) == (port, True)
        folder = server.folder
    assert not folder.exists()
    assert not ping("127.0.0.1", port, timeout=0.3)


def test_without_redis_the_redis_criteria_are_not_run_with_how_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("grader.redisserver.find_server", lambda: None)
    monkeypatch.delenv("GRADER_REDIS_URL", raising=False)
    why = unavailable_reason()
    assert why is not None
    assert "apt-get install redis-server" in why
    assert "GRADER_REDIS_URL" in why
    monkeypatch.setenv("GRADER_REDIS_URL", "redis://127.0.0.1:1/0")
    assert unavailable_reason() is None

    failed = tuple(
        CriterionResult(criterion=c, status="failed", points=0, detail="x", tests=())
        for c in RUBRIC.criteria
    )
    score = pipeline.not_gradable_without_redis(RUBRIC, Score(criteria=failed), why)
    by_id = {r.criterion.id: r for r in score.criteria}
    for criterion in RUBRIC.criteria:
        expected = "not_run" if criterion.requires == "redis" else "failed"
        assert by_id[criterion.id].status == expected
    unchanged = pipeline.not_gradable_without_redis(RUBRIC, Score(criteria=failed), None)
    assert unchanged.criteria == failed


def test_rubric_shape() -> None:
    checked = [c for c in RUBRIC.criteria if c.gate is None]
    assert len(checked) >= 8
    assert sum(c.points for c in RUBRIC.criteria) == 100
    assert all(c.see and c.see.startswith("README.md#step-") for c in RUBRIC.criteria)
    # Everything that queues tasks or caches in Redis needs the grader's Redis.
    assert {c.id for c in checked if c.requires != "redis"} == {"subscriptions"}


def test_every_see_anchor_is_a_heading_and_every_check_exists() -> None:
    handout = (LAB09 / "README.md").read_text(encoding="utf-8")
    headings = {
        "README.md#" + "".join(
            ch for ch in line.lstrip("#").strip().lower().replace(" ", "-")
            if ch.isalnum() or ch == "-"
        )
        for line in handout.splitlines()
        if line.startswith("## ")
    }
    assert {c.see for c in RUBRIC.criteria} <= headings
    defined = {
        f"{path.name}::{node.name}"
        for path in HIDDEN
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    named = {check for c in RUBRIC.criteria for check in c.checks if c.gate is None}
    assert named == defined


def test_checks_never_sleep_nor_run_tasks_eagerly() -> None:
    for path in HIDDEN:
        source = path.read_text(encoding="utf-8")
        assert "sleep(" not in source, f"{path.name} sleeps"
        assert "ALWAYS_EAGER" not in source, f"{path.name} is eager"
        assert ".apply(" not in source, f"{path.name} runs a task in its own process"


def test_mutants_cover_the_brief_and_apply(tmp_path: Path) -> None:
    solution = tmp_path / "solution"
    generate_lab(ROOT / "solutions", "lab09", "solution", solution)
    mutants = {m.id: m for m in load_mutants(LAB09 / "hidden" / "mutants.toml", IDS)}
    assert {
        "task-queued-before-commit",
        "task-not-idempotent",
        "no-retry",
        "retry-without-backoff",
        "cache-key-ignores-caller",
        "edit-does-not-invalidate",
        "redis-down-500",
    } <= set(mutants)
    for mutant in mutants.values():
        tree = tmp_path / mutant.id
        shutil.copytree(solution, tree)
        apply_mutant(tree, mutant)  # raises when a `find` no longer occurs exactly once


@pytest.mark.slow
@needs_redis_server
def test_starter_feedback_says_what_to_do() -> None:
    result = grade_submission(LAB09, LAB09 / "starter", GradeOptions(database="sqlite"))
    assert result["status"] == "graded"
    assert result["score"]["points"] == 0
    by_id = {c["id"]: c for c in result["criteria"]}
    assert "Celery" in by_id["celery-app"]["feedback"]
    assert "not served from the cache" in by_id["cache-per-caller"]["detail"]
    for criterion in result["criteria"]:
        assert "Traceback" not in (criterion.get("detail") or "")
