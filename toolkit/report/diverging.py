"""Diverging stacked bars for ballot items (满意 | 基本满意 | 不满意) and five-point Likert items."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
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
    text_color,
    words,
)
from toolkit.report.palette import (
    LEVEL_COLORS,
    LEVEL_SIDE,
    item_label,
    level_code,
    level_color,
    level_label,
)

__all__ = ["DONT_KNOW_OPTIONS", "KNOWN_SCALES", "likert_bars"]

#: Scales recognised without ``levels=``, lowest level first (codes; labels are read too).
KNOWN_SCALES: tuple[tuple[str, ...], ...] = (
    ("dissatisfied", "basically_satisfied", "satisfied"),
    ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied"),
    ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree"),
)
DONT_KNOW_OPTIONS: tuple[str, ...] = ("side", "exclude")
_BALLOT = KNOWN_SCALES[0]


@dataclass
class _Table:
    """Counts per row (item x group) and level, plus don't-know counts."""

    levels: list[Any]
    rows: list[tuple[str, Any]]  # (item, group key or None)
    counts: np.ndarray  # rows x levels
    dont_know: np.ndarray  # rows


def _matches(value: Any, level: Any) -> bool:
    if value == level:
        return True
    code = level_code(level)
    return code is not None and level_code(value) == code


def _level_index(levels: list[Any]) -> dict[Any, int]:
    """Value -> level index, for the levels and every label of their codes."""
    out: dict[Any, int] = {}
    for i, level in enumerate(levels):
        out[level] = i
    return out


def _read(value: Any, levels: list[Any], exact: dict[Any, int], column: Hashable) -> int:
    """Index of ``value`` among ``levels`` (-1 don't know, -2 blank)."""
    if is_missing(value):
        return -2
    key = value.strip() if isinstance(value, str) else value
    if key in exact:
        return exact[key]
    code = level_code(key)
    if code is not None:
        for i, level in enumerate(levels):
            if level_code(level) == code:
                return i
        if code == "dont_know":
            return -1
    hint = did_you_mean(str(key), [str(v) for v in levels]) if isinstance(key, str) else ""
    raise DataError(
        f"column `{column}`: value {key!r} is not one of the levels "
        f"{', '.join(repr(v) for v in levels)}. Pass `levels=` listing every level from the "
        f"lowest to the highest (不了解 is recognised by itself).{hint}"
    )


def _auto_levels(values: list[Any], where: str) -> list[Any]:
    """A known scale holding every value (codes), else a ParameterError asking for ``levels``."""
    codes = {level_code(v) for v in values if not is_missing(v)}
    codes.discard("dont_know")
    if None not in codes:
        for scale in KNOWN_SCALES:
            if codes <= set(scale):
                return list(scale)
    odd = [v for v in values if not is_missing(v) and level_code(v) is None][:3]
    shown = f" (e.g. {', '.join(repr(v) for v in odd)})" if odd else ""
    raise ParameterError(
        f"{where}: the level order is unknown{shown}. Pass `levels=` from the lowest to the "
        "highest, e.g. levels=['不满意', '基本满意', '满意'], or use an ordered Categorical."
    )


def _levels_of(
    series: pd.Series | None, values: list[Any], levels: Sequence[Any] | None, where: str
) -> list[Any]:
    if levels is not None:
        if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence):
            raise ParameterError(
                "`levels` must be a list of the levels from the lowest to the highest, e.g. "
                f"['不满意', '基本满意', '满意']; got {levels!r}."
            )
        out = [v.strip() if isinstance(v, str) else v for v in levels]
        if len(out) < 2 or len(set(out)) != len(out) or any(is_missing(v) for v in out):
            raise ParameterError(
                f"`levels` must list at least two distinct, non-blank levels; got {levels!r}."
            )
        if any(level_code(v) == "dont_know" for v in out):
            raise ParameterError(
                "`levels` must not list 不了解 (don't know): it is not a point of the scale and "
                "is drawn apart (see `dont_know`)."
            )
        return out
    if series is not None and isinstance(series.dtype, pd.CategoricalDtype) and series.cat.ordered:
        return [c for c in series.cat.categories if level_code(c) != "dont_know"]
    return _auto_levels(values, where)


