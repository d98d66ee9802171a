"""Local mode's ``logs`` and ``production`` fixtures (lab10 on); official mode's forms are in
:mod:`grader.executors.official.observability`, with the same contracts.

``logs``
    ``with logs.capture() as captured: ...`` collects the lines the project's own logging
    writes while the block runs (its console handlers, with its formatter, and anything printed),
    including the lines of tasks the ``tasks`` fixture's worker runs meanwhile;
    ``captured.lines`` is the list of lines, as written, once the block has ended.
``production``
    The project under Gunicorn with ``config.settings.prod`` and production's variables
    (:func:`grader.executors.harness.production.production_variables`), started once for the
    checks of one file: ``production.get(path, headers)`` asks it over HTTP as the proxy in
    front of production would, ``production.lines()`` is what it wrote, and
    ``production.metrics_token`` the token it was given. A server that does not start fails
    each check that uses it with the reason.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.executors.harness.production import (
    CAPTURE,
    Production,
    ProductionServer,
    production_variables,
)

SHOWN_LINES = 8  # of a server that did not start, in local mode: the learner's own output


class Captured:
    """The lines one ``logs.capture()`` block collected (filled when the block ends)."""

    def __init__(self) -> None:
        self.lines: list[str] = []


class Logs:
    """See the module docstring."""

    def __init__(self, start: object, stop: object) -> None:
        self._start = start
        self._stop = stop

    @contextlib.contextmanager
    def capture(self) -> Iterator[Captured]:
        captured = Captured()
        self._start()  # type: ignore[operator]
        try:
            yield captured
        finally:
            captured.lines = list(self._stop())  # type: ignore[operator]


@pytest.fixture
def logs() -> Iterator[Logs]:
    """The project's log lines during a block of the check (see the module docstring)."""
    try:
        yield Logs(CAPTURE.start, CAPTURE.stop)
    finally:
        CAPTURE.stop()


@pytest.fixture(scope="module")
def production() -> Iterator[Production]:
    """Gunicorn serving the project with its production settings (see the module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-production-"))
    server = ProductionServer(Path.cwd().resolve(), folder)
    given = production_variables()
    try:
        problem = server.start(given)
        if problem is not None:
            tail = "\n".join(server.lines()[-SHOWN_LINES:])
            pytest.fail(f"{problem}. Its last lines:\n{tail}" if tail else problem, pytrace=False)
        yield Production(server.port, given, server.lines)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
