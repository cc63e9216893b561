"""Speaking turns (the secretary's recorder) and codings of the ballots' free-text comments.

``turns`` holds a speaker category and an optional anonymous seat number per turn, never a person;
``codings`` holds the codes each coder gave a comment, and the reconciled ("final") codes.

Revision ID: 0008_turns
Revises: 0006_cases
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_turns"
down_revision = "0006_cases"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("turn_id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("seat", sa.Integer),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP),
        sa.Column("codes", JSON, nullable=False),
        sa.Column("device", sa.String(100)),
        sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_turns_meeting_id_meetings"
        ),
        sa.PrimaryKeyConstraint("turn_id", name="pk_turns"),
    )
    op.create_index("ix_turns_meeting_id_started_at", "turns", ["meeting_id", "started_at"])
    op.create_table(
        "codings",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("question", sa.String(100), nullable=False),
        sa.Column("coder", sa.String(40), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("codebook", sa.String(100), nullable=False),
        sa.Column("codes", JSON, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("coded_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("role IN ('coder', 'final')", name="ck_codings_role"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_codings_meeting_id_meetings"
        ),
        sa.PrimaryKeyConstraint("submission_id", "question", "coder", "role", name="pk_codings"),
    )
    op.create_index("ix_codings_meeting_id", "codings", ["meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_codings_meeting_id", table_name="codings")
    op.drop_table("codings")
    op.drop_index("ix_turns_meeting_id_started_at", table_name="turns")
    op.drop_table("turns")
