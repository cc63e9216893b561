"""The rules of :func:`toolkit.store.sync.sync` for cases: cases, their meetings, outcomes and
rectification items (see :mod:`toolkit.store.sync_rules` for the other tables).

A case's meetings, outcomes and items are copied only when the case is in the target and is the same
case (same title and kind); a link, an outcome or an item naming a meeting that was not copied is
skipped. Rectification items are numbered by each store on its own, so the site's number is not
kept: an item is found in the target by its case, creation time, subject and text, and a new one
takes the target's next number.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from toolkit.store.cases_schema import case_meetings, case_outcomes, cases, rectification_items
from toolkit.store.sync_rules import Decision, Phase, Row, SyncRules, columns, later_version

__all__ = ["CaseRules"]

#: What the Store may change on a rectification item after adding it (``update_rectification``).
ITEM_CHANGES = ("status", "evidence", "due_date", "followup_meeting_id")


class CaseRules:
    """The rules of the case tables; ``rules`` holds what the meetings phases left (the meetings
    copied and not)."""

    def __init__(self, rules: SyncRules) -> None:
        self.rules = rules
        self.blocked_cases: set[str] = set()
        self.blocked_links: set[tuple[str, str]] = set()
        self.target_cases: set[str] = set()
        # (case id, sequence) -> meeting id, and the (case id, meeting id) links, in the target
        self.target_sequences: dict[tuple[str, int], str] = {}
        self.target_links: set[tuple[str, str]] = set()

    def phases(self) -> list[Phase]:
        """The case tables in copy order, each with its key and rule."""
        return [
            Phase(
                "cases",
                cases,
                ("case_id",),
                columns(cases),
                self.case,
                blocks=lambda key: self.blocked_cases.add(str(key[0])),
            ),
            Phase(
                "case_meetings",
                case_meetings,
                ("case_id", "meeting_id"),
                columns(case_meetings),
                self.case_meeting,
                before=self.load_target_cases,
                blocks=lambda key: self.blocked_links.add((str(key[0]), str(key[1]))),
            ),
            Phase(
                "case_outcomes",
                case_outcomes,
                ("case_id", "meeting_id"),
                columns(case_outcomes),
                self.outcome,
                before=self.load_target_links,
            ),
            Phase(
                "rectification_items",
                rectification_items,
                ("item_id",),
                columns(rectification_items),
                self.item,
                match=("case_id", "created_at", "subject", "item"),
            ),
        ]

    def load_target_cases(self) -> None:
        """Read the target's cases and their meetings' places (after the cases phase)."""
        with self.rules.target.engine.connect() as connection:
            self.target_cases = set(connection.execute(sa.select(cases.c.case_id)).scalars())
            links = connection.execute(
                sa.select(
                    case_meetings.c.case_id, case_meetings.c.sequence, case_meetings.c.meeting_id
                )
            ).all()
        self.target_sequences = {(r[0], r[1]): r[2] for r in links}

    def load_target_links(self) -> None:
        """Read the target's case meetings (after they were copied)."""
        with self.rules.target.engine.connect() as connection:
            links = connection.execute(
                sa.select(case_meetings.c.case_id, case_meetings.c.meeting_id)
            ).all()
        self.target_links = {(r[0], r[1]) for r in links}

    def case_copied(self, case: str) -> bool:
        return case not in self.blocked_cases and case in self.target_cases

    def case(self, row: Row, there: Row | None) -> Decision:
        """A case may be closed after a sync; its title and kind make it the same case."""
        if there is None:
            return Decision("new", insert=dict(row))
        differs = [c for c in ("title", "kind") if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"case exists in the target with another {', '.join(differs)}; the target "
                "keeps its own and this case's meetings, outcomes and items are not copied. "
                "Rename one of the cases.",
                block=True,
            )
        others = ("street", "community", "building", "opened_on", "note")
        differs = [c for c in others if there[c] != row[c]]
        update = None
        if row["closed_on"] is not None and there["closed_on"] != row["closed_on"]:
            if there["closed_on"] is None:
                update = {"closed_on": row["closed_on"]}
            else:
                differs.append("closed_on")
        if differs:
            return Decision(
                "conflicts",
                update=update,
                reason=f"case exists in the target with another {', '.join(differs)}; the target "
                "keeps its own (its meetings and items are copied).",
            )
        return Decision("updated", update=update) if update else Decision("present")

    def case_meeting(self, row: Row, there: Row | None) -> Decision:
        """A case's meeting is linked once, at its place in the case: never changed."""
        case, meeting = str(row["case_id"]), str(row["meeting_id"])
        if not self.case_copied(case):
            return Decision("skipped", reason=f"case `{case}` was not copied.", block=True)
        if not self.rules.meeting_copied(meeting):
            return Decision("skipped", reason=f"meeting `{meeting}` was not copied.", block=True)
        if there is None:
            taken = self.target_sequences.get((case, row["sequence"]))
            if taken is not None and taken != meeting:
                return Decision(
                    "conflicts",
                    reason=f"the target's case `{case}` has meeting `{taken}` in place "
                    f"{row['sequence']}; kept, and this meeting's outcome is not copied.",
                    block=True,
                )
            return Decision("new", insert=dict(row))
        differs = [c for c in ("sequence", "stage") if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"the target links this meeting to case `{case}` with another "
                f"{', '.join(differs)}; kept, and its outcome is not copied.",
                block=True,
            )
        return Decision("present")

    def outcome(self, row: Row, there: Row | None) -> Decision:
        """An outcome recorded again (``record_outcome`` replaces it) arrives when later."""
        link = (str(row["case_id"]), str(row["meeting_id"]))
        if (
            not self.case_copied(link[0])
            or link in self.blocked_links
            or link not in self.target_links
        ):
            return Decision(
                "skipped", reason=f"meeting `{link[1]}` of case `{link[0]}` was not copied."
            )
        if there is None:
            return Decision("new", insert=dict(row))
        content = ("positions", "agreement", "parties", "terms", "verdict", "rule", "note")
        return later_version(row, there, content, "recorded_at", "this outcome")

    def item(self, row: Row, there: Row | None) -> Decision:
        """A rectification item moves on after a sync (status, evidence, due date, follow-up
        meeting): the later ``updated_at`` wins, as in ``update_rectification``."""
        case, number = str(row["case_id"]), row["item_id"]
        if not self.case_copied(case):
            return Decision("skipped", reason=f"its case `{case}` was not copied.")
        for name in ("source_meeting_id", "followup_meeting_id"):
            meeting = row[name]
            if meeting is not None and not self.rules.meeting_copied(meeting):
                return Decision(
                    "skipped",
                    reason=f"item #{number} of case `{case}`: its {name} `{meeting}` was not "
                    "copied.",
                )
        if there is None:
            insert: dict[str, Any] = {k: v for k, v in row.items() if k != "item_id"}
            return Decision("new", insert=insert)  # numbered by the target
        differs = [c for c in ("source", "source_ref", "source_meeting_id") if there[c] != row[c]]
        if differs:
            return Decision(
                "conflicts",
                reason=f"item #{number} of case `{case}` is #{there['item_id']} in the target, "
                f"with another {', '.join(differs)}; kept.",
            )
        return later_version(
            row, there, ITEM_CHANGES, "updated_at", f"item #{number} of case `{case}`"
        )
