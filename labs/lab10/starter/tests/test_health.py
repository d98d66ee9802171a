"""GET /api/health/: what uptime monitors and load balancers see.

The tests go through the URL, not through the view or selector modules, so they describe the
contract and keep working however the endpoint is written.
"""

import logging

import pytest
from django.db import OperationalError, connections
from rest_framework.test import APIClient

HEALTH_URL = "/api/health/"

# A fake server error, written to look like what a real driver says; it must reach the logs
# only, never the response body.
OUTAGE_MESSAGE = 'connection to server at "db.internal" failed: password for user "blog" wrong'


@pytest.fixture
def database_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the default database refuse every connection for the rest of the test.

    Django opens a connection through `ensure_connection()` before any query, and that is where
    a real outage (server down, wrong password, network gone) surfaces as OperationalError.
    Replacing that one method on the live connection simulates the outage for any code that uses
    the database, whether it calls ensure_connection() itself or just opens a cursor, without
    needing a second database server, and monkeypatch restores the method afterwards. The test
    using it does not request database access, so no connection is open beforehand.
    """

    def refuse_connection() -> None:
        raise OperationalError(OUTAGE_MESSAGE)

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse_connection)


@pytest.mark.django_db
def test_health_reports_ok_when_the_database_answers(api_client: APIClient) -> None:
    response = api_client.get(HEALTH_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.usefixtures("database_outage")
def test_health_reports_503_when_the_database_is_unreachable(api_client: APIClient) -> None:
    response = api_client.get(HEALTH_URL)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "error", "checks": {"database": "error"}}


@pytest.mark.usefixtures("database_outage")
def test_health_logs_the_outage_without_revealing_it(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = api_client.get(HEALTH_URL)

    assert OUTAGE_MESSAGE not in response.content.decode()
    assert any(
        record.exc_info is not None and OUTAGE_MESSAGE in str(record.exc_info[1])
        for record in caplog.records
    ), "the database error and its traceback should be logged at ERROR level"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_health_only_answers_get(api_client: APIClient, method: str) -> None:
    response = getattr(api_client, method)(HEALTH_URL)

    assert response.status_code == 405
    assert "GET" in response["Allow"]
