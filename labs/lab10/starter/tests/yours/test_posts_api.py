"""The post endpoints through HTTP: status codes, bodies, the error format, rows."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from blog.models import BannedTerm, Category, Post
from tests.factories import make_post, make_tag

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"


def url(post: Post) -> str:
    return f"{POSTS}{post.pk}/"


def new_post(in_category: Category, **fields: Any) -> dict[str, Any]:
    """A valid request body for POST /api/posts/, with `fields` changed."""
    return {"title": "Hello", "body": "Text.", "category": in_category.pk, **fields}


def error_fields(response: Any, code: str = "validation_error") -> dict[str, list[str]]:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    fields: dict[str, list[str]] = error["fields"]
    return fields


def test_list_and_detail_show_the_same_representation(api_client: APIClient) -> None:
    post = make_post(status="published")
    post.tags.set([make_tag(name="orm")])

    listed = api_client.get(POSTS).json()
    shown = api_client.get(url(post)).json()

    assert listed == [shown]
    assert shown["author"] == {"id": post.author.pk, "username": post.author.username}
    assert shown["tags"][0]["name"] == "orm"


def test_create_answers_201_with_location_and_the_post(
    author_client: APIClient, author: User, category: Category
) -> None:
    tag = make_tag()

    response = author_client.post(POSTS, new_post(category, tags=[tag.pk]), format="json")

    assert response.status_code == 201
    post = Post.objects.get()
    assert response["Location"] == url(post)
    assert response.json()["id"] == post.pk
    assert (post.author, post.slug, list(post.tags.all())) == (author, "hello", [tag])


def test_create_keeps_a_given_slug(author_client: APIClient, category: Category) -> None:
    response = author_client.post(POSTS, new_post(category, slug="my-slug"), format="json")

    assert response.json()["slug"] == "my-slug"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"body": ""}, "body"),
        ({"slug": "Not a slug!"}, "slug"),
        ({"title": "!!!"}, "slug"),  # nothing to make a slug of
        ({"category": 987654}, "category"),
        ({"tags": [987654]}, "tags"),
    ],
)
def test_create_refuses_invalid_fields(
    author_client: APIClient, category: Category, fields: dict[str, Any], named: str
) -> None:
    response = author_client.post(POSTS, new_post(category, **fields), format="json")

    assert list(error_fields(response)) == [named]
    assert not Post.objects.exists()


def test_create_refuses_a_banned_term(
    author_client: APIClient, category: Category, banned_term: BannedTerm
) -> None:
    response = author_client.post(POSTS, new_post(category, body="A miracle cure."), format="json")

    assert list(error_fields(response, "banned_term")) == ["body"]


def test_create_refuses_a_slug_the_author_already_uses(
    author_client: APIClient, author: User, category: Category
) -> None:
    make_post(author=author, slug="hello")

    response = author_client.post(POSTS, new_post(category), format="json")

    assert list(error_fields(response, "slug_taken")) == ["slug"]


def test_anonymous_clients_may_read_but_not_write(
    api_client: APIClient, category: Category
) -> None:
    post = make_post(status="published")

    assert api_client.get(url(post)).status_code == 200
    response = api_client.post(POSTS, new_post(category), format="json")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_patch_changes_the_given_fields(author_client: APIClient, author: User) -> None:
    post = make_post(author=author, title="Old", body="Body stays.")

    response = author_client.patch(url(post), {"title": "New"}, format="json")

    assert response.status_code == 200
    assert (response.json()["title"], response.json()["body"]) == ("New", "Body stays.")
    post.refresh_from_db()
    assert post.title == "New"


def test_patch_refuses_invalid_fields(author_client: APIClient, author: User) -> None:
    post = make_post(author=author, title="Old")

    response = author_client.patch(url(post), {"title": "x" * 201}, format="json")

    assert list(error_fields(response)) == ["title"]
    post.refresh_from_db()
    assert post.title == "Old"


def test_delete_answers_204_and_removes_the_post(author_client: APIClient, author: User) -> None:
    post = make_post(author=author)

    response = author_client.delete(url(post))

    assert (response.status_code, response.content) == (204, b"")
    assert not Post.objects.exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_missing_post_is_404_in_the_error_format(author_client: APIClient, method: str) -> None:
    response = getattr(author_client, method)(f"{POSTS}987654/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_put_is_405_in_the_error_format(author_client: APIClient) -> None:
    response = author_client.put(url(make_post()), {}, format="json")

    assert response.status_code == 405
    assert "PATCH" in response["Allow"]
    assert set(response.json()["error"]) == {"code", "message"}


def test_a_body_that_is_not_json_is_a_parse_error(author_client: APIClient) -> None:
    response = author_client.post(POSTS, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
