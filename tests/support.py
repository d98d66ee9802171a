"""Helpers shared by the course's tests (importable as ``tests.support``)."""

from __future__ import annotations

import functools
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


@functools.cache
def lab_order() -> list[str]:
    """Every lab in teaching order (``solutions/labs.toml``), the capstone included."""
    import tomllib

    text = (ROOT / "solutions" / "labs.toml").read_text(encoding="utf-8")
    return list(tomllib.loads(text)["labs"])


def latest_lab() -> str:
    """The last lab of the blog API in teaching order that has hidden checks: its solution holds
    every lab's code (the capstone is another project and is not one of them)."""
    import tomllib

    order = tomllib.loads((ROOT / "solutions" / "labs.toml").read_text(encoding="utf-8"))["labs"]
    blog = [lab for lab in order if lab != "capstone"]
    return [lab for lab in blog if (ROOT / "labs" / lab / "hidden").is_dir()][-1]


def proves_earlier(lab: str, database: str = "sqlite", mode: str = "local") -> bool:
    """Whether the suite's proof of ``lab`` grades its solution against every earlier rubric.

    Always on SQLite in local mode: every lab's solution against every earlier rubric. On
    PostgreSQL and in official mode only for the latest lab, whose solution holds all the code
    the other labs' solutions hold: graded against every earlier rubric there, it shows that no
    later lab broke an earlier one on that database or in that mode, and each earlier rubric is
    proven on its own solution there too. The rest would repeat those gradings at a cost that
    grows as the number of labs squared (BENCHMARKS.md, ".ci/run by part"). Course authors run
    the whole of it with ``python -m grader prove LAB --database postgres://... [--official]``.
    """
    local_sqlite = mode == "local" and not database.startswith("postgres")
    return local_sqlite or lab == latest_lab()


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
        grade = GradeOptions(**options)  # type: ignore[arg-type]
        earlier = proves_earlier(lab, grade.database, grade.mode)
        proof = prove_lab(ROOT, lab, grade, earlier=earlier)
        stored.write_text(
            json.dumps(
                {"lab": proof.lab, "problems": proof.problems, "results": proof.results,
                 "notes": proof.notes}
            ),
            encoding="utf-8",
        )  # fmt: skip
        return proof
