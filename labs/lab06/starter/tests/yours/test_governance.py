"""Roles, the editorial workflow and the audit trail: who may see and do what, and the record."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from blog.models import Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"


def url(post: Post, tail: str = "") -> str:
    return f"{POSTS}{post.pk}/{tail}"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_clients_do_not_see_drafts() -> None:
    draft = make_post()
    published = make_post(status="published")

    client = client_for(None)

    assert [post["id"] for post in client.get(POSTS).json()] == [published.pk]
    assert client.get(url(draft)).status_code == 404


# TODO(lab06): your tests of this lab (labs/lab06/README.md, step 8): every role against
# every action (a table and pytest.mark.parametrize), the workflow's moves and refusals,
# the audit entries each change writes (and that a refusal writes none), the history.
