"""Map check outcomes to rubric criteria and points.

A criterion passes when every check it names was reported ``passed``. A check the rubric expects
but the child never reported counts as failed (fail closed) and raises an integrity flag: the
report may have been cut short or tampered with.

A people-decided criterion (``kind = "manual"``) is never decided here: it is reported
``awaiting_instructor`` with 0 points, whatever the run reported, and an instructor scores it
later in the gradebook (:func:`apply_reviews` folds those scores into a result document).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.report import Report, TestOutcome
from grader.rubric import MANUAL, Criterion, Rubric

NOT_REPORTED = "the check did not report a result"
AWAITING = "awaiting_instructor"  # a manual criterion no instructor has scored yet


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: str  # passed | failed | not_run | awaiting_instructor (| official_only)
    points: int
    detail: str | None  # the first failing check's one-line message
    tests: tuple[TestOutcome, ...]

    @property
    def feedback(self) -> str | None:
        """The rubric's advice for a criterion that did not pass; None when it passed."""
        return None if self.status == "passed" else self.criterion.feedback


@dataclass(frozen=True)
class Score:
    criteria: tuple[CriterionResult, ...]
    integrity_flags: tuple[str, ...] = field(default=())

    @property
    def points(self) -> int:
        return sum(c.points for c in self.criteria)

    @property
    def max_points(self) -> int:
        return sum(c.criterion.points for c in self.criteria)

    @property
    def awaiting_points(self) -> int:
        """Points that wait for an instructor (manual criteria), part of ``max_points``."""
        return sum(c.criterion.points for c in self.criteria if c.status == AWAITING)

    @property
    def all_passed(self) -> bool:
        """Every criterion a run decides passed (manual ones wait for a person, not a run)."""
        return all(c.status in ("passed", AWAITING) for c in self.criteria)


def awaiting(criterion: Criterion) -> CriterionResult:
    """The result of a manual criterion before any instructor has scored it."""
    return CriterionResult(criterion, AWAITING, 0, None, ())


def score_report(rubric: Rubric, report: Report) -> Score:
    """Score ``report`` against ``rubric``; every criterion gets a definite status."""
    flags: list[str] = []
    results: list[CriterionResult] = []
    missing = [node for node in rubric.check_ids if node not in report.tests]
    if missing:
        flags.append(
            f"{len(missing)} expected check(s) reported no result: {', '.join(missing[:5])}"
        )
    for criterion in rubric.criteria:
        if criterion.kind == MANUAL:  # a person decides it; nothing a run says counts
            results.append(awaiting(criterion))
            continue
        outcomes = tuple(
            report.tests.get(node) or TestOutcome(node, "failed", 0.0, NOT_REPORTED)
            for node in criterion.checks
        )
        failing = [o for o in outcomes if o.outcome != "passed"]
        passed = not failing
        results.append(
            CriterionResult(
                criterion=criterion,
                status="passed" if passed else "failed",
                points=criterion.points if passed else 0,
                detail=None if passed else (failing[0].message or f"check {failing[0].outcome}"),
                tests=outcomes,
            )
        )
    return Score(tuple(results), tuple(flags))


def unscored(rubric: Rubric) -> Score:
    """Every criterion ``not_run`` with 0 points: for submissions that could not be graded."""
    return Score(tuple(CriterionResult(c, "not_run", 0, None, ()) for c in rubric.criteria))


@dataclass(frozen=True)
class Review:
    """An instructor's score for one manual criterion, with the reason the learner will read."""

    points: int
    reason: str
    by: str
    at: str  # ISO 8601, UTC


def apply_reviews(document: dict[str, Any], reviews: Mapping[str, Review]) -> dict[str, Any]:
    """``document`` with instructors' scores of its manual criteria folded in (schema 1.3).

    A reviewed criterion gets its points, status ``passed`` at full points and ``failed``
    below them, and a ``review`` member (points, reason, by, at); ``score`` is recomputed and
    ``awaiting_points`` lowered. Reviews of criteria the document does not list as
    ``awaiting_instructor`` are ignored (the rubric changed). A document without reviews comes
    back unchanged (the same object); otherwise a copy, so a stored result is never edited.
    """
    pending = {c["id"] for c in document.get("criteria", []) if c.get("status") == AWAITING} & set(
        reviews
    )
    if document.get("status") != "graded" or not pending:
        return document
    folded = copy.deepcopy(document)
    for criterion in folded["criteria"]:
        review = reviews.get(criterion["id"]) if criterion["id"] in pending else None
        if review is None:
            continue
        full = review.points >= criterion["max_points"]
        criterion["points"] = review.points
        criterion["status"] = "passed" if full else "failed"
        criterion["review"] = {
            "points": review.points,
            "reason": review.reason,
            "by": review.by,
            "at": review.at,
        }
        criterion["detail"] = None  # nothing was observed by a check; the review says why
        if full:
            criterion["feedback"] = None
    score = folded["score"]
    score["points"] = sum(int(c["points"]) for c in folded["criteria"])
    maximum = int(score["max_points"])
    score["percent"] = round(100.0 * score["points"] / maximum, 1) if maximum else 0.0
    score["awaiting_points"] = sum(
        int(c["max_points"]) for c in folded["criteria"] if c["status"] == AWAITING
    )
    folded["schema_version"] = max(folded["schema_version"], "1.3", key=_version_key)
    return folded


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
