"""Fixtures for the official-mode tests: the sandbox requirement, graders, and the watchers that
prove an attack changed nothing outside its staging copy and left nothing running.

Tests that need bubblewrap use the ``official`` fixture. Without bwrap they skip with the reason,
except on CI (``CI=true``), where a missing sandbox is a failure: CI promises that both corpora
run in official mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from grader.executors.official import official_unavailable_reason
from grader.executors.official.sandbox import FIRST_UID, SLOTS
from grader.pipeline import GradeOptions, grade_submission
from grader.result import validate_result
from tests.support import ROOT

STARTER = ROOT / "labs" / "lab01" / "starter"


def lab01_variant(folder: Path, checks_file: str, checks: str, criteria: str) -> Path:
    """A copy of lab01's rubric and hidden checks under ``folder``, plus one more check file
    (``checks_file`` holding ``checks``) and the rubric text ``criteria`` appended; the lab
    folder, to grade with ``grade_submission(lab_dir, ...)``."""
    lab = folder / "course" / "lab01"
    shutil.copytree(ROOT / "labs" / "lab01" / "hidden", lab / "hidden")
    (lab / "hidden" / checks_file).write_text(checks)
    rubric = (ROOT / "labs" / "lab01" / "rubric.toml").read_text()
    (lab / "rubric.toml").write_text(rubric + criteria)
    return lab


@pytest.fixture(scope="session")
def official_available() -> None:
    """Skip (or, on CI, fail) when official grading cannot run on this machine."""
    reason = official_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the official-mode corpora, but: {reason}")
    pytest.skip(f"official mode unavailable here: {reason}")


@pytest.fixture
def official(official_available: None) -> Callable[..., dict[str, Any]]:
    """Grade a folder (or archive) in official mode; the result is schema-validated."""

    def _grade(submission: Path, lab_dir: Path | None = None, **options: Any) -> dict[str, Any]:
        result = grade_submission(
            lab_dir or ROOT / "labs" / "lab01", submission, GradeOptions(mode="official", **options)
        )
        validate_result(result)
        assert result["mode"] == "official"
        return result

    return _grade


@pytest.fixture
def starter_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "starter"
    shutil.copytree(STARTER, dest)
    return dest


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links not followed) with content hash, mode and mtime."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(folder))] = "link:" + os.readlink(path)
        elif path.is_file():
            st = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = f"{digest}:{st.st_mode}:{st.st_mtime_ns}"
    return found


@dataclass
class Listener:
    """A TCP listener on every host interface that counts the connections it accepts."""

    port: int
    accepted: list[str] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", 0))
    server.listen(16)
    server.settimeout(0.2)
    found = Listener(port=server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except (TimeoutError, OSError):
                continue
            found.accepted.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    # Prove the listener works from the host before any attack relies on it counting zero.
    with socket.create_connection(("127.0.0.1", found.port), timeout=2):
        pass
    deadline = time.monotonic() + 2
    while not found.accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert found.accepted, "the test listener did not see the host's own connection"
    found.accepted.clear()
    yield found
    stop.set()
    thread.join(timeout=2)
    server.close()


def host_ip() -> str | None:
    """A non-loopback IPv4 address of this machine (the "outside" a sandbox must not reach)."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                return str(address.address)
    return None


def _become_subreaper() -> None:
    """Orphans of this process's descendants are re-parented to it, not to the host's init."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


# Set once for the test session: a sandbox process that outlives its grading, even one that
# escaped its parent, then stays among this process's descendants, where survivors() looks.
_become_subreaper()


def survivors(marker: str, since: float) -> list[str]:
    """Processes carrying ``marker`` in their command line (anywhere on the machine), or our own
    descendants that run under a sandbox uid and started after ``since`` (a sandbox process that
    outlived its grading).

    Descendants, not every process of a sandbox uid: other checkouts may be grading officially
    on the same machine at the same time, on the same slot uids, and their sandboxes are theirs.
    This process is a subreaper (above), so an orphan of our own grading cannot slip out of the
    set of our descendants by being re-parented.
    """
    found = []
    sandbox_uids = range(FIRST_UID, FIRST_UID + SLOTS)
    ours = set()
    with contextlib.suppress(psutil.Error):
        ours = {child.pid for child in psutil.Process().children(recursive=True)}
    for proc in psutil.process_iter(["pid", "cmdline", "uids", "create_time"]):
        with contextlib.suppress(psutil.Error):
            cmdline = " ".join(proc.info["cmdline"] or [])
            uids = proc.info["uids"]
            late = (proc.info["create_time"] or 0) >= since
            sandboxed = uids is not None and uids.real in sandbox_uids
            if marker in cmdline or (proc.info["pid"] in ours and sandboxed and late):
                found.append(f"{proc.info['pid']} uid={uids.real if uids else '?'} {cmdline[:120]}")
    return found
