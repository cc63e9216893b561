"""The importance-performance matrix: items by importance and satisfaction rate, in four quadrants."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from toolkit._checks import check_columns
from toolkit.analysis.ipa import QUADRANTS
from toolkit.errors import DataError
from toolkit.labels import IPA_SOURCES, IPA_WORDS
from toolkit.labels import QUADRANTS as QUADRANT_TEXTS
from toolkit.report._common import group_text, new_figure, pct, percent_axis, require_frame, start
from toolkit.report.palette import GROUP_COLORS

__all__ = ["QUADRANT_LABELS", "ipa_chart"]

#: Display labels of the quadrant codes of :mod:`toolkit.analysis.ipa` (:mod:`toolkit.labels`).
QUADRANT_LABELS = QUADRANT_TEXTS
_QUADRANT_COLORS = {
    "concentrate_here": GROUP_COLORS[1],
    "keep_up": GROUP_COLORS[2],
    "low_priority": GROUP_COLORS[0],
    "possible_overkill": GROUP_COLORS[3],
}


def ipa_chart(
    data: pd.DataFrame,
    *,
    importance_line: float | None = None,
    performance_line: float | None = None,
    labels: Mapping[Hashable, str] | None = None,
    language: str = "zh",
    title: str | None = None,
) -> Figure:
    """Draw an importance-performance matrix from :func:`toolkit.analysis.importance_performance`.

    Parameters
    ----------
    data : DataFrame
        The result of :func:`~toolkit.analysis.ipa.importance_performance` (columns ``item``,
        ``importance``, ``estimate``, ``ci_low``, ``ci_high``, ``quadrant``).
    importance_line, performance_line : float, optional
        Where the dashed quadrant lines are drawn; default the lines the table was split at
        (``data.attrs``), else the means.
    labels : dict, optional
        Display labels of items (default: the ballot's Chinese or English labels).
    language : {"zh", "en"}
        Language of the axes and quadrant names (Chinese uses the CJK font of
        :func:`toolkit.report.configure_matplotlib`).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one point per item with its vertical interval, coloured by quadrant, labelled
        with the item's name; the two dashed lines; the quadrant names in the corners.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"item": ["attitude", "results"], "importance": [0.3, 0.7],
    ...                       "estimate": [0.9, 0.6], "ci_low": [0.8, 0.45],
    ...                       "ci_high": [0.95, 0.73], "confidence": 0.95,
    ...                       "quadrant": ["possible_overkill", "concentrate_here"]})
    >>> fig = ipa_chart(table)
    >>> len(fig.axes[0].lines) >= 2
    True
    """
    start(language)
    data = require_frame(data, "data", "the result of importance_performance")
    check_columns(data, ["item", "importance", "estimate", "ci_low", "ci_high"])
    if data.empty:
        raise DataError("ipa_chart: `data` has no items to draw.")
    x = data["importance"].to_numpy(dtype=float)
    y = data["estimate"].to_numpy(dtype=float)
    low = data["ci_low"].to_numpy(dtype=float)
    high = data["ci_high"].to_numpy(dtype=float)
    chosen = importance_line is not None or performance_line is not None
    x_line = importance_line if importance_line is not None else data.attrs.get("importance_line")
    y_line = (
        performance_line if performance_line is not None else data.attrs.get("performance_line")
    )
    x_line = float(np.nanmean(x)) if x_line is None else float(x_line)
    y_line = float(np.nanmean(y)) if y_line is None else float(y_line)
    quadrants = (
        data["quadrant"].tolist()
        if "quadrant" in data.columns and not chosen
        else [_quadrant(a >= x_line, b >= y_line) for a, b in zip(x, y, strict=True)]
    )
    fig = new_figure(7.5, 5.5)
    ax = fig.add_subplot()
    for i, item in enumerate(data["item"]):
        color = _QUADRANT_COLORS.get(str(quadrants[i]), "#555555")
        ax.errorbar(
            x[i],
            y[i],
            yerr=[[y[i] - low[i]], [high[i] - y[i]]],
            fmt="o",
            color=color,
            ecolor=color,
            elinewidth=1.5,
            capsize=3,
            markersize=6,
        )
        ax.annotate(
            group_text(item, language, dict(labels) if labels else None),
            (x[i], y[i]),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=9,
        )
    ax.axvline(x_line, color="#777777", linestyle="--", linewidth=1)
    ax.axhline(y_line, color="#777777", linestyle="--", linewidth=1)
    x_pad = 0.12 * (np.nanmax(x) - np.nanmin(x) or 1.0)
    ax.set_xlim(min(np.nanmin(x), x_line) - x_pad, max(np.nanmax(x), x_line) + x_pad * 2)
    y_min, y_max = min(np.nanmin(low), y_line), max(np.nanmax(high), y_line)
    y_pad = 0.08 * (y_max - y_min or 1.0)
    ax.set_ylim(max(0.0, y_min - y_pad), min(1.0, y_max + y_pad))
    corners = {
        "concentrate_here": (0.98, 0.02, "right", "bottom"),
        "keep_up": (0.98, 0.98, "right", "top"),
        "low_priority": (0.02, 0.02, "left", "bottom"),
        "possible_overkill": (0.02, 0.98, "left", "top"),
    }
    for code, (cx, cy, ha, va) in corners.items():
        ax.text(
            cx,
            cy,
            QUADRANT_LABELS[code][language],
            transform=ax.transAxes,
            ha=ha,
            va=va,
            color=_QUADRANT_COLORS[code],
            fontsize=10,
            fontweight="bold",
        )
    percent_axis(ax.yaxis)
    level = pct(float(data["confidence"].iloc[0])) if "confidence" in data.columns else "95%"
    x_title, y_title, note = (
        IPA_WORDS[key][language] for key in ("importance", "rate_axis", "lines_note")
    )
    source = IPA_SOURCES.get(str(data.attrs.get("importance_source")))
    ax.set_xlabel(x_title + (source[language] if source else ""))
    ax.set_ylabel(y_title.format(level=level))
    where = IPA_WORDS["chosen_lines" if chosen else "mean_lines"][language]
    fig.text(
        0.01, 0.0, note.format(where=where), fontsize=8, color="#555555", ha="left", va="bottom"
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def _quadrant(high_importance: Any, high_performance: Any) -> str:
    return QUADRANTS[(bool(high_importance), bool(high_performance))]
