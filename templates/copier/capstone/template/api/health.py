"""Health of the service and of what it depends on, for load balancers and monitors."""

import logging
from typing import Literal, TypedDict

from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

CheckStatus = Literal["ok", "error"]


class HealthReport(TypedDict):
    status: CheckStatus
    checks: dict[str, CheckStatus]


def database_check() -> CheckStatus:
    """Run a trivial query on the default database; log the error and report it when it fails."""
    try:
        connection = connections["default"]
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database is unreachable")
        return "error"
    return "ok"


def cache_check() -> CheckStatus:
    """Write a key to the cache and read it back."""
    try:
        cache.set("health:probe", "ok", timeout=10)
        healthy = cache.get("health:probe") == "ok"
    # Each cache backend raises its own exception types (redis-py's ConnectionError, ...), and
    # none of them may turn a health check into a 500.
    except Exception:
        logger.exception("health check: the cache is unreachable")
        return "error"
    if not healthy:
        logger.error("health check: the cache did not return the value just written")
    return "ok" if healthy else "error"


def health_report() -> HealthReport:
    """Every dependency's status; the overall status is "ok" only when each check is "ok".

    Only "ok" or "error" leaves this function: details go to the logs, never to the (public)
    response.
    """
    checks: dict[str, CheckStatus] = {"database": database_check(), "cache": cache_check()}
    status: CheckStatus = "ok" if all(v == "ok" for v in checks.values()) else "error"
    return {"status": status, "checks": checks}
