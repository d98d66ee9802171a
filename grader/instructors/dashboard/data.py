"""What the dashboard reads from the gradebook: a read-only snapshot as plain frozen data.

Current grades come from :meth:`grader.instructors.gradebook.Gradebook.grades` (overrides applied);
the history of results, which the store's API does not expose, is read here with one ``SELECT`` in a
transaction that writes nothing. When each learner joined the roster comes from the audit trail
(``learner.added``): a learner who never submitted is stuck *since then*.

Everything returned is a frozen dataclass or a read-only mapping, so the analysis cannot change
the gradebook or its own input by accident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.instructors.gradebook import Gradebook, GradeView, LearnerInfo
from grader.instructors.gradebook.models import Result


@dataclass(frozen=True)
class ResultRow:
    """One stored grading of one submission (a row of the gradebook's ``results``).

    ``failed`` holds the ids of the criteria that were graded and failed; a result whose
    submission could not be graded (status ``error`` or ``timeout``) has none: nothing was
    decided.
    """

    learner_id: str
    lab: str
    result_id: int
    submission_digest: str
    status: str
    points: int
    max_points: int
    graded_at: datetime
    failed: frozenset[str]


@dataclass(frozen=True)
class CohortData:
    """A snapshot of the gradebook, restricted to ``labs``.

    ``grades[lab][learner_id]`` is the learner's current grade (absent: no submission graded).
    ``history`` is every result of those labs, oldest first. ``enrolled_at[learner_id]`` is
    when the learner was added to the roster (absent if the audit trail has no such entry).
    """

    learners: tuple[LearnerInfo, ...]
    labs: tuple[str, ...]
    grades: Mapping[str, Mapping[str, GradeView]]
    history: tuple[ResultRow, ...]
    enrolled_at: Mapping[str, datetime]


def _utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; the gradebook stores UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def lab_order(lab: str) -> tuple[int, str]:
    """Teaching order: lab01..lab10 by number, anything else (the capstone) after them."""
    digits = lab.removeprefix("lab")
    return (int(digits), lab) if digits.isdigit() else (10_000, lab)


def gradebook_labs(gradebook: Gradebook) -> list[str]:
    """Every lab the gradebook holds a result for, in teaching order."""
    with Session(gradebook.engine) as session:
        labs = session.scalars(select(Result.lab).distinct()).all()
    return sorted(labs, key=lab_order)


def load_cohort(gradebook: Gradebook, labs: Sequence[str] | None = None) -> CohortData:
    """Read the snapshot the dashboard is drawn from (see module doc).

    ``labs`` defaults to every lab with at least one result. Learners are ordered by name (how a
    facilitator looks for someone), then id.
    """
    chosen = tuple(labs) if labs is not None else tuple(gradebook_labs(gradebook))
    learners = sorted(gradebook.learners(), key=lambda info: (info.name.casefold(), info.id))
    grades = {
        lab: MappingProxyType({g.learner.id: g for g in gradebook.grades(lab)}) for lab in chosen
    }
    history: list[ResultRow] = []
    if chosen:
        with Session(gradebook.engine) as session:
            rows = session.execute(
                select(
                    Result.learner_id,
                    Result.lab,
                    Result.id,
                    Result.submission_digest,
                    Result.status,
                    Result.points,
                    Result.max_points,
                    Result.graded_at,
                    Result.document,
                )
                .where(Result.lab.in_(chosen))
                # Ids grow with insertion, so they order results recorded in the same instant.
                .order_by(Result.graded_at, Result.id)
            )
            for learner_id, lab, rid, digest, status, points, max_points, at, document in rows:
                failed = frozenset(
                    c["id"] for c in document.get("criteria", []) if c.get("status") == "failed"
                )
                history.append(
                    ResultRow(
                        learner_id, lab, rid, digest, status, points, max_points, _utc(at), failed
                    )
                )
    enrolled: dict[str, datetime] = {}
    for entry in gradebook.audit():
        if entry.action == "learner.added" and entry.learner_id is not None:
            enrolled.setdefault(entry.learner_id, entry.at)
    return CohortData(
        learners=tuple(learners),
        labs=chosen,
        grades=MappingProxyType(grades),
        history=tuple(history),
        enrolled_at=MappingProxyType(enrolled),
    )
