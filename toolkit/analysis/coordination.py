r"""Coordination meeting (协调会) analysis: agreement rates, parties, terms, time to agreement.

Input is the case table (``store.cases()``, one row per case) or the case meetings table
(``store.case_meetings()``, one row per meeting of a case); nothing here reads the store.

- :func:`agreement_rates`: the share of cases whose coordination reached an agreement (and reached
  at least a partial one), by kind of issue, with Wilson intervals.
- :func:`parties_per_meeting` and :func:`terms_recorded`: summaries of parties at the table and
  terms signed.
- :func:`agreement_times` and :func:`time_to_agreement`: days from the hearing to the agreement,
  with Kaplan–Meier curves; cases still without an agreement are censored.

Examples
--------
>>> import pandas as pd
>>> cases = pd.DataFrame({"kind": ["elevator"] * 4, "agreement": ["reached", "partial",
...                       "none", "reached"]})
>>> agreement_rates(cases)[["kind", "measure", "count", "n"]].values.tolist()
[['elevator', 'reached', 2, 4], ['elevator', 'reached_or_partial', 3, 4]]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_range
from toolkit.analysis.proportions import proportion_ci
from toolkit.errors import DataError

__all__ = [
    "agreement_rates",
    "agreement_times",
    "parties_per_meeting",
    "terms_recorded",
    "time_to_agreement",
]


def _groups(data: pd.DataFrame, by: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if by is None:
        return [(None, data)]
    check_columns(data, [by])
    return list(data.groupby(by, sort=True, dropna=False))


def agreement_rates(
    data: pd.DataFrame,
    *,
    by: str | None = "kind",
    agreement: str = "agreement",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of cases whose coordination meeting reached an agreement, with Wilson intervals.

    Parameters
    ----------
    data : DataFrame
        One row per case with an ``agreement`` column (``reached``, ``partial``, ``none``; blank
        for cases not yet coordinated, which are left out).
    by : str or None
        Grouping column (default ``kind``; ``street``, ``venue``, ...).
    agreement : str
    confidence : float

    Returns
    -------
    DataFrame
        ``<by>, measure, count, n, estimate, ci_low, ci_high, method, confidence``; measure
        ``reached`` (full agreement) and ``reached_or_partial``; ``n`` = coordinated cases.
        Small groups get wide intervals: compare them, never rank them on the estimates alone.

    Notes
    -----
    Wilson score interval, as R ``prop.test(x, n, correct = FALSE)$conf.int``.

    Examples
    --------
    >>> cases = pd.DataFrame({"agreement": ["reached"] * 3 + ["none"]})
    >>> round(float(agreement_rates(cases, by=None)["ci_low"].iloc[0]), 4)
    0.3006
    """
    check_columns(data, [agreement])
    unknown = sorted(set(data[agreement].dropna()) - {"reached", "partial", "none"})
    if unknown:
        raise DataError(
            f"column `{agreement}` has values {unknown}; use reached, partial or none (blank "
            "for cases not yet coordinated)."
        )
    rows = []
    for key, group in _groups(data, by):
        values = group[agreement].dropna()
        n = len(values)
        for measure, wanted in (
            ("reached", {"reached"}),
            ("reached_or_partial", {"reached", "partial"}),
        ):
            ci = proportion_ci(int(values.isin(wanted).sum()), n, confidence=confidence)
            record: dict[str, Any] = {by: key} if by else {}
            record["measure"] = measure
            record.update({str(k): v for k, v in ci.iloc[0].to_dict().items()})
            rows.append(record)
    result = pd.DataFrame(rows)
    for column in ("count", "n"):
        result[column] = result[column].astype("int64")
    return result


def _summary(data: pd.DataFrame, column: str, by: str | None) -> pd.DataFrame:
    check_columns(data, [column])
    rows = []
    for key, group in _groups(data, by):
        values = pd.to_numeric(group[column], errors="coerce").dropna().astype(float)
        n = len(values)
        stats = {
            "mean": values.mean() if n else np.nan,
            "median": values.median() if n else np.nan,
            "min": values.min() if n else np.nan,
            "max": values.max() if n else np.nan,
            "total": values.sum(),
        }
        for measure, estimate in stats.items():
            rows.append(
                {**({by: key} if by else {}), "measure": measure, "n": n, "estimate": estimate}
            )
    return pd.DataFrame(rows)


