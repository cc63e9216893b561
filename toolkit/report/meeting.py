"""The meeting report: the numbers of one evaluation meeting as tidy tables, and the HTML report.

:func:`meeting_report_data` computes everything the results sheet of an evaluation meeting (评议会)
shows, as plain DataFrames: ballots issued / returned / valid / void, strict, broad and
dissatisfaction rates with Wilson intervals per subject and item, the verdict under a declared
rule, the rectification list (counts of the ``rectify`` codes and the bottom-k items of each
subject), the comments as written, and turnout against the roster. Every rate computed from fewer
than ``min_cell`` raters (default 5) is suppressed: its counts and estimates are blanked and
``suppressed`` is True, so nothing is published about a handful of identifiable people.

:func:`render_meeting_report` executes ``notebooks/40_meeting_report.ipynb`` with the parameters
injected after its ``parameters`` cell (the papermill convention), then writes a self-contained
HTML file without code cells and without any script or style fetched from the network (optional
PDF through Chromium's print-to-PDF). ``sanhui report`` calls it.

Ballots are anonymous: the report reads the response table and the attendance table, never the
names table, and lists comments sorted by their text (not in the order they were handed in).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option, check_range, deprecated
from toolkit.errors import DataError, ParameterError, StoreError
from toolkit.exports.safe import suppress_small
from toolkit.labels import (
    GENDERS,
    REPORT_HEADINGS,
    REPORT_NOTES,
    REPORT_WORDS,
    ROLES,
    RULE_TEXTS,
    word,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toolkit.instrument import Survey
    from toolkit.store import Store

__all__ = [
    "MIN_CELL",
    "REPORT_NOTEBOOK",
    "REPORT_RULES",
    "MeetingReport",
    "format_rate",
    "meeting_report_data",
    "render_meeting_report",
    "report_tables",
    "show_optional_sections",
    "show_section",
    "suppress_small_cells",
]

#: Published cells computed from fewer raters than this are suppressed.
MIN_CELL = 5

#: The verdict rules a report can declare (see :func:`toolkit.analysis.evaluation_verdict`).
REPORT_RULES: tuple[str, ...] = ("majority_of_members", "plurality", "score_bands")

#: The parameterised notebook :func:`render_meeting_report` executes.
REPORT_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "40_meeting_report.ipynb"

_LANGUAGES = ("zh", "en")
_RATE_COLUMNS = ("count", "n", "estimate", "ci_low", "ci_high")
_ELEVATOR = "elevator"  # the non-per-subject grid of the ballot: the elevator project

_WORDS = REPORT_WORDS

_RULE_TEXT = RULE_TEXTS

_ROLE_LABELS: dict[str, dict[str, str]] = {**ROLES, **GENDERS}


def _word(key: str, language: str) -> str:
    return _WORDS[key][language]


# ----------------------------------------------------------------------------------------------
# the data
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingReport:
    """The numbers of one evaluation meeting, as tidy DataFrames (raw numbers, no rounding).

    Attributes
    ----------
    meeting_id, title, community, date, language
        The meeting, and the language of the ``label`` columns.
    rule : str
        The verdict rule applied (recorded in ``verdict["rule"]`` too); ``members`` the members
        it counted (``None`` unless the rule needs them).
    min_cell : int
        Cells with fewer raters than this are suppressed (``suppressed`` column).
    ballots : DataFrame
        ``measure`` (issued, returned, valid, void) and ``count`` (issued is <NA> if not recorded).
    rates : DataFrame
        One row per subject x item x measure: ``subject``, ``subject_label``, ``item``,
        ``item_label``, ``variable`` (the ballot column), ``measure`` (strict, broad,
        dissatisfied), ``count``, ``n`` (valid answers), ``estimate``, ``ci_low``, ``ci_high``
        (Wilson, 95 %), ``dont_know`` (不了解 answers), ``suppressed``.
    verdict : DataFrame
        The overall item of each subject under ``rule``: the output of
        :func:`toolkit.analysis.evaluation_verdict` with ``subject`` and ``subject_label`` first.
    rectify : DataFrame
        ``code``, ``label``, ``count`` (valid ballots ticking it), ``n`` (valid ballots),
        ``share``; codes in instrument order.
    bottom_items : DataFrame
        The items flagged by the ``bottom_k`` rule within each subject (lowest broad rate):
        ``subject``, ``subject_label``, ``item``, ``item_label``, ``estimate``, ``ci_low``,
        ``ci_high``, ``rank``, ``k``, ``note``.
    comments : DataFrame
        ``kind`` (``comments`` or ``rectify_other``) and ``text``, as written, sorted by text.
    turnout : DataFrame
        Turnout of the invited roster overall and by ``age_band``, ``role`` and ``gender``:
        ``by`` (``(all)`` for the overall row), ``group``, ``group_label``, ``count``
        (attended), ``n`` (invited), ``estimate``, ``ci_low``, ``ci_high``, ``suppressed``.
    walk_ins : int
        People checked in who were not on the roster (not in the turnout denominator).
    rates_by_role : DataFrame
        Broad rate of each subject's overall item by the rater's self-reported role (ballot
        profile), with ``suppressed`` for roles with fewer than ``min_cell`` raters.
    """

    meeting_id: str
    title: str
    community: str | None
    date: dt.date | None
    language: str
    rule: str
    members: int | None
    min_cell: int
    ballots: pd.DataFrame
    rates: pd.DataFrame
    verdict: pd.DataFrame
    rectify: pd.DataFrame
    bottom_items: pd.DataFrame
    comments: pd.DataFrame
    turnout: pd.DataFrame
    walk_ins: int
    rates_by_role: pd.DataFrame
    labels: Mapping[str, str] = field(default_factory=dict)

    def broad_rate(self, subject: str, item: str = "overall") -> float:
        """The broad rate (满意 + 基本满意) / valid of one subject's item (NaN if suppressed)."""
        rows = self.rates[
            (self.rates["subject"] == subject)
            & (self.rates["item"] == item)
            & (self.rates["measure"] == "broad")
        ]
        if rows.empty:
            raise ParameterError(
                f"no rate for subject {subject!r}, item {item!r} in meeting {self.meeting_id}; "
                f"subjects: {', '.join(pd.unique(self.rates['subject']).astype(str))}."
            )
        return float(rows["estimate"].iloc[0])


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    n: str = "n",
    columns: Sequence[str] = _RATE_COLUMNS,
    min_cell: int = MIN_CELL,
) -> pd.DataFrame:
    """Deprecated: use :func:`toolkit.exports.suppress_small` with ``below=min_cell`` and
    ``keep_empty=True`` (the same rule; ``columns`` missing from ``table`` are skipped here).
    """
    deprecated(
        "toolkit.report.meeting.suppress_small_cells",
        "toolkit.exports.suppress_small(table, below=..., keep_empty=True)",
    )
    return _suppress(table, n=n, columns=columns, min_cell=min_cell)


