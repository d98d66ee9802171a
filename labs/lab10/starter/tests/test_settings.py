"""Project layout and per-environment settings.

Settings are read once, when their module is imported, so each environment is loaded in a fresh
Python process with a controlled set of variables. The `config` package is copied to a temporary
folder first: a developer's own `.env` file then cannot change the results, and a test can place
a `.env` file next to the copy to check who reads it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Variables the settings may read; every run starts without them.
SETTINGS_VARIABLE_PREFIXES = ("DJANGO_", "DATABASE_URL")

PRODUCTION_ENVIRONMENT = {
    "DJANGO_SECRET_KEY": "a-production-secret-from-the-environment",
    "DATABASE_URL": "postgres://u:p@db.example:5433/blog",
    "DJANGO_ALLOWED_HOSTS": "a.example,b.example",
}

# Printed by the child process: the settings the tests look at, as JSON.
REPORT_SETTINGS = """
import importlib, json, sys
settings = importlib.import_module(sys.argv[1])
database = settings.DATABASES["default"]
print(json.dumps({
    "SECRET_KEY": getattr(settings, "SECRET_KEY", None),
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": list(settings.ALLOWED_HOSTS),
    "DATABASE": {key: str(database.get(key, "")) for key in ("ENGINE", "NAME", "HOST", "PORT")},
}))
"""


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the project's `config` package and no `.env` file."""
    shutil.copytree(
        PROJECT_DIR / "config",
        tmp_path / "config",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def import_settings(
    project: Path, module: str, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Import the settings `module` of `project` in a new process that sees only `variables`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(SETTINGS_VARIABLE_PREFIXES)
    }
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "-c", REPORT_SETTINGS, module],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def load_settings(project: Path, module: str, variables: dict[str, str]) -> dict[str, Any]:
    """The settings `module` reports under `variables`; fails the test if it cannot be imported."""
    result = import_settings(project, module, variables)
    assert result.returncode == 0, f"importing {module} failed:\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("app", ["accounts", "blog", "api"])
def test_local_app_is_installed(app: str) -> None:
    assert apps.is_installed(app), f"add the {app!r} app to LOCAL_APPS"


def test_prod_reads_its_configuration_from_the_environment(project_copy: Path) -> None:
    settings = load_settings(project_copy, "config.settings.prod", PRODUCTION_ENVIRONMENT)

    assert settings["SECRET_KEY"] == PRODUCTION_ENVIRONMENT["DJANGO_SECRET_KEY"]
    assert settings["ALLOWED_HOSTS"] == ["a.example", "b.example"]
    assert settings["DATABASE"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "blog",
        "HOST": "db.example",
        "PORT": "5433",
    }
    assert settings["DEBUG"] is False


def test_prod_keeps_debug_off_even_when_asked(project_copy: Path) -> None:
    variables = {**PRODUCTION_ENVIRONMENT, "DJANGO_DEBUG": "true"}

    settings = load_settings(project_copy, "config.settings.prod", variables)

    assert settings["DEBUG"] is False


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENVIRONMENT))
def test_prod_refuses_to_start_without_a_required_variable(
    project_copy: Path, missing: str
) -> None:
    variables = {name: value for name, value in PRODUCTION_ENVIRONMENT.items() if name != missing}

    result = import_settings(project_copy, "config.settings.prod", variables)

    assert result.returncode != 0, f"prod settings loaded without {missing}"
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_prod_ignores_a_dot_env_file(project_copy: Path) -> None:
    (project_copy / ".env").write_text("DJANGO_SECRET_KEY=a-secret-from-a-file\n", encoding="utf-8")
    variables = {
        name: value for name, value in PRODUCTION_ENVIRONMENT.items() if name != "DJANGO_SECRET_KEY"
    }

    result = import_settings(project_copy, "config.settings.prod", variables)

    assert result.returncode != 0, "prod settings took DJANGO_SECRET_KEY from a .env file"


def test_base_keeps_debug_off_unless_asked(project_copy: Path) -> None:
    assert load_settings(project_copy, "config.settings.base", {})["DEBUG"] is False
    variables = {"DJANGO_DEBUG": "true"}
    assert load_settings(project_copy, "config.settings.base", variables)["DEBUG"] is True


def test_dev_runs_locally_without_any_configuration(project_copy: Path) -> None:
    settings = load_settings(project_copy, "config.settings.dev", {})

    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"]
    assert "localhost" in settings["ALLOWED_HOSTS"]


def test_dev_reads_a_dot_env_file_but_the_environment_wins(project_copy: Path) -> None:
    (project_copy / ".env").write_text(
        "DJANGO_DEBUG=false\nDJANGO_ALLOWED_HOSTS=from-file.example\n", encoding="utf-8"
    )

    from_file = load_settings(project_copy, "config.settings.dev", {})
    overridden = load_settings(
        project_copy, "config.settings.dev", {"DJANGO_ALLOWED_HOSTS": "from-shell.example"}
    )

    assert from_file["DEBUG"] is False
    assert from_file["ALLOWED_HOSTS"] == ["from-file.example"]
    assert overridden["ALLOWED_HOSTS"] == ["from-shell.example"]


@pytest.mark.parametrize("module", ["config.settings.dev", "config.settings.test"])
def test_database_comes_from_database_url(project_copy: Path, module: str) -> None:
    variables = {"DATABASE_URL": PRODUCTION_ENVIRONMENT["DATABASE_URL"]}

    settings = load_settings(project_copy, module, variables)

    assert settings["DATABASE"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings["DATABASE"]["HOST"] == "db.example"


def test_test_settings_ignore_a_dot_env_file(project_copy: Path) -> None:
    (project_copy / ".env").write_text(
        f"DATABASE_URL={PRODUCTION_ENVIRONMENT['DATABASE_URL']}\n", encoding="utf-8"
    )

    settings = load_settings(project_copy, "config.settings.test", {})

    assert settings["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DEBUG"] is False
