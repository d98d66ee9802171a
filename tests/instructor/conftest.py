"""Fixtures for the instructor workflow's tests: lab01 variants, cohorts on disk, result documents.

Grading is real (the hardened runner, ~2.5 s a submission), so gradings are shared: the
variants are generated once per session, and tests that need many gradings use small cohorts.
Result documents for fast tests come from :func:`make_result`, which builds them with the
grader's own ``build_result`` (no checks run) and validates them against the published schema.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.course.mutants import apply_mutant, load_mutants
from grader.report import TestOutcome
from grader.result import Outcome, build_result, validate_result
from grader.rubric import load_rubric
from grader.scoring import CriterionResult, Score
from grader.staging import StagedSubmission
from tests.support import ROOT, postgres_url

LAB01 = ROOT / "labs" / "lab01"
# Points lab01's rubric gives each variant: proven by `python -m grader prove lab01`.
EXPECTED_POINTS = {
    "solution": 100,
    "starter": 0,
    "prod-secret-has-default": 85,  # loses no-secret-default (15)
    "api-not-routed": 65,  # loses health-ok (20) and health-degraded (15)
}


@pytest.fixture(scope="session")
def lab01_variants(
    lab01_solution: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """lab01's solution, its starter and two mutants (plausible wrong solutions)."""
    base = tmp_path_factory.mktemp("variants")
    rubric = load_rubric(LAB01 / "rubric.toml")
    mutants = {
        m.id: m
        for m in load_mutants(LAB01 / "hidden" / "mutants.toml", {c.id for c in rubric.criteria})
    }
    variants = {"solution": lab01_solution, "starter": LAB01 / "starter"}
    for mutant_id in ("prod-secret-has-default", "api-not-routed"):
        dest = base / mutant_id
        shutil.copytree(lab01_solution, dest)
        apply_mutant(dest, mutants[mutant_id])
        variants[mutant_id] = dest
    return variants


def _ignore(_: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", ".pytest_cache")]


def add_submission(subs: Path, learner_id: str, project: Path, form: str) -> Path:
    """Put ``project`` into ``subs`` as ``learner_id``'s submission in the given form.

    Forms: ``folder``, ``zip`` (a top folder inside, as a zip of a folder is usually made),
    ``targz``, ``git`` (a working tree whose HEAD is graded), ``bare`` (a bare repository) and
    ``course-clone`` (a copy of the course with the work in labs/lab01/starter).
    """
    subs.mkdir(parents=True, exist_ok=True)
    if form == "folder":
        dest = subs / learner_id
        shutil.copytree(project, dest, ignore=_ignore)
        return dest
    if form == "course-clone":
        dest = subs / learner_id
        shutil.copytree(project, dest / "labs" / "lab01" / "starter", ignore=_ignore)
        (dest / "README.md").write_text("my clone of the course\n")
        return dest
    if form == "zip":
        dest = subs / f"{learner_id}.zip"
        with zipfile.ZipFile(dest, "w") as zf:
            for path in sorted(project.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, f"{learner_id}-lab01/{path.relative_to(project).as_posix()}")
        return dest
    if form == "targz":
        dest = subs / f"{learner_id}.tar.gz"
        with tarfile.open(dest, "w:gz") as tf:
            tf.add(project, arcname=".", filter=lambda t: None if "__pycache__" in t.name else t)
        return dest
    if form in ("git", "bare"):
        work = subs / learner_id if form == "git" else subs.parent / f"{learner_id}-work"
        shutil.copytree(project, work, ignore=_ignore)
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "L",
            "GIT_AUTHOR_EMAIL": "l@example.org",
            "GIT_COMMITTER_NAME": "L",
            "GIT_COMMITTER_EMAIL": "l@example.org",
        }
        for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "lab01"]):
            subprocess.run(["git", *command], cwd=work, env=env, check=True)
        if form == "git":
            return work
        dest = subs / f"{learner_id}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(work), str(dest)], check=True)
        return dest
    raise ValueError(form)


def write_roster(path: Path, learner_ids: Iterable[str]) -> Path:
    """A roster naming each learner ``Learner <id>`` with an ``@example.org`` address."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["learner_id", "name", "email", "section"])
        for learner_id in learner_ids:
            writer.writerow([learner_id, f"Learner {learner_id}", f"{learner_id}@example.org", "A"])
    return path


def grader_cli(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m grader ARGS`` as an instructor would; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def make_result(
    failing: Iterable[str] = (),
    *,
    status: str = "graded",
    message: str | None = None,
    detail: str = "expected 200, got 404",
    digest: str = "sha256:" + "ab" * 32,
    mode: str = "local",
) -> dict[str, Any]:
    """A schema-valid lab01 result in which the ``failing`` criterion ids failed, graded in
    ``mode``."""
    rubric = load_rubric(LAB01 / "rubric.toml")
    failing = set(failing)
    criteria = []
    for c in rubric.criteria:
        if status != "graded":
            criteria.append(CriterionResult(c, "not_run", 0, None, ()))
            continue
        passed = c.id not in failing
        tests = tuple(
            TestOutcome(node, "passed" if passed else "failed", 0.01, None if passed else detail)
            for node in c.checks
        )
        criteria.append(
            CriterionResult(
                c,
                "passed" if passed else "failed",
                c.points if passed else 0,
                None if passed else detail,
                tests,
            )
        )
    staged = StagedSubmission(Path("/sub"), Path("/staged"), digest, 12, 3456)
    result = build_result(
        rubric=rubric,
        score=Score(tuple(criteria)),
        outcome=Outcome(status, message, None if status == "graded" else "syntax"),
        submission=Path("/sub"),
        staged=staged,
        database="sqlite",
        mode=mode,
        timings={"total": 2.5},
        started_at="2026-11-21T10:00:00Z",
        reported_checks=len(rubric.check_ids),
    )
    validate_result(result)
    return result


@pytest.fixture
def postgres_gradebook() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards); skipped without a server
    unless CI=true, where it is required."""
    import uuid

    import psycopg

    server = postgres_url()
    if server is None:
        pytest.skip("PostgreSQL is not reachable")
    name = f"gradebook_test_{uuid.uuid4().hex[:10]}"
    admin = server.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
