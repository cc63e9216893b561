"""Speaking turns and comment codings in the store: the :class:`TurnsMixin` that :class:`Store` inherits.

Turns are written one transaction per tap, with the same durability as ballots (SQLite WAL with
``synchronous=FULL``), so an acknowledged tap survives a reload of the page, a restart of the server
or a power cut. A turn holds a speaker category and an optional anonymous seat number, never a
participant id or a name. Starting a turn ends the open one of the same meeting in the same
transaction, so there is never more than one open turn per meeting; an undo marks a turn ``undone``
(it is kept, not deleted) or reopens the last ended one.

Codings are the codes coders give to the free-text answers of ballots (keyed by submission id and
question, so they stay as anonymous as the ballots) and the reconciled ("final") codes.

Examples
--------
>>> from toolkit.instrument import load_survey
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")
>>> survey = load_survey("surveys/hearing.yaml")
>>> _ = store.create_meeting("h1", kind="hearing", title="加装电梯听证会", instrument=survey)
>>> first = store.start_turn("h1", "resident", seat=3)
>>> second = store.start_turn("h1", "property")   # ends the first turn
>>> store.turn(first.turn_id).ended_at == second.started_at
True
>>> store.open_turn("h1").category
'property'
>>> store.undo_turn("h1").undone                   # the tap on 物业 was a mistake
True
>>> store.turns("h1")[["category", "seat"]]
   category  seat
0  resident     3
>>> store.close()
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import check_option
from toolkit.errors import ParameterError, StoreError
from toolkit.instrument.speakers import SPEAKER_LABELS, TURN_CODE_LABELS
from toolkit.store import schema as t
from toolkit.store.core import StoreBase

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

__all__ = ["CODING_ROLES", "Turn", "TurnsMixin"]

CODING_ROLES: tuple[str, ...] = ("coder", "final")
_CODER = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_CODE = re.compile(r"^[A-Za-z0-9_]{1,60}$")


@dataclass(frozen=True)
class Turn:
    """One speaking turn as stored (``ended_at`` is None while it is open)."""

    turn_id: str
    meeting_id: str
    category: str
    seat: int | None
    started_at: datetime
    ended_at: datetime | None
    codes: tuple[str, ...]
    device: str | None
    undone: bool

    @property
    def seconds(self) -> float | None:
        """Length of the turn in seconds (None while open)."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


