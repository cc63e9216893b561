"""The rules of :func:`toolkit.store.sync.sync`, table by table: how one site row lands in the target.

Each rule takes a source row and the target's row with the same key (or ``None``) and returns a
:class:`Decision`: *new* (insert it), *present*, *updated* (the few later changes a site makes to a
row, applied to the target's row), *conflicts* (the target keeps its own) or *skipped* (a reference
was not copied, or the row is damaged). :meth:`SyncRules.phases` lists the tables of meetings and
ballots in copy order with their rules, :mod:`toolkit.store.sync_case_rules` those of cases; the
driver in :mod:`toolkit.store.sync` reads, batches, writes and reports. The rules themselves are
written down in the documentation of :mod:`toolkit.store.sync`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.store import schema as t
from toolkit.store.store import PARTICIPANT_COLUMNS, Store, _check_answers, answers_hash

__all__ = [
    "TABLES",
    "Decision",
    "Outcome",
    "Phase",
    "Row",
    "SyncRules",
    "columns",
    "fast_answers_hash",
    "later_version",
]

#: The tables :func:`~toolkit.store.sync.sync` copies, in the order it copies them.
TABLES: tuple[str, ...] = (
    "instruments",
    "meetings",
    "participants",
    "participant_names",
    "attendance",
    "submissions",
    "repeat_rows",
    "ballot_codes",
    "meeting_closings",
    "turns",
    "codings",
    "online_windows",
    "cases",
    "case_meetings",
    "case_outcomes",
    "rectification_items",
)

Outcome = Literal["new", "present", "updated", "conflicts", "skipped"]
Row = Mapping[str, Any]


@dataclass
class Decision:
    """How one source row lands in the target."""

    outcome: Outcome
    insert: dict[str, Any] | None = None
    update: dict[str, Any] | None = None  # applied to the target's row (by its primary key)
    reason: str | None = None
    block: bool = False  # rows referencing this one are skipped


@dataclass
class Phase:
    """One table: read from the source in ``key`` order, decided row by row with ``decide``."""

    name: str
    table: sa.Table
    key: tuple[str, ...]
    compare: tuple[str, ...]  # target columns read to decide (the primary key among them)
    decide: Callable[[Row, Row | None], Decision]
    # source columns read first; the full rows are fetched only for keys the target lacks
    light: tuple[str, ...] | None = None
    # run once before the phase (reads what the rules need of the target)
    before: Callable[[], None] | None = None
    # run for each batch in its transaction, before the rows are decided
    prepare: Callable[[Connection, Sequence[Row]], None] | None = None
    # columns finding the row in the target when they are not ``key`` (looked up by the first)
    match: tuple[str, ...] | None = None
    # records a row that rows of later tables must not reference (after its batch committed)
    blocks: Callable[[tuple[Any, ...]], None] | None = None


def columns(table: sa.Table) -> tuple[str, ...]:
    """Every column of ``table``, by name."""
    return tuple(c.name for c in table.columns)


def later_version(row: Row, there: Row, content: Sequence[str], stamp: str, what: str) -> Decision:
    """The rule of rows the Store replaces whole and stamps with the time (a coding's
    ``coded_at``, an outcome's ``recorded_at``, a rectification item's ``updated_at``): the same
    content is *present*; the site's later stamp replaces the content (*updated*); the target's
    later stamp keeps the target's (*present*: it holds a later version); equal stamps with other
    content are a *conflict*."""
    if all(there[c] == row[c] for c in content):
        return Decision("present")
    if row[stamp] > there[stamp]:
        return Decision("updated", update={**{c: row[c] for c in content}, stamp: row[stamp]})
    if row[stamp] < there[stamp]:
        return Decision("present")
    differs = ", ".join(c for c in content if there[c] != row[c])
    return Decision(
        "conflicts",
        reason=f"the target holds {what} with another {differs}, stamped at the same time; kept.",
    )


class SyncRules:
    """The rules of meetings, ballots and what hangs on them, and what earlier tables leave for
    later ones: the instruments, meetings and ballots not copied (rows referencing them are
    skipped), the target's meetings, and the target's copies of a batch's ballots."""

    def __init__(self, source_url: str, target: Store, *, verify_answers: bool) -> None:
        self.source_url = source_url
        self.target = target
        self.verify_answers = verify_answers
        self.blocked_instruments: set[tuple[str, str]] = set()
        self.blocked_meetings: set[str] = set()
        self.blocked_ballots: set[str] = set()
        # meeting id -> (instrument id, version, subject ids), as the target holds it
        self.target_meetings: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        # a batch's ballots as the target holds them: id -> (meeting id, answers or None)
        self.target_ballots: dict[str, tuple[str, Any]] = {}

    def phases(self) -> list[Phase]:
        """The tables of meetings and ballots in copy order, each with its key and rule."""
        ballot_columns = ("submission_id", "meeting_id", "answers_hash", "status", "void_reason")
        return [
            Phase(
                "instruments",
                t.instruments,
                ("instrument_id", "version"),
                ("instrument_id", "version", "content_hash"),
                self.instrument,
                blocks=lambda key: self.blocked_instruments.add((str(key[0]), str(key[1]))),
            ),
            Phase(
                "meetings",
                t.meetings,
                ("meeting_id",),
                columns(t.meetings),
                self.meeting,
                blocks=lambda key: self.blocked_meetings.add(str(key[0])),
            ),
            Phase(
                "participants",
                t.participants,
                ("participant_id",),
                PARTICIPANT_COLUMNS,
                self.participant,
            ),
            Phase(
                "participant_names",
                t.participant_names,
                ("participant_id",),
                ("participant_id", "name", "room"),
                self.name,
            ),
            Phase(
                "attendance",
                t.attendance,
                ("meeting_id", "participant_id"),
                ("meeting_id", "participant_id", "checked_in_at", "walk_in", "invited"),
                self.attendance,
                before=self.load_target_meetings,
            ),
            Phase(
                "submissions",
                t.submissions,
                ("submission_id",),
                ballot_columns,
                self.submission,
                light=ballot_columns,
                blocks=lambda key: self.blocked_ballots.add(str(key[0])),
            ),
            Phase(
                "repeat_rows",
                t.repeat_rows,
                ("submission_id", "repeat", "instance", "variable"),
                columns(t.repeat_rows),
                self.repeat_row,
                prepare=lambda connection, rows: self.load_ballots(connection, rows, answers=True),
            ),
            Phase(
                "ballot_codes",
                t.ballot_codes,
                ("code_hash",),
                ("code_hash", "meeting_id", "used_at", "submission_id", "scheme"),
                self.ballot_code,
            ),
            Phase(
                "meeting_closings",
                t.meeting_closings,
                ("meeting_id",),
                columns(t.meeting_closings),
                self.closing,
            ),
            Phase("turns", t.turns, ("turn_id",), columns(t.turns), self.turn),
            Phase(
                "codings",
                t.codings,
                ("submission_id", "question", "coder", "role"),
                columns(t.codings),
                self.coding,
                prepare=lambda connection, rows: self.load_ballots(connection, rows, answers=False),
            ),
            Phase(
                "online_windows",
                t.online_windows,
                ("meeting_id",),
                columns(t.online_windows),
                self.online_window,
            ),
        ]

    def load_target_meetings(self) -> None:
        """Read the target's meetings (after the meetings phase): references are checked there."""
        m = t.meetings
        with self.target.engine.connect() as connection:
            rows = connection.execute(
                sa.select(m.c.meeting_id, m.c.instrument_id, m.c.instrument_version, m.c.subjects)
            ).all()
        self.target_meetings = {
            r.meeting_id: (
                r.instrument_id,
                r.instrument_version,
                tuple(str(s["id"]) if isinstance(s, Mapping) else str(s) for s in r.subjects),
            )
            for r in rows
        }

    def load_ballots(self, connection: Connection, rows: Sequence[Row], *, answers: bool) -> None:
        """Read the target's copies of the ballots a batch's rows belong to."""
        s = t.submissions
        ids = sorted({str(r["submission_id"]) for r in rows})
        query = sa.select(s.c.submission_id, s.c.meeting_id, s.c.answers if answers else sa.null())
        found = connection.execute(query.where(s.c.submission_id.in_(ids))).all()
        self.target_ballots = {r[0]: (r[1], r[2]) for r in found}

    def meeting_copied(self, meeting: str | None) -> bool:
        """Whether the target holds the site's meeting (copied now or earlier, not conflicting)."""
        return meeting not in self.blocked_meetings and meeting in self.target_meetings

    def ballot_missing(self, ballot: str, meeting: str | None = None) -> Decision | None:
        """Skip a row of a ballot the target lacks or holds otherwise (a conflict, a ballot of a
        meeting not copied, of another meeting than ``meeting``); None when the ballot is there."""
        there = self.target_ballots.get(ballot)
        if ballot in self.blocked_ballots or there is None or not self.meeting_copied(there[0]):
            return Decision("skipped", reason=f"its ballot {ballot} was not copied.")
        if meeting is not None and there[0] != meeting:
            return Decision(
                "skipped",
                reason=f"its ballot {ballot} belongs to meeting `{there[0]}` in the target, not "
                f"`{meeting}`.",
            )
        return None

    def instrument(self, row: Row, there: Row | None) -> Decision:
        from toolkit.store.store import _loads_survey

        name = f"`{row['instrument_id']}` version {row['version']!r}"
        if there is not None:
            if there["content_hash"] == row["content_hash"]:
                return Decision("present")
            return Decision(
                "conflicts",
                reason=f"instrument {name} has other content in the target (content hash "
                f"{row['content_hash'][:12]}… here, {there['content_hash'][:12]}… there); its "
                "meetings and ballots are not copied. Give the changed instrument a new version.",
                block=True,
            )
        try:
            rebuilt = _loads_survey(row["yaml_text"], source=f"{self.source_url}, {name}")
            ok = rebuilt.content_hash == row["content_hash"]
        except Exception:  # any failure to load means the stored text is unusable
            ok = False
        if not ok:
            return Decision(
                "skipped",
                reason=f"instrument {name} does not load back to its content hash (a damaged "
                "file?); its meetings and ballots are not copied.",
                block=True,
            )
        return Decision("new", insert=dict(row))

    def meeting(self, row: Row, there: Row | None) -> Decision:
        instrument = (row["instrument_id"], row["instrument_version"])
        if instrument in self.blocked_instruments:
            return Decision(
                "skipped",
                reason=f"its instrument `{instrument[0]}` {instrument[1]!r} was not copied.",
                block=True,
            )
        if there is None:
            return Decision("new", insert=dict(row))
        identity = ("kind", "instrument_id", "instrument_version", "subjects")
        differs = [c for c in identity if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"meeting exists in the target with another {', '.join(differs)}; the "
                "target keeps its own and this meeting's ballots, codes and attendance are not "
                "copied. Rename one of the meetings at its site.",
                block=True,
            )
        others = ("title", "community", "street", "district", "date", "ballots_issued", "members")
        differs = [c for c in others if there[c] != row[c]]
        update: dict[str, Any] = {}
        if row["status"] == "closed" and there["status"] != "closed":
            update["status"] = "closed"
        if row["venue"] != there["venue"]:
            if there["venue"] == "community":  # the default: set at the site after a sync
                update["venue"] = row["venue"]
            else:
                differs.append("venue")
        if differs:
            return Decision(
                "conflicts",
                update=update or None,
                reason=f"meeting exists in the target with another {', '.join(differs)}; the "
                "target keeps its own (its ballots are copied).",
            )
        return Decision("updated", update=update) if update else Decision("present")

    def participant(self, row: Row, there: Row | None) -> Decision:
        if there is None:
            return Decision("new", insert=dict(row))
        differs = [c for c in PARTICIPANT_COLUMNS[1:] if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"participant exists in the target with another {', '.join(differs)}; "
                "the target keeps its own.",
            )
        return Decision("present")

    def name(self, row: Row, there: Row | None) -> Decision:
        if there is None:
            return Decision("new", insert=dict(row))
        if there["name"] != row["name"] or there["room"] != row["room"]:
            # never quote a name: only the id goes into the report
            return Decision(
                "conflicts",
                reason="the target holds another name or room for this participant; kept.",
            )
        return Decision("present")

    def attendance(self, row: Row, there: Row | None) -> Decision:
        meeting = str(row["meeting_id"])
        if meeting in self.blocked_meetings or meeting not in self.target_meetings:
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        if there is None:
            return Decision("new", insert=dict(row))
        update: dict[str, Any] = {}
        if row["invited"] and not there["invited"]:
            update["invited"] = True
        if row["checked_in_at"] is not None and there["checked_in_at"] is None:
            update["checked_in_at"] = row["checked_in_at"]
        clash = there["walk_in"] != row["walk_in"] or (
            row["checked_in_at"] is not None
            and there["checked_in_at"] is not None
            and row["checked_in_at"] != there["checked_in_at"]
        )
        if clash:
            return Decision(
                "conflicts",
                update=update or None,
                reason="the target records another check-in time or walk-in flag; kept.",
            )
        return Decision("updated", update=update) if update else Decision("present")

    def submission(self, row: Row, there: Row | None) -> Decision:
        decision = self._submission(row, there)
        decision.block = decision.outcome in ("conflicts", "skipped")  # its rows stay behind
        return decision

    def _submission(self, row: Row, there: Row | None) -> Decision:
        meeting = str(row["meeting_id"])
        if there is not None:
            if there["meeting_id"] != meeting:
                return Decision(
                    "conflicts",
                    reason=f"ballot is in the target for meeting `{there['meeting_id']}`, not "
                    f"`{meeting}`; not overwritten.",
                )
            if there["answers_hash"] != row["answers_hash"]:
                return Decision(
                    "conflicts",
                    reason="ballot is in the target with different answers (answers hash "
                    f"{row['answers_hash'][:12]}… here, {there['answers_hash'][:12]}… there); "
                    "not overwritten.",
                )
            if row["status"] == "void" and there["status"] != "void":
                return Decision(
                    "updated", update={"status": "void", "void_reason": row["void_reason"]}
                )
            return Decision("present")
        if meeting in self.blocked_meetings or meeting not in self.target_meetings:
            return Decision("skipped", reason=f"its meeting `{meeting}` was not copied.")
        if "answers" not in row:  # deleted from the source while syncing (no API does that)
            return Decision("skipped", reason="the ballot vanished from the source during sync.")
        instrument_id, version, subjects = self.target_meetings[meeting]
        if (row["instrument_id"], row["instrument_version"]) != (instrument_id, version):
            return Decision(
                "skipped",
                reason=f"ballot is for instrument `{row['instrument_id']}` "
                f"{row['instrument_version']!r}, but meeting `{meeting}` uses `{instrument_id}` "
                f"{version!r}.",
            )
        answers = row["answers"]
        try:
            intact = (
                isinstance(answers, Mapping) and fast_answers_hash(answers) == row["answers_hash"]
            )
            # strict UTF-8 (no lone surrogates), which PostgreSQL's JSONB insists on
            json.dumps(row["paradata"], ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError):
            intact = False
        if not intact:
            return Decision(
                "skipped",
                reason="the answers do not match their stored hash, or answers or paradata are not "
                "valid UTF-8 (a damaged or edited file?); not copied.",
            )
        if self.verify_answers:
            survey = self.target._survey(instrument_id, version)
            problems = _check_answers(survey, answers, subjects=subjects, require=False)
            if problems:
                return Decision(
                    "skipped", reason=f"answers fail the instrument's checks: {problems[0]}"
                )
        return Decision("new", insert=dict(row))

    def ballot_code(self, row: Row, there: Row | None) -> Decision:
        meeting = str(row["meeting_id"])
        if there is not None:
            if there["meeting_id"] != meeting:
                return Decision(
                    "conflicts",
                    reason=f"this code hash belongs to meeting `{there['meeting_id']}` in the "
                    "target; kept.",
                )
            if row["used_at"] is not None and there["used_at"] is None:
                return Decision(
                    "updated",
                    update={"used_at": row["used_at"], "submission_id": row["submission_id"]},
                )
            return Decision("present")
        if meeting in self.blocked_meetings or meeting not in self.target_meetings:
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        return Decision("new", insert=dict(row))

    def repeat_row(self, row: Row, there: Row | None) -> Decision:
        """A repeat row goes with its ballot, and must say what the ballot's answers say."""
        missing = self.ballot_missing(str(row["submission_id"]))
        if missing is not None:
            return missing
        answers = self.target_ballots[str(row["submission_id"])][1]
        instances = answers.get(row["repeat"]) if isinstance(answers, Mapping) else None
        number = row["instance"]
        instance = (
            instances[number - 1]
            if isinstance(instances, list) and 0 < number <= len(instances)
            else None
        )
        if not isinstance(instance, Mapping) or instance.get(row["variable"]) != row["value"]:
            return Decision(
                "skipped",
                reason=f"repeat `{row['repeat']}` {number} `{row['variable']}` does not match the "
                "ballot's answers (a damaged or edited file?); not copied.",
            )
        if there is None:
            return Decision("new", insert=dict(row))
        if there["value"] != row["value"]:
            return Decision("conflicts", reason="the target holds another value; kept.")
        return Decision("present")

    def closing(self, row: Row, there: Row | None) -> Decision:
        """A closing record is written once, when the meeting is closed: never changed."""
        meeting = str(row["meeting_id"])
        if not self.meeting_copied(meeting):
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        if there is None:
            return Decision("new", insert=dict(row))
        differs = [c for c in columns(t.meeting_closings) if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"the target holds another closing record (other {', '.join(differs)}); "
                "kept.",
            )
        return Decision("present")

    def turn(self, row: Row, there: Row | None) -> Decision:
        """A turn is recorded on the meeting's laptop: after a sync it may end, be undone (which
        wins, as void does for a ballot) or get more codes; nothing else is copied over it."""
        meeting = str(row["meeting_id"])
        if not self.meeting_copied(meeting):
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        if there is None:
            return Decision("new", insert=dict(row))
        fixed = ("meeting_id", "category", "seat", "started_at", "device")
        differs = [c for c in fixed if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts", reason=f"the target holds this turn with another {', '.join(differs)}."
            )
        update: dict[str, Any] = {}
        clash = []
        if row["undone"] and not there["undone"]:
            update["undone"] = True
            if there["ended_at"] != row["ended_at"]:
                update["ended_at"] = row["ended_at"]  # an undone turn keeps no end (None)
        elif there["undone"] and not row["undone"]:
            clash.append("undone")
        elif there["ended_at"] != row["ended_at"]:
            if there["ended_at"] is None:
                update["ended_at"] = row["ended_at"]
            else:  # reopened on the site, or ended at another time
                clash.append("ended_at")
        if list(there["codes"]) != list(row["codes"]):
            if set(there["codes"]) <= set(row["codes"]):
                update["codes"] = list(row["codes"])
            else:  # a code taken off on the site
                clash.append("codes")
        if clash:
            return Decision(
                "conflicts",
                update=update or None,
                reason=f"the target holds this turn with another {', '.join(clash)}; kept.",
            )
        return Decision("updated", update=update) if update else Decision("present")

    def coding(self, row: Row, there: Row | None) -> Decision:
        """A coding goes with its ballot; a coder's later coding of the answer replaces theirs."""
        meeting = str(row["meeting_id"])
        if not self.meeting_copied(meeting):
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        missing = self.ballot_missing(str(row["submission_id"]), meeting)
        if missing is not None:
            return missing
        if there is None:
            return Decision("new", insert=dict(row))
        if there["meeting_id"] != meeting:
            return Decision(
                "conflicts", reason=f"the target holds it for meeting `{there['meeting_id']}`."
            )
        return later_version(row, there, ("codebook", "codes", "note"), "coded_at", "this coding")

    def online_window(self, row: Row, there: Row | None) -> Decision:
        """A window's plan may be added after a sync; a moved window or another plan is a
        conflict (the Store keeps no time of the change, so which is newer is unknown)."""
        meeting = str(row["meeting_id"])
        if not self.meeting_copied(meeting):
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.")
        if there is None:
            return Decision("new", insert=dict(row))
        clash = [c for c in ("opens_at", "closes_at") if there[c] != row[c]]
        update = None
        plan = ("plan_text", "plan_images")
        if any(there[c] != row[c] for c in plan) and row["plan_text"] is not None:
            if there["plan_text"] is None:
                update = {c: row[c] for c in plan}
            else:
                clash.append("plan")
        if clash:
            return Decision(
                "conflicts",
                update=update,
                reason=f"the target holds another online window ({', '.join(clash)}); kept.",
            )
        return Decision("updated", update=update) if update else Decision("present")


def fast_answers_hash(answers: Mapping[str, Any]) -> str:
    """:func:`answers_hash`, faster for the flat answers every ballot has (same digest)."""
    flat = dict(answers)
    for name, value in flat.items():
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            continue
        if kind is list and all(type(v) is str for v in value):
            flat[name] = sorted(value)
            continue
        return answers_hash(answers)  # nested or unusual values: the general path
    if not all(type(name) is str for name in flat):
        return answers_hash(answers)
    text = json.dumps(
        flat, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
