"""The data of the meeting report: the numbers of one evaluation meeting as tidy tables.

:func:`meeting_report_data` computes everything the results sheet of an evaluation meeting (评议会)
shows, as plain DataFrames: ballots issued / returned / valid / void, strict, broad and
dissatisfaction rates with Wilson intervals per subject and item, the verdict under a declared
rule, the rectification list (counts of the ``rectify`` codes and the bottom-k items of each
subject), the comments as written, turnout against the roster, and the ballots and overall
broad rates per channel (tablet, paper, online). Every rate computed from fewer
than ``min_cell`` raters (default 5) is suppressed: its counts and estimates are blanked and
``suppressed`` is True, so nothing is published about a handful of identifiable people.

Ballots are anonymous: the report reads the response table and the attendance table, never the
names table, and lists comments sorted by their text (not in the order they were handed in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option, check_range, deprecated
from toolkit.errors import ParameterError
from toolkit.exports.safe import suppress_small
from toolkit.labels import (
    CHANNELS,
    GENDERS,
    REPORT_WORDS,
    ROLES,
    RULE_TEXTS,
)

if TYPE_CHECKING:
    from toolkit.instrument import Survey
    from toolkit.store import Store

__all__ = [
    "MIN_CELL",
    "REPORT_RULES",
    "MeetingReport",
    "meeting_report_data",
    "suppress_small_cells",
]

#: Published cells computed from fewer raters than this are suppressed.
MIN_CELL = 5

#: The verdict rules a report can declare (see :func:`toolkit.analysis.evaluation_verdict`).
REPORT_RULES: tuple[str, ...] = ("majority_of_members", "plurality", "score_bands")


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
    channel_ballots : DataFrame
        Ballots per channel present (``tablet``, ``paper``, ``online``, in that order):
        ``channel``, ``channel_label``, ``returned``, ``valid``, ``void``.
    rates_by_channel : DataFrame
        Broad rate of each subject's overall item by channel: ``subject``, ``subject_label``,
        ``channel``, ``channel_label``, ``count``, ``n``, ``estimate``, ``ci_low``, ``ci_high``
        (:func:`toolkit.analysis.satisfaction_rates` with ``by="channel"``), ``suppressed``.
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
    channel_ballots: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["channel", "channel_label", "returned", "valid", "void"]
        )
    )
    rates_by_channel: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["subject", "channel", "n", "suppressed"])
    )

    @property
    def channels(self) -> list[str]:
        """The channels the meeting's ballots came in by (the report compares them if several)."""
        return [str(c) for c in self.channel_ballots["channel"]]

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
    everything = store.responses(meeting_id, include_void=True, channel_column=True)
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

    channel_ballots, rates_by_channel = _channel_tables(
        everything, overall, labels, language=language, confidence=confidence, min_cell=min_cell
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
        channel_ballots=channel_ballots,
        rates_by_channel=rates_by_channel,
    )


def _channel_tables(
    everything: pd.DataFrame,
    overall: Sequence[str],
    labels: Mapping[str, str],
    *,
    language: str,
    confidence: float,
    min_cell: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ballots per channel, and the broad rate of each subject's overall item per channel."""
    from toolkit.analysis import satisfaction_rates

    order = [c for c in CHANNELS if c in set(everything["channel"])]
    order += sorted(set(everything["channel"].dropna().astype(str)) - set(order))

    def label(channel: str) -> str:
        return CHANNELS.get(channel, {}).get(language, channel)

    returned = everything.groupby("channel", sort=False).size()
    valid_mask = everything["status"] == "valid"
    valid_counts = everything[valid_mask].groupby("channel", sort=False).size()
    ballots = pd.DataFrame(
        {
            "channel": order,
            "channel_label": [label(c) for c in order],
            "returned": [int(returned.get(c, 0)) for c in order],
            "valid": [int(valid_counts.get(c, 0)) for c in order],
        }
    )
    ballots["void"] = ballots["returned"] - ballots["valid"]
    columns = ["subject", "subject_label", "channel", "channel_label"]
    columns += ["count", "n", "estimate", "ci_low", "ci_high"]
    valid = everything[valid_mask]
    if not overall or not len(valid):
        return ballots, pd.DataFrame(columns=[*columns, "suppressed"])
    valid = valid.assign(channel=pd.Categorical(valid["channel"], categories=order))
    rates = satisfaction_rates(valid, items=list(overall), by="channel", confidence=confidence)
    rates = rates[rates["measure"] == "broad"].copy()
    rates.insert(0, "subject", [v.split("__")[0] for v in rates["item"]])
    rates.insert(1, "subject_label", rates["subject"].map(labels))
    rates["channel"] = rates["channel"].astype(str)
    rates["channel_label"] = [label(c) for c in rates["channel"]]
    rates = rates[columns]
    return ballots, _suppress(rates, min_cell=min_cell).reset_index(drop=True)
