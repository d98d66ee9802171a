"""Migrations: they exist for both apps, and they describe the models exactly."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader


@pytest.mark.parametrize("app", ["accounts", "blog"])
def test_the_app_has_migrations(app: str) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)

    assert loader.graph.leaf_nodes(app), f"run `python manage.py makemigrations {app}`"


@pytest.mark.django_db
def test_the_migrations_describe_every_model() -> None:
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    for label in ("accounts.user", "blog.post", "blog.comment"):
        assert tuple(label.split(".")) in state.models, f"no migration creates {label}"

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}")
