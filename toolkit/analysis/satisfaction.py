"""Satisfaction on evaluation ballots (评议会测评表): rates, decision rules and a 0-100 index.

A ballot column holds one answer per ballot: the codes of ``docs/evaluation-ballot.md``
(``satisfied``, ``basically_satisfied``, ``dissatisfied``, ``dont_know``), the Chinese labels
(满意, 基本满意, 不满意, 不了解), the English labels, or a pandas Categorical of any of these.
Blanks (NaN, None, empty strings) are unanswered. Other values need ``levels=``, a dict naming the
values of each class::

    levels = {"strict": ["很满意", "满意"], "broad": ["基本满意"],
              "dissatisfied": ["不满意", "很不满意"], "excluded": ["不了解"]}

``"broad"`` lists the values counted in the broad rate besides the strict ones (listing the strict
values again is allowed). An unknown value is a :class:`~toolkit.errors.DataError` naming the
column and the value.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_option, check_range, did_you_mean
from toolkit.analysis.proportions import PROPORTION_METHODS, proportion_ci
from toolkit.errors import DataError, ParameterError

__all__ = [
    "DENOMINATORS",
    "VERDICT_RULES",
    "evaluation_verdict",
    "satisfaction_index",
    "satisfaction_rates",
    "satisfaction_rates_from_counts",
]

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


def _as_list(name: str, value: str | Sequence[str] | None) -> list[str]:
    """``items``/``by`` as a list of column names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        out = list(value)
    except TypeError:
        raise ParameterError(
            f"`{name}` must be a column name or a list of column names; got {value!r}."
        ) from None
    if len(set(out)) != len(out):
        raise ParameterError(f"`{name}` names a column twice: {out!r}.")
    return out


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


# ---------------------------------------------------------------------------------------------
# satisfaction_rates
# ---------------------------------------------------------------------------------------------


def _members_per_group(
    members: Any,
    denominator: str,
    by: list[str],
    keys: list[tuple[Any, ...]],
    sizes: np.ndarray,
) -> np.ndarray | None:
    """Members per group for ``denominator="members"`` (else None)."""
    if denominator != "members":
        if members is not None:
            raise ParameterError(
                "`members` is used only with denominator='members'; got denominator="
                f"{denominator!r}. Drop `members` or pass denominator='members'."
            )
        return None
    if members is None:
        raise ParameterError(
            "denominator='members' needs `members`, the number of members of the evaluating body "
            "(an int, or a dict group -> int when `by` is given), e.g. members=31."
        )
    out = np.empty(len(keys), dtype=np.int64)
    if isinstance(members, Mapping):
        for i, key in enumerate(keys):
            lookup = key[0] if len(key) == 1 else key
            if lookup not in members:
                raise ParameterError(
                    f"`members` has no entry for group {lookup!r}; it must give the number of "
                    f"members of every group of `by` ({', '.join(repr(k) for k in keys[:10])})."
                )
            out[i] = _member_count(f"members[{lookup!r}]", members[lookup])
    else:
        if by:
            raise ParameterError(
                "with `by`, `members` must be a dict group -> number of members (each group has "
                f"its own body); got {members!r}."
            )
        out[:] = _member_count("members", members)
    too_many = sizes > out
    if too_many.any():
        i = int(np.flatnonzero(too_many)[0])
        where = f"group {keys[i]!r}: " if by else ""
        raise DataError(
            f"{where}{int(sizes[i])} ballots returned but only {int(out[i])} members; check "
            "`members` (it counts the members of the evaluating body, every ballot is one member)."
        )
    return out


def _member_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"`{name}` must be a whole number of members; got {value!r}.")
    check_range(name, int(value), low=1)
    return int(value)


