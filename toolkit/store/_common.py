"""Helpers the store's modules share: participant columns, lazy instrument functions, row records."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import check_range
from toolkit.errors import (
    DataError,
    StoreError,
)
from toolkit.instrument.model import Survey
from toolkit.labels import Labels  # noqa: F401  (re-exported)
from toolkit.store.records import (
    Meeting,
    Subject,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    pass

#: The pseudonymous participant columns (never a name; names go to ``participant_names``).
PARTICIPANT_COLUMNS: tuple[str, ...] = (
    "participant_id",
    "community",
    "role",
    "gender",
    "age_band",
    "building",
    "floor_band",
    "household_id",
    "party_member",
    "birth_year",
)
_NAME_COLUMNS = ("name", "room")

# Surveys are immutable, so one rebuilt from stored YAML can be shared by every Store of the process.
_SURVEYS_BY_HASH: dict[str, Survey] = {}


# --- the instrument modules, imported lazily (tests may replace these three functions) -----------


def _check_answers(
    survey: Survey, answers: Mapping[str, Any], *, subjects: Sequence[str], require: bool = True
) -> list:
    from toolkit.instrument.answers import check_answers

    return list(check_answers(survey, answers, subjects=tuple(subjects), require=require))


def _dump_survey(survey: Survey) -> str:
    for name in ("toolkit.instrument.loader", "toolkit.instrument.dumper"):
        try:
            dump = getattr(importlib.import_module(name), "dump_survey", None)
        except ImportError:
            continue
        if dump is not None:
            return str(dump(survey))
    raise StoreError(
        "cannot store an instrument: toolkit.instrument has no dump_survey (YAML writer); "
        "reinstall sanhui."
    )


def _loads_survey(text: str, *, source: str) -> Survey:
    from toolkit.instrument.loader import loads_survey

    return loads_survey(text, source=source)


def _now() -> datetime:
    return datetime.now(UTC)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):  # float('nan'), numpy.float64('nan')
        return value != value
    pandas = sys.modules.get("pandas")
    if pandas is None:  # pd.NA, NaT and numpy missing values exist only once pandas is loaded
        return False
    try:
        return bool(pandas.isna(value))
    except (TypeError, ValueError):
        return False


def _dialect_insert(dialect: str, table: sa.Table) -> Any:
    """``INSERT`` with ``ON CONFLICT`` support (SQLite >= 3.24 and PostgreSQL share the syntax)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _meeting_ids(meeting: str | Sequence[str] | None) -> list[str] | None:
    if meeting is None:
        return None
    if isinstance(meeting, str):
        return [meeting]
    return [str(m) for m in meeting]


def _meeting_record(row: Any) -> Meeting:
    return Meeting(
        meeting_id=row.meeting_id,
        kind=row.kind,
        title=row.title,
        community=row.community,
        street=row.street,
        district=row.district,
        date=row.date,
        instrument_id=row.instrument_id,
        instrument_version=row.instrument_version,
        subjects=tuple(Subject.coerce(s) for s in row.subjects or ()),
        ballots_issued=row.ballots_issued,
        members=row.members,
        status=row.status,
        created_at=row.created_at,
    )


def _participant_value(column: str, value: Any) -> Any:
    if _blank(value):
        return None
    if column == "party_member":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "y", "是"):
                return True
            if lowered in ("0", "false", "no", "n", "否"):
                return False
            raise DataError(f"`party_member` must be yes/no (or 是/否, true/false); got {value!r}.")
        return bool(value)
    if column == "birth_year":
        try:
            year = int(value)
        except (TypeError, ValueError):
            raise DataError(f"`birth_year` must be a whole year; got {value!r}.") from None
        return check_range("birth_year", year, low=1900, high=2100)
    if column == "building" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
