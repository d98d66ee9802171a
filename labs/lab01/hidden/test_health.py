"""lab01 hidden checks: the health endpoint, healthy and during a database outage."""

from __future__ import annotations

import pytest

HEALTH = "/api/health/"


@pytest.mark.django_db
def test_health_reports_ok(api):
    response = api.get(HEALTH)
    assert response.status == 200, f"GET {HEALTH} answered {response.status}, expected 200"
    assert response.content_type == "application/json", (
        f"GET {HEALTH} answered with content type {response.content_type or 'none'}, expected application/json"
    )
    body = response.json()
    assert isinstance(body, dict) and body.get("status") == "ok", (
        f"GET {HEALTH} body has status {body.get('status') if isinstance(body, dict) else body!r}, expected \"ok\""
    )
    checks = body.get("checks")
    assert isinstance(checks, dict) and checks.get("database") == "ok", (
        f"GET {HEALTH} body has checks = {checks!r}; expected {{\"database\": \"ok\"}}"
    )


@pytest.mark.django_db
def test_health_is_read_only(api):
    response = api.post(HEALTH, json_body={})
    assert response.status == 405, f"POST {HEALTH} answered {response.status}, expected 405"


def test_health_reports_database_outage(api, database_outage):
    response = api.get(HEALTH)
    assert response.status == 503, (
        f"GET {HEALTH} answered {response.status} while the database was unreachable, expected 503"
    )
    body = response.json()
    assert isinstance(body, dict) and body.get("status") == "error", (
        f"during the outage the body's status is {body.get('status') if isinstance(body, dict) else body!r}, expected \"error\""
    )
    checks = body.get("checks")
    assert isinstance(checks, dict) and checks.get("database") == "error", (
        f"during the outage checks = {checks!r}; expected {{\"database\": \"error\"}}"
    )
