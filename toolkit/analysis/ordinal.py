"""Proportional-odds (cumulative link) models of ordered answers such as 不满意 < 基本满意 < 满意.

Three functions share one fitter and one formula syntax (patsy, as statsmodels):

* :func:`ordinal_regression`: the coefficient table (thresholds and location coefficients);
* :func:`ordinal_model_fit`: one row of model-level figures (n, log likelihood, AIC, BIC, ...);
* :func:`proportional_odds_test`: likelihood-ratio tests of the proportional-odds assumption.

The model is reported in the parameterisation of R's ``MASS::polr`` and ``ordinal::clm``:

.. math::
    \\operatorname{link} P(Y \\le j \\mid x) = \\theta_j - x^\\top \\beta, \\qquad j = 1, \\dots, J - 1

so a **positive coefficient means higher answers are more likely** (for 满意 coded highest: more
satisfied), and ``odds_ratio`` = exp(coefficient) is the odds ratio of answering above any given
level. Thresholds are named as R names them, by the two levels they separate: ``不满意|基本满意``.

The fit is a Newton-Raphson maximisation of the exact log likelihood with analytic gradient and
Hessian (as ``ordinal::clm``), so estimates and standard errors agree with ``clm`` to the last
digits; ``polr`` agrees to its optimiser's tolerance.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import special, stats

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis._weights import design_cov, survey_weights, weight_column
from toolkit.analysis.compare import AnalysisWarning
from toolkit.analysis.design import SurveyDesign
from toolkit.errors import ConvergenceError, DataError, ParameterError

__all__ = ["ordinal_model_fit", "ordinal_regression", "proportional_odds_test"]

_LINKS = ("logit", "probit")
# a coefficient whose effect across one standard deviation of its predictor exceeds this (on the
# link scale) while its standard error is larger still marks (quasi-)complete separation
_SEPARATION = {"logit": 10.0, "probit": 5.0}


# --------------------------------------------------------------------------------------------------
# the design


@dataclass
class _Design:
    y: np.ndarray  # codes 0..J-1
    labels: list[str]
    x: np.ndarray
    names: list[str]
    terms: dict[str, list[int]]
    n_dropped_rows: int
    unused: list[str] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    w: np.ndarray | None = None  # weights of the rows used (None: unweighted)

    @property
    def n_levels(self) -> int:
        return len(self.labels)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _r_name(column: str) -> str:
    """patsy's ``role[T.群众]`` and ``C(role)[T.群众]`` as R's ``role群众``."""
    parts = []
    for piece in column.split(":"):
        piece = re.sub(r"^C\(\s*([^,)]+?)\s*(,[^)]*)?\)", r"\1", piece)
        piece = re.sub(r"\[T\.(.*)\]$", r"\1", piece)
        parts.append(piece)
    return ":".join(parts)


def _r_columns(
    x_frame: pd.DataFrame, rhs: str, info: Any = None
) -> tuple[list[str], dict[str, list[int]]]:
    """Non-intercept columns of a patsy matrix in R's order, and each term's column positions.

    R orders terms by degree (main effects, then interactions), then as written; patsy puts
    categorical terms first.
    """
    written = [t.name() for t in patsy.ModelDesc.from_formula(rhs).rhs_termlist]
    info = x_frame.design_info if info is None else info
    slices = {t: s for t, s in info.term_name_slices.items() if t != "Intercept"}
    ordered_terms = sorted(
        slices,
        key=lambda t: (t.count(":"), written.index(t) if t in written else len(written)),
    )
    columns: list[str] = []
    terms: dict[str, list[int]] = {}
    for term in ordered_terms:
        cols = list(x_frame.columns[slices[term]])
        terms[_r_name(term)] = list(range(len(columns), len(columns) + len(cols)))
        columns += cols
    return columns, terms


def _design(
    data: pd.DataFrame,
    formula: str,
    levels: Sequence[Any] | None,
    fn: str,
    weights: str | np.ndarray | None = None,
) -> _Design:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{fn}: `data` must be a pandas DataFrame; got {type(data).__name__}.")
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise ParameterError(
            f"`formula` must look like 'overall ~ age + role' (one `~`); got {formula!r}."
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    lhs = lhs.strip("`")
    check_columns(data, [lhs], argument="data")
    frame = data.reset_index(drop=True)
    response = frame[lhs]
    keep = response.notna()
    try:
        x_frame = patsy.dmatrix(rhs, frame[keep], return_type="dataframe", NA_action="drop")
    except patsy.PatsyError as error:
        raise DataError(
            f"{fn}: `formula` {formula!r} cannot be built from `data`: {error}"
        ) from None
    if "Intercept" not in x_frame.columns:
        raise ParameterError(
            f"`formula` must keep the intercept (the thresholds take its place); remove '0 +' or "
            f"'- 1' from {formula!r}."
        )
    rows = x_frame.index.to_numpy()
    w_all = weight_column(frame, weights, fn) if isinstance(weights, str) else weights
    info = x_frame.design_info
    if w_all is not None:  # rows of weight zero stand for nobody: leave them out
        rows = rows[w_all[rows] > 0]
        x_frame = x_frame.loc[rows]
    response = response.loc[rows]
    n_dropped = len(frame) - rows.size

    # the ordered levels of the response
    if levels is not None:
        order = list(levels)
        unknown = [v for v in pd.unique(response) if v not in set(order)]
        if unknown:
            raise DataError(
                f"{fn}: response `{lhs}` has values not in `levels`: "
                f"{', '.join(repr(v) for v in unknown[:5])}; add them to `levels` or recode them."
            )
    elif isinstance(response.dtype, pd.CategoricalDtype):
        if not response.cat.ordered:
            raise DataError(
                f"{fn}: response `{lhs}` is an unordered Categorical; make it ordered "
                "(pd.Categorical(..., ordered=True)) or pass `levels` lowest first."
            )
        order = list(response.cat.categories)
    elif pd.api.types.is_numeric_dtype(response) and not pd.api.types.is_bool_dtype(response):
        order = sorted(pd.unique(response))
    else:
        raise DataError(
            f"{fn}: response `{lhs}` holds labels with no order; pass `levels` lowest first "
            "(levels=['不满意', '基本满意', '满意']) or make it an ordered Categorical."
        )
    codes = np.asarray(pd.Categorical(response, categories=order).codes, dtype=np.int64)
    used = np.bincount(codes, minlength=len(order)) > 0
    unused = [_label(v) for v, u in zip(order, used, strict=True) if not u]
    remap = np.cumsum(used) - 1
    y = remap[codes]
    labels = [_label(v) for v, u in zip(order, used, strict=True) if u]
    if len(labels) < 2:
        raise DataError(
            f"{fn}: response `{lhs}` has {len(labels)} level in use ({', '.join(labels)}); an "
            "ordinal model needs at least 2 (3 or more to be worth it)."
        )

    columns, terms = _r_columns(x_frame, rhs, info)
    x = x_frame[columns].to_numpy(dtype=float)
    names = [_r_name(c) for c in columns]
    n_params = len(labels) - 1 + len(columns)
    w = None if w_all is None else w_all[rows]
    if y.size <= n_params:
        raise DataError(
            f"{fn}: {y.size} complete rows for {n_params} parameters; collect more answers or use "
            "fewer predictors."
        )
    constant = [names[i] for i in range(x.shape[1]) if np.ptp(x[:, i]) == 0]
    if constant:
        raise DataError(
            f"{fn}: predictor {', '.join(f'`{c}`' for c in constant)} does not vary in the rows "
            "used; drop it from `formula`."
        )
    return _Design(y, labels, x, names, terms, n_dropped, unused, rows, w)


# --------------------------------------------------------------------------------------------------
# the fitter


def _cdf_pdf(eta: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """F, 1 - F, f and f' at eta (infinite eta allowed)."""
    if link == "logit":
        big_f = special.expit(eta)
        surv = special.expit(-eta)
        dens = big_f * surv
        deriv = dens * (surv - big_f)
    else:
        big_f = special.ndtr(eta)
        surv = special.ndtr(-eta)
        dens = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
        with np.errstate(invalid="ignore"):
            deriv = np.where(np.isfinite(eta), -eta * dens, 0.0)
    return big_f, surv, dens, deriv