def _suppress(
    table: pd.DataFrame,
    *,
    n: str = "n",
    columns: Sequence[str] = _RATE_COLUMNS,
    min_cell: int = MIN_CELL,
) -> pd.DataFrame:
    """The report's small-cell rule: :func:`~toolkit.exports.suppress_small` on the columns the
    table has, publishing empty groups."""
    present = [c for c in columns if c in table.columns]
    return suppress_small(table, n=n, columns=present, below=min_cell, keep_empty=True)


def _subject_label(subject: Any, language: str) -> str:
    label = subject.label_en if language == "en" and subject.label_en else subject.label_zh
    return str(label)


def _grid_items(survey: Survey, question: str) -> list[tuple[str, str, str]]:
    """(item id, zh label, en label) of a grid question."""
    q = survey.question(question)
    return [(it.id, it.label.get("zh"), it.label.get("en")) for it in q.items]


def meeting_report_data(
    store: Store,
    meeting_id: str,
    *,
    language: str = "zh",
    rule: str = "majority_of_members",
    k: int = 2,
    min_cell: int = MIN_CELL,
    confidence: float = 0.95,
) -> MeetingReport:
    """Compute every table of the report of one evaluation meeting.

    Parameters
    ----------
    store : Store
        The ballot store.
    meeting_id : str
        An evaluation meeting of the store.
    language : {"zh", "en"}
        Language of the label columns.
    rule : {"majority_of_members", "plurality", "score_bands"}
        The verdict rule of the evaluating body, applied to each subject's overall item and
        recorded in the result. ``majority_of_members`` counts the meeting's ``members``.
    k : int
        Items flagged for rectification per subject (the ``bottom_k`` rule: the k lowest broad
        rates, ties at the cut all flagged).
    min_cell : int
        Rates from fewer raters than this are suppressed (default 5).
    confidence : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    MeetingReport
        Tidy tables; see :class:`MeetingReport`.

    Notes
    -----
    Rates are those of :func:`toolkit.analysis.satisfaction_rates` over the valid ballots
    (denominator: answers other than 不了解 and blanks; R: ``prop.test(x, n, correct = FALSE)``
    intervals, i.e. Wilson). Turnout is :func:`toolkit.analysis.turnout` over the invited
    roster (attended / invited).

    Examples
    --------
    >>> from toolkit.demo import demo_store
    >>> report = meeting_report_data(demo_store(), "S01-C01-M02")
    >>> report.ballots.set_index("measure")["count"].tolist()
    [75, 43, 43, 0]
    >>> round(report.broad_rate("juweihui"), 4)  # 39 of 41 valid answers
    0.9512
    """
    from toolkit.analysis import evaluation_verdict, satisfaction_rates, turnout

    check_option("language", language, _LANGUAGES)
    check_option("rule", rule, REPORT_RULES)
    check_range("k", k, low=1)
    check_range("min_cell", min_cell, low=1)
    meeting = store.meeting(meeting_id)
    if meeting.kind != "evaluation":
        raise ParameterError(
            f"meeting {meeting_id} is a {meeting.kind} meeting; the report is for evaluation "
            "meetings (评议会), which have ballots. Pick an evaluation meeting."
        )
    survey = store.instrument(meeting.instrument_id, meeting.instrument_version)
    everything = store.responses(meeting_id, include_void=True)
    valid = everything[everything["status"] == "valid"].reset_index(drop=True)
    issued = meeting.ballots_issued
    ballots = pd.DataFrame(
        {
            "measure": ["issued", "returned", "valid", "void"],
            "count": pd.array(
                [issued, len(everything), len(valid), int((everything["status"] == "void").sum())],
                dtype="Int64",
            ),
        }
    )

    # --- rates per subject and item --------------------------------------------------------------
    items = _grid_items(survey, "ratings")
    variables: list[tuple[str, str, str, str]] = []  # (variable, subject, subject label, item)
    labels: dict[str, str] = {}
    for subject in meeting.subjects:
        labels[subject.id] = _subject_label(subject, language)
        for item_id, zh, en in items:
            variables.append((f"{subject.id}__{item_id}", subject.id, labels[subject.id], item_id))
            labels[item_id] = en if language == "en" and en else zh
    if _ELEVATOR in {q.id for q in survey.questions}:
        elevator = [
            (item_id, zh, en)
            for item_id, zh, en in _grid_items(survey, _ELEVATOR)
            if item_id in valid.columns
        ]
        answered = any(
            valid[item_id].isin(["satisfied", "basically_satisfied", "dissatisfied"]).any()
            for item_id, _, _ in elevator
        )
        if answered:
            labels[_ELEVATOR] = survey.page_of(_ELEVATOR).title.get(language)
            for item_id, zh, en in elevator:
                variables.append((item_id, _ELEVATOR, labels[_ELEVATOR], item_id))
                labels[item_id] = en if language == "en" and en else zh
    columns = [v for v, *_ in variables]
    raw = satisfaction_rates(valid, items=columns, confidence=confidence)
    info = pd.DataFrame(variables, columns=["variable", "subject", "subject_label", "item"])
    info["item_label"] = info["item"].map(labels)
    info["dont_know"] = [int((valid[v] == "dont_know").sum()) for v in columns]
    rates = info.merge(raw.rename(columns={"item": "variable"}), on="variable", how="left")
    rates = rates[
        [
            "subject",
            "subject_label",
            "item",
            "item_label",
            "variable",
            "measure",
            "count",
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "method",
            "confidence",
            "dont_know",
        ]
    ]
    rates = _suppress(rates, columns=[*_RATE_COLUMNS, "dont_know"], min_cell=min_cell).reset_index(
        drop=True
    )

    # --- verdict of each subject's overall item -----------------------------------------------------
    overall = [f"{s.id}__overall" for s in meeting.subjects]
    members: int | None = None
    if rule == "majority_of_members":
        members = meeting.members if meeting.members is not None else len(valid)
    if overall and len(valid):
        verdict = evaluation_verdict(valid, items=overall, rule=rule, members=members)
    else:
        verdict = pd.DataFrame({"item": overall, "rule": rule, "verdict": None})
    verdict.insert(0, "subject", [v.split("__")[0] for v in verdict["item"]])
    verdict.insert(1, "subject_label", verdict["subject"].map(labels))

    # --- rectification: codes ticked and the bottom-k items -----------------------------------------
    rectify_codes = survey.scale(survey.question("rectify"))
    rectify = pd.DataFrame(
        {
            "code": [c.value for c in rectify_codes.choices],
            "label": [c.label.get(language) for c in rectify_codes.choices],
        }
    )
    rectify["count"] = [
        int(pd.to_numeric(valid[f"rectify__{c}"], errors="coerce").fillna(0).sum())
        if f"rectify__{c}" in valid.columns
        else 0
        for c in rectify["code"]
    ]
    rectify["n"] = len(valid)
    rectify["share"] = rectify["count"] / len(valid) if len(valid) else np.nan
    bottom: list[pd.DataFrame] = []
    for subject_id in dict.fromkeys(info["subject"]):
        cols = [
            v
            for v, s, _, item in variables
            if s == subject_id and item != "overall" and int(valid[v].notna().sum()) > 0
        ]
        if not cols or not len(valid):
            continue
        flagged = evaluation_verdict(valid, items=cols, rule="bottom_k", k=k)
        flagged = flagged[flagged["verdict"] == "整改"].copy()
        flagged.insert(0, "subject", subject_id)
        bottom.append(flagged)
    bottom_items = (
        pd.concat(bottom, ignore_index=True)
        if bottom
        else pd.DataFrame(columns=["subject", "item", "estimate", "ci_low", "ci_high", "rank"])
    )
    bottom_items["item"] = [str(v).split("__")[-1] for v in bottom_items["item"]]
    bottom_items.insert(1, "subject_label", bottom_items["subject"].map(labels))
    bottom_items.insert(3, "item_label", bottom_items["item"].map(labels))
    keep = ["subject", "subject_label", "item", "item_label", "valid", "estimate", "ci_low"]
    keep += ["ci_high", "rank", "k", "note"]
    bottom_items = bottom_items[[c for c in keep if c in bottom_items.columns]]
    bottom_items = _suppress(
        bottom_items.rename(columns={"valid": "n"}),
        columns=["n", "estimate", "ci_low", "ci_high"],
        min_cell=min_cell,
    )
    order = {subject: i for i, subject in enumerate(dict.fromkeys(info["subject"]))}
    bottom_items = (
        bottom_items.assign(_order=bottom_items["subject"].map(order))
        .sort_values(["_order", "rank"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )

    # --- comments, as written -------------------------------------------------------------------
    texts: list[tuple[str, str]] = []
    for column in ("comments", "rectify_other"):
        if column in valid.columns:
            for text in valid[column].dropna():
                if str(text).strip():
                    texts.append((column, str(text)))
    comments = pd.DataFrame(texts, columns=["kind", "text"])
    comments = comments.sort_values(["kind", "text"], kind="stable").reset_index(drop=True)

    # --- participation -----------------------------------------------------------------------------
    roster = store.attendance_table(meeting_id)
    invited = roster[roster["invited"]]
    walk_ins = int((roster["walk_in"] & roster["attended"] & ~roster["invited"]).sum())
    parts = []
    if len(invited):
        for by in ("age_band", "role", "gender"):
            table = turnout(invited, by=by, confidence=confidence)
            table = table.rename(columns={by: "group"})
            table.insert(0, "by", by)
            if by != "age_band":
                table = table[table["group"] != "(all)"]
            else:
                table.loc[table["group"] == "(all)", "by"] = "(all)"
            parts.append(table)
    turnout_table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["by", "group", "count", "n", "estimate", "ci_low", "ci_high"])
    )
    turnout_table["group_label"] = [
        _word("all", language)
        if g == "(all)"
        else _ROLE_LABELS.get(str(g), {}).get(language, str(g))
        for g in turnout_table["group"]
    ]
    turnout_table = turnout_table[
        ["by", "group", "group_label", "count", "n", "estimate", "ci_low", "ci_high"]
    ]
    turnout_table = _suppress(turnout_table, min_cell=min_cell)

    # --- broad rate by rater role ------------------------------------------------------------------
    if "role" in valid.columns and overall and len(valid):
        by_role = satisfaction_rates(valid, items=overall, by="role", confidence=confidence)
        by_role = by_role[by_role["measure"] == "broad"].copy()
        by_role.insert(0, "subject", [v.split("__")[0] for v in by_role["item"]])
        by_role.insert(1, "subject_label", by_role["subject"].map(labels))
        role_scale = survey.scale(survey.question("role"))
        role_labels = {c.value: c.label.get(language) for c in role_scale.choices}
        by_role["role_label"] = [
            role_labels.get(str(r), _word("none", language) if pd.isna(r) else str(r))
            for r in by_role["role"]
        ]
        by_role = by_role[
            [
                "subject",
                "subject_label",
                "role",
                "role_label",
                "count",
                "n",
                "estimate",
                "ci_low",
                "ci_high",
            ]
        ]
        by_role = by_role[by_role["n"] > 0]
        rates_by_role = _suppress(by_role, min_cell=min_cell).reset_index(drop=True)
    else:
        rates_by_role = pd.DataFrame(
            columns=["subject", "role", "count", "n", "estimate", "suppressed"]
        )

    return MeetingReport(
        meeting_id=meeting_id,
        title=meeting.title,
        community=meeting.community,
        date=meeting.date,
        language=language,
        rule=rule,
        members=members,
        min_cell=min_cell,
        ballots=ballots,
        rates=rates,
        verdict=verdict.reset_index(drop=True),
        rectify=rectify,
        bottom_items=bottom_items,
        comments=comments,
        turnout=turnout_table.reset_index(drop=True),
        walk_ins=walk_ins,
        rates_by_role=rates_by_role,
        labels=labels,
    )