def satisfaction_rates(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
    levels: Mapping[str, Sequence[Any]] | None = None,
    denominator: str = "valid",
    members: int | Mapping[Any, int] | None = None,
    weights: str | None = None,
) -> pd.DataFrame:
    r"""Strict, broad and dissatisfaction rates of ballot items, with confidence intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per returned ballot.
    items : str or list of str
        The ballot columns to rate (each holds codes, Chinese labels or a Categorical).
    by : str or list of str, optional
        Grouping columns (rater role, building band...). Missing group labels form their own
        group; groups are listed in sorted order (category order for a
        Categorical).
    method : {"wilson", "exact", "agresti-coull", "jeffreys", "wald"}
        Interval method, see :func:`toolkit.analysis.proportions.proportion_ci`.
    confidence : float
        Confidence level of the intervals.
    levels : dict, optional
        How to read the values (see the module documentation). Default: codes, Chinese and
        English labels.
    denominator : {"valid", "all", "members"}
        ``"valid"`` (default): answers other than 不了解 and blanks; ``"all"``: every returned
        ballot (row of the group); ``"members"``: the number of members of the evaluating body.
    members : int or dict, optional
        Members for ``denominator="members"``: an int, or with ``by`` a dict group -> int (keys
        are tuples when ``by`` names several columns).
    weights : str, optional
        Column of **frequency weights** (whole numbers: a row of weight 3 counts as three
        ballots), for tables of identical ballots; the result equals that of the expanded rows.
        Sampling weights are not frequencies: use
        :meth:`toolkit.analysis.design.SurveyDesign.proportion`.

    Returns
    -------
    pandas.DataFrame
        One row per item x group x measure, in that order: ``item``, the ``by`` columns,
        ``measure`` (``"strict"``, ``"broad"``, ``"dissatisfied"``), ``denominator``, ``count``,
        ``n``, ``estimate``, ``ci_low``, ``ci_high``, ``method``, ``confidence``. A group with
        ``n == 0`` (an item nobody answered) has NaN estimate and bounds.

    Notes
    -----
    With :math:`S, B, D, K, E` the numbers of 满意, 基本满意, 不满意, 不了解 and blank answers in
    a group of :math:`N` ballots:

    - strict rate :math:`S/n`, broad rate (满意率) :math:`(S + B)/n`, dissatisfaction rate
      :math:`D/n`;
    - :math:`n = S + B + D` for ``"valid"``, :math:`n = N` for ``"all"``, :math:`n = M`
      (members) for ``"members"``.

    References
    ----------
    Counting rules: the evaluation results sheets of the three-meeting system (see
    ``docs/domain.md``). Intervals: Brown, Cai & DasGupta (2001), R ``prop.test``,
    ``binom.test``.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import satisfaction_rates
    >>> ballots = pd.DataFrame({"attitude": ["满意"] * 12 + ["基本满意"] * 6 + ["不满意"] * 2
    ...                                     + ["不了解"] * 4})
    >>> out = satisfaction_rates(ballots, items="attitude")
    >>> out[["measure", "count", "n", "estimate", "ci_low", "ci_high"]].round(4)
            measure  count   n  estimate  ci_low  ci_high
    0        strict     12  20       0.6  0.3866   0.7812
    1         broad     18  20       0.9  0.6990   0.9721
    2  dissatisfied      2  20       0.1  0.0279   0.3010
    """
    data = _check_frame(data)
    check_option("denominator", denominator, DENOMINATORS)
    check_option("method", method, PROPORTION_METHODS)
    item_list, by_list = _items_and_groups(data, items, by)
    mapping = _level_map(levels)
    groups, keys = _group_index(data, by_list)
    freq = None
    if weights is not None:
        check_columns(data, [weights])
        freq = _count_weights(data, weights).astype(float)
    sizes = np.bincount(groups, weights=freq, minlength=len(keys)).astype(np.int64)
    member_n = _members_per_group(members, denominator, by_list, keys, sizes)

    counts: list[np.ndarray] = []
    for item in item_list:
        classes = _classify(data[item], item, mapping)
        counts.append(_class_counts(classes, groups, len(keys), freq))
    table = np.stack(counts)  # items x groups x classes
    return _rates_frame(
        table, sizes, member_n, keys, item_list, by_list, denominator, method, confidence
    )


def _rates_frame(
    table: np.ndarray,
    sizes: np.ndarray,
    member_n: np.ndarray | None,
    keys: list[tuple[Any, ...]],
    item_list: list[str],
    by_list: list[str],
    denominator: str,
    method: str,
    confidence: float,
) -> pd.DataFrame:
    """The tidy rates of an items x groups x classes table of counts (satisfaction_rates)."""
    numer = np.stack(
        [
            table[..., _STRICT],
            table[..., _STRICT] + table[..., _BASIC],
            table[..., _DISSATISFIED],
        ],
        axis=-1,
    )  # items x groups x measures
    if denominator == "valid":
        denom = table[..., _STRICT] + table[..., _BASIC] + table[..., _DISSATISFIED]
    elif denominator == "all":
        denom = np.broadcast_to(sizes, table.shape[:2])
    else:
        assert member_n is not None
        denom = np.broadcast_to(member_n, table.shape[:2])
    denom3 = np.broadcast_to(denom[..., None], numer.shape)
    ci = proportion_ci(numer.ravel(), denom3.ravel(), method=method, confidence=confidence)

    n_items, n_groups, n_measures = numer.shape
    out = pd.DataFrame({"item": np.repeat(item_list, n_groups * n_measures)})
    for j, col in enumerate(by_list):
        values = [key[j] for key in keys]
        out[col] = np.tile(np.repeat(np.array(values, dtype=object), n_measures), n_items)
        out[col] = out[col].infer_objects()
    out["measure"] = np.tile(MEASURES, n_items * n_groups)
    out["denominator"] = denominator
    for col in ("count", "n", "estimate", "ci_low", "ci_high", "method", "confidence"):
        out[col] = ci[col].to_numpy()
    return out


