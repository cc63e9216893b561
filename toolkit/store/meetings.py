"""Meetings: create, change, close and list them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import check_option, check_range
from toolkit.errors import (
    ConflictError,
    ParameterError,
)
from toolkit.instrument.model import Survey
from toolkit.store import schema as t
from toolkit.store._common import (
    _now,
)
from toolkit.store.records import (
    MEETING_KINDS,
    MEETING_STATUSES,
    InstrumentRef,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Subject,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd
__all__ = ["MeetingsMixin"]

from toolkit.store.core import StoreBase
from toolkit.store.frozen import refuse_if_frozen


class MeetingsMixin(StoreBase):
    """Meetings of :class:`~toolkit.store.Store`."""

    def create_meeting(
        self,
        meeting_id: str,
        *,
        kind: MeetingKind,
        title: str,
        instrument: str | InstrumentRef | Survey,
        instrument_version: str | None = None,
        subjects: Iterable[Subject | Mapping[str, Any] | str] = (),
        community: str | None = None,
        street: str | None = None,
        district: str | None = None,
        date: date | str | None = None,
        ballots_issued: int | None = None,
        members: int | None = None,
        status: MeetingStatus = "open",
    ) -> Meeting:
        """Create a meeting that collects ballots on one instrument version.

        Parameters
        ----------
        meeting_id : str
            Your id for the meeting (e.g. ``"wlq-2026-03-eval"``).
        kind : {"hearing", "coordination", "evaluation"}
        title : str
        instrument : str, InstrumentRef or Survey
            The instrument id (latest stored version unless ``instrument_version``), a reference, or a
            Survey (stored first with :meth:`add_instrument`).
        subjects : iterable of Subject, mapping or str
            Evaluated subjects (``{id, label_zh, label_en}``); per-subject grids repeat for each.
        community, street, district : str, optional
            Where the meeting is held (居民区, 街道, 区).
        date : date or ISO text, optional
        ballots_issued : int, optional
            Ballots handed out (the results sheet's 发出).
        members : int, optional
            Members of the body, for majority-of-members decision rules.
        status : {"open", "closed"}
            Only open meetings accept ballots.

        Returns
        -------
        Meeting
        """
        check_option("kind", kind, MEETING_KINDS)
        check_option("status", status, MEETING_STATUSES)
        if not isinstance(meeting_id, str) or not meeting_id.strip():
            raise ParameterError(f"`meeting_id` must be a non-empty text; got {meeting_id!r}.")
        for name, value in (("ballots_issued", ballots_issued), ("members", members)):
            if value is not None:
                check_range(name, value, low=0)
        if isinstance(instrument, Survey):
            ref = self.add_instrument(instrument)
        elif isinstance(instrument, InstrumentRef):
            ref = instrument
        else:
            row = self._instrument_row(str(instrument), instrument_version, required=True)
            ref = InstrumentRef(row.instrument_id, row.version, row.content_hash, row.created_at)
        survey = self._survey(ref.id, ref.version)
        subject_list = tuple(Subject.coerce(s) for s in subjects)
        ids = [s.id for s in subject_list]
        if len(set(ids)) != len(ids):
            raise ParameterError(f"`subjects` has a repeated id: {ids}.")
        per_subject = [q.id for q in survey.questions if q.type == "grid" and q.per_subject]
        if per_subject and not subject_list:
            raise ParameterError(
                f"instrument `{ref.id}` has per-subject grid `{per_subject[0]}`, so the meeting "
                "needs `subjects`, e.g. subjects=[{'id': 'wuye', 'label_zh': '物业公司', "
                "'label_en': 'Property management'}]."
            )
        when = dt.date.fromisoformat(date) if isinstance(date, str) else date
        values = {
            "meeting_id": meeting_id,
            "kind": kind,
            "title": title,
            "community": community,
            "street": street,
            "district": district,
            "date": when,
            "instrument_id": ref.id,
            "instrument_version": ref.version,
            "subjects": [s.to_dict() for s in subject_list],
            "ballots_issued": ballots_issued,
            "members": members,
            "status": status,
            "created_at": _now(),
        }
        with self._tx(write=True) as connection:
            exists = connection.execute(
                sa.select(t.meetings.c.meeting_id).where(t.meetings.c.meeting_id == meeting_id)
            ).first()
            if exists is not None:
                raise ConflictError(
                    f"meeting `{meeting_id}` already exists; nothing was changed. Choose another "
                    "meeting id, or change it with store.update_meeting(...)."
                )
            connection.execute(sa.insert(t.meetings).values(**values))
        return self.meeting(meeting_id)

    def update_meeting(
        self,
        meeting_id: str,
        *,
        status: MeetingStatus | None = None,
        title: str | None = None,
        ballots_issued: int | None = None,
        members: int | None = None,
    ) -> Meeting:
        """Change a meeting's status (``"open"``/``"closed"``), title or counts.

        Returns
        -------
        Meeting
            The meeting as stored afterwards.
        """
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = check_option("status", status, MEETING_STATUSES)
        if title is not None:
            values["title"] = title
        for name, value in (("ballots_issued", ballots_issued), ("members", members)):
            if value is not None:
                values[name] = check_range(name, value, low=0)
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting_id)
            if status == "open":  # a meeting closed and counted stays closed
                refuse_if_frozen(connection, meeting_id)
            if values:
                connection.execute(
                    sa.update(t.meetings)
                    .where(t.meetings.c.meeting_id == meeting_id)
                    .values(values)
                )
            return self._meeting(connection, meeting_id)

    def close_meeting(self, meeting_id: str) -> Meeting:
        """Close a meeting: it accepts no more ballots (resent ballots already stored still ack)."""
        return self.update_meeting(meeting_id, status="closed")

    def meetings(self) -> pd.DataFrame:
        """Every meeting, one row each, with the results-sheet counts.

        Returns
        -------
        DataFrame
            The :class:`Meeting` fields (``subjects`` as a list of dicts) plus ``ballots_returned``
            (stored ballots), ``ballots_valid``, ``ballots_void``, ``codes_issued`` and
            ``codes_used``.
        """
        import pandas as pd

        s = t.submissions
        counts = (
            sa.select(
                s.c.meeting_id,
                sa.func.count().label("ballots_returned"),
                sa.func.sum(sa.case((s.c.status == "valid", 1), else_=0)).label("ballots_valid"),
                sa.func.sum(sa.case((s.c.status == "void", 1), else_=0)).label("ballots_void"),
            )
            .group_by(s.c.meeting_id)
            .subquery()
        )
        b = t.ballot_codes
        codes = (
            sa.select(
                b.c.meeting_id,
                sa.func.count().label("codes_issued"),
                sa.func.count(b.c.used_at).label("codes_used"),
            )
            .group_by(b.c.meeting_id)
            .subquery()
        )
        m = t.meetings
        query = (
            sa.select(
                m,
                counts.c.ballots_returned,
                counts.c.ballots_valid,
                counts.c.ballots_void,
                codes.c.codes_issued,
                codes.c.codes_used,
            )
            .outerjoin(counts, counts.c.meeting_id == m.c.meeting_id)
            .outerjoin(codes, codes.c.meeting_id == m.c.meeting_id)
            .order_by(m.c.date, m.c.meeting_id)
        )
        with self._tx(write=False) as connection:
            result = connection.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        for column in (
            "ballots_returned",
            "ballots_valid",
            "ballots_void",
            "codes_issued",
            "codes_used",
        ):
            frame[column] = frame[column].astype("Float64").fillna(0).astype("Int64")
        for column in ("ballots_issued", "members"):
            frame[column] = frame[column].astype("Float64").astype("Int64")
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame
