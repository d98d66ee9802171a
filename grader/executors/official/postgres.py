"""PostgreSQL for official grading: a server of the sandbox's own, never one of the host's.

The sandbox has no network, so it cannot reach the host's PostgreSQL, and it must not: a server
shared between jobs would let one submission see another's rows. Instead the agent starts a
throwaway server inside the sandbox (:func:`grader.executors.official.agent.start_postgres`),
with the sandbox's uid, on the sandbox's loopback, its files in the sandbox's ``/tmp``; each check
starts from a template database taken once the tables were built, as each check does from a copy
of the SQLite file. The programs come from the host's PostgreSQL install, read-only: the sandbox
binds ``/usr`` only, so an install elsewhere cannot be used and official grading says so.

``--database postgres`` asks for it; ``--database auto`` uses it when the rubric has criteria
that need PostgreSQL and the programs are installed, SQLite otherwise.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from grader.errors import UsageError
from grader.executors.official.sandbox import Limits
from grader.pgcluster import find_bindir

SANDBOX_POSTGRES = "postgres"  # the --database value that asks for the sandbox's own server
_MiB = 1024 * 1024
# What the sandbox's /tmp must hold beside the project's own files: a new cluster with 1 MB WAL
# segments is about 25 MB, and the lab databases and their templates a few MB each.
TMP_WITH_POSTGRES = 256 * _MiB
PROCESSES_WITH_POSTGRES = 192  # the server's own processes, one backend per open connection


def postgres_unavailable_reason() -> str | None:
    """Why official grading cannot start PostgreSQL in a sandbox here; None when it can."""
    bindir = find_bindir()
    if bindir is None:
        return (
            "Official grading on PostgreSQL starts a server inside the sandbox, and PostgreSQL's "
            "programs (initdb, postgres) are not installed here: install them "
            "(`apt-get install postgresql`), or grade on SQLite."
        )
    real = os.path.realpath(bindir)
    if not real.startswith("/usr/") or not (Path(real) / "postgres").is_file():
        return (
            f"Official grading on PostgreSQL needs PostgreSQL's programs under /usr (the only "
            f"system folder the sandbox can see), and they are in {real}: install the "
            "distribution's package (`apt-get install postgresql`), or grade on SQLite."
        )
    return None


def sandbox_bindir(database: str) -> str | None:
    """The programs' folder the agent starts PostgreSQL from, for ``database``; None for SQLite.

    Raises :class:`UsageError` (one line, exit 2) when ``database`` asks for PostgreSQL and it
    cannot be had, or names a server URL (the sandbox cannot reach one)."""
    if database in ("", "sqlite"):
        return None
    if database != SANDBOX_POSTGRES:
        raise UsageError(
            "Official grading cannot reach a PostgreSQL server (the sandbox has no network): it "
            "starts one of its own inside the sandbox. Use --database postgres (no URL), or "
            "drop --database to grade on SQLite."
        )
    reason = postgres_unavailable_reason()
    if reason:
        raise UsageError(reason)
    bindir = find_bindir()
    assert bindir is not None  # postgres_unavailable_reason checked it
    return os.path.realpath(bindir)


def limits_for(bindir: str | None, limits: Limits) -> Limits:
    """``limits`` with room for a PostgreSQL server when there is one."""
    if bindir is None:
        return limits
    return replace(
        limits,
        tmp_bytes=max(limits.tmp_bytes, TMP_WITH_POSTGRES),
        processes=max(limits.processes, PROCESSES_WITH_POSTGRES),
    )
