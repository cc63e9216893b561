"""The store's tables (SQLAlchemy 2 Core). The Alembic migrations in ``migrations/versions`` build
exactly this schema (a test compares them); change both together.

Privacy by construction: ``participant_names`` is the only table holding names and is read only by
sign-in search (:meth:`Store.search_participants`); ``submissions`` never references a participant;
for anonymous instruments ``ballot_codes`` keeps no link to the ballot and only the day a code was used.

>>> sorted(metadata.tables)  # doctest: +NORMALIZE_WHITESPACE
['attendance', 'ballot_codes', 'case_meetings', 'case_outcomes', 'cases', 'codings',
 'drafts', 'instruments', 'meeting_closings', 'meetings', 'online_windows', 'participant_names',
 'participants', 'rectification_items', 'repeat_rows', 'submissions', 'turns']

(The case tables are defined in :mod:`toolkit.store.cases_schema` on this same metadata.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = [
    "JSONType",
    "UTCDateTime",
    "attendance",
    "ballot_codes",
    "codings",
    "drafts",
    "instruments",
    "meeting_closings",
    "meetings",
    "metadata",
    "online_windows",
    "participant_names",
    "participants",
    "repeat_rows",
    "submissions",
    "turns",
]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp kept in UTC: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite.

    Aware datetimes are converted to UTC; naive ones are taken as the machine's local time (Python's
    own convention, :meth:`datetime.astimezone`). Values come back aware, in UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON on SQLite (text), JSONB on PostgreSQL (so ``->>`` extraction is fast).
JSONType: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

instruments = sa.Table(
    "instruments",
    metadata,
    sa.Column("instrument_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.String(50), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("yaml_text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("meeting_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("community", sa.String(100)),
    sa.Column("street", sa.String(100)),
    sa.Column("district", sa.String(100)),
    sa.Column("date", sa.Date),
    sa.Column("instrument_id", sa.String(100), nullable=False),
    sa.Column("instrument_version", sa.String(50), nullable=False),
    sa.Column("subjects", JSONType, nullable=False),
    sa.Column("ballots_issued", sa.Integer),
    sa.Column("members", sa.Integer),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # the declared verdict rule and the number of one-time codes planned (sanhui meeting new)
    sa.Column("settings", JSONType),
    # community | park | online (checked by the store: see toolkit.store.cases_schema.VENUES)
    sa.Column("venue", sa.String(10), nullable=False, server_default="community"),
    sa.ForeignKeyConstraint(
        ["instrument_id", "instrument_version"],
        ["instruments.instrument_id", "instruments.version"],
    ),
    sa.CheckConstraint("kind IN ('hearing', 'coordination', 'evaluation')", name="kind"),
    sa.CheckConstraint("status IN ('open', 'closed')", name="status"),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("community", sa.String(100)),
    sa.Column("role", sa.String(50)),
    sa.Column("gender", sa.String(20)),
    sa.Column("age_band", sa.String(20)),
    sa.Column("building", sa.String(20)),
    sa.Column("floor_band", sa.String(20)),
    sa.Column("household_id", sa.String(64)),
    sa.Column("party_member", sa.Boolean),
    sa.Column("birth_year", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

participant_names = sa.Table(
    "participant_names",
    metadata,
    sa.Column(
        "participant_id",
        sa.String(64),
        sa.ForeignKey("participants.participant_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("room", sa.String(50)),
)

attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), primary_key=True),
    sa.Column(
        "participant_id",
        sa.String(64),
        sa.ForeignKey("participants.participant_id"),
        primary_key=True,
    ),
    sa.Column("checked_in_at", UTCDateTime),
    sa.Column("walk_in", sa.Boolean, nullable=False),
    sa.Column("invited", sa.Boolean, nullable=False),
    sa.Index(None, "participant_id"),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("submission_id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), nullable=False),
    sa.Column("instrument_id", sa.String(100), nullable=False),
    sa.Column("instrument_version", sa.String(50), nullable=False),
    sa.Column("device", sa.String(100)),
    sa.Column("started_at", UTCDateTime),
    sa.Column("submitted_at", UTCDateTime),
    sa.Column("stored_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("void_reason", sa.Text),
    sa.Column("answers", JSONType, nullable=False),
    sa.Column("paradata", JSONType),
    sa.Column("answers_hash", sa.String(64), nullable=False),
    # how the ballot came in (its channel): "tablet" (the form at the meeting), "paper" (keyed in
    # by staff; blanks kept) or "online" (the form on a resident's phone, `sanhui serve --online`)
    sa.Column("mode", sa.String(10), nullable=False, server_default="tablet"),
    sa.ForeignKeyConstraint(
        ["instrument_id", "instrument_version"],
        ["instruments.instrument_id", "instruments.version"],
    ),
    sa.CheckConstraint("status IN ('valid', 'void')", name="status"),
    sa.CheckConstraint("mode IN ('tablet', 'paper', 'online')", name="mode"),
    sa.Index(None, "meeting_id", "status"),
    sa.Index(None, "instrument_id", "instrument_version"),
)

ballot_codes = sa.Table(
    "ballot_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    # anonymous instruments: the day only, so use time cannot be matched to a ballot's stored_at
    sa.Column("used_at", UTCDateTime),
    # kept only for instruments with ``anonymous: false``; NULL otherwise, by design
    sa.Column("submission_id", sa.String(36)),
    # "hmac": keyed with the store's secret (toolkit/store/codes.py); "sha256": issued before 0004
    sa.Column("scheme", sa.String(10), nullable=False, server_default="sha256"),
    sa.Index(None, "meeting_id"),
    sa.CheckConstraint("scheme IN ('sha256', 'hmac')", name="scheme"),
)

drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("device", sa.String(100), primary_key=True),
    sa.Column("submission_id", sa.String(36), nullable=False),
    sa.Column("meeting_id", sa.String(100)),
    sa.Column("answers", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "submission_id"),
)

#: The closing record of a meeting (``sanhui meeting close``): a closed meeting with a record is
#: frozen for good; the counts and the checksum of its ballots are those at closing.
meeting_closings = sa.Table(
    "meeting_closings",
    metadata,
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), primary_key=True),
    sa.Column("closed_at", UTCDateTime, nullable=False),
    sa.Column("ballots_issued", sa.Integer),
    sa.Column("ballots_returned", sa.Integer, nullable=False),
    sa.Column("ballots_valid", sa.Integer, nullable=False),
    sa.Column("ballots_void", sa.Integer, nullable=False),
    sa.Column("ballots_tablet", sa.Integer, nullable=False),
    sa.Column("ballots_paper", sa.Integer, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
)

# speaking turns recorded by the meeting secretary: a category and an optional anonymous seat number,
# never a participant id or a name; ``ended_at`` is NULL while the turn is open
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("turn_id", sa.String(36), primary_key=True),
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), nullable=False),
    sa.Column("category", sa.String(30), nullable=False),
    sa.Column("seat", sa.Integer),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("codes", JSONType, nullable=False),
    sa.Column("device", sa.String(100)),
    sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "meeting_id", "started_at"),
)

# codes given to a ballot's free-text answer by a coder (role "coder") or agreed after
# reconciliation (role "final"); keyed by the ballot's submission id and question, never a person
codings = sa.Table(
    "codings",
    metadata,
    sa.Column("submission_id", sa.String(36), primary_key=True),
    sa.Column("question", sa.String(100), primary_key=True),
    sa.Column("coder", sa.String(40), primary_key=True),
    sa.Column("role", sa.String(10), primary_key=True),
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), nullable=False),
    sa.Column("codebook", sa.String(100), nullable=False),
    sa.Column("codes", JSONType, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("coded_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('coder', 'final')", name="role"),
    sa.Index(None, "meeting_id"),
)

#: When residents may answer a meeting's ballot online (``sanhui serve --online``), in UTC.
online_windows = sa.Table(
    "online_windows",
    metadata,
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), primary_key=True),
    sa.Column("opens_at", UTCDateTime, nullable=False),
    sa.Column("closes_at", UTCDateTime, nullable=False),
    # a hearing's plan, read online before the positions (云听证): text, and images as base64
    sa.Column("plan_text", sa.Text),
    sa.Column("plan_images", JSONType),
    sa.CheckConstraint("closes_at > opens_at", name="order"),
)

#: The answers of repeat groups: one row per ballot, repeat, instance (1, 2, ...) and variable,
#: written with the ballot in its transaction (see :mod:`toolkit.store.repeats`).
repeat_rows = sa.Table(
    "repeat_rows",
    metadata,
    sa.Column(
        "submission_id",
        sa.String(36),
        sa.ForeignKey("submissions.submission_id"),
        primary_key=True,
    ),
    sa.Column("repeat", sa.String(100), primary_key=True),
    sa.Column("instance", sa.Integer, primary_key=True),
    sa.Column("variable", sa.String(100), primary_key=True),
    sa.Column("value", JSONType, nullable=False),
    sa.CheckConstraint("instance >= 1", name="instance"),
)
