"""Health endpoints: readiness checks dependencies, liveness only the process."""

from unittest import mock

import pytest
from django.db import DatabaseError
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_ready_when_every_dependency_answers(api_client: APIClient) -> None:
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_not_ready_when_the_database_fails(api_client: APIClient) -> None:
    with mock.patch("api.health.connections") as connections:
        connections.__getitem__.return_value.ensure_connection.side_effect = DatabaseError("down")
        response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"
    assert "down" not in response.content.decode()  # details go to the logs only


@pytest.mark.django_db
def test_not_ready_when_the_cache_fails(api_client: APIClient) -> None:
    with mock.patch("api.health.cache") as cache:
        cache.set.side_effect = ConnectionError("redis is gone")
        response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error"}


@pytest.mark.django_db
def test_not_ready_when_the_cache_loses_values(api_client: APIClient) -> None:
    with mock.patch("api.health.cache") as cache:
        cache.get.return_value = None
        response = api_client.get("/api/health/")
    assert response.status_code == 503


def test_alive_without_touching_dependencies(api_client: APIClient) -> None:
    # No database access is allowed here (no django_db mark): liveness must not need it.
    response = api_client.get("/api/health/live/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_health_is_read_only(api_client: APIClient) -> None:
    assert api_client.post("/api/health/", {}).status_code == 405
