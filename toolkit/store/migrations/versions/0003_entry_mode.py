"""Record how each ballot was entered: ``tablet`` (the form) or ``paper`` (keyed in by staff).

Paper ballots may keep blanks in required questions (what the resident left on paper); every stored
ballot before this revision came from the form, so they become ``tablet``.

Revision ID: 0003_entry_mode
Revises: 0002_indexes
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_entry_mode"
down_revision = "0002_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("mode", sa.String(10), nullable=False, server_default="tablet"))
        batch.create_check_constraint("ck_submissions_mode", "mode IN ('tablet', 'paper')")


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("ck_submissions_mode", type_="check")
        batch.drop_column("mode")
