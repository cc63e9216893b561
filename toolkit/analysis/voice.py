r"""Voice at a meeting: who speaks, for how long, how unequally, and who follows whom.

The input is the table of speaking turns (``Store.turns``): one row per turn with a speaker
``category`` (居民, 党员, 物业, 居委会, ...), an optional anonymous ``seat`` number and the turn's
length in ``seconds``. Open turns (no length yet) are left out of times.

- :func:`speaking_time`: turns and speaking time per category or per seat;
- :func:`voice_shares`: the share of residents against cadres and the evaluated party;
- :func:`gini`: the Gini coefficient of speaking time among speakers, with a bootstrap interval;
- :func:`lorenz_curve`: the points of the Lorenz curve;
- :func:`top_share`: the share of speaking time held by the top 10 % of speakers;
- :func:`turn_transitions`: who follows whom, as a transition table.

Everyone who attended but never spoke has a speaking time of 0: pass ``attendees`` to :func:`gini`,
:func:`lorenz_curve` and :func:`top_share` to count them, otherwise the measures describe the
speakers only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range
from toolkit.errors import DataError, ParameterError
from toolkit.instrument.speakers import SPEAKER_LABELS, VOICE_GROUPS

__all__ = [
    "gini",
    "lorenz_curve",
    "speaker_totals",
    "speaking_time",
    "top_share",
    "turn_transitions",
    "voice_shares",
]

_BY = ("category", "seat")


def _turns(data: Any, function: str, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{function}: `data` must be the turns table (a pandas DataFrame with "
            f"{', '.join(columns)}); got {type(data).__name__}."
        )
    check_columns(data, columns)
    seconds = pd.to_numeric(data["seconds"], errors="coerce") if "seconds" in data else None
    if seconds is not None and bool((seconds < 0).any()):
        raise DataError(f"{function}: `seconds` has negative turn lengths; check the clock.")
    return data


def speaking_time(data: pd.DataFrame, *, by: str = "category") -> pd.DataFrame:
    r"""Turns and speaking time per speaker category (or per seat).

    Parameters
    ----------
    data : DataFrame
        Turns: ``category`` or ``seat`` (the grouping column) and ``seconds`` (NaN for an open
        turn: counted as a turn, not in the time).
    by : {"category", "seat"}
        The grouping; turns without a seat number are left out with ``by="seat"``.

    Returns
    -------
    DataFrame
        One row per group, in the order of the recorder's categories (or by seat): the group
        column, ``count`` (turns), ``seconds`` (total), ``mean_seconds``, ``share_turns`` =
        :math:`t_g / \sum t`, ``share_time`` = :math:`s_g / \sum s`.

    References
    ----------
    The same totals as R's ``aggregate(seconds ~ category, data, sum)`` and ``table(category)``.

    Examples
    --------
    >>> turns = pd.DataFrame({"category": ["resident", "residents_committee", "resident"],
    ...                       "seconds": [60.0, 180.0, 60.0]})
    >>> speaking_time(turns)[["category", "count", "seconds", "share_time"]]
                  category  count  seconds  share_time
    0             resident      2    120.0         0.4
    1  residents_committee      1    180.0         0.6
    """
    check_option("by", by, _BY)
    data = _turns(data, "speaking_time", [by, "seconds"])
    frame = data[[by, "seconds"]].copy()
    frame = frame[frame[by].notna()]
    frame["seconds"] = pd.to_numeric(frame["seconds"], errors="coerce")
    grouped = frame.groupby(by, sort=False, observed=True)["seconds"]
    out = pd.DataFrame(
        {
            "count": grouped.size(),
            "seconds": grouped.sum(min_count=0),
            "timed": grouped.count(),
        }
    ).reset_index()
    if by == "category":
        order = {code: i for i, code in enumerate(SPEAKER_LABELS)}
        out = out.sort_values(by, key=lambda s: s.map(order).fillna(len(order)), kind="stable")
    else:
        out = out.sort_values(by, kind="stable")
    out = out.reset_index(drop=True)
    total_turns = out["count"].sum()
    total_time = out["seconds"].sum()
    out["count"] = out["count"].astype("int64")
    out["mean_seconds"] = out["seconds"] / out["timed"].where(out["timed"] > 0)
    out["share_turns"] = out["count"] / total_turns if total_turns else np.nan
    out["share_time"] = out["seconds"] / total_time if total_time > 0 else np.nan
    return out.drop(columns="timed")


def voice_shares(data: pd.DataFrame, *, groups: Mapping[str, str] | None = None) -> pd.DataFrame:
    r"""The share of turns and of speaking time of residents, cadres and the evaluated party.

    Parameters
    ----------
    data : DataFrame
        Turns with ``category`` and ``seconds``.
    groups : mapping, optional
        Category -> group. Default :data:`toolkit.instrument.speakers.VOICE_GROUPS`: residents
        (居民, 党员, 楼组长, 业委会), cadres (居委会, 政府部门), evaluated (物业, 施工单位), other.

    Returns
    -------
    DataFrame
        One row per group present: ``group``, ``count``, ``seconds``, ``share_turns``,
        ``share_time`` (as :func:`speaking_time`), in the order residents, cadres, evaluated,
        other.

    Examples
    --------
    >>> turns = pd.DataFrame({"category": ["resident", "property", "government", "party_member"],
    ...                       "seconds": [30.0, 90.0, 60.0, 20.0]})
    >>> voice_shares(turns)[["group", "seconds", "share_time"]]
           group  seconds  share_time
    0  residents     50.0        0.25
    1     cadres     60.0        0.30
    2  evaluated     90.0        0.45
    """
    mapping = dict(VOICE_GROUPS if groups is None else groups)
    data = _turns(data, "voice_shares", ["category", "seconds"])
    unknown = sorted(set(data["category"].dropna().astype(str)) - set(mapping))
    if unknown:
        raise DataError(
            f"voice_shares: categories {', '.join(unknown)} have no group in `groups`; add them."
        )
    frame = pd.DataFrame(
        {"group": data["category"].map(mapping), "seconds": data["seconds"]}
    ).dropna(subset=["group"])
    grouped = frame.groupby("group", sort=False)["seconds"]
    out = pd.DataFrame({"count": grouped.size(), "seconds": grouped.sum(min_count=0)})
    order = list(dict.fromkeys(["residents", "cadres", "evaluated", "other", *mapping.values()]))
    out = out.reindex([g for g in order if g in out.index]).reset_index()
    out["count"] = out["count"].astype("int64")
    total_time = out["seconds"].sum()
    out["share_turns"] = out["count"] / out["count"].sum()
    out["share_time"] = out["seconds"] / total_time if total_time > 0 else np.nan
    return out


def speaker_totals(
    data: pd.DataFrame | pd.Series, *, by: str = "seat", attendees: int | None = None
) -> np.ndarray:
    """Speaking seconds per speaker (seat), padded with zeros for attendees who never spoke.

    Examples
    --------
    >>> turns = pd.DataFrame({"seat": [1, 2, 1], "seconds": [10.0, 5.0, 20.0]})
    >>> speaker_totals(turns, attendees=4).tolist()
    [30.0, 5.0, 0.0, 0.0]
    """
    if isinstance(data, pd.Series):
        totals = pd.to_numeric(data, errors="coerce").dropna().to_numpy(dtype=float)
    else:
        data = _turns(data, "speaker_totals", [by, "seconds"])
        timed = data[data[by].notna()]
        totals = (
            pd.to_numeric(timed["seconds"], errors="coerce")
            .groupby(timed[by].to_numpy(), sort=True)
            .sum()
            .to_numpy(dtype=float)
        )
    if np.any(totals < 0):
        raise DataError("speaking times must not be negative.")
    if attendees is not None:
        if attendees < totals.size:
            raise ParameterError(
                f"`attendees` ({attendees}) is smaller than the number of speakers "
                f"({totals.size}); give the number of people present."
            )
        totals = np.concatenate([totals, np.zeros(attendees - totals.size)])
    if totals.size == 0 or totals.sum() <= 0:
        raise DataError("no speaking time to measure: no timed turns with a speaker.")
    return totals


def _gini(x: np.ndarray) -> float:
    x = np.sort(x)
    n = x.size
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * np.sum(x)))


def _gini_draws(x: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Gini of each bootstrap resample (``indices`` is replicates x n)."""
    samples = np.sort(x[indices], axis=1)
    n = x.size
    weights = 2 * np.arange(1, n + 1) - n - 1
    totals = samples.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (samples @ weights) / (n * totals)


