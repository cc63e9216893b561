"""Indexes for submit (ballot codes, drafts), the response export and attendance tables.

Revision ID: 0002_indexes
Revises: 0001_initial
Create Date: 2026-03-15
"""

from __future__ import annotations

from alembic import op

revision = "0002_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_submissions_meeting_id_status": ("submissions", ["meeting_id", "status"]),
    "ix_submissions_instrument_id_instrument_version": (
        "submissions",
        ["instrument_id", "instrument_version"],
    ),
    "ix_attendance_participant_id": ("attendance", ["participant_id"]),
    "ix_ballot_codes_meeting_id": ("ballot_codes", ["meeting_id"]),
    "ix_drafts_submission_id": ("drafts", ["submission_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
