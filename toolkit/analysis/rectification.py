r"""Before and after rectification (整改): did satisfaction rise between two evaluations?

Two evaluation meetings rate the same subject: the one that produced the rectification list and a
follow-up. Ballots are anonymous, so the two meetings are compared as independent samples.

- :func:`rate_difference`: the difference of two proportions with Newcombe's hybrid score
  interval and Pearson's chi-square test.
- :func:`satisfaction_change`: that difference per ballot item, from the two meetings' ballots.
- :func:`rectified_vs_others`: did the rectified items improve more than the others?

Examples
--------
>>> row = rate_difference(48, 80, 56, 70).iloc[0]       # Newcombe (1998), Table II, example (a)
>>> round(float(row["estimate"]), 4), round(float(row["ci_low"]), 4), round(float(row["ci_high"]), 4)
(0.2, 0.0524, 0.3339)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.proportions import proportion_ci
from toolkit.analysis.satisfaction import satisfaction_rates
from toolkit.analysis.trends import newcombe_difference
from toolkit.errors import DataError

__all__ = ["rate_difference", "rectified_vs_others", "satisfaction_change"]


def rate_difference(
    count_before: Any,
    n_before: Any,
    count_after: Any,
    n_after: Any,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""The change in a rate between two independent samples, with Newcombe's interval and a test.

    Parameters
    ----------
    count_before, n_before, count_after, n_after : int or array-like of int
        Counts with the property (e.g. 满意 + 基本满意) and valid ballots, before and after.
    confidence : float

    Returns
    -------
    DataFrame
        One row per pair: ``count_before, n_before, estimate_before, count_after, n_after,
        estimate_after, estimate`` (after − before), ``ci_low, ci_high, method`` (``newcombe``),
        ``confidence, statistic`` (Pearson's :math:`X^2`, no continuity correction), ``df`` (1) and
        ``p_value``.

    Notes
    -----
    Newcombe's hybrid score interval (method 10 of Newcombe 1998, computed by
    :func:`~toolkit.analysis.newcombe_difference`): with Wilson score limits
    :math:`(l_1, u_1)` for :math:`\hat p_1` (before) and :math:`(l_2, u_2)` for :math:`\hat p_2`
    (after), :math:`\hat\delta = \hat p_2 - \hat p_1` and

    .. math:: L = \hat\delta - \sqrt{(\hat p_2 - l_2)^2 + (u_1 - \hat p_1)^2}, \qquad
              U = \hat\delta + \sqrt{(u_2 - \hat p_2)^2 + (\hat p_1 - l_1)^2}.

    Newcombe, R. G. (1998), Interval estimation for the difference between independent
    proportions: comparison of eleven methods, *Statistics in Medicine* 17, 873–890 (Table II
    gives worked examples, checked in the tests). The test is R's
    ``prop.test(c(x2, x1), c(n2, n1), correct = FALSE)`` (checked in
    ``tests/reference/rectification.R``).

    Examples
    --------
    >>> row = rate_difference(3, 10, 9, 10).iloc[0]          # Newcombe (1998), Table II, (b)
    >>> round(float(row["ci_low"]), 4), round(float(row["ci_high"]), 4)
    (0.1705, 0.809)
    """
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    before = proportion_ci(count_before, n_before, confidence=confidence)
    after = proportion_ci(count_after, n_after, confidence=confidence)
    p1 = before["estimate"].to_numpy(float)
    p2 = after["estimate"].to_numpy(float)
    delta = p2 - p1
    interval = newcombe_difference(
        count_after, n_after, count_before, n_before, confidence=confidence
    )
    low, high = interval["ci_low"].to_numpy(float), interval["ci_high"].to_numpy(float)
    x1, n1 = before["count"].to_numpy(float), before["n"].to_numpy(float)
    x2, n2 = after["count"].to_numpy(float), after["n"].to_numpy(float)
    pooled = (x1 + x2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
        chi2 = np.where(variance > 0, delta**2 / variance, np.nan)
    return pd.DataFrame(
        {
            "count_before": before["count"].astype("int64"),
            "n_before": before["n"].astype("int64"),
            "estimate_before": p1,
            "count_after": after["count"].astype("int64"),
            "n_after": after["n"].astype("int64"),
            "estimate_after": p2,
            "estimate": delta,
            "ci_low": low,
            "ci_high": high,
            "method": "newcombe",
            "confidence": confidence,
            "statistic": chi2,
            "df": 1,
            "p_value": stats.chi2.sf(chi2, 1),
        }
    )


def satisfaction_change(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    items: Sequence[str],
    measure: str = "broad",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change in each item's satisfaction rate between two evaluations of the same subject.

    Parameters
    ----------
    before, after : DataFrame
        Valid ballots of the two evaluation meetings (``store.responses(meeting)``).
    items : sequence of str
        Ballot items present in both (``wuye__efficiency``, ...).
    measure : {"broad", "strict", "dissatisfied"}
        Which rate of :func:`~toolkit.analysis.satisfaction_rates` (broad: 满意 + 基本满意).
    confidence : float

    Returns
    -------
    DataFrame
        ``item, measure`` and the columns of :func:`rate_difference`.

    Examples
    --------
    >>> levels = ["satisfied", "basically_satisfied", "dissatisfied"]
    >>> make = lambda values: pd.DataFrame({"a": pd.Categorical(values, levels, ordered=True)})
    >>> change = satisfaction_change(make(["dissatisfied"] * 6 + ["satisfied"] * 4),
    ...                              make(["dissatisfied"] * 2 + ["satisfied"] * 8), items=["a"])
    >>> round(float(change["estimate"].iloc[0]), 4)
    0.4
    """
    check_option("measure", measure, ("broad", "strict", "dissatisfied"))
    check_columns(before, items, argument="before")
    check_columns(after, items, argument="after")
    rates = []
    for frame in (before, after):
        table = satisfaction_rates(frame, items=list(items))
        rates.append(table[table["measure"] == measure].set_index("item"))
    b, a = rates
    result = rate_difference(
        b.loc[list(items), "count"].to_numpy(),
        b.loc[list(items), "n"].to_numpy(),
        a.loc[list(items), "count"].to_numpy(),
        a.loc[list(items), "n"].to_numpy(),
        confidence=confidence,
    )
    result.insert(0, "measure", measure)
    result.insert(0, "item", list(items))
    return result


def rectified_vs_others(
    data: pd.DataFrame, *, rectified: Sequence[str], item: str = "item", change: str = "estimate"
) -> pd.DataFrame:
    r"""Did the rectified items improve more than the others? A rank-sum test over items.

    Parameters
    ----------
    data : DataFrame
        One row per item with its change (e.g. :func:`satisfaction_change`).
    rectified : sequence of str
        The items on the rectification list.

    Returns
    -------
    DataFrame
        One row: ``n`` (rectified items), ``n_other``, ``estimate`` (mean change of the rectified
        items minus that of the others), ``statistic`` (Wilcoxon's *W*, the Mann–Whitney *U* of the
        rectified items), ``p_value`` (two-sided) and ``method`` (``exact`` without ties and fewer
        than 50 items per group, else ``normal`` with continuity correction).

    Notes
    -----
    The items, not the raters, are the units: a meeting rates a handful of items, so the test has
    little power and says only whether the rectified items stand out. As R's
    ``wilcox.test(rectified, others)`` (checked in ``tests/reference/rectification.R``).

    Examples
    --------
    >>> data = pd.DataFrame({"item": list("abcdef"),
    ...                      "estimate": [0.30, 0.25, 0.20, 0.02, -0.05, 0.01]})
    >>> row = rectified_vs_others(data, rectified=["a", "b", "c"]).iloc[0]
    >>> float(row["statistic"]), round(float(row["p_value"]), 4)
    (9.0, 0.1)
    """
    check_columns(data, [item, change])
    missing = sorted(set(rectified) - set(data[item]))
    if missing:
        raise DataError(
            f"rectified items {missing} are not in column `{item}`; name items of the table."
        )
    is_rectified = data[item].isin(list(rectified))
    x = pd.to_numeric(data.loc[is_rectified, change]).dropna().to_numpy(float)
    y = pd.to_numeric(data.loc[~is_rectified, change]).dropna().to_numpy(float)
    if len(x) == 0 or len(y) == 0:
        raise DataError(
            "the comparison needs at least one rectified item and one other item with a change."
        )
    ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
    exact = not ties and len(x) < 50 and len(y) < 50
    test = stats.mannwhitneyu(
        x,
        y,
        alternative="two-sided",
        method="exact" if exact else "asymptotic",
        use_continuity=True,
    )
    return pd.DataFrame(
        [
            {
                "n": len(x),
                "n_other": len(y),
                "estimate": float(x.mean() - y.mean()),
                "statistic": float(test.statistic),
                "p_value": float(test.pvalue),
                "method": "exact" if exact else "normal",
            }
        ]
    )
