"""The pytest plugin that records each check's outcome for the parent grader.

It is handed to ``pytest.main(plugins=[...])`` as an object, so it is active even though plugin
autoloading is off and no conftest is read. Outcomes are kept per node id; a failure in setup or
teardown counts as ``error`` (the check could not be judged), a failure in the call as ``failed``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from grader.executors.harness.messages import describe_exception
from grader.report import Report, TestOutcome


class ReportPlugin:
    def __init__(self, report_file: Path, submission: Path) -> None:
        self.report_file = report_file
        self.submission = submission
        self.report = Report()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> Generator[None, Any, None]:
        outcome = yield
        rep = outcome.get_result()
        if call.excinfo is not None and rep.outcome == "failed":
            rep.grader_message = describe_exception(call.excinfo.value, self.submission)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        current = self.report.tests.get(report.nodeid)
        message = getattr(report, "grader_message", None)
        if report.when == "call":
            outcome = report.outcome  # passed / failed / skipped
            if current is None or current.outcome == "passed":
                self.report.tests[report.nodeid] = TestOutcome(
                    report.nodeid, outcome, report.duration, message
                )
        elif report.failed:  # setup or teardown blew up: the check could not be judged
            self.report.tests[report.nodeid] = TestOutcome(
                report.nodeid, "error", report.duration, message
            )
        elif report.when == "setup" and report.skipped:
            self.report.tests[report.nodeid] = TestOutcome(report.nodeid, "skipped", 0.0, None)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.report.collection_errors.append(f"{report.nodeid}: {text[-1] if text else ''}")

    def write(self, exit_code: int) -> None:
        self.report.exit_code = exit_code
        tmp = self.report_file.with_suffix(".tmp")
        tmp.write_text(self.report.to_json(), encoding="utf-8")
        os.replace(tmp, self.report_file)