@dataclass
class _Fit:
    params: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    max_gradient: float


def _fit(
    y: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    n_levels: int,
    link: str,
    start: np.ndarray | None = None,
    max_iter: int = 200,
    w: np.ndarray | None = None,
) -> _Fit:
    """Newton-Raphson for link P(Y <= j) = theta_j - x beta - z gamma_j (gamma: nominal effects)."""
    n, p = x.shape
    q = z.shape[1]
    k = n_levels - 1
    n_par = k + p + q * k
    w = np.ones(n) if w is None else w
    up_ok = y <= k - 1
    lo_ok = y >= 1
    a_up = np.zeros((n, n_par))
    a_lo = np.zeros((n, n_par))
    for a, ok, j in ((a_up, up_ok, y), (a_lo, lo_ok, y - 1)):
        rows = np.flatnonzero(ok)
        a[rows, j[rows]] = 1.0
        a[rows, k : k + p] = -x[rows]
        for r in range(q):
            a[rows, k + p + j[rows] * q + r] = -z[rows, r]

    def evaluate(theta: np.ndarray) -> tuple[float, Any]:
        eta_u = np.where(up_ok, a_up @ theta, np.inf)
        eta_l = np.where(lo_ok, a_lo @ theta, -np.inf)
        fu, su, du, gu = _cdf_pdf(eta_u, link)
        fl, sl, dl, gl = _cdf_pdf(eta_l, link)
        prob = np.where(eta_l > 0, sl - su, fu - fl)
        if np.any(prob <= 0) or not np.all(np.isfinite(prob)):
            return -np.inf, None
        return float(w @ np.log(prob)), (prob, du, gu, dl, gl)

    if start is None:
        cum = np.cumsum(np.bincount(y, weights=w, minlength=n_levels))[:-1] / w.sum()
        cut = special.logit(cum) if link == "logit" else special.ndtri(cum)
        start = np.concatenate([cut, np.zeros(p), np.zeros(q * k)])
    theta = start.astype(float).copy()
    loglik, parts = evaluate(theta)
    if parts is None:
        raise ConvergenceError(
            "the starting values of the ordinal model give impossible probabilities."
        )
    converged = False
    iterations = 0
    hess = np.eye(n_par)
    grad = np.zeros(n_par)
    for iterations in range(1, max_iter + 1):  # noqa: B007
        prob, du, gu, dl, gl = parts
        grad = a_up.T @ (w * du / prob) - a_lo.T @ (w * dl / prob)
        w_uu = w * (gu / prob - (du / prob) ** 2)
        w_ll = w * (-gl / prob - (dl / prob) ** 2)
        w_ul = w * du * dl / prob**2
        cross = a_up.T @ (a_lo * w_ul[:, None])
        hess = a_up.T @ (a_up * w_uu[:, None]) + a_lo.T @ (a_lo * w_ll[:, None]) + cross + cross.T
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(-hess, grad, rcond=None)[0]
        if np.max(np.abs(grad)) < 1e-10 or np.max(np.abs(step)) < 1e-12:
            converged = True
            break
        scale = 1.0
        for _ in range(60):
            trial = theta + scale * step
            new_ll, new_parts = evaluate(trial)
            if new_parts is not None and new_ll >= loglik - 1e-12 * max(1.0, abs(loglik)):
                break
            scale /= 2
        else:
            break
        theta, loglik, parts = trial, new_ll, new_parts
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov = np.full((n_par, n_par), np.nan)
    return _Fit(theta, cov, loglik, iterations, converged, float(np.max(np.abs(grad))))


