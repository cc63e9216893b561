"""Residents nested in communities: the random-intercept linear model and the intraclass correlation.

:func:`multilevel_model` fits

.. math::
    y_{ig} = x_{ig}^\\top \\beta + b_g + e_{ig}, \\qquad b_g \\sim N(0, \\sigma_b^2), \\quad
    e_{ig} \\sim N(0, \\sigma^2)

by REML (default) or ML, as ``lme4::lmer(y ~ x + (1 | group))``, and reports the fixed effects, the
two variance components and the intraclass correlation :math:`\\rho = \\sigma_b^2 / (\\sigma_b^2 +
\\sigma^2)` (the share of the variance that lies between communities) with an interval.
:func:`multilevel_model_fit` gives the model-level figures.

The fit profiles the (restricted) likelihood onto the one relative parameter :math:`\\theta =
\\sigma_b / \\sigma` (lme4's ``theta``) using closed forms per group; after a grid search, the
root of its analytic derivative is found with Brent's method, so theta is
exact to machine precision and the estimates agree with lme4 to its optimiser's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import optimize, stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.ordinal import _r_columns, _r_name
from toolkit.errors import DataError, ParameterError

__all__ = ["multilevel_model", "multilevel_model_fit"]

_INTERVALS = ("profile", "bootstrap", "none")


@dataclass
class _Stats:
    """Per-group sufficient statistics of the random-intercept model."""

    n_g: np.ndarray  # (G,)
    sxx: np.ndarray  # (p, p) total X'X
    sx: np.ndarray  # (G, p) column sums per group
    sxy: np.ndarray  # (p,) total X'y
    sy: np.ndarray  # (G,) y sums per group
    syy: float

    @property
    def n(self) -> int:
        return int(self.n_g.sum())

    @property
    def p(self) -> int:
        return self.sxx.shape[0]


def _stats(x: np.ndarray, y: np.ndarray, g: np.ndarray, n_groups: int) -> _Stats:
    n_g = np.bincount(g, minlength=n_groups).astype(float)
    sx = np.stack(
        [np.bincount(g, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])], 1
    )
    return _Stats(n_g, x.T @ x, sx, x.T @ y, np.bincount(g, weights=y, minlength=n_groups), y @ y)


def _profile(theta: float, s: _Stats, reml: bool) -> tuple[float, np.ndarray, float, np.ndarray]:
    """Profiled deviance (lme4's REML criterion or -2 logLik), beta, sigma^2 and (X'WX)^-1."""
    lam = theta * theta
    c = lam / (1.0 + s.n_g * lam)
    a = s.sxx - (s.sx * c[:, None]).T @ s.sx
    b = s.sxy - s.sx.T @ (c * s.sy)
    yy = s.syy - float(np.sum(c * s.sy**2))
    chol = np.linalg.cholesky(a)
    beta = np.linalg.solve(a, b)
    rss = max(yy - float(b @ beta), 1e-300)
    logdet_v = float(np.sum(np.log1p(s.n_g * lam)))
    n, p = s.n, s.p
    if reml:
        dof = n - p
        sigma2 = rss / dof
        dev = (
            logdet_v
            + 2 * float(np.sum(np.log(np.diag(chol))))
            + dof * (1 + np.log(2 * np.pi * sigma2))
        )
    else:
        sigma2 = rss / n
        dev = logdet_v + n * (1 + np.log(2 * np.pi * sigma2))
    a_inv = np.linalg.inv(a)
    return dev, beta, sigma2, a_inv


def _slope(lam: float, s: _Stats, reml: bool) -> float:
    """d deviance / d lambda (lambda = theta^2), analytic: its root is found to machine precision."""
    c = lam / (1.0 + s.n_g * lam)
    dc = 1.0 / (1.0 + s.n_g * lam) ** 2
    a = s.sxx - (s.sx * c[:, None]).T @ s.sx
    b = s.sxy - s.sx.T @ (c * s.sy)
    beta = np.linalg.solve(a, b)
    rss = s.syy - float(np.sum(c * s.sy**2)) - float(b @ beta)
    resid_sums = s.sy - s.sx @ beta  # 1'r per group
    d_rss = -float(np.sum(dc * resid_sums**2))  # envelope theorem: beta-hat fixed
    slope = float(np.sum(s.n_g / (1.0 + s.n_g * lam)))
    if reml:
        d_a = -(s.sx * dc[:, None]).T @ s.sx
        slope += float(np.trace(np.linalg.solve(a, d_a))) + (s.n - s.p) * d_rss / rss
    else:
        slope += s.n * d_rss / rss
    return slope


def _optimise(s: _Stats, reml: bool) -> float:
    """theta-hat: grid search on a log scale, then the root of the analytic slope in lambda."""
    grid = np.concatenate([[0.0], np.logspace(-4, 2.5, 33)])
    values = np.array([_profile(t, s, reml)[0] for t in grid])
    i = int(np.argmin(values))
    if i == 0 and _slope(0.0, s, reml) >= 0:
        return 0.0  # boundary (singular fit): no between-group variance
    lo = grid[max(i - 1, 0)] ** 2
    hi = grid[min(i + 1, grid.size - 1)] ** 2
    f_lo, f_hi = _slope(lo, s, reml), _slope(hi, s, reml)
    if f_lo < 0 < f_hi:
        lam = optimize.brentq(lambda v: _slope(v, s, reml), lo, hi, xtol=1e-15, rtol=1e-15)
        return float(np.sqrt(lam))
    res = optimize.minimize_scalar(  # not bracketed (flat criterion): fall back on the deviance
        lambda t: _profile(t, s, reml)[0],
        bounds=(np.sqrt(lo), np.sqrt(hi)),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(res.x)


def _prepare(
    data: pd.DataFrame, formula: str, group: str, fn: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any], list[str], int]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{fn}: `data` must be a pandas DataFrame; got {type(data).__name__}.")
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise ParameterError(
            f"`formula` must look like 'score ~ age + role' (one `~`); got {formula!r}."
        )
    if "|" in formula:
        raise ParameterError(
            "`formula` holds only the fixed effects; name the grouping column in `group` "
            f"(random intercepts only); got {formula!r}."
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    lhs = lhs.strip("`")
    check_columns(data, [lhs, group], argument="data")
    frame = data.reset_index(drop=True)
    keep = frame[lhs].notna() & frame[group].notna()
    if not pd.api.types.is_numeric_dtype(frame[lhs]) or pd.api.types.is_bool_dtype(frame[lhs]):
        raise DataError(
            f"{fn}: response `{lhs}` must be numeric (a score); for ordered answers use "
            "ordinal_regression."
        )
    try:
        x_frame = patsy.dmatrix(rhs, frame[keep], return_type="dataframe", NA_action="drop")
    except patsy.PatsyError as error:
        raise DataError(
            f"{fn}: `formula` {formula!r} cannot be built from `data`: {error}"
        ) from None
    rows = x_frame.index.to_numpy()
    columns, _ = _r_columns(x_frame, rhs)
    has_intercept = "Intercept" in x_frame.columns
    columns = (["Intercept"] if has_intercept else []) + columns
    names = [("(Intercept)" if c == "Intercept" else _r_name(c)) for c in columns]
    x = x_frame[columns].to_numpy(dtype=float)
    y = frame.loc[rows, lhs].to_numpy(dtype=float)
    g_col = frame.loc[rows, group]
    codes, uniques = pd.factorize(g_col, sort=True)
    n_dropped = len(frame) - rows.size
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise DataError(
            f"{fn}: the fixed-effect columns of {formula!r} are collinear (or one is constant) in "
            "the rows used; drop a predictor."
        )
    if len(uniques) < 2:
        raise DataError(
            f"{fn}: `group` column `{group}` has {len(uniques)} group; a random intercept needs "
            "several groups (at least 5 to estimate its variance sensibly)."
        )
    if y.size <= x.shape[1] + 1:
        raise DataError(f"{fn}: {y.size} complete rows are too few for {x.shape[1]} fixed effects.")
    return x, y, codes.astype(np.int64), list(uniques), names, n_dropped


@dataclass
class _Fit:
    theta: float
    beta: np.ndarray
    sigma2: float
    cov: np.ndarray
    deviance: float


def _fit(s: _Stats, reml: bool) -> _Fit:
    theta = _optimise(s, reml)
    dev, beta, sigma2, a_inv = _profile(theta, s, reml)
    return _Fit(theta, beta, sigma2, sigma2 * a_inv, dev)


def _profile_interval(s: _Stats, fit: _Fit, reml: bool, confidence: float) -> tuple[float, float]:
    """Likelihood-ratio interval for theta (hence the ICC, a monotone function of theta)."""
    crit = stats.chi2.ppf(confidence, 1)

    def excess(t: float) -> float:
        return _profile(t, s, reml)[0] - fit.deviance - crit

    t_hat = fit.theta
    low = 0.0
    if excess(0.0) > 0:
        low = optimize.brentq(excess, 0.0, t_hat, xtol=1e-12, rtol=1e-12) if t_hat > 0 else 0.0
    high_t = max(2 * t_hat, 1e-3)
    while excess(high_t) < 0 and high_t < 1e6:
        high_t *= 2
    high = (
        optimize.brentq(excess, t_hat, high_t, xtol=1e-12, rtol=1e-12)
        if excess(high_t) > 0
        else np.inf
    )
    return low, high


def _bootstrap_interval(
    s: _Stats,
    x: np.ndarray,
    g: np.ndarray,
    fit: _Fit,
    reml: bool,
    confidence: float,
    n_boot: int,
    seed: int | None,
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    n_groups = s.n_g.size
    mean = x @ fit.beta
    sd_b = fit.theta * np.sqrt(fit.sigma2)
    sd_e = np.sqrt(fit.sigma2)
    draws = np.empty(n_boot)
    for i in range(n_boot):
        y = mean + rng.normal(0, sd_b, n_groups)[g] + rng.normal(0, sd_e, g.size)
        boot = _Stats(
            s.n_g, s.sxx, s.sx, x.T @ y, np.bincount(g, weights=y, minlength=n_groups), y @ y
        )
        t = _optimise(boot, reml)
        draws[i] = t * t / (1 + t * t)
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def multilevel_model(
    data: pd.DataFrame,
    *,
    formula: str,
    group: str,
    reml: bool = True,
    confidence: float = 0.95,
    interval: str = "profile",
    n_boot: int = 1000,
    seed: int | None = 0,
) -> pd.DataFrame:
    r"""Fit a random-intercept linear model of residents nested in ``group`` (communities).

    Parameters
    ----------
    data : DataFrame
        One row per resident. Rows missing the response, a predictor or the group are left out.
    formula : str
        The fixed effects, ``"score ~ age + C(role)"`` (patsy syntax; treatment coding with the
        first level as reference, as R). The random intercept comes from ``group``.
    group : str
        The grouping column (community, building): one random intercept per group.
    reml : bool
        REML (default, as ``lmer``) or maximum likelihood (``lmer(REML = FALSE)``).
    confidence : float
        Confidence level of the fixed-effect and ICC intervals.
    interval : {"profile", "bootstrap", "none"}
        ICC interval: the profile-likelihood interval (default, deterministic), a seeded
        parametric bootstrap (percentile, ``n_boot`` refits), or none.
    n_boot, seed
        Replicates and seed of the parametric bootstrap.

    Returns
    -------
    DataFrame
        Rows with ``measure`` ``"fixed"`` (``term`` as R names them: ``(Intercept)``, ``age``,
        ``role党员``; ``estimate``, ``se``, ``statistic`` (lmer's t value), ``p_value``,
        ``ci_low``, ``ci_high``), ``"variance"`` (``term`` ``"<group> (Intercept)"`` and
        ``"Residual"``; ``estimate`` is the variance, as ``VarCorr``), and ``"icc"`` (``term``
        ``"ICC(<group>)"``; ``estimate``, ``ci_low``, ``ci_high``, ``method``). ``confidence`` on
        every row with an interval.

    Notes
    -----
    With :math:`\lambda = \theta^2 = \sigma_b^2/\sigma^2`, each group's covariance is
    :math:`\sigma^2 (I + \lambda 11^\top)`, whose inverse and determinant have closed forms, so the
    REML criterion profiled over :math:`\beta` and :math:`\sigma^2` (lme4's ``devfun``)

    .. math::
        d(\theta) = \sum_g \log(1 + n_g \lambda) + \log|X^\top W X| + (N - p)\left(1 +
        \log\frac{2\pi\, r^\top W r}{N - p}\right)

    is a function of :math:`\theta` alone. Fixed-effect standard errors are
    :math:`\hat\sigma^2 (X^\top W X)^{-1}` as ``vcov(lmer_fit)``; their p-values and intervals use
    the normal distribution (Wald z, as statsmodels ``MixedLM``; lme4 gives none; with few groups
    prefer the bootstrap or Kenward-Roger elsewhere).

    **The ICC interval.** The ICC is :math:`\theta^2/(1+\theta^2)`, monotone in :math:`\theta`, so
    the profile-likelihood interval :math:`\{\theta: d(\theta) - d(\hat\theta) \le
    \chi^2_{1,conf}\}` maps to an ICC interval (invariant to the parameterisation). It is checked
    against the same root-finding on lme4's own ``devfun`` in R. When the lower end reaches
    :math:`\theta = 0` it is reported as 0 (the interval is then conservative, the boundary
    making the chi-square reference too wide). The parametric bootstrap simulates new random
    intercepts and residuals from the fit and refits; its percentile interval is reproducible
    with ``seed``.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. *Journal of Statistical Software* 67(1), 1-48.
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel Analysis*, 2nd ed., ch. 3-4.
    Pawitan, Y. (2001). *In All Likelihood*, ch. 2 and 10 (profile-likelihood intervals).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> community = np.repeat(np.arange(12), 15)
    >>> score = 7 + rng.normal(0, 0.8, 12)[community] + rng.normal(0, 1.5, community.size)
    >>> data = pd.DataFrame({"score": score, "community": community})
    >>> table = multilevel_model(data, formula="score ~ 1", group="community")
    >>> table[["measure", "term"]]
        measure                     term
    0     fixed              (Intercept)
    1  variance  community (Intercept)
    2  variance                 Residual
    3       icc         ICC(community)
    """
    fn = "multilevel_model"
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_option("interval", interval, _INTERVALS)
    check_range("n_boot", n_boot, low=1)
    x, y, g, groups, names, _ = _prepare(data, formula, group, fn)
    s = _stats(x, y, g, len(groups))
    fit = _fit(s, reml)
    se = np.sqrt(np.diag(fit.cov))
    tval = fit.beta / se
    crit = stats.norm.ppf(0.5 + confidence / 2)
    fixed = pd.DataFrame(
        {
            "measure": "fixed",
            "term": names,
            "estimate": fit.beta,
            "se": se,
            "statistic": tval,
            "p_value": 2 * stats.norm.sf(np.abs(tval)),
            "ci_low": fit.beta - crit * se,
            "ci_high": fit.beta + crit * se,
            "confidence": confidence,
        }
    )
    var_b = fit.theta**2 * fit.sigma2
    variance = pd.DataFrame(
        {
            "measure": "variance",
            "term": [f"{group} (Intercept)", "Residual"],
            "estimate": [var_b, fit.sigma2],
        }
    )
    rho = var_b / (var_b + fit.sigma2)
    icc_row: dict[str, Any] = {"measure": "icc", "term": f"ICC({group})", "estimate": rho}
    if interval != "none":
        if interval == "profile":
            t_low, t_high = _profile_interval(s, fit, reml, confidence)
            low = t_low**2 / (1 + t_low**2)
            high = 1.0 if not np.isfinite(t_high) else t_high**2 / (1 + t_high**2)
        else:
            low, high = _bootstrap_interval(s, x, g, fit, reml, confidence, n_boot, seed)
        icc_row |= {"ci_low": low, "ci_high": high, "confidence": confidence, "method": interval}
    out = pd.concat([fixed, variance, pd.DataFrame([icc_row])], ignore_index=True)
    order = ["measure", "term", "estimate", "se", "statistic", "p_value", "ci_low", "ci_high"]
    order += ["confidence", "method"]
    return out[[c for c in order if c in out.columns]]


def multilevel_model_fit(
    data: pd.DataFrame, *, formula: str, group: str, reml: bool = True
) -> pd.DataFrame:
    """Model-level figures of the random-intercept model of :func:`multilevel_model`.

    Parameters
    ----------
    data, formula, group, reml
        As for :func:`multilevel_model`.

    Returns
    -------
    DataFrame
        One row: ``n`` (residents used), ``n_dropped``, ``n_groups``, ``reml``,
        ``log_likelihood`` (the REML log likelihood for REML fits, as ``logLik``), ``aic``,
        ``bic`` (with p + 2 parameters, as lme4), ``deviance`` (lme4's REML criterion or
        -2 logLik), ``theta`` (sigma_b / sigma), ``sigma`` (residual SD).

    References
    ----------
    ``logLik``, ``AIC``, ``BIC``, ``REMLcrit``, ``getME(fit, "theta")``, ``sigma`` of an
    ``lme4::lmer`` fit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> community = np.repeat(np.arange(12), 15)
    >>> score = 7 + rng.normal(0, 0.8, 12)[community] + rng.normal(0, 1.5, community.size)
    >>> data = pd.DataFrame({"score": score, "community": community})
    >>> multilevel_model_fit(data, formula="score ~ 1", group="community")[["n", "n_groups"]]
         n  n_groups
    0  180        12
    """
    x, y, g, groups, _, n_dropped = _prepare(data, formula, group, "multilevel_model_fit")
    s = _stats(x, y, g, len(groups))
    fit = _fit(s, reml)
    k = s.p + 2
    loglik = -fit.deviance / 2
    return pd.DataFrame(
        [
            {
                "n": s.n,
                "n_dropped": n_dropped,
                "n_groups": len(groups),
                "reml": reml,
                "log_likelihood": loglik,
                "aic": -2 * loglik + 2 * k,
                "bic": -2 * loglik + np.log(s.n) * k,
                "deviance": fit.deviance,
                "theta": fit.theta,
                "sigma": float(np.sqrt(fit.sigma2)),
            }
        ]
    )
