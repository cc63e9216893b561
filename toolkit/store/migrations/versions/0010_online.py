"""Online ballots: a meeting's online window, and ``online`` as a ballot's channel.

``online_windows`` holds, per meeting, when residents may answer from their phones (``opens_at``,
``closes_at``, UTC) and, for a hearing (云听证), the plan residents read before they give their
positions (``plan_text``, ``plan_images``: PNG/JPEG as base64). ``submissions.mode`` (how a
ballot came in) gains ``online`` beside ``tablet`` and ``paper``; ``Store.responses`` shows it as
the ballot's ``channel`` when asked (``channel_column=True``).

Revision ID: 0010_online
Revises: 0008_turns
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_online"
down_revision = "0008_turns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_windows",
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_text", sa.Text),
        sa.Column("plan_images", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.meeting_id"],
            name="fk_online_windows_meeting_id_meetings",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_online_windows"),
        sa.CheckConstraint("closes_at > opens_at", name="ck_online_windows_order"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("ck_submissions_mode", type_="check")
        batch.create_check_constraint(
            "ck_submissions_mode", "mode IN ('tablet', 'paper', 'online')"
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("ck_submissions_mode", type_="check")
        batch.create_check_constraint("ck_submissions_mode", "mode IN ('tablet', 'paper')")
    op.drop_table("online_windows")
