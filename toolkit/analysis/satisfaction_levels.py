"""Reading evaluation ballots: the level classes, the default and declared value mappings, and the
group and count tables the satisfaction statistics share.

Split from :mod:`toolkit.analysis.satisfaction` (which re-exports the public names; its module
docstring describes the accepted ballot values and ``levels=``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_range, did_you_mean
from toolkit._checks import column_list as _as_list
from toolkit.errors import DataError, ParameterError

__all__ = ["DEFAULT_POINTS", "DENOMINATORS", "MEASURES", "VERDICT_RULES"]

DENOMINATORS: tuple[str, ...] = ("valid", "all", "members")
VERDICT_RULES: tuple[str, ...] = ("majority_of_members", "plurality", "score_bands", "bottom_k")
MEASURES: tuple[str, ...] = ("strict", "broad", "dissatisfied")

#: Default points of the levels (``docs/evaluation-ballot.md``).
DEFAULT_POINTS: dict[str, float] = {
    "satisfied": 100.0,
    "basically_satisfied": 60.0,
    "dissatisfied": 0.0,
}

# The level classes every ballot value is read into.
_STRICT = 0  # 满意 satisfied
_BASIC = 1  # 基本满意 basically satisfied (counted in the broad rate only)
_DISSATISFIED = 2  # 不满意
_EXCLUDED = 3  # 不了解 don't know (and any value the caller declares "excluded")
_BLANK = 4  # missing / empty
_N_CLASSES = 5

_CLASS_CODES: tuple[str, ...] = (
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "dont_know",
    "blank",
)

#: The values understood without ``levels=``: the ballot codes of ``docs/evaluation-ballot.md``,
#: the Chinese labels and the English labels.
_DEFAULT_LEVELS: dict[str, list[Any]] = {
    "strict": ["satisfied", "满意", "Satisfied"],
    "broad": ["basically_satisfied", "基本满意", "Basically satisfied"],
    "dissatisfied": ["dissatisfied", "不满意", "Dissatisfied"],
    "excluded": ["dont_know", "不了解", "Don't know"],
}
_LEVEL_KEYS: tuple[str, ...] = ("strict", "broad", "dissatisfied", "excluded")

_VERDICT_ZH: tuple[str, ...] = ("满意", "基本满意", "不满意")


def _check_frame(data: Any) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"`data` must be a pandas DataFrame (one row per ballot); got {type(data).__name__}."
        )
    return data


def _items_and_groups(
    data: pd.DataFrame, items: str | Sequence[str], by: str | Sequence[str] | None
) -> tuple[list[str], list[str]]:
    item_list = _as_list("items", items)
    if not item_list:
        raise ParameterError("`items` must name at least one column of `data`.")
    by_list = _as_list("by", by)
    check_columns(data, item_list + by_list)
    clash = set(item_list) & set(by_list)
    if clash:
        raise ParameterError(f"`items` and `by` must not share columns; both name {sorted(clash)}.")
    return item_list, by_list


def _level_map(levels: Mapping[str, Sequence[Any]] | None) -> dict[Any, int]:
    """Value -> class for the default or a declared mapping.

    ``levels`` has keys among ``"strict"``, ``"broad"``, ``"dissatisfied"``, ``"excluded"``; each
    value is a list of the values of that class. ``"broad"`` lists the values counted in the broad
    rate; the strict values are always counted there too, so listing them again is allowed.
    """
    if levels is None:
        levels = _DEFAULT_LEVELS
    if not isinstance(levels, Mapping):
        raise ParameterError(
            "`levels` must be a dict such as {'strict': ['满意'], 'broad': ['基本满意'], "
            f"'dissatisfied': ['不满意'], 'excluded': ['不了解']}}; got {levels!r}."
        )
    unknown = [k for k in levels if k not in _LEVEL_KEYS]
    if unknown:
        hint = did_you_mean(str(unknown[0]), _LEVEL_KEYS)
        raise ParameterError(
            f"`levels` has unknown key {unknown[0]!r}; the keys are "
            f"{', '.join(repr(k) for k in _LEVEL_KEYS)}.{hint}"
        )
    if not levels.get("strict"):
        raise ParameterError("`levels` must list at least one value under 'strict' (满意).")
    mapping: dict[Any, int] = {}
    strict_values = [_norm(v) for v in _values(levels, "strict")]
    for key, cls in (("strict", _STRICT), ("broad", _BASIC), ("dissatisfied", _DISSATISFIED)):
        for raw in _values(levels, key):
            value = _norm(raw)
            if key == "broad" and value in strict_values:
                continue  # strict values are counted in the broad rate anyway
            _assign(mapping, value, cls, key)
    for raw in _values(levels, "excluded"):
        _assign(mapping, _norm(raw), _EXCLUDED, "excluded")
    return mapping


def _values(levels: Mapping[str, Sequence[Any]], key: str) -> list[Any]:
    value = levels.get(key) or []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        value = [value]
    return list(value)


def _assign(mapping: dict[Any, int], value: Any, cls: int, key: str) -> None:
    if _is_blank(value):
        raise ParameterError(
            f"`levels`[{key!r}] lists a blank value; blanks are always treated as unanswered."
        )
    if value in mapping and mapping[value] != cls:
        raise ParameterError(
            f"`levels` puts {value!r} under two keys ({_LEVEL_KEYS[mapping[value]]!r} and "
            f"{key!r}); each value must belong to one."
        )
    mapping[value] = cls


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _classify(series: pd.Series, column: Hashable, mapping: Mapping[Any, int]) -> np.ndarray:
    """Read one ballot column into class codes (_STRICT ... _BLANK) as an int8 array.

    Raises :class:`DataError` naming the column and the first unknown value.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        cat_codes = np.array([_lookup(c, column, mapping) for c in cats] + [_BLANK], dtype=np.int8)
        codes = series.cat.codes.to_numpy()
        return cat_codes[np.where(codes < 0, len(cats), codes)]
    values, uniques = pd.factorize(series, use_na_sentinel=True)
    lut = np.array([_lookup(u, column, mapping) for u in uniques] + [_BLANK], dtype=np.int8)
    return lut[np.where(values < 0, len(uniques), values)]


