"""Nothing survives a job through the kernel's keyrings (issue 14, class 2 "state carries from
one job to the next"): a slot uid's user keyrings are emptied before and after every job, and a
sandbox never inherits the grader's own session keyring.

Real keyrings, real sandboxes: the keys are added with the ``add_key`` system call by a process
running as the slot uid, or by the learner's own code inside the sandbox, and looked for again
the same way afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from grader.executors.official.keyrings import (
    KEY_SPEC_USER_KEYRING,
    SYSCALLS,
    add_key,
    as_uid,
    find_key,
)
from grader.executors.official.sandbox import FIRST_UID, SLOTS, job_slot
from tests.support import ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SYSCALLS.get(__import__("platform").machine()) is None, reason="keyctl"),
]


def _as_uid(uid: int, action: str, description: str, ring: int = KEY_SPEC_USER_KEYRING) -> int:
    name = description.encode()
    if action == "add":
        return as_uid(uid, lambda: add_key(name, ring))
    return as_uid(uid, lambda: find_key(name, ring))


def test_a_slot_uids_keys_are_emptied_when_its_job_ends(official_available: None) -> None:
    description = f"grader-test-{uuid.uuid4().hex[:12]}"
    with job_slot(time.monotonic() + 60) as uid:
        assert _as_uid(uid, "add", description) > 0
        assert _as_uid(uid, "find", description) > 0  # the key is there while the job runs
    assert _as_uid(uid, "find", description) == -1


def _probe_submission(solution: Path, tree: Path, code: str) -> Path:
    shutil.copytree(solution, tree)
    settings = tree / "config" / "settings" / "test.py"
    settings.write_text(settings.read_text() + "\n\n" + code, encoding="utf-8")
    return tree


def test_a_key_a_submission_leaves_is_gone_after_its_grading(
    official: Any, lab01_solution: Path, tmp_path: Path
) -> None:
    description = f"grader-left-{uuid.uuid4().hex[:12]}"
    code = textwrap.dedent(f"""\
        def _plant():  # the learner's code adds a key to its uid's user keyring
            import ctypes, platform
            add_key = {{"x86_64": 248, "aarch64": 217}}[platform.machine()]
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall(add_key, b"user", {description.encode()!r}, b"x", 1, ctypes.c_long(-4))


        _plant()
        """)
    tree = _probe_submission(lab01_solution, tmp_path / "plants-a-key", code)
    result = official(tree)
    assert result["status"] == "graded", result["message"]
    assert all(_as_uid(FIRST_UID + slot, "find", description) == -1 for slot in range(SLOTS))


def test_a_sandbox_does_not_inherit_the_graders_session_keyring(
    official_available: None, lab01_solution: Path, tmp_path: Path
) -> None:
    """The grader runs with a canary key in its session keyring. A submission that refuses to
    start when it can find that key grades normally in official mode; in local mode (a child
    that does inherit the keyring, on purpose: it is the learner's own machine) it cannot start,
    which shows the probe does find an inherited key."""
    canary = f"grader-canary-{uuid.uuid4().hex[:12]}"
    probe = textwrap.dedent(f"""\
        def _canary_found():
            import ctypes, platform
            keyctl = {{"x86_64": 250, "aarch64": 219}}[platform.machine()]
            libc = ctypes.CDLL(None, use_errno=True)
            return libc.syscall(keyctl, 10, ctypes.c_long(-3), b"user", {canary.encode()!r}, 0) > 0


        if _canary_found():
            raise RuntimeError("the grader's session keyring reached the submission")
        """)
    tree = _probe_submission(lab01_solution, tmp_path / "looks-for-a-key", probe)
    runner = textwrap.dedent(f"""\
        import ctypes, json, platform, subprocess, sys
        keyctl, add_key = {{"x86_64": (250, 248), "aarch64": (219, 217)}}[platform.machine()]
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall(keyctl, 1, 0)  # a session keyring of this test's own
        assert libc.syscall(add_key, b"user", {canary.encode()!r}, b"x", 1, ctypes.c_long(-3)) > 0
        out = {{}}
        for mode in ("official", "local"):
            done = subprocess.run(
                [sys.executable, "-m", "grader", "grade", "lab01", "--submission", {str(tree)!r},
                 "--json", "--output", {str(tmp_path)!r} + "/" + mode + ".json",
                 *(["--official"] if mode == "official" else [])],
                capture_output=True, text=True, cwd={str(ROOT)!r})
            out[mode] = json.loads(done.stdout)["status"]
        print(json.dumps(out))
        """)
    done = subprocess.run(
        [sys.executable, "-c", runner], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses == {"official": "graded", "local": "error"}
