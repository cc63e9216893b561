r"""The same subject evaluated year after year: a rate per year, the change from year to year, a trend.

:func:`satisfaction_trend` counts the ballots of each year (with the rules of
:func:`~toolkit.analysis.satisfaction.satisfaction_rates`) and returns, in one tidy table:

* ``measure = "rate"``: the year's rate with its Wilson interval;
* ``measure = "change"``: the difference from the previous year with Newcombe's hybrid score
  interval (method 10 of Newcombe 1998), which keeps its coverage with the small counts of a
  community's 评议会;
* ``measure = "trend"``: the Cochran-Armitage test of a linear trend in the rate across the years,
  as R's ``prop.trend.test(x, n, score = year)``.

Years are treated as independent samples (different ballots each year). When the same people rate
in several years the change intervals are conservative for a positive within-person correlation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.satisfaction import MEASURES, satisfaction_rates
from toolkit.errors import DataError, ParameterError

__all__ = ["cochran_armitage", "newcombe_difference", "satisfaction_trend"]


def newcombe_difference(
    count1: Any, n1: Any, count2: Any, n2: Any, *, confidence: float = 0.95
) -> pd.DataFrame:
    r"""Newcombe's hybrid score interval for the difference of two independent proportions.

    Parameters
    ----------
    count1, n1, count2, n2 : int or array-like
        Successes and trials of the two samples (broadcast together).
    confidence : float
        Confidence level.

    Returns
    -------
    DataFrame
        One row per pair: ``estimate`` (:math:`\hat p_1 - \hat p_2`), ``ci_low``, ``ci_high``,
        ``method`` ("newcombe"), ``confidence``. NaN where a sample is empty.

    Notes
    -----
    With :math:`(l_i, u_i)` the Wilson score limits of each proportion,

    .. math::
        \hat d - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2}, \qquad
        \hat d + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}.

    References
    ----------
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17, 873-890 (method 10).
    In R: the Wilson limits are ``prop.test(x, n, correct = FALSE)$conf.int``.

    Examples
    --------
    Newcombe (1998), table II, example (a): 56/70 against 48/80 gives 0.0524 to 0.3339.

    >>> out = newcombe_difference(56, 70, 48, 80)
    >>> out[["estimate", "ci_low", "ci_high"]].round(4)
       estimate  ci_low  ci_high
    0       0.2  0.0524   0.3339
    """
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    x1, m1, x2, m2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float).ravel() for v in (count1, n1, count2, n2))
    )
    if np.any((x1 < 0) | (x1 > m1) | (x2 < 0) | (x2 > m2)):
        raise DataError("newcombe_difference: every count must lie between 0 and its n.")
    z = float(special.ndtri(0.5 + confidence / 2))
    p1, l1, u1 = _wilson(x1, m1, z)
    p2, l2, u2 = _wilson(x2, m2, z)
    d = p1 - p2
    return pd.DataFrame(
        {
            "estimate": d,
            "ci_low": d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            "ci_high": d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
            "method": "newcombe",
            "confidence": confidence,
        }
    )


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, ...]:
    """Rate and Wilson score limits (prop.test(correct = FALSE)); NaN where n is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = (x + z**2 / 2) / (n + z**2)
        half = z * np.sqrt(n) / (n + z**2) * np.sqrt(p * (1 - p) + z**2 / (4 * n))
    return p, np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def cochran_armitage(count: Any, n: Any, *, score: Any | None = None) -> pd.DataFrame:
    r"""Cochran-Armitage chi-square test of a linear trend in proportions, as ``prop.trend.test``.

    Parameters
    ----------
    count, n : array-like
        Successes and trials per ordered group (year).
    score : array-like, optional
        Scores of the groups (the years); default 1, 2, ...

    Returns
    -------
    DataFrame
        One row: ``estimate`` (the weighted least-squares slope of the rate on the score, per unit
        of score), ``statistic`` (chi-square, 1 df), ``df``, ``p_value``, ``method``.

    Notes
    -----
    With :math:`\bar p = \sum x_i / \sum n_i` and :math:`\bar s = \sum n_i s_i / \sum n_i`,

    .. math::
        \chi^2 = \frac{\left(\sum x_i (s_i - \bar s)\right)^2}
                      {\bar p (1 - \bar p) \sum n_i (s_i - \bar s)^2},

    R's ``prop.trend.test`` (the slope of the weighted regression of :math:`x_i/n_i` on
    :math:`s_i` with weights :math:`n_i / (\bar p(1-\bar p))`).

    References
    ----------
    Armitage, P. (1955). Tests for linear trends in proportions and frequencies. *Biometrics*
    11(3), 375-386. Cochran, W. G. (1954). *Biometrics* 10(4), 417-451.

    Examples
    --------
    The example of ``?prop.trend.test`` (smokers among patients):

    >>> out = cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82])
    >>> round(float(out["statistic"].iloc[0]), 4), round(float(out["p_value"].iloc[0]), 5)
    (8.2249, 0.00413)
    """
    x = np.asarray(count, dtype=float)
    m = np.asarray(n, dtype=float)
    s = np.arange(1, x.size + 1, dtype=float) if score is None else np.asarray(score, dtype=float)
    if not (x.shape == m.shape == s.shape) or x.ndim != 1:
        raise ParameterError("`count`, `n` and `score` must be 1-d and of one length.")
    keep = m > 0
    x, m, s = x[keep], m[keep], s[keep]
    if x.size < 2 or np.ptp(s) == 0:
        raise DataError("cochran_armitage: a trend needs at least two groups with ballots.")
    p = x.sum() / m.sum()
    s_bar = (m * s).sum() / m.sum()
    sxx = (m * (s - s_bar) ** 2).sum()
    slope = (x * (s - s_bar)).sum() / sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = slope**2 * sxx / (p * (1 - p))
    return pd.DataFrame(
        [
            {
                "estimate": slope,
                "statistic": chi2,
                "df": 1,
                "p_value": float(stats.chi2.sf(chi2, 1)) if np.isfinite(chi2) else np.nan,
                "method": "cochran-armitage",
            }
        ]
    )


