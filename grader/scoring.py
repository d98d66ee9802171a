"""Map check outcomes to rubric criteria and points.

A criterion passes when every check it names was reported ``passed``. A check the rubric expects
but the child never reported counts as failed (fail closed) and raises an integrity flag: the
report may have been cut short or tampered with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.report import Report, TestOutcome
from grader.rubric import Criterion, Rubric

NOT_REPORTED = "the check did not report a result"


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    status: str  # passed | failed | not_run
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
    def all_passed(self) -> bool:
        return all(c.status == "passed" for c in self.criteria)


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
