# FILE LAB10 SOLUTION
"""Request ids, JSON log lines, secrets kept out of them, liveness, readiness and metrics.

The log lines are read as production writes them: the console handler's own formatter (JSON)
renders each record, so what is asserted is what an operator would see.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from api.request_ids import RequestIdFilter, accepted_or_new, current_request_id
from tests.factories import make_user

pytestmark = pytest.mark.django_db


class Lines(logging.Handler):
    """A handler that keeps every record as the console handler would print it."""

    def __init__(self) -> None:
        super().__init__()
        console = next(
            h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
        )
        self.setFormatter(console.formatter)
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    # The root logger, and Django's, which LOGGING keeps from propagating to the root.
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Request ids ---------------------------------------------------------------------------------


def test_a_well_formed_request_id_is_kept_and_returned(api_client: APIClient) -> None:
    response = api_client.get("/health/live", HTTP_X_REQUEST_ID="order-42.retry_1")
    assert response["X-Request-ID"] == "order-42.retry_1"


@pytest.mark.parametrize("sent", ["two\nlines", "x" * 65, "spaces are not allowed", ""])
def test_a_malformed_request_id_is_replaced(api_client: APIClient, sent: str) -> None:
    response = api_client.get("/health/live", HTTP_X_REQUEST_ID=sent)
    returned = response["X-Request-ID"]
    assert returned != sent
    assert accepted_or_new(returned) == returned  # the new one is well formed


def test_each_request_without_an_id_gets_its_own(api_client: APIClient) -> None:
    first = api_client.get("/health/live")["X-Request-ID"]
    second = api_client.get("/health/live")["X-Request-ID"]
    assert first
    assert second != first


def test_no_request_id_outlives_its_request(api_client: APIClient) -> None:
    api_client.get("/health/live", HTTP_X_REQUEST_ID="gone-after")
    assert current_request_id.get() is None


# Log lines -----------------------------------------------------------------------------------


def test_every_line_of_a_request_is_json_with_its_id(api_client: APIClient, lines: Lines) -> None:
    api_client.get("/api/posts/", HTTP_X_REQUEST_ID="req-json-1")
    api_client.get("/no/such/page/", HTTP_X_REQUEST_ID="req-json-2")
    parsed = lines.parsed()
    finished = [line for line in parsed if line["message"] == "request finished"]
    assert [(f["request_id"], f["status"]) for f in finished] == [
        ("req-json-1", 200),
        ("req-json-2", 404),
    ]
    for line in parsed:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= set(line)
    not_found = [line for line in parsed if line["logger"] == "django.request"]
    assert not_found
    assert all(line["request_id"] == "req-json-2" for line in not_found)


def test_no_password_or_token_reaches_a_log_line(api_client: APIClient, lines: Lines) -> None:
    user = make_user(username="logged")
    user.set_password("correct-horse-battery-1")
    user.save()
    wrong = api_client.post(
        "/api/auth/token/", {"username": "logged", "password": "wrong-pass-Zq81"}, format="json"
    )
    assert wrong.status_code == 401
    right = api_client.post(
        "/api/auth/token/",
        {"username": user.username, "password": "correct-horse-battery-1"},
        format="json",
    )
    access, refresh = right.json()["access"], right.json()["refresh"]
    api_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    api_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    text = "\n".join(lines.lines)
    assert any(line["message"] == "login refused" for line in lines.parsed())
    for secret in ("wrong-pass-Zq81", "correct-horse-battery-1", access, refresh, "Bearer "):
        assert secret not in text


# Liveness and readiness ----------------------------------------------------------------------


def test_liveness_checks_nothing_but_the_process(api_client: APIClient) -> None:
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        response = api_client.get("/health/live")
    assert response.status_code == 200


def test_readiness_names_redis_when_it_is_down(api_client: APIClient) -> None:
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        response = api_client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "error"
    assert response.json()["down"] == ["redis"]


def test_readiness_is_200_when_everything_answers(api_client: APIClient, monkeypatch: Any) -> None:
    monkeypatch.setattr("api.probes.redis_check", lambda url=None: "ok")
    response = api_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_a_lost_database_is_503_in_the_error_format(
    api_client: APIClient, monkeypatch: Any
) -> None:
    from django.db import OperationalError

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("api.blog_views.PostListApi.get", lost)
    response = api_client.get("/api/posts/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


# Metrics -------------------------------------------------------------------------------------


def _samples(api_client: APIClient, **headers: str) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = api_client.get("/metrics", **headers)
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_requests_are_counted_by_view_method_and_status(api_client: APIClient) -> None:
    key = (
        "blog_http_requests_total",
        (("method", "GET"), ("status", "200"), ("view", "health-live")),
    )
    before = _samples(api_client).get(key, 0.0)
    api_client.get("/health/live")
    api_client.get("/health/live")
    after = _samples(api_client)
    assert after[key] == before + 2
    assert any(name == "blog_http_request_duration_seconds_bucket" for name, _ in after)


def test_metrics_need_the_token_where_one_is_set(api_client: APIClient) -> None:
    with override_settings(METRICS_TOKEN="scrape-me"):
        assert api_client.get("/metrics").status_code == 404
        assert _samples(api_client, HTTP_AUTHORIZATION="Bearer scrape-me")


def test_metrics_are_hidden_where_they_are_not_public(api_client: APIClient) -> None:
    with override_settings(METRICS_TOKEN="", METRICS_PUBLIC=False):
        assert api_client.get("/metrics").status_code == 404
