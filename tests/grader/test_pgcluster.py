"""``--database auto``: criteria that need PostgreSQL are graded on a throwaway cluster when
PostgreSQL's programs are installed, and reported not gradable (with why and how) when not.

The cluster is real (initdb, pg_ctl) wherever the programs exist; CI installs PostgreSQL, so
there these tests never skip. Only the fallback test replaces the cluster, by one that cannot
start, because this machine cannot be made to lack PostgreSQL for one test.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from grader import pipeline
from grader.course.labgen import generate_lab, load_config
from grader.executors.notebook import add_source_notebooks
from grader.pgcluster import ClusterUnavailable, find_bindir, throwaway_cluster
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT

BINDIR = find_bindir()
needs_programs = pytest.mark.skipif(
    BINDIR is None and not os.environ.get("CI"),
    reason="PostgreSQL's programs (initdb, pg_ctl) are not installed (CI installs them)",
)


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((parts.hostname or "", parts.port or 0)) == 0


@needs_programs
def test_a_throwaway_cluster_serves_and_then_is_gone() -> None:
    before = set(Path(tempfile.gettempdir()).glob("grader-pg-*"))
    with throwaway_cluster() as url:
        with psycopg.connect(url) as connection:
            version = connection.execute("show server_version").fetchone()
            connection.execute("create table t (x int)")  # a superuser of its own cluster
        assert version is not None
        assert _port_open(url)
        made = set(Path(tempfile.gettempdir()).glob("grader-pg-*")) - before
        assert len(made) == 1
    assert not _port_open(url)
    assert not any(p.exists() for p in made)


def test_programs_that_fail_give_a_reason_not_a_traceback() -> None:
    # Not in tmp_path: under root the programs run as an unprivileged user, who must read them.
    with tempfile.TemporaryDirectory(prefix="fake-pg-bin-") as folder:
        bindir = Path(folder)
        bindir.chmod(0o755)
        for name in ("initdb", "pg_ctl"):
            program = bindir / name
            program.write_text("#!/bin/sh\necho 'could not create directory' >&2\nexit 1\n")
            program.chmod(0o755)
        with (
            pytest.raises(ClusterUnavailable, match="initdb failed: could not create directory"),
            throwaway_cluster(bindir=bindir),
        ):
            pass  # pragma: no cover - never reached


@pytest.fixture(scope="module")
def lab03_solution() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lab03-auto-") as tmp:
        tree = Path(tmp) / "solution"
        generate_lab(ROOT / "solutions", "lab03", "solution", tree)
        add_source_notebooks(ROOT, "lab03", tree, list(load_config(ROOT / "solutions").labs))
        yield tree


@pytest.mark.slow
@needs_programs
def test_auto_grades_postgres_only_criteria_on_a_throwaway_cluster(lab03_solution: Path) -> None:
    result = grade_submission(ROOT / "labs/lab03", lab03_solution, GradeOptions(database="auto"))
    validate_result(result)
    search = {c["id"]: c for c in result["criteria"]}["full-text-search"]
    assert result["environment"]["database"] == "postgresql"
    assert search["status"] == "passed"
    assert result["score"]["points"] == result["score"]["max_points"]


@pytest.mark.slow
def test_auto_without_postgres_says_why_and_how(
    lab03_solution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def unavailable() -> Iterator[str]:
        raise ClusterUnavailable("PostgreSQL's programs (initdb, pg_ctl) are not installed here")
        yield ""  # pragma: no cover - a generator, never reached

    monkeypatch.setattr(pipeline, "throwaway_cluster", unavailable)
    result = grade_submission(ROOT / "labs/lab03", lab03_solution, GradeOptions(database="auto"))
    validate_result(result)
    search = {c["id"]: c for c in result["criteria"]}["full-text-search"]
    assert result["environment"]["database"] == "sqlite"
    assert search["status"] == "not_run"
    assert "(initdb, pg_ctl) are not installed here" in search["detail"]
    assert "apt-get install postgresql" in search["detail"]


def test_auto_uses_sqlite_when_no_criterion_needs_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    def never() -> None:
        raise AssertionError("no criterion of lab01 needs PostgreSQL: no cluster may be started")

    monkeypatch.setattr(pipeline, "throwaway_cluster", never)
    with tempfile.TemporaryDirectory(prefix="lab01-auto-") as tmp:
        tree = Path(tmp) / "solution"
        generate_lab(ROOT / "solutions", "lab01", "solution", tree)
        result = grade_submission(ROOT / "labs/lab01", tree, GradeOptions(database="auto"))
    assert result["environment"]["database"] == "sqlite"
    assert result["score"]["points"] == result["score"]["max_points"]
