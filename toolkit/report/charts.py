"""Dot plots of rates with intervals, turnout against the roster, trends over meetings."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from toolkit._checks import check_columns, check_option, check_range, did_you_mean
from toolkit._checks import column_list as as_list
from toolkit.errors import DataError, ParameterError
from toolkit.report._common import (
    group_text,
    is_missing,
    new_figure,
    ordered_values,
    pct,
    percent_axis,
    require_frame,
    start,
    words,
)
from toolkit.report.palette import (
    GROUP_COLORS,
    GROUP_MARKERS,
    LEVEL_COLORS,
    MEASURE_COLORS,
    MEASURE_LABELS,
    item_label,
    level_code,
)

__all__ = ["TURNOUT_KINDS", "rate_dotplot", "save_figure", "trend_chart", "turnout_chart"]

TURNOUT_KINDS: tuple[str, ...] = ("rate", "counts")
_ALL = "(all)"  # the overall rows of toolkit.analysis.participation.turnout


def _group_color(value: Any, index: int) -> str:
    """Measures and levels keep their own colour; other groups take Okabe-Ito in order."""
    if isinstance(value, str):
        if value in MEASURE_COLORS:
            return MEASURE_COLORS[value]
        code = level_code(value)
        if code is not None:
            return LEVEL_COLORS[code]
    return GROUP_COLORS[index % len(GROUP_COLORS)]


def _confidence(frame: pd.DataFrame) -> str | None:
    if "confidence" not in frame.columns:
        return None
    values = pd.unique(frame["confidence"].dropna())
    return pct(float(values[0])) if len(values) == 1 else None


def _same(a: Any, b: Any) -> bool:
    return (is_missing(a) and is_missing(b)) or a == b


def _tidy_axes(ax: Axes, *, keep: Sequence[str] = ("left", "bottom")) -> None:
    for side in ("top", "right", "left", "bottom"):
        if side not in keep:
            ax.spines[side].set_visible(False)


# ----------------------------------------------------------------------------------------------
# rate_dotplot
# ----------------------------------------------------------------------------------------------


def rate_dotplot(
    rates: pd.DataFrame,
    *,
    measure: str | None = "broad",
    y: str = "item",
    by: str | None = None,
    panel: str | None = None,
    labels: Mapping[Hashable, str] | None = None,
    reference: float | None = None,
    sort: bool = True,
    language: str = "zh",
    title: str | None = None,
) -> Figure:
    """Satisfaction rates with confidence intervals as a dot plot, with ``n`` beside each dot.

    Parameters
    ----------
    rates : pandas.DataFrame
        Tidy rates with columns ``estimate``, ``ci_low``, ``ci_high``, ``n`` and the ``y``,
        ``by``, ``panel`` columns, such as the output of
        :func:`toolkit.analysis.satisfaction.satisfaction_rates` (item x group x measure).
    measure : str or None
        The rows of ``rates["measure"]`` to draw (``"strict"``, ``"broad"``, ``"dissatisfied"``);
        ``None`` when ``rates`` has no ``measure`` column.
    y : str
        The column whose values are the rows of the plot (``"item"``).
    by : str, optional
        A column whose values are drawn side by side in each row (community, rater role), each in
        its own colour and marker.
    panel : str, optional
        A column with one panel per value (the evaluated subject, a meeting); panels share the
        rate axis.
    labels : dict, optional
        Display labels of rows, groups and panels (ballot items and subjects are labelled by
        themselves).
    reference : float, optional
        A vertical reference line at this rate (a target such as 0.8).
    sort : bool
        Sort rows by the point estimate (highest at the top; the mean over ``by`` groups), else
        keep their order of appearance.
    language : {"zh", "en"}
        Language of the axis title and notes.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel; each drawn rate is one point with a horizontal interval line.

    Notes
    -----
    Sorting by the point estimate makes the chart easy to read, but it is not a ranking: with the
    16-50 raters of a meeting two items whose intervals overlap cannot be told apart, so the
    intervals are always drawn and a note under the chart says so when ``sort=True``. A row whose
    ``n`` is 0 (nobody answered) keeps its place, marked "no valid answers", and goes last when
    sorting.

    References
    ----------
    Cleveland, W. S. & McGill, R. (1984). Graphical perception. *JASA* 79, 531-554 (dot plots);
    the small-meeting caution follows ``docs/domain.md`` (Evaluation ballots).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import satisfaction_rates
    >>> from toolkit.report import rate_dotplot
    >>> ballots = pd.DataFrame({"attitude": ["满意"] * 15 + ["不满意"] * 5,
    ...                         "results": ["基本满意"] * 10 + ["满意"] * 10})
    >>> rates = satisfaction_rates(ballots, items=["attitude", "results"])
    >>> fig = rate_dotplot(rates, measure="broad", reference=0.8)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['工作成效', '工作态度']
    """
    start(language)
    rates = require_frame(rates, "rates", "tidy rates, e.g. from satisfaction_rates")
    extra = [c for c in (by, panel) if c is not None]
    check_columns(rates, [y, "estimate", "ci_low", "ci_high", "n", *extra], argument="rates")
    if len(set([y, *extra])) != 1 + len(extra):
        raise ParameterError(
            f"`y`, `by` and `panel` must name different columns; got {[y, *extra]}."
        )
    frame = rates
    if measure is not None:
        if "measure" not in rates.columns:
            raise ParameterError(
                "`rates` has no `measure` column; pass measure=None to draw every row."
            )
        present = [str(m) for m in pd.unique(rates["measure"])]
        if measure not in present:
            raise ParameterError(
                f"`measure` must be one of {', '.join(repr(m) for m in present)}; got "
                f"{measure!r}.{did_you_mean(str(measure), present)}",
                code="E_OPTION",
            )
        frame = rates[rates["measure"] == measure]
    elif "measure" in rates.columns and rates["measure"].nunique() > 1:
        raise ParameterError(
            "`rates` holds several measures; pick one with `measure=` (e.g. measure='broad')."
        )
    if reference is not None:
        check_range("reference", reference, low=0, high=1)
    labels_map = dict(labels) if labels else None
    panels = ordered_values(frame[panel]) if panel else [None]
    groups = ordered_values(frame[by]) if by else [None]
    panel_rows = [
        frame.loc[frame[panel].map(lambda v, p=p: _same(v, p)), y].nunique() if panel else 0
        for p in panels
    ]
    n_rows = max(max(panel_rows), 1) if panel else max(frame[y].nunique(), 1)
    per_row = 0.4 * (1 + 0.25 * (len(groups) - 1))
    fig = new_figure(8.0, 1.4 + len(panels) * (0.5 + per_row * n_rows))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    color_of = {
        _key(g): (
            MEASURE_COLORS.get(str(measure), GROUP_COLORS[0]) if by is None else _group_color(g, i)
        )
        for i, g in enumerate(groups)
    }
    marker_of = {_key(g): GROUP_MARKERS[i % len(GROUP_MARKERS)] for i, g in enumerate(groups)}
    width = 0.6 if len(groups) > 1 else 0.0
    offsets = np.linspace(-width / 2, width / 2, len(groups)) if len(groups) > 1 else [0.0]
    for ax, p in zip(axes, panels, strict=True):
        part = frame[frame[panel].map(lambda v, p=p: _same(v, p))] if panel else frame
        rows = list(pd.unique(part[y]))
        if sort:
            means = {r: part.loc[part[y] == r, "estimate"].astype(float).mean() for r in rows}
            rows.sort(
                key=lambda r: (np.isnan(means[r]), -means[r] if not np.isnan(means[r]) else 0)
            )
        for pos, row in enumerate(rows):
            ypos = -pos
            for g, off in zip(groups, offsets, strict=True):
                sel = part[part[y] == row]
                if by:
                    sel = sel[sel[by].map(lambda v, g=g: _same(v, g))]
                yy = ypos - off
                if len(sel) > 1:
                    where = f"{y} {row!r}" + (f", {by} {g!r}" if by else "")
                    raise DataError(
                        f"`rates` has {len(sel)} rows for {where}; name the column that tells "
                        "them apart as `by` or `panel`, or filter the rows first."
                    )
                if sel.empty:  # a group without a row (an unused category) is an empty group
                    est = lo = hi = np.nan
                    n = 0
                else:
                    rec = sel.iloc[0]
                    est, lo, hi = (float(rec[c]) for c in ("estimate", "ci_low", "ci_high"))
                    n = 0 if is_missing(rec["n"]) else int(rec["n"])
                color = color_of[_key(g)]
                if n == 0 or np.isnan(est):
                    ax.text(
                        0.01,
                        yy,
                        f"{words('n', language, n=n)} · {words('no_answers', language)}",
                        va="center",
                        fontsize=7,
                        color="#555555",
                    )
                    continue
                ax.plot([lo, hi], [yy, yy], color=color, linewidth=2, solid_capstyle="butt")
                ax.plot(
                    [est],
                    [yy],
                    marker=marker_of[_key(g)],
                    color=color,
                    markersize=7,
                    markeredgecolor="white",
                    linestyle="none",
                )
                ax.text(
                    hi + 0.015,
                    yy,
                    words("n", language, n=n),
                    va="center",
                    fontsize=7,
                    color="#333333",
                )
        ax.set_yticks([-pos for pos in range(len(rows))])
        ax.set_yticklabels([item_label(r, language, labels_map) for r in rows])
        ax.set_ylim(-max(len(rows), 1) + 0.5, 0.5)
        ax.set_xlim(0, 1.12)
        ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        percent_axis(ax.xaxis)
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
        _tidy_axes(ax, keep=("bottom",))
        if reference is not None:
            ax.axvline(
                reference,
                color="#333333",
                linestyle="--",
                linewidth=1,
                label=words("reference", language, value=pct(reference)),
            )
        if panel:
            ax.set_title(
                group_text(p, language, labels_map), loc="left", fontsize=10, fontweight="bold"
            )
    what = (
        words(str(measure), language)
        if measure in ("strict", "broad", "dissatisfied")
        else (str(measure) if measure is not None else "estimate")
    )
    level = _confidence(frame)
    axes[-1].set_xlabel(words("with_ci", language, what=what, level=level) if level else what)
    handles: list[Artist] = []
    if by:
        handles = [
            Line2D(
                [],
                [],
                color=color_of[_key(g)],
                marker=marker_of[_key(g)],
                linewidth=2,
                label=group_text(g, language, labels_map),
            )
            for g in groups
        ]
    if reference is not None:
        handles += [h for h in axes[0].get_legend_handles_labels()[0]]
    if handles:
        axes[0].legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=min(len(handles), 5),
            frameon=False,
            fontsize=9,
        )
    if sort:
        fig.supxlabel(words("sort_note", language), fontsize=7, color="#444444")
    if title:
        fig.suptitle(title)
    return fig


def _key(value: Any) -> Any:
    return None if is_missing(value) else value


# ----------------------------------------------------------------------------------------------
# turnout_chart
# ----------------------------------------------------------------------------------------------


def turnout_chart(
    turnout: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] = ("age_band", "gender"),
    roster: pd.DataFrame | None = None,
    attended: str = "attended",
    kind: str = "rate",
    labels: Mapping[Hashable, str] | None = None,
    language: str = "zh",
    title: str | None = None,
) -> Figure:
    """Turnout by age band and gender (or any one or two roster columns) against the roster.

    Parameters
    ----------
    turnout : pandas.DataFrame, optional
        The output of :func:`toolkit.analysis.participation.turnout` with the same ``by``
        (columns ``by``, ``measure``, ``count``, ``n``, ``estimate``, ``ci_low``, ``ci_high``).
        Give this or ``roster``.
    by : str or (str, str)
        The first column runs along the x axis (age band); the second, if any, gives side-by-side
        bars in their own colours (gender). Age bands keep the order of a Categorical, else sort.
    roster : pandas.DataFrame, optional
        One row per invited person with the ``attended`` flag; turnout is computed from it with
        :func:`toolkit.analysis.participation.turnout` (Wilson intervals).
    attended : str
        The attendance column of ``roster``.
    kind : {"rate", "counts"}
        ``"rate"``: bars of turnout (attended / invited) with confidence intervals and ``n``
        invited above, and a dashed line at the overall turnout; ``"counts"``: for each group an
        outlined bar of people invited with the people who attended filled inside it.
    labels : dict, optional
        Display labels of the group values (``female``/``male`` are labelled by themselves).
    language : {"zh", "en"}
        Language of the axis titles.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; with ``kind="rate"`` one bar per group present in the table (a group with no
        one invited has no bar and is marked ``n=0``).

    Notes
    -----
    turnout :math:`= x/n` per group, :math:`x` attended and :math:`n` invited; intervals are the
    table's (Wilson by default, R ``prop.test(x, n, correct = FALSE)``).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.report import turnout_chart
    >>> roster = pd.DataFrame({
    ...     "age_band": ["18-29", "18-29", "60-69", "60-69", "60-69", "70-79"],
    ...     "gender": ["female", "male", "female", "male", "female", "male"],
    ...     "attended": [False, True, True, True, False, True]})
    >>> fig = turnout_chart(roster=roster)
    >>> len(fig.axes[0].patches), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    (5, ['18-29', '60-69', '70-79'])
    """
    from toolkit.analysis.participation import turnout as compute_turnout

    start(language)
    check_option("kind", kind, TURNOUT_KINDS)
    by_list = as_list("by", by)
    if not 1 <= len(by_list) <= 2:
        raise ParameterError(
            f"`by` must name one or two columns (x axis, then bars side by side); got {by_list!r}."
        )
    if (turnout is None) == (roster is None):
        raise ParameterError(
            "give either `turnout` (the table of toolkit.analysis.turnout) or `roster` (one row "
            "per invited person), not both and not neither."
        )
    if roster is not None:
        roster = require_frame(roster, "roster", "one row per invited person")
        table = compute_turnout(roster, attended=attended, by=by_list)
        source = roster
    else:
        table = require_frame(turnout, "turnout", "the output of toolkit.analysis.turnout")
        check_columns(
            table, [*by_list, "count", "n", "estimate", "ci_low", "ci_high"], argument="turnout"
        )
        source = table
    if "measure" in table.columns:
        table = table[table["measure"] == "persons"]
    is_all = np.logical_or.reduce([table[c].astype(object) == _ALL for c in by_list])
    overall = table[np.logical_and.reduce([table[c].astype(object) == _ALL for c in by_list])]
    cells = table[~is_all]
    labels_map = dict(labels) if labels else None
    xs = [v for v in ordered_values(source[by_list[0]]) if v != _ALL]
    hues = (
        [v for v in ordered_values(source[by_list[1]]) if v != _ALL]
        if len(by_list) == 2
        else [None]
    )
    if not xs:
        raise DataError(f"`{by_list[0]}` has no values to chart.")
    fig = new_figure(max(5.0, 1.2 + 0.9 * len(xs) * max(1, len(hues) * 0.6)), 4.2)
    ax = fig.subplots()
    group_width = 0.8
    bar = group_width / len(hues)
    for j, h in enumerate(hues):
        color = GROUP_COLORS[j % len(GROUP_COLORS)]
        for i, xv in enumerate(xs):
            sel = cells[cells[by_list[0]].map(lambda v, xv=xv: _same(v, xv))]
            if h is not None:
                sel = sel[sel[by_list[1]].map(lambda v, h=h: _same(v, h))]
            x = i - group_width / 2 + bar * (j + 0.5)
            if sel.empty or int(sel.iloc[0]["n"]) == 0:
                ax.text(
                    x,
                    0.01,
                    words("n", language, n=0),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#555555",
                    rotation=90,
                )
                continue
            rec = sel.iloc[0]
            count, n = int(rec["count"]), int(rec["n"])
            if kind == "rate":
                est, lo, hi = float(rec["estimate"]), float(rec["ci_low"]), float(rec["ci_high"])
                ax.bar(x, est, width=bar * 0.9, color=color)
                ax.errorbar(
                    [x],
                    [est],
                    yerr=[[est - lo], [hi - est]],
                    color="#222222",
                    capsize=3,
                    linewidth=1,
                )
                ax.text(
                    x, hi + 0.02, words("n", language, n=n), ha="center", va="bottom", fontsize=7
                )
            else:
                ax.bar(x, n, width=bar * 0.9, facecolor="white", edgecolor=color, linewidth=1.2)
                ax.bar(x, count, width=bar * 0.9, color=color)
                ax.text(x, n, f"{count}/{n}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels([group_text(v, language, labels_map) for v in xs])
    ax.set_xlabel(group_text(by_list[0], language, labels_map))
    _tidy_axes(ax)
    handles: list[Artist] = []

    if hues != [None]:
        handles = [
            Patch(
                facecolor=GROUP_COLORS[j % len(GROUP_COLORS)],
                label=group_text(h, language, labels_map),
            )
            for j, h in enumerate(hues)
        ]
    if kind == "rate":
        ax.set_ylim(0, 1.12)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        percent_axis(ax.yaxis)
        ax.set_ylabel(words("turnout", language))
        if len(overall):
            value = float(overall.iloc[0]["estimate"])
            line = ax.axhline(
                value,
                color="#333333",
                linestyle="--",
                linewidth=1,
                label=words("overall", language, value=pct(value)),
            )
            handles.append(line)
    else:
        ax.set_ylabel(
            f"{words('persons', language)} ({words('attended', language)} / "
            f"{words('invited', language)})"
        )
        handles.append(
            Patch(facecolor="white", edgecolor="#333333", label=words("invited", language))
        )
        handles.append(Patch(facecolor="#777777", label=words("attended", language)))
    if handles:
        ax.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=min(len(handles), 5),
            frameon=False,
            fontsize=9,
        )
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------------------------
# trend_chart
# ----------------------------------------------------------------------------------------------


def trend_chart(
    data: pd.DataFrame,
    *,
    x: str = "date",
    y: str = "estimate",
    group: str | None = None,
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    labels: Mapping[Hashable, str] | None = None,
    reference: float | None = None,
    percent: bool | None = None,
    ylabel: str | None = None,
    language: str = "zh",
    title: str | None = None,
) -> Figure:
    """Trends over meetings: one line per group, with its confidence band.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per meeting (x) and group, e.g. :func:`~toolkit.analysis.satisfaction.
        satisfaction_rates` results stacked with a ``date`` column.
    x : str
        Dates (datetimes, or strings pandas can read as dates), numbers, or labels (meeting
        names, drawn in order of appearance or Categorical order).
    y : str
        The estimate.
    group : str, optional
        One line per value (item, community, ``measure``); measures and satisfaction levels keep
        their fixed colours, other groups take the Okabe-Ito colours in order; markers differ too.
    low, high : str or None
        Interval columns drawn as a band; skipped when either is None or missing from ``data``.
    labels : dict, optional
        Display labels of groups.
    reference : float, optional
        A horizontal reference line.
    percent : bool, optional
        Show ``y`` as percentages; default when every value lies in [0, 1].
    ylabel : str, optional
        Y axis title (default: the name of ``y``, or the satisfaction rate when ``group`` is
        ``measure``).
    language : {"zh", "en"}
        Language of the notes.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one line per group (a group whose values are all missing appears in the legend
        only), one filled band per group with intervals.

    Notes
    -----
    Points are joined in order of ``x``; a missing estimate breaks the line. Bands are the
    intervals of each meeting, not a band for the trend itself; a trend test belongs in the
    analysis (e.g. a logistic model with the meeting date), not in the chart.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.report import trend_chart
    >>> data = pd.DataFrame({"date": ["2025-03-01", "2025-09-01", "2026-03-01"] * 2,
    ...                      "community": ["A"] * 3 + ["B"] * 3,
    ...                      "estimate": [0.70, 0.78, 0.85, 0.60, 0.58, 0.66],
    ...                      "ci_low": [0.5, 0.6, 0.7, 0.4, 0.4, 0.5],
    ...                      "ci_high": [0.85, 0.9, 0.95, 0.78, 0.75, 0.8]})
    >>> fig = trend_chart(data, group="community")
    >>> len(fig.axes[0].lines), len(fig.axes[0].collections)
    (2, 2)
    """
    start(language)
    data = require_frame(data, "data", "one row per meeting and group")
    check_columns(data, [x, y, *([group] if group else [])])
    band = low is not None and high is not None and low in data.columns and high in data.columns
    if reference is not None and not np.isfinite(reference):
        raise ParameterError(f"`reference` must be a finite number; got {reference!r}.")
    values = pd.to_numeric(data[y], errors="coerce")
    if (values.isna() & data[y].notna()).any():
        raise DataError(
            f"column `{y}` must hold numbers; found {data[y][values.isna() & data[y].notna()].iloc[0]!r}."
        )
    xv, ticks = _x_positions(data[x])
    labels_map = dict(labels) if labels else None
    if percent is None:
        finite = values.dropna()
        percent = bool(len(finite)) and bool(((finite >= 0) & (finite <= 1)).all())
    fig = new_figure(8.0, 4.2)
    ax = fig.subplots()
    groups = ordered_values(data[group]) if group else [None]
    is_measure = bool(group) and all(g in MEASURE_COLORS for g in groups)
    if is_measure:
        groups = [m for m in MEASURE_COLORS if m in groups]
    for i, g in enumerate(groups):
        mask = (
            data[group].map(lambda v, g=g: _same(v, g)).to_numpy()
            if group
            else np.ones(len(data), bool)
        )
        order = np.argsort(xv[mask], kind="stable")
        gx = xv[mask][order]
        gy = values.to_numpy(dtype=float)[mask][order]
        color = _group_color(g, i) if group else MEASURE_COLORS["broad"]
        label: str | None
        if is_measure and not (labels_map and g in labels_map):
            label = MEASURE_LABELS[str(g)][language]
        else:
            label = group_text(g, language, labels_map) if group else None
        ax.plot(
            gx,
            gy,
            color=color,
            marker=GROUP_MARKERS[i % len(GROUP_MARKERS)],
            linewidth=1.8,
            markersize=6,
            label=label,
        )
        if band:
            lo = pd.to_numeric(data[low], errors="coerce").to_numpy(dtype=float)[mask][order]
            hi = pd.to_numeric(data[high], errors="coerce").to_numpy(dtype=float)[mask][order]
            ax.fill_between(gx, lo, hi, color=color, alpha=0.18, linewidth=0)
    if ticks is not None:
        ax.set_xticks(range(len(ticks)))
        ax.set_xticklabels([str(t) for t in ticks])
    elif np.issubdtype(xv.dtype, np.datetime64):
        locator = AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.set_xlabel(item_label(x, language, labels_map))
    if reference is not None:
        ax.axhline(
            reference,
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=words(
                "reference", language, value=pct(reference) if percent else f"{reference:g}"
            ),
        )
    if percent:
        ax.set_ylim(0, 1.02)
        percent_axis(ax.yaxis)
    if ylabel is None:
        ylabel = words("rate", language) if is_measure else item_label(y, language, labels_map)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    _tidy_axes(ax)
    if group or reference is not None:
        ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=min(len(groups) + 1, 5),
            frameon=False,
            fontsize=9,
        )
    if title:
        fig.suptitle(title)
    return fig


def _x_positions(series: pd.Series) -> tuple[np.ndarray, list[Any] | None]:
    """Positions of the x values and, for labels, the tick labels in order."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.to_numpy(dtype="datetime64[ns]"), None
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float), None
    if not isinstance(series.dtype, pd.CategoricalDtype):
        try:
            parsed = pd.to_datetime(series, errors="raise", format="ISO8601")
            return parsed.to_numpy(dtype="datetime64[ns]"), None
        except (ValueError, TypeError):
            pass
    order = (
        list(series.cat.categories)
        if isinstance(series.dtype, pd.CategoricalDtype)
        else list(pd.unique(series))
    )
    position = {v: i for i, v in enumerate(order)}
    return np.array([position.get(v, np.nan) for v in series], dtype=float), order


