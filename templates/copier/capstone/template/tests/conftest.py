"""Fixtures shared by the tests: API clients and users."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def api_client() -> APIClient:
    """A client that is not logged in."""
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[[str], User]:
    """Create users by name, all with the password PASSWORD."""

    def make(username: str) -> User:
        return User.objects.create_user(
            username=username, email=f"{username}@example.com", password=PASSWORD
        )

    return make


@pytest.fixture
def owner(make_user: Callable[[str], User]) -> User:
    return make_user("owner")


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    """A client logged in as ``owner`` (tests of the tokens themselves are in test_auth.py)."""
    client = APIClient()
    client.force_authenticate(owner)
    return client
