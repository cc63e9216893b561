"""Meetings prepared from a roster and frozen when closed.

``meetings.settings`` keeps what ``sanhui meeting new`` declared besides the stored fields (the
verdict rule, the number of one-time codes to print); ``meeting_closings`` keeps the record written
by ``sanhui meeting close``: the ballot counts and a SHA-256 checksum of the ballots at closing. A
meeting with a closing record takes no more ballots and cannot be reopened.

Revision ID: 0005_meeting_close
Revises: 0004_code_hmac
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_meeting_close"
down_revision = "0004_code_hmac"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("settings", JSON))
    op.create_table(
        "meeting_closings",
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=False),
        sa.Column("ballots_issued", sa.Integer),
        sa.Column("ballots_returned", sa.Integer, nullable=False),
        sa.Column("ballots_valid", sa.Integer, nullable=False),
        sa.Column("ballots_void", sa.Integer, nullable=False),
        sa.Column("ballots_tablet", sa.Integer, nullable=False),
        sa.Column("ballots_paper", sa.Integer, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.meeting_id"],
            name="fk_meeting_closings_meeting_id_meetings",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_meeting_closings"),
    )


def downgrade() -> None:
    op.drop_table("meeting_closings")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("settings")
