"""Survey weights: raking, post-stratification, trimming and Kish's effective sample size.

Each function takes ``data`` first and returns the new weights as a :class:`pandas.Series` aligned
with ``data`` (same index). The algorithms follow R's ``survey`` package step by step, so that weights
(and, through :meth:`toolkit.analysis.design.SurveyDesign.rake` and
:meth:`~toolkit.analysis.design.SurveyDesign.poststratify`, standard errors) agree with R:

- :func:`poststratify` is ``survey::postStratify``: every weight in a stratum is multiplied by
  ``population total / weighted sample total`` of its stratum.
- :func:`rake` is ``survey::rake``: post-stratify on each margin in turn, repeat until the weighted
  cross-classified table of all margin variables changes by less than ``tol`` between two sweeps.
- :func:`trim_weights` is ``survey::trimWeights``: clip weights to ``[lower, upper]`` and share the
  trimmed amount equally among the untrimmed weights, so the total is unchanged.
- :func:`kish_effective_n` is Kish's ``(sum w)^2 / sum w^2``.

>>> import pandas as pd
>>> df = pd.DataFrame({"sex": ["m", "m", "f", "f", "f"], "age": ["y", "o", "y", "o", "o"]})
>>> w = rake(df, margins={"sex": {"m": 50, "f": 50}, "age": {"y": 40, "o": 60}})
>>> print(round(w.sum(), 6), round(kish_effective_n(w), 3))
100.0 4.795
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_range
from toolkit.errors import ConvergenceError, DataError, ParameterError

__all__ = ["kish_effective_n", "poststratify", "rake", "trim_weights"]

FloatArray = np.ndarray[Any, Any]  # bincount and friends are typed loosely by numpy
IntArray = np.ndarray[Any, Any]


# ------------------------------------------------------------------------------------------------
# internal records shared with design.py (calibration information needed for standard errors)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PostStratum:
    """One post-stratification step, as R's ``postStrata`` entry (index + weights attributes).

    ``codes`` is the stratum of each row (-1 for rows outside the design), ``oldw`` the weights before
    the step and ``neww`` after it.
    """

    codes: IntArray
    oldw: FloatArray
    neww: FloatArray


@dataclass(frozen=True)
class _Raking:
    """A raking: the post-stratification steps of the final sweep (R's ``"raking"`` class)."""

    margins: tuple[_PostStratum, ...]


def _initial_weights(data: pd.DataFrame, weights: str | None, where: str) -> FloatArray:
    if weights is None:
        return np.ones(len(data))
    check_columns(data, [weights])
    w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    if np.isnan(w).any():
        raise DataError(
            f"{where}: weight column `{weights}` has missing or non-numeric values "
            f"(row {data.index[np.flatnonzero(np.isnan(w))[0]]!r}); fill or drop them first."
        )
    if (w < 0).any():
        raise DataError(
            f"{where}: weight column `{weights}` has negative weights; weights must be >= 0."
        )
    return w


def _codes_for(
    data: pd.DataFrame, columns: Sequence[str], rows: np.ndarray | None, where: str
) -> tuple[IntArray, list[Any]]:
    """Codes (0..k-1, -1 outside ``rows``) and labels of the combinations of ``columns``."""
    check_columns(data, columns)
    frame = data[list(columns)]
    missing = np.array(frame.isna().any(axis=1).to_numpy(), dtype=bool)
    if rows is not None:
        missing &= rows
    if missing.any():
        first = data.index[np.flatnonzero(missing)[0]]
        raise DataError(
            f"{where}: {', '.join(f'`{c}`' for c in columns)} has missing values (row {first!r}); "
            "every case needs a category to be weighted. Fill or drop them first."
        )
    if len(columns) == 1:
        codes, uniques = pd.factorize(frame.iloc[:, 0], sort=True)
        labels: list[Any] = list(uniques)
    else:
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame), sort=True)
        labels = [tuple(u) for u in uniques]
    codes = np.array(codes, dtype=np.intp)
    if rows is not None:
        codes = np.where(rows, codes, -1)
    return codes, labels


