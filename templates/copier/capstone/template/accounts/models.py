"""The people who use the API."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The project's user, custom from the first migration.

    It adds nothing yet. Starting with a custom model costs nothing now, while switching to one
    after the first migration means rewriting the database: add roles or a profile here later.
    """