def _turn(row: Any) -> Turn:
    return Turn(
        turn_id=row.turn_id,
        meeting_id=row.meeting_id,
        category=row.category,
        seat=row.seat,
        started_at=row.started_at,
        ended_at=row.ended_at,
        codes=tuple(row.codes or ()),
        device=row.device,
        undone=bool(row.undone),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _check_turn_codes(codes: Sequence[str]) -> list[str]:
    out = []
    for code in codes:
        check_option("turn code", code, tuple(TURN_CODE_LABELS))
        if code not in out:
            out.append(code)
    return out


class TurnsMixin(StoreBase):
    """Speaking turns and comment codings (methods of :class:`~toolkit.store.Store`)."""

    # --- turns ------------------------------------------------------------------------------------

    def start_turn(
        self,
        meeting: str,
        category: str,
        *,
        seat: int | None = None,
        turn_id: str | None = None,
        device: str | None = None,
        at: datetime | None = None,
    ) -> Turn:
        """Start a turn, ending the meeting's open turn (if any) at the same instant.

        Parameters
        ----------
        meeting : str
            The meeting (any kind: hearing, coordination or evaluation).
        category : str
            A speaker category of :data:`toolkit.instrument.speakers.SPEAKER_CATEGORIES`.
        seat : int, optional
            The speaker's anonymous seat number (1 or more).
        turn_id : str, optional
            The turn's UUID, made by the client so that a resent tap is stored once; a new one by
            default. Sending the same id again returns the stored turn and changes nothing.
        device : str, optional
            The recording device's label.
        at : datetime, optional
            When the turn started (now by default).

        Returns
        -------
        Turn
        """
        check_option("category", category, tuple(SPEAKER_LABELS))
        if seat is not None and (not isinstance(seat, int) or seat < 1):
            raise ParameterError(f"`seat` must be a seat number of 1 or more; got {seat!r}.")
        turn_id = turn_id or str(uuid_module.uuid4())
        when = at or _now()
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting)
            stored = connection.execute(
                sa.select(t.turns).where(t.turns.c.turn_id == turn_id)
            ).first()
            if stored is not None:
                if stored.meeting_id != meeting or stored.category != category:
                    raise StoreError(
                        f"turn {turn_id} is already stored for another meeting or speaker; "
                        "nothing was changed. Start the new turn with a new id."
                    )
                return _turn(stored)
            connection.execute(
                sa.update(t.turns)
                .where(
                    t.turns.c.meeting_id == meeting,
                    t.turns.c.ended_at.is_(None),
                    t.turns.c.undone.is_(False),
                )
                .values(ended_at=when)
            )
            connection.execute(
                sa.insert(t.turns).values(
                    turn_id=turn_id,
                    meeting_id=meeting,
                    category=category,
                    seat=seat,
                    started_at=when,
                    ended_at=None,
                    codes=[],
                    device=device,
                    undone=False,
                )
            )
            row = connection.execute(sa.select(t.turns).where(t.turns.c.turn_id == turn_id)).one()
        return _turn(row)

    def end_turn(self, turn_id: str, *, at: datetime | None = None) -> Turn:
        """End an open turn (ending an ended turn again changes nothing)."""
        with self._tx(write=True) as connection:
            row = self._turn_row(connection, turn_id)
            if row.ended_at is None and not row.undone:
                when = max(at or _now(), row.started_at)
                connection.execute(
                    sa.update(t.turns).where(t.turns.c.turn_id == turn_id).values(ended_at=when)
                )
                row = self._turn_row(connection, turn_id)
        return _turn(row)

    def set_turn_codes(self, turn_id: str, codes: Sequence[str]) -> Turn:
        """Replace the codes of a turn (question, proposal, objection, agreement, information)."""
        checked = _check_turn_codes(codes)
        with self._tx(write=True) as connection:
            self._turn_row(connection, turn_id)
            connection.execute(
                sa.update(t.turns).where(t.turns.c.turn_id == turn_id).values(codes=checked)
            )
            row = self._turn_row(connection, turn_id)
        return _turn(row)

    def undo_turn(self, meeting: str) -> Turn | None:
        """Undo the last tap of a meeting: an open turn is marked undone (a tap that should not
        have started it); otherwise the last ended turn is reopened (a tap that should not have
        ended it). Returns the turn changed, or None when there is nothing to undo."""
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting)
            last = connection.execute(
                sa.select(t.turns)
                .where(t.turns.c.meeting_id == meeting, t.turns.c.undone.is_(False))
                .order_by(t.turns.c.started_at.desc(), t.turns.c.turn_id.desc())
                .limit(1)
            ).first()
            if last is None:
                return None
            values: dict[str, Any] = (
                {"undone": True} if last.ended_at is None else {"ended_at": None}
            )
            connection.execute(
                sa.update(t.turns).where(t.turns.c.turn_id == last.turn_id).values(**values)
            )
            row = self._turn_row(connection, last.turn_id)
        return _turn(row)

    def open_turn(self, meeting: str) -> Turn | None:
        """The meeting's open turn, if any (a recorder restores it after a reload)."""
        with self._tx(write=False) as connection:
            row = connection.execute(
                sa.select(t.turns).where(
                    t.turns.c.meeting_id == meeting,
                    t.turns.c.ended_at.is_(None),
                    t.turns.c.undone.is_(False),
                )
            ).first()
        return None if row is None else _turn(row)

    def turn(self, turn_id: str) -> Turn:
        """One stored turn."""
        with self._tx(write=False) as connection:
            return _turn(self._turn_row(connection, turn_id))

    def turns(self, meeting: str, *, include_undone: bool = False) -> pd.DataFrame:
        """The turns of a meeting in order: ``turn_id``, ``category``, ``seat`` (nullable Int64),
        ``started_at``, ``ended_at``, ``seconds`` (NaN while open), ``codes`` (lists), ``device``,
        ``undone`` (only with ``include_undone``)."""
        import pandas as pd

        query = sa.select(t.turns).where(t.turns.c.meeting_id == meeting)
        if not include_undone:
            query = query.where(t.turns.c.undone.is_(False))
        with self._tx(write=False) as connection:
            self._meeting(connection, meeting)
            rows = [
                _turn(r)
                for r in connection.execute(query.order_by(t.turns.c.started_at, t.turns.c.turn_id))
            ]
        frame = pd.DataFrame(
            {
                "turn_id": pd.Series([r.turn_id for r in rows], dtype=object),
                "category": pd.Series([r.category for r in rows], dtype=object),
                "seat": pd.array([r.seat for r in rows], dtype="Int64"),
                "started_at": pd.to_datetime([r.started_at for r in rows], utc=True),
                "ended_at": pd.to_datetime(
                    pd.Series([r.ended_at for r in rows], dtype=object), utc=True
                ),
                "seconds": pd.Series(
                    [float("nan") if r.seconds is None else r.seconds for r in rows], dtype=float
                ),
                "codes": pd.Series([list(r.codes) for r in rows], dtype=object),
                "device": pd.Series([r.device for r in rows], dtype=object),
            }
        )
        if include_undone:
            frame["undone"] = [r.undone for r in rows]
        return frame

    @staticmethod
    def _turn_row(connection: Connection, turn_id: str) -> Any:
        row = connection.execute(sa.select(t.turns).where(t.turns.c.turn_id == turn_id)).first()
        if row is None:
            raise StoreError(f"no turn {turn_id!r} in the store; it was never started here.")
        return row

    # --- codings ----------------------------------------------------------------------------------

    def save_coding(
        self,
        meeting: str,
        submission_id: str,
        question: str,
        *,
        coder: str,
        codes: Sequence[str],
        codebook: str,
        note: str | None = None,
        role: str = "coder",
        at: datetime | None = None,
    ) -> None:
        """Store (or replace) one coder's codes for one free-text answer of a ballot.

        Parameters
        ----------
        meeting, submission_id, question : str
            The answer coded: the ballot's id and the text question (``comments``).
        coder : str
            The coder's id (letters, digits, ``_`` and ``-``; no names needed).
        codes : sequence of str
            The codes given (an empty list means "coded, no code applies").
        codebook : str
            The codebook id and version (``comment_codes@1``).
        note : str, optional
            The coder's note.
        role : {"coder", "final"}
            ``final`` for the reconciled codes.
        at : datetime, optional
            When (now by default).
        """
        check_option("role", role, CODING_ROLES)
        if not _CODER.match(coder or ""):
            raise ParameterError(
                f"`coder` must be 1-40 letters, digits, '_' or '-'; got {coder!r}. Use a short id "
                "such as 'A' or 'coder1'."
            )
        clean = []
        for code in codes:
            if not isinstance(code, str) or not _CODE.match(code):
                raise ParameterError(f"`codes` must be codebook codes; got {code!r}.")
            if code not in clean:
                clean.append(code)
        values = {
            "meeting_id": meeting,
            "codebook": codebook,
            "codes": sorted(clean),
            "note": (note or "").strip() or None,
            "coded_at": at or _now(),
        }
        key = {"submission_id": submission_id, "question": question, "coder": coder, "role": role}
        table = t.codings
        with self._tx(write=True) as connection:
            self._meeting(connection, meeting)
            where = [table.c[k] == v for k, v in key.items()]
            done = connection.execute(sa.update(table).where(*where).values(**values)).rowcount
            if not done:
                connection.execute(sa.insert(table).values(**key, **values))

    def codings(self, meeting: str, *, role: str | None = None) -> pd.DataFrame:
        """The codings of a meeting: ``submission_id``, ``question``, ``coder``, ``role``,
        ``codebook``, ``codes`` (sorted lists), ``note``, ``coded_at``; sorted by answer and coder."""
        import pandas as pd

        table = t.codings
        query = sa.select(table).where(table.c.meeting_id == meeting)
        if role is not None:
            check_option("role", role, CODING_ROLES)
            query = query.where(table.c.role == role)
        columns = [
            "submission_id",
            "question",
            "coder",
            "role",
            "codebook",
            "codes",
            "note",
            "coded_at",
        ]
        with self._tx(write=False) as connection:
            self._meeting(connection, meeting)
            rows = connection.execute(
                query.order_by(table.c.submission_id, table.c.question, table.c.role, table.c.coder)
            ).all()
        frame = pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)
        frame["codes"] = pd.Series([list(c) for c in frame["codes"]], dtype=object)
        return frame.astype({c: object for c in columns if c not in ("codes", "coded_at")})