def gini(
    data: pd.DataFrame | pd.Series,
    *,
    by: str = "seat",
    attendees: int | None = None,
    corrected: bool = False,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    r"""The Gini coefficient of speaking time among speakers, with a percentile bootstrap interval.

    Parameters
    ----------
    data : DataFrame or Series
        Turns with ``by`` (a speaker: the seat number) and ``seconds``; or a Series of speaking
        times, one per speaker.
    by : str
        The speaker column (``seat``; ``category`` measures inequality between categories).
    attendees : int, optional
        People present; those beyond the speakers count with 0 seconds.
    corrected : bool
        Multiply by :math:`n/(n-1)` (the small-sample version, ``ineq::Gini(corr = TRUE)``).
    n_boot : int
        Bootstrap replicates (resampling speakers with replacement); 0 for no interval.
    confidence : float
        Confidence level of the interval.
    seed : int or None
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row: ``measure`` ("gini"), ``estimate``, ``ci_low``, ``ci_high``, ``confidence``,
        ``method`` ("percentile bootstrap"), ``n`` (speakers, attendees included).

    Notes
    -----
    With the times sorted, :math:`x_{(1)} \le \dots \le x_{(n)}`,

    .. math:: G = \frac{\sum_{i=1}^n (2i - n - 1)\, x_{(i)}}{n \sum_i x_i},

    the closed form of ``ineq::Gini`` (half the relative mean absolute difference); 0 when all
    speak equally long, :math:`(n-1)/n` when one speaks alone. The interval takes the 2.5 % and
    97.5 % quantiles (R's ``quantile`` type 7) of the Gini of ``n_boot`` resamples of speakers.

    References
    ----------
    Gini, C. (1912). *Variabilità e mutabilità*. Bologna.
    Zeileis, A. ineq: Measuring Inequality, Concentration, and Poverty, ``Gini``.
    phylotools 0.1.2, help page of ``gini`` (its example prints 0.3076923), rdocumentation.org.
    Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13.

    Examples
    --------
    The published example of ``phylotools::gini`` (whose code is that of ``ineq::Gini``):
    ``gini(c(1,3,2,1,1,1,4))`` is 0.3076923.

    >>> round(float(gini(pd.Series([1, 3, 2, 1, 1, 1, 4]), n_boot=0)["estimate"].iloc[0]), 7)
    0.3076923
    """
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_range("n_boot", n_boot, low=0)
    x = speaker_totals(data, by=by, attendees=attendees)
    n = x.size
    factor = n / (n - 1) if corrected and n > 1 else 1.0
    row: dict[str, Any] = {"measure": "gini", "estimate": _gini(x) * factor}
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        draws = _gini_draws(x, rng.integers(0, n, size=(n_boot, n))) * factor
        low, high = _percentile(draws, confidence)
        row |= {
            "ci_low": low,
            "ci_high": high,
            "confidence": confidence,
            "method": "percentile bootstrap",
        }
    row["n"] = n
    return pd.DataFrame([row])


def _percentile(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])  # R's quantile(type = 7)
    return float(low), float(high)