def parties_per_meeting(
    data: pd.DataFrame, *, by: str | None = "kind", parties: str = "parties"
) -> pd.DataFrame:
    """Parties at the table per coordination meeting: mean, median, min, max and total.

    Returns
    -------
    DataFrame
        ``<by>, measure, n, estimate`` (``n`` = meetings with a recorded count).

    Examples
    --------
    >>> data = pd.DataFrame({"parties": [3, 4, 5, None]})
    >>> parties_per_meeting(data, by=None).set_index("measure")["estimate"].to_dict()
    {'mean': 4.0, 'median': 4.0, 'min': 3.0, 'max': 5.0, 'total': 12.0}
    """
    return _summary(data, parties, by)


def terms_recorded(
    data: pd.DataFrame, *, by: str | None = "kind", terms: str = "terms"
) -> pd.DataFrame:
    """Terms recorded per coordination meeting (a count, or a list of the terms' texts).

    Returns
    -------
    DataFrame
        ``<by>, measure, n, estimate`` as :func:`parties_per_meeting`.

    Examples
    --------
    >>> data = pd.DataFrame({"terms": [["补偿"], ["补偿", "工期"], []]})
    >>> float(terms_recorded(data, by=None).set_index("measure")["estimate"]["total"])
    3.0
    """
    check_columns(data, [terms])
    counted = data.copy()
    counted[terms] = [
        len(v) if isinstance(v, list | tuple) else (np.nan if v is None or pd.isna(v) else v)
        for v in data[terms]
    ]
    return _summary(counted, terms, by)


def agreement_times(
    data: pd.DataFrame,
    *,
    as_of: dt.date | str,
    case: str = "case_id",
    stage: str = "stage",
    date: str = "date",
    agreement: str = "agreement",
    closed_on: pd.Series | None = None,
) -> pd.DataFrame:
    """Days from each case's hearing to its agreement; cases without one are censored.

    Parameters
    ----------
    data : DataFrame
        One row per meeting of a case (``store.case_meetings()``): ``case_id, stage, date,
        agreement``.
    as_of : date or ISO text
        The day of the analysis: cases with no agreement yet are censored here.
    closed_on : Series, optional
        Closing date per case id; a case closed without agreement is censored on that day.

    Returns
    -------
    DataFrame
        ``case_id, days, event`` (1 = agreement reached that day, 0 = censored), one row per
        case with a dated hearing.

    Examples
    --------
    >>> meetings = pd.DataFrame({"case_id": ["a", "a", "b"],
    ...     "stage": ["hearing", "coordination", "hearing"],
    ...     "date": pd.to_datetime(["2026-01-01", "2026-01-31", "2026-02-01"]).date,
    ...     "agreement": [None, "reached", None]})
    >>> agreement_times(meetings, as_of="2026-03-01").values.tolist()
    [['a', 30, 1], ['b', 28, 0]]
    """
    check_columns(data, [case, stage, date, agreement])
    end = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    rows = []
    for key, group in data.groupby(case, sort=True):
        hearings = group[(group[stage] == "hearing") & group[date].notna()]
        if hearings.empty:
            continue
        start = pd.Timestamp(hearings[date].min())
        reached = group[(group[agreement] == "reached") & group[date].notna()]
        if not reached.empty:
            days, event = (pd.Timestamp(reached[date].min()) - start).days, 1
        else:
            stop = end
            if closed_on is not None and key in closed_on.index and pd.notna(closed_on[key]):
                stop = min(end, pd.Timestamp(closed_on[key]).date())
            days, event = (pd.Timestamp(stop) - start).days, 0
        if days < 0:
            raise DataError(
                f"case `{key}`: the end ({days} days) comes before its hearing on "
                f"{start.date()}; check the dates or `as_of`."
            )
        rows.append({case: key, "days": int(days), "event": int(event)})
    return pd.DataFrame(rows, columns=[case, "days", "event"])


