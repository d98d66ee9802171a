"""The out-of-process forms of lab10's ``logs`` and ``production`` fixtures, with local mode's
contracts (:mod:`grader.executors.harness.observability`), and the ``delivery`` fixture, which
is the same in both modes (it reads the staged copy's files here and never runs them).

Where the work happens. The project's log lines are written by its own process, the sandbox's
server: the agent swaps its console handlers' streams for a buffer for the block of a check
(:class:`grader.executors.harness.production.LogCapture`, the same code local mode runs) and
hands the lines back as text, which is validated here and parsed by the check. The production
server is Gunicorn started by the agent inside the sandbox with production's variables, which
this process chooses (fresh secrets, the metrics token); this process then asks it over HTTP
itself, on the sandbox's loopback, so every status, header and body a check judges is observed
here, not reported. Its output is read back as lines, like the log lines: what the project
wrote, which only its own code could have written differently.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from grader.executors.harness.observability import Logs
from grader.executors.harness.production import (
    MAX_LINE_CHARS,
    MAX_LINES,
    Production,
    production_variables,
)
from grader.executors.official.remote import (
    Control,
    Malformed,
    ManualReviewRequired,
    _Remote,
    integer,
    list_of,
    optional,
    record,
    text,
)


def nothing(value: Any) -> None:
    if value is not None:
        raise Malformed(f"expected nothing, got {type(value).__name__}")


LINES = list_of(text(MAX_LINE_CHARS), MAX_LINES)


class RemoteLogs(_Remote):
    """The agent's log capture: ``start``, then ``stop`` answers the lines written meanwhile."""

    kind = "logs"
    shapes = {"start": nothing, "stop": LINES}

    def start(self) -> None:
        self._ask("start")

    def stop(self) -> list[str]:
        lines: list[str] = self._ask("stop")
        return lines


class RemoteProduction(_Remote):
    """The agent's Gunicorn server: started with the variables chosen here, its lines read."""

    kind = "production"
    shapes = {
        "start": record(port=integer(1, 65535), problem=optional(text(1000))),
        "lines": LINES,
        "stop": nothing,
    }

    def start(self, given: dict[str, str]) -> tuple[int, str | None]:
        answer = self._ask("start", given)
        return int(answer["port"]), answer["problem"]

    def lines(self) -> list[str]:
        lines: list[str] = self._ask("lines")
        return lines

    def stop(self) -> None:
        self._ask("stop")


class ObservabilityFixtures:
    """``logs`` and ``production`` as a pytest plugin object bound to the job's control path;
    registered beside :class:`~grader.executors.official.fixtures.OfficialFixtures`."""

    def __init__(self, control: Control, timeout: float, deadline: float) -> None:
        self._control = control
        self._timeout = timeout
        self._deadline = deadline

    def _helper_timeout(self, wanted: float | None = None) -> float:
        return max(1.0, min(wanted or self._timeout, self._deadline - time.monotonic()))

    @pytest.fixture
    def logs(self) -> Iterator[Logs]:
        """The project's log lines during a block of the check, from the sandbox's server."""
        remote = RemoteLogs(self._control, self._helper_timeout())
        try:
            yield Logs(remote.start, remote.stop)
        finally:
            remote.stop()

    @pytest.fixture(scope="module")
    def production(self) -> Iterator[Production]:
        """Gunicorn with the production settings, in the sandbox, asked from here over HTTP."""
        from grader.executors.harness.production import START_SECONDS

        remote = RemoteProduction(self._control, self._helper_timeout(START_SECONDS + 15))
        given = production_variables()
        try:
            port, problem = remote.start(given)
            if problem is not None:
                # The server's own output stays in the sandbox (never shown in official mode).
                pytest.fail(problem, pytrace=False)
            if not isinstance(port, int):
                raise ManualReviewRequired("the sandbox reported no port for the production server")
            yield Production(port, given, remote.lines)
        finally:
            remote.stop()
