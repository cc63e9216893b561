"""Themes in reports: the coded comments against satisfaction, and the report's 意见主题 section
(shown only when comments were coded).

The codes of a comment are the reconciled ones, or those every coder agreed on
(:func:`toolkit.analysis.comments.final_codes`); comments still in dispute are left out and counted.
Each coded comment is joined to its own ballot's overall rating of each subject, so a theme can be
read against satisfaction. Cells of fewer than 5 ballots are not published.

>>> d = pd.DataFrame({"level": ["不满意"] * 3 + ["满意"] * 2,
...                   "codes": [["noise_dust"], ["noise_dust", "cost_sharing"], [], ["praise"], []]})
>>> from toolkit.analysis.comments import theme_crosstab
>>> fig = theme_chart(theme_crosstab(d), labels={"noise_dust": "噪音扬尘"})
>>> fig.axes[0].get_title()
'各评价等级意见中的主题'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns
from toolkit.analysis.comments import (
    coding_agreement,
    coding_disagreements,
    final_codes,
    term_counts,
    theme_crosstab,
)
from toolkit.labels import THEMES_COLUMNS, THEMES_TEXT
from toolkit.report._common import new_figure, percent_axis, require_frame, start
from toolkit.report.palette import LEVEL_COLORS, level_code

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from toolkit.instrument.coding import Codebook
    from toolkit.store import Store

__all__ = ["ThemesReport", "show_themes_section", "theme_chart", "themes_report"]

MIN_CELL = 5

_TEXT = THEMES_TEXT


def _columns(keys: tuple[str, ...], language: str) -> list[str]:
    return [THEMES_COLUMNS[key][language] for key in keys]


def _t(key: str, language: str, **values: Any) -> str:
    return _TEXT[key][language].format(**values)


def theme_chart(
    crosstab: pd.DataFrame,
    *,
    by: str = "level",
    labels: Mapping[str, str] | None = None,
    language: str = "zh",
) -> Figure:
    """Grouped horizontal bars: for each code, the share of comments at each level that carry
    it (:func:`toolkit.analysis.comments.theme_crosstab`), levels in their own colours."""
    start(language)
    crosstab = require_frame(crosstab, "crosstab", "the output of theme_crosstab")
    check_columns(crosstab, [by, "code", "estimate"], argument="crosstab")
    codes = list(dict.fromkeys(crosstab["code"]))
    levels = list(dict.fromkeys(crosstab[by]))
    fig = new_figure(6.6, 0.6 + 0.5 * len(codes) * max(1, len(levels)) / 2)
    ax = fig.add_subplot()
    height = 0.8 / max(1, len(levels))
    base = np.arange(len(codes))[::-1]
    for k, level in enumerate(levels):
        part = crosstab[crosstab[by] == level].set_index("code").reindex(codes)
        code = level_code(level)
        color = LEVEL_COLORS.get(code) if code else None
        values = part["estimate"].astype(float).fillna(0).to_numpy()
        ax.barh(
            base + 0.4 - (k + 0.5) * height, values, height=height, color=color, label=str(level)
        )
    ax.set_yticks(base, [(labels or {}).get(c, c) for c in codes])
    ax.set_xlim(0, 1)
    percent_axis(ax.xaxis)
    ax.set_xlabel(_t("x", language))
    ax.set_title(_t("title", language))
    ax.legend(frameon=False, loc="lower right")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


class ThemesReport:
    """Coded comments of one meeting joined to the ballots' ratings."""

    def __init__(
        self,
        codings: pd.DataFrame,
        comments: pd.DataFrame,
        *,
        codebook: Codebook | None,
        language: str,
    ) -> None:
        self.language = language
        self.codebook = codebook
        self.codings = codings
        self.final = final_codes(codings)
        disputes = coding_disagreements(codings)
        self.open_disputes = int((~disputes["reconciled"]).sum()) if len(disputes) else 0
        self.settled = int(disputes["reconciled"].sum()) if len(disputes) else 0
        coders = codings[codings["role"] == "coder"]["coder"].nunique()
        self.coders = int(coders)
        self.agreement = (
            coding_agreement(codings, codes=codebook.code_ids if codebook else None)
            if coders >= 2
            else None
        )
        self.comments = comments
        joined = comments.merge(self.final, on=["submission_id", "question"], how="inner")
        self.joined = joined
        self.crosstabs = {
            subject: theme_crosstab(part, by="level")
            for subject, part in joined.groupby("subject", sort=False)
        }
        # frequent words by the first subject's rating (each comment once)
        first = (
            comments[comments["subject"] == comments["subject"].iloc[0]]
            if len(comments)
            else comments
        )
        self.terms = term_counts(first, by="level", top=5) if len(first) else pd.DataFrame()

    def order(self, codes: Any) -> list[str]:
        """The labels of ``codes`` in codebook order (codes not in the codebook last, sorted)."""
        present = {str(c) for c in codes}
        known = list(self.codebook.code_ids) if self.codebook else []
        ordered = [c for c in known if c in present] + sorted(present - set(known))
        return [self.label(c) for c in ordered]

    def label(self, code: str) -> str:
        if self.codebook is None:
            return code
        try:
            return self.codebook.get(code).label(self.language)
        except KeyError:
            return code