def _fit_model(design: _Design, link: str, fn: str) -> _Fit:
    z = np.empty((design.y.size, 0))
    fit = _fit(design.y, design.x, z, design.n_levels, link, w=design.w)
    k = design.n_levels - 1
    beta = fit.params[k:]
    se = np.sqrt(np.abs(np.diag(fit.cov)))[k:]
    sd = design.x.std(axis=0) if design.x.size else np.zeros(0)
    limit = _SEPARATION[link]
    suspicious = [
        design.names[i]
        for i in range(beta.size)
        if abs(beta[i]) * sd[i] > limit and (not np.isfinite(se[i]) or se[i] > abs(beta[i]))
    ]
    if suspicious or (not fit.converged and fit.max_gradient < 1e-6 and np.any(~np.isfinite(se))):
        names = ", ".join(f"`{s}`" for s in suspicious) or "a predictor"
        raise DataError(
            f"{fn}: complete or quasi-complete separation by {names}: its categories (or values) "
            "split the answers perfectly, so the coefficient is infinite and no maximum-likelihood "
            "estimate exists. Merge sparse levels of the predictor or of the answer, or drop the "
            "predictor."
        )
    if not fit.converged:
        raise ConvergenceError(
            f"{fn}: the {link} model did not converge in {fit.iterations} Newton steps (largest "
            f"gradient {fit.max_gradient:.2g}). Check for predictors on very different scales "
            "(rescale them) or sparse answer levels (merge them)."
        )
    return fit


