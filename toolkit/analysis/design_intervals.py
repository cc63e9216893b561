"""Confidence intervals for proportions as R's ``svyciprop`` computes them (logit, likelihood,
beta, mean), with the spline and interpolation that ``method = "likelihood"`` uses.

Split from :mod:`toolkit.analysis.design`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["ciprop"]

FloatArray = np.ndarray[Any, Any]


# ------------------------------------------------------------------------------------------------
# svyciprop intervals
# ------------------------------------------------------------------------------------------------


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _qt(p: float, df: float) -> float:
    return float(stats.norm.ppf(p)) if math.isinf(df) else float(stats.t.ppf(p, df))


def ciprop(
    method: str,
    p: float,
    var: float,
    df: float,
    alpha: float,
    *,
    nrow: float,
    nobs: float,
    n_glm: float,
    n_ok: float,
    glm: FloatArray,
) -> tuple[float, float]:
    if not (nobs > 0) or math.isnan(p) or math.isnan(var):
        return math.nan, math.nan
    if df <= 0:
        return math.nan, math.nan
    if 0 < p < 1 and var <= 1e-18 * (p * (1 - p)) ** 2:  # se < 1e-9 p (1 - p): rounding noise
        return p, p  # fixed by calibration (a raking margin): no sampling variance at all
    if method == "mean":
        q = _qt(1 - alpha / 2, df)
        se = math.sqrt(var)
        return p - q * se, p + q * se
    edge = p <= 0 or p >= 1
    if method == "beta" or edge:
        n_eff = nobs if edge else p * (1 - p) / var
        n_eff *= (_qt(alpha / 2, nrow - 1) / _qt(alpha / 2, df)) ** 2 if nrow > 1 else 1.0
        lo = float(stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)) if p > 0 else 0.0
        hi = float(stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))) if p < 1 else 1.0
        return lo, hi
    beta0 = math.log(p / (1 - p))
    var_beta = var / (p * (1 - p)) ** 2
    if method == "logit":
        q = abs(_qt(alpha / 2, df))
        half = q * math.sqrt(var_beta)
        return _expit(beta0 - half), _expit(beta0 + half)
    return _profile_ci(var, df, alpha, n_glm=n_glm, n_ok=n_ok, glm=glm)


def _irls(glm: FloatArray) -> tuple[float, float]:
    """R's ``glm.fit`` IRLS for ``y ~ 1`` (logit link): the last two iterates of the coefficient."""
    big_s, s1, a, b, dev_old = (float(v) for v in glm)
    beta_prev = beta = b / a  # first weighted least-squares step from glm's starting values

    def deviance(x: float) -> float:
        mu = _expit(x)
        return -2 * (s1 * math.log(mu) + (big_s - s1) * math.log1p(-mu))

    dev = deviance(beta)
    for _ in range(24):
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            break
        dev_old = dev
        mu = _expit(beta)
        beta_prev, beta = beta, beta + (s1 - big_s * mu) / (big_s * mu * (1 - mu))
        dev = deviance(beta)
    return beta_prev, beta


