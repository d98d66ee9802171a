# FILE LAB10 SOLUTION
"""Metrics for Prometheus, with prometheus-client: what the service did, counted where it happened.

- ``blog_http_requests_total{view, method, status}``: every response, by the URL pattern's name
  (``unmatched`` when no route matched: a label per raw path would grow without bound);
- ``blog_http_request_duration_seconds{view, method}``: a latency histogram;
- ``blog_task_failures_total{task}``: tasks that ended in failure (after their last retry).

``GET /metrics`` serves them in Prometheus' text format. Where ``METRICS_TOKEN`` is set, the
scraper sends ``Authorization: Bearer <METRICS_TOKEN>`` and anyone else gets 404, as if nothing
were there; without a token they are served only where ``METRICS_PUBLIC`` is on (never in
production, whose settings turn it off).
Each Gunicorn worker counts its own requests; run one worker per container (WEB_CONCURRENCY=1)
or prometheus-client's multiprocess mode when a container runs several.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

from celery.signals import task_failure
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter(
    "blog_http_requests",
    "HTTP responses, by view, method and status.",
    ["view", "method", "status"],
)
LATENCY = Histogram(
    "blog_http_request_duration_seconds",
    "Time from the request's arrival to its response, by view and method.",
    ["view", "method"],
)
TASK_FAILURES = Counter(
    "blog_task_failures",
    "Celery tasks that failed for good (after their last retry), by task name.",
    ["task"],
)


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.url_name or "unnamed"


class MetricsMiddleware:
    """Counts every response and times it; placed right after RequestIdMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_name(request)
        method = request.method or "GET"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        return response


@task_failure.connect
def _count_task_failure(sender: Any = None, **_: Any) -> None:
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format; 404 without the bearer token where one is set."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise Http404
    elif not settings.METRICS_PUBLIC:
        raise Http404
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
