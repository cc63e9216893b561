"""Rectification items (整改) of a case: the :class:`RectificationMixin` part of the store.

An evaluation's badly rated items (or its comments) become items with a responsible subject, a due
date and a status, checked by a follow-up evaluation linked to the same case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit._checks import check_option
from toolkit.errors import StoreError
from toolkit.store.case_records import (
    CaseMeeting,
    RectificationItem,
    _date,
    _item_record,
    _now,
    _text,
)
from toolkit.store.cases_schema import (
    RECTIFICATION_SOURCES,
    RECTIFICATION_STATUSES,
    rectification_items,
)
from toolkit.store.core import StoreBase

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RectificationMixin"]


class RectificationMixin(StoreBase):
    """Rectification items of cases (part of ``Store``, through :class:`CaseStoreMixin`)."""

    if TYPE_CHECKING:  # defined by CaseStoreMixin

        def _case_row(self, connection: Connection, case_id: str) -> Any: ...

        def _case_meetings(self, connection: Connection, case_id: str) -> Iterator[CaseMeeting]: ...

    def add_rectification(
        self,
        case_id: str,
        *,
        item: str,
        subject: str,
        source: str,
        source_ref: str | None = None,
        source_meeting_id: str | None = None,
        due_date: dt.date | str | None = None,
        status: str = "open",
        evidence: str | None = None,
    ) -> RectificationItem:
        """Add a rectification (整改) item to a case.

        Parameters
        ----------
        item : str
            What is to be put right (e.g. ``"电梯噪音整改"``).
        subject : str
            Who is responsible (a subject id such as ``wuye``, or a name of a unit).
        source : {"low_rating", "comment"}
            A badly rated ballot item, or a comment.
        source_ref : str, optional
            The rated item (``wuye__efficiency``) or the comment's gist.
        source_meeting_id : str, optional
            The evaluation meeting that produced it (must be linked to the case).
        due_date : date or ISO text, optional
        status : {"open", "in_progress", "done", "not_accepted"}
        evidence : str, optional
            What shows it was done (photos filed, a notice posted, ...).
        """
        check_option("source", source, RECTIFICATION_SOURCES)
        check_option("status", status, RECTIFICATION_STATUSES)
        now = _now()
        values = {
            "case_id": case_id,
            "item": _text("item", item),
            "subject": _text("subject", subject),
            "source": source,
            "source_ref": source_ref,
            "source_meeting_id": source_meeting_id,
            "due_date": _date(due_date, "due_date"),
            "status": status,
            "evidence": evidence,
            "followup_meeting_id": None,
            "created_at": now,
            "updated_at": now,
        }
        with self._tx(write=True) as connection:
            self._case_row(connection, case_id)
            if source_meeting_id is not None:
                self._linked(connection, case_id, source_meeting_id, "source_meeting_id")
            result = connection.execute(
                sa.insert(rectification_items)
                .values(**values)
                .returning(rectification_items.c.item_id)
            )
            item_id = int(result.scalar_one())
            return self._item(connection, item_id)

    def _linked(self, connection: Connection, case_id: str, meeting_id: str, name: str) -> None:
        self._meeting(connection, meeting_id)
        linked = [m.meeting_id for m in self._case_meetings(connection, case_id)]
        if meeting_id not in linked:
            raise StoreError(
                f"`{name}`: meeting `{meeting_id}` is not linked to case `{case_id}`; link it "
                "first with store.add_case_meeting(...) or `sanhui case add-meeting`."
            )

    def _item(self, connection: Connection, item_id: int) -> RectificationItem:
        row = connection.execute(
            sa.select(rectification_items).where(rectification_items.c.item_id == item_id)
        ).first()
        if row is None:
            raise StoreError(
                f"no rectification item {item_id} in the store; list them with "
                "store.rectification_items() or `sanhui rectify list`."
            )
        return _item_record(row)

    def update_rectification(
        self,
        item_id: int,
        *,
        status: str | None = None,
        evidence: str | None = None,
        due_date: dt.date | str | None = None,
        followup_meeting_id: str | None = None,
    ) -> RectificationItem:
        """Change a rectification item's status, evidence, due date, or the follow-up evaluation
        meeting that checked it (which must be linked to the item's case)."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = check_option("status", status, RECTIFICATION_STATUSES)
        if evidence is not None:
            values["evidence"] = evidence
        if due_date is not None:
            values["due_date"] = _date(due_date, "due_date")
        with self._tx(write=True) as connection:
            current = self._item(connection, item_id)
            if followup_meeting_id is not None:
                self._linked(
                    connection, current.case_id, followup_meeting_id, "followup_meeting_id"
                )
                values["followup_meeting_id"] = followup_meeting_id
            if values:
                values["updated_at"] = _now()
                connection.execute(
                    sa.update(rectification_items)
                    .where(rectification_items.c.item_id == item_id)
                    .values(**values)
                )
            return self._item(connection, item_id)

    def rectification_items(self, case_id: str | Iterable[str] | None = None) -> pd.DataFrame:
        """Rectification items (of one case, several, or all), one row each, in order of entry."""
        import pandas as pd

        query = sa.select(rectification_items).order_by(rectification_items.c.item_id)
        if case_id is not None:
            ids = [case_id] if isinstance(case_id, str) else list(case_id)
            query = query.where(rectification_items.c.case_id.in_(ids))
        with self._tx(write=False) as connection:
            result = connection.execute(query)
            frame = pd.DataFrame(result.all(), columns=list(result.keys()))
        for column in ("created_at", "updated_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame
