"""Helpers shared by the course's tests (importable as ``tests.support``)."""

from __future__ import annotations

import os
from pathlib import Path

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
