"""The result document as published: the grade that counts, and what the cohort should look at.

Every export the instructors hand out starts here, so that an instructor's override shows the same
in all of them (feedback pages, ``results/<id>.json``, JUnit, the LMS file):

- :func:`published_document`: a gradebook grade's result document with the override applied:
  ``score.points`` (and ``percent``) are the overridden points, and an ``override`` member keeps
  what the grading gave, the reason and who changed it (result schema 1.2).
- :func:`identical_submissions`: learners whose submissions have the same digest (the same files,
  byte for byte), which an instructor should look at before publishing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from grader.instructors.gradebook.store import NO_SUBMISSION, GradeView
from grader.result import SCHEMA_VERSION


def published_document(grade: GradeView) -> dict[str, Any]:
    """``grade.document``, unchanged without an override; with one, its points and why."""
    if grade.override_points is None:
        return grade.document
    document = copy.deepcopy(grade.document)
    score = document["score"]
    graded = int(score["points"])
    score["points"] = grade.override_points
    maximum = int(score["max_points"])
    score["percent"] = round(100.0 * grade.override_points / maximum, 1) if maximum else 0.0
    document["override"] = {
        "points": grade.override_points,
        "graded_points": graded,
        "reason": grade.override_reason or "",
        "by": grade.override_by,
    }
    document["schema_version"] = SCHEMA_VERSION
    return document


def identical_submissions(grades: Sequence[GradeView]) -> list[tuple[str, list[str]]]:
    """``(digest, learner ids)`` for every digest two or more learners submitted, sorted."""
    by_digest: dict[str, list[str]] = {}
    for grade in grades:
        if grade.submission_digest and grade.submission_digest != NO_SUBMISSION:
            by_digest.setdefault(grade.submission_digest, []).append(grade.learner.id)
    return sorted((digest, sorted(ids)) for digest, ids in by_digest.items() if len(ids) > 1)
