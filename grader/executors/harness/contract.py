"""The ``contract`` grader fixture: schemathesis checks an API against its own OpenAPI schema.

A check hands :meth:`ContractRunner.run` a schema (a dict, usually the one the project serves)
and a ``caller`` function; for every operation of the schema, in a fixed order, the runner asks
``caller(label)`` for the user to send that operation's requests as (a primary key, or None) and
any path parameters to use in half the examples (a row that exists, so the operation is also
tried where it answers 2xx, not only 404), lets schemathesis generate the requests from the
schema, sends them through the ``api`` fixture and judges each response with schemathesis's
checks: no 5xx, a status code the operation documents, a documented content type, and a body
valid against the documented schema.

Requests go through ``api``, never through schemathesis's own transport, so this module has one
implementation for both modes: in local mode ``api`` is Django's test client in the project's
process, in official mode an HTTP client in the trusted process talking to the sandboxed server
(:mod:`grader.executors.official.fixtures` builds the same runner on its ``api``).

Bounded and deterministic, so regrades agree: generation is derandomised (Hypothesis derives
its seed from the runner, not from the clock), ``max_examples`` per operation, no example
database, no shrinking; every operation is tried in the order of its path and method. A total
``budget`` of seconds stops a project that is slow on every request: the operations not reached
are then reported as such (a failed check naming them), never passed.

The report names, for each broken operation (its first failure only), the operation, a curl
line that repeats the request and what schemathesis found wrong.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import pytest

MAX_EXAMPLES = 6  # per operation; each sends one request (the grading-time budget: BENCHMARKS.md)
BUDGET_SECONDS = 90.0
BASE_URL = "http://127.0.0.1:8000"  # only how curl lines are written: requests go through ``api``
SHOWN = 3  # broken operations named in one message
MAX_DETAIL = 400  # characters of one failure's explanation


class Api(Protocol):
    """What the runner needs of the ``api`` fixture (both modes' clients have it)."""

    def authenticate(self, user: int | None) -> None: ...

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class Caller:
    """Who sends an operation's requests, and path parameters worth trying (rows that exist).

    ``user`` signs in through ``api.authenticate`` (a primary key the ``data`` fixture made);
    ``headers`` are sent with every request instead, over what schemathesis generates (a
    project whose users the grader cannot make by key signs in over HTTP and passes
    ``Authorization: Bearer ...``, as the capstone's checks do)."""

    user: int | None = None
    path_parameters: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Broken:
    """An operation's first failure: what was sent (as curl) and what was wrong."""

    operation: str
    curl: str
    problem: str

    def sentence(self) -> str:
        return f"{self.operation}: {self.problem}\n    {self.curl}"


@dataclass
class ContractReport:
    """What the run found; ``ok`` when every operation was tried and none broke."""

    operations: list[str] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)
    not_reached: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    budget: float = BUDGET_SECONDS

    @property
    def ok(self) -> bool:
        return bool(self.operations) and not self.broken and not self.not_reached

    def feedback(self) -> str:
        """One learner-facing line (the grader shows 300 characters of a check's message): how
        many operations broke, the first one's problem and the curl line that repeats it."""
        if not self.operations:
            return "the schema has no operations for schemathesis to try"
        if self.broken:
            first = self.broken[0]
            others = ", ".join(b.operation for b in self.broken[1:SHOWN])
            etc = ", ..." if len(self.broken) > SHOWN else ""
            more = f" (also {others}{etc})" if others else ""
            return (
                f"{len(self.broken)} of {len(self.operations)} operations broke{more}. "
                f"{first.operation}: {first.problem[:110]} Repeat: {first.curl[:120]}"
            )
        if self.not_reached:
            return (
                f"{len(self.not_reached)} of {len(self.operations)} operations were not tried "
                f"within {self.budget:.0f} seconds (first: {self.not_reached[0]}): every "
                "request must be answered quickly"
            )
        return f"schemathesis sent {self.requests} requests to {len(self.operations)} operations"

    def details(self) -> str:
        """Every broken operation, one paragraph each (for the check's captured output)."""
        return "\n".join(broken.sentence() for broken in self.broken)


def _checks(documented_statuses: bool = True) -> list[Any]:
    """schemathesis's checks the runner applies; ``documented_statuses``: a status code the
    operation does not document is a failure too (lab08's contract: every 4xx is documented)."""
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        *([status_code_conformance] if documented_statuses else []),
        content_type_conformance,
        response_schema_conformance,
    ]


def _problem(error: BaseException) -> str:
    """One line for a schemathesis failure (or a group of them)."""
    failures = list(error.exceptions) if isinstance(error, BaseExceptionGroup) else [error]
    parts = []
    for failure in failures[:2]:
        title = getattr(failure, "title", "") or type(failure).__name__
        message = " ".join(str(getattr(failure, "message", "") or "").split())
        parts.append(f"{title}: {message}" if message else title)
    return "; ".join(parts)[:MAX_DETAIL]


