"""The checks' report: the job the parent hands a child process, and the report it hands back.

Both are small JSON files in the grader's temporary folder. The parent treats the report as
untrusted input (the submission's code ran in the process that wrote it): :func:`parse_report`
checks every field's type and size and ignores anything unexpected.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAX_REPORT_BYTES = 1024 * 1024
MAX_MESSAGE_CHARS = 500
OUTCOMES = frozenset({"passed", "failed", "error", "skipped"})


@dataclass(frozen=True)
class Job:
    """What the child needs: where things are and which checks to run."""

    submission: str
    checks_dir: str
    ini_file: str
    report_file: str
    settings_module: str
    node_ids: list[str]
    migrations: bool = False
    conftest: bool = False  # True only for the public self-check (trusted, pristine tests)
    # and for the learner's own tests, which need their own conftest.py files
    # The learner's own tests (grader.executors.gates): the grader's fixtures stay out of their way,
    # and coverage.py measures these folders (absolute paths) into `coverage_report` (JSON).
    grader_fixtures: bool = True
    coverage_source: list[str] = field(default_factory=list)
    coverage_omit: list[str] = field(default_factory=list)
    coverage_report: str | None = None
    # Services the checks need (grader.executors.harness.services): "redis" starts a throwaway
    # Redis (or uses GRADER_REDIS_URL) before Django is set up, and names it in the settings'
    # environment. `redis_url`: the external server to use instead of a throwaway one.
    services: list[str] = field(default_factory=list)
    redis_url: str | None = None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Job:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class TestOutcome:
    """One check's outcome as the child saw it; ``message`` is learner-facing, one line."""

    nodeid: str
    outcome: str
    duration: float = 0.0
    message: str | None = None


@dataclass
class Report:
    """Everything the child reports. ``fatal`` is set when no check could run at all."""

    tests: dict[str, TestOutcome] = field(default_factory=dict)
    fatal: dict[str, str] | None = None
    collection_errors: list[str] = field(default_factory=list)
    exit_code: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "tests": [asdict(t) for t in self.tests.values()],
                "fatal": self.fatal,
                "collection_errors": self.collection_errors,
                "exit_code": self.exit_code,
            }
        )


def _short(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= MAX_MESSAGE_CHARS else value[: MAX_MESSAGE_CHARS - 1] + "…"


def parse_report(path: Path) -> Report | None:
    """Read a child's report defensively; None when it is missing, too large or malformed."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    report = Report()
    for item in data.get("tests") or []:
        if not isinstance(item, dict):
            continue
        nodeid, outcome, duration = item.get("nodeid"), item.get("outcome"), item.get("duration")
        if not isinstance(nodeid, str) or outcome not in OUTCOMES:
            continue
        report.tests[nodeid] = TestOutcome(
            nodeid=nodeid,
            outcome=str(outcome),
            duration=float(duration) if isinstance(duration, int | float) else 0.0,
            message=_short(item.get("message")),
        )
    fatal = data.get("fatal")
    if isinstance(fatal, dict):
        report.fatal = {k: v for k in ("stage", "message") if isinstance(v := fatal.get(k), str)}
        report.fatal["message"] = _short(report.fatal.get("message")) or "unknown error"
    errors = data.get("collection_errors")
    if isinstance(errors, list):
        report.collection_errors = [m for e in errors[:20] if (m := _short(e))]
    code = data.get("exit_code")
    report.exit_code = code if type(code) is int else None
    return report