def _prepare(
    data: pd.DataFrame,
    formula: str,
    link: str,
    levels: Sequence[Any] | None,
    fn: str,
    weights: str | np.ndarray | None = None,
) -> tuple[_Design, _Fit]:
    check_option("link", link, _LINKS)
    design = _design(data, formula, levels, fn, weights)
    if design.unused:
        warnings.warn(
            f"{fn}: response levels never chosen are left out: {', '.join(design.unused)}; their "
            "thresholds cannot be estimated.",
            AnalysisWarning,
            stacklevel=3,
        )
    return design, _fit_model(design, link, fn)


def _scores(design: _Design, fit: _Fit, link: str) -> np.ndarray:
    """Per-row weighted score vectors (n x parameters) of the log likelihood at the fit."""
    k = design.n_levels - 1
    y, x = design.y, design.x
    eta = x @ fit.params[k:]
    cuts = np.concatenate([[-np.inf], fit.params[:k], [np.inf]])
    _, _, du, _ = _cdf_pdf(cuts[y + 1] - eta, link)
    _, _, dl, _ = _cdf_pdf(cuts[y] - eta, link)
    big_u, _, _, _ = _cdf_pdf(cuts[y + 1] - eta, link)
    big_l, _, _, _ = _cdf_pdf(cuts[y] - eta, link)
    prob = big_u - big_l
    scores = np.zeros((y.size, k + x.shape[1]))
    rows = np.arange(y.size)
    up = y < k
    scores[rows[up], y[up]] += du[up] / prob[up]
    lo = y > 0
    scores[rows[lo], y[lo] - 1] -= dl[lo] / prob[lo]
    scores[:, k:] = -x * ((du - dl) / prob)[:, None]
    w = np.ones(y.size) if design.w is None else design.w
    return scores * w[:, None]


# --------------------------------------------------------------------------------------------------
# public functions


