"""Cases (议题) in the store: the :class:`CaseStoreMixin` the :class:`~toolkit.store.Store` inherits.

A case is one issue followed through the three meetings: a hearing collects positions, a
coordination meeting records an agreement (reached / partial / none, with its terms), an evaluation
gives a verdict, and what was rated badly becomes rectification items (整改) checked by a follow-up
evaluation. Meetings stay meetings (ballots, attendance); a case only links them, in order, with each
stage's outcome.

Examples
--------
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")
>>> store.create_case("c1", title="3号楼加装电梯", kind="elevator", street="五里桥街道").case_id
'c1'
>>> store.cases()[["case_id", "stage", "meetings"]].to_dict("records")
[{'case_id': 'c1', 'stage': 'opened', 'meetings': 0}]
>>> store.close()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit._checks import check_option, check_range, did_you_mean
from toolkit.errors import ConflictError, ParameterError, StoreError
from toolkit.store import schema as t
from toolkit.store.case_records import (
    OUTCOME_FIELDS,
    STAGE_KIND,
    Case,
    CaseMeeting,
    RectificationItem,
    _date,
    _item_record,
    _now,
    _ordered_positions,
    _positions,
    _stages_for,
    _text,
)
from toolkit.store.cases_schema import (
    AGREEMENTS,
    CASE_STAGES,
    VENUES,
    case_meetings,
    case_outcomes,
    cases,
    rectification_items,
)
from toolkit.store.rectification import RectificationMixin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Case", "CaseMeeting", "CaseStoreMixin", "RectificationItem"]


class CaseStoreMixin(RectificationMixin):
    """Cases, their meetings in order, stage outcomes and rectification items (part of ``Store``)."""

    # --- venue ------------------------------------------------------------------------------------

    def set_meeting_venue(self, meeting_id: str, venue: str) -> str:
        """Record where a meeting is held: ``"community"`` (the default), ``"park"`` (an office
        building or industrial park: 恳谈会/协商会/评议会) or ``"online"`` (a chat group: 云协商,
        云听证). Returns the venue stored."""
        check_option("venue", venue, VENUES)
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting_id)
            connection.execute(
                sa.update(t.meetings)
                .where(t.meetings.c.meeting_id == meeting_id)
                .values(venue=venue)
            )
        return venue

    def meeting_venue(self, meeting_id: str) -> str:
        """Where the meeting is held (``community``, ``park`` or ``online``)."""
        with self._tx(write=False) as connection:
            self._meeting(connection, meeting_id)
            return str(
                connection.execute(
                    sa.select(t.meetings.c.venue).where(t.meetings.c.meeting_id == meeting_id)
                ).scalar_one()
            )

    # --- cases ------------------------------------------------------------------------------------

    def create_case(
        self,
        case_id: str,
        *,
        title: str,
        kind: str,
        street: str | None = None,
        community: str | None = None,
        building: str | None = None,
        opened_on: dt.date | str | None = None,
        note: str | None = None,
    ) -> Case:
        """Open a case (议题).

        Parameters
        ----------
        case_id : str
            Your id for the case (e.g. ``"wlq-2026-elevator-3"``).
        title : str
        kind : str
            The kind of issue: ``elevator``, ``property``, ``greening``, ``parking``, ... (free
            text, used to group cases).
        street, community, building : str, optional
            Where: 街道, 居民区 (or park), and the building or doorway.
        opened_on : date or ISO text, optional
        note : str, optional

        Returns
        -------
        Case

        Raises
        ------
        ConflictError
            If the id is taken (nothing is changed).
        """
        case_id = _text("case_id", case_id)
        values: dict[str, Any] = {
            "case_id": case_id,
            "title": _text("title", title),
            "kind": _text("kind", kind),
            "street": street,
            "community": community,
            "building": building,
            "opened_on": _date(opened_on, "opened_on"),
            "closed_on": None,
            "note": note,
            "created_at": _now(),
        }
        with self._tx(write=True) as connection:
            taken = connection.execute(
                sa.select(cases.c.case_id).where(cases.c.case_id == case_id)
            ).first()
            if taken is not None:
                raise ConflictError(
                    f"case `{case_id}` already exists; nothing was changed. Choose another case id."
                )
            connection.execute(sa.insert(cases).values(**values))
        return self.case(case_id)

    def _case_row(self, connection: Connection, case_id: str) -> Any:
        row = connection.execute(sa.select(cases).where(cases.c.case_id == case_id)).first()
        if row is None:
            known = connection.execute(sa.select(cases.c.case_id)).scalars().all()
            raise StoreError(
                f"no case `{case_id}` in the store.{did_you_mean(case_id, known)} "
                "Create it first with store.create_case(...) or `sanhui case new`."
            )
        return row

    def case(self, case_id: str) -> Case:
        """The case with its meetings in order (and their outcomes) and its rectification items."""
        with self._tx(write=False) as connection:
            row = self._case_row(connection, case_id)
            linked = tuple(self._case_meetings(connection, case_id))
            items = tuple(
                _item_record(r)
                for r in connection.execute(
                    sa.select(rectification_items)
                    .where(rectification_items.c.case_id == case_id)
                    .order_by(rectification_items.c.item_id)
                )
            )
        return Case(
            case_id=row.case_id,
            title=row.title,
            kind=row.kind,
            street=row.street,
            community=row.community,
            building=row.building,
            opened_on=row.opened_on,
            closed_on=row.closed_on,
            note=row.note,
            meetings=linked,
            items=items,
        )

    def _case_meetings(self, connection: Connection, case_id: str) -> Iterator[CaseMeeting]:
        m, cm, co = t.meetings, case_meetings, case_outcomes
        query = (
            sa.select(
                cm.c.meeting_id,
                cm.c.sequence,
                cm.c.stage,
                m.c.kind,
                m.c.title,
                m.c.date,
                m.c.venue,
                co.c.positions,
                co.c.agreement,
                co.c.parties,
                co.c.terms,
                co.c.verdict,
                co.c.rule,
                co.c.note,
            )
            .join(m, m.c.meeting_id == cm.c.meeting_id)
            .outerjoin(
                co, sa.and_(co.c.case_id == cm.c.case_id, co.c.meeting_id == cm.c.meeting_id)
            )
            .where(cm.c.case_id == case_id)
            .order_by(cm.c.sequence)
        )
        for r in connection.execute(query):
            yield CaseMeeting(
                meeting_id=r.meeting_id,
                sequence=r.sequence,
                stage=r.stage,
                kind=r.kind,
                title=r.title,
                date=r.date,
                venue=r.venue,
                positions=_ordered_positions(r.positions),
                agreement=r.agreement,
                parties=r.parties,
                terms=tuple(r.terms or ()),
                verdict=r.verdict,
                rule=r.rule,
                note=r.note,
            )

    def add_case_meeting(
        self,
        case_id: str,
        meeting_id: str,
        *,
        stage: str | None = None,
        outcome: Mapping[str, Any] | None = None,
    ) -> CaseMeeting:
        """Link a stored meeting to a case, after the meetings it already has.

        Parameters
        ----------
        case_id, meeting_id : str
        stage : {"hearing", "coordination", "evaluation", "follow_up"}, optional
            Default: the meeting's kind, and ``follow_up`` for an evaluation after the first.
        outcome : mapping, optional
            What the meeting produced, as the keyword arguments of :meth:`record_outcome`;
            written in the same transaction, so a bad outcome leaves the case unchanged.

        Raises
        ------
        ParameterError
            If the stage does not fit the meeting's kind, or the meeting is dated before the
            case's last meeting (meetings are kept in the order they were held).
        ConflictError
            If the meeting is already linked to this case.
        """
        with self._tx(write=True) as connection:
            self._case_row(connection, case_id)
            meeting = self._meeting(connection, meeting_id)
            linked = list(self._case_meetings(connection, case_id))
            if any(m.meeting_id == meeting_id for m in linked):
                raise ConflictError(
                    f"meeting `{meeting_id}` is already linked to case `{case_id}`; nothing was "
                    "changed."
                )
            if stage is None:
                stage = meeting.kind
                if stage == "evaluation" and any(m.stage == "evaluation" for m in linked):
                    stage = "follow_up"
            check_option("stage", stage, CASE_STAGES)
            if STAGE_KIND[stage] != meeting.kind:
                raise ParameterError(
                    f"meeting `{meeting_id}` is a {meeting.kind} meeting and cannot serve as the "
                    f"{stage} stage of case `{case_id}`; link a {STAGE_KIND[stage]} meeting, or "
                    f"use stage={_stages_for(meeting.kind)}."
                )
            last = linked[-1] if linked else None
            if (
                last is not None
                and last.date is not None
                and meeting.date is not None
                and meeting.date < last.date
            ):
                raise ParameterError(
                    f"meeting `{meeting_id}` ({meeting.date}) is dated before `{last.meeting_id}` "
                    f"({last.date}), the last meeting of case `{case_id}`; link the meetings in "
                    "the order they were held."
                )
            sequence = (last.sequence if last else 0) + 1
            connection.execute(
                sa.insert(case_meetings).values(
                    case_id=case_id, meeting_id=meeting_id, sequence=sequence, stage=stage
                )
            )
            if outcome:
                self._write_outcome(connection, case_id, meeting_id, stage, outcome)
            return next(
                m for m in self._case_meetings(connection, case_id) if m.sequence == sequence
            )

    def record_outcome(
        self,
        case_id: str,
        meeting_id: str,
        *,
        positions: Mapping[str, Mapping[str, int]] | None = None,
        agreement: str | None = None,
        parties: int | None = None,
        terms: Sequence[str] | None = None,
        verdict: str | None = None,
        rule: str | None = None,
        note: str | None = None,
    ) -> CaseMeeting:
        """Record (or replace) what a case's meeting produced.

        Parameters
        ----------
        positions : mapping, hearing stage only
            Counts of positions per option, ``{"option_1": {"support": 20, "oppose": 9}}``.
        agreement : {"reached", "partial", "none"}, coordination stage only
        parties : int, coordination stage only
            Parties at the table.
        terms : sequence of str, coordination stage only
            The agreed terms, one text each.
        verdict, rule : str, evaluation and follow-up stages only
            The verdict (满意 / 基本满意 / 不满意) and the decision rule that gave it.
        note : str, optional
        """
        with self._tx(write=True) as connection:
            self._case_row(connection, case_id)
            linked = {m.meeting_id: m for m in self._case_meetings(connection, case_id)}
            if meeting_id not in linked:
                raise StoreError(
                    f"meeting `{meeting_id}` is not linked to case `{case_id}`"
                    f"{did_you_mean(meeting_id, linked)}; link it first with "
                    "store.add_case_meeting(...) or `sanhui case add-meeting`."
                )
            self._write_outcome(
                connection,
                case_id,
                meeting_id,
                linked[meeting_id].stage,
                {
                    "positions": positions,
                    "agreement": agreement,
                    "parties": parties,
                    "terms": terms,
                    "verdict": verdict,
                    "rule": rule,
                    "note": note,
                },
            )
            return next(
                m for m in self._case_meetings(connection, case_id) if m.meeting_id == meeting_id
            )

    def _write_outcome(
        self,
        connection: Connection,
        case_id: str,
        meeting_id: str,
        stage: str,
        outcome: Mapping[str, Any],
    ) -> None:
        """Check an outcome against its stage and write it (in the caller's transaction)."""
        allowed = {
            "hearing": {"positions"},
            "coordination": {"agreement", "parties", "terms"},
            "evaluation": {"verdict", "rule"},
            "follow_up": {"verdict", "rule"},
        }
        unknown = sorted(set(outcome) - {*OUTCOME_FIELDS, "note"})
        if unknown:
            raise ParameterError(
                f"unknown outcome field `{unknown[0]}`; use {', '.join(OUTCOME_FIELDS)} or note."
            )
        wrong = [
            k for k in OUTCOME_FIELDS if outcome.get(k) is not None and k not in allowed[stage]
        ]
        if wrong:
            raise ParameterError(
                f"`{wrong[0]}` does not apply to the {stage} stage (meeting `{meeting_id}` of "
                f"case `{case_id}`); a {stage} stage records {', '.join(sorted(allowed[stage]))}."
            )
        if outcome.get("agreement") is not None:
            check_option("agreement", outcome["agreement"], AGREEMENTS)
        if outcome.get("parties") is not None:
            check_range("parties", outcome["parties"], low=0)
        positions = outcome.get("positions")
        terms = outcome.get("terms")
        values = {
            "positions": _positions(positions) if positions is not None else None,
            "agreement": outcome.get("agreement"),
            "parties": outcome.get("parties"),
            "terms": [str(term) for term in terms] if terms is not None else None,
            "verdict": outcome.get("verdict"),
            "rule": outcome.get("rule"),
            "note": outcome.get("note"),
            "recorded_at": _now(),
        }
        where = sa.and_(
            case_outcomes.c.case_id == case_id, case_outcomes.c.meeting_id == meeting_id
        )
        if connection.execute(sa.select(case_outcomes.c.case_id).where(where)).first():
            connection.execute(sa.update(case_outcomes).where(where).values(**values))
        else:
            connection.execute(
                sa.insert(case_outcomes).values(case_id=case_id, meeting_id=meeting_id, **values)
            )

    def close_case(self, case_id: str, *, on: dt.date | str | None = None) -> Case:
        """Mark a case closed (on ``on``, default today)."""
        when = _date(on, "on") or dt.date.today()
        with self._tx(write=True) as connection:
            self._case_row(connection, case_id)
            connection.execute(
                sa.update(cases).where(cases.c.case_id == case_id).values(closed_on=when)
            )
        return self.case(case_id)

    def cases(self) -> pd.DataFrame:
        """Every case, one row each, with its stage and the dates and outcomes of its meetings.

        Returns
        -------
        DataFrame
            ``case_id, title, kind, street, community, building, opened_on, closed_on, stage,
            meetings, venue`` (of the first meeting), ``hearing_date, coordination_date, agreement,
            parties, terms, evaluation_date, verdict, follow_up_date, follow_up_verdict,
            items, items_done`` (``done`` items) and ``items_open`` (open or in progress).
        """
        import pandas as pd

        with self._tx(write=False) as connection:
            ids = connection.execute(sa.select(cases.c.case_id).order_by(cases.c.case_id))
            ids_list = ids.scalars().all()
        rows = []
        for case_id in ids_list:
            case = self.case(case_id)
            first: dict[str, CaseMeeting] = {}
            for m in case.meetings:
                first.setdefault(m.stage, m)
            row: dict[str, Any] = {
                "case_id": case.case_id,
                "title": case.title,
                "kind": case.kind,
                "street": case.street,
                "community": case.community,
                "building": case.building,
                "opened_on": case.opened_on,
                "closed_on": case.closed_on,
                "stage": case.stage,
                "meetings": len(case.meetings),
                "venue": case.meetings[0].venue if case.meetings else None,
            }
            for stage in ("hearing", "coordination", "evaluation", "follow_up"):
                row[f"{stage}_date"] = first[stage].date if stage in first else None
            coordination = first.get("coordination")
            row["agreement"] = coordination.agreement if coordination else None
            row["parties"] = coordination.parties if coordination else None
            row["terms"] = len(coordination.terms) if coordination else None
            row["verdict"] = first["evaluation"].verdict if "evaluation" in first else None
            row["follow_up_verdict"] = first["follow_up"].verdict if "follow_up" in first else None
            row["items"] = len(case.items)
            row["items_done"] = sum(i.status == "done" for i in case.items)
            row["items_open"] = sum(i.status in ("open", "in_progress") for i in case.items)
            rows.append(row)
        columns = [
            "case_id", "title", "kind", "street", "community", "building", "opened_on",
            "closed_on", "stage", "meetings", "venue", "hearing_date", "coordination_date",
            "evaluation_date", "follow_up_date", "agreement", "parties", "terms", "verdict",
            "follow_up_verdict", "items", "items_done", "items_open",
        ]  # fmt: skip
        frame = pd.DataFrame(rows, columns=columns)
        for column in ("parties", "terms"):
            frame[column] = frame[column].astype("Float64").astype("Int64")
        return frame

    def case_meetings(self, case_id: str | None = None) -> pd.DataFrame:
        """The meetings of every case (or one), one row per link, with date, venue and outcome."""
        import pandas as pd

        with self._tx(write=False) as connection:
            if case_id is None:
                ids = connection.execute(sa.select(cases.c.case_id).order_by(cases.c.case_id))
                id_list = list(ids.scalars().all())
            else:
                self._case_row(connection, case_id)
                id_list = [case_id]
            rows = [
                {"case_id": cid, **m.__dict__, "terms": list(m.terms)}
                for cid in id_list
                for m in self._case_meetings(connection, cid)
            ]
        columns = ["case_id", *CaseMeeting.__dataclass_fields__]
        frame = pd.DataFrame(rows, columns=columns)
        frame["parties"] = frame["parties"].astype("Float64").astype("Int64")
        return frame
