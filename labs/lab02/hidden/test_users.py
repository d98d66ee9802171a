"""lab02 hidden checks: the custom user model and its roles. Grader fixtures only."""

from __future__ import annotations

import itertools

USER = "accounts.User"
ROLES = {"reader", "author", "editor", "admin"}
_serial = itertools.count(1)


def test_user_model_is_swapped_from_the_start(models):
    label = models.user_model()
    assert label == USER, (
        f"the project's user model is {label}; set AUTH_USER_MODEL = \"{USER}\" in config/settings/base.py"
    )
    fields = models.fields(USER)
    inherited = [name for name in ("username", "password", "email", "is_staff", "groups") if name not in fields]
    assert not inherited, (
        f"accounts.User lacks {', '.join(inherited)}: make it a subclass of django.contrib.auth.models.AbstractUser"
    )
    history = models.migrations("accounts")
    assert history, "the accounts app has no migrations: run `python manage.py makemigrations accounts`"
    first = history[0]
    assert "user" in first["creates"], (
        f"accounts' first migration ({first['name']}) does not create User; the user model must be "
        "swapped before anything is migrated: delete the accounts and blog migrations and db.sqlite3, "
        "then run makemigrations again"
    )


def test_role_has_four_choices_and_defaults_to_reader(models, data):
    role = models.fields(USER).get("role")
    assert role is not None, "accounts.User has no field 'role'"
    choices = set(role["choices"] or [])
    assert choices == ROLES, (
        f"accounts.User.role offers {sorted(choices) or 'no choices'}; expected exactly {sorted(ROLES)} (a TextChoices class)"
    )
    pk = data.user()
    stored = data.values(USER, "role", pk=pk)[0]["role"]
    assert stored == "reader", f"a user created without a role gets role {stored!r}; the default must be 'reader'"


def test_database_refuses_an_unknown_role(data):
    for role in sorted(ROLES):
        refusal = data.create_rejected(USER, username=f"grader-{role}-{next(_serial)}", password="!", role=role)
        assert refusal is None, f"the database refused a user with role {role!r}: {refusal}"
    for role in ("moderator", "Editor", ""):
        refusal = data.create_rejected(USER, username=f"grader-bad-role-{next(_serial)}", password="!", role=role)
        assert refusal is not None, (
            f"the database stored a user with role {role!r}; choices alone are not enforced by the "
            "database: add a CheckConstraint (role__in=...) to accounts.User.Meta.constraints"
        )
        assert refusal.startswith("check"), (
            f"the database refused role {role!r}, but not with a check constraint: {refusal}"
        )
