"""The coordination meeting (协调会) report: the agreement recorded, the parties' own view of it,
and how they rated the way the meeting was run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import labels
from toolkit.analysis import proportion_ci, satisfaction_rates
from toolkit.errors import DataError
from toolkit.labels import by_language
from toolkit.report.page import Section, html_table, paragraph

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["coordination_report_data", "coordination_sections"]

PROCESS_ITEMS = ("process", "mediator", "information")
WORDS = by_language(labels.COORDINATION_WORDS)


def coordination_report_data(store: Store, meeting_id: str) -> dict[str, Any]:
    """Every table of a coordination meeting report, tidy (no rounding)."""
    meeting = store.meeting(meeting_id)
    if meeting.kind != "coordination":
        raise DataError(f"meeting {meeting_id} is a {meeting.kind} meeting, not a coordination.")
    links = store.case_meetings()
    linked = links[links["meeting_id"] == meeting_id]
    result: dict[str, Any] = {"meeting": meeting, "outcome": linked}
    data = store.responses(meeting_id)
    data = data[data["status"] == "valid"]
    result["n"] = len(data)
    if len(data) and "agreement" in data:
        answers = data["agreement"].dropna().astype(object)
        levels = list(data["agreement"].cat.categories)
        counts = [int((answers == level).sum()) for level in levels]
        views = proportion_ci(counts, [len(answers)] * len(levels))
        views.insert(0, "level", levels)
        result["views"] = views
    items = [i for i in PROCESS_ITEMS if i in data]
    if len(data) and items:
        rates = satisfaction_rates(data, items=items)
        result["process"] = rates[rates["measure"] == "broad"]
    return result


def _ci(frame: pd.DataFrame) -> list[str]:
    return [
        "—" if pd.isna(lo) else f"{lo:.0%}–{hi:.0%}"
        for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
    ]


def coordination_sections(data: dict[str, Any], *, language: str = "zh") -> list[Section]:
    """The report's sections as (heading, HTML fragments)."""
    w = WORDS[language]
    outcome: list[str] = []
    if data["outcome"].empty:
        outcome.append(paragraph(w["no_case"]))
    for row in data["outcome"].to_dict("records"):
        agreement = w.get(str(row["agreement"]), "—")
        parties = "—" if pd.isna(row["parties"]) else int(row["parties"])
        outcome.append(paragraph(f"{row['case_id']}: " + w["agreement"].format(
            agreement=agreement, parties=parties)))  # fmt: skip
        if row["terms"]:
            outcome.append(paragraph(w["terms"] + "；".join(row["terms"])))
    sections: list[Section] = [(w["outcome"], outcome)]
    for key in ("views", "process"):
        if key not in data:
            continue
        table = data[key].copy()
        table["95% CI"] = _ci(table)
        table["estimate"] = table["estimate"].map(lambda v: "—" if pd.isna(v) else f"{v:.0%}")
        first = "level" if key == "views" else "item"
        sections.append(
            (
                w[key],
                [
                    paragraph(w["ballots"].format(n=data["n"])),
                    html_table(table[[first, "count", "n", "estimate", "95% CI"]]),
                    paragraph(w["interval"], note=True),
                ],
            )
        )
    return sections
