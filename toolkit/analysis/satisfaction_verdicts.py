"""The decision rules of an evaluation meeting: :func:`evaluation_verdict`.

Split from :mod:`toolkit.analysis.satisfaction` (which re-exports it; its module docstring describes
the accepted ballot values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range
from toolkit.analysis.proportions import proportion_ci
from toolkit.analysis.satisfaction_levels import (
    _BASIC,
    _CLASS_CODES,
    _DISSATISFIED,
    _STRICT,
    _VERDICT_ZH,
    VERDICT_RULES,
    _as_list,
    _check_frame,
    _class_counts,
    _classify,
    _is_numeric_scores,
    _level_map,
    _member_count,
    _points_of_classes,
)
from toolkit.errors import DataError, ParameterError

__all__ = ["evaluation_verdict"]

# ---------------------------------------------------------------------------------------------
# evaluation_verdict
# ---------------------------------------------------------------------------------------------

_COUNT_COLUMNS: tuple[str, ...] = tuple(f"count_{c}" for c in _CLASS_CODES)
TIE = "并列"
RECTIFY = "整改"
PASS = "通过"


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