# ----------------------------------------------------------------------------------------------
# display tables (rounded for reading; the tidy tables above keep every digit)
# ----------------------------------------------------------------------------------------------


def format_rate(estimate: Any, low: Any, high: Any, *, suppressed: bool = False) -> str:
    """``"95.1% (83.9%–98.7%)"``: a rate and its interval to one decimal, ``"—"`` or ``"<5"``.

    >>> format_rate(39 / 41, 0.838610, 0.986519)
    '95.1% (83.9%–98.7%)'
    """
    if suppressed:
        return "<5"
    if estimate is None or pd.isna(estimate):
        return "—"
    return f"{float(estimate):.1%} ({float(low):.1%}–{float(high):.1%})"


_VERDICTS_EN = {"满意": "Satisfied", "基本满意": "Basically satisfied", "不满意": "Dissatisfied"}


def _verdict_text(value: Any, language: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if language == "en" and value in _VERDICTS_EN:
        return f"{_VERDICTS_EN[value]} ({value})"
    return str(value)


def _count(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else str(int(value))


def report_tables(report: MeetingReport) -> dict[str, pd.DataFrame]:
    """The display tables of a report, keyed by section, in the report's language.

    Rates are shown to one decimal with their intervals; suppressed cells read "<5". Sections:
    ``ballots``, ``rates``, ``verdict``, ``rectify``, ``bottom_items``, ``comments``,
    ``turnout``, ``rates_by_role``.
    """
    lang = report.language
    w = {key: value[lang] for key, value in _WORDS.items()}
    b = report.ballots.set_index("measure")["count"]
    issued = b["issued"]
    ballots = pd.DataFrame(
        {
            w["ballots"]: [w[m] for m in b.index],
            "n": [_count(v) for v in b.to_numpy()],
            w["of_issued"]: [
                "—"
                if pd.isna(issued) or not issued or m == "issued" or pd.isna(v)
                else f"{int(v) / int(issued):.1%}"
                for m, v in b.items()
            ],
        }
    )
    wide = []
    for (subject_label, item_label), part in report.rates.groupby(
        ["subject_label", "item_label"], sort=False
    ):
        rows = part.set_index("measure")
        broad = rows.loc["broad"]
        wide.append(
            {
                w["subject"]: subject_label,
                w["item"]: item_label,
                w["n_valid"]: "<5" if broad["suppressed"] else _count(broad["n"]),
                w["dont_know"]: "<5" if broad["suppressed"] else _count(broad["dont_know"]),
                **{
                    w[m]: format_rate(
                        rows.loc[m, "estimate"],
                        rows.loc[m, "ci_low"],
                        rows.loc[m, "ci_high"],
                        suppressed=bool(rows.loc[m, "suppressed"]),
                    )
                    for m in ("strict", "broad", "dissatisfied")
                },
            }
        )
    rates = pd.DataFrame(wide)
    v = report.verdict
    verdict = pd.DataFrame(
        {
            w["subject"]: v["subject_label"],
            w["satisfied_n"]: [_count(x) for x in v.get("count_satisfied", [])],
            w["basically_n"]: [_count(x) for x in v.get("count_basically_satisfied", [])],
            w["dissatisfied_n"]: [_count(x) for x in v.get("count_dissatisfied", [])],
            w["dont_know"]: [_count(x) for x in v.get("count_dont_know", [])],
            w["verdict"]: [_verdict_text(x, lang) for x in v["verdict"]],
        }
    )
    if report.members is not None:
        verdict.insert(5, w["members"], str(report.members))
    rectify = pd.DataFrame(
        {
            w["issue"]: report.rectify["label"],
            w["raters"]: report.rectify["count"].astype(int).astype(str),
            w["share"]: ["—" if pd.isna(s) else f"{float(s):.1%}" for s in report.rectify["share"]],
        }
    )
    bi = report.bottom_items
    bottom = pd.DataFrame(
        {
            w["subject"]: bi["subject_label"],
            w["item"]: bi["item_label"],
            w["rank"]: [_count(r) for r in bi["rank"]],
            w["broad"]: [
                format_rate(e, lo, hi, suppressed=bool(s))
                for e, lo, hi, s in zip(
                    bi["estimate"], bi["ci_low"], bi["ci_high"], bi["suppressed"], strict=True
                )
            ],
            w["n_valid"]: [
                "<5" if s else _count(n) for n, s in zip(bi["n"], bi["suppressed"], strict=True)
            ],
        }
    )
    comments = pd.DataFrame(
        {
            w["kind"]: [w["comment" if k == "comments" else k] for k in report.comments["kind"]],
            w["comment"]: report.comments["text"],
        }
    )
    t = report.turnout
    turnout = pd.DataFrame(
        {
            w["group"]: [
                w["all"] if by == "(all)" else f"{w[by]}: {label}"
                for by, label in zip(t["by"], t["group_label"], strict=True)
            ],
            w["invited"]: [
                "<5" if s else _count(n) for n, s in zip(t["n"], t["suppressed"], strict=True)
            ],
            w["attended"]: [
                "<5" if s else _count(c) for c, s in zip(t["count"], t["suppressed"], strict=True)
            ],
            w["turnout"]: [
                format_rate(e, lo, hi, suppressed=bool(s))
                for e, lo, hi, s in zip(
                    t["estimate"], t["ci_low"], t["ci_high"], t["suppressed"], strict=True
                )
            ],
        }
    )
    r = report.rates_by_role
    by_role = pd.DataFrame(
        {
            w["subject"]: r.get("subject_label", pd.Series([], dtype=object)),
            w["role"]: r.get("role_label", pd.Series([], dtype=object)),
            w["n_valid"]: [
                "<5" if s else _count(n) for n, s in zip(r["n"], r["suppressed"], strict=True)
            ],
            w["broad"]: [
                format_rate(e, lo, hi, suppressed=bool(s))
                for e, lo, hi, s in zip(
                    r.get("estimate", []),
                    r.get("ci_low", []),
                    r.get("ci_high", []),
                    r["suppressed"],
                    strict=True,
                )
            ],
        }
    )
    return {
        "ballots": ballots,
        "rates": rates,
        "verdict": verdict,
        "rectify": rectify,
        "bottom_items": bottom,
        "comments": comments,
        "turnout": turnout,
        "rates_by_role": by_role,
    }


_HEADINGS = REPORT_HEADINGS


def report_heading(report: MeetingReport, section: str) -> str:
    """The Markdown heading and the short explanation of a section, in the report's language."""
    lang = report.language
    head = f"## {_HEADINGS[section][lang]}\n\n"
    if section == "rates":
        note = word(REPORT_NOTES, "rates", lang, min_cell=report.min_cell)
    elif section == "verdict":
        rule = _RULE_TEXT[report.rule][lang]
        members = (
            word(REPORT_NOTES, "members", lang, members=report.members)
            if report.members is not None
            else ""
        )
        note = word(REPORT_NOTES, "rule_applied", lang) + f"`{report.rule}` — {rule}{members}."
    elif section == "rectify":
        note = word(REPORT_NOTES, "rectify", lang)
    elif section == "comments":
        note = word(REPORT_NOTES, "comments", lang)
    elif section == "turnout":
        note = word(
            REPORT_NOTES, "turnout", lang, min_cell=report.min_cell, walk_ins=report.walk_ins
        )
    else:
        note = ""
    return head + note


def report_title(report: MeetingReport) -> str:
    """The Markdown title block of the report."""
    lang = report.language
    when = "" if report.date is None else str(report.date)
    sub = word(
        REPORT_NOTES,
        "title",
        lang,
        meeting_id=report.meeting_id,
        community=report.community or "",
        when=when,
    )
    return f"# {report.title}\n\n{sub}"


def rates_chart(report: MeetingReport) -> Figure:
    """Broad rates with intervals per subject and item (suppressed cells left out)."""
    from toolkit.report.charts import rate_dotplot

    shown = report.rates[(report.rates["measure"] == "broad") & ~report.rates["suppressed"]]
    shown = shown.assign(
        n=shown["n"].astype("int64"),
        estimate=shown["estimate"].astype(float),
        ci_low=shown["ci_low"].astype(float),
        ci_high=shown["ci_high"].astype(float),
    )
    labels: dict[Hashable, str] = dict(report.labels.items())
    return rate_dotplot(
        shown,
        measure="broad",
        y="item",
        panel="subject",
        labels=labels,
        sort=False,
        language=report.language,
    )


def turnout_figure(report: MeetingReport) -> Figure:
    """Turnout by age band against the roster (suppressed groups left out)."""
    from toolkit.report.charts import turnout_chart

    t = report.turnout
    shown = t[(t["by"].isin(["age_band", "(all)"])) & ~t["suppressed"]]
    shown = pd.DataFrame(
        {
            "age_band": shown["group"].astype(object),
            "measure": "persons",
            "count": shown["count"].astype("int64"),
            "n": shown["n"].astype("int64"),
            "estimate": shown["estimate"].astype(float),
            "ci_low": shown["ci_low"].astype(float),
            "ci_high": shown["ci_high"].astype(float),
        }
    )
    return turnout_chart(shown, by="age_band", language=report.language)


# ----------------------------------------------------------------------------------------------
# rendering: execute the notebook, export HTML without code, optional PDF
# ----------------------------------------------------------------------------------------------

_REPORT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ (output | get_metadata('alt', 'image/png')) or 'chart' | escape_html }}"
 style="max-width: 100%; height: auto;">
