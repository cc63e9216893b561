"""Repeat groups: ``repeat_rows`` holds their answers as child rows of the ballot.

One row per ballot (``submission_id``), repeat group, instance (1, 2, ...) and variable, with the
answer as JSON; written in the ballot's own transaction, so a resend stores nothing twice.

Revision ID: 0011_repeats
Revises: 0010_online
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_repeats"
down_revision = "0010_online"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repeat_rows",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("repeat", sa.String(100), nullable=False),
        sa.Column("instance", sa.Integer, nullable=False),
        sa.Column("variable", sa.String(100), nullable=False),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.submission_id"],
            name="fk_repeat_rows_submission_id_submissions",
        ),
        sa.PrimaryKeyConstraint(
            "submission_id", "repeat", "instance", "variable", name="pk_repeat_rows"
        ),
        sa.CheckConstraint("instance >= 1", name="ck_repeat_rows_instance"),
    )


def downgrade() -> None:
    op.drop_table("repeat_rows")