def _count_weights(counts: pd.DataFrame, column: str) -> np.ndarray:
    """The ``count`` column as whole non-negative numbers (int64), or a DataError."""
    series = counts[column]
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    ):
        raise DataError(f"column `{column}` must hold counts (whole numbers); got {series.dtype}.")
    values = series.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) | (values < 0) | (values != np.floor(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column `{column}`, row {counts.index[i]!r}: {series.iloc[i]!r} is not a count "
            "(a whole number >= 0)."
        )
    return values.astype(np.int64)


def satisfaction_rates_from_counts(
    counts: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
    levels: Mapping[str, Sequence[Any]] | None = None,
    denominator: str = "valid",
    members: int | Mapping[Any, int] | None = None,
    item_column: str = "variable",
    value_column: str = "value",
    count_column: str = "count",
) -> pd.DataFrame:
    r""":func:`satisfaction_rates` from a table of answer counts instead of one row per ballot.

    The counts are what :meth:`toolkit.store.Store.rating_counts` computes inside the database (a
    city's million ballots become a few thousand rows), or a results sheet typed in: one row per
    group x item x answer value, with the number of ballots giving that answer. The result is
    exactly what :func:`satisfaction_rates` gives on the ballots themselves: same rows, columns,
    counts and intervals.

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns ``item_column`` (which ballot item), ``value_column`` (the answer: a code, a
        label, or missing for a blank) and ``count_column`` (how many ballots), plus the ``by``
        columns. Repeated rows are added up. Blanks (ballots that did not answer the item) must
        be counted too, as rows with a missing value, for ``denominator="all"`` and
        ``"members"``: every item's counts must then add up to the group's ballots.
    items : str or list of str
        The items to rate (values of ``item_column``), e.g. ``"wuye__overall"``.
    by : str or list of str, optional
        Grouping columns. The groups are those of every row of ``counts`` (of any item), sorted
        as :func:`satisfaction_rates` sorts them; missing labels form their own group, last.
    method, confidence, levels, denominator, members
        As in :func:`satisfaction_rates`.
    item_column, value_column, count_column : str
        The column names of ``counts``; the defaults are those of ``Store.rating_counts``.

    Returns
    -------
    pandas.DataFrame
        As :func:`satisfaction_rates`: one row per item x group x measure, ``item``, the ``by``
        columns, ``measure``, ``denominator``, ``count``, ``n``, ``estimate``, ``ci_low``,
        ``ci_high``, ``method``, ``confidence``.

    Notes
    -----
    With :math:`c_{giv}` the count of value :math:`v` of item :math:`i` in group :math:`g`,
    :math:`S_{gi} = \sum_{v \in \text{strict}} c_{giv}`, and likewise :math:`B, D, K, E`; the
    rates and intervals are then those of :func:`satisfaction_rates`, with
    :math:`N_g = \sum_v c_{giv}` the ballots of the group (the same for every item).

    References
    ----------
    As :func:`satisfaction_rates`; R ``prop.test`` and ``binom.test`` on the summed counts
    (``tests/reference/satisfaction_counts.R``).

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import satisfaction_rates_from_counts
    >>> counts = pd.DataFrame({"variable": "attitude",
    ...                        "value": ["满意", "基本满意", "不满意", "不了解"],
    ...                        "count": [12, 6, 2, 4]})
    >>> out = satisfaction_rates_from_counts(counts, items="attitude")
    >>> out[["measure", "count", "n", "estimate", "ci_low", "ci_high"]].round(4)
            measure  count   n  estimate  ci_low  ci_high
    0        strict     12  20       0.6  0.3866   0.7812
    1         broad     18  20       0.9  0.6990   0.9721
    2  dissatisfied      2  20       0.1  0.0279   0.3010
    """
    if not isinstance(counts, pd.DataFrame):
        raise ParameterError(
            "`counts` must be a pandas DataFrame (one row per group x item x value, with a count; "
            f"e.g. from Store.rating_counts); got {type(counts).__name__}."
        )
    check_option("denominator", denominator, DENOMINATORS)
    check_option("method", method, PROPORTION_METHODS)
    item_list = _as_list("items", items)
    if not item_list:
        raise ParameterError(f"`items` must name at least one item of column `{item_column}`.")
    by_list = _as_list("by", by)
    own = [item_column, value_column, count_column]
    if len(set(own)) != len(own):
        raise ParameterError(
            f"`item_column`, `value_column` and `count_column` must differ; got {own!r}."
        )
    check_columns(counts, own + by_list)
    clash = set(own) & set(by_list)
    if clash:
        raise ParameterError(
            f"`by` must not name the item, value or count columns; it names {sorted(clash)}."
        )
    mapping = _level_map(levels)
    weights = _count_weights(counts, count_column)
    groups, keys = _group_index(counts, by_list)
    names = counts[item_column].to_numpy(dtype=object)
    known = set(pd.unique(names))
    missing = [item for item in item_list if item not in known]
    if missing:
        hint = did_you_mean(str(missing[0]), [str(k) for k in known])
        raise DataError(
            f"`items` names {missing[0]!r}, which column `{item_column}` of `counts` does not "
            f"hold.{hint}"
        )
    tables: list[np.ndarray] = []
    for item in item_list:
        rows = np.flatnonzero(names == item)
        classes = _classify(counts[value_column].iloc[rows], item, mapping)
        flat = groups[rows] * _N_CLASSES + classes.astype(np.int64)
        table = np.bincount(flat, weights=weights[rows], minlength=len(keys) * _N_CLASSES)
        tables.append(np.rint(table).astype(np.int64).reshape(len(keys), _N_CLASSES))
    table = np.stack(tables)  # items x groups x classes
    totals = table.sum(axis=2)  # items x groups: the ballots of each group, item by item
    sizes = totals.max(axis=0)
    if denominator != "valid":
        uneven = np.argwhere(totals != sizes)
        if len(uneven):
            i, g = (int(x) for x in uneven[0])
            where = f" in group {keys[g]!r}" if by_list else ""
            raise DataError(
                f"the counts of item {item_list[i]!r} add up to {int(totals[i, g])}{where}, but "
                f"another item's to {int(sizes[g])}; denominator={denominator!r} needs every "
                "ballot counted under every item. Count blanks as rows with a missing value "
                "(Store.rating_counts does), or use denominator='valid'."
            )
    member_n = _members_per_group(members, denominator, by_list, keys, sizes)
    return _rates_frame(
        table, sizes, member_n, keys, item_list, by_list, denominator, method, confidence
    )


# ---------------------------------------------------------------------------------------------
# evaluation_verdict
# ---------------------------------------------------------------------------------------------

_COUNT_COLUMNS: tuple[str, ...] = tuple(f"count_{c}" for c in _CLASS_CODES)
_VERDICT_ZH: tuple[str, ...] = ("满意", "基本满意", "不满意")
TIE = "并列"
RECTIFY = "整改"
PASS = "通过"


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


def evaluation_verdict(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    rule: str = "majority_of_members",
    members: int | str | Mapping[str, int] | None = None,
    bands: tuple[float, float] = (80, 60),
    k: int = 1,
    points: Mapping[str, float] | None = None,
    levels: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    r"""Apply a decision rule of the evaluation meeting (评议会) to each ballot item.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per returned ballot.
    items : str or list of str
        The ballot columns to judge.
    rule : {"majority_of_members", "plurality", "score_bands", "bottom_k"}
        The decision rule (see Notes). The rule applied is recorded in the ``rule`` column.
    members : int, "returned" or dict, optional
        Number of members of the evaluating body, required by ``"majority_of_members"``: an int,
        a dict item -> int, or the string ``"returned"`` to declare explicitly that every member
        returned a ballot (members = number of rows).
    bands : (float, float)
        ``(high, low)`` score bands of ``"score_bands"`` on 0-100 points: score >= high is 满意,
        low <= score < high is 基本满意, below low is 不满意.
    k : int
        Number of items flagged for rectification by ``"bottom_k"``.
    points : dict, optional
        Points of each level for ``"score_bands"`` (keys ``satisfied``, ``basically_satisfied``,
        ``dissatisfied`` or 满意, 基本满意, 不满意); default 100 / 60 / 0. Numeric columns are
        taken as scores on 0-100 directly.
    levels : dict, optional
        How to read the values (see the module documentation).

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item``, ``rule``, ``verdict``, ``ballots`` (rows), ``valid`` (answers
        other than 不了解 and blank), the counts ``count_satisfied``,
        ``count_basically_satisfied``, ``count_dissatisfied``, ``count_dont_know``,
        ``count_blank``, then the figures of the rule:

        - majority_of_members: ``members``, ``threshold`` (1/2), ``strict_share`` (S/M),
          ``broad_share`` ((S+B)/M);
        - plurality: ``tied_levels`` (the tied levels, "满意, 基本满意", or None);
        - score_bands: ``score`` (mean points of the valid answers), ``band_high``,
          ``band_low``; counts are missing (<NA>) for numeric score columns;
        - bottom_k: ``estimate``, ``ci_low``, ``ci_high`` (broad rate over valid answers,
          Wilson 95 %), ``method``, ``confidence``, ``rank`` (1 = lowest, ties share the lowest
          rank), ``k``;

        and ``note`` (ties at the cut, no valid answers; None otherwise).

    Notes
    -----
    Verdicts (``verdict`` column) with :math:`S, B, D` the 满意, 基本满意, 不满意 counts and
    :math:`M` the members:

    - majority_of_members: 满意 if :math:`S/M > 1/2`, else 基本满意 if :math:`(S+B)/M > 1/2`,
      else 不满意. "More than half" (过半数) excludes exactly half; the tests use exact fractions
      (:class:`fractions.Fraction`), never floats.
    - plurality: the most frequent of 满意, 基本满意, 不满意 among the valid answers; a tie is the
      verdict 并列 with the tied levels in ``tied_levels``; no valid answer gives None.
    - score_bands: mean points :math:`\bar s` of the valid answers; 满意 if
      :math:`\bar s \ge` high, 基本满意 if low :math:`\le \bar s <` high, else 不满意 (exact
      comparisons for level data; numeric scores are summed with :func:`math.fsum`).
    - bottom_k: the items with the k lowest broad rates :math:`(S+B)/(S+B+D)` get 整改
      (rectify), the others 通过 (pass). Items tied with the k-th lowest rate are all flagged and
      the tie is noted. Items nobody answered are not ranked (verdict None). With 16-50 raters
      the intervals are wide: look at ``ci_low``/``ci_high`` before publishing a ranking.

    References
    ----------
    The decision rules of the evaluation meetings, ``docs/domain.md``; 过半数 (more than
    half, exclusive) as in 民法典 Art. 278.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import evaluation_verdict
    >>> ballots = pd.DataFrame({"overall": ["满意"] * 15 + ["基本满意"] * 10 + ["不满意"] * 5})
    >>> out = evaluation_verdict(ballots, items="overall", members=30)
    >>> out[["item", "verdict", "count_satisfied", "members", "strict_share", "broad_share"]]
          item verdict  count_satisfied  members  strict_share  broad_share
    0  overall    基本满意               15       30           0.5     0.833333
    """
    data = _check_frame(data)
    check_option("rule", rule, VERDICT_RULES)
    item_list = _as_list("items", items)
    if not item_list:
        raise ParameterError("`items` must name at least one column of `data`.")
    check_columns(data, item_list)
    if rule != "majority_of_members" and members is not None:
        raise ParameterError(
            f"`members` is used only by rule='majority_of_members'; got rule={rule!r}. "
            "Drop `members`."
        )
    mapping = _level_map(levels)
    ballots = len(data)
    zeros = np.zeros(len(data), dtype=np.int64)

    counts: list[np.ndarray | None] = []
    numeric: list[np.ndarray | None] = []
    for item in item_list:
        series = data[item]
        if rule == "score_bands" and _is_numeric_scores(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            values = values[~np.isnan(values)]
            bad = values[(values < 0) | (values > 100)]
            if bad.size:
                raise DataError(
                    f"column `{item}`: score {bad[0]:g} is outside 0-100; score bands need "
                    "scores on 0-100 points (rescale first, e.g. 10 x a 0-10 score)."
                )
            counts.append(None)
            numeric.append(values)
        else:
            classes = _classify(series, item, mapping)
            counts.append(_class_counts(classes, zeros, 1)[0])
            numeric.append(None)

    rows: list[dict[str, Any]] = []
    for item, c in zip(item_list, counts, strict=True):
        row: dict[str, Any] = {"item": item, "rule": rule, "verdict": None, "ballots": ballots}
        if c is not None:
            row["valid"] = int(c[_STRICT] + c[_BASIC] + c[_DISSATISFIED])
            for name, value in zip(_COUNT_COLUMNS, c, strict=True):
                row[name] = int(value)
        else:
            row["valid"] = None
            for name in _COUNT_COLUMNS:
                row[name] = pd.NA
        rows.append(row)

    if rule == "majority_of_members":
        _majority(rows, counts, item_list, members, ballots)
    elif rule == "plurality":
        _plurality(rows, counts)
    elif rule == "score_bands":
        _score_bands(rows, counts, numeric, bands, points)
    else:
        _bottom_k(rows, counts, k)

    out = pd.DataFrame(rows)
    if rule == "score_bands":
        for name in _COUNT_COLUMNS:
            out[name] = out[name].astype("Int64")
        out["valid"] = out["valid"].astype("int64")
    if "note" not in out:
        out["note"] = None
    return out


def _majority(
    rows: list[dict[str, Any]],
    counts: list[np.ndarray | None],
    items: list[str],
    members: Any,
    ballots: int,
) -> None:
    if members is None:
        raise ParameterError(
            "rule='majority_of_members' needs `members`, the number of members of the evaluating "
            "body (more than half of all members, not of the ballots returned): pass e.g. "
            "members=31, a dict item -> members, or members='returned' if every member returned "
            "a ballot."
        )
    half = Fraction(1, 2)
    for item, row, c in zip(items, rows, counts, strict=True):
        assert c is not None
        if isinstance(members, str):
            check_option("members", members, ("returned",))
            m = ballots
        elif isinstance(members, Mapping):
            if item not in members:
                raise ParameterError(
                    f"`members` has no entry for item {item!r}; give every item of `items`."
                )
            m = _member_count(f"members[{item!r}]", members[item])
        else:
            m = _member_count("members", members)
        if ballots > m:
            raise DataError(
                f"{ballots} ballots returned but only {m} members; check `members` (every "
                "ballot is one member of the evaluating body)."
            )
        if m == 0:
            raise DataError(
                "no ballots were returned and members='returned': there is nothing to judge."
            )
        strict = Fraction(int(c[_STRICT]), m)
        broad = Fraction(int(c[_STRICT] + c[_BASIC]), m)
        if strict > half:
            verdict = _VERDICT_ZH[0]
        elif broad > half:
            verdict = _VERDICT_ZH[1]
        else:
            verdict = _VERDICT_ZH[2]
        row.update(
            verdict=verdict,
            members=m,
            threshold=float(half),
            strict_share=float(strict),
            broad_share=float(broad),
        )


def _plurality(rows: list[dict[str, Any]], counts: list[np.ndarray | None]) -> None:
    for row, c in zip(rows, counts, strict=True):
        assert c is not None
        valid = c[:3]
        tied: str | None = None
        note: str | None = None
        if valid.sum() == 0:
            verdict = None
            note = "no valid answers"
        else:
            top = np.flatnonzero(valid == valid.max())
            if len(top) == 1:
                verdict = _VERDICT_ZH[int(top[0])]
            else:
                verdict = TIE
                tied = ", ".join(_VERDICT_ZH[int(i)] for i in top)
                note = f"tie between {tied} ({int(valid.max())} each)"
        row.update(verdict=verdict, tied_levels=tied, note=note)


def _score_bands(
    rows: list[dict[str, Any]],
    counts: list[np.ndarray | None],
    numeric: list[np.ndarray | None],
    bands: Any,
    points: Mapping[str, float] | None,
) -> None:
    try:
        high, low = (float(b) for b in bands)
    except (TypeError, ValueError):
        raise ParameterError(f"`bands` must be two numbers (high, low); got {bands!r}.") from None
    check_range("bands[0]", high, low=0, high=100)
    check_range("bands[1]", low, low=0, high=100)
    if not low < high:
        raise ParameterError(f"`bands` must be (high, low) with high > low; got {bands!r}.")
    pts = _points_of_classes(points)
    frac_pts = [Fraction(float(p)) for p in pts]
    f_high, f_low = Fraction(high), Fraction(low)
    for row, c, values in zip(rows, counts, numeric, strict=True):
        if c is not None:
            n = int(c[:3].sum())
            total = sum((frac_pts[i] * int(c[i]) for i in range(3)), Fraction(0))
        else:
            assert values is not None
            n = int(values.size)
            row["valid"] = n
            total = Fraction(math.fsum(values.tolist()))
        row.update(score=np.nan, band_high=high, band_low=low, note=None)
        if n == 0:
            row["note"] = "no valid answers"
            continue
        score = total / n
        if score >= f_high:
            verdict = _VERDICT_ZH[0]
        elif score >= f_low:
            verdict = _VERDICT_ZH[1]
        else:
            verdict = _VERDICT_ZH[2]
        row.update(verdict=verdict, score=float(score))


def _bottom_k(rows: list[dict[str, Any]], counts: list[np.ndarray | None], k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ParameterError(f"`k` must be a whole number of items; got {k!r}.")
    check_range("k", int(k), low=1, high=len(rows))
    strict_broad = np.array(
        [[c[_STRICT] + c[_BASIC], c[:3].sum()] for c in counts if c is not None]
    )
    ci = proportion_ci(strict_broad[:, 0], strict_broad[:, 1], method="wilson")
    rates: list[Fraction | None] = [
        Fraction(int(a), int(n)) if n > 0 else None for a, n in strict_broad
    ]
    ranked = sorted(r for r in rates if r is not None)
    cut = ranked[min(k, len(ranked)) - 1] if ranked else None
    n_at_cut = sum(1 for r in rates if r is not None and r == cut)
    n_below = sum(1 for r in rates if r is not None and cut is not None and r < cut)
    for i, row in enumerate(rows):
        rate = rates[i]
        row.update(
            estimate=ci["estimate"].iloc[i],
            ci_low=ci["ci_low"].iloc[i],
            ci_high=ci["ci_high"].iloc[i],
            method="wilson",
            confidence=0.95,
            rank=np.nan,
            k=int(k),
            note=None,
        )
        if rate is None:
            row["note"] = "no valid answers; not ranked"
            continue
        row["rank"] = 1 + sum(1 for r in ranked if r < rate)
        assert cut is not None
        flagged = rate <= cut
        row["verdict"] = RECTIFY if flagged else PASS
        if rate == cut and n_below + n_at_cut > k:
            row["note"] = (
                f"tie at the cut: {n_at_cut} items share the broad rate {float(cut):.4g}, so "
                f"{n_below + n_at_cut} items are flagged for k={int(k)}"
            )


# ---------------------------------------------------------------------------------------------
# satisfaction_index
# ---------------------------------------------------------------------------------------------

INDEX_METHODS: tuple[str, ...] = ("analytic", "bootstrap")


def _item_weights(weights: Any, items: list[str]) -> np.ndarray:
    if weights is None:
        return np.ones(len(items))
    if isinstance(weights, Mapping):
        extra = [w for w in weights if w not in items]
        if extra:
            hint = did_you_mean(str(extra[0]), items)
            raise ParameterError(f"`weights` names {extra[0]!r}, which is not in `items`.{hint}")
        missing = [i for i in items if i not in weights]
        if missing:
            raise ParameterError(f"`weights` must give a weight for every item; missing {missing}.")
        w = np.array([weights[i] for i in items], dtype=float)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != len(items):
            raise ParameterError(
                f"`weights` must have one weight per item ({len(items)}); got {w.size}."
            )
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ParameterError(
            f"`weights` must be non-negative numbers with a positive sum; got {w.tolist()}."
        )
    return w


def _item_points(
    series: pd.Series, item: str, points: Any, mapping: Mapping[Any, int]
) -> np.ndarray:
    """Points on 0-100 per row (NaN for don't know and blanks)."""
    numeric = _is_numeric_scores(series)
    scale = points is not None and not isinstance(points, Mapping)
    if numeric:
        if not scale:
            raise ParameterError(
                f"column `{item}` holds numbers: pass `points=(low, high)`, the ends of its scale "
                "(e.g. points=(0, 10)), to rescale it to 0-100."
            )
        low, high = _scale_range("points", points)
        x = series.to_numpy(dtype=float, na_value=np.nan)
        outside = (x < low) | (x > high)
        if outside.any():
            raise DataError(
                f"column `{item}`: value {x[outside][0]:g} is outside the scale "
                f"{low:g}-{high:g} given by `points`."
            )
        return 100.0 * (x - low) / (high - low)
    if scale:
        raise ParameterError(
            f"column `{item}` holds levels, not numbers: `points` must be a dict level -> points "
            "(or None for 100 / 60 / 0); a (low, high) scale applies to numeric columns."
        )
    pts = np.append(_points_of_classes(points), [np.nan, np.nan])  # excluded, blank
    return pts[_classify(series, item, mapping)]


def _scale_range(name: str, value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"`{name}` must be two numbers (low, high); got {value!r}.") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ParameterError(f"`{name}` must be (low, high) with low < high; got {value!r}.")
    return low, high


def satisfaction_index(
    data: pd.DataFrame,
    *,
    items: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    points: Mapping[str, float] | tuple[float, float] | None = None,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    method: str = "analytic",
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    levels: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    r"""A 0-100 satisfaction index: per-respondent weighted points, averaged, with an interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per returned ballot (respondent).
    items : str or list of str
        Ballot columns in the index.
    by : str or list of str, optional
        Grouping columns (community, rater role): one index per group, each with its own
        interval (and its own bootstrap, from the same ``seed``). Missing group labels form their
        own group; groups are listed in sorted order.
    points : dict or (low, high), optional
        For level columns, a dict level -> points on 0-100 (keys ``satisfied``,
        ``basically_satisfied``, ``dissatisfied`` or the Chinese labels); default 100 / 60 / 0
        (``docs/evaluation-ballot.md``). For numeric columns, the ends of the scale
        ``(low, high)``, rescaled linearly: :math:`100 (x - low) / (high - low)`.
    weights : dict item -> weight or list, optional
        **Item weights** (non-negative; how much each item counts in a respondent's index), not
        case weights; default equal.
    method : {"analytic", "bootstrap"}
        ``"analytic"``: t interval of the mean; ``"bootstrap"``: percentile interval of
        ``n_boot`` resamples of respondents drawn with ``numpy.random.default_rng(seed)``.
    confidence : float
        Confidence level.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap (the result is reproducible).
    levels : dict, optional
        How to read level values (see the module documentation).

    Returns
    -------
    pandas.DataFrame
        One row (per group, after the ``by`` columns): ``n`` (respondents with at least one
        scored item), ``n_items``, ``estimate``
        (mean index), ``sd`` (of the respondent indices), ``se``, ``ci_low``, ``ci_high``,
        ``method``, ``confidence``. With no scored respondent every figure is NaN.

    Notes
    -----
    Respondent :math:`i`'s index is :math:`I_i = \sum_{j \in A_i} w_j s_{ij} / \sum_{j \in A_i}
    w_j` over the items :math:`A_i` they answered (不了解 and blanks are skipped, the weights of
    the answered items renormalised). The index is :math:`\bar I`, with analytic interval
    :math:`\bar I \pm t_{n-1, 1-\alpha/2}\, s_I/\sqrt n` (R ``t.test``) and bootstrap standard
    error the sd of the resampled means.

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). *An Introduction to the Bootstrap*, ch. 13 (percentile
    interval). R: ``t.test``.

    Examples
    --------
    >>> import pandas as pd
    >>> from toolkit.analysis.satisfaction import satisfaction_index
    >>> ballots = pd.DataFrame({"attitude": ["满意", "基本满意", "满意", "不满意"],
    ...                         "results": ["满意", "满意", "基本满意", "不了解"]})
    >>> satisfaction_index(ballots, items=["attitude", "results"])[["n", "estimate"]]
       n  estimate
    0  4      65.0
    >>> ballots["role"] = ["居民", "居民", "党员", "党员"]
    >>> satisfaction_index(ballots, items=["attitude", "results"], by="role")[
    ...     ["role", "n", "estimate"]]
      role  n  estimate
    0   党员  2      40.0
    1   居民  2      90.0
    """
    data = _check_frame(data)
    check_option("method", method, INDEX_METHODS)
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)):
        raise ParameterError(f"`n_boot` must be a whole number; got {n_boot!r}.")
    check_range("n_boot", int(n_boot), low=100)
    item_list, by_list = _items_and_groups(data, items, by)
    w = _item_weights(weights, item_list)
    mapping = _level_map(levels)
    scores = np.column_stack(
        [_item_points(data[item], item, points, mapping) for item in item_list]
    ).reshape(len(data), len(item_list))
    answered = ~np.isnan(scores)
    wsum = answered @ w
    keep = wsum > 0
    index = np.where(answered, scores, 0.0)[keep] @ w / wsum[keep]
    groups, keys = _group_index(data, by_list)
    rows = []
    for g, key in enumerate(keys):
        values = index[groups[keep] == g]
        row = dict(zip(by_list, key, strict=True))
        row.update(_index_row(values, method, confidence, int(n_boot), seed))
        rows.append({**row, "n_items": len(item_list)})
    order = [*by_list, "n", "n_items", "estimate", "sd", "se", "ci_low", "ci_high", "method"]
    return pd.DataFrame(rows)[[*order, "confidence"]]


def _index_row(
    index: np.ndarray, method: str, confidence: float, n_boot: int, seed: int
) -> dict[str, Any]:
    """n, mean, sd, se and interval of the respondent indices of one group."""
    n = int(index.size)
    alpha = 1.0 - confidence
    mean = float(index.mean()) if n else np.nan
    sd = float(index.std(ddof=1)) if n > 1 else np.nan
    if method == "analytic":
        se = sd / math.sqrt(n) if n > 1 else np.nan
        if n > 1:
            tq = float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))
            low, high = mean - tq * se, mean + tq * se
        else:
            low = high = np.nan
    elif n > 1:
        boot = _bootstrap_means(index, n_boot, seed)
        se = float(boot.std(ddof=1))
        low, high = (float(q) for q in np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0]))
    else:
        se = low = high = np.nan
    return {
        "n": n,
        "estimate": mean,
        "sd": sd,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "method": method,
        "confidence": float(confidence),
    }


def _bootstrap_means(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = values.size
    out = np.empty(n_boot)
    chunk = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return out
