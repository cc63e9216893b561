"""Participants, invitations, check-in and the meeting roster."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import check_range, did_you_mean
from toolkit.errors import (
    ConflictError,
    DataError,
    ParameterError,
    StoreError,
)
from toolkit.store import schema as t
from toolkit.store._common import (
    _NAME_COLUMNS,
    PARTICIPANT_COLUMNS,
    _blank,
    _meeting_ids,
    _now,
    _participant_value,
)
from toolkit.store.records import (
    Attendance,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd
__all__ = ["RosterMixin"]

from toolkit.store.core import StoreBase


class RosterMixin(StoreBase):
    """Participants and attendance of :class:`~toolkit.store.Store`."""

    def add_participants(self, data: pd.DataFrame, *, replace: bool = False) -> list[str]:
        """Add participants from a table; names (``name``, ``room``) go to a separate table.

        Parameters
        ----------
        data : DataFrame
            Columns from :data:`PARTICIPANT_COLUMNS` plus optional ``name`` and ``room``.
            ``participant_id`` is made (``p-`` and 12 hex digits) where missing or blank.
        replace : bool
            Update participants whose id is already stored (else a :class:`ConflictError`).

        Returns
        -------
        list of str
            The participant ids, in row order.
        """
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise ParameterError(f"`data` must be a DataFrame; got {type(data).__name__}.")
        allowed = PARTICIPANT_COLUMNS + _NAME_COLUMNS
        unknown = [str(c) for c in data.columns if c not in allowed]
        if unknown:
            hints = "".join(did_you_mean(c, allowed) for c in unknown)
            raise DataError(
                f"`data` has columns the store does not keep: {', '.join(unknown)}. Allowed: "
                f"{', '.join(allowed)}.{hints}"
            )
        rows: list[dict[str, Any]] = []
        names: list[dict[str, Any]] = []
        now = _now()
        for record in data.to_dict("records"):
            pid = record.get("participant_id")
            pid = f"p-{uuid_module.uuid4().hex[:12]}" if _blank(pid) else str(pid)
            row = {"participant_id": pid, "created_at": now}
            for column in PARTICIPANT_COLUMNS[1:]:
                row[column] = _participant_value(column, record.get(column))
            rows.append(row)
            if not _blank(record.get("name")):
                room = record.get("room")
                names.append(
                    {
                        "participant_id": pid,
                        "name": str(record["name"]),
                        "room": None if _blank(room) else str(room),
                    }
                )
        ids = [r["participant_id"] for r in rows]
        repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
        if repeated:
            raise DataError(f"`participant_id` repeats within `data`: {', '.join(repeated[:10])}.")
        p, n = t.participants, t.participant_names
        with self._tx(write=True) as connection:
            existing: set[str] = set()
            for start in range(0, len(ids), 500):
                existing |= set(
                    connection.execute(
                        sa.select(p.c.participant_id).where(
                            p.c.participant_id.in_(ids[start : start + 500])
                        )
                    ).scalars()
                )
            if existing and not replace:
                shown = ", ".join(sorted(existing)[:10])
                raise ConflictError(
                    f"{len(existing)} participant ids are already stored ({shown}); nothing was "
                    "added. Pass replace=True to update them."
                )
            new = [r for r in rows if r["participant_id"] not in existing]
            old = [r for r in rows if r["participant_id"] in existing]
            if new:
                connection.execute(sa.insert(p), new)
            for row in old:
                values = {k: v for k, v in row.items() if k not in ("participant_id", "created_at")}
                connection.execute(
                    sa.update(p).where(p.c.participant_id == row["participant_id"]).values(values)
                )
            named = [x["participant_id"] for x in names]
            for start in range(0, len(named), 500):
                connection.execute(
                    sa.delete(n).where(n.c.participant_id.in_(named[start : start + 500]))
                )
            if names:
                connection.execute(sa.insert(n), names)
        return ids

    def invite(self, meeting: str, participant_ids: Iterable[str]) -> int:
        """Mark participants as invited to a meeting.

        Returns
        -------
        int
            How many were newly invited (already invited ones are left as they are).
        """
        ids = list(dict.fromkeys(str(i) for i in participant_ids))
        a, p = t.attendance, t.participants
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting)
            known: set[str] = set()
            present: dict[str, bool] = {}
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                known |= set(
                    connection.execute(
                        sa.select(p.c.participant_id).where(p.c.participant_id.in_(part))
                    ).scalars()
                )
                for row in connection.execute(
                    sa.select(a.c.participant_id, a.c.invited).where(
                        a.c.meeting_id == meeting, a.c.participant_id.in_(part)
                    )
                ):
                    present[row.participant_id] = bool(row.invited)
            missing = [i for i in ids if i not in known]
            if missing:
                raise DataError(
                    f"unknown participant ids: {', '.join(missing[:10])}; nobody was invited. Add "
                    "them first with store.add_participants(...)."
                )
            fresh = [i for i in ids if i not in present]
            if fresh:
                connection.execute(
                    sa.insert(a),
                    [
                        {
                            "meeting_id": meeting,
                            "participant_id": i,
                            "invited": True,
                            "walk_in": False,
                        }
                        for i in fresh
                    ],
                )
            upgrade = [i for i, invited in present.items() if not invited]
            if upgrade:
                connection.execute(
                    sa.update(a)
                    .where(a.c.meeting_id == meeting, a.c.participant_id.in_(upgrade))
                    .values(invited=True)
                )
        return len(fresh) + len(upgrade)

    def check_in(
        self,
        meeting: str,
        participant_id: str,
        *,
        walk_in: bool = False,
        at: datetime | None = None,
    ) -> Attendance:
        """Record that a participant arrived (idempotent: a second check-in keeps the first time).

        Parameters
        ----------
        meeting, participant_id : str
        walk_in : bool
            The participant was not invited; required for anyone not invited.
        at : datetime, optional
            Arrival time; default now.

        Returns
        -------
        Attendance
        """
        when = at or _now()
        a = t.attendance
        with self._tx(write=True) as connection:
            record = self._meeting(connection, meeting)
            if record.status != "open":
                raise StoreError(
                    f"meeting `{meeting}` is closed; nobody can check in. Reopen it with "
                    f"store.update_meeting({meeting!r}, status='open') if that was a mistake."
                )
            exists = connection.execute(
                sa.select(t.participants.c.participant_id).where(
                    t.participants.c.participant_id == participant_id
                )
            ).first()
            if exists is None:
                raise StoreError(
                    f"no participant `{participant_id}` in the store. Register a newcomer with "
                    "store.register_walk_in(...)."
                )
            key = (a.c.meeting_id == meeting) & (a.c.participant_id == participant_id)
            row = connection.execute(sa.select(a).where(key)).first()
            if row is None:
                if not walk_in:
                    raise StoreError(
                        f"participant `{participant_id}` was not invited to meeting `{meeting}`. "
                        "If they came anyway, check them in with walk_in=True."
                    )
                connection.execute(
                    sa.insert(a).values(
                        meeting_id=meeting,
                        participant_id=participant_id,
                        checked_in_at=when,
                        walk_in=True,
                        invited=False,
                    )
                )
            elif row.checked_in_at is None:
                connection.execute(sa.update(a).where(key).values(checked_in_at=when))
            row = connection.execute(sa.select(a).where(key)).one()
        return Attendance(
            row.meeting_id,
            row.participant_id,
            bool(row.invited),
            bool(row.walk_in),
            row.checked_in_at,
        )

    def register_walk_in(
        self,
        meeting: str,
        *,
        role: str | None,
        gender: str | None,
        age_band: str | None,
        building: str | int | None,
        floor_band: str | None = None,
        household_id: str | None = None,
        party_member: bool | None = None,
        birth_year: int | None = None,
        community: str | None = None,
        name: str | None = None,
        room: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Register a newcomer who came without invitation and check them in, in one transaction.

        ``community`` defaults to the meeting's. ``name`` and ``room`` (optional) go to the names table.

        Returns
        -------
        str
            The new pseudonymous participant id (``w-`` and 12 hex digits).
        """
        pid = f"w-{uuid_module.uuid4().hex[:12]}"
        with self._tx(write=True) as connection:
            record = self._meeting(connection, meeting)
            if record.status != "open":
                raise StoreError(f"meeting `{meeting}` is closed; nobody can check in.")
            values: dict[str, Any] = {
                "participant_id": pid,
                "created_at": _now(),
                "community": record.community if community is None else community,
                "role": role,
                "gender": gender,
                "age_band": age_band,
                "building": building,
                "floor_band": floor_band,
                "household_id": household_id,
                "party_member": party_member,
                "birth_year": birth_year,
            }
            for column in PARTICIPANT_COLUMNS[1:]:
                values[column] = _participant_value(column, values[column])
            connection.execute(sa.insert(t.participants).values(values))
            if name:
                connection.execute(
                    sa.insert(t.participant_names).values(participant_id=pid, name=name, room=room)
                )
            connection.execute(
                sa.insert(t.attendance).values(
                    meeting_id=meeting,
                    participant_id=pid,
                    checked_in_at=at or _now(),
                    walk_in=True,
                    invited=False,
                )
            )
        return pid

    def search_participants(self, meeting: str, text: str, *, limit: int = 20) -> pd.DataFrame:
        """Sign-in search: participants of the meeting's community or invitation list whose name or
        room contains ``text``. The only method that reads names; never use it for analysis.

        Returns
        -------
        DataFrame
            ``participant_id, name, room, building, invited, checked_in``.
        """
        import pandas as pd

        check_range("limit", limit, low=1, high=200)
        p, n, a = t.participants, t.participant_names, t.attendance
        needle = text.strip()
        with self._tx(write=False) as connection:
            record = self._meeting(connection, meeting)
            joined = n.join(p, p.c.participant_id == n.c.participant_id).outerjoin(
                a, (a.c.participant_id == p.c.participant_id) & (a.c.meeting_id == meeting)
            )
            query = (
                sa.select(
                    p.c.participant_id,
                    n.c.name,
                    n.c.room,
                    p.c.building,
                    sa.func.coalesce(a.c.invited, False).label("invited"),
                    a.c.checked_in_at.is_not(None).label("checked_in"),
                )
                .select_from(joined)
                .where(
                    (
                        n.c.name.contains(needle, autoescape=True)
                        | n.c.room.contains(needle, autoescape=True)
                    )
                    & ((p.c.community == record.community) | a.c.meeting_id.is_not(None))
                )
                .order_by(n.c.name, p.c.participant_id)
                .limit(limit)
            )
            rows = connection.execute(query).all()
        frame = pd.DataFrame(
            rows, columns=["participant_id", "name", "room", "building", "invited", "checked_in"]
        )
        return frame.astype({"invited": bool, "checked_in": bool})

    def attendance_table(self, meeting: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Attendance joined with participant attributes (no names), one row per meeting×participant.

        Returns
        -------
        DataFrame
            ``meeting_id, kind, date, participant_id, invited, walk_in, attended, checked_in_at``, then
            the participant columns (``community, role, gender, age_band, building, floor_band,
            household_id, party_member, birth_year``).
        """
        import pandas as pd

        a, p, m = t.attendance, t.participants, t.meetings
        query = (
            sa.select(
                a.c.meeting_id,
                m.c.kind,
                m.c.date,
                a.c.participant_id,
                a.c.invited,
                a.c.walk_in,
                a.c.checked_in_at,
                *[p.c[c] for c in PARTICIPANT_COLUMNS[1:]],
            )
            .select_from(a.join(p, p.c.participant_id == a.c.participant_id))
            .join(m, m.c.meeting_id == a.c.meeting_id)
            .order_by(m.c.date, a.c.meeting_id, a.c.participant_id)
        )
        ids = _meeting_ids(meeting)
        with self._tx(write=False) as connection:
            for mid in ids or ():
                self._meeting(connection, mid)
            if ids is not None:
                query = query.where(a.c.meeting_id.in_(ids))
            result = connection.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        frame["checked_in_at"] = pd.to_datetime(frame["checked_in_at"], utc=True)
        frame.insert(6, "attended", frame["checked_in_at"].notna())
        frame["invited"] = frame["invited"].astype(bool)
        frame["walk_in"] = frame["walk_in"].astype(bool)
        frame["party_member"] = pd.array(
            [None if _blank(v) else bool(v) for v in frame["party_member"]], dtype="boolean"
        )
        frame["birth_year"] = pd.array(
            [None if _blank(v) else int(v) for v in frame["birth_year"]], dtype="Int64"
        )
        return frame

    def roster(self, meeting: str) -> pd.DataFrame:
        """The meeting's list: everyone invited or checked in, with attributes and no names.

        Returns
        -------
        DataFrame
            :meth:`attendance_table` for this meeting, without the meeting columns.
        """
        frame = self.attendance_table(meeting)
        return frame.drop(columns=["meeting_id", "kind", "date"]).reset_index(drop=True)
