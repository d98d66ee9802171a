"""The custom user model and its roles, down to what the database itself accepts."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import CreateModel

from tests.factories import make_user

ROLES = ["reader", "author", "editor", "admin"]


def test_the_project_uses_the_accounts_user_model() -> None:
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model()._meta.label == "accounts.User"


def test_the_user_model_is_created_by_the_first_accounts_migration() -> None:
    """Swapping the user model later would leave tables pointing at auth.User."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    roots = loader.graph.root_nodes("accounts")
    assert roots, "the accounts app has no migrations: run `python manage.py makemigrations`"
    first = loader.graph.nodes[roots[0]]
    created = [op.name.lower() for op in first.operations if isinstance(op, CreateModel)]
    assert "user" in created


def test_role_choices_are_the_four_roles() -> None:
    field = get_user_model()._meta.get_field("role")

    assert [value for value, _label in field.choices] == ROLES


@pytest.mark.django_db
def test_a_new_user_is_a_reader() -> None:
    user = make_user()

    user.refresh_from_db()
    assert user.role == "reader"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_accepted(role: str) -> None:
    assert make_user(role=role).role == role


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["superhero", "", "Admin"])
def test_the_database_refuses_an_unknown_role(role: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_user(role=role)
