"""Prometheus metrics (api/metrics.py): responses counted and timed by route, a scrape token."""

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

METRICS = "/api/metrics/"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(client: APIClient, **headers: str) -> Samples:
    response = client.get(METRICS, **headers)
    assert response.status_code == 200
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_responses_are_counted_and_timed_by_route(api_client: APIClient) -> None:
    route = ("route", "api:health-live")
    counted = ("taskboard_http_requests_total", (("method", "GET"), route, ("status", "200")))
    timed = ("taskboard_http_request_duration_seconds_count", (("method", "GET"), route))
    before = _samples(api_client)
    for _ in range(3):
        api_client.get("/api/health/live/")
    after = _samples(api_client)
    assert after[counted] - before.get(counted, 0) == 3
    assert after[timed] - before.get(timed, 0) == 3


def test_a_page_no_route_matches_is_counted_as_unmatched(api_client: APIClient) -> None:
    api_client.get("/no-such-page/")
    samples = _samples(api_client)
    assert any(dict(labels).get("route") == "unmatched" for _, labels in samples)


def test_with_a_token_only_the_scraper_sees_the_metrics(
    api_client: APIClient, settings: Any
) -> None:
    settings.METRICS_TOKEN = "scrape-me"
    assert api_client.get(METRICS).status_code == 404
    assert api_client.get(METRICS, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert _samples(api_client, HTTP_AUTHORIZATION="Bearer scrape-me")