def themes_report(
    store: Store,
    meeting_id: str,
    *,
    codebook: Codebook | None = None,
    language: str = "zh",
    item: str = "overall",
) -> ThemesReport | None:
    """The themes of a meeting's coded comments, or None when nothing was coded."""
    codings = store.codings(meeting_id)
    if codings.empty:
        return None
    responses = store.responses(meeting_id, labels="zh" if language == "zh" else "en")
    meeting = store.meeting(meeting_id)
    rows = []
    texts = {}
    for question in ("comments", "rectify_other"):
        if question in responses.columns:
            for sid, text in zip(responses["submission_id"], responses[question], strict=True):
                if isinstance(text, str) and text.strip():
                    texts[(str(sid), question)] = text.strip()
    for subject in meeting.subjects:
        column = f"{subject.id}__{item}"
        if column not in responses.columns:
            continue
        name = subject.label_en if language == "en" and subject.label_en else subject.label_zh
        level = dict(zip(responses["submission_id"].astype(str), responses[column], strict=True))
        for (sid, question), text in texts.items():
            value = level.get(sid)
            if value is not None and value == value:
                rows.append((sid, question, text, name, value))
    comments = pd.DataFrame(rows, columns=["submission_id", "question", "text", "subject", "level"])
    first = f"{meeting.subjects[0].id}__{item}" if meeting.subjects else ""
    if len(comments) and isinstance(responses[first].dtype, pd.CategoricalDtype):
        categories = responses[first].cat.categories
        comments["level"] = pd.Categorical(comments["level"], categories=categories, ordered=True)
    return ThemesReport(codings, comments, codebook=codebook, language=language)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="sanhui-table", na_rep="—", escape=True)


def themes_outputs(report: ThemesReport) -> list[Any]:
    """What the themes section displays, in order."""
    from IPython.display import HTML, Markdown

    lang = report.language
    ref = report.codebook.ref if report.codebook else "—"
    out: list[Any] = [
        Markdown(_t("heading", lang)),
        Markdown(
            _t(
                "intro",
                lang,
                coded=report.final.shape[0] + report.open_disputes,
                coders=report.coders,
                codebook=ref,
                settled=report.settled,
                open=report.open_disputes,
            )
        ),
    ]
    if report.agreement is not None:
        alpha = report.agreement[report.agreement["measure"] == "krippendorff_alpha"]
        table = pd.DataFrame(
            {
                "code": [report.label(str(c)) for c in alpha["code"]],
                "alpha": alpha["estimate"].round(2).to_numpy(),
                "agreement": (alpha["agreement"] * 100).round(0).to_numpy(),
            }
        ).set_axis(_columns(("theme", "alpha", "agreeing"), lang), axis=1)
        out += [Markdown(_t("agreement", lang)), HTML(_table(table))]
    for index, (subject, crosstab) in enumerate(report.crosstabs.items()):
        small = crosstab["n"] < MIN_CELL
        shown = crosstab.assign(
            code=[report.label(str(c)) for c in crosstab["code"]],
            estimate=crosstab["estimate"].mask(small),
        )
        wide = shown.pivot(index="code", columns="level", values="estimate")
        wide = (wide * 100).round(0).reindex(report.order(crosstab["code"])).reset_index()
        wide.columns = [_columns(("theme",), lang)[0]] + [str(c) for c in wide.columns[1:]]
        out += [Markdown(f"**{subject!s}**（%）"), HTML(_table(wide))]
        visible = crosstab[~small]
        if report.codebook is not None:  # codebook order in the chart too
            rank = {c: i for i, c in enumerate(report.codebook.code_ids)}
            visible = visible.iloc[
                sorted(range(len(visible)), key=lambda i: rank.get(visible["code"].iloc[i], 99))
            ]
        if index == 0 and len(visible):  # one chart: the first subject
            labels = {str(c): report.label(str(c)) for c in crosstab["code"]}
            out.append(theme_chart(visible, labels=labels, language=lang))
    if len(report.terms):
        terms = report.terms.groupby("level", observed=True, sort=True)["term"].agg("、".join)
        table = terms.reset_index().set_axis(_columns(("rating", "words"), lang), axis=1)
        out += [Markdown(_t("words", lang)), HTML(_table(table))]
    return out


def show_themes_section(
    store: Store, meeting_id: str, *, language: str = "zh", codebook: Codebook | None = None
) -> bool:
    """Display the themes section when comments were coded; returns whether it was shown."""
    from IPython.display import display

    if codebook is None:
        from toolkit.instrument.coding import default_codebook

        codebook = default_codebook()
    report = themes_report(store, meeting_id, codebook=codebook, language=language)
    if report is None:
        return False
    for item in themes_outputs(report):
        if hasattr(item, "savefig"):
            display(item, metadata={"image/png": {"alt": item.axes[0].get_title()}})
        else:
            display(item)
    return True