def _population_map(population: Any, columns: Sequence[str], where: str) -> dict[Any, float]:
    """Population totals as {label: total}; labels are tuples for several columns."""
    if isinstance(population, pd.DataFrame):
        value_cols = [c for c in population.columns if c not in columns]
        if len(value_cols) != 1:
            raise ParameterError(
                f"{where}: a population DataFrame needs the columns {list(columns)} plus exactly one "
                f"column of totals; got columns {list(population.columns)}."
            )
        keys = (
            population[columns[0]].tolist()
            if len(columns) == 1
            else [tuple(r) for r in population[list(columns)].itertuples(index=False)]
        )
        return {k: float(v) for k, v in zip(keys, population[value_cols[0]], strict=True)}
    if isinstance(population, (pd.Series, Mapping)):
        items = population.items()
    else:
        raise ParameterError(
            f"{where}: population totals must be a dict or Series (category -> total), or a "
            f"DataFrame; got {type(population).__name__}."
        )
    out: dict[Any, float] = {}
    for key, value in items:
        k = tuple(key) if (len(columns) > 1 and isinstance(key, list | tuple)) else key
        out[k] = float(value)
    return out


def _poststratify_step(
    w: FloatArray,
    codes: IntArray,
    labels: list[Any],
    pop: dict[Any, float],
    where: str,
    partial: bool = False,
) -> tuple[FloatArray, _PostStratum]:
    """One ``postStratify`` step: returns new weights and the record for the variance."""
    inside = codes >= 0
    sample = np.bincount(codes[inside], weights=w[inside], minlength=len(labels))
    normalised = {_norm(k): v for k, v in pop.items()}
    missing = [lab for lab in labels if _norm(lab) not in normalised]
    if missing:
        raise DataError(
            f"{where}: the sample has categor{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(repr(m) for m in missing[:10])} that the population totals do not list; "
            "add their totals (0 if they truly have no population) or recode the data."
        )
    present = {_norm(lab) for lab, s in zip(labels, sample, strict=True) if s > 0}
    absent = [k for k, v in pop.items() if v > 0 and _norm(k) not in present]
    if absent and not partial:
        raise DataError(
            f"{where}: population categor{'y' if len(absent) == 1 else 'ies'} "
            f"{', '.join(repr(a) for a in absent[:10])} ha{'s' if len(absent) == 1 else 've'} no "
            "sample cases (or only zero weights), so their total cannot be reached; merge them with "
            "a neighbouring category (or pass partial=True to ignore them)."
        )
    totals = np.array([normalised[_norm(lab)] for lab in labels], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sample > 0, totals / sample, 0.0)
    if np.isnan(totals).any() or (totals < 0).any():
        raise DataError(f"{where}: population totals must be non-negative numbers.")
    new = w.copy()
    new[inside] = w[inside] * factor[codes[inside]]
    return new, _PostStratum(codes=codes, oldw=w, neww=new)


def _norm(key: Any) -> Any:
    """Make numpy scalars and Python scalars compare and hash alike."""
    if isinstance(key, tuple):
        return tuple(_norm(k) for k in key)
    if isinstance(key, np.generic):
        return key.item()
    return key


def _rake_arrays(
    data: pd.DataFrame,
    w: FloatArray,
    margins: Mapping[str, Any],
    rows: np.ndarray | None,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, _Raking, int]:
    """R's ``rake()`` loop. Returns final weights, the raking record and the sweeps used."""
    where = "rake"
    if not isinstance(margins, Mapping) or not margins:
        raise ParameterError(
            f"{where}: `margins` must be a non-empty dict {{column: {{category: total}}}}; "
            f"got {margins!r}."
        )
    check_range("max_iter", max_iter, low=1)
    check_range("tol", tol, low=0, low_inclusive=False)
    coded = []
    for column, totals in margins.items():
        codes, labels = _codes_for(data, [column], rows, f"{where}, margin `{column}`")
        pop = _population_map(totals, [column], f"{where}, margin `{column}`")
        coded.append((column, codes, labels, pop))
    sums = [sum(pop.values()) for *_, pop in coded]
    if max(sums) - min(sums) > 1e-6 * max(abs(max(sums)), 1.0):
        listing = ", ".join(f"`{c}` {s:g}" for (c, *_), s in zip(coded, sums, strict=True))
        raise DataError(
            f"{where}: the margins do not agree on the population total ({listing}); raking "
            "cannot meet them all. Give every margin as counts of the same population."
        )
    # cross-classified table of all margin variables (R: svytable(~a+b+..., design))
    cross = np.zeros(len(w), dtype=np.int64)
    for _, codes, labels, _ in coded:
        cross = cross * (len(labels) + 1) + (codes + 1)
    inside = coded[0][1] >= 0
    cross_codes = np.unique(cross[inside], return_inverse=True)[1]
    eps = tol * float(w[inside].sum()) if tol < 1 else tol

    def table(weights: FloatArray) -> FloatArray:
        return np.bincount(cross_codes, weights=weights[inside])

    old = table(w)
    current = w
    records: list[_PostStratum] = []
    delta = np.inf
    for sweep in range(1, max_iter + 1):
        records = []
        for column, codes, labels, pop in coded:
            current, rec = _poststratify_step(
                current, codes, labels, pop, f"{where}, margin `{column}`"
            )
            records.append(rec)
        new = table(current)
        delta = float(np.max(np.abs(old - new))) if len(new) else 0.0
        if delta < eps:
            return current, _Raking(margins=tuple(records)), sweep
        old = new
    raise ConvergenceError(
        f"{where}: the weights did not converge after {max_iter} iterations (the weighted "
        f"cross-table still changed by {delta:.4g} in the last sweep; tol is {eps:.4g}). Check the "
        "margins for sparse or empty cells, or raise `max_iter` / `tol`."
    )


