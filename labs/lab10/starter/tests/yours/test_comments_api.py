"""A post's comments through HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from blog.models import BannedTerm
from tests.factories import make_comment, make_post

pytestmark = pytest.mark.django_db


def comments_url(post_id: int) -> str:
    return f"/api/posts/{post_id}/comments/"


def test_comments_are_listed_oldest_first(api_client: APIClient) -> None:
    post = make_post(status="published")
    first, second = make_comment(post=post), make_comment(post=post)

    response = api_client.get(comments_url(post.pk))

    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [first.pk, second.pk]


def test_adding_a_comment_answers_201(author_client: APIClient, author: User) -> None:
    post = make_post(status="published")

    response = author_client.post(comments_url(post.pk), {"body": "Nice."}, format="json")

    assert response.status_code == 201
    assert response.json()["author"]["id"] == author.pk
    assert post.comments.get().body == "Nice."


@pytest.mark.parametrize("body", ["", "   "])
def test_a_blank_comment_is_refused(author_client: APIClient, body: str) -> None:
    post = make_post(status="published")

    response = author_client.post(comments_url(post.pk), {"body": body}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["body"]


def test_a_comment_with_a_banned_term_is_refused(
    author_client: APIClient, banned_term: BannedTerm
) -> None:
    response = author_client.post(
        comments_url(make_post(status="published").pk), {"body": "miracle cure"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "banned_term"


def test_comments_of_a_missing_post_are_404(author_client: APIClient) -> None:
    missing = comments_url(987654)

    assert author_client.get(missing).status_code == 404
    assert author_client.post(missing, {"body": "Hi"}, format="json").status_code == 404
