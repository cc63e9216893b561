"""Initial schema: instruments, meetings, participants (names apart), attendance, submissions,
ballot codes and drafts.

Revision ID: 0001_initial
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("yaml_text", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", "version", name="pk_instruments"),
    )
    op.create_table(
        "meetings",
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("community", sa.String(100)),
        sa.Column("street", sa.String(100)),
        sa.Column("district", sa.String(100)),
        sa.Column("date", sa.Date),
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("instrument_version", sa.String(50), nullable=False),
        sa.Column("subjects", JSON, nullable=False),
        sa.Column("ballots_issued", sa.Integer),
        sa.Column("members", sa.Integer),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_meetings"),
        sa.ForeignKeyConstraint(
            ["instrument_id", "instrument_version"],
            ["instruments.instrument_id", "instruments.version"],
            name="fk_meetings_instrument_id_instruments",
        ),
        sa.CheckConstraint(
            "kind IN ('hearing', 'coordination', 'evaluation')", name="ck_meetings_kind"
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_meetings_status"),
    )
    op.create_table(
        "participants",
        sa.Column("participant_id", sa.String(64), nullable=False),
        sa.Column("community", sa.String(100)),
        sa.Column("role", sa.String(50)),
        sa.Column("gender", sa.String(20)),
        sa.Column("age_band", sa.String(20)),
        sa.Column("building", sa.String(20)),
        sa.Column("floor_band", sa.String(20)),
        sa.Column("household_id", sa.String(64)),
        sa.Column("party_member", sa.Boolean),
        sa.Column("birth_year", sa.Integer),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("participant_id", name="pk_participants"),
    )
    op.create_table(
        "participant_names",
        sa.Column("participant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("room", sa.String(50)),
        sa.PrimaryKeyConstraint("participant_id", name="pk_participant_names"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.participant_id"],
            name="fk_participant_names_participant_id_participants",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "attendance",
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("participant_id", sa.String(64), nullable=False),
        sa.Column("checked_in_at", TIMESTAMP),
        sa.Column("walk_in", sa.Boolean, nullable=False),
        sa.Column("invited", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("meeting_id", "participant_id", name="pk_attendance"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_attendance_meeting_id_meetings"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.participant_id"],
            name="fk_attendance_participant_id_participants",
        ),
    )
    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("instrument_id", sa.String(100), nullable=False),
        sa.Column("instrument_version", sa.String(50), nullable=False),
        sa.Column("device", sa.String(100)),
        sa.Column("started_at", TIMESTAMP),
        sa.Column("submitted_at", TIMESTAMP),
        sa.Column("stored_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("void_reason", sa.Text),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("paradata", JSON),
        sa.Column("answers_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name="pk_submissions"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_submissions_meeting_id_meetings"
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id", "instrument_version"],
            ["instruments.instrument_id", "instruments.version"],
            name="fk_submissions_instrument_id_instruments",
        ),
        sa.CheckConstraint("status IN ('valid', 'void')", name="ck_submissions_status"),
    )
    op.create_table(
        "ballot_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP),
        sa.Column("submission_id", sa.String(36)),
        sa.PrimaryKeyConstraint("code_hash", name="pk_ballot_codes"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_ballot_codes_meeting_id_meetings"
        ),
    )
    op.create_table(
        "drafts",
        sa.Column("device", sa.String(100), nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(100)),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("device", name="pk_drafts"),
    )


def downgrade() -> None:
    for table in (
        "drafts",
        "ballot_codes",
        "submissions",
        "attendance",
        "participant_names",
        "participants",
        "meetings",
        "instruments",
    ):
        op.drop_table(table)
