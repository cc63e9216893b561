"""The display of the meeting report: rounded tables, headings, charts and the Jupyter sections.

The tidy tables of :mod:`toolkit.report.meeting_data` keep every digit; this module rounds them for
reading, labels them in the report's language (:mod:`toolkit.labels`) and shows them.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option
from toolkit.errors import DataError
from toolkit.labels import (
    REPORT_HEADINGS,
    REPORT_NOTES,
    word,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toolkit.store import Store


from toolkit.report.meeting_data import (
    _RULE_TEXT,
    _WORDS,
    MeetingReport,
    _word,
)

__all__ = [
    "format_rate",
    "rates_chart",
    "report_heading",
    "report_summary",
    "report_tables",
    "report_title",
    "show_optional_sections",
    "show_section",
    "turnout_figure",
]

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
    ``turnout``, ``rates_by_role``, ``channel_ballots``, ``rates_by_channel`` (the last two are
    shown, under the ballots, only when the ballots came in by more than one channel).
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
    cb = report.channel_ballots
    channel_ballots = pd.DataFrame(
        {
            w["channel"]: cb["channel_label"],
            w["returned"]: [_count(x) for x in cb["returned"]],
            w["valid"]: [_count(x) for x in cb["valid"]],
            w["void"]: [_count(x) for x in cb["void"]],
        }
    )
    rc = report.rates_by_channel
    rates_by_channel = pd.DataFrame(
        {
            w["channel"]: rc.get("channel_label", pd.Series([], dtype=object)),
            w["subject"]: rc.get("subject_label", pd.Series([], dtype=object)),
            w["n_valid"]: [
                "<5" if s else _count(n) for n, s in zip(rc["n"], rc["suppressed"], strict=True)
            ],
            w["broad"]: [
                format_rate(e, lo, hi, suppressed=bool(s))
                for e, lo, hi, s in zip(
                    rc.get("estimate", []),
                    rc.get("ci_low", []),
                    rc.get("ci_high", []),
                    rc["suppressed"],
                    strict=True,
                )
            ],
        }
    )
    return {
        "channel_ballots": channel_ballots,
        "rates_by_channel": rates_by_channel,
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


def _turnout_shown(report: MeetingReport) -> pd.DataFrame:
    t = report.turnout
    return t[(t["by"].isin(["age_band", "(all)"])) & ~t["suppressed"]]


def turnout_figure(report: MeetingReport) -> Figure:
    """Turnout by age band against the roster (suppressed groups left out)."""
    from toolkit.report.charts import turnout_chart

    shown = _turnout_shown(report)
    if shown.empty:
        raise DataError(
            f"meeting `{report.meeting_id}` has no turnout to chart: no invited roster, or every "
            "age group is suppressed. Check `report.turnout` before charting it."
        )
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
    elif section == "ballots":
        display(HTML(_html_table(tables["ballots"])))
        if len(report.channels) > 1:  # online and meeting ballots side by side
            note = word(REPORT_NOTES, "channels", report.language, min_cell=report.min_cell)
            display(Markdown(note))
            display(HTML(_html_table(tables["channel_ballots"])))
            display(HTML(_html_table(tables["rates_by_channel"])))
    elif section == "rectify":
        display(HTML(_html_table(tables["rectify"])))
        display(HTML(_html_table(tables["bottom_items"])))
    elif section == "comments":
        if tables["comments"].empty:
            display(Markdown(_word("none", report.language)))
        else:
            display(HTML(_html_table(tables["comments"])))
    elif section == "turnout":
        if _turnout_shown(report).empty:  # no roster (or only small groups): nothing to chart
            note = word(REPORT_NOTES, "no_turnout", report.language, min_cell=report.min_cell)
            display(Markdown(note))
        else:
            display(HTML(_html_table(tables["turnout"])))
            alt = _alt(report, "turnout")
            display(turnout_figure(report), metadata={"image/png": {"alt": alt}})
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