def _group_keys(data: pd.DataFrame, by: list[str]) -> tuple[list[Any], np.ndarray]:
    """Group keys in display order (every category, used or not) and the key number per row."""
    if not by:
        return [None], np.zeros(len(data), dtype=np.int64)
    orders = [ordered_values(data[col]) for col in by]
    keys: list[Any] = [()]
    for order in orders:
        keys = [(*k, v) for k in keys for v in order]
    if len(by) == 1:
        keys = [k[0] for k in keys]
    position = {_key_id(k): i for i, k in enumerate(keys)}
    rows = (
        data[by[0]].tolist()
        if len(by) == 1
        else list(zip(*(data[c].tolist() for c in by), strict=True))
    )
    index = np.array([position[_key_id(r)] for r in rows], dtype=np.int64)
    # crossed groups never observed are dropped (a single column keeps its unused categories)
    if len(by) > 1:
        used = np.unique(index)
        keys = [keys[i] for i in used]
        index = np.searchsorted(used, index)
    return keys, index


def _key_id(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(None if is_missing(v) else v for v in key)
    return None if is_missing(key) else key


def _from_ballots(
    data: pd.DataFrame, items: list[str], by: list[str], levels: Sequence[Any] | None
) -> _Table:
    check_columns(data, items + by)
    clash = set(items) & set(by)
    if clash:
        raise ParameterError(f"`items` and `by` must not share columns; both name {sorted(clash)}.")
    item_levels = []
    for item in items:
        values = list(pd.unique(data[item].astype(object)))
        item_levels.append(_levels_of(data[item], values, levels, f"column `{item}`"))
    first = item_levels[0]
    for item, lv in zip(items, item_levels, strict=True):
        if [level_code(v) or v for v in lv] != [level_code(v) or v for v in first]:
            raise ParameterError(
                f"likert_bars draws all items on one scale, but column `{item}` has levels "
                f"{lv!r} and column `{items[0]}` has {first!r}. Pass `levels=` or chart them "
                "separately."
            )
    keys, group_of_row = _group_keys(data, by)
    k = len(first)
    rows, counts, dont_know = [], [], []
    exact = _level_index(first)
    for item in items:
        codes = np.array(
            [_read(v, first, exact, item) for v in data[item].tolist()], dtype=np.int64
        )
        for g, key in enumerate(keys):
            mine = codes[group_of_row == g]
            rows.append((item, key))
            counts.append(np.bincount(mine[mine >= 0], minlength=k))
            dont_know.append(int((mine == -1).sum()))
    return _Table(first, rows, np.array(counts).reshape(len(rows), k), np.array(dont_know))


def _from_counts(
    data: pd.DataFrame, items: list[str], by: list[str], levels: Sequence[Any] | None
) -> _Table:
    check_columns(data, ["item", "level", "count", *by])
    known_items = list(pd.unique(data["item"]))
    missing = [i for i in items if i not in known_items]
    if missing:
        raise DataError(
            f"the counts table has no item {missing[0]!r} in its `item` column; its items are "
            f"{', '.join(repr(i) for i in known_items[:20])}."
            + did_you_mean(str(missing[0]), [str(i) for i in known_items])
        )
    part = data[data["item"].isin(items)]
    values = list(pd.unique(part["level"].astype(object)))
    lv = _levels_of(part["level"], values, levels, "the `level` column of the counts table")
    exact = _level_index(lv)
    counts_raw = pd.to_numeric(part["count"], errors="coerce")
    if counts_raw.isna().any() or (counts_raw < 0).any() or (counts_raw % 1 != 0).any():
        raise DataError("the `count` column of the counts table must hold whole numbers >= 0.")
    keys, group_of_row = _group_keys(part, by)
    k = len(lv)
    level_of_row = np.array([_read(v, lv, exact, "level") for v in part["level"].tolist()])
    item_of_row = part["item"].to_numpy()
    cnt = counts_raw.to_numpy(dtype=np.int64)
    rows, counts, dont_know = [], [], []
    for item in items:
        for g, key in enumerate(keys):
            mask = (item_of_row == item) & (group_of_row == g)
            table = np.zeros(k, dtype=np.int64)
            np.add.at(
                table, level_of_row[mask & (level_of_row >= 0)], cnt[mask & (level_of_row >= 0)]
            )
            rows.append((item, key))
            counts.append(table)
            dont_know.append(int(cnt[mask & (level_of_row == -1)].sum()))
    return _Table(lv, rows, np.array(counts).reshape(len(rows), k), np.array(dont_know))


def _sides(levels: list[Any], neutral: Any) -> list[int]:
    """-1 / 0 / +1 per level (lowest first); 基本满意 is always +1."""
    k = len(levels)
    if neutral is not None:
        matches = [i for i, v in enumerate(levels) if _matches(neutral, v)]
        if not matches:
            raise ParameterError(
                f"`neutral` must be one of the levels {levels!r}; got {neutral!r}."
                + did_you_mean(str(neutral), [str(v) for v in levels]),
                code="E_OPTION",
            )
        middle = matches[0]
        if level_code(levels[middle]) == "basically_satisfied":
            raise ParameterError(
                "`neutral` cannot be 基本满意: likert_bars always counts 基本满意 on the "
                "favourable side, as the broad satisfaction rate (满意率) does."
            )
        return [(-1 if i < middle else 1 if i > middle else 0) for i in range(k)]
    codes = [level_code(v) for v in levels]
    if all(c is not None and c in LEVEL_SIDE for c in codes):
        return [LEVEL_SIDE[c] for c in codes if c is not None]
    if k % 2 == 1:
        middle = k // 2
        if codes[middle] == "basically_satisfied":
            return [(-1 if i < middle else 1) for i in range(k)]
        return [(-1 if i < middle else 1 if i > middle else 0) for i in range(k)]
    return [(-1 if i < k // 2 else 1) for i in range(k)]


def likert_bars(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    levels: Sequence[Any] | None = None,
    labels: Mapping[Hashable, str] | None = None,
    by: str | Sequence[str] | None = None,
    neutral: Any = None,
    language: str = "zh",
    dont_know: str = "side",
    min_label: float = 0.07,
    title: str | None = None,
) -> Figure:
    """Diverging stacked bars of ballot items (满意 / 基本满意 / 不满意) or Likert items.

    Each bar is one item (or item x group) and shows the shares of its valid answers: the
    unfavourable levels to the left of the centre line, the favourable ones to the right, a neutral
    level (five-point items) split across the centre. 不了解 is not a point of the scale: it is
    shown in a separate panel at the right (its share of all answers) or left out with a note.

    Parameters
    ----------
    data : pandas.DataFrame
        Either raw ballots (one row per ballot, ``items`` are columns holding codes, Chinese or
        English labels, or ordered Categoricals), or a counts table with columns ``item``,
        ``level``, ``count`` (and the ``by`` columns), such as the output of
        :func:`toolkit.analysis.likert.likert_counts`; it is read as counts when ``items`` are
        not columns of ``data`` but it has those three columns.
    items : str or list of str
        The items (columns, or values of the ``item`` column of a counts table), top to bottom.
    levels : list, optional
        The levels from the lowest to the highest. Default: the categories of an ordered
        Categorical, else a known scale that holds every value: the ballot's 不满意 / 基本满意 /
        满意, the five-point 很不满意 ... 很满意, or 非常不同意 ... 非常同意 (codes and labels
        alike). Unused levels are kept: zero width, still in the legend.
    labels : dict, optional
        Display labels of items and groups (``{"attitude": "服务态度"}``); ballot items, subjects
        and ``{subject}__{item}`` names are labelled by themselves.
    by : str or list of str, optional
        Grouping columns: one bar per item and group (every category of a Categorical is shown,
        empty or not; an empty group is marked "no valid answers").
    neutral : optional
        The neutral level, drawn across the centre. Default: the level coded ``neutral`` /
        ``neither`` (一般, 中立), else the middle level of an odd scale with unknown levels.
    language : {"zh", "en"}
        Language of the level names, axis titles and notes.
    dont_know : {"side", "exclude"}
        ``"side"``: a narrow panel at the right shows the share of 不了解 among all answers (drawn
        for the ballot scale, or when any answer is 不了解); ``"exclude"``: no panel, a note
        says how many 不了解 answers were left out.
    min_label : float
        Segments at least this wide (a share of valid answers) are labelled with their percentage.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` holds the bars (one patch per row and level, zero-width ones included);
        ``fig.axes[1]``, when present, the 不了解 panel.

    Notes
    -----
    **基本满意 is on the favourable side**, next to the centre line, always (``neutral`` cannot
    be 基本满意). The broad satisfaction rate used in practice (满意率) is
    :math:`(S + B)/n`, with :math:`S, B` the numbers of 满意 and 基本满意 and :math:`n` the
    valid answers, so with this placement the right-hand length of a bar *is* the broad rate and its
    dark part the strict rate :math:`S/n`, as on the results sheet; the left-hand length is the
    dissatisfaction rate :math:`D/n`. Treating 基本满意 as neutral would make the bar ends match
    no published rate. Percentages are of valid answers (不了解 and blanks excluded, the default
    denominator of :func:`toolkit.analysis.satisfaction.satisfaction_rates`).

    Colours are fixed per level (:data:`toolkit.report.palette.LEVEL_COLORS`), so 满意 has one
    colour in every chart.

    References
    ----------
    Robbins, N. B. & Heiberger, R. M. (2011). Plotting Likert and other rating scales. *JSM
    Proceedings, Survey Research Methods Section*, 1058-1066 (R: ``HH::likert``,
    ``likert::likert``).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.report import likert_bars
    >>> ballots = pd.DataFrame({"attitude": ["满意"] * 12 + ["基本满意"] * 6 + ["不满意"] * 2,
    ...                         "results": ["满意"] * 10 + ["基本满意"] * 9 + ["不了解"]})
    >>> fig = likert_bars(ballots, items=["attitude", "results"])
    >>> len(fig.axes[0].patches)  # 2 items x 3 levels (unused 不满意 of results included)
    6
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['工作态度 (n=20)', '工作成效 (n=19)']
    """
    start(language)
    data = require_frame(data, "data", "raw ballots or a counts table")
    check_option("dont_know", dont_know, DONT_KNOW_OPTIONS)
    check_range("min_label", min_label, low=0, high=1)
    item_list = as_list("items", items)
    if not item_list:
        raise ParameterError("`items` must name at least one item.")
    by_list = as_list("by", by)
    is_counts = not all(i in data.columns for i in item_list) and {
        "item",
        "level",
        "count",
    } <= set(data.columns)
    table = (
        _from_counts(data, item_list, by_list, levels)
        if is_counts
        else _from_ballots(data, item_list, by_list, levels)
    )
    lv = table.levels
    k = len(lv)
    if k > 9:
        raise ParameterError(f"likert_bars takes at most 9 levels; got {k}.")
    sides = _sides(lv, neutral)
    if sides != sorted(sides):
        raise ParameterError(
            f"the levels {lv!r} must run from unfavourable to favourable (lowest first); pass "
            "`levels=` in that order."
        )
    colors = [level_color(v, position=i, of=k) for i, v in enumerate(lv)]
    names = [level_label(v, language) for v in lv]
    labels_map = dict(labels) if labels else None
    show_dk = dont_know == "side" and (
        [level_code(v) for v in lv] == list(_BALLOT) or bool(table.dont_know.sum())
    )
    dk_name = level_label("dont_know", language)

    # rows from the top: with groups, an item heading then its groups
    grouped = bool(by_list)
    slots: list[tuple[str, int | None]] = []  # (text, row index or None for a heading)
    for r, (item, key) in enumerate(table.rows):
        n = int(table.counts[r].sum())
        if grouped:
            if r == 0 or table.rows[r - 1][0] != item:
                slots.append((item_label(item, language, labels_map), None))
            text = group_text(key, language, labels_map)
        else:
            text = item_label(item, language, labels_map)
        slots.append((f"{text} ({words('n', language, n=n)})", r))

    height = 1.6 + 0.42 * len(slots)
    fig = new_figure(8.5, height)
    if show_dk:
        ax, ax_dk = fig.subplots(1, 2, sharey=True, width_ratios=[6, 1])
    else:
        ax, ax_dk = fig.subplots(1, 1), None
    y_of = {}
    for pos, (_, row) in enumerate(slots):
        if row is not None:
            y_of[row] = -pos
    for r in range(len(table.rows)):
        y = y_of[r]
        counts = table.counts[r]
        n = counts.sum()
        share = counts / n if n else np.zeros(k)
        neutral_width = float(sum(share[i] for i in range(k) if sides[i] == 0))
        left_edge = -neutral_width / 2
        right_edge = neutral_width / 2
        spans: dict[int, tuple[float, float]] = {}
        for i in range(k):  # neutral across the centre
            if sides[i] == 0:
                spans[i] = (-neutral_width / 2, float(share[i]))
        for i in reversed(range(k)):  # unfavourable, from the centre outwards
            if sides[i] < 0:
                left_edge -= float(share[i])
                spans[i] = (left_edge, float(share[i]))
        for i in range(k):  # favourable, from the centre outwards
            if sides[i] > 0:
                spans[i] = (right_edge, float(share[i]))
                right_edge += float(share[i])
        for i in range(k):
            left, width = spans[i]
            ax.barh(
                y,
                width,
                left=left,
                height=0.7,
                color=colors[i],
                edgecolor="white",
                linewidth=0.5 if width > 0 else 0,
            )
            if n and width >= min_label and width > 0:
                ax.text(
                    left + width / 2,
                    y,
                    pct(width),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_color(colors[i]),
                )
        if not n:
            ax.text(
                0,
                y,
                words("no_answers", language),
                ha="center",
                va="center",
                fontsize=8,
                color="#555555",
            )
        if ax_dk is not None:
            total = n + table.dont_know[r]
            dk_share = table.dont_know[r] / total if total else 0.0
            ax_dk.barh(y, dk_share, height=0.7, color=LEVEL_COLORS["dont_know"])
            if total and dk_share > 0:
                ax_dk.text(min(dk_share, 0.6) + 0.03, y, pct(dk_share), va="center", fontsize=8)
    for pos, (text, row) in enumerate(slots):
        if row is None:
            ax.text(-1.02, -pos, text, ha="left", va="center", fontweight="bold", fontsize=10)
    ax.set_yticks([-pos for pos, (_, r) in enumerate(slots) if r is not None])
    ax.set_yticklabels([text for text, r in slots if r is not None])
    ax.set_ylim(-len(slots) + 0.4, 0.6)
    ax.set_xlim(-1.02, 1.02)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    percent_axis(ax.xaxis, absolute=True)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlabel(words("likert_axis", language))
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if ax_dk is not None:
        ax_dk.set_xlim(0, 1)
        ax_dk.set_xticks([0, 1])
        percent_axis(ax_dk.xaxis)
        ax_dk.set_xlabel(words("dont_know_axis", language), fontsize=8)
        ax_dk.tick_params(axis="y", length=0, labelleft=False)
        for spine in ("top", "right"):
            ax_dk.spines[spine].set_visible(False)
    handles = [Patch(facecolor=c, label=name) for c, name in zip(colors, names, strict=True)]
    if show_dk:
        handles.append(Patch(facecolor=LEVEL_COLORS["dont_know"], label=dk_name))
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        frameon=False,
        fontsize=9,
    )
    notes = []
    if "basically_satisfied" in [level_code(v) for v in lv]:
        notes.append(words("basic_note", language))
    if not show_dk and table.dont_know.sum():
        notes.append(
            words("dont_know_excluded", language, level=dk_name, count=int(table.dont_know.sum()))
        )
    if notes:
        fig.supxlabel("\n".join(notes), fontsize=7, color="#444444")
    if title:
        fig.suptitle(title)
    return fig
