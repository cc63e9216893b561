r"""Hearing (听证会) analysis: positions per option, how they split, consensus, concerns, consent.

A hearing collects the panel's position on each option of a plan (支持 / 有条件支持 / 反对, or
还没想好), their concerns, how strongly they are affected and, for residents of the building, their
floor band. For an elevator, low floors and high floors disagree; these functions say how much.

- :func:`position_shares`: the share of each position per option, with intervals (denominator: the
  panel members who answered the option, undecided included).
- :func:`position_crosstab` and :func:`position_association`: positions by a grouping (how strongly
  affected, floor band), Pearson's chi-square test and Cramér's V.
- :func:`position_consensus`: Tastle and Wierman's consensus and van der Eijk's agreement *A*.
- :func:`concern_frequency` and :func:`concern_cooccurrence`: the concerns, alone and in pairs.
- :func:`~toolkit.analysis.hearing_consent.consent_gap` (its own module): for an elevator, which
  owners would still be needed to reach each consent rule's threshold.

Examples
--------
>>> import pandas as pd
>>> levels = ["support", "conditional", "oppose", "dont_know"]
>>> data = pd.DataFrame({"option_1": pd.Categorical(
...     ["support"] * 6 + ["oppose"] * 3 + ["dont_know"], categories=levels, ordered=True)})
>>> position_shares(data, items=["option_1"])[["level", "count", "n"]].values.tolist()
[['support', 6, 10], ['conditional', 0, 10], ['oppose', 3, 10], ['dont_know', 1, 10]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns
from toolkit.analysis.proportions import proportion_ci
from toolkit.errors import DataError, ParameterError

__all__ = [
    "concern_cooccurrence",
    "concern_frequency",
    "position_association",
    "position_consensus",
    "position_crosstab",
    "position_shares",
    "tastle_wierman_consensus",
    "van_der_eijk_agreement",
]

#: The hearing form's code for 还没想好 (undecided).
DONT_KNOW = "dont_know"


def _levels(column: pd.Series, name: str) -> list[Any]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    values = sorted(column.dropna().unique().tolist(), key=str)
    if not values:
        raise DataError(f"column `{name}` has no answers; pick an option the panel answered.")
    return values


def position_shares(
    data: pd.DataFrame,
    *,
    items: Sequence[str],
    confidence: float = 0.95,
    method: str = "wilson",
) -> pd.DataFrame:
    """The share of each position per option, with confidence intervals.

    Parameters
    ----------
    data : DataFrame
        Hearing ballots, one row each (``store.responses(meeting)``); each item a categorical
        column of positions.
    items : sequence of str
        The option columns (``option_1``, ``option_2``, ...).
    confidence : float
    method : str
        Interval method of :func:`~toolkit.analysis.proportion_ci` (Wilson by default).

    Returns
    -------
    DataFrame
        ``item, level, count, n, estimate, ci_low, ci_high, method, confidence, denominator``: one
        row per option and position (every level of the scale, undecided included), ``n`` the
        ballots that answered the option.

    Notes
    -----
    The Wilson score interval :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n +
    z^2/4n^2}}{1 + z^2/n}` (R ``prop.test(x, n, correct = FALSE)$conf.int``; checked in
    ``tests/reference/hearing.R``).

    Examples
    --------
    >>> data = pd.DataFrame({"option_1": ["support"] * 3 + ["oppose"]})
    >>> position_shares(data, items=["option_1"])["estimate"].tolist()
    [0.25, 0.75]
    """
    check_columns(data, items)
    rows = []
    for item in items:
        column = data[item]
        levels = _levels(column, item)
        answered = column.dropna()
        n = len(answered)
        counts = [int((answered == level).sum()) for level in levels]
        ci = proportion_ci(counts, [n] * len(levels), method=method, confidence=confidence)
        ci.insert(0, "level", levels)
        ci.insert(0, "item", item)
        rows.append(ci)
    result = pd.concat(rows, ignore_index=True)
    result["denominator"] = "answered"
    return result


def _pair(data: pd.DataFrame, item: str, by: str, dont_know: bool) -> pd.DataFrame:
    check_columns(data, [item, by])
    frame = data[[item, by]].dropna()
    if not dont_know:
        frame = frame[frame[item].astype(object) != DONT_KNOW]
    return frame


def position_crosstab(
    data: pd.DataFrame, *, item: str, by: str, dont_know: bool = False
) -> pd.DataFrame:
    """Positions on one option by a grouping (``affected``, ``floor_band``): counts and row shares.

    Parameters
    ----------
    data : DataFrame
    item : str
        The option column.
    by : str
        The grouping column.
    dont_know : bool
        Keep undecided answers as a position (default: leave them out, as the test does).

    Returns
    -------
    DataFrame
        ``<by>, level, count, n, estimate``: ``n`` the group's ballots, ``estimate`` = count / n.

    Examples
    --------
    >>> data = pd.DataFrame({"o": ["support", "oppose", "support"], "f": ["1-3", "1-3", "7+"]})
    >>> position_crosstab(data, item="o", by="f")["count"].tolist()
    [1, 1, 0, 1]
    """
    frame = _pair(data, item, by, dont_know)
    levels = [v for v in _levels(data[item], item) if dont_know or v != DONT_KNOW]
    groups = _levels(data[by], by)
    table = pd.crosstab(
        pd.Categorical(frame[by].astype(object), categories=groups),
        pd.Categorical(frame[item].astype(object), categories=levels),
        dropna=False,
    )
    long = table.stack().reset_index()
    long.columns = [by, "level", "count"]
    long["count"] = long["count"].astype("int64")
    long["n"] = long.groupby(by, observed=False)["count"].transform("sum").astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        long["estimate"] = long["count"] / long["n"].where(long["n"] > 0)
    long[by] = long[by].astype(object)
    long["level"] = long["level"].astype(object)
    return long


def position_association(
    data: pd.DataFrame, *, item: str, by: str, dont_know: bool = False
) -> pd.DataFrame:
    r"""Do positions on an option differ by group? Pearson's chi-square test and Cramér's V.

    Parameters
    ----------
    data : DataFrame
    item, by : str
        The option column and the grouping column (``affected``, ``floor_band``).
    dont_know : bool
        Count undecided answers as a position (default: leave them out).

    Returns
    -------
    DataFrame
        One row: ``item, by, n, statistic`` (Pearson's :math:`X^2`, no continuity correction),
        ``df, p_value, effect_size`` (Cramér's V), ``effect_size_name``, ``min_expected`` (the
        smallest expected count; below 5 the chi-square approximation is rough) and
        ``fisher_p_value`` (Fisher's exact test, for 2×2 tables only; NaN otherwise).
        Empty rows and columns are dropped before the test.

    Notes
    -----
    :math:`X^2 = \sum_{ij} (O_{ij} - E_{ij})^2 / E_{ij}` with :math:`E_{ij} = O_{i+}O_{+j}/n`,
    :math:`df = (r-1)(c-1)`; Cramér's :math:`V = \sqrt{X^2 / (n \min(r-1, c-1))}`. As R's
    ``chisq.test(table, correct = FALSE)`` and ``vcd::assocstats(table)`` (checked in
    ``tests/reference/hearing.R``); Agresti (2013), *Categorical Data Analysis*, 3rd ed., §2.4, 3.1.

    Examples
    --------
    >>> data = pd.DataFrame({"o": ["support"] * 8 + ["oppose"] * 8,
    ...                      "f": ["7+"] * 6 + ["1-3"] * 2 + ["7+"] * 2 + ["1-3"] * 6})
    >>> row = position_association(data, item="o", by="f").iloc[0]
    >>> round(float(row["statistic"]), 4), int(row["df"]), round(float(row["effect_size"]), 4)
    (4.0, 1, 0.5)
    """
    frame = _pair(data, item, by, dont_know)
    table = pd.crosstab(frame[by].astype(object), frame[item].astype(object))
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    n = int(table.to_numpy().sum())
    result: dict[str, Any] = {"item": item, "by": by, "n": n}
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise DataError(
            f"positions on `{item}` by `{by}` form a {table.shape[0]}×{table.shape[1]} table "
            "after dropping empty rows and columns; the test needs at least two groups and two "
            "positions. Pick another option or grouping."
        )
    observed = table.to_numpy(dtype=float)
    chi2, p_value, df, expected = stats.chi2_contingency(observed, correction=False)
    k = min(observed.shape) - 1
    result.update(
        statistic=float(chi2),
        df=int(df),
        p_value=float(p_value),
        effect_size=math.sqrt(chi2 / (n * k)),
        effect_size_name="cramers_v",
        min_expected=float(expected.min()),
        fisher_p_value=(
            float(stats.fisher_exact(observed.astype(int)).pvalue)
            if observed.shape == (2, 2)
            else float("nan")
        ),
        method="pearson_chisq",
    )
    return pd.DataFrame([result])


def _frequencies(counts: Iterable[float], name: str) -> np.ndarray:
    array = np.asarray(list(counts), dtype=float)
    if array.ndim != 1 or len(array) < 2 or (array < 0).any() or array.sum() <= 0:
        raise ParameterError(
            f"`{name}` must be counts of at least two ordered categories, not all zero and none "
            f"negative; got {array.tolist()}."
        )
    return array


def tastle_wierman_consensus(counts: Iterable[float]) -> float:
    r"""Tastle and Wierman's consensus of an ordinal distribution given as counts.

    .. math:: \mathrm{Cns} = 1 + \sum_{i=1}^{k} p_i \log_2\left(1 - \frac{|X_i - \mu_X|}{d_X}\right)

    with categories :math:`X_i = 1..k`, shares :math:`p_i`, mean :math:`\mu_X = \sum p_i X_i` and
    width :math:`d_X = k - 1`. 1 when everyone gives the same answer, 0 when the panel is split
    evenly between the two extremes. Tastle, W. J. & Wierman, M. J. (2007), Consensus and
    dissention: a measure of ordinal dispersion, *International Journal of Approximate Reasoning*
    45(3), 531–545; R ``agrmt::consensus``.

    Examples
    --------
    >>> round(tastle_wierman_consensus([30, 40, 210, 130, 530, 50, 10]), 7)  # agrmt's example
    0.7256876
    >>> tastle_wierman_consensus([5, 0, 5]), tastle_wierman_consensus([0, 9, 0])
    (0.0, 1.0)
    """
    f = _frequencies(counts, "counts")
    p = f / f.sum()
    x = np.arange(1, len(f) + 1, dtype=float)
    mu = float((p * x).sum())
    width = len(f) - 1
    inside = 1 - np.abs(x - mu) / width
    mask = p > 0
    return float(1 + (p[mask] * np.log2(inside[mask])).sum())


def _layer_agreement(pattern: np.ndarray) -> float:
    k = len(pattern)
    s = int(pattern.sum())
    tu = tdu = 0
    for i, j, m in itertools.combinations(range(k), 3):
        triple = (pattern[i], pattern[j], pattern[m])
        if triple in ((1, 1, 0), (0, 1, 1)):
            tu += 1
        elif triple == (1, 0, 1):
            tdu += 1
    if tu + tdu == 0:
        return 1 - (s - 1) / (k - 1)
    unimodality = ((k - 2) * tu - (k - 1) * tdu) / ((k - 2) * (tu + tdu))
    return unimodality * (1 - (s - 1) / (k - 1))


def van_der_eijk_agreement(counts: Iterable[float]) -> float:
    r"""Van der Eijk's agreement *A* of an ordinal distribution given as counts.

    The distribution is split into layers: repeatedly, every category still holding cases loses
    the smallest such count :math:`m`; the layer is the 0/1 pattern of those categories, with
    weight :math:`w = m \cdot S / N` (:math:`S` categories in the pattern, :math:`N` cases). Each
    layer's agreement is

    .. math:: A_\ell = U \left(1 - \frac{S - 1}{K - 1}\right), \qquad
              U = \frac{(K-2)\,TU - (K-1)\,TDU}{(K-2)(TU + TDU)}

    with :math:`TU` the triples of categories patterned 110 or 011 and :math:`TDU` those patterned
    101 (:math:`U = 1` when there are none), and :math:`A = \sum_\ell w_\ell A_\ell`. 1 means
    everyone in one category, 0 a uniform spread, −1 an even split between the two extremes.
    Van der Eijk, C. (2001), Measuring agreement in ordered rating scales, *Quality and Quantity*
    35(3), 325–341; R ``agrmt::agreement``.

    Examples
    --------
    >>> round(van_der_eijk_agreement([30, 40, 210, 130, 530, 50, 10]), 7)  # agrmt's example
    0.6113333
    >>> van_der_eijk_agreement([5, 0, 5]), van_der_eijk_agreement([3, 3, 3])
    (-1.0, 0.0)
    """
    f = _frequencies(counts, "counts")
    if len(f) < 3:
        raise ParameterError(f"agreement A needs at least three categories; got {len(f)}.")
    total = f.sum()
    remaining = f.copy()
    value = 0.0
    while (remaining > 0).any():
        pattern = (remaining > 0).astype(int)
        m = remaining[remaining > 0].min()
        weight = m * pattern.sum() / total
        value += weight * _layer_agreement(pattern)
        remaining = np.where(remaining > 0, remaining - m, 0.0)
        remaining[np.isclose(remaining, 0)] = 0.0
    return float(value)


def position_consensus(
    data: pd.DataFrame, *, items: Sequence[str], levels: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Consensus of the panel's positions on each option (undecided answers left out).

    Parameters
    ----------
    data : DataFrame
    items : sequence of str
        Option columns.
    levels : sequence, optional
        The ordered positions (default: the column's categories without ``dont_know``, e.g.
        支持 > 有条件支持 > 反对).

    Returns
    -------
    DataFrame
        ``item, measure, n, estimate`` with measure ``tastle_wierman`` (0 split .. 1 unanimous)
        and ``van_der_eijk_a`` (−1 polarised .. 1 unanimous); see
        :func:`tastle_wierman_consensus` and :func:`van_der_eijk_agreement`.

    Examples
    --------
    >>> data = pd.DataFrame({"o": ["support"] * 5 + ["oppose"] * 5})
    >>> position_consensus(data, items=["o"], levels=["support", "conditional", "oppose"])[
    ...     "estimate"].tolist()
    [0.0, -1.0]
    """
    check_columns(data, items)
    rows = []
    for item in items:
        scale = (
            list(levels)
            if levels is not None
            else [v for v in _levels(data[item], item) if v != DONT_KNOW]
        )
        answered = data[item].dropna().astype(object)
        answered = answered[answered != DONT_KNOW]
        unknown = sorted(set(answered) - set(scale), key=str)
        if unknown:
            raise DataError(
                f"column `{item}` has positions {unknown} that are not in `levels` {scale}; "
                "list every position in order."
            )
        counts = [int((answered == level).sum()) for level in scale]
        n = int(sum(counts))
        for measure, function in (
            ("tastle_wierman", tastle_wierman_consensus),
            ("van_der_eijk_a", van_der_eijk_agreement),
        ):
            estimate = function(counts) if n else float("nan")
            rows.append({"item": item, "measure": measure, "n": n, "estimate": estimate})
    return pd.DataFrame(rows)


def _indicators(data: pd.DataFrame, question: str, exclude: Sequence[str]) -> pd.DataFrame:
    prefix = f"{question}__"
    columns = [c for c in data.columns if str(c).startswith(prefix)]
    columns = [c for c in columns if str(c)[len(prefix) :] not in exclude]
    if not columns:
        raise DataError(
            f"no indicator columns `{prefix}<code>` in the data; pass the response table of a "
            "hearing (store.responses(meeting)), whose multiple-choice answers are 0/1 columns."
        )
    frame = data[columns]
    answered = frame.notna().all(axis=1)
    frame = frame[answered].astype("int64")
    frame.columns = [str(c)[len(prefix) :] for c in frame.columns]
    return frame


def concern_frequency(
    data: pd.DataFrame,
    *,
    question: str = "concerns",
    exclude: Sequence[str] = ("none",),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """How many of the panel raised each concern, with Wilson intervals.

    Parameters
    ----------
    data : DataFrame
        Ballots with 0/1 columns ``<question>__<code>``.
    question : str
    exclude : sequence of str
        Codes that are not concerns (``none``).
    confidence : float

    Returns
    -------
    DataFrame
        ``level, count, n, estimate, ci_low, ci_high, method, confidence``, most frequent first;
        ``n`` = ballots that answered the question.

    Examples
    --------
    >>> data = pd.DataFrame({"concerns__cost": [1, 1, 0], "concerns__noise": [0, 1, 0]})
    >>> concern_frequency(data)[["level", "count", "n"]].values.tolist()
    [['cost', 2, 3], ['noise', 1, 3]]
    """
    frame = _indicators(data, question, exclude)
    counts = frame.sum(axis=0)
    ci = proportion_ci(counts.to_numpy(), [len(frame)] * len(counts), confidence=confidence)
    ci.insert(0, "level", list(counts.index))
    return ci.sort_values(["count", "level"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def concern_cooccurrence(
    data: pd.DataFrame, *, question: str = "concerns", exclude: Sequence[str] = ("none",)
) -> pd.DataFrame:
    """Pairs of concerns raised together: counts, shares and their association.

    Returns
    -------
    DataFrame
        One row per pair (``level``, ``level_other``): ``count`` (ballots with both), ``n``
        (ballots that answered), ``estimate`` (count / n) and ``effect_size`` — the phi
        coefficient of the two 0/1 indicators (Pearson's correlation; R ``cor(x, y)``), NaN when
        one concern was raised by everyone or no one. Pairs sorted by count, largest first.

    Examples
    --------
    >>> data = pd.DataFrame({"concerns__cost": [1, 1, 0, 0], "concerns__noise": [1, 1, 0, 1]})
    >>> row = concern_cooccurrence(data).iloc[0]
    >>> int(row["count"]), round(float(row["effect_size"]), 4)
    (2, 0.5774)
    """
    frame = _indicators(data, question, exclude)
    rows = []
    matrix = frame.to_numpy()
    for a, b in itertools.combinations(range(frame.shape[1]), 2):
        x, y = matrix[:, a], matrix[:, b]
        both = int((x & y).sum())
        phi = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
        rows.append(
            {
                "level": frame.columns[a],
                "level_other": frame.columns[b],
                "count": both,
                "n": len(frame),
                "estimate": both / len(frame) if len(frame) else float("nan"),
                "effect_size": phi,
                "effect_size_name": "phi",
            }
        )
    result = pd.DataFrame(
        rows,
        columns=[
            "level",
            "level_other",
            "count",
            "n",
            "estimate",
            "effect_size",
            "effect_size_name",
        ],
    )
    return result.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
