"""Criterion reviews: instructors' scores of people-decided (manual) criteria.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "criterion_reviews",
        sa.Column("learner_id", sa.String(length=100), nullable=False),
        sa.Column("lab", sa.String(length=20), nullable=False),
        sa.Column("criterion_id", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission_digest", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["learner_id", "lab"], ["grades.learner_id", "grades.lab"]),
        sa.PrimaryKeyConstraint("learner_id", "lab", "criterion_id"),
    )


def downgrade() -> None:
    op.drop_table("criterion_reviews")
