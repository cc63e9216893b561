"""Ballot codes keyed with a secret outside the database: a ``scheme`` per code.

Until this revision a code was stored as ``sha256("sanhui-ballot-code:" + code)``; with only 10^8
codes that is reversed by trying them all. New codes are stored as HMAC-SHA256 under the store's
secret (``toolkit/store/codes.py``) with ``scheme = 'hmac'``.

Codes issued before cannot be re-hashed (the store never knew them), so they are kept and marked
``scheme = 'sha256'``, and they still verify: their slips may be in residents' hands at a meeting
that is under way, and voiding them would turn those residents away. They stay reversible from a
copy of the database until used, as before; SECURITY.md says to issue new codes for new meetings.

Revision ID: 0004_code_hmac
Revises: 0003_entry_mode
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_code_hmac"
down_revision = "0003_entry_mode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ballot_codes") as batch:
        batch.add_column(
            sa.Column("scheme", sa.String(10), nullable=False, server_default="sha256")
        )
        batch.create_check_constraint("ck_ballot_codes_scheme", "scheme IN ('sha256', 'hmac')")


def downgrade() -> None:
    # HMAC codes cannot be checked by the older code: they are void after a downgrade
    op.execute("DELETE FROM ballot_codes WHERE scheme = 'hmac' AND used_at IS NULL")
    with op.batch_alter_table("ballot_codes") as batch:
        batch.drop_constraint("ck_ballot_codes_scheme", type_="check")
        batch.drop_column("scheme")