def satisfaction_trend(
    data: pd.DataFrame,
    *,
    item: str,
    year: str,
    by: str | Sequence[str] | None = None,
    rate: str = "broad",
    confidence: float = 0.95,
    levels: Mapping[str, Sequence[Any]] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    """Rate per year, change from the previous year (Newcombe) and a trend test (Cochran-Armitage).

    Parameters
    ----------
    data : DataFrame
        One row per ballot, with a ``year`` column (numbers) and the ballot column ``item``.
    item : str
        The ballot column rated (codes or Chinese labels, as
        :func:`~toolkit.analysis.satisfaction.satisfaction_rates`).
    year : str
        Column of the evaluation year (numeric; its values are the trend scores).
    by : str or list of str, optional
        Columns of separate series (community, subject): one trend per group.
    rate : {"strict", "broad", "dissatisfied"}
        Which rate (满意, 满意 + 基本满意, 不满意); the denominator is the valid answers.
    confidence : float
        Confidence level of the intervals.
    levels : dict, optional
        How to read the values, as :func:`~toolkit.analysis.satisfaction.satisfaction_rates`.
    weights : str, optional
        Column of **frequency weights** (whole numbers of identical ballots), as
        :func:`~toolkit.analysis.satisfaction.satisfaction_rates`.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``measure``: ``"rate"`` rows (one per year: ``year``, ``count``,
        ``n``, ``estimate``, ``ci_low``, ``ci_high``, ``method`` "wilson"), ``"change"`` rows (one
        per year after the first with ballots: ``estimate`` = this year's rate minus the previous
        one's, Newcombe interval, ``method`` "newcombe") and one ``"trend"`` row (``estimate`` =
        slope per year, ``statistic``, ``df``, ``p_value``, ``method`` "cochran-armitage";
        ``year`` missing; ``year`` is a nullable integer when the years are whole). Also
        ``item``, ``confidence``.

    References
    ----------
    Newcombe (1998), method 10; Armitage (1955); R ``prop.test``, ``prop.trend.test``. See
    :func:`newcombe_difference` and :func:`cochran_armitage`.

    Examples
    --------
    >>> import pandas as pd
    >>> ballots = pd.DataFrame({
    ...     "year": [2023] * 10 + [2024] * 10 + [2025] * 10,
    ...     "overall": ["满意"] * 5 + ["不满意"] * 5 + ["满意"] * 7 + ["不满意"] * 3
    ...                + ["满意"] * 9 + ["不满意"]})
    >>> out = satisfaction_trend(ballots, item="overall", year="year")
    >>> out[["measure", "year", "estimate"]].round(3)
      measure  year  estimate
    0    rate  2023       0.5
    1    rate  2024       0.7
    2    rate  2025       0.9
    3  change  2024       0.2
    4  change  2025       0.2
    5   trend  <NA>       0.2
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"satisfaction_trend: `data` must be a pandas DataFrame; got {type(data).__name__}."
        )
    check_option("rate", rate, MEASURES)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    by_list = [by] if isinstance(by, str) else list(by or [])
    check_columns(data, [item, year, *by_list])
    years = pd.to_numeric(data[year], errors="coerce")
    if years.isna().any():
        raise DataError(
            f"satisfaction_trend: column `{year}` must hold a year (a number) on every ballot; "
            f"row {data.index[years.isna().to_numpy()][0]!r} does not."
        )
    rates = satisfaction_rates(
        data,
        items=item,
        by=[*by_list, year],
        levels=levels,
        confidence=confidence,
        weights=weights,
    )
    rates = rates[rates["measure"] == rate].reset_index(drop=True)
    rows: list[pd.DataFrame] = []
    groups = rates.groupby(by_list, sort=False, dropna=False) if by_list else [((), rates)]
    for key, part in groups:
        part = part.sort_values(year).reset_index(drop=True)
        keys = dict(zip(by_list, key if isinstance(key, tuple) else (key,), strict=True))
        head: dict[str, Any] = {**keys, "item": item}
        rate_rows = part[["count", "n", "estimate", "ci_low", "ci_high"]].assign(
            **head, measure="rate", year=part[year].astype(float), method="wilson"
        )
        rows.append(rate_rows)
        used = part[part["n"] > 0].reset_index(drop=True)
        if len(used) >= 2:
            change = newcombe_difference(
                used["count"].to_numpy()[1:],
                used["n"].to_numpy()[1:],
                used["count"].to_numpy()[:-1],
                used["n"].to_numpy()[:-1],
                confidence=confidence,
            ).drop(columns="confidence")
            rows.append(
                change.assign(
                    **head, measure="change", year=used[year].to_numpy()[1:].astype(float)
                )
            )
            trend = cochran_armitage(used["count"], used["n"], score=used[year].astype(float))
            rows.append(trend.assign(**head, measure="trend", year=np.nan))
    out = pd.concat(rows, ignore_index=True)
    out["confidence"] = confidence
    first = [*by_list, "item", "measure", "year"]
    order = ["count", "n", "estimate", "ci_low", "ci_high", "statistic", "df", "p_value"]
    rest = [c for c in order if c in out.columns] + ["method", "confidence"]
    out = out[first + rest]
    out["count"] = out["count"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    if "df" in out.columns:
        out["df"] = out["df"].astype(float)
    years = out["year"].dropna()
    if (years == years.round()).all():
        out["year"] = out["year"].astype("Int64")
    return out.rename(columns={"year": year}) if year != "year" else out
