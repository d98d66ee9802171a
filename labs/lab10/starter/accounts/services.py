"""The accounts app's writes: keyword-only, typed, each in one transaction.

Registration lives here rather than in a serializer's `create()` so every way in (the API, a
management command, the admin's tests) makes users by the same rule: a new account is a reader,
whatever the request asked for, and its password is stored only as a hash.
"""

from __future__ import annotations

from django.db import transaction

from .models import Role, User


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "") -> User:
    """A new reader. `password` must already have passed Django's password validation."""
    user: User = User.objects.create_user(
        username=username, email=email, password=password, role=Role.READER
    )
    return user
