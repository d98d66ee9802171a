"""The one result format (ARCHITECTURE decision 5): a versioned JSON document per graded submission.

Every other output (the terminal table, feedback pages, LMS and Gradescope exports) is rendered
from this document. Its JSON Schema is published at ``grader/schema/result.schema.json``; bump
``SCHEMA_VERSION`` (major for breaking changes) whenever the shape changes, and the schema with it.

Where results go: ``<course root>/.grader/results/<lab>.json`` (the latest) and
``.grader/results/history/<lab>-<UTC timestamp>.json`` (every run), or the ``--output`` path.
The folder is git-ignored, and nothing is ever written into the submission itself.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from grader import __version__
from grader.rubric import Rubric
from grader.scoring import Score
from grader.staging import StagedSubmission

# 1.1: official_only criteria, public_checks; 1.2: override; 1.3: manual criteria (criterion
# kind, status awaiting_instructor, review; score.awaiting_points) and a criterion's after
SCHEMA_VERSION = "1.3"
SCHEMA_PATH = Path(__file__).parent / "schema" / "result.schema.json"
STATUSES = ("graded", "error", "timeout")


@dataclass(frozen=True)
class Outcome:
    """How a grading run ended, before it is rendered to JSON."""

    status: str
    message: str | None = None
    error_stage: str | None = None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_result(
    *,
    rubric: Rubric,
    score: Score,
    outcome: Outcome,
    submission: Path,
    staged: StagedSubmission | None,
    database: str,
    mode: str,
    timings: dict[str, float],
    started_at: str,
    reported_checks: int,
) -> dict[str, Any]:
    """Assemble the result document. Pure: no I/O besides reading package versions."""
    percent = round(100.0 * score.points / score.max_points, 1) if score.max_points else 0.0
    return {
        "schema_version": SCHEMA_VERSION,
        "grader": {"name": "blogcraft-grader", "version": __version__},
        "lab": {
            "id": rubric.lab,
            "title": rubric.title,
            "rubric_version": rubric.version,
            "rubric_digest": rubric.digest,
        },
        "submission": {
            "path": str(submission),
            "digest": staged.digest if staged else None,
            "files": staged.file_count if staged else 0,
            "bytes": staged.total_bytes if staged else 0,
        },
        "mode": mode,
        "environment": {
            "python": platform.python_version(),
            "platform": sys.platform,
            "django": _version("Django"),
            "database": "postgresql" if database.startswith("postgres") else "sqlite",
        },
        "status": outcome.status,
        "message": outcome.message,
        "error_stage": outcome.error_stage,
        "score": {
            "points": score.points,
            "max_points": score.max_points,
            "percent": percent,
            "awaiting_points": score.awaiting_points,
        },
        "criteria": [
            {
                "id": c.criterion.id,
                "title": c.criterion.title,
                "outcome": c.criterion.outcome,
                "points": c.points,
                "max_points": c.criterion.points,
                "status": c.status,
                "kind": c.criterion.kind,
                "feedback": c.feedback,
                "detail": c.detail,
                "see": c.criterion.see,
                "after": list(c.criterion.after),
                "tests": [
                    {
                        "id": t.nodeid,
                        "outcome": t.outcome,
                        "duration": round(t.duration, 4),
                        "message": t.message,
                    }
                    for t in c.tests
                ],
            }
            for c in score.criteria
        ],
        "integrity": {
            "flags": list(score.integrity_flags),
            "expected_checks": len(rubric.check_ids),
            "reported_checks": reported_checks,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "started_at": started_at,
        "finished_at": utc_now(),
    }


def validate_result(result: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``result`` does not match the published schema."""
    import jsonschema  # imported here: only tests and exports need it, not every grading run

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(result)


def default_result_paths(root: Path, lab: str, started_at: str) -> tuple[Path, Path]:
    """``(latest, history)`` paths under ``<root>/.grader/results``."""
    base = root / ".grader" / "results"
    stamp = started_at.replace(":", "").replace("-", "")
    return base / f"{lab}.json", base / "history" / f"{lab}-{stamp}.json"


def write_json(path: Path, result: dict[str, Any]) -> None:
    """Write atomically, so a reader never sees half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
