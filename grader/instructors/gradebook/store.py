"""The gradebook: results, current grades, overrides and their audit trail in a real database.

Contract:

- :meth:`Gradebook.open` migrates the database to the newest schema first (Alembic), so any
  gradebook a previous grader version made keeps working.
- :meth:`Gradebook.record_result` stores a result exactly once per (learner, lab, submission
  digest, checks digest): a second call with the same identity changes nothing and returns
  ``False``; the database's unique constraint enforces this even between two processes. The
  learner's current grade then points at that result; an override made on an earlier result is
  cleared (the new work was not reviewed), and both changes are audited.
- :meth:`Gradebook.review` scores one people-decided criterion (``kind = "manual"``) of a current
  grade, 0..its points, with a reason; :class:`GradeView` folds those scores into its document
  and points (:func:`grader.scoring.apply_reviews`), so every export and the dashboard carry them
  exactly like points a run decided. A new submission (another digest) clears them, audited as
  ``review.superseded``; regrading the same files against changed checks keeps them.
- :meth:`Gradebook.override` sets the points of a current grade with a reason; every change of
  a grade or the roster writes an :class:`~grader.instructors.gradebook.models.AuditEntry` (who,
  when, old, new, reason) in the same transaction as the change itself.

Everything returned is a plain frozen dataclass, never an ORM object bound to a session, so
callers (exports, the CLI, a future dashboard) cannot change the database by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.errors import UsageError
from grader.instructors.gradebook.migrate import upgrade
from grader.instructors.gradebook.models import (
    AuditEntry,
    CriterionReview,
    Grade,
    Learner,
    Result,
)
from grader.scoring import AWAITING, Review, apply_reviews

# The submission digest recorded for "nothing was submitted" (an override for a learner with no
# submission): no digest of learner work can equal it, and it is never one learner's copy of
# another's (exports.published leaves it out of identical submissions).
NO_SUBMISSION = "none:no-submission"


@dataclass(frozen=True)
class LearnerInfo:
    """One roster entry. ``id`` is what submissions are named after (``alice/``, ``alice.zip``)."""

    id: str
    name: str
    email: str
    section: str | None = None
    sis_user_id: str | None = None
    sis_login_id: str | None = None
    canvas_user_id: str | None = None


@dataclass(frozen=True)
class GradeView:
    """A learner's current grade in a lab. ``points`` is what counts (the override if any);
    ``graded_points`` is the grading's points plus instructors' scores of manual criteria, and
    ``document`` the result document with those scores folded in (``reviews``, by criterion)."""

    learner: LearnerInfo
    lab: str
    result_id: int
    status: str
    points: int
    graded_points: int
    max_points: int
    override_points: int | None
    override_reason: str | None
    override_by: str | None
    submission_digest: str
    checks_digest: str
    rubric_version: str
    graded_at: datetime
    document: dict[str, Any]
    reviews: dict[str, Review] = field(default_factory=dict)

    @property
    def awaiting(self) -> list[str]:
        """Ids of the manual criteria no instructor has scored yet."""
        return [c["id"] for c in self.document["criteria"] if c["status"] == AWAITING]


@dataclass(frozen=True)
class AuditView:
    """One audit entry."""

    at: datetime
    actor: str
    action: str
    learner_id: str | None
    lab: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _learner(row: Learner) -> LearnerInfo:
    return LearnerInfo(
        row.id,
        row.name,
        row.email,
        row.section,
        row.sis_user_id,
        row.sis_login_id,
        row.canvas_user_id,
    )


def _review(row: CriterionReview) -> Review:
    at = _utc(row.reviewed_at).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Review(row.points, row.reason, row.reviewed_by, at)


def _state(grade: Grade, result: Result, reviewed: int = 0) -> dict[str, Any]:
    """What an audit entry records about a grade (``reviewed``: scored manual criteria's points)."""
    graded = result.points + reviewed
    return {
        "points": grade.override_points if grade.override_points is not None else graded,
        "graded_points": graded,
        "max_points": result.max_points,
        "status": result.status,
        "result_id": result.id,
        "submission_digest": result.submission_digest,
        "override_points": grade.override_points,
    }


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer, and a killed process (even kill -9) loses at most
        # the transaction it was in. synchronous=NORMAL is durable against process crashes.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


class Gradebook:
    """A gradebook database. Open with :meth:`open`; use as a context manager to close it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Gradebook:
        """Connect to the SQLAlchemy ``url`` and migrate it; UsageError if it cannot be opened."""
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            _enable_sqlite_pragmas(engine)
        try:
            upgrade(engine)
        except Exception as exc:
            engine.dispose()
            shown = engine.url.render_as_string(hide_password=True)
            raise UsageError(f"Cannot open the gradebook at {shown}: {exc}") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # -- roster -----------------------------------------------------------------------------

    def sync_roster(self, learners: Iterable[LearnerInfo], actor: str) -> tuple[int, int]:
        """Add new learners and update changed ones (audited); ``(added, updated)``.

        Learners missing from ``learners`` are kept: their results must not vanish because a
        roster file was trimmed.
        """
        added = updated = 0
        with self._session() as session:
            for info in learners:
                row = session.get(Learner, info.id)
                new = {k: v for k, v in info.__dict__.items() if k != "id"}
                if row is None:
                    session.add(Learner(id=info.id, **new))
                    session.add(self._audit(actor, "learner.added", info.id, None, None, new))
                    added += 1
                    continue
                old = {k: getattr(row, k) for k in new}
                if old != new:
                    for key, value in new.items():
                        setattr(row, key, value)
                    session.add(self._audit(actor, "learner.updated", info.id, None, old, new))
                    updated += 1
        return added, updated

    def learners(self) -> list[LearnerInfo]:
        with self._session() as session:
            return [_learner(r) for r in session.scalars(select(Learner).order_by(Learner.id))]

    # -- results ----------------------------------------------------------------------------

    def graded_keys(self, lab: str) -> set[tuple[str, str, str]]:
        """``(learner_id, submission_digest, checks_digest)`` of every result stored for ``lab``."""
        with self._session() as session:
            rows = session.execute(
                select(Result.learner_id, Result.submission_digest, Result.checks_digest).where(
                    Result.lab == lab
                )
            )
            return {(r[0], r[1], r[2]) for r in rows}

    def record_result(
        self,
        *,
        learner_id: str,
        result: dict[str, Any],
        submission_digest: str,
        checks_digest: str,
        source: str,
        actor: str,
    ) -> bool:
        """Store ``result`` for ``learner_id`` and make it the current grade (see module doc).

        Returns True when a new result was stored, False when this exact identity was already
        there (then the current grade is pointed at the stored one, if it was not already).
        """
        lab = result["lab"]["id"]
        try:
            with self._session() as session:
                if session.get(Learner, learner_id) is None:
                    raise UsageError(f"{learner_id!r} is not on the roster of this gradebook.")
                existing = session.scalar(
                    select(Result).where(
                        Result.learner_id == learner_id,
                        Result.lab == lab,
                        Result.submission_digest == submission_digest,
                        Result.checks_digest == checks_digest,
                    )
                )
                row = existing or self._result_row(
                    learner_id, result, submission_digest, checks_digest, source
                )
                if existing is None:
                    session.add(row)
                    session.flush()  # assigns row.id
                self._make_current(session, learner_id, lab, row, actor)
                return existing is None
        except IntegrityError:
            # Another process stored the same identity between our read and our write: the
            # unique constraint kept it to one row, which is all that matters.
            return False

    @staticmethod
    def _result_row(
        learner_id: str,
        result: dict[str, Any],
        submission_digest: str,
        checks_digest: str,
        source: str,
    ) -> Result:
        return Result(
            learner_id=learner_id,
            lab=result["lab"]["id"],
            submission_digest=submission_digest,
            checks_digest=checks_digest,
            rubric_version=result["lab"]["rubric_version"],
            rubric_digest=result["lab"]["rubric_digest"],
            grader_version=result["grader"]["version"],
            source=source[:200],
            status=result["status"],
            points=result["score"]["points"],
            max_points=result["score"]["max_points"],
            seconds=float(result["timings"].get("total", 0.0)),
            graded_at=_now(),
            document=result,
        )

    def _make_current(
        self, session: Session, learner_id: str, lab: str, row: Result, actor: str
    ) -> None:
        grade = session.get(Grade, (learner_id, lab))
        if grade is not None and grade.result_id == row.id:
            return
        now = _now()
        if grade is None:
            grade = Grade(learner_id=learner_id, lab=lab, result_id=row.id, updated_at=now)
            session.add(grade)
            session.add(
                self._audit(actor, "grade.recorded", learner_id, lab, None, _state(grade, row))
            )
            return
        previous = session.get(Result, grade.result_id)
        reviews = self._review_rows(session, learner_id, lab)
        old = _state(grade, previous, sum(r.points for r in reviews)) if previous else None
        stale = [r for r in reviews if r.submission_digest != row.submission_digest]
        for review in stale:
            session.delete(review)
            session.add(
                self._audit(
                    actor,
                    "review.superseded",
                    learner_id,
                    lab,
                    {"criterion": review.criterion_id, "points": review.points},
                    None,
                    "a new submission replaced the reviewed one; score it again",
                )
            )
        kept = sum(r.points for r in reviews if r not in stale)
        if grade.override_points is not None:
            session.add(
                self._audit(
                    actor,
                    "override.superseded",
                    learner_id,
                    lab,
                    old,
                    None,
                    "a new grading replaced the reviewed result; review it again if needed",
                )
            )
            grade.override_points = grade.override_reason = grade.override_by = None
            grade.override_at = None
        grade.result_id = row.id
        grade.updated_at = now
        new = _state(grade, row, kept)
        session.add(self._audit(actor, "grade.recorded", learner_id, lab, old, new))

    # -- grades and overrides ---------------------------------------------------------------

    def grades(self, lab: str) -> list[GradeView]:
        """Every current grade in ``lab``, by learner id."""
        with self._session() as session:
            rows = session.execute(
                select(Grade, Result, Learner)
                .join(Result, Grade.result_id == Result.id)
                .join(Learner, Grade.learner_id == Learner.id)
                .where(Grade.lab == lab)
                .order_by(Grade.learner_id)
            )
            reviews: dict[str, list[CriterionReview]] = {}
            for review in session.scalars(
                select(CriterionReview).where(CriterionReview.lab == lab)
            ):
                reviews.setdefault(review.learner_id, []).append(review)
            return [
                self._view(g, r, learner, reviews.get(learner.id, [])) for g, r, learner in rows
            ]

    @staticmethod
    def _review_rows(session: Session, learner_id: str, lab: str) -> list[CriterionReview]:
        return list(
            session.scalars(
                select(CriterionReview).where(
                    CriterionReview.learner_id == learner_id, CriterionReview.lab == lab
                )
            )
        )

    def grade(self, learner_id: str, lab: str) -> GradeView | None:
        return next((g for g in self.grades(lab) if g.learner.id == learner_id), None)

    def results_count(self, lab: str, learner_id: str | None = None) -> int:
        """How many results are stored for ``lab`` (and ``learner_id``): every grading kept."""
        with self._session() as session:
            query = select(Result.id).where(Result.lab == lab)
            if learner_id is not None:
                query = query.where(Result.learner_id == learner_id)
            return len(session.scalars(query).all())

    @staticmethod
    def _view(
        grade: Grade, result: Result, learner: Learner, review_rows: Iterable[CriterionReview]
    ) -> GradeView:
        reviews = {r.criterion_id: _review(r) for r in review_rows}
        document = apply_reviews(result.document, reviews)
        graded = int(document["score"]["points"])
        return GradeView(
            learner=_learner(learner),
            lab=grade.lab,
            result_id=result.id,
            status=result.status,
            points=grade.override_points if grade.override_points is not None else graded,
            graded_points=graded,
            max_points=result.max_points,
            override_points=grade.override_points,
            override_reason=grade.override_reason,
            override_by=grade.override_by,
            submission_digest=result.submission_digest,
            checks_digest=result.checks_digest,
            rubric_version=result.rubric_version,
            graded_at=_utc(result.graded_at),
            document=document,
            reviews=reviews,
        )

    def override(
        self, learner_id: str, lab: str, points: int | None, reason: str, actor: str
    ) -> GradeView:
        """Set (``points``) or clear (``None``) the override of a current grade, with a reason.

        UsageError when there is no grade to override, the reason is empty, or the points are
        outside 0..max.
        """
        reason = reason.strip()
        if not reason:
            raise UsageError("Give the reason for the override (--reason); it goes in the audit.")
        with self._session() as session:
            grade = session.get(Grade, (learner_id, lab))
            if grade is None:
                raise UsageError(
                    f"{learner_id} has no grade in {lab} yet; grade the submission first."
                )
            result = session.get(Result, grade.result_id)
            assert result is not None  # the foreign key guarantees it
            if points is not None and not 0 <= points <= result.max_points:
                raise UsageError(f"Points must be between 0 and {result.max_points}.")
            reviews = self._review_rows(session, learner_id, lab)
            reviewed = sum(r.points for r in reviews)
            old = _state(grade, result, reviewed)
            grade.override_points = points
            grade.override_reason = reason if points is not None else None
            grade.override_by = actor if points is not None else None
            grade.override_at = _now() if points is not None else None
            grade.updated_at = _now()
            action = "override.set" if points is not None else "override.cleared"
            new = _state(grade, result, reviewed)
            session.add(self._audit(actor, action, learner_id, lab, old, new, reason))
            learner = session.get(Learner, learner_id)
            assert learner is not None
            return self._view(grade, result, learner, reviews)

    def review(
        self,
        learner_id: str,
        lab: str,
        criterion_id: str,
        points: int | None,
        reason: str,
        actor: str,
    ) -> GradeView:
        """Score (``points``) or unscore (``None``) one manual criterion of a current grade.

        UsageError, with what to do, when there is no grade, the reason is empty, the criterion
        is not a manual criterion of the graded result, or the points are outside 0..its points.
        The change and its reason are audited (``review.set`` / ``review.cleared``).
        """
        reason = reason.strip()
        if not reason:
            raise UsageError(
                "Give the reason for the score (--reason); the learner reads it and it goes in "
                "the audit."
            )
        with self._session() as session:
            grade = session.get(Grade, (learner_id, lab))
            if grade is None:
                raise UsageError(
                    f"{learner_id} has no grade in {lab} yet; grade the submission first."
                )
            result = session.get(Result, grade.result_id)
            assert result is not None  # the foreign key guarantees it
            if result.status != "graded":
                raise UsageError(
                    f"{learner_id}'s {lab} submission could not be graded ({result.status}); "
                    "grade a submission that runs before scoring its manual criteria."
                )
            manual = {
                c["id"]: int(c["max_points"])
                for c in result.document["criteria"]
                if c.get("status") == AWAITING
            }
            if criterion_id not in manual:
                listed = ", ".join(sorted(manual)) or "none"
                raise UsageError(
                    f"{criterion_id!r} is not a manual criterion of {lab} (its manual criteria: "
                    f"{listed})."
                )
            if points is not None and not 0 <= points <= manual[criterion_id]:
                raise UsageError(
                    f"Points for {criterion_id} must be between 0 and {manual[criterion_id]}."
                )
            row = session.get(CriterionReview, (learner_id, lab, criterion_id))
            old = {"criterion": criterion_id, "points": row.points if row else None}
            if points is None:
                if row is None:
                    raise UsageError(f"{criterion_id} of {learner_id} in {lab} is not scored.")
                session.delete(row)
            elif row is None:
                row = CriterionReview(
                    learner_id=learner_id,
                    lab=lab,
                    criterion_id=criterion_id,
                    points=points,
                    reason=reason,
                    reviewed_by=actor,
                    reviewed_at=_now(),
                    submission_digest=result.submission_digest,
                )
                session.add(row)
            else:
                row.points, row.reason, row.reviewed_by = points, reason, actor
                row.reviewed_at = _now()
                row.submission_digest = result.submission_digest
            grade.updated_at = _now()
            action = "review.set" if points is not None else "review.cleared"
            new = {"criterion": criterion_id, "points": points}
            session.add(self._audit(actor, action, learner_id, lab, old, new, reason))
            session.flush()
            learner = session.get(Learner, learner_id)
            assert learner is not None
            return self._view(grade, result, learner, self._review_rows(session, learner_id, lab))

    # -- audit ------------------------------------------------------------------------------

    @staticmethod
    def _audit(
        actor: str,
        action: str,
        learner_id: str | None,
        lab: str | None,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        reason: str | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            at=_now(),
            actor=actor,
            action=action,
            learner_id=learner_id,
            lab=lab,
            old=old,
            new=new,
            reason=reason,
        )

    def audit(self, learner_id: str | None = None, lab: str | None = None) -> list[AuditView]:
        """Audit entries, oldest first, optionally for one learner and/or lab."""
        with self._session() as session:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if learner_id is not None:
                query = query.where(AuditEntry.learner_id == learner_id)
            if lab is not None:
                query = query.where(AuditEntry.lab == lab)
            return [
                AuditView(
                    _utc(e.at), e.actor, e.action, e.learner_id, e.lab, e.old, e.new, e.reason
                )
                for e in session.scalars(query)
            ]
