"""Roles, the editorial workflow and the audit trail, as a client sees them.

The public tests of lab06: a few cells of the permission matrix, the workflow's happy path and
two refusals, and the history. Written against URLs and the app registry only, so each one
fails on its own until the behaviour it describes exists. Your own tests go in tests/yours/.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from tests.factories import make_category, make_post, make_user

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"


def url(post: Any, tail: str = "") -> str:
    return f"{POSTS}{post.pk}/{tail}"


def as_user(role: str | None, user: Any = None) -> APIClient:
    client = APIClient()
    if role is not None:
        client.force_authenticate(user or make_user(role=role))
    return client


def test_drafts_are_hidden_from_other_authors_in_the_list_and_by_id() -> None:
    draft = make_post()
    client = as_user("author")

    assert client.get(POSTS).json() == []
    response = client.get(url(draft))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_authors_see_their_own_drafts() -> None:
    author = make_user(role="author")
    draft = make_post(author=author)

    assert [post["id"] for post in as_user("author", author).get(POSTS).json()] == [draft.pk]


def test_a_reader_cannot_create_a_post() -> None:
    response = as_user("reader").post(
        POSTS, {"title": "T", "body": "B", "category": make_category().pk}, "json"
    )

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")


def test_an_author_cannot_edit_someone_elses_published_post() -> None:
    post = make_post(status="published", title="Theirs")

    response = as_user("author").patch(url(post), {"title": "Mine now"}, "json")

    assert response.status_code == 403
    post.refresh_from_db()
    assert post.title == "Theirs"


def test_submit_then_publish() -> None:
    author = make_user(role="author")
    post = make_post(author=author)

    submit, publish = {"to": "in_review"}, {"to": "published"}

    submitted = as_user("author", author).post(url(post, "transition/"), submit, "json")
    published = as_user("editor").post(url(post, "transition/"), publish, "json")

    assert (submitted.status_code, submitted.json()["status"]) == (200, "in_review")
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert published.json()["published_at"] is not None


def test_an_author_cannot_publish_their_own_post() -> None:
    author = make_user(role="author")
    post = make_post(author=author, status="in_review")

    response = as_user("author", author).post(url(post, "transition/"), {"to": "published"}, "json")

    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")


def test_a_draft_cannot_skip_review() -> None:
    post = make_post()

    response = as_user("editor").post(url(post, "transition/"), {"to": "published"}, "json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")
    post.refresh_from_db()
    assert post.status == "draft"


def test_the_history_records_who_did_what() -> None:
    author, editor = make_user(role="author"), make_user(role="editor")
    post = make_post(author=author, status="in_review")
    as_user("editor", editor).post(url(post, "transition/"), {"to": "published"}, "json")

    history = as_user("author", author).get(url(post, "history/"))

    assert history.status_code == 200
    [entry] = history.json()
    assert (entry["action"], entry["actor"]["id"]) == ("published", editor.pk)
    assert (entry["from_status"], entry["to_status"]) == ("in_review", "published")
    assert apps.get_model("blog", "AuditEntry").objects.filter(post_ref=post.pk).count() == 1


def test_a_reader_cannot_read_a_posts_history() -> None:
    post = make_post(status="published")

    assert as_user("reader").get(url(post, "history/")).status_code == 403
