"""The 0-100 satisfaction index of evaluation ballots: :func:`satisfaction_index`.

Split from :mod:`toolkit.analysis.satisfaction` (which re-exports it; its module docstring describes
the accepted ballot values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_option, check_range, did_you_mean
from toolkit.analysis.satisfaction_levels import (
    _check_frame,
    _classify,
    _group_index,
    _is_numeric_scores,
    _items_and_groups,
    _level_map,
    _points_of_classes,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["INDEX_METHODS", "satisfaction_index"]

# ---------------------------------------------------------------------------------------------
# satisfaction_index
# ---------------------------------------------------------------------------------------------

INDEX_METHODS: tuple[str, ...] = ("analytic", "bootstrap")


def _item_weights(weights: Any, items: list[str]) -> np.ndarray:
    if weights is None:
        return np.ones(len(items))
    if isinstance(weights, Mapping):
        extra = [w for w in weights if w not in items]
        if extra:
            hint = did_you_mean(str(extra[0]), items)
            raise ParameterError(f"`weights` names {extra[0]!r}, which is not in `items`.{hint}")
        missing = [i for i in items if i not in weights]
        if missing:
            raise ParameterError(f"`weights` must give a weight for every item; missing {missing}.")
        w = np.array([weights[i] for i in items], dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != len(items):
            raise ParameterError(
                f"`weights` must have one weight per item ({len(items)}); got {w.size}."
            )
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ParameterError(
            f"`weights` must be non-negative numbers with a positive sum; got {w.tolist()}."
        )
    return w


def _item_points(
    series: pd.Series, item: str, points: Any, mapping: Mapping[Any, int]
) -> np.ndarray:
    """Points on 0-100 per row (NaN for don't know and blanks)."""
    numeric = _is_numeric_scores(series)
    scale = points is not None and not isinstance(points, Mapping)
    if numeric:
        if not scale:
            raise ParameterError(
                f"column `{item}` holds numbers: pass `points=(low, high)`, the ends of its scale "
                "(e.g. points=(0, 10)), to rescale it to 0-100."
            )
        low, high = _scale_range("points", points)
        x = series.to_numpy(dtype=float, na_value=np.nan)
        outside = (x < low) | (x > high)
        if outside.any():
            raise DataError(
                f"column `{item}`: value {x[outside][0]:g} is outside the scale "
                f"{low:g}-{high:g} given by `points`."
            )
        return 100.0 * (x - low) / (high - low)
    if scale:
        raise ParameterError(
            f"column `{item}` holds levels, not numbers: `points` must be a dict level -> points "
            "(or None for 100 / 60 / 0); a (low, high) scale applies to numeric columns."
        )
    pts = np.append(_points_of_classes(points), [np.nan, np.nan])  # excluded, blank
    return pts[_classify(series, item, mapping)]


def _scale_range(name: str, value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"`{name}` must be two numbers (low, high); got {value!r}.") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ParameterError(f"`{name}` must be (low, high) with low < high; got {value!r}.")
    return low, high


def satisfaction_index(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    points: Mapping[str, float] | tuple[float, float] | None = None,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    method: str = "analytic",
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    levels: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    r"""A 0-100 satisfaction index: per-respondent weighted points, averaged, with an interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per returned ballot (respondent).
    items : str or list of str
        Ballot columns in the index.
    by : str or list of str, optional
        Grouping columns (community, rater role): one index per group, each with its own
        interval (and its own bootstrap, from the same ``seed``). Missing group labels form their
        own group; groups are listed in sorted order.
    points : dict or (low, high), optional
        For level columns, a dict level -> points on 0-100 (keys ``satisfied``,
        ``basically_satisfied``, ``dissatisfied`` or the Chinese labels); default 100 / 60 / 0
        (``docs/evaluation-ballot.md``). For numeric columns, the ends of the scale
        ``(low, high)``, rescaled linearly: :math:`100 (x - low) / (high - low)`.
    weights : dict item -> weight or list, optional
        **Item weights** (non-negative; how much each item counts in a respondent's index), not
        case weights; default equal.
    method : {"analytic", "bootstrap"}
        ``"analytic"``: t interval of the mean; ``"bootstrap"``: percentile interval of
        ``n_boot`` resamples of respondents drawn with ``numpy.random.default_rng(seed)``.
    confidence : float
        Confidence level.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap (the result is reproducible).
    levels : dict, optional
        How to read level values (see the module documentation).

    Returns
    -------
    pandas.DataFrame
        One row (per group, after the ``by`` columns): ``n`` (respondents with at least one
        scored item), ``n_items``, ``estimate``
        (mean index), ``sd`` (of the respondent indices), ``se``, ``ci_low``, ``ci_high``,
        ``method``, ``confidence``. With no scored respondent every figure is NaN.

    Notes
    -----
    Respondent :math:`i`'s index is :math:`I_i = \sum_{j \in A_i} w_j s_{ij} / \sum_{j \in A_i}
    w_j` over the items :math:`A_i` they answered (不了解 and blanks are skipped, the weights of
    the answered items renormalised). The index is :math:`\bar I`, with analytic interval
    :math:`\bar I \pm t_{n-1, 1-\alpha/2}\, s_I/\sqrt n` (R ``t.test``) and bootstrap standard
    error the sd of the resampled means.

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*, ch. 13 (percentile
    interval). R: ``t.test``.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import satisfaction_index
    >>> ballots = pd.DataFrame({"attitude": ["满意", "基本满意", "满意", "不满意"],
    ...                         "results": ["满意", "满意", "基本满意", "不了解"]})
    >>> satisfaction_index(ballots, items=["attitude", "results"])[["n", "estimate"]]
       n  estimate
    0  4      65.0
    >>> ballots["role"] = ["居民", "居民", "党员", "党员"]
    >>> satisfaction_index(ballots, items=["attitude", "results"], by="role")[
    ...     ["role", "n", "estimate"]]
      role  n  estimate
    0   党员  2      40.0
    1   居民  2      90.0
    """
    data = _check_frame(data)
    check_option("method", method, INDEX_METHODS)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)):
        raise ParameterError(f"`n_boot` must be a whole number; got {n_boot!r}.")
    check_range("n_boot", int(n_boot), low=100)
    item_list, by_list = _items_and_groups(data, items, by)
    w = _item_weights(weights, item_list)
    mapping = _level_map(levels)
    scores = np.column_stack(
        [_item_points(data[item], item, points, mapping) for item in item_list]
    ).reshape(len(data), len(item_list))
    answered = ~np.isnan(scores)
    wsum = answered @ w
    keep = wsum > 0
    index = np.where(answered, scores, 0.0)[keep] @ w / wsum[keep]
    groups, keys = _group_index(data, by_list)
    rows = []
    for g, key in enumerate(keys):
        values = index[groups[keep] == g]
        row = dict(zip(by_list, key, strict=True))
        row.update(_index_row(values, method, confidence, int(n_boot), seed))
        rows.append({**row, "n_items": len(item_list)})
    order = [*by_list, "n", "n_items", "estimate", "sd", "se", "ci_low", "ci_high", "method"]
    return pd.DataFrame(rows)[[*order, "confidence"]]


def _index_row(
    index: np.ndarray, method: str, confidence: float, n_boot: int, seed: int
) -> dict[str, Any]:
    """n, mean, sd, se and interval of the respondent indices of one group."""
    n = int(index.size)
    alpha = 1.0 - confidence
    mean = float(index.mean()) if n else np.nan
    sd = float(index.std(ddof=1)) if n > 1 else np.nan
    if method == "analytic":
        se = sd / math.sqrt(n) if n > 1 else np.nan
        if n > 1:
            tq = float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))
            low, high = mean - tq * se, mean + tq * se
        else:
            low = high = np.nan
    elif n > 1:
        boot = _bootstrap_means(index, n_boot, seed)
        se = float(boot.std(ddof=1))
        low, high = (float(q) for q in np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0]))
    else:
        se = low = high = np.nan
    return {
        "n": n,
        "estimate": mean,
        "sd": sd,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "method": method,
        "confidence": float(confidence),
    }


def _bootstrap_means(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = values.size
    out = np.empty(n_boot)
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return out