def time_to_agreement(
    data: pd.DataFrame,
    *,
    duration: str = "days",
    event: str = "event",
    by: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Kaplan–Meier curve of the time to agreement (share of cases still without one).

    Parameters
    ----------
    data : DataFrame
        One row per case: ``days`` and ``event`` (1 agreement, 0 censored), e.g. from
        :func:`agreement_times` (merged with ``store.cases()`` for ``by``).
    by : str, optional
        One curve per group (``kind``, ``street``, ``venue``).
    confidence : float

    Returns
    -------
    DataFrame
        ``<by>, time, n_risk, events, censored, estimate, ci_low, ci_high, confidence``: one row
        per distinct time (a first row at time 0 with estimate 1). ``estimate`` is
        :math:`\hat S(t) = \prod_{t_i \le t}(1 - d_i / n_i)`, the share still without agreement.

    Notes
    -----
    The estimate and its Greenwood standard error come from statsmodels'
    ``SurvfuncRight``; the interval is on the log(−log) scale,
    :math:`\hat S(t)^{\exp(\pm z\,\hat\sigma/\log \hat S(t))}`, as R
    ``survival::survfit(Surv(days, event) ~ 1, conf.type = "log-log")`` (checked in
    ``tests/reference/coordination.R``). Kaplan, E. L. & Meier, P. (1958), *JASA* 53, 457–481.

    Examples
    --------
    >>> data = pd.DataFrame({"days": [10, 20, 20, 30], "event": [1, 1, 0, 1]})
    >>> time_to_agreement(data)[["time", "n_risk", "estimate"]].values.tolist()
    [[0.0, 4.0, 1.0], [10.0, 4.0, 0.75], [20.0, 3.0, 0.5], [30.0, 1.0, 0.0]]

    Where the estimate is 0 or 1 the log(−log) interval does not exist (NaN), as in R.
    """
    from scipy import stats
    from statsmodels.duration.survfunc import SurvfuncRight

    check_columns(data, [duration, event] + ([by] if by else []))
    check_range("confidence", confidence, low=0, high=1, low_inclusive=False, high_inclusive=False)
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    frames = []
    for key, group in _groups(data, by):
        times = pd.to_numeric(group[duration], errors="coerce")
        events = pd.to_numeric(group[event], errors="coerce")
        if times.isna().any() or events.isna().any() or (times < 0).any():
            raise DataError(
                f"`{duration}` and `{event}` must be numbers (days >= 0, event 0/1) in every row"
                + (f" of group {key!r}" if by else "")
                + "."
            )
        t = times.to_numpy(float)
        e = events.to_numpy(int)
        grid = np.unique(t)
        estimate = np.ones(len(grid))
        se = np.zeros(len(grid))
        if e.sum() > 0:
            fit = SurvfuncRight(t, e)
            at = np.searchsorted(np.asarray(fit.surv_times, float), grid, side="right") - 1
            known = at >= 0
            estimate[known] = np.asarray(fit.surv_prob, float)[at[known]]
            se[known] = np.asarray(fit.surv_prob_se, float)[at[known]]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Greenwood standard error of log(-log S): se(S) / (S |log S|)
            spread = np.where(
                (estimate > 0) & (estimate < 1), se / (estimate * np.abs(np.log(estimate))), np.nan
            )
            low = estimate ** np.exp(z * spread)
            high = estimate ** np.exp(-z * spread)
        frame = pd.DataFrame(
            {
                "time": np.concatenate([[0.0], grid]),
                "n_risk": np.concatenate([[len(t)], [float((t >= g).sum()) for g in grid]]),
                "events": np.concatenate([[0.0], [float(e[t == g].sum()) for g in grid]]),
                "censored": np.concatenate(
                    [[0.0], [float(((t == g) & (e == 0)).sum()) for g in grid]]
                ),
                "estimate": np.concatenate([[1.0], estimate]),
                "ci_low": np.concatenate([[1.0], low]),
                "ci_high": np.concatenate([[1.0], high]),
            }
        )
        if grid[0] == 0:  # an agreement on the hearing's day: no separate first row
            frame = frame.iloc[1:].reset_index(drop=True)
        frame["confidence"] = confidence
        if by:
            frame.insert(0, by, key)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
