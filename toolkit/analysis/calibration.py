"""Calibration steps shared by :mod:`toolkit.analysis.weighting` (the weights) and
:mod:`toolkit.analysis.design` (their standard errors): post-stratification and raking on arrays,
and the records of each step that R's ``survey`` package keeps (``postStrata``).

Not part of the public API: use :func:`~toolkit.analysis.weighting.rake`,
:func:`~toolkit.analysis.weighting.poststratify` or :meth:`SurveyDesign.rake
<toolkit.analysis.design.SurveyDesign.rake>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_range
from toolkit.errors import ConvergenceError, DataError, ParameterError

__all__ = [
    "PostStratum",
    "Raking",
    "as_columns",
    "codes_for",
    "initial_weights",
    "norm_key",
    "population_map",
    "poststratify_step",
    "rake_arrays",
]

FloatArray = np.ndarray[Any, Any]  # bincount and friends are typed loosely by numpy
IntArray = np.ndarray[Any, Any]


# ------------------------------------------------------------------------------------------------
# records of a calibration (what design.py needs for standard errors)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostStratum:
    """One post-stratification step, as R's ``postStrata`` entry (index + weights attributes).

    ``codes`` is the stratum of each row (-1 for rows outside the design), ``oldw`` the weights before
    the step and ``neww`` after it.
    """

    codes: IntArray
    oldw: FloatArray
    neww: FloatArray


@dataclass(frozen=True)
class Raking:
    """A raking: the post-stratification steps of the final sweep (R's ``"raking"`` class)."""

    margins: tuple[PostStratum, ...]


def initial_weights(data: pd.DataFrame, weights: str | None, where: str) -> FloatArray:
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


def codes_for(
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


def population_map(population: Any, columns: Sequence[str], where: str) -> dict[Any, float]:
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


def poststratify_step(
    w: FloatArray,
    codes: IntArray,
    labels: list[Any],
    pop: dict[Any, float],
    where: str,
    partial: bool = False,
) -> tuple[FloatArray, PostStratum]:
    """One ``postStratify`` step: returns new weights and the record for the variance."""
    inside = codes >= 0
    sample = np.bincount(codes[inside], weights=w[inside], minlength=len(labels))
    normalised = {norm_key(k): v for k, v in pop.items()}
    missing = [lab for lab in labels if norm_key(lab) not in normalised]
    if missing:
        raise DataError(
            f"{where}: the sample has categor{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(repr(m) for m in missing[:10])} that the population totals do not list; "
            "add their totals (0 if they truly have no population) or recode the data."
        )
    present = {norm_key(lab) for lab, s in zip(labels, sample, strict=True) if s > 0}
    absent = [k for k, v in pop.items() if v > 0 and norm_key(k) not in present]
    if absent and not partial:
        raise DataError(
            f"{where}: population categor{'y' if len(absent) == 1 else 'ies'} "
            f"{', '.join(repr(a) for a in absent[:10])} ha{'s' if len(absent) == 1 else 've'} no "
            "sample cases (or only zero weights), so their total cannot be reached; merge them with "
            "a neighbouring category (or pass partial=True to ignore them)."
        )
    totals = np.array([normalised[norm_key(lab)] for lab in labels], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sample > 0, totals / sample, 0.0)
    if np.isnan(totals).any() or (totals < 0).any():
        raise DataError(f"{where}: population totals must be non-negative numbers.")
    new = w.copy()
    new[inside] = w[inside] * factor[codes[inside]]
    return new, PostStratum(codes=codes, oldw=w, neww=new)


def norm_key(key: Any) -> Any:
    """Make numpy scalars and Python scalars compare and hash alike."""
    if isinstance(key, tuple):
        return tuple(norm_key(k) for k in key)
    if isinstance(key, np.generic):
        return key.item()
    return key


def rake_arrays(
    data: pd.DataFrame,
    w: FloatArray,
    margins: Mapping[str, Any],
    rows: np.ndarray | None,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, Raking, int]:
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
        codes, labels = codes_for(data, [column], rows, f"{where}, margin `{column}`")
        pop = population_map(totals, [column], f"{where}, margin `{column}`")
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
    records: list[PostStratum] = []
    delta = np.inf
    for sweep in range(1, max_iter + 1):
        records = []
        for column, codes, labels, pop in coded:
            current, rec = poststratify_step(
                current, codes, labels, pop, f"{where}, margin `{column}`"
            )
            records.append(rec)
        new = table(current)
        delta = float(np.max(np.abs(old - new))) if len(new) else 0.0
        if delta < eps:
            return current, Raking(margins=tuple(records)), sweep
        old = new
    raise ConvergenceError(
        f"{where}: the weights did not converge after {max_iter} iterations (the weighted "
        f"cross-table still changed by {delta:.4g} in the last sweep; tol is {eps:.4g}). Check the "
        "margins for sparse or empty cells, or raise `max_iter` / `tol`."
    )


def as_columns(strata: str | Sequence[str]) -> list[str]:
    if isinstance(strata, str):
        return [strata]
    cols = list(strata)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ParameterError(f"`strata` must be a column name or a list of names; got {strata!r}.")
    return cols


# ------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------
