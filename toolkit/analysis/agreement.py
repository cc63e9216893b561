"""Agreement among raters on categories: Krippendorff's alpha and Fleiss' kappa.

Every function takes ``data`` as a *units x raters* DataFrame: one row per rated unit (a ballot item, a
project, a candidate), one column per rater (an evaluation-meeting member), a cell holding that
rater's rating, missing where the rater did not rate the unit. Each returns a tidy DataFrame with a
``measure`` column naming the coefficient and ``estimate`` holding it.

Ratings may be numbers, strings (满意 / 基本满意 / 不满意) or pandas Categoricals. Ordered
Categoricals (or ``levels=`` given lowest first) fix the order that ordinal measures use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from toolkit._checks import check_option, check_range, deprecated
from toolkit.analysis._raters import check_frame, complete_units, rating_codes
from toolkit.errors import DataError, ParameterError

__all__ = ["fleiss_kappa", "krippendorff_alpha"]

_LEVELS = ("nominal", "ordinal", "interval", "ratio")


# --------------------------------------------------------------------------------------------------
# Krippendorff's alpha


# a dense units x values count table up to this many cells; coincidence matrices for the bootstrap
# (units x values^2) up to this many cells too
_DENSE_CELLS = 20_000_000
_SMALL_DOMAIN = 400  # values: above this, the coincidence matrix is not formed


def _delta(level: str, values: np.ndarray, n_c: np.ndarray) -> np.ndarray:
    """Squared distances between values (V x V), or a stack (B x V x V) for stacked ``n_c``."""
    if level == "nominal":
        v = values.size
        d = 1.0 - np.eye(v)
        return d if n_c.ndim == 1 else np.broadcast_to(d, (n_c.shape[0], v, v))
    if level == "ordinal":
        mid = np.cumsum(n_c, axis=-1) - n_c / 2.0
        return (mid[..., :, None] - mid[..., None, :]) ** 2
    vc, vk = values[:, None], values[None, :]
    if level == "interval":
        d = (vc - vk) ** 2
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((vc - vk) / (vc + vk)) ** 2
        d[~np.isfinite(d)] = 0.0  # both values 0
    return d if n_c.ndim == 1 else np.broadcast_to(d, (n_c.shape[0], *d.shape))


class _Alpha:
    """Sufficient statistics of the pairable units for alpha and its unit bootstrap.

    With few distinct values (the rule for ballots) everything runs through the coincidence matrix
    ``o = sum_u n_u n_u' / (m_u - 1)``; with many (continuous scores) through per-unit sums, in time
    linear in the number of ratings.
    """

    def __init__(self, codes: np.ndarray, values: np.ndarray, level: str) -> None:
        valid = codes >= 0
        m = valid.sum(axis=1)
        keep = m >= 2
        if not keep.all():
            codes, valid, m = codes[keep], valid[keep], m[keep]
        self.level = level
        self.values = values
        self.n_units = u = codes.shape[0]
        self.m = m.astype(float)
        self.inv = 1.0 / (self.m - 1.0)
        v = values.size
        unit = np.broadcast_to(np.arange(u)[:, None], codes.shape)[valid]
        code = codes[valid]
        self.counts: np.ndarray | sparse.csr_matrix
        if u * v <= _DENSE_CELLS:
            self.counts = np.bincount(unit * v + code, minlength=u * v).reshape(u, v).astype(float)
        else:
            self.counts = sparse.csr_matrix((np.ones(code.size), (unit, code)), shape=(u, v))
        self.small = v <= _SMALL_DOMAIN and isinstance(self.counts, np.ndarray)
        self.n_c = np.asarray(self.counts.sum(axis=0)).ravel()
        if self.small:
            weighted = self.counts * self.inv[:, None]
            self.coincidence = self.counts.T @ weighted  # diagonal off by n_c: delta_cc = 0
            return
        # many distinct values: per-unit disagreement sums
        if level == "nominal":
            if isinstance(self.counts, np.ndarray):
                sq = (self.counts**2).sum(axis=1)
            else:
                sq = np.asarray(self.counts.multiply(self.counts).sum(axis=1)).ravel()
            self.d_unit = (self.m**2 - sq) * self.inv
        elif level == "interval":
            s1 = self.counts @ values
            s2 = self.counts @ values**2
            self.d_unit = 2 * (self.m * s2 - s1**2) * self.inv
        elif level == "ratio":
            self.d_unit = self._pairwise_unit(codes, values)

    def _pairwise_unit(self, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum over ordered pairs of raters of delta, per unit, divided by m_u - 1 (ratio)."""
        total = np.zeros(codes.shape[0])
        r = codes.shape[1]
        vals = np.where(codes >= 0, values[np.maximum(codes, 0)], np.nan)
        for a in range(r):
            for b in range(a + 1, r):
                va, vb = vals[:, a], vals[:, b]
                with np.errstate(divide="ignore", invalid="ignore"):
                    d = ((va - vb) / (va + vb)) ** 2
                d[(va + vb) == 0] = 0.0  # both zero
                total += np.where(np.isnan(d), 0.0, 2 * d)
        return total * self.inv

    def alpha(self) -> tuple[float, float]:
        """(alpha, number of pairable values)."""
        n_c = self.n_c
        n = float(n_c.sum())
        if self.small:
            delta = _delta(self.level, self.values, n_c)
            observed = float(np.sum(delta * self.coincidence))
            expected = float(n_c @ delta @ n_c)
            return _ratio(observed, expected, n), n
        return self._alpha_weighted(np.ones(self.n_units)), n

    def _alpha_weighted(self, w: np.ndarray) -> float:
        n_c = np.asarray(self.counts.T @ w).ravel()
        n = float(n_c.sum())
        v = self.values
        if self.level == "nominal":
            expected = n**2 - float(np.sum(n_c**2))
            observed = float(w @ self.d_unit)
        elif self.level == "ratio":
            expected = _ratio_expected(n_c, v)
            observed = float(w @ self.d_unit)
        else:
            if self.level == "ordinal":
                v = np.cumsum(n_c) - n_c / 2.0  # mid-ranks: the ordinal metric is their square
                s1 = self.counts @ v
                s2 = self.counts @ v**2
                observed = float(w @ (2 * (self.m * s2 - s1**2) * self.inv))
            else:
                observed = float(w @ self.d_unit)
            expected = 2 * (n * float(n_c @ v**2) - float(n_c @ v) ** 2)
        return _ratio(observed, expected, n)

    def bootstrap(self, n_boot: int, confidence: float, seed: int | None) -> tuple[float, float]:
        """Percentile interval from resampling units with replacement."""
        u, v = self.n_units, self.values.size
        rng = np.random.default_rng(seed)
        draws = np.empty(n_boot)
        batched = self.small and u * v * v <= _DENSE_CELLS
        if batched:
            assert isinstance(self.counts, np.ndarray)
            per_unit = (self.counts[:, :, None] * self.counts[:, None, :]) * self.inv[:, None, None]
            per_unit = per_unit.reshape(u, v * v)
        batch = max(1, 5_000_000 // u)
        done = 0
        while done < n_boot:
            size = min(batch, n_boot - done)
            picks = rng.integers(0, u, (size, u)) + (np.arange(size) * u)[:, None]
            w = np.bincount(picks.ravel(), minlength=size * u).reshape(size, u).astype(float)
            if batched:
                n_c = w @ self.counts
                coinc = (w @ per_unit).reshape(size, v, v)
                delta = _delta(self.level, self.values, n_c)
                observed = np.einsum("bij,bij->b", delta, coinc)
                expected = np.einsum("bi,bij,bj->b", n_c, delta, n_c)
                n = n_c.sum(axis=1)
                with np.errstate(divide="ignore", invalid="ignore"):
                    draws[done : done + size] = np.where(
                        expected > 0, 1.0 - (n - 1.0) * observed / expected, np.nan
                    )
            else:
                for i in range(size):
                    draws[done + i] = self._alpha_weighted(w[i])
            done += size
        return _percentile(draws, confidence)


def _ratio(observed: float, expected: float, n: float) -> float:
    if expected <= 1e-12 * n * n or not np.isfinite(expected):
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected


def _ratio_expected(n_c: np.ndarray, v: np.ndarray) -> float:
    total = 0.0
    step = max(1, 4_000_000 // max(v.size, 1))
    for start in range(0, v.size, step):
        vc = v[start : start + step, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((vc - v[None, :]) / (vc + v[None, :])) ** 2
        d[~np.isfinite(d)] = 0.0
        total += float(n_c[start : start + step] @ d @ n_c)
    return total


def _percentile(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def _bootstrap(
    stat: Any, n_units: int, n_boot: int, confidence: float, seed: int | None
) -> tuple[float, float]:
    if n_boot <= 0 or n_units < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for b in range(n_boot):
        w = np.bincount(rng.integers(0, n_units, n_units), minlength=n_units).astype(float)
        draws[b] = stat(w)
    return _percentile(draws, confidence)


def krippendorff_alpha(
    data: pd.DataFrame,
    *,
    metric: str = "nominal",
    levels: Sequence[Any] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    level: str | None = None,
) -> pd.DataFrame:
    r"""Krippendorff's alpha for any number of raters, missing ratings and four levels of measurement.

    Parameters
    ----------
    data : DataFrame
        Units x raters: one row per rated unit, one column per rater, missing where a rater did not
        rate the unit. Units rated by fewer than two raters are not pairable and left out.
    metric : {"nominal", "ordinal", "interval", "ratio"}
        The metric of disagreement (the level of measurement). Interval and ratio need numeric
        ratings.
    levels : sequence, optional
        All possible ratings, lowest first (for ordinal data stored as strings). A level never used
        does not change alpha.
    n_boot : int
        Bootstrap replicates for the percentile interval (resampling units); 0 for none.
    confidence : float
        Confidence level of the interval.
    seed : int or None
        Seed of the bootstrap (the default 0 makes the interval reproducible).
    level : str, optional
        Deprecated name of ``metric`` (``level`` means a response level elsewhere).

    Returns
    -------
    DataFrame
        One row: ``measure`` ("krippendorff_alpha"), ``method`` (the metric), ``estimate``,
        ``ci_low``, ``ci_high``, ``confidence``, ``n`` (pairable values), ``n_units`` (pairable
        units), ``n_raters``, ``note``. Alpha is NaN, and ``note`` says why, when the pairable
        ratings do not vary (expected disagreement 0).

    Notes
    -----
    With :math:`n_{uc}` the number of ratings ``c`` of unit ``u``, :math:`m_u` its ratings,
    :math:`n_c = \sum_u n_{uc}` and :math:`n = \sum_c n_c` over pairable units,

    .. math::
        \alpha = 1 - (n - 1) \frac{\sum_u \frac{1}{m_u - 1} \sum_{c,k} n_{uc} n_{uk}
                 \delta^2_{ck}}{\sum_{c,k} n_c n_k \delta^2_{ck}}

    with :math:`\delta^2_{ck}` = 1 if c != k (nominal), :math:`(\sum_{g=c}^{k} n_g - (n_c +
    n_k)/2)^2` (ordinal, which equals the squared difference of the mid-ranks :math:`N_c - n_c/2`),
    :math:`(c - k)^2` (interval), :math:`((c - k)/(c + k))^2` (ratio). Nominal, ordinal and
    interval alpha are computed in time linear in the number of ratings. The interval is a
    percentile bootstrap over units (as Zapf et al. 2016 recommend), not Krippendorff's own
    bootstrap of the coincidence matrix.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability measure
    for coding data. *Communication Methods and Measures* 1(1), 77-89.
    Zapf, A., Castell, S., Morawietz, L., & Karch, A. (2016). Measuring inter-rater reliability for
    nominal data. *BMC Medical Research Methodology* 16, 93.

    Examples
    --------
    Krippendorff's (2011) example C: four observers, twelve units, missing values.

    >>> import numpy as np, pandas as pd
    >>> nan = np.nan
    >>> data = pd.DataFrame({
    ...     "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...     "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...     "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...     "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]})
    >>> round(float(krippendorff_alpha(data, n_boot=0)["estimate"].iloc[0]), 3)
    0.743
    """
    fn = "krippendorff_alpha"
    if level is not None:
        deprecated("krippendorff_alpha(level=)", "krippendorff_alpha(metric=)")
        if metric != "nominal" and metric != level:
            raise ParameterError(
                f"{fn}: `level` is the old name of `metric`; pass only metric={metric!r}."
            )
        metric = level
    check_option("metric", metric, _LEVELS)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_range("n_boot", n_boot, low=0)
    data = check_frame(data, fn)
    codes, values, _ = rating_codes(
        data, levels, numeric=metric in ("interval", "ratio"), function=fn
    )
    core = _Alpha(codes, values, metric)
    if core.n_units == 0:
        raise DataError(
            f"{fn}: no unit has ratings from two raters, so nothing is pairable; each unit (row) "
            "needs at least two ratings."
        )
    estimate, n = core.alpha()
    note = None
    if not np.isfinite(estimate):
        note = "all pairable ratings are equal: no variation, alpha is undefined"
        low = high = float("nan")
    else:
        low = high = float("nan")
        if n_boot > 0 and core.n_units >= 2:
            low, high = core.bootstrap(n_boot, confidence, seed)
    row: dict[str, Any] = {
        "measure": "krippendorff_alpha",
        "method": metric,
        "estimate": estimate,
    }
    if n_boot > 0:
        row |= {"ci_low": low, "ci_high": high, "confidence": confidence}
    row |= {"n": int(n), "n_units": core.n_units, "n_raters": data.shape[1], "note": note}
    return pd.DataFrame([row])


# --------------------------------------------------------------------------------------------------
# Fleiss' kappa


def _fleiss(counts: np.ndarray, m: int, w: np.ndarray) -> float:
    total = w.sum()
    p_i = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    p_bar = float(w @ p_i) / total
    p_j = (w @ counts) / (total * m)
    p_e = float(np.sum(p_j**2))
    return (p_bar - p_e) / (1 - p_e) if p_e < 1 else float("nan")


def fleiss_kappa(
    data: pd.DataFrame,
    *,
    levels: Sequence[Any] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    r"""Fleiss' kappa: chance-corrected agreement of a fixed number of raters on nominal ratings.

    Parameters
    ----------
    data : DataFrame
        Units x raters. Fleiss' kappa needs every unit rated by the same number of raters: units
        with a missing rating are left out (as ``irr::kappam.fleiss``, which applies ``na.omit``)
        and counted in ``note``. Raters need not be the same people from unit to unit.
    levels : sequence, optional
        All possible categories; a category never used does not change kappa.
    n_boot, confidence, seed
        Percentile bootstrap over units for the interval (``n_boot=0`` for none).

    Returns
    -------
    DataFrame
        One row: ``measure`` ("fleiss_kappa"), ``estimate``, ``ci_low``, ``ci_high``,
        ``confidence``, ``statistic`` (z), ``p_value``, ``n`` (units), ``n_raters``, ``note``.

    Notes
    -----
    With :math:`n_{ij}` raters putting unit i in category j, m raters, N units:
    :math:`P_i = (\sum_j n_{ij}^2 - m)/(m(m-1))`, :math:`\bar P = \frac{1}{N}\sum_i P_i`,
    :math:`p_j = \sum_i n_{ij}/(N m)`, :math:`\bar P_e = \sum_j p_j^2`,
    :math:`\kappa = (\bar P - \bar P_e)/(1 - \bar P_e)`. The z test of kappa = 0 uses the null
    variance of Fleiss, Nee & Landis (1979), as ``irr::kappam.fleiss``:
    :math:`\operatorname{var}_0 = \frac{2}{(\sum p_j q_j)^2 N m (m-1)} ((\sum p_j q_j)^2 -
    \sum p_j q_j (q_j - p_j))`, two-sided p. That variance holds only under the null, so the
    interval is a bootstrap over units instead.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
    Bulletin* 76(5), 378-382.
    Fleiss, J. L., Nee, J. C. M., & Landis, J. R. (1979). Large sample variance of kappa in the
    case of different sets of raters. *Psychological Bulletin* 86(5), 974-977.
    Gamer, M. et al. irr: Various coefficients of interrater reliability, ``kappam.fleiss``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({
    ...     "r1": ["满意", "满意", "不满意", "基本满意", "满意"],
    ...     "r2": ["满意", "基本满意", "不满意", "基本满意", "满意"],
    ...     "r3": ["满意", "满意", "不满意", "不满意", "满意"]})
    >>> round(float(fleiss_kappa(data, n_boot=0)["estimate"].iloc[0]), 4)
    0.5588
    """
    fn = "fleiss_kappa"
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_range("n_boot", n_boot, low=0)
    data = check_frame(data, fn)
    codes, values, _ = rating_codes(data, levels, numeric=False, function=fn)
    codes, dropped = complete_units(codes)
    n_units, m = codes.shape
    if n_units == 0:
        raise DataError(
            f"{fn}: no unit is rated by all {m} raters; Fleiss' kappa needs the same number of "
            "ratings per unit. Use krippendorff_alpha for incomplete data."
        )
    n_cat = values.size
    rows = np.repeat(np.arange(n_units), m)
    counts = np.bincount(rows * n_cat + codes.ravel(), minlength=n_units * n_cat).reshape(
        n_units, n_cat
    )
    counts = counts.astype(float)
    ones = np.ones(n_units)
    kappa = _fleiss(counts, m, ones)
    p_j = counts.sum(axis=0) / (n_units * m)
    q_j = 1 - p_j
    pq = float(np.sum(p_j * q_j))
    notes = []
    if dropped:
        notes.append(f"{dropped} units with missing ratings left out")
    if np.isfinite(kappa):
        var0 = (
            2 / (pq**2 * n_units * m * (m - 1)) * (pq**2 - float(np.sum(p_j * q_j * (q_j - p_j))))
        )
        z = kappa / np.sqrt(var0)
        p = float(2 * stats.norm.sf(abs(z)))
        low, high = _bootstrap(lambda w: _fleiss(counts, m, w), n_units, n_boot, confidence, seed)
    else:
        notes.append("all ratings are in one category: kappa is undefined")
        z = p = low = high = float("nan")
    row: dict[str, Any] = {"measure": "fleiss_kappa", "estimate": kappa}
    if n_boot > 0:
        row |= {"ci_low": low, "ci_high": high, "confidence": confidence}
    row |= {
        "statistic": z,
        "p_value": p,
        "n": n_units,
        "n_raters": m,
        "note": "; ".join(notes) if notes else None,
    }
    return pd.DataFrame([row])


def __getattr__(name: str) -> Any:
    """``kendall_w`` and ``icc`` moved to :mod:`toolkit.analysis.concordance`; importing them from
    here still works, with a warning."""
    if name in ("kendall_w", "icc"):
        from toolkit.analysis import concordance

        deprecated(f"toolkit.analysis.agreement.{name}", f"toolkit.analysis.{name}")
        return getattr(concordance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
