"""The hearing (听证会) report: positions per option, by floor and by how strongly affected,
consensus, and the concerns raised.

Groups of fewer than :data:`~toolkit.report.meeting.MIN_CELL` raters are not shown by group (their
counts are suppressed), so no small set of neighbours can be singled out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import labels
from toolkit.analysis.hearing import (
    concern_cooccurrence,
    concern_frequency,
    position_association,
    position_consensus,
    position_crosstab,
    position_shares,
)
from toolkit.errors import DataError
from toolkit.labels import by_language
from toolkit.report.page import Section, html_table, paragraph

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["hearing_report_data", "hearing_sections"]

MIN_CELL = 5
OPTIONS = ("option_1", "option_2", "option_3")
WORDS = by_language(labels.HEARING_WORDS)
COLUMNS = by_language(labels.HEARING_COLUMNS)


def hearing_report_data(store: Store, meeting_id: str) -> dict[str, Any]:
    """Every table of a hearing report, tidy (no rounding)."""
    meeting = store.meeting(meeting_id)
    if meeting.kind != "hearing":
        raise DataError(f"meeting {meeting_id} is a {meeting.kind} meeting, not a hearing.")
    data = store.responses(meeting_id)
    data = data[data["status"] == "valid"]
    items = [o for o in OPTIONS if o in data and data[o].notna().any()]
    result: dict[str, Any] = {"meeting": meeting, "n": len(data), "items": items}
    if not len(data) or not items:
        return result
    result["shares"] = position_shares(data, items=items)
    result["consensus"] = position_consensus(data, items=items)
    for key, by, subset in (
        ("by_floor", "floor_band", data[data.get("affected") == "directly"] if "affected" in data
         else data),
        ("by_affected", "affected", data),
    ):  # fmt: skip
        if by not in data:
            continue
        subset = pd.DataFrame(subset)
        table = position_crosstab(subset, item=items[0], by=by)
        small = table["n"] < MIN_CELL
        table.loc[small, ["count", "estimate"]] = pd.NA
        result[key] = table[~small]
        kept = subset[subset[by].isin(table.loc[~small, by].unique())]
        try:
            result[f"{key}_test"] = position_association(kept, item=items[0], by=by)
        except DataError:
            result[f"{key}_test"] = None
    concerns = [c for c in data.columns if str(c).startswith("concerns__")]
    if concerns:
        result["concerns"] = concern_frequency(data)
        result["pairs"] = concern_cooccurrence(data).head(5)
    return result


def _ci(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [
            "—" if pd.isna(lo) else f"{lo:.0%}–{hi:.0%}"
            for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)
        ],
        index=frame.index,
    )


def _pct(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "—" if pd.isna(v) else f"{v:.0%}")


def hearing_sections(data: dict[str, Any], *, language: str = "zh") -> list[Section]:
    """The report's sections as (heading, HTML fragments)."""
    w, c = WORDS[language], COLUMNS[language]
    sections: list[Section] = []
    if "shares" not in data:
        return [(w["positions"], [paragraph(w["ballots"].format(n=data["n"]))])]
    shares = data["shares"].copy()
    shares["ci"] = _ci(shares)
    shares["estimate"] = _pct(shares["estimate"])
    sections.append(
        (
            w["positions"],
            [
                paragraph(w["ballots"].format(n=data["n"])),
                html_table(shares[["item", "level", "count", "n", "estimate", "ci"]], columns=c),
                paragraph(w["interval"], note=True),
            ],
        )
    )
    for key in ("by_floor", "by_affected"):
        if key not in data:
            continue
        table = data[key].copy()
        by = table.columns[0]
        table["estimate"] = _pct(table["estimate"])
        levels = list(dict.fromkeys(table["level"]))
        wide = table.pivot(index=by, columns="level", values="estimate")[levels].reset_index()
        wide.columns.name = None
        fragments = [html_table(wide), paragraph(w["suppressed"], note=True)]
        test = data.get(f"{key}_test")
        if test is not None:
            row = test.iloc[0]
            fragments.append(
                paragraph(
                    w["test"].format(
                        statistic=row["statistic"],
                        df=int(row["df"]),
                        p=row["p_value"],
                        v=row["effect_size"],
                        e=row["min_expected"],
                        warn=w["small"] if row["min_expected"] < 5 else "",
                    )
                )
            )
        sections.append((w[key], fragments))
    consensus = data["consensus"].copy()
    consensus["estimate"] = consensus["estimate"].map(lambda v: f"{v:.2f}")
    sections.append(
        (
            w["consensus"],
            [html_table(consensus, columns=c), paragraph(w["consensus_note"], note=True)],
        )
    )
    if "concerns" in data:
        concerns = data["concerns"].copy()
        concerns["ci"] = _ci(concerns)
        concerns["estimate"] = _pct(concerns["estimate"])
        pairs = data["pairs"].copy()
        pairs["effect_size"] = pairs["effect_size"].map(lambda v: "—" if pd.isna(v) else f"{v:.2f}")
        sections.append(
            (w["concerns"], [html_table(concerns[["level", "count", "n", "estimate", "ci"]],
                                        columns=c)])
        )  # fmt: skip
        sections.append(
            (w["pairs"], [html_table(pairs[["level", "level_other", "count", "effect_size"]],
                                     columns=c)])
        )  # fmt: skip
    return sections
