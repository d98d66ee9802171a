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
    assert response["Location"] == f"{SUBS}{response.json()['id']}/"
    assert [row["author"] for row in api_client.get(SUBS).json()] == [author.username]


def test_following_twice_is_409(api_client: APIClient) -> None:
    api_client.force_authenticate(make_user(role="reader"))
    author = make_user(role="author")
    api_client.post(SUBS, {"author": author.username}, format="json")

    response = api_client.post(SUBS, {"author": author.username}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_subscribed"


@pytest.mark.parametrize("target", ["reader", "nobody", "self"])
def test_only_another_author_can_be_followed(api_client: APIClient, target: str) -> None:
    reader = make_user(role="author")
    names = {
        "reader": make_user(role="reader").username,
        "nobody": "no-such-user",
        "self": reader.username,
    }
    api_client.force_authenticate(reader)

    response = api_client.post(SUBS, {"author": names[target]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_an_author"
    assert "author" in response.json()["error"]["fields"]


def test_only_the_subscriber_unsubscribes(api_client: APIClient) -> None:
    reader = make_user(role="reader")
    api_client.force_authenticate(reader)
    created = api_client.post(SUBS, {"author": make_user(role="author").username}, format="json")
    url = f"{SUBS}{created.json()['id']}/"

    api_client.force_authenticate(make_user(role="reader"))
    assert api_client.delete(url).status_code == 404
    api_client.force_authenticate(reader)
    assert api_client.delete(url).status_code == 204
    assert api_client.get(SUBS).json() == []


def test_anonymous_callers_are_401(api_client: APIClient) -> None:
    assert api_client.get(SUBS).status_code == 401