</div>
{%- endblock data_png -%}
{%- block extra_css -%}
<style type="text/css">
  body { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem; }
  .jp-RenderedHTMLCommon table { font-size: 0.95rem; }
  .jp-OutputPrompt, .jp-InputPrompt { display: none; }
</style>
{%- endblock extra_css -%}
"""


def open_report_store(database_url: str) -> Store:
    """The store a report reads, at ``database_url`` (a SQLAlchemy URL).

    The report notebook gets its store from above: :func:`toolkit.demo.report_store` opens this
    or, without a URL, a private copy of the demo database.
    """
    from toolkit.store import Store

    if not isinstance(database_url, str) or not database_url:
        raise ParameterError(
            "`database_url` must be a database URL such as 'sqlite:///data/sanhui.db'; for the "
            f"demo database use toolkit.demo.report_store(None). Got {database_url!r}."
        )
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            raise StoreError(
                f"no database at {path}; build the demo with `sanhui demo` or pass --database URL."
            )
    return Store.open(database_url)


def _inject_parameters(notebook: Any, parameters: Mapping[str, Any]) -> Any:
    """Insert a cell tagged ``injected-parameters`` after the ``parameters`` cell (papermill)."""
    import nbformat

    lines = ["# Parameters (injected by toolkit.report.meeting.render_meeting_report)"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    cells = notebook.cells
    where = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
        ),
        None,
    )
    if where is None:
        raise DataError(
            "the report notebook has no cell tagged `parameters`; tag the cell that sets "
            "meeting_id, database_url and language."
        )
    cells.insert(where + 1, cell)
    for other in cells:  # a re-executed notebook starts clean
        if other.cell_type == "code":
            other.outputs = []
            other.execution_count = None
    return notebook


def execute_report(
    meeting_id: str,
    *,
    database_url: str | None = None,
    language: str = "zh",
    notebook: str | os.PathLike[str] = REPORT_NOTEBOOK,
    timeout: int = 120,
) -> Any:
    """Execute the report notebook with the parameters injected; returns the notebook node."""
    import nbformat
    from nbclient import NotebookClient

    check_option("language", language, _LANGUAGES)
    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    _inject_parameters(
        nb, {"meeting_id": meeting_id, "database_url": database_url, "language": language}
    )
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def export_html(nb: Any) -> str:
    """A self-contained HTML page of an executed notebook: no code, no network references."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell", "parameters"}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"sanhui_report.html.j2": _REPORT_TEMPLATE})],
        template_file="sanhui_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    nb = nb.copy()
    nb.metadata.pop("widgets", None)
    html, _resources = exporter.from_notebook_node(nb)
    # the lab theme's CSS cites its sources in comments (https://...): drop comments inside <style>
    return _STYLE.sub(lambda m: _CSS_COMMENT.sub("", m.group(0)), str(html))


