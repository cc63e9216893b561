"""Likert items: counts and shares per level, and a per-item summary of the level codes.

Two tidy shapes:

- :func:`likert_counts` (long): one row per item x group x level, every declared level kept (an
  unused level has count 0), for stacked bar charts and for published tables of counts.
- :func:`likert_summary` (wide): one row per item x group with one column per statistic of the
  level codes 1..k (n, mean, sd, se, median, t interval of the mean, top-box, top-2-box and
  bottom-2-box shares).

Levels are ordered from the least to the most favourable (code 1 = lowest, code k = highest),
taken from an ordered :class:`pandas.Categorical` or from ``levels=`` (which takes precedence).
For the evaluation ballot that is ``["不满意", "基本满意", "满意"]``: the top box is 满意.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_range, did_you_mean
from toolkit.analysis.satisfaction import (
    _check_frame,
    _group_index,
    _is_blank,
    _items_and_groups,
    _norm,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["likert_counts", "likert_summary"]


def _item_levels(series: pd.Series, item: Hashable, levels: Sequence[Any] | None) -> list[Any]:
    if levels is not None:
        if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence):
            raise ParameterError(
                "`levels` must be a list of the levels from the lowest to the highest, e.g. "
                f"['不满意', '基本满意', '满意']; got {levels!r}."
            )
        out = [_norm(v) for v in levels]
        if len(out) < 2:
            raise ParameterError(f"`levels` must list at least two levels; got {levels!r}.")
        if len(set(out)) != len(out):
            raise ParameterError(f"`levels` lists a level twice: {levels!r}.")
        if any(_is_blank(v) for v in out):
            raise ParameterError("`levels` must not list a blank value.")
        return out
    if isinstance(series.dtype, pd.CategoricalDtype) and series.cat.ordered:
        return [_norm(v) for v in series.cat.categories]
    raise ParameterError(
        f"column `{item}` is not an ordered Categorical, so its level order is unknown: pass "
        "`levels=` from the lowest to the highest, e.g. levels=['不满意', '基本满意', '满意'], "
        "or convert the column with pd.Categorical(values, categories=[...], ordered=True)."
    )


def _codes(
    series: pd.Series, item: Hashable, levels: list[Any], exclude: Sequence[Any]
) -> np.ndarray:
    """Level code 1..k per row, 0 for missing (blank or excluded)."""
    lookup = {v: i + 1 for i, v in enumerate(levels)}
    excluded = {_norm(v) for v in exclude}
    values, uniques = pd.factorize(series, use_na_sentinel=True)
    lut = np.zeros(len(uniques) + 1, dtype=np.int64)
    for j, u in enumerate(uniques):
        if _is_blank(u):
            continue
        key = _norm(u)
        if key in excluded:
            continue
        if key not in lookup:
            hint = did_you_mean(str(key), [str(v) for v in levels]) if isinstance(key, str) else ""
            raise DataError(
                f"column `{item}`: value {key!r} is not one of the levels "
                f"{', '.join(repr(v) for v in levels)}. Add it to `levels`, or to `exclude` to "
                f"treat it as missing (as 不了解 usually is).{hint}"
            )
        lut[j] = lookup[key]
    return lut[np.where(values < 0, len(uniques), values)]


def _tables(
    data: pd.DataFrame,
    items: str | Sequence[str],
    by: str | Sequence[str] | None,
    levels: Sequence[Any] | None,
    exclude: Sequence[Any] | None,
) -> tuple[list[str], list[str], list[tuple[Any, ...]], list[tuple[list[Any], np.ndarray]]]:
    data = _check_frame(data)
    item_list, by_list = _items_and_groups(data, items, by)
    if exclude is None:
        exclude = ()
    elif isinstance(exclude, (str, bytes)) or not isinstance(exclude, Sequence):
        exclude = [exclude]
    groups, keys = _group_index(data, by_list)
    tables = []
    for item in item_list:
        item_levels = _item_levels(data[item], item, levels)
        clash = [v for v in exclude if _norm(v) in item_levels]
        if clash:
            raise ParameterError(f"{clash[0]!r} is both a level and in `exclude`.")
        k = len(item_levels)
        codes = _codes(data[item], item, item_levels, exclude)
        flat = groups * (k + 1) + codes
        table = np.bincount(flat, minlength=len(keys) * (k + 1)).reshape(len(keys), k + 1)
        tables.append((item_levels, table[:, 1:]))  # drop the missing column
    return item_list, by_list, keys, tables


def _with_groups(
    frame: pd.DataFrame, by: list[str], keys: list[tuple[Any, ...]], group_of_row: np.ndarray
) -> pd.DataFrame:
    for j, col in enumerate(by):
        values = np.array([key[j] for key in keys], dtype=object)[group_of_row]
        frame.insert(1 + j, col, pd.Series(values).infer_objects())
    return frame


def likert_counts(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    levels: Sequence[Any] | None = None,
    exclude: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Counts and shares of every level of Likert items (long table).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : str or list of str
        The Likert columns.
    by : str or list of str, optional
        Grouping columns (missing labels form their own group; groups in sorted order,
        category order for a Categorical).
    levels : list, optional
        The levels from the lowest to the highest; default: the categories of each ordered
        Categorical column.
    exclude : list, optional
        Values read as missing (for example ``["不了解"]``). Blanks are always missing.

    Returns
    -------
    pandas.DataFrame
        One row per item x group x level (levels in order, unused levels with count 0):
        ``item``, the ``by`` columns, ``level``, ``code`` (1..k), ``count``, ``n`` (answers of
        the item in the group, missing excluded), ``estimate`` (the share ``count / n``, NaN
        when ``n == 0``).

    References
    ----------
    R: ``table(factor(x, levels = ...))`` and ``prop.table``; ``likert::likert`` summarises the
    same counts.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.likert import likert_counts
    >>> df = pd.DataFrame({"q": ["满意", "满意", "基本满意", "不了解"]})
    >>> likert_counts(df, items="q", levels=["不满意", "基本满意", "满意"], exclude=["不了解"])
      item level  code  count  n  estimate
    0    q   不满意     1      0  3  0.000000
    1    q  基本满意     2      1  3  0.333333
    2    q    满意     3      2  3  0.666667
    """
    item_list, by_list, keys, tables = _tables(data, items, by, levels, exclude)
    parts = []
    for item, (item_levels, table) in zip(item_list, tables, strict=True):
        n_groups, k = table.shape
        n = table.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = table / n[:, None]
        part = pd.DataFrame(
            {
                "item": item,
                "level": pd.Series(np.tile(np.array(item_levels, dtype=object), n_groups)),
                "code": np.tile(np.arange(1, k + 1), n_groups),
                "count": table.ravel(),
                "n": np.repeat(n, k),
                "estimate": np.where(np.repeat(n, k) > 0, share.ravel(), np.nan),
            }
        )
        parts.append(_with_groups(part, by_list, keys, np.repeat(np.arange(n_groups), k)))
    return pd.concat(parts, ignore_index=True)