def _as_columns(strata: str | Sequence[str]) -> list[str]:
    if isinstance(strata, str):
        return [strata]
    cols = list(strata)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ParameterError(f"`strata` must be a column name or a list of names; got {strata!r}.")
    return cols


# ------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------


def poststratify(
    data: pd.DataFrame,
    *,
    strata: str | Sequence[str],
    population: Any,
    weights: str | None = None,
    partial: bool = False,
) -> pd.Series:
    """Post-stratify weights to known population counts.

    Parameters
    ----------
    data : DataFrame
        One row per case.
    strata : str or list of str
        The post-stratification variable(s); with several columns the strata are their combinations.
    population : dict, Series or DataFrame
        Population count of every stratum: ``{category: total}`` (tuple keys for several columns), a
        Series indexed the same way, or a DataFrame with the strata columns and one column of totals.
    weights : str, optional
        Column of design weights (default: all 1).
    partial : bool
        Ignore population strata without sample cases instead of raising (R's ``partial=TRUE``).

    Returns
    -------
    Series
        The new weights, aligned with ``data``, named ``"weight"``.

    Notes
    -----
    ``w_i * N_h / sum_{j in h} w_j`` for case ``i`` in stratum ``h``. Raises :class:`DataError` when
    a sample stratum is missing from ``population`` or a populated stratum has no sample cases.

    References
    ----------
    R ``survey::postStratify``; Lumley (2010), *Complex Surveys*, section 7.3.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["m", "f", "f", "f"]})
    >>> poststratify(df, strata="sex", population={"m": 50, "f": 60}).tolist()
    [50.0, 20.0, 20.0, 20.0]
    """
    cols = _as_columns(strata)
    w = _initial_weights(data, weights, "poststratify")
    codes, labels = _codes_for(data, cols, None, "poststratify")
    pop = _population_map(population, cols, "poststratify")
    new, _ = _poststratify_step(w, codes, labels, pop, "poststratify", partial=partial)
    return pd.Series(new, index=data.index, name="weight")


def rake(
    data: pd.DataFrame,
    *,
    margins: Mapping[str, Any],
    weights: str | None = None,
    max_iter: int = 50,
    tol: float = 1.0,
) -> pd.Series:
    """Rake weights to population margins by iterative proportional fitting.

    Parameters
    ----------
    data : DataFrame
        One row per case; every margin column must be complete.
    margins : dict
        ``{column: totals}`` where ``totals`` maps each category to its population count (dict or
        Series). All margins must add up to the same population total.
    weights : str, optional
        Column of design weights (default: all 1).
    max_iter : int
        Maximum number of sweeps over the margins (R's ``control$maxit``; R's default is 10).
    tol : float
        Convergence tolerance as R's ``control$epsilon``: stop when no cell of the weighted
        cross-classification of all margin variables changes by more than ``tol`` during a sweep;
        a ``tol`` below 1 is taken as a fraction of the total weight.

    Returns
    -------
    Series
        Raked weights aligned with ``data``, named ``"weight"``.

    Raises
    ------
    DataError
        A margin category has no sample cases, the sample has a category the margin does not list,
        or the margins disagree on the total.
    ConvergenceError
        No convergence within ``max_iter`` sweeps (the message names the iterations).

    Notes
    -----
    Each sweep post-stratifies on every margin in turn: ``w_i <- w_i * N_{m,c} / sum_{j in c} w_j``.
    To get raking-adjusted standard errors use :meth:`SurveyDesign.rake`, which keeps the calibration
    in the design as R does.

    References
    ----------
    Deming, W. E. and Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. *Ann. Math. Statist.* 11, 427-444.
    R ``survey::rake``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["m", "f", "f", "m"], "old": [0, 0, 1, 1]})
    >>> rake(df, margins={"sex": {"m": 40, "f": 60}, "old": {0: 70, 1: 30}}).round(2).tolist()
    [28.0, 42.0, 18.0, 12.0]
    """
    w = _initial_weights(data, weights, "rake")
    new, _, _ = _rake_arrays(data, w, margins, None, max_iter, tol)
    return pd.Series(new, index=data.index, name="weight")