# ----------------------------------------------------------------------------------------------
# save_figure
# ----------------------------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save a chart to ``path`` (format from the suffix: .png, .pdf, .svg, ...).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A chart of :mod:`toolkit.report`.
    path : str or path-like
        The file; its folder is created if needed.
    dpi : int
        Resolution of raster formats (150 is sharp on a projector and small on disk).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from toolkit.report import likert_bars, save_figure
    >>> fig = likert_bars(pd.DataFrame({"overall": ["满意", "基本满意"]}), items="overall")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, pathlib.Path(tmp) / "overall.png")
    ...     out.stat().st_size > 1000
    True
    """
    if not isinstance(fig, Figure):
        raise ParameterError(f"`fig` must be a matplotlib Figure; got {type(fig).__name__}.")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)):
        raise ParameterError(f"`dpi` must be a whole number; got {dpi!r}.")
    check_range("dpi", int(dpi), low=10, high=1200)
    out = Path(path)
    suffix = out.suffix.lower().lstrip(".")
    supported = fig.canvas.get_supported_filetypes()
    if suffix not in supported:
        raise ParameterError(
            f"`path` must end with one of {', '.join('.' + s for s in sorted(supported))}; got "
            f"{str(out)!r}.{did_you_mean(suffix, list(supported))}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=int(dpi))
    return out
