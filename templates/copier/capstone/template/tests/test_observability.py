"""Request ids and JSON log lines (config/observability.py)."""

import json
import logging
import logging.config
import sys
from typing import Any

import pytest
from rest_framework.test import APIClient

from config.observability import (
    REQUEST_ID_HEADER,
    JsonFormatter,
    RequestIdFilter,
    current_request_id,
    logging_config,
)


def test_every_response_carries_a_request_id(api_client: APIClient) -> None:
    first = api_client.get("/api/health/live/")[REQUEST_ID_HEADER]
    second = api_client.get("/api/health/live/")[REQUEST_ID_HEADER]
    assert len(first) == 32
    assert first != second


def test_a_callers_request_id_is_kept(api_client: APIClient) -> None:
    response = api_client.get("/api/health/live/", HTTP_X_REQUEST_ID="trace-1234abcd")
    assert response[REQUEST_ID_HEADER] == "trace-1234abcd"
    assert current_request_id() == "trace-1234abcd"


@pytest.mark.parametrize("unsafe", ["short", "has spaces in it", "x" * 65, "new\nline-injected"])
def test_an_unsafe_request_id_is_replaced(api_client: APIClient, unsafe: str) -> None:
    response = api_client.get("/api/health/live/", HTTP_X_REQUEST_ID=unsafe)
    assert response[REQUEST_ID_HEADER] != unsafe


def test_json_lines_carry_the_request_id_and_extra_fields(api_client: APIClient) -> None:
    api_client.get("/api/health/live/", HTTP_X_REQUEST_ID="trace-5678efgh")
    record = logging.makeLogRecord({"name": "demo", "levelname": "INFO", "msg": "hi %s"})
    record.args = ("there",)
    record.user_id = 7  # what `logger.info(..., extra={"user_id": 7})` does
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hi there"
    assert line["request_id"] == "trace-5678efgh"
    assert line["user_id"] == 7
    assert line["level"] == "INFO"


def test_exceptions_are_logged_with_their_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("demo").makeRecord(
            "demo", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exception"]


def test_the_logging_config_is_accepted_by_the_logging_module(settings: Any) -> None:
    for json_lines in (True, False):
        logging.config.dictConfig(logging_config(level="WARNING", json_lines=json_lines))
    logging.config.dictConfig(settings.LOGGING)  # back to what the other tests expect
