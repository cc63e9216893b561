r"""Importance-performance analysis (IPA), the standard matrix of service evaluation.

Each ballot item gets an **importance** (how much it matters for overall satisfaction) and a
**performance** (how well the subject does on it: the satisfaction rate with its interval), and
falls in one of four quadrants split at the mean importance and mean performance (or at chosen
values), after Martilla & James (1977):

=====================  =====================  ==================================================
quadrant               importance / perf.     reading
=====================  =====================  ==================================================
``concentrate_here``   high / low             重点改进: matters and does poorly: act here first
``keep_up``            high / high            继续保持: matters and does well
``low_priority``       low / low              低优先级: does poorly but matters little
``possible_overkill``  low / high             可能过度: does well on what matters little
=====================  =====================  ==================================================

Importance is *derived* from the ballots (each item's share of the explained variance of the
overall rating, by Johnson's relative weights or general dominance, see
:func:`~toolkit.analysis.drivers.driver_analysis`, or its correlation with the overall rating) or
*stated* (a dict of importances the caller gives, e.g. from a ranking question).

A quadrant is a reading aid, not a test: an item whose interval straddles the performance line is
not known to be on either side. :func:`toolkit.report.ipa.ipa_chart` draws the intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.drivers import _correlation, _scores, driver_analysis
from toolkit.analysis.satisfaction import (
    MEASURES,
    _count_weights,
    _level_map,
    satisfaction_rates,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["IMPORTANCE_METHODS", "QUADRANTS", "importance_performance"]

IMPORTANCE_METHODS: tuple[str, ...] = ("relative_weights", "dominance", "correlation")
#: Quadrant codes: (high importance, high performance) -> code.
QUADRANTS: dict[tuple[bool, bool], str] = {
    (True, False): "concentrate_here",
    (True, True): "keep_up",
    (False, False): "low_priority",
    (False, True): "possible_overkill",
}


def importance_performance(
    data: pd.DataFrame,
    *,
    items: Sequence[str],
    outcome: str | None = None,
    importance: str | Mapping[str, float] = "relative_weights",
    rate: str = "broad",
    importance_line: float | None = None,
    performance_line: float | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
    levels: Mapping[str, Sequence[Any]] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    r"""Importance, performance (rate with interval) and quadrant of each ballot item.

    Parameters
    ----------
    data : DataFrame
        One row per ballot.
    items : list of str
        The aspect columns.
    outcome : str, optional
        The overall rating column; needed for derived importance.
    importance : {"relative_weights", "dominance", "correlation"} or dict
        Derived importance: the item's share of :math:`R^2` (relative weights or general
        dominance of the overall score on the item scores; the shares add up to 1) or the Pearson
        correlation of the item score with the overall score (pairwise complete ballots). Or
        stated importance: a dict item -> importance on any scale.
    rate : {"strict", "broad", "dissatisfied"}
        Performance measure (valid answers as the denominator). With "dissatisfied" a high value
        is bad, so the quadrants are turned: it is refused.
    importance_line, performance_line : float, optional
        Where the quadrants split; default the mean importance and the mean performance of the
        items (Martilla & James).
    method : str
        Interval method of the rates (:func:`~toolkit.analysis.proportions.proportion_ci`).
    confidence : float
        Confidence level of the performance intervals.
    levels : dict, optional
        How to read the values, as :func:`~toolkit.analysis.satisfaction.satisfaction_rates`.
    weights : str, optional
        Column of **frequency weights** (whole numbers of identical ballots), used for both the
        rates and the derived importance.

    Returns
    -------
    DataFrame
        One row per item: ``item``, ``importance``, ``count``, ``n``, ``estimate`` (the
        performance rate), ``ci_low``, ``ci_high``, ``method``, ``confidence``, ``quadrant`` (see
        the module table), ``measure`` (the rate). ``attrs`` hold ``importance_line`` and
        ``performance_line``, which the chart draws.

    Notes
    -----
    Item j is high in importance when :math:`I_j \ge` ``importance_line`` and high in
    performance when :math:`\hat p_j \ge` ``performance_line``.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing* 41(1), 77-79.
    Bacon, D. R. (2003). A comparison of approaches to importance-performance analysis.
    *International Journal of Market Research* 45(1), 55-71 (derived importance).
    Johnson (2000) for relative weights; see :func:`~toolkit.analysis.drivers.driver_analysis`.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"attitude": ["满意"] * 9 + ["不满意"],
    ...                   "results": ["满意"] * 4 + ["不满意"] * 6,
    ...                   "integrity": ["满意"] * 6 + ["基本满意", "不满意", "不满意", "不满意"]})
    >>> out = importance_performance(b, items=["attitude", "results", "integrity"],
    ...                              importance={"attitude": 2, "results": 5, "integrity": 1})
    >>> out[["item", "importance", "estimate", "quadrant"]]
            item  importance  estimate           quadrant
    0   attitude         2.0       0.9  possible_overkill
    1    results         5.0       0.4   concentrate_here
    2  integrity         1.0       0.7  possible_overkill
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"importance_performance: `data` must be a pandas DataFrame; got {type(data).__name__}."
        )
    item_list = [items] if isinstance(items, str) else list(items)
    if len(item_list) < 2:
        raise ParameterError("`items` must name at least two columns.")
    check_columns(data, item_list)
    check_option("rate", rate, MEASURES)
    if rate == "dissatisfied":
        raise ParameterError(
            "`rate` 'dissatisfied' turns the matrix upside down (high is bad); use 'broad' or "
            "'strict' as performance."
        )
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if isinstance(importance, Mapping):
        missing = [i for i in item_list if i not in importance]
        if missing:
            raise ParameterError(
                f"`importance` must give a value for every item; missing {missing!r}."
            )
        importances = np.array([float(importance[i]) for i in item_list])
        if not np.all(np.isfinite(importances)):
            raise ParameterError("`importance` values must be finite numbers.")
        source = "stated"
    else:
        check_option("importance", importance, IMPORTANCE_METHODS)
        if outcome is None:
            raise ParameterError(
                "derived importance needs `outcome` (the overall rating column); or pass "
                "`importance` as a dict of stated importances."
            )
        check_columns(data, [outcome])
        source = importance
        if importance == "correlation":
            mapping = _level_map(levels)
            y = _scores(data[outcome], outcome, mapping)
            w = np.ones(len(data)) if weights is None else _count_weights(data, weights)
            values = []
            for i in item_list:  # pairwise complete ballots
                x = _scores(data[i], i, mapping)
                ok = np.isfinite(x) & np.isfinite(y) & (w > 0)
                pair = np.column_stack([x[ok], y[ok]])
                values.append(_correlation(pair, w[ok][None, :].astype(float))[0, 0, 1])
            importances = np.array(values)
        else:
            drivers = driver_analysis(
                data,
                outcome=outcome,
                items=item_list,
                method=importance,
                n_boot=0,
                levels=levels,
                weights=weights,
            )
            shares = drivers[drivers["measure"] == "share"].set_index("item")["estimate"]
            importances = shares.reindex(item_list).to_numpy(dtype=float)
    rates = satisfaction_rates(
        data, items=item_list, method=method, confidence=confidence, levels=levels, weights=weights
    )
    rates = rates[rates["measure"] == rate].set_index("item").reindex(item_list)
    performance = rates["estimate"].to_numpy(dtype=float)
    x_line = float(np.nanmean(importances)) if importance_line is None else float(importance_line)
    y_line = float(np.nanmean(performance)) if performance_line is None else float(performance_line)
    quadrant = [
        QUADRANTS[(bool(w >= x_line), bool(p >= y_line))] if np.isfinite(p) else None
        for w, p in zip(importances, performance, strict=True)
    ]
    out = pd.DataFrame(
        {
            "item": item_list,
            "importance": importances,
            "count": rates["count"].to_numpy(),
            "n": rates["n"].to_numpy(),
            "estimate": performance,
            "ci_low": rates["ci_low"].to_numpy(dtype=float),
            "ci_high": rates["ci_high"].to_numpy(dtype=float),
            "method": method,
            "confidence": confidence,
            "quadrant": quadrant,
            "measure": rate,
        }
    )
    out.attrs.update(importance_line=x_line, performance_line=y_line, importance_source=source)
    return out
