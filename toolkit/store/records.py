"""Small typed records the store hands in and out (frozen dataclasses).

A :class:`Submission` is what a tablet sends; :class:`SubmitResult` is the acknowledgement.

>>> s = Submission("0B5C1C2E-6E0C-4E7D-9D64-2F3A1B0C9D11", "m1", {"wuye__overall": "satisfied"})
>>> s.uuid
'0b5c1c2e-6e0c-4e7d-9d64-2f3a1b0c9d11'
>>> Subject.coerce("wuye")
Subject(id='wuye', label_zh='wuye', label_en=None)
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from toolkit.errors import ParameterError

__all__ = [
    "Attendance",
    "Draft",
    "InstrumentRef",
    "Meeting",
    "MeetingKind",
    "MeetingStatus",
    "Subject",
    "Submission",
    "SubmitResult",
    "SubmitStatus",
]

MeetingKind = Literal["hearing", "coordination", "evaluation"]
MeetingStatus = Literal["open", "closed"]
SubmitStatus = Literal["stored", "already_stored"]

MEETING_KINDS: tuple[MeetingKind, ...] = ("hearing", "coordination", "evaluation")
MEETING_STATUSES: tuple[MeetingStatus, ...] = ("open", "closed")

_SUBJECT_ID = re.compile(r"[a-z][a-z0-9_]*\Z")


def normalize_uuid(value: str | uuid_module.UUID, *, argument: str = "uuid") -> str:
    """The canonical lowercase text of a UUID; :class:`ParameterError` if it is not one."""
    if isinstance(value, uuid_module.UUID):
        return str(value)
    try:
        return str(uuid_module.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise ParameterError(
            f"`{argument}` must be a UUID made by the client (e.g. str(uuid.uuid4())); "
            f"got {value!r}."
        ) from None


def parse_datetime(value: datetime | str | None, *, argument: str) -> datetime | None:
    """A datetime from a datetime or an ISO 8601 string (``None`` passes through)."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise ParameterError(
        f"`{argument}` must be a datetime or an ISO 8601 text such as "
        f"'2026-03-01T09:30:00+08:00'; got {value!r}."
    )


@dataclass(frozen=True)
class Subject:
    """An evaluated subject of a meeting (居委会, 物业公司...): its id and labels."""

    id: str
    label_zh: str
    label_en: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _SUBJECT_ID.match(self.id):
            raise ParameterError(
                f"subject id {self.id!r} must match [a-z][a-z0-9_]* (e.g. 'wuye', 'juweihui')."
            )

    @classmethod
    def coerce(cls, value: Subject | Mapping[str, Any] | str) -> Subject:
        """A subject from a Subject, a ``{id, label_zh, label_en}`` mapping or a bare id."""
        if isinstance(value, Subject):
            return value
        if isinstance(value, str):
            return cls(value, value)
        if isinstance(value, Mapping) and "id" in value:
            return cls(
                str(value["id"]),
                str(value.get("label_zh") or value["id"]),
                None if value.get("label_en") is None else str(value["label_en"]),
            )
        raise ParameterError(
            "each subject must be a Subject, a mapping with `id`, `label_zh`, `label_en`, or an "
            f"id; got {value!r}."
        )

    def to_dict(self) -> dict[str, str | None]:
        """The JSON form kept in ``meetings.subjects``."""
        return {"id": self.id, "label_zh": self.label_zh, "label_en": self.label_en}


@dataclass(frozen=True)
class InstrumentRef:
    """A stored instrument version: what :meth:`Store.add_instrument` returns."""

    id: str
    version: str
    content_hash: str
    created_at: datetime


@dataclass(frozen=True)
class Meeting:
    """One meeting as stored (see :meth:`Store.create_meeting`)."""

    meeting_id: str
    kind: MeetingKind
    title: str
    community: str | None
    street: str | None
    district: str | None
    date: date | None
    instrument_id: str
    instrument_version: str
    subjects: tuple[Subject, ...]
    ballots_issued: int | None
    members: int | None
    status: MeetingStatus
    created_at: datetime

    @property
    def subject_ids(self) -> tuple[str, ...]:
        """The subject ids in order (what per-subject grids expand over)."""
        return tuple(s.id for s in self.subjects)


@dataclass(frozen=True)
class Submission:
    """A ballot as a tablet sends it.

    ``uuid`` is made by the client once per ballot (``uuid.uuid4()``) and reused on every retry, which
    is what makes :meth:`Store.submit` idempotent. ``answers`` is the flat variable → value mapping of
    :mod:`toolkit.instrument.model`; ``paradata`` holds form timings (e.g. seconds per page).
    ``mode="paper"`` marks a paper ballot keyed in by staff: blanks in required questions are kept
    as blanks (what the resident left), every other check applies.
    """

    uuid: str
    meeting_id: str
    answers: Mapping[str, Any]
    device: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    paradata: Mapping[str, Any] | None = None
    ballot_code: str | None = None
    mode: Literal["tablet", "paper", "online"] = "tablet"

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", normalize_uuid(self.uuid))
        if self.mode not in ("tablet", "paper", "online"):
            raise ParameterError(
                f"`mode` must be one of 'tablet', 'paper', 'online'; got {self.mode!r}.",
                code="E_OPTION",
            )
        if not isinstance(self.meeting_id, str) or not self.meeting_id:
            raise ParameterError(f"`meeting_id` must be a non-empty text; got {self.meeting_id!r}.")
        if not isinstance(self.answers, Mapping):
            raise ParameterError(
                "`answers` must be a mapping of variable name to value; "
                f"got {type(self.answers).__name__}."
            )
        if self.paradata is not None and not isinstance(self.paradata, Mapping):
            raise ParameterError(
                f"`paradata` must be a mapping or None; got {type(self.paradata).__name__}."
            )
        for name in ("started_at", "submitted_at"):
            object.__setattr__(self, name, parse_datetime(getattr(self, name), argument=name))


@dataclass(frozen=True)
class SubmitResult:
    """The acknowledgement of :meth:`Store.submit`.

    ``status`` is ``"stored"`` for a new ballot and ``"already_stored"`` when the same UUID with the
    same answers was stored before (a retry); either way the ballot is durably stored.
    """

    uuid: str
    meeting_id: str
    status: SubmitStatus
    stored_at: datetime


@dataclass(frozen=True)
class Draft:
    """A half-filled ballot, saved under an opaque owner key (one draft per key): the meeting
    server uses a random per-browser session token, not the tablet's label."""

    owner: str
    uuid: str
    meeting_id: str | None
    answers: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def device(self) -> str:
        """The old name of :attr:`owner` (kept for existing callers)."""
        return self.owner


@dataclass(frozen=True)
class Attendance:
    """One participant's attendance row for a meeting."""

    meeting_id: str
    participant_id: str
    invited: bool
    walk_in: bool
    checked_in_at: datetime | None
