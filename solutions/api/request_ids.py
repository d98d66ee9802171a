# FILE LAB10 SOLUTION
"""Request ids: one id per request, on the response, on every log line, and in the tasks it queued.


- **Accepted or made here.** A client (or the proxy in front of us) may send ``X-Request-ID``.
  It is used only when it is well formed: 1 to 64 letters, digits, ``-``, ``_`` or ``.``.
  Anything else (a newline that would forge a second log line, a megabyte of text) is never
  echoed or logged; a fresh id is made instead, as when the header is missing.
- **Returned.** Every response carries the id in ``X-Request-ID``, so a caller can quote it.
- **On every line.** :class:`RequestIdFilter`, attached to the console handler, copies the
  current id onto each log record; the JSON formatter prints it as ``request_id``.
- **Into the tasks.** A task queued while a request is served carries the id in its message
  headers (``before_task_publish``); the worker restores it while the task runs
  (``task_prerun``/``task_postrun``), so the task's lines carry the same id.
- **One line per request.** The middleware logs ``request finished`` with the method, path,
  status and duration; never headers or bodies, which hold passwords and tokens.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What a request id may look like when a client sends one: short, and nothing that could end
# a log line or smuggle markup into one.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_request_id", default=None
)

logger = logging.getLogger("api.requests")


def accepted_or_new(sent: str | None) -> str:
    """The id a request is known by: the one it sent when well formed, else a new uuid4."""
    if sent is not None and WELL_FORMED.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None outside a request or task) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class RequestIdMiddleware:
    """First in MIDDLEWARE: names the request, logs one line when it is done, returns the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted_or_new(request.headers.get(HEADER))
        # Not reset when this returns: Django logs a 4xx or 5xx ("Not Found: /x") after the
        # middleware, and that line belongs to the request too. request_finished clears it.
        current_request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        logger.info(
            "request finished",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


@receiver(request_finished)
def _forget_request(**_: Any) -> None:
    """The response has been sent (and logged): lines from now on belong to no request."""
    current_request_id.set(None)


@before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Queued during a request: the task's message carries the request's id."""
    request_id = current_request_id.get()
    if headers is not None and request_id is not None:
        headers["request_id"] = request_id


_task_tokens: dict[str, contextvars.Token[str | None]] = {}


@task_prerun.connect
def _restore_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """In the worker: the task's lines carry the id of the request that queued it (or None)."""
    sent = getattr(getattr(task, "request", None), "request_id", None)
    request_id = sent if isinstance(sent, str) and WELL_FORMED.fullmatch(sent) else None
    if task_id is not None:
        _task_tokens[task_id] = current_request_id.set(request_id)


@task_postrun.connect
def _forget_request_id(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        current_request_id.reset(token)
