"""Request rates per kind of caller, checked without sleeping: the throttle's clock is moved."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.throttles import RoleRateThrottle
from tests.factories import make_user

pytestmark = pytest.mark.django_db

CHEAP = "/api/categories/"


class Clock:
    """Stands in for time.time() in DRF's throttles; tests move it by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(SimpleRateThrottle, "timer", staticmethod(fake))
    return fake


def statuses(client: APIClient, count: int, path: str = CHEAP) -> set[int]:
    return {client.get(path).status_code for _ in range(count)}


def test_anonymous_callers_get_20_a_minute(api_client: APIClient, clock: Clock) -> None:
    assert statuses(api_client, 20) == {200}

    refused = api_client.get(CHEAP)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert refused["Retry-After"] == "60"
    clock.now += 60
    assert api_client.get(CHEAP).status_code == 200


@pytest.mark.parametrize(("role", "rate"), [("reader", 60), ("author", 120), ("editor", 120)])
def test_each_role_has_its_rate(api_client: APIClient, clock: Clock, role: str, rate: int) -> None:
    api_client.force_authenticate(make_user(role=role))

    assert statuses(api_client, rate) == {200}
    assert api_client.get(CHEAP).status_code == 429


def test_users_are_counted_one_by_one(api_client: APIClient, clock: Clock) -> None:
    api_client.force_authenticate(make_user(role="reader"))
    assert statuses(api_client, 61) == {200, 429}

    api_client.force_authenticate(make_user(role="reader"))

    assert api_client.get(CHEAP).status_code == 200


def test_the_health_endpoint_is_never_throttled(api_client: APIClient, clock: Clock) -> None:
    assert statuses(api_client, 30, "/api/health/") == {200}


def test_an_unknown_role_gets_the_readers_rate() -> None:
    user = make_user(role="reader")
    user.role = "guest"

    assert RoleRateThrottle.scope_for(user) == "reader"