class ContractRunner:
    """Runs schemathesis over a schema's operations through ``api`` (see the module docstring)."""

    def __init__(
        self,
        api: Api,
        *,
        max_examples: int = MAX_EXAMPLES,
        budget: float = BUDGET_SECONDS,
    ) -> None:
        self.api = api
        self.max_examples = max_examples
        self.budget = budget

    @staticmethod
    def caller(
        user: int | None = None,
        path_parameters: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Caller:
        """A :class:`Caller`, for checks (which import nothing from the grader)."""
        return Caller(
            user, dict(path_parameters or {}), {str(k): str(v) for k, v in (headers or {}).items()}
        )

    def run(
        self,
        schema: Mapping[str, Any],
        caller: Callable[[str], Caller] | None = None,
        *,
        documented_statuses: bool = True,
    ) -> ContractReport:
        """Try every operation of ``schema``; ``caller(label)`` sets who sends its requests.

        ``documented_statuses=False`` leaves out schemathesis's status-code check: a response
        with a status the operation does not document is then judged only by the other checks
        (no 5xx, a documented content type, a documented body where the status is documented),
        for a brief that asks for no more (the capstone's)."""
        checks = _checks(documented_statuses)
        import schemathesis
        from schemathesis.core.result import Ok

        loaded = schemathesis.openapi.from_dict(dict(schema))
        report = ContractReport(budget=self.budget)
        started = time.monotonic()
        operations = []
        for result in loaded.get_all_operations():
            if isinstance(result, Ok):
                operations.append(result.ok())
                continue
            # An operation schemathesis cannot read (a $ref to nowhere, say) cannot be tried:
            # it is broken, not skipped.
            error = result.err()
            label = str(getattr(error, "path", "") or "an operation")
            report.operations.append(label)
            report.broken.append(
                Broken(label, "(no request could be made)", _problem(error) or str(error)[:200])
            )
        operations.sort(key=lambda op: (op.path, op.method.upper()))
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            report.operations.append(label)
            if time.monotonic() - started > self.budget:
                report.not_reached.append(label)
                continue
            who = caller(label) if caller is not None else Caller()
            self.api.authenticate(who.user)
            broken = self._operation(operation, label, who, report, started, checks)
            if broken is not None:
                report.broken.append(broken)
        self.api.authenticate(None)
        report.seconds = time.monotonic() - started
        return report

    def _operation(
        self,
        operation: Any,
        label: str,
        who: Caller,
        report: ContractReport,
        started: float,
        checks: list[Any],
    ) -> Broken | None:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import strategies as st

        known = {
            name: value
            for name, value in who.path_parameters.items()
            if f"{{{name}}}" in operation.path
        }
        strategy = operation.as_strategy()
        if known:
            strategy = st.one_of(operation.as_strategy(path_parameters=known), strategy)
        found: list[Broken] = []

        @settings(
            max_examples=self.max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def example(case: Any) -> None:
            if found or time.monotonic() - started > self.budget:
                return
            report.requests += 1
            problem = self._send_and_judge(case, who.headers, checks)
            if problem is not None:
                curl = case.as_curl_command(base_url=BASE_URL)
                found.append(Broken(label, curl, problem))

        example()
        return found[0] if found else None

    def _send_and_judge(self, case: Any, extra: Mapping[str, str], checks: list[Any]) -> str | None:
        """Send ``case`` through ``api`` with ``extra`` headers over its own; None when every
        check passes, else what failed."""
        import requests
        from schemathesis import Response
        from schemathesis.core import NotSet

        path = case.formatted_path
        query = {k: v for k, v in (case.query or {}).items() if v is not None}
        if query:
            path = f"{path}?{urlencode(query, doseq=True)}"
        headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
        overridden = {name.lower() for name in extra}
        headers = {k: v for k, v in headers.items() if k.lower() not in overridden}
        headers.update(extra)
        has_body = not isinstance(case.body, NotSet)
        answer = self.api.request(
            case.method.upper(),
            path,
            json_body=case.body if has_body else None,
            headers=headers,
        )
        sent = requests.Request(
            case.method.upper(),
            BASE_URL + path,
            headers={
                **headers,
                **({"Content-Type": "application/json"} if has_body else {}),
            },
            data=json.dumps(case.body) if has_body else None,
        ).prepare()
        response = Response(
            status_code=answer.status,
            headers={k: [v] for k, v in answer.headers.items()},
            content=answer.body,
            request=sent,
            elapsed=0.0,
            verify=True,
        )
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, BaseExceptionGroup) as error:
            return _problem(error)
        return None


@pytest.fixture
def contract(api: Api) -> ContractRunner:
    """schemathesis over ``api`` (see the module docstring)."""
    return ContractRunner(api)