def lorenz_curve(
    data: pd.DataFrame | pd.Series, *, by: str = "seat", attendees: int | None = None
) -> pd.DataFrame:
    r"""The Lorenz curve of speaking time: cumulative share of people against share of time.

    Returns
    -------
    DataFrame
        ``n + 1`` rows from (0, 0) to (1, 1): ``population_share`` :math:`p_i = i/n` and
        ``cumulative_share`` :math:`L_i = \sum_{j \le i} x_{(j)} / \sum x`, speakers sorted from
        the least to the most speaking time (the points of ``ineq::Lc``).

    Examples
    --------
    >>> lorenz_curve(pd.Series([1.0, 3.0]))
       population_share  cumulative_share
    0               0.0              0.00
    1               0.5              0.25
    2               1.0              1.00
    """
    x = np.sort(speaker_totals(data, by=by, attendees=attendees))
    n = x.size
    return pd.DataFrame(
        {
            "population_share": np.arange(n + 1) / n,
            "cumulative_share": np.concatenate([[0.0], np.cumsum(x) / x.sum()]),
        }
    )


def top_share(
    data: pd.DataFrame | pd.Series,
    *,
    by: str = "seat",
    attendees: int | None = None,
    top: float = 0.10,
) -> pd.DataFrame:
    r"""The share of speaking time held by the top ``top`` (10 %) of speakers.

    Returns
    -------
    DataFrame
        One row: ``measure`` ("top_share"), ``top`` (the fraction of people), ``estimate``
        :math:`= 1 - L(1 - top)`, with :math:`L` the Lorenz curve interpolated linearly between
        its points (R: ``1 - approx(Lc(x)$p, Lc(x)$L, 1 - top)$y``), and ``n``.

    Examples
    --------
    >>> top_share(pd.Series([1.0] * 9 + [11.0]))[["top", "estimate"]]
       top  estimate
    0  0.1      0.55
    """
    check_range("top", top, low=0, high=1, low_inclusive=False, high_inclusive=False)
    curve = lorenz_curve(data, by=by, attendees=attendees)
    level = float(np.interp(1 - top, curve["population_share"], curve["cumulative_share"]))
    return pd.DataFrame(
        [{"measure": "top_share", "top": top, "estimate": 1 - level, "n": len(curve) - 1}]
    )


