"""Subscriptions through HTTP: follow an author, list, stop; the errors in lab04's format."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db

SUBS = "/api/subscriptions/"


def test_a_reader_follows_an_author(api_client: APIClient) -> None:
    reader = make_user(role="reader")
    author = make_user(role="author")
    api_client.force_authenticate(reader)

    response = api_client.post(SUBS, {"author": author.username}, format="json")

    assert response.status_code == 201
    assert response.json()["author"] == author.username


# TODO(lab09): your tests of this lab (labs/lab09/README.md, step 8): the subscription
# endpoints and their errors (test_notifications.py and test_list_cache.py for the task and
# the cache).
