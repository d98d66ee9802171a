"""Resumability: kill -9 the cohort command mid-run, run it again, nothing lost or doubled."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.instructor.conftest import add_submission, grader_cli, write_roster
from tests.support import ROOT

pytestmark = pytest.mark.slow

LEARNERS = [f"l{n:02d}" for n in range(8)]
VARIANTS = ["solution", "starter", "prod-secret-has-default", "api-not-routed"]


def _count(db: Path) -> int:
    """Results recorded so far (0 before the schema exists), read like any other client."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # the migration has not created the table yet
        return 0


def test_kill_9_mid_run_then_resume(tmp_path: Path, lab01_variants: dict[str, Path]) -> None:
    subs = tmp_path / "submissions"
    for index, learner in enumerate(LEARNERS):
        add_submission(subs, learner, lab01_variants[VARIANTS[index % 4]], "folder")
    roster = write_roster(tmp_path / "roster.csv", LEARNERS)
    db = tmp_path / "gradebook.sqlite3"
    args = [
        "cohort",
        "grade",
        "--lab",
        "lab01",
        "--submissions",
        str(subs),
        "--roster",
        str(roster),
        "--gradebook",
        str(db),
        "--workers",
        "2",
        "--no-progress",
    ]
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "grader", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 180
        while _count(db) < 2 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert first.poll() is None, "the run finished before it could be killed"
        assert _count(db) >= 2
        workers = psutil.Process(first.pid).children(recursive=True)
        os.kill(first.pid, signal.SIGKILL)  # no cleanup, no chance to finish a transaction
        first.wait()
    assert first.returncode == -signal.SIGKILL
    # The pool workers (and their checks) must not outlive the killed run.
    _, alive = psutil.wait_procs(workers, timeout=60)
    assert alive == []
    recorded = _count(db)
    assert 2 <= recorded < len(LEARNERS)

    again = grader_cli(*args)
    assert again.returncode == 0, again.stderr
    graded = re.search(r"graded (\d+), already graded and unchanged (\d+)", again.stdout)
    assert graded is not None, again.stdout
    assert (int(graded[1]), int(graded[2])) == (len(LEARNERS) - recorded, recorded)

    with sqlite3.connect(db) as connection:
        per_learner = dict(
            connection.execute("SELECT learner_id, count(*) FROM results GROUP BY learner_id")
        )
        grades = connection.execute("SELECT count(*) FROM grades").fetchone()[0]
        recorded_events = dict(
            connection.execute(
                "SELECT learner_id, count(*) FROM audit_log WHERE action = 'grade.recorded' "
                "GROUP BY learner_id"
            )
        )
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    assert per_learner == {learner: 1 for learner in LEARNERS}  # all there, none twice
    assert recorded_events == {learner: 1 for learner in LEARNERS}
    assert grades == len(LEARNERS)
    assert integrity == "ok"
