"""Records and helpers of the case tables: :class:`Case`, :class:`CaseMeeting` and
:class:`RectificationItem` (frozen dataclasses), and the checks of their values.

>>> Case("c1", "3号楼加装电梯", "elevator", None, None, None, None, None, None).stage
'opened'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import ParameterError

__all__ = ["Case", "CaseMeeting", "RectificationItem"]

#: The meeting kind each stage needs.
STAGE_KIND = {
    "hearing": "hearing",
    "coordination": "coordination",
    "evaluation": "evaluation",
    "follow_up": "evaluation",
}
#: What a stage's outcome may hold (see :meth:`CaseStoreMixin.record_outcome`).
OUTCOME_FIELDS = ("positions", "agreement", "parties", "terms", "verdict", "rule")
#: The case stage names in order (``opened`` before any meeting, ``closed`` at the end).
STAGE_ORDER = ("opened", "hearing", "coordination", "evaluation", "rectification", "closed")


@dataclass(frozen=True)
class CaseMeeting:
    """One meeting of a case, in order, with what the stage produced."""

    meeting_id: str
    sequence: int
    stage: str
    kind: str
    title: str
    date: dt.date | None
    venue: str
    positions: Mapping[str, Mapping[str, int]] | None = None
    agreement: str | None = None
    parties: int | None = None
    terms: tuple[str, ...] = ()
    verdict: str | None = None
    rule: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RectificationItem:
    """One rectification (整改) item of a case."""

    item_id: int
    case_id: str
    item: str
    subject: str
    source: str
    source_ref: str | None
    source_meeting_id: str | None
    due_date: dt.date | None
    status: str
    evidence: str | None
    followup_meeting_id: str | None


@dataclass(frozen=True)
class Case:
    """A case (议题) with its meetings in order and its rectification items."""

    case_id: str
    title: str
    kind: str
    street: str | None
    community: str | None
    building: str | None
    opened_on: dt.date | None
    closed_on: dt.date | None
    note: str | None
    meetings: tuple[CaseMeeting, ...] = ()
    items: tuple[RectificationItem, ...] = ()

    @property
    def stage(self) -> str:
        """How far the case got: ``opened``, ``hearing``, ``coordination``, ``evaluation``,
        ``rectification`` (evaluated, with items) or ``closed``."""
        if self.closed_on is not None:
            return "closed"
        stages = {m.stage for m in self.meetings}
        if stages & {"evaluation", "follow_up"}:
            return "rectification" if self.items else "evaluation"
        for stage in ("coordination", "hearing"):
            if stage in stages:
                return stage
        return "opened"


def _date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"`{name}` must be a date like 2026-03-01; got {value!r}.") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"`{name}` must be a non-empty text; got {value!r}.")
    return value.strip()


#: The hearing form's positions, in the order they are shown (JSONB does not keep key order).
POSITION_ORDER = ("support", "conditional", "oppose", "dont_know")


def _ordered_positions(
    positions: Mapping[str, Mapping[str, int]] | None,
) -> dict[str, dict[str, int]] | None:
    if positions is None:
        return None
    rank = {p: i for i, p in enumerate(POSITION_ORDER)}
    return {
        option: dict(sorted(counts.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))
        for option, counts in sorted(positions.items())
    }


def _stages_for(kind: str) -> str:
    return " or ".join(repr(s) for s, k in STAGE_KIND.items() if k == kind)


def _positions(positions: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    clean: dict[str, dict[str, int]] = {}
    for option, counts in positions.items():
        if not isinstance(counts, Mapping):
            raise ParameterError(
                f"`positions[{option!r}]` must map each position to a count, e.g. "
                f"{{'support': 20, 'oppose': 9}}; got {counts!r}."
            )
        clean[str(option)] = {}
        for position, count in counts.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ParameterError(
                    f"`positions[{option!r}][{position!r}]` must be a whole count >= 0; "
                    f"got {count!r}."
                )
            clean[str(option)][str(position)] = int(count)
    return clean


def _item_record(row: Any) -> RectificationItem:
    return RectificationItem(
        item_id=int(row.item_id),
        case_id=row.case_id,
        item=row.item,
        subject=row.subject,
        source=row.source,
        source_ref=row.source_ref,
        source_meeting_id=row.source_meeting_id,
        due_date=row.due_date,
        status=row.status,
        evidence=row.evidence,
        followup_meeting_id=row.followup_meeting_id,
    )
