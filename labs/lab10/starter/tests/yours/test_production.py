"""Production settings pass Django's deployment checklist; the container runs as no root.

Given with lab10's starter, failing until steps 6 and 7 of the handout are done: the brief
written as tests. Your tests of the rest of the lab go in test_observability.py.

The production settings are imported in a new process, as a server would, with the variables
production sets: settings already loaded by this test process cannot be swapped for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DJANGO_SECRET_KEY": "a-production-key-for-tests-only-9f1c7b2e54d8a6031bb7e49c2d5f80a1",
    "DJANGO_ALLOWED_HOSTS": "api.blogcraft.example",
    "DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3",
}


def _manage(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**keep, **PRODUCTION, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deployment_checklist_reports_nothing() -> None:
    done = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_a_short_hsts_is_reported() -> None:
    done = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECURE_HSTS_SECONDS="0")
    assert done.returncode != 0
    assert "security.W004" in done.stderr


def test_the_image_runs_as_a_user_who_is_not_root() -> None:
    lines = (PROJECT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
