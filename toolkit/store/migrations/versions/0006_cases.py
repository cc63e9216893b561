"""Cases (议题): an issue followed through its meetings, their outcomes and rectification items;
and where each meeting is held (``venue``: community, park or online).

Every meeting stored before this revision was held in a residential community, so it gets
``venue = 'community'``. ``venue`` is checked by the store rather than by a CHECK constraint: adding
one would make SQLite copy the ``meetings`` table, which other tables reference.

Revision ID: 0006_cases
Revises: 0005_meeting_close
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_cases"
down_revision = "0005_meeting_close"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "meetings",
        sa.Column("venue", sa.String(10), nullable=False, server_default="community"),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("street", sa.String(100)),
        sa.Column("community", sa.String(100)),
        sa.Column("building", sa.String(100)),
        sa.Column("opened_on", sa.Date),
        sa.Column("closed_on", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    op.create_table(
        "case_meetings",
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "meeting_id", name="pk_case_meetings"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name="fk_case_meetings_case_id_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.meeting_id"], name="fk_case_meetings_meeting_id_meetings"
        ),
        sa.UniqueConstraint("case_id", "sequence", name="uq_case_meetings_case_id_sequence"),
        sa.CheckConstraint(
            "stage IN ('hearing', 'coordination', 'evaluation', 'follow_up')",
            name="ck_case_meetings_stage",
        ),
    )
    op.create_index("ix_case_meetings_meeting_id", "case_meetings", ["meeting_id"])
    op.create_table(
        "case_outcomes",
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("positions", JSON),
        sa.Column("agreement", sa.String(10)),
        sa.Column("parties", sa.Integer),
        sa.Column("terms", JSON),
        sa.Column("verdict", sa.String(20)),
        sa.Column("rule", sa.String(50)),
        sa.Column("note", sa.Text),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "meeting_id", name="pk_case_outcomes"),
        sa.ForeignKeyConstraint(
            ["case_id", "meeting_id"],
            ["case_meetings.case_id", "case_meetings.meeting_id"],
            name="fk_case_outcomes_case_id_case_meetings",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "agreement IN ('reached', 'partial', 'none')", name="ck_case_outcomes_agreement"
        ),
    )
    op.create_table(
        "rectification_items",
        sa.Column("item_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("source_ref", sa.Text),
        sa.Column("source_meeting_id", sa.String(100)),
        sa.Column("due_date", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("followup_meeting_id", sa.String(100)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_rectification_items"),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name="fk_rectification_items_case_id_cases",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_meeting_id"],
            ["meetings.meeting_id"],
            name="fk_rectification_items_source_meeting_id_meetings",
        ),
        sa.ForeignKeyConstraint(
            ["followup_meeting_id"],
            ["meetings.meeting_id"],
            name="fk_rectification_items_followup_meeting_id_meetings",
        ),
        sa.CheckConstraint(
            "source IN ('low_rating', 'comment')", name="ck_rectification_items_source"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'done', 'not_accepted')",
            name="ck_rectification_items_status",
        ),
    )
    op.create_index("ix_rectification_items_case_id", "rectification_items", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_rectification_items_case_id", table_name="rectification_items")
    op.drop_table("rectification_items")
    op.drop_table("case_outcomes")
    op.drop_index("ix_case_meetings_meeting_id", table_name="case_meetings")
    op.drop_table("case_meetings")
    op.drop_table("cases")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("venue")
