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

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, did_you_mean
from toolkit.analysis.proportions import PROPORTION_METHODS, proportion_ci
from toolkit.analysis.satisfaction_indexes import INDEX_METHODS as INDEX_METHODS
from toolkit.analysis.satisfaction_indexes import satisfaction_index
from toolkit.analysis.satisfaction_levels import (
    _BASIC,
    _DISSATISFIED,
    _N_CLASSES,
    _STRICT,
    DENOMINATORS,
    MEASURES,
    VERDICT_RULES,
    _as_list,
    _check_frame,
    _class_counts,
    _classify,
    _group_index,
    _items_and_groups,
    _level_map,
    _member_count,
)
from toolkit.analysis.satisfaction_levels import DEFAULT_POINTS as DEFAULT_POINTS
from toolkit.analysis.satisfaction_levels import _is_blank as _is_blank
from toolkit.analysis.satisfaction_levels import _norm as _norm
from toolkit.analysis.satisfaction_verdicts import PASS as PASS
from toolkit.analysis.satisfaction_verdicts import RECTIFY as RECTIFY
from toolkit.analysis.satisfaction_verdicts import TIE as TIE
from toolkit.analysis.satisfaction_verdicts import evaluation_verdict
from toolkit.errors import DataError, ParameterError

__all__ = [
    "DENOMINATORS",
    "VERDICT_RULES",
    "evaluation_verdict",
    "satisfaction_index",
    "satisfaction_rates",
    "satisfaction_rates_from_counts",
]

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
