"""Metrics for Prometheus, with prometheus-client: every response counted and timed by route.

- ``taskboard_http_requests_total{route, method, status}``: every response, by the URL pattern
  that matched (``unmatched`` when none did: one label per raw path would grow without bound);
- ``taskboard_http_request_duration_seconds{route, method}``: how long each took.

``GET /api/metrics/`` serves them in Prometheus' text format. Where ``METRICS_TOKEN`` is set
(production), the scraper sends ``Authorization: Bearer <METRICS_TOKEN>`` and anyone else gets
404, as if nothing were there. Each Gunicorn worker counts its own requests: Prometheus scrapes
one worker at a time, so run one worker per container or prometheus-client's multiprocess mode.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter(
    "taskboard_http_requests",
    "HTTP responses, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "taskboard_http_request_duration_seconds",
    "Time from a request's arrival to its response, by route and method.",
    ["route", "method"],
)


def route_of(request: HttpRequest) -> str:
    """The matched URL pattern's name (``api:task-list``), or ``unmatched``."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class MetricsMiddleware:
    """Counts and times every response; placed right after the request-id middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route, method = route_of(request), request.method or "GET"
        REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        LATENCY.labels(route=route, method=method).observe(time.perf_counter() - started)
        return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format; 404 without the bearer token where one is set."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise Http404
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
