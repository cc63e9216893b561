"""Voice in reports: the Lorenz curve of speaking time, speaking shares, and the report's 发言
section (shown only when turns were recorded).

Charts take the tidy tables of :mod:`toolkit.analysis.voice` and draw Chinese labels with the CJK
font of :mod:`toolkit.report.fonts`.

>>> import pandas as pd
>>> from toolkit.analysis.voice import lorenz_curve
>>> fig = lorenz_chart(lorenz_curve(pd.Series([5.0, 1.0, 0.0, 2.0])), gini=0.5)
>>> [t.get_text() for t in fig.axes[0].texts]
['基尼系数 0.50']
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns
from toolkit.analysis.voice import (
    gini,
    lorenz_curve,
    speaking_time,
    top_share,
    turn_transitions,
    voice_shares,
)
from toolkit.instrument.speakers import (
    SPEAKER_LABELS,
    SPEAKER_LABELS_EN,
    VOICE_GROUP_LABELS,
)
from toolkit.labels import VOICE_COLUMNS, VOICE_TEXT
from toolkit.report._common import new_figure, percent_axis, require_frame, start
from toolkit.report.palette import GROUP_COLORS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toolkit.store import Store

__all__ = ["VoiceReport", "lorenz_chart", "share_chart", "show_voice_section", "voice_report"]

_TEXT = VOICE_TEXT


def _columns(keys: tuple[str, ...], language: str) -> list[str]:
    return [VOICE_COLUMNS[key][language] for key in keys]


def _t(key: str, language: str, **values: Any) -> str:
    return _TEXT[key][language].format(**values)


def lorenz_chart(curve: pd.DataFrame, *, gini: float | None = None, language: str = "zh") -> Figure:
    """The Lorenz curve (:func:`toolkit.analysis.voice.lorenz_curve`) against the line of
    equality, with the Gini coefficient written in."""
    start(language)
    curve = require_frame(curve, "curve", "the output of lorenz_curve")
    check_columns(curve, ["population_share", "cumulative_share"], argument="curve")
    fig = new_figure(4.8, 4.4)
    ax = fig.add_subplot()
    ax.plot(
        [0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1, label=_t("equal", language)
    )
    x, y = curve["population_share"].to_numpy(), curve["cumulative_share"].to_numpy()
    ax.plot(x, y, color=GROUP_COLORS[0], linewidth=2, marker="o", markersize=3)
    ax.fill_between(x, y, x, color=GROUP_COLORS[0], alpha=0.12)
    if gini is not None and np.isfinite(gini):
        ax.text(0.05, 0.9, _t("gini", language, value=gini), transform=ax.transAxes)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_xlabel(_t("x", language))
    ax.set_ylabel(_t("y", language))
    ax.set_title(_t("lorenz_title", language))
    ax.set_aspect("equal")
    return fig


def _group_label(value: str, language: str) -> str:
    if value in VOICE_GROUP_LABELS:
        zh, en = VOICE_GROUP_LABELS[value]
        return zh if language == "zh" else en
    labels = SPEAKER_LABELS if language == "zh" else SPEAKER_LABELS_EN
    return labels.get(value, value)


def share_chart(shares: pd.DataFrame, *, language: str = "zh") -> Figure:
    """Shares of speaking time and of turns per group (:func:`voice_shares`) or per category
    (:func:`speaking_time`), as paired horizontal bars."""
    start(language)
    shares = require_frame(shares, "shares", "the output of voice_shares or speaking_time")
    by = "group" if "group" in shares.columns else "category"
    check_columns(shares, [by, "share_time", "share_turns"], argument="shares")
    labels = [_group_label(str(v), language) for v in shares[by]]
    fig = new_figure(6.4, 0.5 + 0.55 * len(shares))
    ax = fig.add_subplot()
    pos = np.arange(len(shares))[::-1]
    ax.barh(
        pos + 0.2,
        shares["share_time"],
        height=0.38,
        color=GROUP_COLORS[0],
        label=_t("share_time", language),
    )
    ax.barh(
        pos - 0.2,
        shares["share_turns"],
        height=0.38,
        color=GROUP_COLORS[1],
        label=_t("share_turns", language),
    )
    for p, value in zip(pos, shares["share_time"], strict=True):
        ax.text(float(value) + 0.01, p + 0.2, f"{float(value) * 100:.0f}%", va="center", fontsize=9)
    ax.set_yticks(pos, labels)
    ax.set_xlim(0, 1)
    percent_axis(ax.xaxis)
    ax.legend(loc="lower right", frameon=False)
    ax.set_title(_t("share_title", language))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


class VoiceReport:
    """The voice numbers of one meeting (tables of :mod:`toolkit.analysis.voice`)."""

    def __init__(self, turns: pd.DataFrame, *, attendees: int | None, language: str) -> None:
        self.turns = turns
        self.language = language
        self.by_category = speaking_time(turns)
        self.groups = voice_shares(turns)
        self.transitions = turn_transitions(turns) if len(turns) > 1 else pd.DataFrame()
        seated = turns[turns["seat"].notna() & turns["seconds"].notna()]
        self.speakers = int(seated["seat"].nunique())
        self.attendees = max(attendees or 0, self.speakers) or None
        self.gini: pd.DataFrame | None = None
        self.lorenz: pd.DataFrame | None = None
        self.top: pd.DataFrame | None = None
        if self.speakers >= 2:
            self.gini = gini(seated, attendees=self.attendees, n_boot=2000, seed=0)
            self.lorenz = lorenz_curve(seated, attendees=self.attendees)
            self.top = top_share(seated, attendees=self.attendees)


def voice_report(
    store: Store, meeting_id: str, *, language: str = "zh", attendees: int | None = None
) -> VoiceReport | None:
    """The voice numbers of a meeting, or None when no turn was recorded. ``attendees`` defaults
    to the people checked in (the roster)."""
    turns = store.turns(meeting_id)
    turns = turns[turns["seconds"].notna()]
    if turns.empty:
        return None
    if attendees is None:
        roster = store.roster(meeting_id)
        attendees = int(roster["attended"].sum()) if len(roster) else None
    return VoiceReport(turns, attendees=attendees, language=language)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="sanhui-table", na_rep="—", escape=True)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def voice_outputs(report: VoiceReport) -> list[Any]:
    """What the voice section displays, in order: Markdown, HTML tables and figures."""
    from IPython.display import HTML, Markdown

    lang = report.language
    out: list[Any] = [Markdown(_t("heading", lang))]
    total = float(report.turns["seconds"].sum())
    g = report.gini
    gini_text = "—"
    if g is not None:
        est, low, high = (float(g[c].iloc[0]) for c in ("estimate", "ci_low", "ci_high"))
        interval = "95% 区间" if lang == "zh" else "95% interval"
        gini_text = f"{est:.2f}（{interval} {low:.2f}–{high:.2f}）"
    top = _pct(float(report.top["estimate"].iloc[0])) if report.top is not None else "—"
    out.append(
        Markdown(
            _t(
                "intro",
                lang,
                turns=len(report.turns),
                minutes=total / 60,
                present=report.attendees or "—",
                speakers=report.speakers,
                gini=gini_text,
                top=top,
            )
        )
    )
    groups = report.groups.assign(
        group=[_group_label(str(v), lang) for v in report.groups["group"]],
        minutes=(report.groups["seconds"] / 60).round(1),
        share_time=report.groups["share_time"].map(_pct),
        share_turns=report.groups["share_turns"].map(_pct),
    )[["group", "count", "minutes", "share_turns", "share_time"]]
    names = _columns(("group", "turns", "minutes", "share_turns", "share_time"), lang)
    out.append(HTML(_table(groups.set_axis(names, axis=1))))
    out.append(share_chart(report.groups, language=lang))
    cats = report.by_category.assign(
        category=[_group_label(str(v), lang) for v in report.by_category["category"]],
        mean_seconds=report.by_category["mean_seconds"].round(0),
        share_time=report.by_category["share_time"].map(_pct),
    )[["category", "count", "mean_seconds", "share_time"]]
    names = _columns(("category", "turns", "mean_seconds", "share_time"), lang)
    out.append(HTML(_table(cats.set_axis(names, axis=1))))
    if report.lorenz is not None and report.gini is not None:
        out.append(
            lorenz_chart(report.lorenz, gini=float(report.gini["estimate"].iloc[0]), language=lang)
        )
    else:
        out.append(Markdown(_t("no_seats", lang)))
    if len(report.transitions):
        top_pairs = report.transitions.sort_values(
            ["count", "from", "to"], ascending=[False, True, True]
        ).head(8)
        pairs = pd.DataFrame(
            {
                "from": [_group_label(str(v), lang) for v in top_pairs["from"]],
                "to": [_group_label(str(v), lang) for v in top_pairs["to"]],
                "count": top_pairs["count"].to_numpy(),
                "estimate": top_pairs["estimate"].map(_pct).to_numpy(),
            }
        )
        names = _columns(("speaker", "followed_by", "times", "share_followed"), lang)
        out.append(HTML(_table(pairs.set_axis(names, axis=1))))
    return out


def show_voice_section(store: Store, meeting_id: str, *, language: str = "zh") -> bool:
    """Display the voice section when turns were recorded; returns whether it was shown."""
    from IPython.display import display

    report = voice_report(store, meeting_id, language=language)
    if report is None:
        return False
    for item in voice_outputs(report):
        if hasattr(item, "savefig"):
            alt = html.escape(item.axes[0].get_title())
            display(item, metadata={"image/png": {"alt": alt}})
        else:
            display(item)
    return True