def _lookup(value: Any, column: Hashable, mapping: Mapping[Any, int]) -> int:
    if _is_blank(value):
        return _BLANK
    key = _norm(value)
    try:
        return mapping[key]
    except (KeyError, TypeError):
        pass
    known = [str(k) for k in mapping]
    hint = did_you_mean(str(key), known) if isinstance(key, str) else ""
    raise DataError(
        f"column `{column}`: unknown value {key!r}; the known values are "
        f"{', '.join(repr(k) for k in mapping)}. Pass `levels=` (a dict with keys 'strict', "
        f"'broad', 'dissatisfied', 'excluded') to declare how to read it.{hint}"
    )


def _group_index(data: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Group number per row (sorted group order) and the group keys as tuples.

    Missing group labels form their own group (listed last), so no ballot is dropped silently.
    """
    if not by:
        return np.zeros(len(data), dtype=np.int64), [()]
    grouped = data.groupby(by, sort=True, dropna=False, observed=True)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    keys = list(grouped.size().index)
    tuples = [k if isinstance(k, tuple) else (k,) for k in keys]
    return codes, tuples


def _class_counts(
    classes: np.ndarray, groups: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """(n_groups, _N_CLASSES) table of counts (whole-number frequency weights: int64 sums)."""
    flat = groups * _N_CLASSES + classes.astype(np.int64)
    table = np.bincount(flat, weights=weights, minlength=n_groups * _N_CLASSES)
    return table.astype(np.int64).reshape(n_groups, _N_CLASSES)


def _member_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"`{name}` must be a whole number of members; got {value!r}.")
    check_range(name, int(value), low=1)
    return int(value)


def _is_numeric_scores(series: pd.Series) -> bool:
    return (
        not isinstance(series.dtype, pd.CategoricalDtype)
        and pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
    )


def _points_of_classes(points: Mapping[str, float] | None) -> np.ndarray:
    """Points of _STRICT, _BASIC, _DISSATISFIED from a dict keyed by codes or Chinese labels."""
    if points is None:
        points = DEFAULT_POINTS
    if not isinstance(points, Mapping):
        raise ParameterError(
            "`points` must be a dict level -> points such as {'satisfied': 100, "
            f"'basically_satisfied': 60, 'dissatisfied': 0}}; got {points!r}."
        )
    aliases = {**{c: i for i, c in enumerate(_CLASS_CODES[:3])}}
    aliases.update({z: i for i, z in enumerate(_VERDICT_ZH)})
    out = np.full(3, np.nan)
    for key, value in points.items():
        if key not in aliases:
            hint = did_you_mean(str(key), list(aliases))
            raise ParameterError(
                f"`points` has unknown level {key!r}; use 'satisfied', 'basically_satisfied', "
                f"'dissatisfied' (or 满意, 基本满意, 不满意).{hint}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ParameterError(f"`points`[{key!r}] must be a number; got {value!r}.")
        check_range(f"points[{key!r}]", float(value), low=0, high=100)
        out[aliases[key]] = float(value)
    if np.isnan(out).any():
        missing = [_CLASS_CODES[i] for i in range(3) if np.isnan(out[i])]
        raise ParameterError(f"`points` must give points for every level; missing {missing}.")
    return out
