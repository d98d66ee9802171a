"""Production settings: nothing defaults, and Django's deployment checks pass."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DJANGO_SECRET_KEY": "a-long-random-value-that-only-this-test-uses-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "sqlite:///unused.sqlite3",
}


def run_django(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run manage.py in a fresh process: settings are read once, at import."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_passes_the_deployment_checks() -> None:
    done = run_django("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert done.returncode == 0, done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    done = run_django("check", env=env)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY" in done.stderr
