"""Accounts and tokens through HTTP, and the registration service on its own."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def test_register_creates_a_reader(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register/", {"username": "grace", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "reader"
    assert User.objects.get(username="grace").check_password(PASSWORD)


# TODO(lab05): test the rest of your work the same way (labs/lab05/README.md, step 6):
# weak passwords and taken usernames refused, the role claim, rotation, logout, "me", and
# user_register() on its own.
