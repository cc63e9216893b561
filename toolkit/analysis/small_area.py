r"""Small-area estimates: community satisfaction rates that borrow strength across communities.

A community with 12 ballots has a raw rate whose interval spans 40 points. If the communities of a
street are alike in part, each community's rate is better estimated by pulling its raw rate toward
the street's typical rate, the more so the fewer its ballots. :func:`small_area_rates` does this by
one of two models of the between-community variation:

* ``"glmm"``: a logistic random-intercept model, :math:`\operatorname{logit} p_c = \beta_0 + u_c`,
  :math:`u_c \sim N(0, \sigma^2)`, fitted by maximum likelihood with the Laplace approximation as
  ``lme4::glmer(cbind(x, n - x) ~ 1 + (1 | community), family = binomial)`` does; a community's
  rate is :math:`\operatorname{expit}(\hat\beta_0 + \hat u_c)` at the conditional mode;
* ``"beta_binomial"``: empirical Bayes (Morris 1983): :math:`p_c \sim \operatorname{Beta}(\alpha,
  \beta)` with :math:`\alpha, \beta` by maximum marginal (beta-binomial) likelihood; a community's
  rate is its posterior mean :math:`(\alpha + x_c) / (\alpha + \beta + n_c)`.

**Never rank communities on the points.** Shrunken rates with overlapping intervals do not order
the communities; a league table of them misleads as much as one of raw rates. Report the intervals
and, if a decision is needed, which communities are clearly above or below the typical rate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.compare import AnalysisWarning
from toolkit.analysis.satisfaction import MEASURES, satisfaction_rates
from toolkit.errors import ConvergenceError, DataError

__all__ = ["SMALL_AREA_METHODS", "small_area_rates"]

SMALL_AREA_METHODS: tuple[str, ...] = ("glmm", "beta_binomial")
_NO_SPREAD = 1e7  # alpha + beta beyond this: no between-community variation left


# --------------------------------------------------------------------------------------------------
# logistic random intercept, Laplace approximation (lme4::glmer, nAGQ = 1)


def _modes(
    beta0: float, sigma: float, x: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional modes u_c and -h''(u_c) = n p (1 - p) + 1 / sigma^2 (Newton, vectorised)."""
    u = np.zeros_like(x)
    for _ in range(100):
        p = special.expit(beta0 + u)
        grad = x - n * p - u / sigma**2
        curv = n * p * (1 - p) + 1 / sigma**2
        step = grad / curv
        u = u + step
        if np.max(np.abs(step)) < 1e-13:
            break
    p = special.expit(beta0 + u)
    return u, n * p * (1 - p) + 1 / sigma**2


def _laplace_deviance(params: np.ndarray, x: np.ndarray, n: np.ndarray) -> float:
    """-2 log L (Laplace), binomial constants left out; params = (beta0, log sigma)."""
    beta0, sigma = params[0], math.exp(params[1])
    u, curv = _modes(beta0, sigma, x, n)
    eta = beta0 + u
    loglik = x * eta - n * np.logaddexp(0, eta) - u**2 / (2 * sigma**2)
    return float(-2 * np.sum(loglik - 0.5 * np.log(sigma**2 * curv)))


def _hessian(f: Any, at: np.ndarray, step: float = 1e-4) -> np.ndarray:
    k = at.size
    out = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            e_i, e_j = np.eye(k)[i] * step, np.eye(k)[j] * step
            out[i, j] = (
                f(at + e_i + e_j) - f(at + e_i - e_j) - f(at - e_i + e_j) + f(at - e_i - e_j)
            ) / (4 * step**2)
    return out


def _glmm(x: np.ndarray, n: np.ndarray, z: float) -> dict[str, Any]:
    pooled = x.sum() / n.sum()
    start = np.array([special.logit(np.clip(pooled, 1e-3, 1 - 1e-3)), math.log(0.5)])
    best = None
    for log_sd in (math.log(0.5), math.log(0.1), math.log(1.5)):
        start[1] = log_sd
        res = optimize.minimize(
            _laplace_deviance,
            start,
            args=(x, n),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000},
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    polish = optimize.minimize(
        _laplace_deviance, best.x, args=(x, n), method="BFGS", options={"gtol": 1e-9}
    )
    params = polish.x if polish.fun <= best.fun else best.x
    beta0, sigma = float(params[0]), math.exp(params[1])
    if sigma < 1e-4:
        raise ConvergenceError(
            "small_area_rates: the between-community variance is estimated at zero (a singular "
            "fit, as glmer reports it): the communities do not differ beyond chance, so every "
            "shrunken rate is the pooled rate. Report the pooled rate, or use "
            "method='beta_binomial'."
        )
    # vcov of beta0: inverse Hessian of the deviance in (beta0, sigma), as vcov(glmer) does
    hess = _hessian(
        lambda p: _laplace_deviance(np.array([p[0], math.log(p[1])]), x, n),
        np.array([beta0, sigma]),
    )
    var_beta0 = float(2 * np.linalg.inv(hess)[0, 0])
    u, curv = _modes(beta0, sigma, x, n)
    eta = beta0 + u
    se = np.sqrt(var_beta0 + 1 / curv)
    return {
        "estimate": special.expit(eta),
        "ci_low": special.expit(eta - z * se),
        "ci_high": special.expit(eta + z * se),
        "overall": (
            special.expit(beta0),
            special.expit(beta0 - z * math.sqrt(var_beta0)),
            special.expit(beta0 + z * math.sqrt(var_beta0)),
        ),
        "spread": sigma,
    }


