"""Structured logs that can be followed request by request.

Three small pieces, wired together by :func:`logging_config` (settings use it for ``LOGGING``):

``RequestIdMiddleware``
    Gives every request an id: the caller's ``X-Request-ID`` when it is a sane token (a load
    balancer or another service usually sets one), a fresh one otherwise. The id is returned in
    the response's ``X-Request-ID`` header, so a user reporting a problem can quote it.
``RequestIdFilter``
    Copies the current request's id onto every log record as ``record.request_id`` (``-`` when a
    record is not written on behalf of a request: start-up, management commands, workers).
``JsonFormatter``
    Writes each record as one JSON object on one line (time, level, logger, message, request id,
    any ``extra=`` fields, the traceback), which log collectors index without parsing rules.

Put the middleware first in ``MIDDLEWARE`` so that everything after it logs with the id.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
NO_REQUEST = "-"

# A caller's id ends up in log lines and in a response header, so only plain tokens are kept.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def current_request_id() -> str:
    """The id of the request being handled, or ``"-"`` outside a request."""
    return _request_id.get()


class RequestIdMiddleware:
    """Assign each request an id, expose it to logging, and return it as ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        # Not reset when the response leaves: Django logs 4xx and 5xx responses after the
        # middleware chain returns, and those lines need the id too. The next request (in this
        # thread or task) sets its own.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` to every record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(*, level: str = "INFO", json_lines: bool = True) -> dict[str, Any]:
    """The ``LOGGING`` setting: everything to the console (stderr), where containers collect it.

    ``json_lines`` chooses machine-readable lines (servers) or plain text (a developer's
    terminal); both carry the request id. Django's own loggers go through the same handler, so
    each record is written once, in one format.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "config.observability.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "json" if json_lines else "text",
            },
        },
        "loggers": {
            "django": {"handlers": ["console"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["console"], "level": level},
    }
