"""Reliability of multi-item scales: Cronbach's alpha, item analysis, McDonald's omega.

Every function reads the items (numeric columns) into one float matrix and works from a single
covariance matrix, computed once with numpy (no pandas ``.cov``): listwise (complete rows) or
pairwise (each covariance from the rows where both items are answered, as R
``cov(x, use = "pairwise")``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from toolkit._checks import check_columns, check_option, check_range, did_you_mean
from toolkit.errors import ConvergenceError, DataError, ParameterError

__all__ = ["MISSING_RULES", "cronbach_alpha", "item_analysis", "omega"]

MISSING_RULES: tuple[str, ...] = ("listwise", "pairwise")


@dataclass
class _Scale:
    names: list[str]
    cov: np.ndarray  # k x k covariance matrix (reverse-keyed items already flipped)
    n: int  # cases: complete rows (listwise) or rows with at least one answer (pairwise)
    item_n: np.ndarray  # answers per item among the rows used
    means: np.ndarray
    reversed: list[bool]


def _item_names(data: pd.DataFrame, items: str | Sequence[str] | None) -> list[str]:
    if items is None:
        names = [str(c) for c in data.columns]
        if any(not isinstance(c, str) for c in data.columns):
            raise ParameterError("`data` has non-string column names: pass `items=` explicitly.")
    elif isinstance(items, str):
        names = [items]
    else:
        names = list(items)
    if len(set(names)) != len(names):
        raise ParameterError(f"`items` names a column twice: {names!r}.")
    check_columns(data, names)
    if len(names) < 2:
        raise ParameterError(
            f"a scale needs at least two items; got {len(names)} ({', '.join(names)}). "
            "Pass `items=` with two or more columns."
        )
    return names


def _columns(data: pd.DataFrame, names: list[str]) -> list[np.ndarray]:
    """Each item as a 1-D numeric numpy array (a view of the DataFrame's data where possible)."""
    cols = []
    for name in names:
        col = data[name]
        dtype = col.dtype
        if isinstance(dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ):
            raise DataError(
                f"column `{name}` is not numeric (dtype {dtype}); reliability needs item scores "
                "as numbers: convert it first (for an ordered Categorical, "
                "`data[col].cat.codes + 1`, with -1 codes set to NaN)."
            )
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            cols.append(col.to_numpy())
        else:  # bool, nullable Int64/Float64/boolean
            cols.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
    return cols


_CHUNK = 1 << 14  # rows per block of the streaming covariance (2.6 MB buffer at 20 items)


def _cov_stream(cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """Covariance matrix and means of complete columns in one streamed pass, or None on NaN/inf.

    No (n x k) copy is made: each block of rows is shifted by the means of the first block (so
    that the accumulated cross-products do not cancel) into a small Fortran-ordered buffer, and
    its cross-product (a BLAS ``syrk``) and column sums are added up; then
    C = (sum y y' - n ybar ybar') / (n - 1) with y = x - shift.
    """
    n, k = cols[0].shape[0], len(cols)
    first = min(n, _CHUNK)
    shift = np.array([col[:first].mean(dtype=np.float64) for col in cols])
    if not np.isfinite(shift).all():
        return None
    acc = np.zeros((k, k))
    sums = np.zeros(k)
    buf = np.empty((first, k), order="F")
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        block = buf if stop - start == first else np.empty((stop - start, k), order="F")
        for j, col in enumerate(cols):
            np.subtract(col[start:stop], shift[j], out=block[:, j])
        acc += block.T @ block
        sums += block.sum(axis=0)
    if not np.isfinite(sums).all():
        return None
    ybar = sums / n
    cov = (acc - n * np.outer(ybar, ybar)) / (n - 1)
    return cov, shift + ybar


def _prepare(
    data: Any,
    items: str | Sequence[str] | None,
    reverse: str | Sequence[str] | None,
    scale_range: tuple[float, float] | None,
    missing: str,
) -> _Scale:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"`data` must be a pandas DataFrame (one row per respondent, one column per item); "
            f"got {type(data).__name__}."
        )
    check_option("missing", missing, MISSING_RULES)
    names = _item_names(data, items)
    rev = [] if reverse is None else [reverse] if isinstance(reverse, str) else list(reverse)
    unknown = [r for r in rev if r not in names]
    if unknown:
        hint = did_you_mean(str(unknown[0]), names)
        raise ParameterError(
            f"`reverse` names {unknown[0]!r}, which is not one of the items.{hint}"
        )
    low = high = 0.0
    if scale_range is not None:
        try:
            low, high = (float(v) for v in scale_range)
        except (TypeError, ValueError):
            raise ParameterError(
                f"`scale_range` must be (min, max) of the response scale; got {scale_range!r}."
            ) from None
        if not low < high:
            raise ParameterError(
                f"`scale_range` must be (min, max) with min < max; got {scale_range!r}."
            )
    elif rev:
        raise ParameterError(
            "reverse-keyed items need `scale_range=(min, max)`, the ends of the response scale "
            "(e.g. scale_range=(1, 5)): a reversed score is min + max - x."
        )

    cols = _columns(data, names)
    k = len(names)
    if scale_range is not None:
        for name, col in zip(names, cols, strict=True):
            if col.size == 0:
                continue
            lo, hi = (
                (np.nanmin(col), np.nanmax(col))
                if col.dtype.kind == "f"
                else (col.min(), col.max())
            )
            bad = lo if lo < low else hi if hi > high else None
            if bad is not None:
                raise DataError(
                    f"column `{name}` has the value {float(bad):g} outside `scale_range` "
                    f"({low:g}, {high:g}); fix the data or the range."
                )
    n_rows = len(data)
    if n_rows < 2:
        raise DataError(f"reliability needs at least 2 respondents; got {n_rows}.")
    streamed = _cov_stream(cols)
    if streamed is not None:
        cov, means = streamed
        n = n_rows
        item_n = np.full(k, n)
    else:
        x = np.empty((len(data), k), order="F")
        for j, col in enumerate(cols):
            x[:, j] = col
        if np.isinf(x).any():
            j = int(np.flatnonzero(np.isinf(x).any(axis=0))[0])
            raise DataError(
                f"column `{names[j]}` holds an infinite value; item scores must be finite."
            )
        nan_mask = np.isnan(x)
        if missing == "listwise":
            keep = ~nan_mask.any(axis=1)
            x = np.asfortranarray(x[keep])
            n = x.shape[0]
            if n < 2:
                raise DataError(
                    f"only {n} respondent(s) answered every item; listwise deletion needs at "
                    "least 2. Try missing='pairwise'."
                )
            means = x.mean(axis=0)
            x -= means
            cov = (x.T @ x) / (n - 1)
            item_n = np.full(k, n)
        else:
            seen = ~nan_mask
            n = int(seen.any(axis=1).sum())
            item_n = seen.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.nansum(x, axis=0) / item_n
            x -= means
            x[nan_mask] = 0.0
            w = seen.astype(np.float64)
            pairs = w.T @ w
            sums = x.T @ w  # sums[i, j]: sum of item i over rows where i and j are both answered
            cross = x.T @ x
            if (pairs < 2).any():
                i, j = (int(v[0]) for v in np.nonzero(pairs < 2))
                which = f"`{names[i]}`" if i == j else f"`{names[i]}` and `{names[j]}`"
                raise DataError(
                    f"{which}: fewer than 2 respondents answered {'it' if i == j else 'both'}; "
                    "a covariance cannot be computed. Drop the item or collect more answers."
                )
            cov = (cross - sums * sums.T / pairs) / (pairs - 1)

    var = np.diag(cov)
    flat = var <= 1e-24 * np.maximum(means**2, 1e-300)
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise DataError(
            f"item `{names[j]}` has zero variance (every respondent gave the same answer); "
            "alpha and item statistics are undefined: drop it from `items`."
        )
    # reverse keying: x' = min + max - x flips the sign of the item's covariances
    flip = np.array([-1.0 if nm in rev else 1.0 for nm in names])
    if rev:
        cov = cov * np.outer(flip, flip)
        means = np.where(flip < 0, (low + high) - means, means)
    return _Scale(names, cov, int(n), np.asarray(item_n), means, [nm in rev for nm in names])


def _alphas(cov: np.ndarray) -> tuple[float, float]:
    k = cov.shape[0]
    total = float(cov.sum())
    raw = k / (k - 1) * (1.0 - float(np.trace(cov)) / total)
    d = 1.0 / np.sqrt(np.diag(cov))
    corr_sum = float(d @ cov @ d)
    std = k / (k - 1) * (1.0 - k / corr_sum)
    return raw, std


def _feldt(alpha: float, n: int, k: int, confidence: float) -> tuple[float, float]:
    a = 1.0 - confidence
    df1 = n - 1
    df2 = (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * float(stats.f.ppf(1.0 - a / 2.0, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.ppf(a / 2.0, df1, df2))
    return low, high


def cronbach_alpha(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str] | None = None,
    reverse: str | Sequence[str] | None = None,
    scale_range: tuple[float, float] | None = None,
    confidence: float = 0.95,
    missing: str = "listwise",
) -> pd.DataFrame:
    r"""Cronbach's alpha, raw and standardised, with Feldt's confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent, numeric item columns.
    items : list of str, optional
        The items of the scale (default: every column of ``data``).
    reverse : list of str, optional
        Reverse-keyed items, scored ``min + max - x`` before anything else.
    scale_range : (float, float), optional
        ``(min, max)`` of the response scale; required with ``reverse``; values outside it are
        a :class:`~toolkit.errors.DataError`.
    confidence : float
        Confidence level of the interval.
    missing : {"listwise", "pairwise"}
        ``"listwise"``: complete rows only; ``"pairwise"``: each covariance from the rows where
        both items are answered (R ``cov(x, use = "pairwise")``, as ``psych::alpha``'s default).

    Returns
    -------
    pandas.DataFrame
        Two rows, ``measure`` ``"raw"`` and ``"standardized"``, with ``estimate``, ``se``
        (raw only, NaN for standardized), ``ci_low``, ``ci_high``, ``method`` (``"feldt"``),
        ``confidence``, ``n`` (respondents) and ``n_items``.

    Raises
    ------
    DataError
        A non-numeric item, an item with zero variance (named), fewer than 2 respondents.

    Notes
    -----
    With :math:`C` the item covariance matrix, :math:`R` the correlation matrix
    :math:`D^{-1/2} C D^{-1/2}` and :math:`k` items:

    .. math:: \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}
              \Bigr), \qquad \alpha_{std} = \frac{k}{k-1}\Bigl(1 - \frac{k}{\mathbf 1' R
              \mathbf 1}\Bigr)

    Feldt interval (Feldt 1965; Feldt, Woodruff & Salih 1987), with :math:`F_p` the
    :math:`p`-quantile of :math:`F(n-1, (n-1)(k-1))`:
    :math:`[1 - (1-\alpha) F_{1-a/2},\ 1 - (1-\alpha) F_{a/2}]`, :math:`a = 1 -` confidence;
    the same formula is applied to the standardised alpha. The standard error is the asymptotic
    one of van Zyl, Neudecker & Nel (2000), ``sqrt(Q / n)`` as ``psych::alpha``'s ``ase``.

    :math:`n` is the number of complete rows (listwise) or of rows with at least one answer
    (pairwise). ``psych::alpha`` uses every row of its input for :math:`n`; the two agree unless
    a row has no answer at all.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika* 16, 297-334. Feldt, L. S. (1965). The approximate sampling distribution of
    Kuder-Richardson reliability coefficient twenty. *Psychometrika* 30, 357-370. R:
    ``psych::alpha`` (``total$raw_alpha``, ``total$std.alpha``, ``total$ase``, ``feldt``).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.reliability import cronbach_alpha
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                    "c": [1, 3, 3, 4, 5, 2]})
    >>> cronbach_alpha(df)[["measure", "estimate", "ci_low", "ci_high"]].round(4)
            measure  estimate  ci_low  ci_high
    0           raw    0.9318  0.7109   0.9897
    1  standardized    0.9336  0.7188   0.9900
    """
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    scale = _prepare(data, items, reverse, scale_range, missing)
    cov, n = scale.cov, scale.n
    k = cov.shape[0]
    raw, std = _alphas(cov)
    total = float(cov.sum())
    tr = float(np.trace(cov))
    cc = cov @ cov
    q = (2.0 * k**2 / ((k - 1) ** 2 * total**3)) * (
        total * (float(np.trace(cc)) + tr**2) - 2.0 * tr * float(cc.sum())
    )
    se = math.sqrt(q / n) if q >= 0 else math.nan
    raw_ci = _feldt(raw, n, k, confidence)
    std_ci = _feldt(std, n, k, confidence)
    return pd.DataFrame(
        {
            "measure": ["raw", "standardized"],
            "estimate": [raw, std],
            "se": [se, math.nan],
            "ci_low": [raw_ci[0], std_ci[0]],
            "ci_high": [raw_ci[1], std_ci[1]],
            "method": "feldt",
            "confidence": float(confidence),
            "n": n,
            "n_items": k,
        }
    )


def item_analysis(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str] | None = None,
    reverse: str | Sequence[str] | None = None,
    scale_range: tuple[float, float] | None = None,
    missing: str = "listwise",
) -> pd.DataFrame:
    r"""Item statistics of a scale: corrected item-total correlation, alpha if item deleted.

    Parameters
    ----------
    data, items, reverse, scale_range, missing
        As in :func:`cronbach_alpha`.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item``, ``reversed`` (bool), ``n`` (answers used), ``mean``, ``sd``
        (of the reverse-scored item), ``r_drop`` (correlation of the item with the sum of the
        other items), ``alpha_if_deleted`` (raw alpha of the other items),
        ``std_alpha_if_deleted``. With two items, alpha if deleted is NaN (one item left).

    Notes
    -----
    From the covariance matrix :math:`C`:
    :math:`r_{drop,i} = (\sum_j C_{ij} - C_{ii}) / \sqrt{C_{ii}\, \mathbf 1' C_{-i} \mathbf 1}`,
    as ``psych::alpha``'s ``item.stats$r.drop``; alpha if deleted is :func:`cronbach_alpha` on
    :math:`C_{-i}` (``alpha.drop$raw_alpha`` and ``alpha.drop$std.alpha``). Means and sds use
    the rows of ``missing`` (listwise: complete rows; pairwise: every answer of the item).

    References
    ----------
    R: ``psych::alpha`` (``item.stats``, ``alpha.drop``). Revelle, W. *psych: Procedures for
    Psychological, Psychometric, and Personality Research*.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.reliability import item_analysis
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                    "c": [1, 3, 3, 4, 5, 2]})
    >>> item_analysis(df)[["item", "r_drop", "alpha_if_deleted"]].round(4)
      item  r_drop  alpha_if_deleted
    0    a  0.9423            0.8324
    1    b  0.8067            0.9474
    2    c  0.8542            0.9081
    """
    scale = _prepare(data, items, reverse, scale_range, missing)
    cov = scale.cov
    k = cov.shape[0]
    row_sums = cov.sum(axis=1)
    total = float(cov.sum())
    var = np.diag(cov)
    rest_var = total - 2.0 * row_sums + var  # 1' C_{-i} 1
    r_drop = (row_sums - var) / np.sqrt(var * rest_var)
    raw_drop = np.full(k, np.nan)
    std_drop = np.full(k, np.nan)
    if k > 2:
        for i in range(k):
            keep = np.arange(k) != i
            raw_drop[i], std_drop[i] = _alphas(cov[np.ix_(keep, keep)])
    return pd.DataFrame(
        {
            "item": scale.names,
            "reversed": scale.reversed,
            "n": scale.item_n.astype(np.int64),
            "mean": scale.means,
            "sd": np.sqrt(var),
            "r_drop": r_drop,
            "alpha_if_deleted": raw_drop,
            "std_alpha_if_deleted": std_drop,
        }
    )


# --- omega: one-factor maximum-likelihood factor analysis (R's factanal.fit.mle) ---

_PSI_LOWER = 0.005  # factanal's default lower bound of the uniquenesses


def _fa_loadings(psi: np.ndarray, corr: np.ndarray) -> np.ndarray:
    s = 1.0 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(corr * np.outer(s, s))
    load = vectors[:, -1] * math.sqrt(max(values[-1] - 1.0, 0.0))
    return np.sqrt(psi) * load


def _fa_objective(psi: np.ndarray, corr: np.ndarray) -> tuple[float, np.ndarray]:
    s = 1.0 / np.sqrt(psi)
    values, vectors = np.linalg.eigh(corr * np.outer(s, s))
    e = values[:-1]  # all but the largest
    f = -(float(np.sum(np.log(e) - e)) - 1.0 + corr.shape[0])
    load = np.sqrt(psi) * vectors[:, -1] * math.sqrt(max(values[-1] - 1.0, 0.0))
    g = load**2 + psi - np.diag(corr)
    return f, g / psi**2


def _fit_one_factor(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """ML one-factor model of a correlation matrix: loadings, uniquenesses, Heywood flag."""
    k = corr.shape[0]
    try:
        start = (1.0 - 0.5 / k) / np.diag(np.linalg.inv(corr))
    except np.linalg.LinAlgError:
        raise DataError(
            "the item correlation matrix is singular (an item is a linear combination of "
            "others, e.g. a duplicated column): omega cannot be estimated."
        ) from None
    start = np.clip(start, _PSI_LOWER, 1.0)
    res = optimize.minimize(
        _fa_objective,
        start,
        args=(corr,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(_PSI_LOWER, 1.0)] * k,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000, "maxcor": 20},
    )
    if not res.success and "ABNORMAL" not in str(res.message).upper():
        raise ConvergenceError(
            f"the one-factor maximum-likelihood fit did not converge ({res.message}); check "
            "the items (near-duplicate or nearly constant items) or use fewer items."
        )
    psi = np.asarray(res.x, dtype=float)
    load = _fa_loadings(psi, corr)
    if load.sum() < 0:
        load = -load
    heywood = bool((psi <= _PSI_LOWER * (1 + 1e-6)).any())
    return load, psi, heywood


def omega(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str] | None = None,
    reverse: str | Sequence[str] | None = None,
    scale_range: tuple[float, float] | None = None,
    missing: str = "listwise",
) -> pd.DataFrame:
    r"""McDonald's omega total from a one-factor maximum-likelihood factor analysis.

    Parameters
    ----------
    data, items, reverse, scale_range, missing
        As in :func:`cronbach_alpha`. Reverse-key negatively worded items first: omega
        assumes all loadings share one sign.

    Returns
    -------
    pandas.DataFrame
        One row: ``measure`` (``"omega_total"``), ``estimate``, ``method`` (``"ml"``), ``n``,
        ``n_items``, ``sum_loadings`` :math:`\sum\lambda`, ``sum_uniquenesses``
        :math:`\sum\psi`, ``heywood`` (True if a uniqueness sits at the lower bound 0.005,
        a Heywood case).

    Notes
    -----
    The one-factor model :math:`R = \lambda\lambda' + \Psi` is fitted to the item correlation
    matrix by maximum likelihood exactly as R's ``factanal(covmat = R, factors = 1)``
    (``factanal.fit.mle``: L-BFGS-B over the uniquenesses, bounded to [0.005, 1]; here run to
    full convergence). Then

    .. math:: \omega_t = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i \psi_i}

    (McDonald 1999, eq. 6.20b), the reliability of the unit-weighted sum of the standardised
    items under the model: the denominator is the model-implied variance of the sum. This
    matches ``factanal(covmat = R, factors = 1, n.obs = n)`` loadings and uniquenesses (tests:
    1e-6) and ``psych::fa(R, nfactors = 1, fm = "ml")`` loadings (its optimiser stops earlier;
    tests: 1e-4).

    ``psych::omega(x, nfactors = 1, fm = "ml")$omega.tot`` is a different estimator. Its
    internal ``omegah`` takes :math:`V_t = \mathbf 1' R \mathbf 1`, the sum of the *observed*
    correlation matrix (computed with ``cor(x, use = "pairwise")`` when given raw data, whatever
    the missing-data choice), and the sum of the uniquenesses of its factor solution, and returns

    .. math:: \omega_{psych} = \frac{V_t - \sum_i \psi_i}{V_t}

    (observed total variance minus unique variance, over observed total variance). Ours divides
    the model's common variance :math:`(\sum\lambda)^2` by the model's total
    :math:`(\sum\lambda)^2 + \sum\psi`. The two agree when the one-factor model reproduces
    :math:`\mathbf 1' R \mathbf 1` exactly; on real items they differ in the third decimal
    (tests: psych's formula applied to our solution gives ``omega.tot`` to 1e-4). Ours uses
    the correlation matrix of ``missing`` (listwise by default).

    References
    ----------
    McDonald, R. P. (1999). *Test Theory: A Unified Treatment*. Erlbaum. Lawley, D. N. &
    Maxwell, A. E. (1971). *Factor Analysis as a Statistical Method*. R: ``stats::factanal``,
    ``psych::fa(fm = "ml")``, ``psych::omega``.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.reliability import omega
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=200)
    >>> df = pd.DataFrame({c: np.clip(np.round(3 + f + rng.normal(size=200)), 1, 5)
    ...                    for c in "abcd"})
    >>> omega(df)[["measure", "estimate", "heywood"]].round(4)
           measure  estimate  heywood
    0  omega_total     0.733    False
    """
    scale = _prepare(data, items, reverse, scale_range, missing)
    k = scale.cov.shape[0]
    if k < 3:
        raise ParameterError(
            f"omega needs at least 3 items for a one-factor model; got {k}. Use "
            "cronbach_alpha for two items."
        )
    d = 1.0 / np.sqrt(np.diag(scale.cov))
    corr = scale.cov * np.outer(d, d)
    load, psi, heywood = _fit_one_factor(corr)
    s_load = float(load.sum())
    s_psi = float(psi.sum())
    return pd.DataFrame(
        {
            "measure": ["omega_total"],
            "estimate": [s_load**2 / (s_load**2 + s_psi)],
            "method": ["ml"],
            "n": [scale.n],
            "n_items": [k],
            "sum_loadings": [s_load],
            "sum_uniquenesses": [s_psi],
            "heywood": [heywood],
        }
    )