def ordinal_regression(
    data: pd.DataFrame,
    *,
    formula: str,
    link: str = "logit",
    levels: Sequence[Any] | None = None,
    confidence: float = 0.95,
    weights: str | None = None,
    design: SurveyDesign | None = None,
) -> pd.DataFrame:
    r"""Fit a proportional-odds model and return its thresholds and coefficients, R-style.

    Parameters
    ----------
    data : DataFrame
        One row per answer. Rows missing the response or a predictor are left out.
    formula : str
        ``"response ~ predictors"`` in patsy syntax (``"overall ~ age + C(role)"``). The response
        is an ordered Categorical, a numeric column (sorted values) or labels with ``levels``.
        Categorical predictors use treatment coding with the first level as reference, as R.
    link : {"logit", "probit"}
        The cumulative link: proportional odds (logit) or ordered probit.
    levels : sequence, optional
        The response levels lowest first, for string responses. Levels nobody chose are left out
        with an :class:`~toolkit.analysis.compare.AnalysisWarning`.
    confidence : float
        Confidence level of the Wald intervals.
    weights : str, optional
        Column of **frequency weights**: a row of weight 3 counts as three identical answers
        (``MASS::polr(weights=)``, ``ordinal::clm(weights=)``), so a frequency table such as
        MASS ``housing`` need not be expanded. Rows of weight 0 are left out.
    design : SurveyDesign, optional
        A survey design built on ``data`` (``SurveyDesign(data, weights=..., cluster=...)``):
        **sampling weights**. The estimates maximise the weighted (pseudo) likelihood and the
        standard errors are the design-based linearisation (sandwich) ones of
        ``survey::svyolr``: influence values ``s_i H^{-1}`` (weighted scores times the inverse
        weighted information) summed over the design's clusters and strata.

    Returns
    -------
    DataFrame
        Thresholds first, then coefficients. Columns: ``term`` (R's names: ``不满意|基本满意``,
        ``age``, ``role群众``), ``measure`` (``"threshold"`` or ``"coefficient"``), ``estimate``,
        ``se``, ``statistic`` (z = estimate / se), ``p_value`` (two-sided), ``ci_low``,
        ``ci_high`` (Wald: estimate +- z se), ``confidence``, and for the logit link
        ``odds_ratio`` = exp(estimate) (coefficients only). Model-level figures (n, log
        likelihood, AIC) are in :func:`ordinal_model_fit`.

    Notes
    -----
    :math:`\operatorname{link} P(Y \le j) = \theta_j - x^\top\beta`, as ``MASS::polr`` and
    ``ordinal::clm``. Newton-Raphson with analytic derivatives; standard errors from the inverse
    observed information. Intervals are Wald intervals (``confint.default``), not the profile
    intervals of ``confint(polr_fit)``. Complete or quasi-complete separation (a predictor level
    whose answers all sit at one extreme) raises :class:`~toolkit.errors.DataError` naming the
    predictor; it is detected when a coefficient exceeds 10 (logit) or 5 (probit) per standard
    deviation of its predictor with a standard error larger than itself.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *JRSS B* 42(2), 109-142.
    Venables, W. N., & Ripley, B. D. (2002). *Modern Applied Statistics with S*, 4th ed.
    (``MASS::polr``). Christensen, R. H. B. (2019). ordinal: regression models for ordinal data
    (``clm``).

    Examples
    --------
    >>> import pandas as pd
    >>> levels = ["不满意", "基本满意", "满意"]
    >>> ballots = pd.DataFrame({
    ...     "overall": ["满意", "基本满意", "满意", "不满意", "基本满意", "满意", "不满意",
    ...                 "基本满意", "满意", "满意", "不满意", "基本满意"],
    ...     "age": [72, 45, 66, 30, 51, 70, 38, 35, 58, 41, 62, 69]})
    >>> table = ordinal_regression(ballots, formula="overall ~ age", levels=levels)
    >>> for term, measure, estimate in table[["term", "measure", "estimate"]].to_numpy():
    ...     print(term, measure, round(float(estimate), 3))
    不满意|基本满意 threshold 2.764
    基本满意|满意 threshold 4.606
    age coefficient 0.079
    """
    fn = "ordinal_regression"
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    survey = design
    w: str | np.ndarray | None = weights
    if survey is not None:
        w = survey_weights(data, weights, survey, fn)
    model, fit = _prepare(data, formula, link, levels, fn, w)
    cov = fit.cov
    if survey is not None:  # sampling weights: the linearisation variance of survey::svyolr
        cov = design_cov(survey, model.rows, _scores(model, fit, link) @ fit.cov)
    k = model.n_levels - 1
    thresholds = [f"{a}|{b}" for a, b in zip(model.labels[:-1], model.labels[1:], strict=True)]
    est = fit.params
    se = np.sqrt(np.diag(cov))
    z = est / se
    crit = stats.norm.ppf(0.5 + confidence / 2)
    out = pd.DataFrame(
        {
            "term": thresholds + model.names,
            "measure": ["threshold"] * k + ["coefficient"] * len(model.names),
            "estimate": est,
            "se": se,
            "statistic": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "ci_low": est - crit * se,
            "ci_high": est + crit * se,
            "confidence": confidence,
        }
    )
    if link == "logit":
        out["odds_ratio"] = np.where(out["measure"] == "coefficient", np.exp(est), np.nan)
    return out


