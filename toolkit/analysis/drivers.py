r"""Key-driver analysis: which ballot items drive the overall rating?

:func:`driver_analysis` answers the first question a 区 office asks after the rates, three ways:

* ``"ordinal"``: the proportional-odds model of the overall rating on the item scores
  (:func:`~toolkit.analysis.ordinal.ordinal_regression`): the effect of one step up on an item,
  the others held fixed;
* ``"relative_weights"``: Johnson's (2000) relative weights, the share of the :math:`R^2` of the
  linear regression of the overall score on the item scores that each item carries, after the
  items are replaced by their closest orthogonal counterparts;
* ``"dominance"``: general dominance (Budescu 1993; Azen & Budescu 2003), each item's
  :math:`R^2` increment averaged over all orders of entry, which is the LMG measure of
  Lindeman, Merenda & Gold (1980) computed by R's ``relaimpo::calc.relimp(type = "lmg")``
  (Grömping 2006).

Items on a ballot are strongly correlated (raters who like the 居委会 like it on every aspect), so
regression coefficients split the credit unstably; relative weights and dominance divide the
:math:`R^2` among correlated items in a way that sums to it. Both come with bootstrap percentile
intervals for each item's share.

Answers are read as scores: 满意 = 3, 基本满意 = 2, 不满意 = 1 (不了解 and blanks missing); numeric
columns are used as they are. Ballots missing any of the variables are left out (listwise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis._weights import weight_column
from toolkit.analysis.ordinal import ordinal_regression
from toolkit.analysis.satisfaction import _BASIC, _DISSATISFIED, _STRICT, _classify, _level_map
from toolkit.errors import DataError, ParameterError

__all__ = ["DRIVER_METHODS", "dominance_weights", "driver_analysis", "relative_weights"]

DRIVER_METHODS: tuple[str, ...] = ("ordinal", "relative_weights", "dominance")
MAX_DOMINANCE_ITEMS = 14  # 2^14 subsets; beyond that use relative weights


def _scores(series: pd.Series, column: str, mapping: Mapping[Any, int]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    classes = _classify(series, column, mapping)
    lut = np.full(8, np.nan)
    lut[[_STRICT, _BASIC, _DISSATISFIED]] = [3.0, 2.0, 1.0]
    return lut[classes]


def _correlation(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted correlation matrices of the columns of z, one per row of ``w`` (B x n)."""
    total = w.sum(axis=1)
    mean = w @ z / total[:, None]
    k = z.shape[1]
    products = (z[:, :, None] * z[:, None, :]).reshape(len(z), k * k)
    second = (w @ products).reshape(-1, k, k) / total[:, None, None]
    cov = second - mean[:, :, None] * mean[:, None, :]
    sd = np.sqrt(np.clip(np.einsum("bii->bi", cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / sd[:, :, None] / sd[:, None, :]


def relative_weights(corr: np.ndarray) -> np.ndarray:
    r"""Johnson's relative weights from correlation matrices (..., p + 1, p + 1), outcome last.

    :math:`R_{xx} = V \operatorname{diag}(\lambda) V^\top`, :math:`\Lambda = V
    \operatorname{diag}(\sqrt\lambda) V^\top`, :math:`\beta = \Lambda^{-1} r_{xy}`,
    :math:`\varepsilon_j = \sum_k \Lambda_{jk}^2 \beta_k^2` (they add up to :math:`R^2`).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1, 0.5, 0.6], [0.5, 1, 0.4], [0.6, 0.4, 1]])
    >>> relative_weights(r).round(4)
    array([0.2867, 0.0867])
    """
    rxx = corr[..., :-1, :-1]
    rxy = corr[..., :-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    values = np.clip(values, 0, None)
    lam = vectors * np.sqrt(values)[..., None, :] @ np.swapaxes(vectors, -1, -2)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_sqrt = vectors * (1 / np.sqrt(values))[..., None, :] @ np.swapaxes(vectors, -1, -2)
    beta = (inv_sqrt @ rxy[..., None])[..., 0]
    return np.asarray((lam**2 @ (beta**2)[..., None])[..., 0])


def dominance_weights(corr: np.ndarray) -> np.ndarray:
    r"""General dominance (LMG) weights from correlation matrices (..., p + 1, p + 1), outcome last.

    :math:`C_j = \sum_{S \subseteq X \setminus \{j\}} \frac{|S|!\,(p - |S| - 1)!}{p!}
    \left(R^2_{S \cup \{j\}} - R^2_S\right)` with :math:`R^2_S = r_S^\top R_{SS}^{-1} r_S`.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1, 0.5, 0.6], [0.5, 1, 0.4], [0.6, 0.4, 1]])
    >>> dominance_weights(r).round(4)
    array([0.2867, 0.0867])
    """
    p = corr.shape[-1] - 1
    batch = corr.shape[:-2]
    r2: dict[tuple[int, ...], np.ndarray] = {(): np.zeros(batch)}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            idx = list(subset)
            rss = corr[..., idx, :][..., :, idx]
            rsy = corr[..., idx, -1]
            r2[subset] = np.einsum(
                "...i,...i->...", rsy, np.linalg.solve(rss, rsy[..., None])[..., 0]
            )
    out: np.ndarray = np.zeros((*batch, p))
    for subset, value in r2.items():
        k = len(subset)
        for j in range(p):
            if j in subset:
                continue
            bigger = tuple(sorted((*subset, j)))
            weight = math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p)
            out[..., j] += weight * (r2[bigger] - value)
    return out


def driver_analysis(
    data: pd.DataFrame,
    *,
    outcome: str,
    items: Sequence[str],
    method: str | Sequence[str] = DRIVER_METHODS,
    weights: str | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    levels: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    r"""Which items drive the overall rating: ordinal coefficients, relative weights, dominance.

    Parameters
    ----------
    data : DataFrame
        One row per ballot.
    outcome : str
        The overall rating column (满意 / 基本满意 / 不满意 or numeric scores).
    items : list of str
        The aspect columns (at least two).
    method : str or list of str
        Any of "ordinal", "relative_weights", "dominance" (default all three).
    weights : str, optional
        Column of **frequency weights** (a row of weight 3 counts as three ballots): the weighted
        correlations of ``lm(weights=)``, ``polr(weights=)``; the bootstrap resamples ballots
        with these frequencies.
    n_boot : int
        Bootstrap resamples for the intervals of relative weights and dominance (0: none).
    confidence : float
        Confidence level of the intervals (Wald for "ordinal", bootstrap percentile otherwise).
    seed : int
        Seed of the bootstrap.
    levels : dict, optional
        How to read text answers, as :func:`~toolkit.analysis.satisfaction.satisfaction_rates`.

    Returns
    -------
    DataFrame
        One row per method x item x measure: ``method``, ``item``, ``measure``, ``estimate``,
        ``ci_low``, ``ci_high``, ``confidence``, ``n`` (ballots used, or the sum of weights);
        for "ordinal" also ``se``, ``statistic``, ``p_value``, ``odds_ratio`` (NaN in other
        rows). Measures: ``"coefficient"`` (ordinal: log odds ratio per step of the item),
        ``"weight"`` (the item's part of :math:`R^2`), ``"share"`` (weight / :math:`R^2`, the
        shares add up to 1); each of "relative_weights" and "dominance" ends with a row
        ``item = "(all items)"``, ``measure = "r_squared"``.

    Notes
    -----
    Relative weights (Johnson 2000): with the eigen-decomposition :math:`R_{xx} = V D V^\top`,
    :math:`\Lambda = V D^{1/2} V^\top` and :math:`\beta = \Lambda^{-1} r_{xy}`, item j's weight
    is :math:`\sum_k \Lambda_{jk}^2 \beta_k^2`. General dominance: the average increase in
    :math:`R^2` when item j is added, over all :math:`p!` orders of entry, computed over the
    :math:`2^p` subsets (up to 14 items). The bootstrap redraws ballots (multinomial frequencies)
    and recomputes both; intervals are percentile intervals, the shares' intervals of the shares.

    References
    ----------
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. *Multivariate Behavioral Research* 35(1), 1-19.
    Budescu, D. V. (1993). Dominance analysis. *Psychological Bulletin* 114(3), 542-551.
    Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors
    in multiple regression. *Psychological Methods* 8(2), 129-148.
    Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
    *Journal of Statistical Software* 17(1) (``calc.relimp(type = "lmg")``).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"attitude": [3, 3, 2, 1, 3, 2, 2, 1, 3, 2],
    ...                   "results":  [3, 2, 2, 1, 3, 1, 2, 1, 2, 3],
    ...                   "overall":  [3, 3, 2, 1, 3, 1, 2, 1, 2, 3]})
    >>> out = driver_analysis(b, outcome="overall", items=["attitude", "results"],
    ...                       method="dominance", n_boot=0)
    >>> out[["item", "measure", "estimate"]].round(3)
              item    measure  estimate
    0     attitude     weight     0.314
    1      results     weight     0.587
    2     attitude      share     0.348
    3      results      share     0.652
    4  (all items)  r_squared     0.901
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"driver_analysis: `data` must be a pandas DataFrame; got {type(data).__name__}."
        )
    methods = [method] if isinstance(method, str) else list(method)
    for m in methods:
        check_option("method", m, DRIVER_METHODS)
    item_list = [items] if isinstance(items, str) else list(items)
    if len(item_list) < 2 or outcome in item_list or len(set(item_list)) != len(item_list):
        raise ParameterError(
            "`items` must name at least two distinct columns, without `outcome`; got "
            f"{item_list!r}."
        )
    check_columns(data, [outcome, *item_list])
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_range("n_boot", n_boot, low=0)
    if "dominance" in methods and len(item_list) > MAX_DOMINANCE_ITEMS:
        raise ParameterError(
            f"`method` 'dominance' fits 2^p subsets; {len(item_list)} items are too many (at most "
            f"{MAX_DOMINANCE_ITEMS}). Use 'relative_weights', which agrees closely."
        )
    mapping = _level_map(levels)
    columns = [*item_list, outcome]
    z = np.column_stack([_scores(data[c], c, mapping) for c in columns])
    w_all = (
        np.ones(len(data)) if weights is None else weight_column(data, weights, "driver_analysis")
    )
    keep = np.isfinite(z).all(axis=1) & (w_all > 0)
    z, w = z[keep], w_all[keep]
    n_used: float = float(w.sum())
    if keep.sum() <= len(item_list) + 1:
        raise DataError(
            f"driver_analysis: {int(keep.sum())} ballots answer all of {columns}; more are needed "
            f"than {len(item_list) + 1} (不了解 and blanks are left out)."
        )
    constant = [c for c, col in zip(columns, z.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise DataError(
            f"driver_analysis: {', '.join(f'`{c}`' for c in constant)} has the same answer on "
            "every ballot used, so it cannot explain or be explained; leave it out."
        )
    n_value: int | float = int(n_used) if n_used.is_integer() else n_used
    frames = []
    if "ordinal" in methods:
        names = [f"x{i}" for i in range(len(item_list))]
        frame = pd.DataFrame(z[:, :-1], columns=names).assign(y=z[:, -1], w=w)
        fit = ordinal_regression(
            frame,
            formula="y ~ " + " + ".join(names),
            confidence=confidence,
            weights=None if weights is None else "w",
        )
        coef = fit[fit["measure"] == "coefficient"].drop(columns="measure")
        coef = coef.assign(item=item_list, method="ordinal", measure="coefficient").drop(
            columns="term"
        )
        frames.append(coef)
    boot = None
    if n_boot and any(m != "ordinal" for m in methods):
        rng = np.random.default_rng(seed)
        total = max(1, round(n_used))
        boot = rng.multinomial(total, w / w.sum(), size=n_boot).astype(float)
    full = _correlation(z, w[None, :])[0]
    alpha = (1 - confidence) / 2
    for m in methods:
        if m == "ordinal":
            continue
        fn = relative_weights if m == "relative_weights" else dominance_weights
        est = fn(full)
        r2 = est.sum()
        rows = {
            "item": [*item_list, *item_list, "(all items)"],
            "measure": ["weight"] * len(item_list) + ["share"] * len(item_list) + ["r_squared"],
            "estimate": [*est, *(est / r2), r2],
        }
        part = pd.DataFrame(rows).assign(method=m)
        if boot is not None:
            draws = fn(_correlation(z, boot))
            r2b = draws.sum(axis=1, keepdims=True)
            stacked = np.column_stack([draws, draws / r2b, r2b])
            part["ci_low"] = np.nanquantile(stacked, alpha, axis=0)
            part["ci_high"] = np.nanquantile(stacked, 1 - alpha, axis=0)
        else:
            part["ci_low"] = np.nan
            part["ci_high"] = np.nan
        frames.append(part)
    out = pd.concat(frames, ignore_index=True)
    out["confidence"] = confidence
    out["n"] = n_value
    order = ["method", "item", "measure", "estimate", "se", "statistic", "p_value"]
    order += ["ci_low", "ci_high", "confidence", "odds_ratio", "n"]
    return out[[c for c in order if c in out.columns]]
