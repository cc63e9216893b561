r"""Planning a survey: how many ballots for a given precision, and how precise a given number is.

Two functions share one model of the sample:

* :func:`plan_sample_size`: ballots needed so that a rate's confidence interval has a chosen
  half-width (Wilson, exact or Wald), or a difference between two meetings or years has one, or a
  difference is detected with a chosen power;
* :func:`precision`: the half-width and power that a given number of ballots gives.

The sample is described by its **effective size** (Kish 1965): ``n`` ballots drawn without
replacement from ``population`` members, in a design with design effect ``deff``, are as precise as
a simple random sample with replacement of

.. math:: n_{\mathrm{eff}} = \frac{n}{\mathrm{deff}} \cdot \frac{N - 1}{N - n},

because the variance of a rate under sampling without replacement is
:math:`p(1-p)/n \cdot (N - n)/(N - 1)` (Cochran 1977, eq. 3.8). Solving for ``n`` gives the
finite-population formula of Cochran (1977, eq. 4.2) with the design effect:

.. math:: n = \frac{n_0 \, \mathrm{deff} \, N}{N - 1 + n_0 \, \mathrm{deff}},

where :math:`n_0` is the size needed by simple random sampling with replacement. At a 评议会 of
40 members the correction is large: ±10 points at 95% (Wilson, rate 0.5) needs 93 ballots from an
unlimited population but 29 of the 40 members.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from toolkit._checks import check_option, check_range
from toolkit.errors import ParameterError

__all__ = ["PLANNING_METHODS", "plan_sample_size", "precision"]

PLANNING_METHODS: tuple[str, ...] = ("wilson", "exact", "wald")
_LARGEST = 1e9  # no plan needs more ballots than this


def _z(confidence: float) -> float:
    return float(special.ndtri(0.5 + confidence / 2))


def _half_width_rate(p: float, n_eff: float, confidence: float, method: str) -> float:
    """Half-width of the interval at observed rate ``p`` from an effective sample ``n_eff``."""
    z = _z(confidence)
    if method == "wald":
        return z * math.sqrt(p * (1 - p) / n_eff)
    low, high = _limits(p, n_eff, confidence, method)
    return (high - low) / 2


def _limits(p: float, n: float, confidence: float, method: str) -> tuple[float, float]:
    z = _z(confidence)
    if method == "wilson":  # prop.test(x, n, correct = FALSE)
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        return centre - half, centre + half
    if method == "exact":  # Clopper-Pearson through the beta quantiles, x = n p
        a = 1 - confidence
        x = p * n
        low = 0.0 if x <= 0 else float(special.betaincinv(x, n - x + 1, a / 2))
        high = 1.0 if x >= n else float(special.betaincinv(x + 1, n - x, 1 - a / 2))
        return low, high
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def _half_width_difference(
    p1: float, p2: float, n_eff: float, confidence: float, method: str
) -> float:
    """Half-width of the interval of p1 - p2, equal effective sizes (Newcombe for "wilson")."""
    if method == "wald":
        return _z(confidence) * math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n_eff)
    if method == "exact":
        raise ParameterError(
            "`method` 'exact' has no difference interval here; use 'wilson' (Newcombe) or 'wald'."
        )
    l1, u1 = _limits(p1, n_eff, confidence, "wilson")
    l2, u2 = _limits(p2, n_eff, confidence, "wilson")
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (high - low) / 2


def _arcsine_power(h: float, n_eff: float, confidence: float, two_sample: bool) -> float:
    """Power of the two-sided arcsine test (pwr::pwr.p.test, pwr::pwr.2p.test)."""
    scale = math.sqrt(n_eff / 2) if two_sample else math.sqrt(n_eff)
    crit = _z(confidence)
    return float(special.ndtr(h * scale - crit) + special.ndtr(-crit - h * scale))


def _cohen_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def _effective(n: float, population: float | None, deff: float) -> float:
    if population is None:
        return n / deff
    if n >= population:
        return math.inf
    return n / deff * (population - 1) / (population - n)


def _actual(n_eff: float, population: float | None, deff: float) -> int:
    """Smallest whole number of ballots whose effective size reaches ``n_eff``."""
    need = n_eff * deff
    if population is not None:
        need = need * population / (population - 1 + need)
    return max(1, math.ceil(need - 1e-9))


def _check_common(confidence: float, deff: float, population: Any) -> float | None:
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_range("deff", deff, low=0, low_inclusive=False)
    if population is None:
        return None
    check_range("population", population, low=2)
    return float(population)


def plan_sample_size(
    *,
    half_width: float | None = None,
    rate: float = 0.5,
    rate2: float | None = None,
    power: float | None = None,
    benchmark: float | None = None,
    confidence: float = 0.95,
    method: str = "wilson",
    population: int | None = None,
    deff: float = 1.0,
) -> pd.DataFrame:
    r"""Ballots needed for a rate's interval half-width, a difference's, or a test's power.

    There is no ``data``: a plan comes before the ballots. Three questions:

    * ``half_width`` alone: the interval of one rate (anticipated ``rate``; 0.5 is the worst
      case) should be at most ``rate ± half_width``;
    * ``half_width`` and ``rate2``: the interval of the difference ``rate - rate2`` between two
      meetings or two years (the same number of ballots at each) should be at most that wide;
    * ``power`` and ``rate2`` (or ``benchmark``): a two-sided test at level ``1 - confidence``
      should detect the difference ``rate - rate2`` between two meetings (or between ``rate`` and a
      fixed ``benchmark`` such as a 60% pass mark) with that probability.

    Parameters
    ----------
    half_width : float, optional
        Wanted half-width of the interval, as a proportion (0.10 for ±10 points).
    rate, rate2 : float
        Anticipated rates (proportions in (0, 1)).
    power : float, optional
        Wanted power of the test, in (0, 1).
    benchmark : float, optional
        Fixed rate to test ``rate`` against (one-sample test).
    confidence : float
        Confidence level of the interval (the test's level is ``1 - confidence``).
    method : {"wilson", "exact", "wald"}
        Interval whose half-width is planned: Wilson score (``prop.test(correct = FALSE)``),
        Clopper-Pearson exact, or Wald. For a difference, "wilson" is Newcombe's hybrid score
        interval (built from the two Wilson intervals) and "exact" is not offered. Power uses the
        arcsine test of ``pwr`` whatever ``method`` says.
    population : int, optional
        Number of people who can vote (members of the 评议会): the finite population correction.
    deff : float
        Design effect of a clustered or weighted survey (1 for simple random sampling).

    Returns
    -------
    DataFrame
        One row: ``measure`` ("rate", "difference" or "power"), ``method``, ``estimate`` (the
        anticipated rate or difference), ``half_width``, ``power`` (NaN when not planned for),
        ``confidence``, ``deff``, ``population`` (NaN when unlimited), ``n_srs`` (the effective
        size needed, unrounded: the ballots simple random sampling from an unlimited population
        would need) and ``n`` (whole ballots needed, per meeting for differences).

    Notes
    -----
    Half-widths are those of the interval at the anticipated rate (the count ``n p`` need not be
    whole). Wald: :math:`n_0 = z^2 p(1-p)/h^2` (Cochran 1977, eq. 4.1). Wilson and exact: the
    smallest :math:`n_0` (found by root search) whose interval at ``rate`` has half-width ``h``.
    Newcombe (1998, method 10) combines the Wilson limits :math:`l_i, u_i`:
    :math:`\hat d \pm \sqrt{(p_1 - l_1)^2 + (u_2 - p_2)^2}` (lower) and
    :math:`\sqrt{(u_1 - p_1)^2 + (p_2 - l_2)^2}` (upper). Power: Cohen's
    :math:`h = 2\arcsin\sqrt{p_1} - 2\arcsin\sqrt{p_2}` and power
    :math:`\Phi(h\sqrt{n/k} - z) + \Phi(-h\sqrt{n/k} - z)` with k = 2 for two samples, 1 for one
    (``pwr::pwr.2p.test``, ``pwr::pwr.p.test``). Then the design effect and the finite
    population correction of the module docstring. With ``population`` the exact interval is an
    approximation (the exact interval without replacement is hypergeometric).

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., Wiley, sections 3.4 and 4.4.
    Kish, L. (1965). *Survey Sampling*, Wiley (design effect).
    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions. *Statistics in Medicine* 17, 873-890.
    Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed.
    (``pwr``).

    Examples
    --------
    How many ballots at a 评议会 of 40 members for ±10 points?

    >>> plan = plan_sample_size(half_width=0.10, population=40)
    >>> plan[["method", "n_srs", "n"]].round(1)
       method  n_srs   n
    0  wilson   92.2  29
    >>> int(plan_sample_size(half_width=0.10, method="wald")["n"].iloc[0])
    97
    """
    population_f = _check_common(confidence, deff, population)
    check_option("method", method, PLANNING_METHODS)
    check_range("rate", rate, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if rate2 is not None:
        check_range("rate2", rate2, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if (half_width is None) == (power is None):
        raise ParameterError(
            "plan_sample_size: give `half_width` (plan an interval) or `power` (plan a test), "
            "one of the two."
        )
    hw = math.nan
    pw = math.nan
    if power is not None:
        check_range("power", power, low=0, high=1, low_inclusive=False, high_inclusive=False)
        if (rate2 is None) == (benchmark is None):
            raise ParameterError(
                "plan_sample_size: `power` needs `rate2` (two meetings) or `benchmark` (a fixed "
                "rate), one of the two."
            )
        other = rate2 if rate2 is not None else benchmark
        assert other is not None
        check_range("benchmark", other, low=0, high=1, low_inclusive=False, high_inclusive=False)
        h = abs(_cohen_h(rate, other))
        if h == 0:
            raise ParameterError("plan_sample_size: `rate` equals the rate it is compared with.")
        two = rate2 is not None
        alpha = 1 - confidence
        if _arcsine_power(h, 2.0, confidence, two) >= power:
            n0 = 2.0
        else:
            n0 = optimize.brentq(
                lambda n: _arcsine_power(h, n, confidence, two) - power,
                2.0,
                _LARGEST,
                xtol=1e-12,
                rtol=1e-14,
            )
        pw = power
        measure, method_out, estimate = "power", "arcsine", rate - other
        del alpha
    else:
        assert half_width is not None
        check_range("half_width", half_width, low=0, high=0.5, low_inclusive=False)
        hw = half_width
        if rate2 is None:
            measure, estimate = "rate", rate

            def width(n: float) -> float:
                return _half_width_rate(rate, n, confidence, method) - half_width

        else:
            measure, estimate = "difference", rate - rate2
            _half_width_difference(rate, rate2, 10.0, confidence, method)  # checks the method

            def width(n: float) -> float:
                return _half_width_difference(rate, rate2, n, confidence, method) - half_width

        method_out = method if measure == "rate" or method == "wald" else "newcombe"
        if method == "wald":
            z = _z(confidence)
            var = rate * (1 - rate) + (0 if rate2 is None else rate2 * (1 - rate2))
            n0 = z**2 * var / half_width**2
        else:
            n0 = optimize.brentq(width, 1e-6, _LARGEST, xtol=1e-12, rtol=1e-14)
    return pd.DataFrame(
        [
            {
                "measure": measure,
                "method": method_out,
                "estimate": estimate,
                "half_width": hw,
                "power": pw,
                "confidence": confidence,
                "deff": float(deff),
                "population": np.nan if population_f is None else population_f,
                "n_srs": n0,
                "n": _actual(n0, population_f, deff),
            }
        ]
    )


def precision(
    *,
    n: int,
    rate: float = 0.5,
    rate2: float | None = None,
    benchmark: float | None = None,
    confidence: float = 0.95,
    method: str = "wilson",
    population: int | None = None,
    deff: float = 1.0,
) -> pd.DataFrame:
    """The interval and power that ``n`` ballots give: the inverse of :func:`plan_sample_size`.

    Parameters
    ----------
    n : int
        Ballots (per meeting when ``rate2`` is given).
    rate, rate2, benchmark, confidence, method, population, deff
        As for :func:`plan_sample_size`.

    Returns
    -------
    DataFrame
        One row: ``measure`` ("rate" or "difference"), ``method``, ``n``, ``estimate``,
        ``ci_low``, ``ci_high`` (the interval at the anticipated rate, from the effective size),
        ``half_width`` ((ci_high - ci_low) / 2), ``confidence``, ``deff``, ``population``, and
        ``power`` of the arcsine test against ``rate2`` or ``benchmark`` (NaN without either).

    References
    ----------
    As for :func:`plan_sample_size` (``pwr::pwr.2p.test(n = )`` for the power).

    Examples
    --------
    >>> p = precision(n=29, population=40)
    >>> p[["n", "ci_low", "ci_high", "half_width"]].round(4)
        n  ci_low  ci_high  half_width
    0  29  0.4051   0.5949      0.0949
    """
    population_f = _check_common(confidence, deff, population)
    check_option("method", method, PLANNING_METHODS)
    check_range("n", n, low=1)
    if population_f is not None and n > population_f:
        raise ParameterError(f"`n` ({n}) cannot exceed `population` ({population}).")
    check_range("rate", rate, low=0, high=1, low_inclusive=False, high_inclusive=False)
    n_eff = _effective(float(n), population_f, deff)
    if rate2 is None:
        measure, estimate = "rate", rate
        if math.isinf(n_eff):
            low = high = rate
        else:
            low, high = _limits(rate, n_eff, confidence, method)
        method_out = method
    else:
        check_range("rate2", rate2, low=0, high=1, low_inclusive=False, high_inclusive=False)
        measure, estimate = "difference", rate - rate2
        half = (
            0.0
            if math.isinf(n_eff)
            else _half_width_difference(rate, rate2, n_eff, confidence, method)
        )
        low, high = estimate - half, estimate + half
        if method == "wilson" and not math.isinf(n_eff):  # Newcombe is not symmetric
            l1, u1 = _limits(rate, n_eff, confidence, "wilson")
            l2, u2 = _limits(rate2, n_eff, confidence, "wilson")
            low = estimate - math.sqrt((rate - l1) ** 2 + (u2 - rate2) ** 2)
            high = estimate + math.sqrt((u1 - rate) ** 2 + (rate2 - l2) ** 2)
        method_out = "newcombe" if method == "wilson" else method
    pw = math.nan
    other = rate2 if rate2 is not None else benchmark
    if other is not None:
        check_range("benchmark", other, low=0, high=1, low_inclusive=False, high_inclusive=False)
        h = abs(_cohen_h(rate, other))
        pw = 1.0 if math.isinf(n_eff) else _arcsine_power(h, n_eff, confidence, rate2 is not None)
    return pd.DataFrame(
        [
            {
                "measure": measure,
                "method": method_out,
                "n": int(n),
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
                "half_width": (high - low) / 2,
                "confidence": confidence,
                "deff": float(deff),
                "population": np.nan if population_f is None else population_f,
                "power": pw,
            }
        ]
    )