# --------------------------------------------------------------------------------------------------
# beta-binomial empirical Bayes


def _bb_negloglik(params: np.ndarray, x: np.ndarray, n: np.ndarray) -> float:
    a, b = np.exp(params)
    return float(-np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))


def _beta_binomial(x: np.ndarray, n: np.ndarray, confidence: float) -> dict[str, Any]:
    p = x / n
    m = x.sum() / n.sum()
    var = max(float(np.var(p)), 1e-4)
    total = max(m * (1 - m) / var - 1, 1.0)  # moments: a start
    start = np.log([m * total, (1 - m) * total])
    res = optimize.minimize(
        _bb_negloglik, start, args=(x, n), method="BFGS", options={"gtol": 1e-10}
    )
    res = optimize.minimize(
        _bb_negloglik,
        res.x,
        args=(x, n),
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 4000},
    )
    a, b = np.exp(res.x)
    if a + b > _NO_SPREAD:
        # at the boundary the model is one binomial: the prior mean's MLE is the pooled rate
        # (the optimizer stops short of it, by 1e-4 here and there); keep the precision reached
        a, b = m * (a + b), (1 - m) * (a + b)
        warnings.warn(
            "small_area_rates: the communities do not differ beyond chance (the beta prior's "
            "precision is unbounded); every shrunken rate is the pooled rate.",
            AnalysisWarning,
            stacklevel=3,
        )
    lo, hi = (1 - confidence) / 2, (1 + confidence) / 2
    post_a, post_b = a + x, b + n - x
    mean = a / (a + b)
    return {
        "estimate": post_a / (post_a + post_b),
        "ci_low": stats.beta.ppf(lo, post_a, post_b),
        "ci_high": stats.beta.ppf(hi, post_a, post_b),
        "overall": (mean, stats.beta.ppf(lo, a, b), stats.beta.ppf(hi, a, b)),
        "spread": math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))),
        "alpha_beta": (a, b),
    }


