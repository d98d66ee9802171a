"""The trusted checks process:
``nsenter --net=… python -I -B -m grader.executors.official.trusted JOB``.

It runs the rubric's hidden check files with pytest and decides every outcome. The learner's
project is reachable only over HTTP, in the network namespace this process was started in. This
process never puts the submission on ``sys.path`` and never imports it, so nothing the
submission does can reach pytest, its reports or this process's memory. pytest is configured as
in local mode: the grader's ini file and rootdir, no conftest, no addopts, no cache, plugin
autoloading off, and only the plugins named here.

Flakiness (``OfficialJob.repeat`` / ``reruns``): a check may run several times on the same
code. Runs that disagree make the check *flaky*. It is scored as failed, with a message and an
integrity flag asking for manual review, so the score never depends on which run happened to
count.

The report it writes is the local mode's format (:class:`grader.report.Report`)
plus ``integrity_flags``. It goes to the grader's own folder, which no sandbox can see.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from grader.executors.harness.messages import describe_exception
from grader.executors.official.fixtures import MANUAL, OfficialFixtures, manual_review_reason
from grader.executors.official.job import OfficialJob
from grader.report import TestOutcome

RERUN_MARGIN_SECONDS = 5.0  # no rerun starts this close to the deadline


@dataclass
class Run:
    """One run of one check: its outcome, one-line message, and whether it needs review."""

    outcome: str
    duration: float
    message: str | None
    manual: str | None = None


class VerdictPlugin:
    """Runs each check per the flakiness policy and records one verdict per check."""

    def __init__(self, job: OfficialJob) -> None:
        self.job = job
        self.root = Path(job.project_root)
        self.runs: dict[str, list[Run]] = {}
        self.collection_errors: list[str] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[Any]
    ) -> Generator[None, Any, None]:
        outcome = yield
        rep = outcome.get_result()
        if call.excinfo is not None and rep.failed:
            exc = call.excinfo.value
            reason = manual_review_reason(exc)
            rep.grader_manual = reason
            rep.grader_message = (
                f"{MANUAL}: {reason}" if reason else describe_exception(exc, self.root)
            )

    @staticmethod
    def _summarise(reports: list[pytest.TestReport]) -> Run:
        duration = sum(r.duration for r in reports)
        for rep in reports:
            if rep.failed:
                outcome = "failed" if rep.when == "call" else "error"
                message = getattr(rep, "grader_message", None) or f"the check's {rep.when} failed"
                return Run(outcome, duration, message, getattr(rep, "grader_manual", None))
        if any(r.skipped for r in reports):
            return Run("skipped", duration, None)
        return Run("passed", duration, None)

    def _again(self, runs: list[Run]) -> bool:
        if runs[-1].manual or time.monotonic() > self.job.deadline - RERUN_MARGIN_SECONDS:
            return False
        if len(runs) < self.job.repeat:
            return True
        all_failed = all(r.outcome != "passed" for r in runs)
        return all_failed and len(runs) < self.job.repeat + self.job.reruns

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        runs: list[Run] = []
        while True:
            reports = runtestprotocol(item, log=False, nextitem=nextitem)
            runs.append(self._summarise(reports))
            if not self._again(runs):
                break
        for rep in reports:  # the last run, for the (hidden) log
            item.ihook.pytest_runtest_logreport(report=rep)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        self.runs[item.nodeid] = runs
        return True

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            self.collection_errors.append(f"{report.nodeid}: {text[-1] if text else ''}")

    def verdicts(self) -> tuple[list[TestOutcome], list[str]]:
        """One outcome per check and the integrity flags, from every run of every check."""
        outcomes: list[TestOutcome] = []
        flags: list[str] = []
        for nodeid, runs in self.runs.items():
            duration = max(r.duration for r in runs)
            passed = sum(r.outcome == "passed" for r in runs)
            manual = next((r.manual for r in runs if r.manual), None)
            if manual:
                flags.append(f"{MANUAL}: {nodeid}: {manual}")
            if 0 < passed < len(runs):
                message = (
                    f"flaky: this check passed {passed} of {len(runs)} runs on the same code, so "
                    f"it is not scored; {MANUAL}"
                )
                flags.append(f"flaky check {nodeid}: passed {passed} of {len(runs)} runs; {MANUAL}")
                outcomes.append(TestOutcome(nodeid, "failed", duration, message))
                continue
            last = runs[-1]
            first_bad = next((r for r in runs if r.outcome != "passed"), last)
            outcomes.append(TestOutcome(nodeid, last.outcome, duration, first_bad.message))
        return outcomes, flags

    def write(self, exit_code: int) -> None:
        outcomes, flags = self.verdicts()
        report = {
            "tests": [asdict(o) for o in outcomes],
            "fatal": None,
            "collection_errors": self.collection_errors[:20],
            "exit_code": exit_code,
            "integrity_flags": flags,
        }
        path = Path(self.job.report_file)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report), encoding="utf-8")
        os.replace(tmp, path)


def pytest_args(job: OfficialJob) -> list[str]:
    """pytest configured by the grader alone (the same isolation flags as local mode)."""
    args = [
        "-c",
        job.ini_file,
        "--rootdir",
        job.checks_dir,
        "--noconftest",
        "-o",
        "addopts=",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "--import-mode=importlib",
        "--tb=short",
        "-q",
    ]
    # Whole files: the rubric's list of ids is cross-checked against the report afterwards.
    files = dict.fromkeys(node.split("::", 1)[0] for node in job.node_ids)
    return args + [os.path.join(job.checks_dir, name) for name in files]


def main(argv: list[str]) -> int:
    job = OfficialJob.read(Path(argv[0]))
    os.chdir(job.checks_dir)
    verdicts = VerdictPlugin(job)
    fixtures = OfficialFixtures(job)
    from grader.executors.harness import delivery  # the same files-only fixture in both modes

    plugins = [fixtures, fixtures.background, fixtures.observability, delivery, verdicts]
    code = int(pytest.main(pytest_args(job), plugins=plugins))
    verdicts.write(code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
