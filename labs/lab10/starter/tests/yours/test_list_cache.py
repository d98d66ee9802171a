"""The cached post list: hits, keys per caller, invalidation by the services, Redis down.

The test settings do not cache lists (a test writing rows with the factories would read stale
lists); these tests switch the "lists" cache on, in memory, with override_settings.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from blog.cache import CACHE_ALIAS, cached_post_list, post_lists_changed, viewer_scope
from blog.services import post_update
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = "/api/posts/"
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lists-test"}


@pytest.fixture(autouse=True)
def _lists_cached(settings: Any) -> Iterator[None]:
    with override_settings(CACHES={**settings.CACHES, CACHE_ALIAS: LOCMEM}):
        caches[CACHE_ALIAS].clear()
        yield


def _queries(client: APIClient, path: str = POSTS) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_a_second_list_runs_no_query(api_client: APIClient) -> None:
    make_post(status="published")

    assert _queries(api_client) > 0
    assert _queries(api_client) == 0


def test_an_edit_through_the_service_shows_at_once(api_client: APIClient) -> None:
    post = make_post(status="published", title="Before")
    api_client.get(POSTS)

    post_update(post=post, title="After")

    assert [row["title"] for row in api_client.get(POSTS).json()] == ["After"]


def test_an_authors_drafts_stay_theirs(api_client: APIClient) -> None:
    draft = make_post(status="draft")
    api_client.force_authenticate(draft.author)
    assert [row["id"] for row in api_client.get(POSTS).json()] == [draft.pk]

    api_client.force_authenticate(None)
    assert api_client.get(POSTS).json() == []


def test_scopes() -> None:
    assert viewer_scope(None) == "public"
    assert viewer_scope(make_user(role="reader")) == "public"
    author = make_user(role="author")
    assert viewer_scope(author) == f"user-{author.pk}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_redis_down_is_a_miss_not_an_error(api_client: APIClient, settings: Any) -> None:
    down = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
    }
    make_post(status="published")
    with override_settings(CACHES={**settings.CACHES, CACHE_ALIAS: down}):
        assert api_client.get(POSTS).status_code == 200
        assert cached_post_list(key="k", build=lambda: [1]) == [1]
        post_lists_changed()  # logs, never raises
