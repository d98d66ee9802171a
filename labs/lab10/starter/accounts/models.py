"""The people who use the blog.

The project uses its own user model from the very first migration: Django cannot swap the user
model of a database that already has tables pointing at `auth.User`, so even a user model that
adds nothing yet belongs in a new project's first commit.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    """What a user may do with content; the database refuses any other value (see User.Meta)."""

    READER = "reader", "Reader"
    AUTHOR = "author", "Author"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """A person with an account. `role` says what they may do with content (lab06 enforces it).

    Everything else (username, password, email, names, staff and active flags) comes from
    Django's AbstractUser, so the admin, authentication and password tools work unchanged.
    """

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READER)

    class Meta(AbstractUser.Meta):
        ordering = ["username"]
        constraints = [
            # Choices are only checked by forms and full_clean(); this holds for every write,
            # including bulk updates, raw SQL and other programs sharing the database.
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="accounts_user_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.username