def ordinal_model_fit(
    data: pd.DataFrame,
    *,
    formula: str,
    link: str = "logit",
    levels: Sequence[Any] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    """Model-level figures of the proportional-odds model of :func:`ordinal_regression`.

    Parameters
    ----------
    data, formula, link, levels, weights
        As for :func:`ordinal_regression` (``weights``: frequency weights).

    Returns
    -------
    DataFrame
        One row: ``n`` (cases used: rows, or the sum of the frequency weights, as R's ``nobs``),
        ``n_dropped`` (rows left out for missing values or zero weight),
        ``n_levels`` (response levels in use), ``n_params``, ``log_likelihood``, ``aic``
        (-2 logLik + 2 n_params), ``bic`` (-2 logLik + log(n) n_params), ``deviance``
        (-2 logLik), ``link``, ``iterations``, ``max_gradient``, ``levels`` (the levels in use,
        joined by " < ").

    References
    ----------
    ``logLik``, ``AIC``, ``BIC`` and ``nobs`` of an ``ordinal::clm`` or ``MASS::polr`` fit.

    Examples
    --------
    >>> import pandas as pd
    >>> ballots = pd.DataFrame({"overall": [3, 2, 3, 1, 2, 3, 1, 2, 3, 3, 1, 2],
    ...                         "age": [72, 45, 66, 30, 51, 70, 38, 35, 58, 41, 62, 69]})
    >>> fit = ordinal_model_fit(ballots, formula="overall ~ age")
    >>> fit[["n", "n_params", "levels"]]
        n  n_params     levels
    0  12         3  1 < 2 < 3
    """
    design, fit = _prepare(data, formula, link, levels, "ordinal_model_fit", weights)
    n: float = design.y.size if design.w is None else float(design.w.sum())
    if float(n).is_integer():
        n = int(n)
    n_params = fit.params.size
    return pd.DataFrame(
        [
            {
                "n": n,
                "n_dropped": design.n_dropped_rows,
                "n_levels": design.n_levels,
                "n_params": n_params,
                "log_likelihood": fit.loglik,
                "aic": -2 * fit.loglik + 2 * n_params,
                "bic": -2 * fit.loglik + np.log(n) * n_params,
                "deviance": -2 * fit.loglik,
                "link": link,
                "iterations": fit.iterations,
                "max_gradient": fit.max_gradient,
                "levels": " < ".join(design.labels),
            }
        ]
    )


def proportional_odds_test(
    data: pd.DataFrame,
    *,
    formula: str,
    link: str = "logit",
    levels: Sequence[Any] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    r"""Likelihood-ratio tests of the proportional-odds assumption, term by term and jointly.

    For each term of ``formula``, the proportional-odds model is compared with the model in which
    that term's effect may differ at each threshold (a *nominal* effect in ``ordinal::clm``:
    :math:`\operatorname{link} P(Y \le j) = \theta_j - x^\top\beta - z^\top\gamma_j`), as R's
    ``ordinal::nominal_test``; the last row frees all terms at once (the omnibus question of the
    Brant test).

    Parameters
    ----------
    data, formula, link, levels, weights
        As for :func:`ordinal_regression` (``weights``: frequency weights).

    Returns
    -------
    DataFrame
        One row per term and a last row ``term = "(all terms)"``: ``statistic`` (LR chi-square
        :math:`2(\ell_{nominal} - \ell_{PO})`), ``df`` ((J - 2) x columns of the term),
        ``p_value``, ``log_likelihood`` and ``aic`` of the freer model, and ``note`` (why a test
        is NaN: its model has thresholds that cross, so some probability would be negative).
        A small p-value says the term's effect is not the same at every threshold.

    Notes
    -----
    This is the likelihood-ratio counterpart of the Brant (1990) Wald test: the Brant test fits
    J - 1 separate binary regressions; the LR test fits the partial proportional-odds model by
    maximum likelihood, which ``ordinal::clm(nominal = ~ term)`` computes and so can be checked
    against R (the ``brant`` package is not in Debian).

    References
    ----------
    Brant, R. (1990). Assessing proportionality in the proportional odds model for ordinal
    logistic regression. *Biometrics* 46(4), 1171-1178.
    Peterson, B., & Harrell, F. E. (1990). Partial proportional odds models for ordinal response
    variables. *Applied Statistics* 39(2), 205-217.
    Christensen, R. H. B. ordinal: ``nominal_test``, ``clm(nominal = )``.

    Examples
    --------
    >>> import pandas as pd
    >>> ballots = pd.DataFrame({"overall": [3, 2, 3, 1, 2, 3, 1, 2, 3, 3, 1, 2],
    ...                         "age": [72, 45, 66, 30, 51, 70, 38, 35, 58, 41, 62, 69]})
    >>> proportional_odds_test(ballots, formula="overall ~ age")[["term", "df"]]
              term   df
    0          age  1.0
    1  (all terms)  1.0
    """
    fn = "proportional_odds_test"
    design, base = _prepare(data, formula, link, levels, fn, weights)
    k = design.n_levels - 1
    p = design.x.shape[1]
    rows: list[dict[str, Any]] = []
    tests = list(design.terms.items())
    if len(tests) != 1:
        tests.append(("(all terms)", list(range(p))))
    else:
        tests.append(("(all terms)", tests[0][1]))
    for term, cols in tests:
        rest = [i for i in range(p) if i not in cols]
        x_po = design.x[:, rest]
        z = design.x[:, cols]
        start = np.concatenate(
            [base.params[:k], base.params[k:][rest], np.tile(base.params[k:][cols], k)]
        )
        note = None
        df = float((k - 1) * len(cols))
        try:
            fit = _fit(design.y, x_po, z, design.n_levels, link, start=start, w=design.w)
            ok = fit.converged
        except ConvergenceError:
            ok = False
        if ok:
            lr = max(0.0, 2 * (fit.loglik - base.loglik))
            n_params = fit.params.size
            row = {
                "statistic": lr,
                "df": df,
                "p_value": float(stats.chi2.sf(lr, df)) if df > 0 else np.nan,
                "log_likelihood": fit.loglik,
                "aic": -2 * fit.loglik + 2 * n_params,
            }
        else:
            note = "the model with this term nominal did not converge (crossing thresholds)"
            row = {"statistic": np.nan, "df": df, "p_value": np.nan}
            row |= {"log_likelihood": np.nan, "aic": np.nan}
        if df == 0:
            note = "two response levels: nothing to test"
        rows.append({"term": term, **row, "note": note})
    return pd.DataFrame(rows)
