"""The units x raters frame that the agreement and concordance measures share: its checks and
its integer codes.

A frame has one row per rated unit and one column per rater; a cell holds that rater's rating,
missing where the rater did not rate the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import DataError

__all__ = ["check_frame", "complete_units", "rating_codes"]


def check_frame(data: Any, function: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{function}: `data` must be a units x raters pandas DataFrame; got "
            f"{type(data).__name__}."
        )
    if data.shape[1] < 2:
        raise DataError(
            f"{function}: `data` has {data.shape[1]} rater column; agreement needs at least 2 "
            "raters (one column per rater, one row per rated unit)."
        )
    return data


def rating_codes(
    data: pd.DataFrame, levels: Sequence[Any] | None, *, numeric: bool, function: str
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Integer codes (units x raters, -1 missing), numeric value per code, and the labels.

    Codes follow the order of the values: numeric order, categorical order, ``levels`` order, or
    sorted strings. ``numeric`` demands numeric values (interval and ratio measures).
    """
    dtypes = list(data.dtypes)
    all_numeric = all(
        pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in dtypes
    )
    if levels is None and all_numeric:
        x = data.to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(x)
        vals = x[ok]
        codes = np.full(x.shape, -1, dtype=np.int64)
        if vals.size == 0:
            return codes, np.empty(0), []
        lo, hi = vals.min(), vals.max()
        if np.all(vals == np.round(vals)) and hi - lo <= 1_000_000:
            shifted = (vals - lo).astype(np.int64)
            present = np.bincount(shifted) > 0
            remap = np.cumsum(present) - 1
            codes[ok] = remap[shifted]
            uniq = np.flatnonzero(present) + lo
        else:
            uniq, inverse = np.unique(vals, return_inverse=True)
            codes[ok] = inverse
        return codes, uniq.astype(float), list(uniq)
    if numeric and not all_numeric:
        bad = [
            str(c)
            for c, d in zip(data.columns, dtypes, strict=True)
            if not pd.api.types.is_numeric_dtype(d)
        ]
        raise DataError(
            f"{function}: interval and ratio measures need numeric ratings; the rater columns "
            f"{', '.join(bad[:5])} are not all numeric. Recode the labels to numbers or use "
            "level='nominal' or 'ordinal'."
        )
    if levels is None:
        cats = [d.categories for d in dtypes if isinstance(d, pd.CategoricalDtype)]
        ordered = [d for d in dtypes if isinstance(d, pd.CategoricalDtype) and d.ordered]
        if ordered:
            first = list(ordered[0].categories)
            if any(list(d.categories) != first for d in ordered[1:]):
                raise DataError(
                    f"{function}: the rater columns are ordered Categoricals with different "
                    "categories; give every rater the same categories or pass `levels`."
                )
            levels = first
        elif cats:
            union = {v for c in cats for v in c}
            levels = _sorted(union | set(data.stack(future_stack=True).dropna()))
    flat = data.stack(future_stack=True)  # keeps missing cells, units x raters order
    if levels is None:
        levels = _sorted(set(flat.dropna()))
    labels = list(levels)
    unknown = sorted({str(v) for v in flat.dropna() if v not in set(labels)})
    if unknown:
        raise DataError(
            f"{function}: ratings {', '.join(unknown[:5])} are not in `levels` "
            f"({', '.join(map(str, labels))}); add them to `levels` or recode them."
        )
    cat = pd.Categorical(flat.to_numpy(dtype=object), categories=labels)
    codes = np.asarray(cat.codes, dtype=np.int64).reshape(data.shape)
    # numeric levels keep their values; labels get their position 0, 1, 2, ... (nominal and
    # ordinal measures use only the order)
    try:
        values = np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        values = np.arange(len(labels), dtype=float)
    return codes, values, labels


def _sorted(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def complete_units(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """The units every rater rated (codes >= 0 in every column), and how many were left out."""
    complete = (codes >= 0).all(axis=1)
    return codes[complete], int((~complete).sum())
