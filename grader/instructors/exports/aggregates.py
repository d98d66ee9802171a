"""The public cohort page: how the cohort did per criterion, with counts and means only.

Privacy contract (tested against a real site build): the page holds no learner name, id, email,
submission digest or individual score, only these numbers per criterion and for the lab: how many
learners were graded, how many passed, the pass rate and the mean points. A cohort smaller than
``min_learners`` (default 5) publishes no numbers at all, because a mean over one or two
learners *is* their score. Learners whose submission could not be graded count in "not graded",
not in the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.instructors.exports.text import md_authored
from grader.instructors.gradebook.store import GradeView

MIN_LEARNERS = 5


@dataclass(frozen=True)
class CriterionStats:
    id: str
    title: str
    max_points: int
    graded: int
    passed: int
    mean_points: float

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class LabStats:
    lab: str
    title: str
    max_points: int
    graded: int
    not_graded: int
    mean_points: float
    criteria: tuple[CriterionStats, ...]


def lab_stats(grades: Sequence[GradeView]) -> LabStats | None:
    """Counts and means over ``grades`` (one lab's current grades); None if there are none.

    Lab means use each learner's current points (an instructor override counts); criterion
    figures come from the graded result, since an override is not per criterion.
    """
    if not grades:
        return None
    graded = [g for g in grades if g.status == "graded"]
    document = (graded or list(grades))[0].document
    criteria = []
    for index, c in enumerate(document["criteria"]):
        rows = [g.document["criteria"][index] for g in graded]
        criteria.append(
            CriterionStats(
                id=c["id"],
                title=c["title"],
                max_points=c["max_points"],
                graded=len(rows),
                passed=sum(r["status"] == "passed" for r in rows),
                mean_points=sum(r["points"] for r in rows) / len(rows) if rows else 0.0,
            )
        )
    return LabStats(
        lab=document["lab"]["id"],
        title=document["lab"]["title"],
        max_points=document["score"]["max_points"],
        graded=len(graded),
        not_graded=len(grades) - len(graded),
        mean_points=sum(g.points for g in graded) / len(graded) if graded else 0.0,
        criteria=tuple(criteria),
    )


def aggregates_markdown(stats: LabStats, *, min_learners: int = MIN_LEARNERS) -> str:
    """The public page for one lab (Markdown for the course site)."""
    lines = [f"# Cohort results: {stats.lab}", "", f"{md_authored(stats.title)}", ""]
    if stats.graded < min_learners:
        lines += [
            f"Fewer than {min_learners} learners have been graded, so no figures are published "
            "yet: with so few, an average would reveal individual scores.",
            "",
        ]
        return "\n".join(lines)
    lines += [
        f"- Learners graded: {stats.graded}",
        f"- Submissions that could not be graded: {stats.not_graded}",
        f"- Mean score: {stats.mean_points:.1f} of {stats.max_points} points",
        "",
        "| Criterion | Points | Passed | Pass rate | Mean points |",
        "|---|---:|---:|---:|---:|",
    ]
    for c in stats.criteria:
        lines.append(
            f"| {md_authored(c.title)} | {c.max_points} | {c.passed} of {c.graded} | "
            f"{100 * c.pass_rate:.0f}% | {c.mean_points:.1f} |"
        )
    weakest = min(stats.criteria, key=lambda c: c.pass_rate)
    lines += [
        "",
        f"Least often met: **{md_authored(weakest.title)}** "
        f"({100 * weakest.pass_rate:.0f}% of graded learners).",
        "",
    ]
    return "\n".join(lines)
