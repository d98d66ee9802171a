"""Health checks: can this instance serve requests right now?

Selectors here only read state. They never raise for an unhealthy dependency; they report it,
and log the details for whoever is on call.
"""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

CheckStatus = Literal["ok", "error"]


class HealthReport(TypedDict):
    """The health endpoint's body: an overall status and one status per dependency."""

    status: CheckStatus
    checks: dict[str, CheckStatus]


def database_check(*, alias: str = "default") -> CheckStatus:
    """Tell whether the database `alias` accepts a connection and answers a trivial query.

    Returns "error" instead of raising when the database cannot be reached or fails the query;
    the error and its traceback are logged, never returned, because they can hold host names
    and user names that a public endpoint must not reveal.
    """
    connection = connections[alias]
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check failed: database %r is unreachable", alias)
        return "error"
    return "ok"


def health_report() -> HealthReport:
    """Run every check and summarise them: the status is "ok" only when all checks are "ok"."""
    checks: dict[str, CheckStatus] = {"database": database_check()}
    status: CheckStatus = "ok" if all(result == "ok" for result in checks.values()) else "error"
    return {"status": status, "checks": checks}
