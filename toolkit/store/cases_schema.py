"""The tables of cases (议题): an issue followed through its meetings, outcomes and rectification.

A case links the meetings held about one issue in order (hearing → coordination → evaluation → a
follow-up evaluation), records each stage's outcome, and keeps the rectification list (整改) that an
evaluation produced. The tables live on the store's one :data:`toolkit.store.schema.metadata`; the
Alembic revision ``0006_cases`` builds them.

Nothing here refers to a person: positions and verdicts are counts and decisions of a meeting, never
ballots.

>>> sorted(name for name in CASE_TABLES)
['case_meetings', 'case_outcomes', 'cases', 'rectification_items']
"""

from __future__ import annotations

import sqlalchemy as sa

from toolkit.store.schema import JSONType, UTCDateTime, metadata

__all__ = [
    "AGREEMENTS",
    "CASE_STAGES",
    "CASE_TABLES",
    "RECTIFICATION_SOURCES",
    "RECTIFICATION_STATUSES",
    "VENUES",
    "case_meetings",
    "case_outcomes",
    "cases",
    "rectification_items",
]

#: Where a meeting is held: a residential community, an office or industrial park, or a chat group.
VENUES: tuple[str, ...] = ("community", "park", "online")
#: The stage a meeting serves in its case.
CASE_STAGES: tuple[str, ...] = ("hearing", "coordination", "evaluation", "follow_up")
#: A coordination meeting's result.
AGREEMENTS: tuple[str, ...] = ("reached", "partial", "none")
#: Where a rectification item came from: a badly rated ballot item, or a written comment.
RECTIFICATION_SOURCES: tuple[str, ...] = ("low_rating", "comment")
#: The state of a rectification item.
RECTIFICATION_STATUSES: tuple[str, ...] = ("open", "in_progress", "done", "not_accepted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("street", sa.String(100)),
    sa.Column("community", sa.String(100)),
    sa.Column("building", sa.String(100)),
    sa.Column("opened_on", sa.Date),
    sa.Column("closed_on", sa.Date),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

case_meetings = sa.Table(
    "case_meetings",
    metadata,
    sa.Column(
        "case_id",
        sa.String(100),
        sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id"), primary_key=True),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.UniqueConstraint("case_id", "sequence"),
    sa.CheckConstraint(_in("stage", CASE_STAGES), name="stage"),
    sa.Index(None, "meeting_id"),
)

case_outcomes = sa.Table(
    "case_outcomes",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("meeting_id", sa.String(100), primary_key=True),
    # hearing: {option: {position: count}}; counts of a meeting, never single ballots
    sa.Column("positions", JSONType),
    # coordination: reached / partial / none, the parties at the table and the signed terms
    sa.Column("agreement", sa.String(10)),
    sa.Column("parties", sa.Integer),
    sa.Column("terms", JSONType),
    # evaluation: the verdict (满意 / 基本满意 / 不满意) and the rule that gave it
    sa.Column("verdict", sa.String(20)),
    sa.Column("rule", sa.String(50)),
    sa.Column("note", sa.Text),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["case_id", "meeting_id"],
        ["case_meetings.case_id", "case_meetings.meeting_id"],
        ondelete="CASCADE",
    ),
    sa.CheckConstraint(_in("agreement", AGREEMENTS), name="agreement"),
)

rectification_items = sa.Table(
    "rectification_items",
    metadata,
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "case_id",
        sa.String(100),
        sa.ForeignKey("cases.case_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    # the rated ballot item (e.g. ``wuye__efficiency``) or the comment's gist
    sa.Column("source_ref", sa.Text),
    sa.Column("source_meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id")),
    sa.Column("due_date", sa.Date),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("followup_meeting_id", sa.String(100), sa.ForeignKey("meetings.meeting_id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(_in("source", RECTIFICATION_SOURCES), name="source"),
    sa.CheckConstraint(_in("status", RECTIFICATION_STATUSES), name="status"),
    sa.Index(None, "case_id"),
)

CASE_TABLES: dict[str, sa.Table] = {
    table.name: table for table in (cases, case_meetings, case_outcomes, rectification_items)
}
