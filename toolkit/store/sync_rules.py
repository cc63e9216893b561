"""The rules of :func:`toolkit.store.sync.sync`, table by table: how one site row lands in the target.

Each rule takes a source row and the target's row with the same key (or ``None``) and returns a
:class:`Decision`: *new* (insert it), *present*, *updated* (the few later changes a site makes to a
row, applied to the target's row), *conflicts* (the target keeps its own) or *skipped* (a reference
was not copied, or the row is damaged). :meth:`SyncRules.phases` lists the tables in copy order with
their rules; the driver in :mod:`toolkit.store.sync` reads, batches, writes and reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from toolkit.store import schema as t
from toolkit.store.store import PARTICIPANT_COLUMNS, Store, _check_answers, answers_hash

__all__ = ["TABLES", "Decision", "Outcome", "Phase", "SyncRules", "fast_answers_hash"]

#: The tables :func:`~toolkit.store.sync.sync` copies, in the order it copies them.
TABLES: tuple[str, ...] = (
    "instruments",
    "meetings",
    "participants",
    "participant_names",
    "attendance",
    "submissions",
    "ballot_codes",
)

Outcome = Literal["new", "present", "updated", "conflicts", "skipped"]


@dataclass
class Decision:
    """How one source row lands in the target."""

    outcome: Outcome
    insert: dict[str, Any] | None = None
    update: dict[str, Any] | None = None
    reason: str | None = None
    block: bool = False  # rows referencing this one are skipped


@dataclass
class Phase:
    """One table: read from the source in ``key`` order, decided row by row with ``decide``."""

    name: str
    table: sa.Table
    key: tuple[str, ...]
    compare: tuple[str, ...]  # target columns read to decide
    decide: Callable[[Mapping[str, Any], Mapping[str, Any] | None], Decision]
    # source columns read first; the full rows are fetched only for keys the target lacks
    light: tuple[str, ...] | None = None
    # run once before the phase (reads what the rules need of the target)
    before: Callable[[], None] | None = None


class SyncRules:
    """The per-table rules of one sync, and what earlier tables left for later ones: the
    instruments and meetings not copied (their meetings, ballots, codes are skipped) and the
    target's meetings."""

    def __init__(self, source_url: str, target: Store, *, verify_answers: bool) -> None:
        self.source_url = source_url
        self.target = target
        self.verify_answers = verify_answers
        self.blocked_instruments: set[tuple[str, str]] = set()
        self.blocked_meetings: set[str] = set()
        # meeting id -> (instrument id, version, subject ids), as the target holds it
        self.target_meetings: dict[str, tuple[str, str, tuple[str, ...]]] = {}

    def phases(self) -> list[Phase]:
        """The tables in copy order (:data:`TABLES`), each with its key and rule."""
        phases = [
            Phase(
                "instruments",
                t.instruments,
                ("instrument_id", "version"),
                ("instrument_id", "version", "content_hash"),
                self.instrument,
            ),
            Phase(
                "meetings",
                t.meetings,
                ("meeting_id",),
                tuple(c.name for c in t.meetings.columns),
                self.meeting,
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
                ("submission_id", "meeting_id", "answers_hash", "status", "void_reason"),
                self.submission,
                light=("submission_id", "meeting_id", "answers_hash", "status", "void_reason"),
            ),
            Phase(
                "ballot_codes",
                t.ballot_codes,
                ("code_hash",),
                ("code_hash", "meeting_id", "used_at", "submission_id", "scheme"),
                self.ballot_code,
            ),
        ]
        assert tuple(p.name for p in phases) == TABLES
        return phases

    def block(self, phase: str, key: tuple[Any, ...]) -> None:
        """Record a row that rows of later tables must not reference (after its batch committed)."""
        if phase == "instruments":
            self.blocked_instruments.add((str(key[0]), str(key[1])))
        else:
            self.blocked_meetings.add(str(key[0]))

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

    def instrument(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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

    def meeting(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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
        update = (
            {"status": "closed"}
            if row["status"] == "closed" and there["status"] != "closed"
            else None
        )
        if differs:
            return Decision(
                "conflicts",
                update=update,
                reason=f"meeting exists in the target with another {', '.join(differs)}; the "
                "target keeps its own (its ballots are copied).",
            )
        return Decision("updated", update=update) if update else Decision("present")

    def participant(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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

    def name(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
        if there is None:
            return Decision("new", insert=dict(row))
        if there["name"] != row["name"] or there["room"] != row["room"]:
            # never quote a name: only the id goes into the report
            return Decision(
                "conflicts",
                reason="the target holds another name or room for this participant; kept.",
            )
        return Decision("present")

    def attendance(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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

    def submission(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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

    def ballot_code(self, row: Mapping[str, Any], there: Mapping[str, Any] | None) -> Decision:
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
