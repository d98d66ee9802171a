"""Kernel keyrings: the per-uid state that a sandbox's namespaces do not isolate.

Linux keeps a *user keyring* for every uid, and a *session keyring* that a process inherits from
its parent, outside every namespace bubblewrap unshares. Without care, two things leak:

- a job's keys outlive the job in its slot uid's user keyring, where the next job graded on the
  same slot finds them (state carried from one submission into another's grading);
- the grader's own session keyring (a systemd service's, a PAM login's) is inherited by every
  sandbox, across uids.

So each sandbox starts in a new, empty session keyring of its own
(:func:`join_fresh_session_keyring`, called between fork and exec of bubblewrap), and a slot's
user keyrings are emptied before and after every job (:func:`clear_uid_keyrings`), as its
leftover processes are killed. Both use the ``keyctl`` system call through libc, so nothing
beyond the kernel is needed (no ``keyutils`` package).
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
from collections.abc import Callable

KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_CLEAR = 7
KEYCTL_READ = 11
KEY_SPEC_SESSION_KEYRING = -3
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5
# keyctl(2) and add_key(2) by architecture: libc has no wrapper for them.
SYSCALLS = {"x86_64": (250, 248), "aarch64": (219, 217)}


def _numbers() -> tuple[int, int] | None:
    return SYSCALLS.get(platform.machine())


def keyctl(operation: int, *args: int) -> int:
    """``keyctl(operation, args...)``; -1 with errno set on failure (or when not on Linux)."""
    numbers = _numbers()
    if numbers is None or not sys.platform.startswith("linux"):
        return -1
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.syscall(numbers[0], operation, *(ctypes.c_long(a) for a in args)))


def join_fresh_session_keyring() -> None:
    """Replace this process's session keyring with a new, empty, anonymous one.

    Safe between fork and exec (one system call, no allocation that takes a lock). A failure is
    ignored: on a kernel without keyrings there is nothing to inherit either.
    """
    keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0)


def add_key(description: bytes, keyring: int) -> int:
    """``add_key("user", description, ...)`` into ``keyring``; the new key's serial, or -1."""
    numbers = _numbers()
    if numbers is None or not sys.platform.startswith("linux"):
        return -1
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.syscall(numbers[1], b"user", description, b"x", 1, ctypes.c_long(keyring)))


def find_key(description: bytes, keyring: int) -> int:
    """The serial of the "user" key ``description`` in ``keyring`` (KEYCTL_SEARCH), or -1."""
    numbers = _numbers()
    if numbers is None or not sys.platform.startswith("linux"):
        return -1
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.syscall(numbers[0], 10, ctypes.c_long(keyring), b"user", description, 0))


def as_uid(uid: int, action: Callable[[], int]) -> int:
    """Run ``action`` in a forked child whose uid and gid are ``uid``; return what it returned.

    A fork, not a new interpreter: a slot uid may not be able to read this interpreter's files
    (a virtualenv under ``/root``). The child only makes system calls and exits; -1 when it
    could not report.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to uid, act, report, leave without running any cleanup
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.write(write_end, str(action()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        data = answer.read(32)
    os.waitpid(pid, 0)
    try:
        return int(data)
    except ValueError:
        return -1


def clear_uid_keyrings(uid: int) -> None:
    """Empty ``uid``'s user keyring and user-session keyring: a process running as ``uid`` must
    do it, since the kernel lets only a keyring's possessor clear it. Best effort."""
    if _numbers() is None or not sys.platform.startswith("linux"):
        return

    def clear() -> int:
        keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING)
        return keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING)

    as_uid(uid, clear)
