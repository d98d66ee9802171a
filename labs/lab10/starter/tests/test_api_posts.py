"""The post endpoints, as a client sees them: URLs, status codes, bodies, queries.

These are the public tests of lab04: a few examples of each rule in the brief, written against
URLs only, so each one fails on its own until the code it describes exists. Your own tests go
in tests/yours/.
"""

from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import make_category, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"


def post_url(post_id: int) -> str:
    return f"{POSTS}{post_id}/"


@pytest.fixture
def author() -> Any:
    return make_user(role="author")


@pytest.fixture
def author_client(api_client: APIClient, author: Any) -> APIClient:
    """A client logged in as `author` (authentication itself is lab05's subject)."""
    api_client.force_authenticate(author)
    return api_client


def assert_error(body: Any, code: str) -> dict[str, Any]:
    """`body` is the documented error body with `code`; return its `error` object."""
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


# Reading -------------------------------------------------------------------------------------


def test_the_list_shows_every_post_newest_first(api_client: APIClient) -> None:
    older = make_post(title="Older", status="published")
    newer = make_post(title="Newer", status="published")

    response = api_client.get(POSTS)

    assert response.status_code == 200
    assert [post["id"] for post in response.json()] == [newer.pk, older.pk]


def test_a_post_shows_its_author_category_and_tags(api_client: APIClient) -> None:
    post = make_post(category=make_category(name="Engineering"), status="published")
    post.tags.set([make_tag(name="django")])

    body = api_client.get(post_url(post.pk)).json()

    assert body["author"]["username"] == post.author.username
    assert body["category"]["name"] == "Engineering"
    assert [tag["name"] for tag in body["tags"]] == ["django"]


def test_the_list_costs_as_many_queries_for_six_posts_as_for_two(api_client: APIClient) -> None:
    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(POSTS).status_code == 200
        return len(queries)

    for _ in range(2):
        make_post(status="published").tags.set([make_tag()])
    few = queries_for_the_list()
    for _ in range(4):
        make_post(status="published").tags.set([make_tag()])

    assert queries_for_the_list() == few


# Writing -------------------------------------------------------------------------------------


def test_creating_a_post_answers_201_with_its_location(author_client: APIClient) -> None:
    category = make_category()

    response = author_client.post(
        POSTS, {"title": "Hello, API", "body": "First post.", "category": category.pk}, "json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["slug"], body["status"]) == ("Hello, API", "hello-api", "draft")
    assert response["Location"].endswith(post_url(body["id"]))
    assert apps.get_model("blog", "Post").objects.filter(pk=body["id"]).exists()


def test_an_anonymous_client_cannot_create_a_post(api_client: APIClient) -> None:
    response = api_client.post(
        POSTS, {"title": "T", "body": "B", "category": make_category().pk}, "json"
    )

    assert response.status_code in (401, 403)
    assert_error(response.json(), "not_authenticated")


def test_deleting_a_post_answers_204(author_client: APIClient, author: Any) -> None:
    post = make_post(author=author)  # a draft of one's own: lab06 lets authors delete those

    response = author_client.delete(post_url(post.pk))

    assert (response.status_code, response.content) == (204, b"")
    assert author_client.get(post_url(post.pk)).status_code == 404


# Errors --------------------------------------------------------------------------------------


def test_a_title_over_200_characters_is_refused(author_client: APIClient) -> None:
    response = author_client.post(
        POSTS, {"title": "x" * 201, "body": "B", "category": make_category().pk}, "json"
    )

    assert response.status_code == 400
    error = assert_error(response.json(), "validation_error")
    assert list(error["fields"]) == ["title"]


def test_a_missing_post_is_a_404_in_the_error_format(api_client: APIClient) -> None:
    response = api_client.get(post_url(987654))

    assert response.status_code == 404
    assert_error(response.json(), "not_found")


def test_put_is_not_allowed_on_a_post(author_client: APIClient) -> None:
    post = make_post()

    response = author_client.put(post_url(post.pk), {"title": "T"}, "json")

    assert response.status_code == 405
    assert_error(response.json(), "method_not_allowed")
