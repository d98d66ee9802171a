"""What the orchestrator (:mod:`grader.executors.official.runner`) hands the trusted checks process.

A small JSON file in the grader's root-only work folder, never mounted into the sandbox. It holds
where the checks are, how to reach the sandboxed server, and the flakiness policy. It does not
hold expected values, which live only in the hidden check files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SERVER_PORT = 8000


@dataclass(frozen=True)
class OfficialJob:
    """The trusted process's whole input.

    ``deadline`` is a ``time.monotonic()`` value. CLOCK_MONOTONIC is system-wide on Linux, so
    both processes read the same clock.

    Flakiness policy: every check runs ``repeat`` times, and a check that did not pass in all
    of them runs ``reruns`` more times. A check whose runs disagree is *flaky*: it is scored as
    failed and flagged for manual review, never passed or failed by chance.
    """

    checks_dir: str
    ini_file: str
    report_file: str
    node_ids: list[str]
    project_root: str  # the pristine staged copy on the host: static facts are read here
    token: str  # the agent's control-path token (not a secret: it only avoids URL clashes)
    deadline: float
    sandbox: dict[str, Any] = field(default_factory=dict)  # SandboxSpec.to_json(), for probes
    scratch: str = ""  # the trusted side's own folder for probe output
    port: int = SERVER_PORT
    request_timeout: float = 10.0
    probe_timeout: float = 30.0
    repeat: int = 1
    reruns: int = 1

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> OfficialJob:
        return cls(**json.loads(path.read_text(encoding="utf-8")))
