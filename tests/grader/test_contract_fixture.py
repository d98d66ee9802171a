"""The ``contract`` fixture's runner (grader/executors/harness/contract.py) on a fake API.

No Django and no server: ``api`` is a small object with the fixtures' ``request`` and
``authenticate``, answering from a function, so each test decides what is broken.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from grader.executors.harness.contract import ContractRunner
from grader.executors.harness.fixtures import ApiResponse

SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things/{thing_id}/": {
            "get": {
                "parameters": [
                    {"name": "thing_id", "in": "path", "required": True,
                     "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "properties": {"id": {"type": "integer"}},
                            "required": ["id"],
                        }}},
                    },
                    "404": {"description": "no such thing", "content": {"application/json": {
                        "schema": {"type": "object"}}}},
                },
            }
        },
        "/notes/": {
            "post": {
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"text": {"type": "string"}},
                    "required": ["text"]}}}},
                "responses": {"201": {"description": "made", "content": {"application/json": {
                    "schema": {"type": "object"}}}}},
            }
        },
    },
}


class FakeApi:
    """``api`` with the fixtures' interface; ``answer(method, path, body)`` -> (status, body)."""

    def __init__(self, answer: Callable[[str, str, Any], tuple[int, Any]]) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, Any, int | None]] = []
        self.headers: list[dict[str, str]] = []
        self.user: int | None = None

    def authenticate(self, user: int | None) -> None:
        self.user = user

    def request(
        self, method: str, path: str, *, json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        self.sent.append((method, path, json_body, self.user))
        self.headers.append(dict(headers or {}))
        status, body = self.answer(method, path, json_body)
        return ApiResponse(method, path, status, {"content-type": "application/json"},
                           json.dumps(body).encode())


def correct(method: str, path: str, body: Any) -> tuple[int, Any]:
    if method == "POST":
        return 201, {"ok": True}
    thing = int(path.strip("/").split("/")[1])
    return (200, {"id": thing}) if thing == 7 else (404, {"error": "none"})


def test_a_correct_api_passes_and_every_operation_is_tried_as_its_caller() -> None:
    api = FakeApi(correct)
    runner = ContractRunner(api, max_examples=5)
    callers = {"GET /things/{thing_id}/": 11, "POST /notes/": 12}

    report = runner.run(
        SCHEMA,
        lambda label: runner.caller(user=callers[label], path_parameters={"thing_id": 7}),
    )

    assert report.ok, report.feedback()
    assert report.operations == ["POST /notes/", "GET /things/{thing_id}/"]
    assert {user for method, _, _, user in api.sent if method == "GET"} == {11}
    assert {user for method, _, _, user in api.sent if method == "POST"} == {12}
    # Half the examples may use the row that exists: the 200 is tried, not only the 404.
    assert ("GET", "/things/7/", None, 11) in api.sent
    assert api.user is None  # the runner signs out when it is done


def test_the_same_requests_on_every_run() -> None:
    first, second = FakeApi(correct), FakeApi(correct)
    ContractRunner(first, max_examples=6).run(SCHEMA)
    ContractRunner(second, max_examples=6).run(SCHEMA)
    assert first.sent == second.sent
    assert 2 <= len(first.sent) <= 12


def test_a_5xx_names_the_operation_and_a_curl_line_that_repeats_it() -> None:
    def crashes_on_notes(method: str, path: str, body: Any) -> tuple[int, Any]:
        return (500, {"oops": 1}) if method == "POST" else correct(method, path, body)

    report = ContractRunner(FakeApi(crashes_on_notes), max_examples=4).run(SCHEMA)

    assert not report.ok
    assert [b.operation for b in report.broken] == ["POST /notes/"]
    assert "curl -X POST" in report.broken[0].curl
    assert "/notes/" in report.broken[0].curl
    assert "Server error" in report.broken[0].problem or "500" in report.broken[0].problem
    line = report.feedback()
    assert line.startswith("1 of 2 operations broke")
    assert "\n" not in line


def test_an_undocumented_status_and_a_body_that_breaks_the_schema_are_found() -> None:
    def wrong(method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST":
            return 409, {"error": "conflict"}  # documented: 201 only
        return 200, {"name": "no id"}  # the documented 200 requires "id"

    report = ContractRunner(FakeApi(wrong), max_examples=4).run(SCHEMA)

    problems = {b.operation: b.problem for b in report.broken}
    assert "Undocumented status code: Received: 409" in problems["POST /notes/"]
    assert "id" in problems["GET /things/{thing_id}/"]


def test_without_documented_statuses_only_a_5xx_or_a_wrong_documented_body_breaks() -> None:
    """The capstone's contract: an undocumented status is not held against the service, but a
    server error still is, and so is a documented status whose body breaks its schema."""
    def undocumented(method: str, path: str, body: Any) -> tuple[int, Any]:
        return (409, {"error": "conflict"}) if method == "POST" else correct(method, path, body)

    lenient = ContractRunner(FakeApi(undocumented), max_examples=4)
    assert lenient.run(SCHEMA, documented_statuses=False).ok
    assert not ContractRunner(FakeApi(undocumented), max_examples=4).run(SCHEMA).ok

    def wrong_body(method: str, path: str, body: Any) -> tuple[int, Any]:
        return (201, {"ok": 1}) if method == "POST" else (200, {"name": "no id"})

    report = ContractRunner(FakeApi(wrong_body), max_examples=4).run(
        SCHEMA, documented_statuses=False
    )
    assert [b.operation for b in report.broken] == ["GET /things/{thing_id}/"]

    def crashes(method: str, path: str, body: Any) -> tuple[int, Any]:
        return (503, {}) if method == "POST" else correct(method, path, body)

    report = ContractRunner(FakeApi(crashes), max_examples=4).run(SCHEMA, documented_statuses=False)
    assert [b.operation for b in report.broken] == ["POST /notes/"]


def test_a_callers_headers_go_with_every_request_over_the_generated_ones() -> None:
    """A caller that signs in over HTTP (the capstone's checks) passes its bearer header."""
    api = FakeApi(correct)
    runner = ContractRunner(api, max_examples=3)
    bearer = {"Authorization": "Bearer header.payload.signature"}
    report = runner.run(SCHEMA, lambda label: runner.caller(headers=bearer))
    assert report.ok, report.feedback()
    assert api.headers
    assert all(
        sent.get("Authorization") == bearer["Authorization"] for sent in api.headers
    )
    assert all(user is None for *_, user in api.sent)
    assert "header.payload.signature" not in report.details()


def test_operations_past_the_budget_are_not_reached_never_passed() -> None:
    report = ContractRunner(FakeApi(correct), max_examples=3, budget=0.0).run(SCHEMA)

    assert not report.ok
    assert report.not_reached == ["POST /notes/", "GET /things/{thing_id}/"]
    assert "not tried within" in report.feedback()


def test_a_schema_without_operations_fails() -> None:
    report = ContractRunner(FakeApi(correct)).run({**SCHEMA, "paths": {}})
    assert not report.ok
    assert "no operations" in report.feedback()
