"""Concordance of raters on a scale: Kendall's W of rankings and the six intraclass correlations.

Both take ``data`` as a *units x raters* DataFrame (one row per rated unit, one column per rater)
and return a tidy DataFrame with a ``measure`` column naming the coefficient and ``estimate``
holding it, as the agreement measures in :mod:`toolkit.analysis.agreement` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_range
from toolkit.analysis._raters import check_frame, complete_units, rating_codes
from toolkit.errors import DataError

__all__ = ["icc", "kendall_w"]


# --------------------------------------------------------------------------------------------------
# Kendall's W


def kendall_w(
    data: pd.DataFrame,
    *,
    correct: bool = True,
    levels: Sequence[Any] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    r"""Kendall's coefficient of concordance W of raters ranking (or scoring) the same units.

    Parameters
    ----------
    data : DataFrame
        Units x raters: each rater's scores or ranks of the units (ranked within each rater,
        ties get mid-ranks). Units with a missing rating are left out (as ``irr::kendall``).
        Ordinal labels are ranked by their order (ordered Categorical or ``levels``).
    correct : bool
        Correct W for ties (Kendall & Babington Smith; Siegel & Castellan 1988, eq. 9.16), as
        ``irr::kendall(correct = TRUE)``.
    levels : sequence, optional
        Order of string ratings, lowest first.
    n_boot : int
        Bootstrap resamples of the raters for the interval (0: no interval).
    confidence : float
        Confidence level of the bootstrap interval.
    seed : int or None
        Seed of the bootstrap (``numpy.random.default_rng(seed)``).

    Returns
    -------
    DataFrame
        One row: ``measure`` ("kendall_w"), ``estimate``, ``statistic`` (chi-square), ``df``,
        ``p_value``, ``n`` (units), ``n_raters``, ``ci_low``, ``ci_high``, ``method``
        ("bootstrap_raters"), ``confidence`` (the interval columns only with ``n_boot``),
        ``note``.

    Notes
    -----
    With n units, m raters, :math:`R_i` the rank sum of unit i and :math:`T = \sum_j \sum (t^3 -
    t)` over each rater's tied groups:

    .. math::
        W = \frac{12 \sum_i (R_i - \bar R)^2}{m^2 (n^3 - n) - m T}

    (T = 0 when ``correct=False``); :math:`\chi^2 = m (n - 1) W` on n - 1 df.

    **Interval.** W has no standard closed-form interval, so a percentile bootstrap is given:
    the *raters* are redrawn with replacement (the members of a 评议会 are the sample; the units
    they rank are fixed), each resample's W is computed from the raters' own rankings and tie
    terms, and the interval is the ``(1 - confidence)/2`` and ``(1 + confidence)/2`` quantiles of
    ``n_boot`` resampled W (Efron & Tibshirani 1993, ch. 13). With few raters (fewer than about
    8) the interval is rough, and a resample that repeats one rater agrees with itself, so the
    interval leans upward; read it as a range, not a test (the chi-square p-value is the test).

    References
    ----------
    Kendall, M. G., & Babington Smith, B. (1939). The problem of m rankings. *Ann. Math. Stat.*
    10, 275-287.
    Siegel, S., & Castellan, N. J. (1988). *Nonparametric Statistics for the Behavioral Sciences*,
    2nd ed., section 9.4.
    Gamer, M. et al. irr, ``kendall``.
    Efron, B., & Tibshirani, R. (1993). *An Introduction to the Bootstrap*, ch. 13.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"r1": [1, 2, 3, 4], "r2": [2, 1, 3, 4], "r3": [1, 2, 4, 3]})
    >>> round(float(kendall_w(scores)["estimate"].iloc[0]), 4)
    0.8222
    """
    fn = "kendall_w"
    check_range("n_boot", n_boot, low=0)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    data = check_frame(data, fn)
    codes, values, _ = rating_codes(data, levels, numeric=False, function=fn)
    codes, dropped = complete_units(codes)
    n, m = codes.shape
    if n < 2:
        raise DataError(f"{fn}: {n} unit rated by every rater; W needs at least 2 units.")
    x = values[codes]
    ranks = np.apply_along_axis(stats.rankdata, 0, x)
    ties = np.zeros(m)
    if correct:
        for j in range(m):
            _, t = np.unique(x[:, j], return_counts=True)
            ties[j] = float(np.sum(t.astype(float) ** 3 - t))
    w = float(_kendall_w_from(ranks, ties, np.ones((1, m)))[0])
    interval: dict[str, Any] = {}
    if n_boot:
        counts = np.random.default_rng(seed).multinomial(m, np.full(m, 1 / m), size=n_boot)
        draws = _kendall_w_from(ranks, ties, counts.astype(float))
        lo = hi = np.nan
        if np.isfinite(draws).any():
            lo, hi = np.nanquantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
        interval = {"ci_low": float(lo), "ci_high": float(hi), "method": "bootstrap_raters"}
        interval["confidence"] = confidence
    chi2 = m * (n - 1) * w
    notes = []
    if dropped:
        notes.append(f"{dropped} units with missing ratings left out")
    if not np.isfinite(w):
        notes.append("every rater gave all units the same rating: W is undefined")
    return pd.DataFrame(
        [
            {
                "measure": "kendall_w",
                "estimate": w,
                "statistic": chi2,
                "df": float(n - 1),
                "p_value": float(stats.chi2.sf(chi2, n - 1)) if np.isfinite(chi2) else np.nan,
                "n": n,
                "n_raters": m,
                **interval,
                "note": "; ".join(notes) if notes else None,
            }
        ]
    )


def _kendall_w_from(ranks: np.ndarray, ties: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """W of each row of ``counts`` (how often each rater is taken): units x raters ``ranks``."""
    n = ranks.shape[0]
    m = counts.sum(axis=1)
    r_sum = counts @ ranks.T  # draws x units
    s = np.sum((r_sum - r_sum.mean(axis=1, keepdims=True)) ** 2, axis=1)
    denom = m**2 * (n**3 - n) - m * (counts @ ties)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 12 * s / denom, np.nan)


# --------------------------------------------------------------------------------------------------
# intraclass correlations


def icc(data: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""The six intraclass correlations of Shrout & Fleiss (1979), with F tests and intervals.

    Parameters
    ----------
    data : DataFrame
        Units (targets) x raters (judges), numeric. Units with a missing rating are left out
        (listwise, as ``psych::ICC(lmer = FALSE)`` requires complete data).
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        Six rows, ``measure`` ICC(1,1), ICC(2,1), ICC(3,1), ICC(1,k), ICC(2,k), ICC(3,k) (psych's
        ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k, in that order); ``estimate``,
        ``statistic`` (F), ``df1``, ``df2``, ``p_value``, ``ci_low``, ``ci_high``,
        ``confidence``, ``n`` (units), ``n_raters``.

    Notes
    -----
    From the two-way ANOVA of n targets by k judges (mean squares BMS between targets, JMS
    between judges, EMS residual, WMS within targets):

    * ICC(1,1) = (BMS - WMS) / (BMS + (k-1) WMS): one-way random, each target rated by different
      judges; ICC(1,k) = (BMS - WMS) / BMS.
    * ICC(2,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS)/n): two-way random, absolute
      agreement; ICC(2,k) = (BMS - EMS) / (BMS + (JMS - EMS)/n).
    * ICC(3,1) = (BMS - EMS) / (BMS + (k-1) EMS): two-way mixed, consistency;
      ICC(3,k) = (BMS - EMS) / BMS.

    F tests: BMS/WMS on (n-1, n(k-1)) df for ICC(1,.), BMS/EMS on (n-1, (n-1)(k-1)) for the
    others. Intervals are those of Shrout & Fleiss (1979) with the approximate df of
    Satterthwaite for ICC(2,.) (McGraw & Wong 1996), exactly as ``psych::ICC``.

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
    reliability. *Psychological Bulletin* 86(2), 420-428.
    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. *Psychological Methods* 1(1), 30-46.
    Revelle, W. psych: ``ICC``.

    Examples
    --------
    Shrout & Fleiss (1979), Table 2: six targets, four judges (their Table 4: .17 .29 .71 .44 .62
    .91).

    >>> import pandas as pd
    >>> sf = pd.DataFrame({"j1": [9, 6, 8, 7, 10, 6], "j2": [2, 1, 4, 1, 5, 2],
    ...                    "j3": [5, 3, 6, 2, 6, 4], "j4": [8, 2, 8, 6, 9, 7]})
    >>> icc(sf)[["measure", "estimate"]].round(2)
        measure  estimate
    0  ICC(1,1)      0.17
    1  ICC(2,1)      0.29
    2  ICC(3,1)      0.71
    3  ICC(1,k)      0.44
    4  ICC(2,k)      0.62
    5  ICC(3,k)      0.91
    """
    fn = "icc"
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    data = check_frame(data, fn)
    nonnum = [str(c) for c, d in data.dtypes.items() if not pd.api.types.is_numeric_dtype(d)]
    if nonnum:
        raise DataError(
            f"{fn}: ICCs need numeric ratings; rater columns {', '.join(nonnum[:5])} are not "
            "numeric. Recode the labels to scores first."
        )
    x = data.to_numpy(dtype=float, na_value=np.nan)
    complete = ~np.isnan(x).any(axis=1)
    x = x[complete]
    n, k = x.shape
    if n < 2:
        raise DataError(f"{fn}: {n} unit rated by every rater; ICCs need at least 2 units.")
    grand = x.mean()
    ss_total = float(np.sum((x - grand) ** 2))
    ss_b = k * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_j = n * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_e = ss_total - ss_b - ss_j
    msb = np.float64(ss_b / (n - 1))  # numpy floats: 0/0 gives NaN for constant ratings
    msj = np.float64(ss_j / (k - 1))
    mse = np.float64(max(ss_e, 0.0) / ((n - 1) * (k - 1)))
    msw = np.float64((ss_j + max(ss_e, 0.0)) / (n * (k - 1)))
    # a difference that is zero but for rounding (its rounding depends on the order of rows and
    # raters) is set to zero, so that an ICC is the same infinity or NaN whatever the order
    tiny = 1e-12 * ss_total / (n * k)

    def _den(value: Any) -> Any:
        return np.float64(0.0) if abs(value) <= tiny else value

    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = _den(msb - msw) / _den(msb + (k - 1) * msw)
        icc2 = _den(msb - mse) / _den(msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = _den(msb - mse) / _den(msb + (k - 1) * mse)
        icc1k = _den(msb - msw) / _den(msb)
        icc2k = _den(msb - mse) / _den(msb + (msj - mse) / n)
        icc3k = _den(msb - mse) / _den(msb)
        f1, df1n, df1d = msb / msw, n - 1, n * (k - 1)
        f3, df3n, df3d = msb / mse, n - 1, (n - 1) * (k - 1)
        p1 = float(stats.f.sf(f1, df1n, df1d))
        p3 = float(stats.f.sf(f3, df3n, df3d))
        a = 1 - confidence
        q = 1 - a / 2
        f1l = f1 / stats.f.ppf(q, df1n, df1d)
        f1u = f1 * stats.f.ppf(q, df1d, df1n)
        f3l = f3 / stats.f.ppf(q, df3n, df3d)
        f3u = f3 * stats.f.ppf(q, df3d, df3n)
        fj = msj / mse
        vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = stats.f.ppf(q, n - 1, v)
        f2l = stats.f.ppf(q, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
        bounds = [
            ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
            (l2, u2),
            ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
            (1 - 1 / f1l, 1 - 1 / f1u),
            (l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
            (1 - 1 / f3l, 1 - 1 / f3u),
        ]
    out = pd.DataFrame(
        {
            "measure": ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"],
            "estimate": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
            "statistic": [f1, f3, f3, f1, f3, f3],
            "df1": [float(df1n), float(df3n), float(df3n), float(df1n), float(df3n), float(df3n)],
            "df2": [float(df1d), float(df3d), float(df3d), float(df1d), float(df3d), float(df3d)],
            "p_value": [p1, p3, p3, p1, p3, p3],
            "ci_low": [float(b[0]) for b in bounds],
            "ci_high": [float(b[1]) for b in bounds],
            "confidence": confidence,
            "n": n,
            "n_raters": k,
        }
    )
    dropped = int((~complete).sum())
    notes = [f"{dropped} units with missing ratings left out"] if dropped else []
    if ss_total == 0:
        notes.append("all ratings are equal: the ICCs are undefined")
    out["note"] = "; ".join(notes) if notes else None
    return out
