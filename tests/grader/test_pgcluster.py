"""``--database auto``: criteria that need PostgreSQL are graded on a throwaway cluster when
PostgreSQL's programs are installed, and reported not gradable (with why and how) when not.

The cluster is real (initdb, pg_ctl) wherever the programs exist; CI installs PostgreSQL, so
there these tests never skip. Only the fallback test replaces the cluster, by one that cannot
start, because this machine cannot be made to lack PostgreSQL for one test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from grader import pipeline
from grader.course.labgen import generate_lab, load_config
from grader.executors.notebook import add_source_notebooks
from grader.pgcluster import (
    ClusterUnavailable,
    find_bindir,
    throwaway_cluster,
    warm_cluster,
    warm_folder,
)
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


def _decided(result: dict) -> list[tuple[str, str, int]]:
    return [(c["id"], c["status"], c["points"]) for c in result["criteria"]]


@pytest.mark.slow
@needs_programs
def test_auto_grades_postgres_only_criteria_on_a_warm_or_a_throwaway_cluster(
    lab03_solution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default (this user's warm cluster) and a throwaway cluster decide alike."""
    warm = grade_submission(ROOT / "labs/lab03", lab03_solution, GradeOptions(database="auto"))
    monkeypatch.setenv("GRADER_PG_WARM", "0")
    cold = grade_submission(ROOT / "labs/lab03", lab03_solution, GradeOptions(database="auto"))
    for result in (warm, cold):
        validate_result(result)
        search = {c["id"]: c for c in result["criteria"]}["full-text-search"]
        assert result["environment"]["database"] == "postgresql"
        assert search["status"] == "passed"
        assert result["score"]["points"] == result["score"]["max_points"]
    assert _decided(warm) == _decided(cold)


def _postmaster_pid(course_root: Path) -> int:
    return int((warm_folder(course_root) / "data" / "postmaster.pid").read_text().split()[0])


@contextmanager
def _course_root() -> Iterator[Path]:
    # Not in tmp_path: under root the server runs as an unprivileged user, who must reach it.
    folder = Path(tempfile.mkdtemp(prefix="grader-warm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        with contextlib.suppress(OSError):
            if BINDIR is not None:
                subprocess.run(
                    [str(BINDIR / "pg_ctl"), "-D", str(warm_folder(folder) / "data"), "-m",
                     "immediate", "stop"], capture_output=True, check=False, timeout=60,
                    **({} if os.geteuid() else {"user": "postgres"}),
                )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@needs_programs
def test_a_warm_cluster_is_reused_then_stopped_after_idle_then_started_again() -> None:
    idle = 3.0
    with _course_root() as root:
        with warm_cluster(root, idle=idle) as first:
            with psycopg.connect(first, autocommit=True) as connection:
                connection.execute("create database kept_between_gradings")
            pid = _postmaster_pid(root)
        assert warm_folder(root).name == f"postgres-{os.getuid()}"  # one cluster per user
        with warm_cluster(root, idle=idle) as second:
            assert second == first
            assert _postmaster_pid(root) == pid  # the same server, not a new one
            time.sleep(idle * 2)  # in use for longer than idle: the reaper must wait
            assert _port_open(second)
        deadline = time.monotonic() + 60
        while _port_open(second) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _port_open(second), "the idle cluster was not stopped"
        with warm_cluster(root, idle=idle) as third:  # started again from its data folder
            with psycopg.connect(third) as connection:
                names = connection.execute("select datname from pg_database").fetchall()
            assert ("kept_between_gradings",) in names


@pytest.mark.slow
def test_auto_without_postgres_says_why_and_how(
    lab03_solution: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def unavailable() -> Iterator[str]:
        raise ClusterUnavailable("PostgreSQL's programs (initdb, pg_ctl) are not installed here")
        yield ""  # pragma: no cover - a generator, never reached

    monkeypatch.setattr(pipeline, "throwaway_cluster", unavailable)
    monkeypatch.setattr(pipeline, "warm_cluster", lambda root: unavailable())
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
    monkeypatch.setattr(pipeline, "warm_cluster", never)
    with tempfile.TemporaryDirectory(prefix="lab01-auto-") as tmp:
        tree = Path(tmp) / "solution"
        generate_lab(ROOT / "solutions", "lab01", "solution", tree)
        result = grade_submission(ROOT / "labs/lab01", tree, GradeOptions(database="auto"))
    assert result["environment"]["database"] == "sqlite"
    assert result["score"]["points"] == result["score"]["max_points"]
