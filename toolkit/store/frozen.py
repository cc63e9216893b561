"""Whether a meeting was closed and counted, and the error refusing any change to it.

Its own module so that the meetings mixin can refuse to reopen a closed meeting without importing
:mod:`toolkit.store.closing` (which takes the whole ``Store``); ``closing`` re-exports all three.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.errors import StoreError
from toolkit.store import schema as t

__all__ = ["FrozenMeetingError", "is_frozen", "refuse_if_frozen"]


class FrozenMeetingError(StoreError):
    """The meeting was closed and counted: no ballot, reopening or edit is accepted."""


def is_frozen(connection: Connection, meeting_id: str) -> bool:
    """Whether the meeting has a closing record (inside a transaction of the caller)."""
    c = t.meeting_closings
    return (
        connection.execute(sa.select(c.c.meeting_id).where(c.c.meeting_id == meeting_id)).first()
        is not None
    )


def refuse_if_frozen(connection: Connection, meeting_id: str) -> None:
    """Raise :class:`FrozenMeetingError` if the meeting was closed and counted."""
    c = t.meeting_closings
    closed_at = connection.execute(
        sa.select(c.c.closed_at).where(c.c.meeting_id == meeting_id)
    ).scalar()
    if closed_at is not None:
        raise FrozenMeetingError(
            f"meeting `{meeting_id}` was closed and counted on {closed_at:%Y-%m-%d %H:%M} UTC; it "
            "cannot be reopened. Its ballots are final; prepare a new meeting for another round."
        )
