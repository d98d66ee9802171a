# FILE LAB10 SOLUTION
"""Liveness and readiness: two questions an orchestrator asks, answered apart.

- ``GET /health/live``: is this process able to answer at all? It checks nothing else, so a
  database or Redis outage never makes the orchestrator restart healthy web processes (which
  would not bring the database back, and would drop the requests they were serving).
- ``GET /health/ready``: should this instance get traffic now? It checks the database and the
  Redis the tasks are queued on, and answers 503 naming each dependency that is down, so the
  load balancer routes around it and whoever is on call sees what to look at.

Both are plain Django views: no authentication, no throttling, no API version, no database
query for liveness. The details of a failure are logged, never returned.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import CheckStatus, database_check

logger = logging.getLogger(__name__)

# A readiness probe must answer before the orchestrator's own timeout (often 1 s).
REDIS_TIMEOUT_SECONDS = 0.5


def redis_check(url: str | None = None) -> CheckStatus:
    """Tell whether the broker's Redis (CELERY_BROKER_URL) answers PING; "error" otherwise."""
    target = url or settings.CELERY_BROKER_URL
    try:
        client = redis.Redis.from_url(
            target,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError, ValueError) as error:
        logger.warning("readiness: Redis is unreachable", extra={"error": str(error)})
        return "error"
    return "ok"


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """200 while the process can run a view; nothing else is checked."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer; 503 naming each one that does not."""
    checks: dict[str, CheckStatus] = {"database": database_check(), "redis": redis_check()}
    down = sorted(name for name, result in checks.items() if result != "ok")
    body: dict[str, object] = {"status": "error" if down else "ok", "checks": checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