def trim_weights(
    weights_or_data: pd.Series | pd.DataFrame | Sequence[float] | np.ndarray,
    *,
    lower: float | None = None,
    upper: float | None = None,
    strict: bool = False,
    weights: str | None = None,
) -> pd.Series:
    """Trim weights to ``[lower, upper]`` and share the trimmed weight among the others.

    Parameters
    ----------
    weights_or_data : Series, array or DataFrame
        The weights, or a DataFrame together with ``weights=`` naming the column.
    lower, upper : float, optional
        Bounds (default: no bound).
    strict : bool
        Repeat until no weight is outside the bounds (redistribution can push weights past ``upper``),
        as R's ``strict=TRUE``.
    weights : str, optional
        The weight column when a DataFrame is given.

    Returns
    -------
    Series
        Trimmed weights (same index), named ``"weight"``; their sum equals the original sum.

    Notes
    -----
    ``w' = min(max(w, lower), upper)``; then ``sum(w - w') / m`` is added to each of the ``m``
    weights that were inside the bounds.

    References
    ----------
    R ``survey::trimWeights``.

    Examples
    --------
    >>> trim_weights([1.0, 2.0, 3.0, 10.0], upper=5).round(4).tolist()
    [2.6667, 3.6667, 4.6667, 5.0]
    """
    if isinstance(weights_or_data, pd.DataFrame):
        if weights is None:
            raise ParameterError(
                "trim_weights: a DataFrame was given; name its weight column with `weights=`."
            )
        series = pd.Series(
            _initial_weights(weights_or_data, weights, "trim_weights"), index=weights_or_data.index
        )
    else:
        series = (
            pd.Series(weights_or_data, dtype=float)
            if not isinstance(weights_or_data, pd.Series)
            else weights_or_data.astype(float)
        )
        if series.isna().any():
            raise DataError("trim_weights: the weights have missing values; fill or drop them.")
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if lo > hi:
        raise ParameterError(f"trim_weights: `lower` ({lo:g}) must not exceed `upper` ({hi:g}).")
    pw = series.to_numpy(dtype=float).copy()
    for _ in range(1000):
        outside = (pw < lo) | (pw > hi)
        if not outside.any():
            break
        if outside.all():
            raise DataError(
                "trim_weights: every weight is outside [lower, upper], so the trimmed weight "
                "cannot be redistributed; widen the bounds."
            )
        new = np.clip(pw, lo, hi)
        trimmed = float((pw - new).sum())
        new[~outside] += trimmed / int((~outside).sum())
        pw = new
        if not strict:
            break
    else:  # pragma: no cover - strict trimming always terminates in practice
        raise ConvergenceError("trim_weights: strict trimming did not settle in 1000 rounds.")
    return pd.Series(pw, index=series.index, name="weight")


def kish_effective_n(weights: pd.Series | Sequence[float] | np.ndarray) -> float:
    """Kish's effective sample size of a set of weights.

    Parameters
    ----------
    weights : Series or array
        Non-negative weights.

    Returns
    -------
    float
        ``(sum w)^2 / sum w^2``; equals the number of cases when all weights are equal.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley, section 11.7.

    Examples
    --------
    >>> round(kish_effective_n([1, 1, 2, 4]), 4)
    2.9091
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or np.isnan(w).any() or (w < 0).any():
        raise DataError(
            "kish_effective_n: weights must be a non-empty set of non-negative numbers without "
            "missing values."
        )
    denom = float(np.sum(w * w))
    if denom == 0:
        raise DataError("kish_effective_n: all weights are zero.")
    return float(np.sum(w)) ** 2 / denom