_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL | re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 60) -> Path:
    """Print an HTML file to PDF with headless Chromium (``--print-to-pdf``), offline."""
    chromium = find_chromium()
    if chromium is None:
        raise StoreError(
            "--pdf needs Chromium: install it (Debian: `apt-get install chromium`) or open the "
            "HTML report in a browser and print it to PDF."
        )
    with tempfile.TemporaryDirectory(prefix="sanhui-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf_path.resolve()}",
            html_path.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    if not pdf_path.exists():
        raise StoreError(f"Chromium did not write {pdf_path}.")
    return pdf_path


def render_meeting_report(
    meeting_id: str,
    *,
    out: str | os.PathLike[str],
    database_url: str | None = None,
    language: str = "zh",
    pdf: bool = False,
    notebook: str | os.PathLike[str] = REPORT_NOTEBOOK,
) -> dict[str, Any]:
    """Run the report notebook for one meeting and write the HTML report (and optionally PDF).

    Parameters
    ----------
    meeting_id : str
        The meeting: an evaluation meeting runs the report notebook; a hearing or a coordination
        meeting gets its own page (:func:`toolkit.report.case.render_meeting_page`).
    out : path
        The HTML file to write; the PDF, if asked for, goes beside it with ``.pdf``.
    database_url : str, optional
        The store (a SQLAlchemy URL); ``None`` reads a private copy of the demo database.
    language : {"zh", "en"}
    pdf : bool
        Also print the page to PDF with headless Chromium.
    notebook : path
        The parameterised notebook (default ``notebooks/40_meeting_report.ipynb``).

    Returns
    -------
    dict
        ``html`` (path), ``pdf`` (path or None), ``seconds`` (wall time).
    """
    from nbclient.exceptions import CellExecutionError

    started = time.perf_counter()
    check_option("language", language, _LANGUAGES)
    with open_report_store(database_url) as store:  # a clear error before starting a kernel
        kind = store.meeting(meeting_id).kind
    if kind != "evaluation":  # hearings and coordination meetings: toolkit/report/case.py
        from toolkit.report.case import render_meeting_page

        return render_meeting_page(
            meeting_id, out=out, database_url=database_url, language=language, pdf=pdf
        )
    try:
        nb = execute_report(
            meeting_id, database_url=database_url, language=language, notebook=notebook
        )
    except CellExecutionError as error:
        raise DataError(
            f"the report notebook {Path(notebook).name} failed for meeting {meeting_id}: "
            f"{error.ename}: {error.evalue}"
        ) from error
    html = export_html(nb)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = html_to_pdf(target, target.with_suffix(".pdf"))
    return {"html": target, "pdf": pdf_path, "seconds": time.perf_counter() - started}


def _alt(report: MeetingReport, chart: str) -> str:
    return {
        ("rates", "zh"): "各评议项目满意+基本满意率及95%置信区间（点图）",
        ("rates", "en"): "Broad satisfaction rate of each item with its 95% interval (dot plot)",
        ("turnout", "zh"): "各年龄段到会率及95%置信区间（柱状图）",
        ("turnout", "en"): "Turnout by age band with 95% intervals (bar chart)",
    }[(chart, report.language)]


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="sanhui-table", na_rep="—", escape=True)


