"""Helpers shared by the course's tests (importable as ``tests.support``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def postgres_url() -> str | None:
    """The PostgreSQL server for tests: GRADER_TEST_POSTGRES_URL, or the local one if it answers.

    On CI (CI=true) a missing server is a failure, not a skip: the course promises that its
    rubrics run on PostgreSQL for real.
    """
    url = os.environ.get("GRADER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3):
            return url
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL at {url}: {exc}")
        return None


def shared_proof(tmp_path_factory: pytest.TempPathFactory, lab: str, **options: object) -> Any:
    """``prove_lab(ROOT, lab, GradeOptions(**options))``, computed once per test session.

    Under pytest-xdist every worker is its own process, so a module fixture would prove a lab
    again in each worker that asks. The proof is written as JSON into the folder all workers of
    one session share (the parent of each worker's base temp folder) under a file lock, and the
    first worker to ask computes it: the pattern pytest-xdist documents for session fixtures.
    Several modules read the same proof (the rubric proofs, the official-against-local
    comparison), which is what makes this worth it.
    """
    import json

    from filelock import FileLock

    from grader.course.proving import Proof, prove_lab
    from grader.pipeline import GradeOptions

    key = "-".join([lab, *(f"{k}={options[k]}" for k in sorted(options))])
    key = "".join(ch if ch.isalnum() or ch in "-=." else "_" for ch in key)
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base is <session>/popen-gwN; without it the base is the
    # session's own folder (its parent would be shared with every other session).
    session = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = session / "shared-proofs"
    shared.mkdir(exist_ok=True)
    stored = shared / f"{key}.json"
    with FileLock(str(stored) + ".lock"):
        if stored.is_file():
            data = json.loads(stored.read_text(encoding="utf-8"))
            return Proof(data["lab"], data["problems"], data["results"], data["notes"])
        proof = prove_lab(ROOT, lab, GradeOptions(**options))  # type: ignore[arg-type]
        stored.write_text(
            json.dumps(
                {"lab": proof.lab, "problems": proof.problems, "results": proof.results,
                 "notes": proof.notes}
            ),
            encoding="utf-8",
        )  # fmt: skip
        return proof