def _profile_ci(
    var: float, df: float, alpha: float, *, n_glm: float, n_ok: float, glm: FloatArray
) -> tuple[float, float]:
    """R's ``confint.svyglm(method="likelihood")`` for ``svyglm(y ~ 1, family=quasibinomial)``.

    Reproduces glm's last IRLS step (the naive covariance uses the working weights of the previous
    iterate), MASS's profiling grid and R's ``spline``/``approx`` interpolation.
    """
    big_s, s1, p, c_r = float(glm[0]), float(glm[1]), float(glm[5]), float(glm[6])
    beta_prev, beta0 = _irls(glm[:5])
    mu = _expit(beta0)
    mu_old = _expit(beta_prev)
    naive = 1.0 / (big_s * mu_old * (1 - mu_old))  # glm's cov.unscaled (last working weights)
    var_beta = var / (mu * (1 - mu)) ** 2  # svyglm's design-based vcov
    # summary.svyglm's dispersion: svyvar of the Pearson residuals
    phi = c_r * p * (1 - p) / (mu * (1 - mu)) * n_ok / (n_ok - 1)
    std_err = math.sqrt(var_beta)
    lam = var_beta / naive
    q = _qt(alpha / 2, df)
    a = float(stats.norm.cdf(q * math.sqrt(lam))) / 2
    zmax = float(stats.t.isf(a / 2, n_glm - 1))  # sqrt(qf(a, 1, n - 1, lower=FALSE))
    delta = zmax / 5

    def deviance(x: float) -> float:
        m = _expit(min(max(x, -30.0), 30.0))  # binomial()$linkinv clamps eta to [-30, 30]
        return -2 * (s1 * math.log(m) + (big_s - s1) * math.log1p(-m))

    dev0 = deviance(beta0)

    def zstat(b: float) -> float:
        return math.sqrt(max((deviance(b) - dev0) / phi, 0.0))

    zs = [0.0]
    bs = [beta0]
    for sgn in (-1, 1):
        step = 0
        z = 0.0
        while True:
            step += 1
            if not (step < 10 and abs(z) < zmax):
                break
            b = beta0 + sgn * step * delta * std_err
            z = sgn * zstat(b)
            zs.append(z)
            bs.append(b)
    order = np.argsort(np.array(zs), kind="stable")
    x = np.array(bs)[order]
    yv = np.array(zs)[order]
    xs, ys = _spline_fmm(x, yv, 3 * len(x))
    cutoff_p = float(stats.norm.ppf(2 * a))
    cut = np.array([cutoff_p, -cutoff_p])
    ci = _approx(ys, xs, cut)
    return _expit(float(ci[0])) if not np.isnan(ci[0]) else math.nan, (
        _expit(float(ci[1])) if not np.isnan(ci[1]) else math.nan
    )


def _spline_fmm(x: FloatArray, y: FloatArray, nout: int) -> tuple[FloatArray, FloatArray]:
    """R's ``spline(x, y, n = nout)`` with the default Forsythe-Malcolm-Moler end conditions."""
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    x, y = ux, uy
    n = len(x)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 2:
        return x, y
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
    else:
        nm1 = n - 1
        d[0] = x[1] - x[0]
        c[1] = (y[1] - y[0]) / d[0]
        for i in range(1, nm1):
            d[i] = x[i + 1] - x[i]
            b[i] = 2.0 * (d[i - 1] + d[i])
            c[i + 1] = (y[i + 1] - y[i]) / d[i]
            c[i] = c[i + 1] - c[i]
        b[0] = -d[0]
        b[nm1] = -d[n - 2]
        c[0] = c[nm1] = 0.0
        if n > 3:
            c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
            c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
            c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
            c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4])
        for i in range(1, n):
            t = d[i - 1] / b[i - 1]
            b[i] = b[i] - t * d[i - 1]
            c[i] = c[i] - t * c[i - 1]
        c[nm1] = c[nm1] / b[nm1]
        for i in range(n - 2, -1, -1):
            c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
        b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1])
        for i in range(nm1):
            b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
            d[i] = (c[i + 1] - c[i]) / d[i]
            c[i] = 3.0 * c[i]
        c[nm1] = 3.0 * c[nm1]
        d[nm1] = d[n - 2]
    u = np.linspace(x[0], x[-1], nout)
    # R's seq.int(xmin, xmax, length.out = n): from + (0:(n-1)) * by
    u = x[0] + np.arange(nout) * ((x[-1] - x[0]) / (nout - 1))
    i = np.clip(np.searchsorted(x, u, side="right") - 1, 0, n - 1)
    dx = u - x[i]
    out = y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
    return u, out


def _approx(x: FloatArray, y: FloatArray, xout: FloatArray) -> FloatArray:
    """R's ``approx(x, y, xout)`` (ties averaged, NA outside the range)."""
    ux, inv = np.unique(x, return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    out = np.interp(xout, ux, uy)
    return np.where((xout < ux[0]) | (xout > ux[-1]), np.nan, out)
