"""lab02 hidden checks: migrations exist and describe the models exactly. Grader fixtures only."""

from __future__ import annotations


def test_accounts_and_blog_have_migrations(models):
    for app in ("accounts", "blog"):
        assert models.migrations(app), f"the {app} app has no migrations: run `python manage.py makemigrations {app}`"


def test_models_have_no_unmigrated_changes(models):
    pending = models.pending_migrations()
    assert not pending, (
        "your models have changes that no migration describes ("
        + "; ".join(line for line in pending if not line.endswith((".py", ":")))[:200]
        + "): run `python manage.py makemigrations` and keep the new migration"
    )
