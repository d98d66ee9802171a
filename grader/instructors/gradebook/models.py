"""The gradebook's tables (SQLAlchemy 2 declarative, typed).

Schema changes go through Alembic migrations in ``migrations/versions/`` (never ``create_all``):
change a model here, then write the migration that brings an existing gradebook to it (``alembic
revision --autogenerate`` can draft it; see :mod:`grader.instructors.gradebook.migrate`).

- ``learners``: the roster, keyed by the learner id instructors use in file names.
- ``results``: every grading ever recorded, with the result document. One row per
  (learner, lab, submission digest, checks digest): grading the same work against the same
  checks twice can never add a second row, which is what makes a resumed run count nothing twice.
- ``grades``: each learner's current grade per lab: the result it comes from, and an instructor
  override (points, reason, who, when) if there is one.
- ``criterion_reviews``: an instructor's score of a people-decided criterion (``kind =
  "manual"``: the demo, the code review) in a learner's current grade: points, reason, who, when,
  and the submission digest it was given for (a new submission clears it, as it clears an
  override; a regrade of the same files keeps it).
- ``audit_log``: every change to a grade or the roster: who, when, old value, new value, reason.
  It names learners and labs by value, not by foreign key, so it outlives whatever it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` is what Alembic compares migrations against."""


class Learner(Base):
    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    section: Mapped[str | None] = mapped_column(String(100))
    sis_user_id: Mapped[str | None] = mapped_column(String(100))
    sis_login_id: Mapped[str | None] = mapped_column(String(100))
    canvas_user_id: Mapped[str | None] = mapped_column(String(100))


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint(
            "learner_id", "lab", "submission_digest", "checks_digest", name="uq_results_identity"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id"), index=True)
    lab: Mapped[str] = mapped_column(String(20), index=True)
    submission_digest: Mapped[str] = mapped_column(String(80))
    checks_digest: Mapped[str] = mapped_column(String(80))
    rubric_version: Mapped[str] = mapped_column(String(40))
    rubric_digest: Mapped[str] = mapped_column(String(80))
    grader_version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    max_points: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class Grade(Base):
    __tablename__ = "grades"
    __table_args__ = (ForeignKeyConstraint(["learner_id"], ["learners.id"]),)

    learner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    lab: Mapped[str] = mapped_column(String(20), primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id"))
    override_points: Mapped[int | None] = mapped_column(Integer)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(100))
    override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    learner_id: Mapped[str | None] = mapped_column(String(100), index=True)
    lab: Mapped[str | None] = mapped_column(String(20))
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class CriterionReview(Base):
    __tablename__ = "criterion_reviews"
    __table_args__ = (
        ForeignKeyConstraint(["learner_id", "lab"], ["grades.learner_id", "grades.lab"]),
    )

    learner_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    lab: Mapped[str] = mapped_column(String(20), primary_key=True)
    criterion_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submission_digest: Mapped[str] = mapped_column(String(80))
