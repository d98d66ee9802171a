"""Initial gradebook schema: learners, results, grades, audit_log.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "learners",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("section", sa.String(length=100), nullable=True),
        sa.Column("sis_user_id", sa.String(length=100), nullable=True),
        sa.Column("sis_login_id", sa.String(length=100), nullable=True),
        sa.Column("canvas_user_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.String(length=100), nullable=False),
        sa.Column("lab", sa.String(length=20), nullable=False),
        sa.Column("submission_digest", sa.String(length=80), nullable=False),
        sa.Column("checks_digest", sa.String(length=80), nullable=False),
        sa.Column("rubric_version", sa.String(length=40), nullable=False),
        sa.Column("rubric_digest", sa.String(length=80), nullable=False),
        sa.Column("grader_version", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "learner_id", "lab", "submission_digest", "checks_digest", name="uq_results_identity"
        ),
    )
    op.create_index("ix_results_lab", "results", ["lab"])
    op.create_index("ix_results_learner_id", "results", ["learner_id"])
    op.create_table(
        "grades",
        sa.Column("learner_id", sa.String(length=100), nullable=False),
        sa.Column("lab", sa.String(length=20), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("override_points", sa.Integer(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.String(length=100), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"]),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"]),
        sa.PrimaryKeyConstraint("learner_id", "lab"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("learner_id", sa.String(length=100), nullable=True),
        sa.Column("lab", sa.String(length=20), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_learner_id", "audit_log", ["learner_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_learner_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("grades")
    op.drop_index("ix_results_learner_id", table_name="results")
    op.drop_index("ix_results_lab", table_name="results")
    op.drop_table("results")
    op.drop_table("learners")
