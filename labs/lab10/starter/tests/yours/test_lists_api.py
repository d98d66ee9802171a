"""The post list's pages, filters, search, ordering and versions, through HTTP."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from blog.filters import DateOrDateTimeField, search_posts
from blog.models import Post
from tests.factories import make_category, make_comment, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"
V2 = "application/json; version=2"
DAY = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)


def published(**fields: Any) -> Post:
    fields.setdefault("published_at", DAY)
    post: Post = make_post(status="published", **fields)
    return post


def page(client: APIClient, query: str = "") -> dict[str, Any]:
    response = client.get(POSTS + query, HTTP_ACCEPT=V2)
    assert response.status_code == 200, response.json()
    body: dict[str, Any] = response.json()
    return body


def ids(client: APIClient, query: str = "") -> list[int]:
    return [row["id"] for row in page(client, query)["results"]]


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    found: dict[str, Any] = response.json()["error"]
    assert found["code"] == code
    return found


def test_version_2_pages_the_list(api_client: APIClient) -> None:
    author, category = make_user(role="author"), make_category()
    posts = [published(author=author, category=category) for _ in range(12)]

    first = page(api_client)
    second = page(api_client, "?page=2")

    assert (first["count"], len(first["results"]), first["previous"]) == (12, 10, None)
    assert first["next"].endswith("?page=2")
    assert (second["next"], len(second["results"])) == (None, 2)
    assert {r["id"] for r in first["results"] + second["results"]} == {p.pk for p in posts}


def test_page_size_is_capped_at_50(api_client: APIClient) -> None:
    author, category = make_user(role="author"), make_category()
    for _ in range(51):
        published(author=author, category=category)

    assert len(page(api_client, "?page_size=3")["results"]) == 3
    assert len(page(api_client, "?page_size=1000")["results"]) == 50


def test_a_page_past_the_end_is_404(api_client: APIClient) -> None:
    published()

    error(api_client.get(POSTS + "?page=2", HTTP_ACCEPT=V2), 404, "not_found")


def test_comments_are_paged_in_version_2_only(api_client: APIClient) -> None:
    post = published()
    for _ in range(11):
        make_comment(post=post)
    url = f"{POSTS}{post.pk}/comments/"

    assert api_client.get(url, HTTP_ACCEPT=V2).json()["count"] == 11
    assert len(api_client.get(url).json()) == 11


def test_version_1_is_an_array_with_deprecation_headers(api_client: APIClient) -> None:
    published()

    response = api_client.get(POSTS)

    assert isinstance(response.json(), list)
    assert response["Deprecation"] == "@1788220800"
    assert response["Sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    assert response["Link"].endswith('; rel="deprecation"')


def test_version_2_has_no_deprecation_headers(api_client: APIClient) -> None:
    response = api_client.get(POSTS, HTTP_ACCEPT=V2)

    assert [h for h in ("Deprecation", "Sunset") if h in response] == []


def test_an_unknown_version_is_406(api_client: APIClient) -> None:
    response = api_client.get(POSTS, HTTP_ACCEPT="application/json; version=9")

    error(response, 406, "not_acceptable")


def test_the_health_endpoint_is_not_versioned(api_client: APIClient) -> None:
    response = api_client.get("/api/health/", HTTP_ACCEPT="application/json; version=9")

    assert response.status_code == 200
    assert "Deprecation" not in response


def test_filters_combine(api_client: APIClient) -> None:
    ada, grace = make_user(username="ada", role="author"), make_user(role="author")
    orm, web = make_category(slug="orm"), make_category(slug="web")
    sql = make_tag(slug="sql")
    wanted = published(author=ada, category=orm)
    wanted.tags.set([sql])
    published(author=ada, category=web).tags.set([sql])
    published(author=grace, category=orm).tags.set([sql])

    assert ids(api_client, "?author=ada&category=orm&tag=sql&status=published") == [wanted.pk]
    assert ids(api_client, "?author=nobody") == []


def test_the_date_range_is_inclusive(api_client: APIClient) -> None:
    first = published(published_at=datetime.datetime(2024, 9, 1, tzinfo=datetime.UTC))
    last = published(published_at=datetime.datetime(2024, 9, 30, 23, 59, tzinfo=datetime.UTC))
    published(published_at=datetime.datetime(2024, 10, 1, tzinfo=datetime.UTC))

    got = ids(api_client, "?published_after=2024-09-01&published_before=2024-09-30")
    assert got == [last.pk, first.pk]
    assert ids(api_client, "?published_before=2024-09-01T00:00:00") == [first.pk]
    assert len(ids(api_client, "?published_after=2024-09-30T23:59:00Z")) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?published_after=soon", "published_after"),
        ("?published_before=2024-02-30", "published_before"),
        ("?status=lost", "status"),
        ("?category=nope", "category"),
        ("?tag=nope", "tag"),
    ],
)
def test_a_bad_filter_value_is_400(api_client: APIClient, query: str, field: str) -> None:
    found = error(api_client.get(POSTS + query, HTTP_ACCEPT=V2), 400, "validation_error")

    assert field in found["fields"]


def test_filters_never_show_someone_elses_draft(api_client: APIClient) -> None:
    owner = make_user(role="author")
    make_post(author=owner, title="Secret", status="draft")
    reader = make_user(role="reader")
    api_client.force_authenticate(reader)

    assert page(api_client, "?status=draft")["count"] == 0
    assert ids(api_client, "?search=secret") == []
    assert ids(api_client, f"?author={owner.username}&ordering=title") == []


def test_an_author_filters_their_own_drafts(api_client: APIClient) -> None:
    author: User = make_user(role="author")
    draft = make_post(author=author, status="draft")
    published(author=author)
    api_client.force_authenticate(author)

    assert ids(api_client, "?status=draft") == [draft.pk]


def test_search_matches_every_word_in_title_or_body(api_client: APIClient) -> None:
    both = published(title="Indexes", body="Caching helps too.")
    published(title="Indexes only", body="Nothing else.")
    published(title="Other", body="Unrelated.")

    assert ids(api_client, "?search=caching+INDEXES") == [both.pk]
    assert len(ids(api_client, "?search=indexes")) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search: PostgreSQL only")
def test_search_stems_and_ranks_on_postgresql() -> None:
    in_body = published(title="Notes", body="The guide was published.")
    in_title = published(title="Publishing", body="A checklist.")

    found = list(search_posts(Post.objects.all(), "publishing"))

    assert found == [in_title, in_body]


def test_ordering_uses_the_allowed_fields_then_newest_id(api_client: APIClient) -> None:
    early = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    b = published(title="B", published_at=early)
    a_late = published(title="A")
    a_early = published(title="A", published_at=early)

    assert ids(api_client, "?ordering=title") == [a_early.pk, a_late.pk, b.pk]
    assert ids(api_client, "?ordering=-published_at,-title") == [a_late.pk, b.pk, a_early.pk]


def test_equal_values_page_in_a_stable_order(api_client: APIClient) -> None:
    posts = [published(title="Same") for _ in range(5)]

    seen = ids(api_client, "?ordering=title&page_size=2")
    seen += ids(api_client, "?ordering=title&page_size=2&page=2")
    seen += ids(api_client, "?ordering=title&page_size=2&page=3")

    assert seen == sorted((p.pk for p in posts), reverse=True)


@pytest.mark.parametrize("ordering", ["body", "author__password", "title,id__foo"])
def test_ordering_by_another_field_is_400(api_client: APIClient, ordering: str) -> None:
    response = api_client.get(f"{POSTS}?ordering={ordering}", HTTP_ACCEPT=V2)

    message = error(response, 400, "validation_error")["fields"]["ordering"][0]
    assert "published_at, created_at, title" in message


def test_an_empty_ordering_keeps_the_default_order(api_client: APIClient) -> None:
    older, newer = published(), published()

    assert ids(api_client, "?ordering=") == [newer.pk, older.pk]


def test_date_field_accepts_dates_and_times() -> None:
    field = DateOrDateTimeField(required=False)

    assert field.clean("2024-09-17") == datetime.date(2024, 9, 17)
    assert field.clean("2024-09-17T08:30:00") == DAY
    assert field.clean("") is None