def small_area_rates(
    data: pd.DataFrame,
    *,
    item: str,
    area: str,
    method: str = "glmm",
    rate: str = "broad",
    confidence: float = 0.95,
    levels: Mapping[str, Sequence[Any]] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    r"""Raw and shrunken satisfaction rates of communities, with intervals.

    Parameters
    ----------
    data : DataFrame
        One row per ballot.
    item : str
        The ballot column rated.
    area : str
        Column of the community (or any small area).
    method : {"glmm", "beta_binomial"}
        Logistic random intercept (``lme4::glmer``) or beta-binomial empirical Bayes.
    rate : {"strict", "broad", "dissatisfied"}
        Which rate; the denominator is the valid answers.
    confidence : float
        Confidence level.
    levels : dict, optional
        How to read the values, as :func:`~toolkit.analysis.satisfaction.satisfaction_rates`.
    weights : str, optional
        Column of **frequency weights** (whole numbers of identical ballots): the model sees the
        weighted counts, exactly as the expanded rows.

    Returns
    -------
    DataFrame
        Per community two rows, ``measure = "raw"`` (count / n with its Wilson interval,
        ``method`` "wilson") and ``measure = "shrunken"`` (the model's rate and interval,
        ``method`` "glmm" or "beta_binomial"); then a row ``measure = "overall"`` (the typical
        community's rate: :math:`\operatorname{expit}(\beta_0)` or :math:`\alpha/(\alpha+\beta)`)
        and a row ``measure = "between_sd"`` (the spread of the communities: :math:`\sigma` on
        the logit scale, or the standard deviation of the beta distribution), with the ``area``
        column missing. Columns: ``area`` (named as the input column), ``measure``, ``method``,
        ``count``, ``n``, ``estimate``, ``ci_low``, ``ci_high``, ``confidence``.

    Notes
    -----
    ``"glmm"``: :math:`-2\log L(\beta_0, \sigma) \approx -2\sum_c \big[x_c \eta_c - n_c
    \log(1 + e^{\eta_c}) - \hat u_c^2 / 2\sigma^2 - \tfrac12 \log(1 + \sigma^2 n_c \hat p_c
    (1 - \hat p_c))\big]` with :math:`\eta_c = \beta_0 + \hat u_c` at the conditional modes (the
    Laplace approximation of ``glmer``, ``nAGQ = 1``). The interval of a community is
    :math:`\operatorname{expit}(\hat\eta_c \pm z\,s_c)` with :math:`s_c^2 = \operatorname{var}
    (\hat\beta_0) + \operatorname{var}(u_c \mid x)`, the fixed-effect variance of ``vcov(fit)``
    plus the conditional variance of ``ranef(fit, condVar = TRUE)`` (Gelman & Hill 2007, 12.x);
    it leaves out the uncertainty of :math:`\hat\sigma`.
    ``"beta_binomial"``: :math:`\alpha, \beta` maximise
    :math:`\sum_c \log B(x_c + \alpha, n_c - x_c + \beta) - \log B(\alpha, \beta)`; the interval is
    the equal-tailed posterior interval of :math:`\operatorname{Beta}(\alpha + x_c, \beta + n_c -
    x_c)`, which also leaves out the uncertainty of :math:`\alpha, \beta` (Morris 1983), so both
    intervals are somewhat too narrow when there are few communities.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. *Journal of Statistical Software* 67(1) (``glmer``).
    Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    *JASA* 78(381), 47-55.
    Gelman, A., & Hill, J. (2007). *Data Analysis Using Regression and Multilevel/Hierarchical
    Models*, Cambridge University Press.
    Rao, J. N. K., & Molina, I. (2015). *Small Area Estimation*, 2nd ed., Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> sizes = {"康乐": (9, 12), "长寿": (20, 40), "曹杨": (30, 35), "真如": (3, 10), "桃浦": (15, 20)}
    >>> b = pd.DataFrame([{"community": c, "overall": "满意" if i < s else "不满意"}
    ...                   for c, (s, n) in sizes.items() for i in range(n)])
    >>> out = small_area_rates(b, item="overall", area="community", rate="strict")
    >>> out[out["measure"] != "raw"][["community", "measure", "n", "estimate"]].round(3)
       community     measure    n  estimate
    1         康乐    shrunken   12     0.715
    3         曹杨    shrunken   35     0.816
    5         桃浦    shrunken   20     0.725
    7         真如    shrunken   10     0.451
    9         长寿    shrunken   40     0.525
    10       NaN     overall  117     0.662
    11       NaN  between_sd  117     0.759
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"small_area_rates: `data` must be a pandas DataFrame; got {type(data).__name__}."
        )
    check_option("method", method, SMALL_AREA_METHODS)
    check_option("rate", rate, MEASURES)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_columns(data, [item, area])
    raw = satisfaction_rates(
        data, items=item, by=area, levels=levels, confidence=confidence, weights=weights
    )
    raw = raw[(raw["measure"] == rate) & (raw["n"] > 0)].reset_index(drop=True)
    if len(raw) < 3:
        raise DataError(
            f"small_area_rates: {len(raw)} communities have valid answers on `{item}`; borrowing "
            "strength needs at least 3 (better 10 or more)."
        )
    x = raw["count"].to_numpy(dtype=float)
    n = raw["n"].to_numpy(dtype=float)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    fit = _glmm(x, n, z) if method == "glmm" else _beta_binomial(x, n, confidence)
    base = raw[[area, "count", "n"]]
    raw_rows = base.assign(
        measure="raw",
        method="wilson",
        estimate=raw["estimate"],
        ci_low=raw["ci_low"],
        ci_high=raw["ci_high"],
    )
    shrunk = base.assign(
        measure="shrunken",
        method=method,
        estimate=fit["estimate"],
        ci_low=fit["ci_low"],
        ci_high=fit["ci_high"],
    )
    per_area = pd.concat([raw_rows, shrunk]).sort_index(kind="stable")
    overall = pd.DataFrame(
        [
            {
                "measure": "overall",
                "method": method,
                "count": int(x.sum()),
                "n": int(n.sum()),
                "estimate": fit["overall"][0],
                "ci_low": fit["overall"][1],
                "ci_high": fit["overall"][2],
            },
            {
                "measure": "between_sd",
                "method": method,
                "count": int(x.sum()),
                "n": int(n.sum()),
                "estimate": fit["spread"],
                "ci_low": np.nan,
                "ci_high": np.nan,
            },
        ]
    )
    out = pd.concat([per_area, overall], ignore_index=True)
    out["confidence"] = confidence
    out["count"] = out["count"].astype("Int64")
    out["n"] = out["n"].astype("Int64")
    return out[
        [area, "measure", "method", "count", "n", "estimate", "ci_low", "ci_high", "confidence"]
    ]
