"""Pages, filters, search, ordering, versions and rates of the post list, through HTTP.

Like every test in this folder it reaches the project only through URLs and the app registry,
so in an unfinished project each test fails on its own, naming the missing behaviour.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import make_category, make_post, make_user

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"
V2 = "application/json; version=2"


def test_version_2_answers_pages_of_10(api_client: APIClient) -> None:
    author, category = make_user(role="author"), make_category()
    for _ in range(11):
        make_post(author=author, category=category, status="published")

    body = api_client.get(POSTS, HTTP_ACCEPT=V2).json()

    assert (body["count"], len(body["results"]), body["previous"]) == (11, 10, None)
    assert "page=2" in body["next"]


def test_version_1_is_an_array_and_deprecated(api_client: APIClient) -> None:
    response = api_client.get(POSTS)

    assert response.json() == []
    assert response["Deprecation"].startswith("@")
    assert response["Sunset"].endswith("GMT")
    assert 'rel="deprecation"' in response["Link"]


def test_an_unknown_version_is_406(api_client: APIClient) -> None:
    response = api_client.get(POSTS, HTTP_ACCEPT="application/json; version=9")

    assert response.status_code == 406


def test_filters_and_search_narrow_the_list(api_client: APIClient) -> None:
    wanted = make_post(title="Query plans", status="published", category=make_category(slug="db"))
    make_post(title="Query plans too", status="published")

    found = api_client.get(f"{POSTS}?category=db&search=plans", HTTP_ACCEPT=V2).json()

    assert [row["id"] for row in found["results"]] == [wanted.pk]


def test_a_bad_date_is_400_naming_it(api_client: APIClient) -> None:
    response = api_client.get(f"{POSTS}?published_after=someday", HTTP_ACCEPT=V2)

    assert response.status_code == 400
    assert "published_after" in response.json()["error"]["fields"]


def test_ordering_by_an_unlisted_field_is_400(api_client: APIClient) -> None:
    response = api_client.get(f"{POSTS}?ordering=body", HTTP_ACCEPT=V2)

    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["fields"]


def test_anonymous_callers_are_throttled_after_20(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(lambda: 1_000_000.0))
    statuses = [api_client.get("/api/categories/").status_code for _ in range(21)]

    assert statuses == [200] * 20 + [429]
    assert api_client.get("/api/health/").status_code == 200