def show_section(report: MeetingReport, section: str) -> None:
    """Display one section of the report in Jupyter: heading, table(s) and chart.

    Sections: ``title``, ``ballots``, ``rates``, ``verdict``, ``rectify``, ``comments``,
    ``turnout``. Tables are plain HTML (no index, no random ids), so an executed notebook is
    byte-for-byte the same on every run.
    """
    from IPython.display import HTML, Markdown, display

    sections = ("title", "ballots", "rates", "verdict", "rectify", "comments", "turnout")
    check_option("section", section, sections)
    if section == "title":
        display(Markdown(report_title(report)))
        return
    tables = report_tables(report)
    display(Markdown(report_heading(report, section)))
    if section == "rates":
        display(HTML(_html_table(tables["rates"])))
        display(rates_chart(report), metadata={"image/png": {"alt": _alt(report, "rates")}})
    elif section == "rectify":
        display(HTML(_html_table(tables["rectify"])))
        display(HTML(_html_table(tables["bottom_items"])))
    elif section == "comments":
        if tables["comments"].empty:
            display(Markdown(_word("none", report.language)))
        else:
            display(HTML(_html_table(tables["comments"])))
    elif section == "turnout":
        display(HTML(_html_table(tables["turnout"])))
        display(turnout_figure(report), metadata={"image/png": {"alt": _alt(report, "turnout")}})
        by_role = word(REPORT_NOTES, "by_role", report.language)
        display(Markdown(by_role))
        display(HTML(_html_table(tables["rates_by_role"])))
    else:
        display(HTML(_html_table(tables[section])))


def show_optional_sections(store: Store, meeting_id: str, *, language: str = "zh") -> list[str]:
    """Display the sections that exist only with their data: ``voice`` when speaking turns were
    recorded (:mod:`toolkit.report.voice`), ``themes`` when comments were coded
    (:mod:`toolkit.report.themes`). Returns the sections shown."""
    from toolkit.report.themes import show_themes_section
    from toolkit.report.voice import show_voice_section

    shown = []
    if show_voice_section(store, meeting_id, language=language):
        shown.append("voice")
    if show_themes_section(store, meeting_id, language=language):
        shown.append("themes")
    return shown


def report_summary(report: MeetingReport) -> str:
    """The key numbers as JSON (for logs and quick checks)."""
    b = report.ballots.set_index("measure")["count"]
    data = {
        "meeting_id": report.meeting_id,
        "ballots": {k: None if pd.isna(v) else int(v) for k, v in b.items()},
        "rule": report.rule,
        "verdict": dict(zip(report.verdict["subject"], report.verdict["verdict"], strict=True)),
    }
    return json.dumps(data, ensure_ascii=False, default=str)
