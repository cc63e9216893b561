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
from typing import Any

import numpy as np
import pandas as pd

from toolkit.analysis.calibration import (
    as_columns,
    codes_for,
    initial_weights,
    population_map,
    poststratify_step,
    rake_arrays,
)
from toolkit.errors import ConvergenceError, DataError, ParameterError

__all__ = ["kish_effective_n", "poststratify", "rake", "trim_weights"]


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
    cols = as_columns(strata)
    w = initial_weights(data, weights, "poststratify")
    codes, labels = codes_for(data, cols, None, "poststratify")
    pop = population_map(population, cols, "poststratify")
    new, _ = poststratify_step(w, codes, labels, pop, "poststratify", partial=partial)
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
    w = initial_weights(data, weights, "rake")
    new, _, _ = rake_arrays(data, w, margins, None, max_iter, tol)
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
            initial_weights(weights_or_data, weights, "trim_weights"), index=weights_or_data.index
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