def likert_summary(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    levels: Sequence[Any] | None = None,
    exclude: Sequence[Any] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Summary of Likert items on their level codes 1..k (one row per item x group).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    items : str or list of str
        The Likert columns.
    by : str or list of str, optional
        Grouping columns (missing labels form their own group; groups in sorted order,
        category order for a Categorical).
    levels : list, optional
        The levels from the lowest to the highest; default: the categories of each ordered
        Categorical column. Level i gets code i (1-based).
    exclude : list, optional
        Values read as missing (for example ``["不了解"]``). Blanks are always missing.
    confidence : float
        Confidence level of the t interval of the mean.

    Returns
    -------
    pandas.DataFrame
        ``item``, the ``by`` columns, ``n`` (answers), ``n_levels`` (k), ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high`` (t interval of the mean), ``confidence``, ``median``,
        ``top_box`` (share of level k), ``top2_box`` (levels k-1 and k), ``bottom2_box``
        (levels 1 and 2). ``n == 0`` gives NaN statistics; ``n == 1`` gives NaN ``sd``, ``se``
        and interval. Per-level counts are in :func:`likert_counts`.

    Notes
    -----
    With codes :math:`x_1..x_n`: :math:`\bar x`, :math:`s` (denominator :math:`n-1`),
    :math:`se = s/\sqrt n`, interval :math:`\bar x \pm t_{n-1,1-\alpha/2}\, se` (R
    ``t.test``), median as R ``median`` (mean of the two middle codes for even :math:`n`).
    Treating level codes as interval data is a convention; report the shares as well.

    References
    ----------
    R: ``mean``, ``sd``, ``median``, ``t.test(x)$conf.int``.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.likert import likert_summary
    >>> levels = ["不满意", "基本满意", "满意"]
    >>> df = pd.DataFrame({"q": pd.Categorical(["满意", "满意", "基本满意", "不满意"],
    ...                                        categories=levels, ordered=True)})
    >>> likert_summary(df, items="q")[["item", "n", "mean", "median", "top_box", "top2_box"]]
      item  n  mean  median  top_box  top2_box
    0    q  4  2.25     2.5      0.5      0.75
    """
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    item_list, by_list, keys, tables = _tables(data, items, by, levels, exclude)
    alpha = 1.0 - confidence
    parts = []
    for item, (item_levels, table) in zip(item_list, tables, strict=True):
        k = len(item_levels)
        codes = np.arange(1, k + 1, dtype=float)
        rows = []
        for counts in table:
            n = int(counts.sum())
            row: dict[str, Any] = {"n": n, "n_levels": k}
            if n == 0:
                row.update(
                    mean=np.nan, sd=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan,
                    median=np.nan, top_box=np.nan, top2_box=np.nan, bottom2_box=np.nan,
                )  # fmt: skip
                rows.append(row)
                continue
            mean = float(counts @ codes) / n
            if n > 1:
                sd = math.sqrt(float(counts @ (codes - mean) ** 2) / (n - 1))
                se = sd / math.sqrt(n)
                tq = float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))
                low, high = mean - tq * se, mean + tq * se
            else:
                sd = se = low = high = np.nan
            row.update(
                mean=mean,
                sd=sd,
                se=se,
                ci_low=low,
                ci_high=high,
                median=_median_from_counts(counts),
                top_box=counts[-1] / n,
                top2_box=counts[-2:].sum() / n,
                bottom2_box=counts[:2].sum() / n,
            )
            rows.append(row)
        part = pd.DataFrame(rows)
        part.insert(0, "item", item)
        part = _with_groups(part, by_list, keys, np.arange(len(keys)))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.insert(list(out.columns).index("ci_high") + 1, "confidence", float(confidence))
    return out


def _median_from_counts(counts: np.ndarray) -> float:
    """R's ``median`` of codes 1..k given their counts."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    lower = int(np.searchsorted(cum, (n + 1) // 2)) + 1  # code of the ((n+1)//2)-th value
    upper = int(np.searchsorted(cum, n // 2 + 1)) + 1  # code of the (n//2 + 1)-th value
    return float(lower) if n % 2 else (lower + upper) / 2.0
