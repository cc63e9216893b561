"""Confidence intervals for a binomial proportion.

Dependency-light on purpose (numpy, pandas and :mod:`scipy.special` only): the live results board
imports it while a meeting is running.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from toolkit._checks import check_option, check_range
from toolkit.errors import ParameterError

__all__ = ["PROPORTION_METHODS", "proportion_ci"]

PROPORTION_METHODS: tuple[str, ...] = ("wilson", "exact", "agresti-coull", "jeffreys", "wald")


def _as_counts(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"`{name}` must be a whole number or an array of whole numbers; got {value!r}."
        ) from None
    if np.isnan(arr).any():
        raise ParameterError(f"`{name}` must not contain missing values (NaN); got {value!r}.")
    if (arr < 0).any():
        raise ParameterError(f"`{name}` must not be negative; got {value!r}.")
    if (arr != np.floor(arr)).any() or np.isinf(arr).any():
        raise ParameterError(f"`{name}` must hold whole numbers (counts); got {value!r}.")
    return arr


def _qbeta(p: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quantile of Beta(a, b) at probability ``p`` (R's ``qbeta``)."""
    return np.asarray(special.betaincinv(a, b, p), dtype=float)


def proportion_ci(
    count: Any,
    n: Any,
    *,
    method: str = "wilson",
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Confidence interval for a binomial proportion ``count / n``.

    Parameters
    ----------
    count : int or array-like of int
        Number of cases with the property (for example ballots marked 满意).
    n : int or array-like of int
        Number of cases (the denominator). Broadcast against ``count``.
    method : {"wilson", "exact", "agresti-coull", "jeffreys", "wald"}
        The interval. ``"wilson"`` (score interval, the default) is recommended for the small
        meetings of the three-meeting system (16-50 raters); ``"exact"`` is Clopper-Pearson.
    confidence : float
        Confidence level in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per (count, n) pair with columns ``count``, ``n``, ``estimate`` (count / n),
        ``ci_low``, ``ci_high``, ``method``, ``confidence``. ``n == 0`` gives NaN estimate and
        bounds (no exception).

    Raises
    ------
    ParameterError
        If a count is negative, not a whole number, or larger than its ``n``; if ``method`` or
        ``confidence`` is not allowed.

    Notes
    -----
    With :math:`x` = count, :math:`\hat p = x/n`, :math:`z = \Phi^{-1}(1 - \alpha/2)`,
    :math:`\alpha = 1 -` confidence (Brown, Cai & DasGupta 2001):

    - wilson: :math:`\frac{x + z^2/2}{n + z^2} \pm \frac{z\sqrt{n}}{n + z^2}
      \sqrt{\hat p(1-\hat p) + z^2/(4n)}` (R ``prop.test(x, n, correct = FALSE)``); the bounds
      are exactly 0 at :math:`x = 0` and 1 at :math:`x = n`.
    - exact (Clopper-Pearson): :math:`[B(\alpha/2; x, n-x+1),\ B(1-\alpha/2; x+1, n-x)]` with
      :math:`B` the beta quantile; lower bound 0 when :math:`x = 0`, upper bound 1 when
      :math:`x = n` (R ``binom.test``).
    - agresti-coull: :math:`\tilde n = n + z^2`, :math:`\tilde p = (x + z^2/2)/\tilde n`,
      :math:`\tilde p \pm z\sqrt{\tilde p(1-\tilde p)/\tilde n}`, clipped to [0, 1].
    - jeffreys: :math:`[B(\alpha/2; x+\frac12, n-x+\frac12),\ B(1-\alpha/2; x+\frac12,
      n-x+\frac12)]`, with the lower bound set to 0 at :math:`x = 0` and the upper bound to 1 at
      :math:`x = n` (Brown et al. 2001, section 4.1.2; as ``DescTools::BinomCI``).
    - wald: :math:`\hat p \pm z\sqrt{\hat p(1-\hat p)/n}`, clipped to [0, 1]; degenerate (zero
      width) at :math:`x = 0` and :math:`x = n`: do not use it for small meetings.

    The ``estimate`` is always :math:`\hat p = x/n`, whatever the method.

    References
    ----------
    Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial proportion.
    *Statistical Science* 16(2), 101-133. R: ``stats::binom.test``, ``stats::prop.test``,
    ``DescTools::BinomCI``.

    Examples
    --------
    >>> from toolkit.analysis.proportions import proportion_ci
    >>> proportion_ci(18, 24).round(4)
       count   n  estimate  ci_low  ci_high  method  confidence
    0     18  24      0.75   0.551     0.88  wilson        0.95
    >>> proportion_ci([0, 24], 24, method="exact")[["ci_low", "ci_high"]].round(4)
       ci_low  ci_high
    0  0.0000   0.1425
    1  0.8575   1.0000
    """
    check_option("method", method, PROPORTION_METHODS)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)):
        raise ParameterError(f"`confidence` must be a number in (0, 1); got {confidence!r}.")
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    x_arr = _as_counts("count", count)
    n_arr = _as_counts("n", n)
    try:
        x, m = np.broadcast_arrays(x_arr, n_arr)
    except ValueError:
        raise ParameterError(
            f"`count` and `n` must have the same length (or one be a single number); got "
            f"shapes {x_arr.shape} and {n_arr.shape}."
        ) from None
    x = np.atleast_1d(x).ravel().astype(float)
    m = np.atleast_1d(m).ravel().astype(float)
    over = x > m
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise ParameterError(
            f"`count` must not exceed `n`; got count {x[i]:g} > n {m[i]:g} (position {i}). "
            "Check that the denominator counts every case in the numerator."
        )

    alpha = 1.0 - float(confidence)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    empty = m == 0
    safe_n = np.where(empty, 1.0, m)
    p = x / safe_n
    low: np.ndarray
    high: np.ndarray

    if method == "wilson":
        z2 = z * z
        centre = (x + z2 / 2.0) / (safe_n + z2)
        half = z * np.sqrt(safe_n) / (safe_n + z2) * np.sqrt(p * (1.0 - p) + z2 / (4.0 * safe_n))
        low = np.where(x == 0, 0.0, centre - half)
        high = np.where(x == m, 1.0, centre + half)
    elif method == "exact":
        with np.errstate(invalid="ignore"):
            low = np.where(x == 0, 0.0, _qbeta(alpha / 2.0, np.maximum(x, 1.0), safe_n - x + 1.0))
            high = np.where(
                x == m, 1.0, _qbeta(1.0 - alpha / 2.0, x + 1.0, np.maximum(safe_n - x, 1.0))
            )
    elif method == "jeffreys":
        a = x + 0.5
        b = safe_n - x + 0.5
        low = np.where(x == 0, 0.0, _qbeta(alpha / 2.0, a, b))
        high = np.where(x == m, 1.0, _qbeta(1.0 - alpha / 2.0, a, b))
    elif method == "agresti-coull":
        n_t = safe_n + z * z
        p_t = (x + z * z / 2.0) / n_t
        half = z * np.sqrt(p_t * (1.0 - p_t) / n_t)
        low = p_t - half
        high = p_t + half
    else:  # wald
        half = z * np.sqrt(p * (1.0 - p) / safe_n)
        low = p - half
        high = p + half

    low = np.clip(low, 0.0, 1.0)
    high = np.clip(high, 0.0, 1.0)
    nan = np.nan
    out = pd.DataFrame(
        {
            "count": x.astype(np.int64),
            "n": m.astype(np.int64),
            "estimate": np.where(empty, nan, p),
            "ci_low": np.where(empty, nan, low),
            "ci_high": np.where(empty, nan, high),
            "method": method,
            "confidence": float(confidence),
        }
    )
    return out
