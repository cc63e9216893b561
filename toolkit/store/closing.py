"""Opening a prepared meeting, and closing it for good with a record of its ballots.

A meeting moves *prepared* → *open* → *closed*. :func:`close_meeting` writes, in the same
transaction that closes it, a record of the ballot counts (issued, returned, valid, void, tablet,
paper) and a checksum of the ballots: SHA-256 over one line per ballot, ``submission id, answers
hash, status, mode``, sorted by id. Afterwards the meeting takes no ballot, cannot be reopened or
edited, and :func:`verify_closing` tells whether the stored ballots still match the checksum.

Examples
--------
>>> from toolkit.store import Store
>>> from toolkit.store.meeting_setup import plan_meeting, create_planned_meeting
>>> store = Store.open("sqlite://")
>>> _ = create_planned_meeting(store, plan_meeting(
...     store, meeting_id="m1", kind="evaluation", title="评议会",
...     instrument="surveys/evaluation.yaml", subjects=["wuye=物业公司"]))
>>> meeting_state(store, "m1")
'prepared'
>>> open_meeting(store, "m1").status
'open'
>>> record = close_meeting(store, "m1")
>>> record.ballots_returned, meeting_state(store, "m1"), verify_closing(store, "m1")
(0, 'closed', True)
>>> open_meeting(store, "m1")
Traceback (most recent call last):
...
toolkit.store.frozen.FrozenMeetingError: meeting `m1` was closed and counted on ...; it cannot be reopened. Its ballots are final; prepare a new meeting for another round.
>>> store.close()
"""  # noqa: E501

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.errors import StoreError
from toolkit.store import schema as t
from toolkit.store.frozen import FrozenMeetingError, is_frozen, refuse_if_frozen

if TYPE_CHECKING:
    from toolkit.store.records import Meeting
    from toolkit.store.store import Store

__all__ = [
    "FrozenMeetingError",
    "MeetingClosing",
    "ballot_counts",
    "ballots_checksum",
    "close_meeting",
    "closing_record",
    "is_frozen",
    "meeting_state",
    "open_meeting",
    "verify_closing",
]

MeetingState = Literal["prepared", "open", "closed"]


@dataclass(frozen=True)
class MeetingClosing:
    """The closing record of a meeting (see the module documentation)."""

    meeting_id: str
    closed_at: datetime
    ballots_issued: int | None
    ballots_returned: int
    ballots_valid: int
    ballots_void: int
    ballots_tablet: int
    ballots_paper: int
    checksum: str


def ballots_checksum(connection: Connection, meeting_id: str) -> tuple[str, dict[str, int]]:
    """The checksum of a meeting's ballots and their counts (see the module documentation)."""
    s = t.submissions
    rows = connection.execute(
        sa.select(s.c.submission_id, s.c.answers_hash, s.c.status, s.c.mode)
        .where(s.c.meeting_id == meeting_id)
        .order_by(s.c.submission_id)
    ).all()
    digest = hashlib.sha256()
    counts = {"returned": 0, "valid": 0, "void": 0, "tablet": 0, "paper": 0}
    for row in rows:
        digest.update(f"{row.submission_id},{row.answers_hash},{row.status},{row.mode}\n".encode())
        counts["returned"] += 1
        counts[row.status] += 1
        counts[row.mode] += 1
    return digest.hexdigest(), counts


def meeting_state(store: Store, meeting_id: str) -> MeetingState:
    """``"prepared"`` (not open yet), ``"open"`` (taking ballots) or ``"closed"`` (counted)."""
    with store._tx(write=False) as connection:
        meeting = store._meeting(connection, meeting_id)
        if meeting.status == "open":
            return "open"
        return "closed" if is_frozen(connection, meeting_id) else "prepared"


def open_meeting(store: Store, meeting_id: str) -> Meeting:
    """Start taking ballots; refused for a meeting closed and counted."""
    with store._tx(write=True) as connection:
        store._meeting(connection, meeting_id)
        refuse_if_frozen(connection, meeting_id)
        connection.execute(
            sa.update(t.meetings).where(t.meetings.c.meeting_id == meeting_id).values(status="open")
        )
    return store.meeting(meeting_id)


def close_meeting(store: Store, meeting_id: str) -> MeetingClosing:
    """Close a meeting for good: no more ballots; write its closing record. One transaction."""
    from toolkit.store._common import _now

    with store._tx(write=True) as connection:
        meeting = store._meeting(connection, meeting_id)
        refuse_if_frozen(connection, meeting_id)
        checksum, counts = ballots_checksum(connection, meeting_id)
        record = MeetingClosing(
            meeting_id=meeting_id,
            closed_at=_now(),
            ballots_issued=meeting.ballots_issued,
            ballots_returned=counts["returned"],
            ballots_valid=counts["valid"],
            ballots_void=counts["void"],
            ballots_tablet=counts["tablet"],
            ballots_paper=counts["paper"],
            checksum=checksum,
        )
        connection.execute(
            sa.update(t.meetings)
            .where(t.meetings.c.meeting_id == meeting_id)
            .values(status="closed")
        )
        connection.execute(sa.insert(t.meeting_closings).values(**record.__dict__))
        connection.execute(sa.delete(t.drafts).where(t.drafts.c.meeting_id == meeting_id))
    return record


def closing_record(store: Store, meeting_id: str) -> MeetingClosing | None:
    """The closing record, or None for a meeting not closed with :func:`close_meeting`."""
    c = t.meeting_closings
    with store._tx(write=False) as connection:
        store._meeting(connection, meeting_id)
        row = connection.execute(sa.select(c).where(c.c.meeting_id == meeting_id)).first()
    return None if row is None else MeetingClosing(**row._mapping)


def ballot_counts(store: Store, meeting_id: str) -> dict[str, int]:
    """The meeting's stored ballots: ``returned``, ``valid``, ``void``, ``tablet``, ``paper``,
    and ``invited`` (people on its roster)."""
    with store._tx(write=False) as connection:
        store._meeting(connection, meeting_id)
        _checksum, counts = ballots_checksum(connection, meeting_id)
        a = t.attendance
        counts["invited"] = int(
            connection.execute(
                sa.select(sa.func.count()).where(a.c.meeting_id == meeting_id, a.c.invited)
            ).scalar()
            or 0
        )
    return counts


def verify_closing(store: Store, meeting_id: str) -> bool:
    """Whether the meeting's stored ballots still give the checksum of its closing record."""
    record = closing_record(store, meeting_id)
    if record is None:
        raise StoreError(
            f"meeting `{meeting_id}` has no closing record; close it with "
            f"`sanhui meeting close {meeting_id}` first."
        )
    with store._tx(write=False) as connection:
        checksum, _counts = ballots_checksum(connection, meeting_id)
    return checksum == record.checksum
