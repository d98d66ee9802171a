"""Fixtures for the tests in this folder (tests/conftest.py's `api_client` is available too)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from blog.models import BannedTerm, Category
from tests.factories import make_category, make_user


@pytest.fixture
def author() -> User:
    user: User = make_user(role="author")
    return user


@pytest.fixture
def author_client(api_client: APIClient, author: User) -> APIClient:
    """`api_client`, logged in as `author` (logging in for real is lab05's subject)."""
    api_client.force_authenticate(author)
    return api_client


@pytest.fixture
def category() -> Category:
    found: Category = make_category(name="Engineering", slug="engineering")
    return found


@pytest.fixture
def banned_term() -> BannedTerm:
    return BannedTerm.objects.create(term="miracle cure", reason="Unfounded health claims.")