def turn_transitions(data: pd.DataFrame, *, by: str = "category") -> pd.DataFrame:
    r"""Who follows whom: counts and conditional shares of consecutive turns.

    Parameters
    ----------
    data : DataFrame
        Turns in the order they were taken (``Store.turns``), with the column ``by``.
    by : {"category", "seat"}

    Returns
    -------
    DataFrame
        One row per observed pair: ``from``, ``to``, ``count`` (times ``to`` spoke right after
        ``from``), ``n`` (turns of ``from`` followed by another turn) and ``estimate`` =
        count / n, the transition probability :math:`\hat P(\text{to} \mid \text{from})`. The
        same as R's ``prop.table(table(x[-n], x[-1]), 1)``.

    Examples
    --------
    >>> turns = pd.DataFrame({"category": ["resident", "property", "resident", "property"]})
    >>> turn_transitions(turns)[["from", "to", "count", "estimate"]]
           from        to  count  estimate
    0  resident  property      2       1.0
    1  property  resident      1       1.0
    """
    check_option("by", by, _BY)
    data = _turns(data, "turn_transitions", [by])
    seq = data[by].dropna().tolist()
    if len(seq) < 2:
        raise DataError(
            "turn_transitions: fewer than two turns; a transition needs a turn after another."
        )
    pairs = pd.DataFrame({"from": seq[:-1], "to": seq[1:]})
    counts = pairs.groupby(["from", "to"], sort=False).size().rename("count").reset_index()
    totals = counts.groupby("from", sort=False)["count"].transform("sum")
    if by == "category":
        order = {code: i for i, code in enumerate(SPEAKER_LABELS)}
        key = counts["from"].map(order) * 100 + counts["to"].map(order)
        counts = counts.assign(_k=key, n=totals).sort_values("_k", kind="stable")
        counts = counts.drop(columns="_k")
    else:
        counts = counts.assign(n=totals).sort_values(["from", "to"], kind="stable")
    counts = counts.reset_index(drop=True)
    counts["count"] = counts["count"].astype("int64")
    counts["n"] = counts["n"].astype("int64")
    counts["estimate"] = counts["count"] / counts["n"]
    return counts
