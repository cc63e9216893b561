"""Who comes, and whether they represent the residents.

Three descriptive tools for the participation side of the three-meeting system (三会制度):

- :func:`turnout`: attended / invited with a confidence interval, overall and by role, building,
  floor band, age band, gender..., and households represented;
- :func:`representativeness`: participants' composition against the population (representation
  ratios, the dissimilarity index and a chi-square goodness-of-fit test);
- :func:`repeat_participation`: first-timers, returners and retention along the meetings of one
  issue (听证会 hearing → 协调会 coordination → 评议会 evaluation) or across time.

Every function returns a tidy :class:`pandas.DataFrame` in the vocabulary of
:mod:`toolkit.analysis.vocabulary`. Rows that summarise the whole table carry :data:`ALL`
(``"(all)"``) in the grouping column(s).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from toolkit._checks import check_columns, check_option, did_you_mean
from toolkit.analysis.proportions import PROPORTION_METHODS, proportion_ci
from toolkit.errors import DataError, ParameterError

__all__ = ["ALL", "MEETING_KINDS", "repeat_participation", "representativeness", "turnout"]

ALL = "(all)"
"""Marker in the grouping column(s) of a row that summarises the whole table."""

MEETING_KINDS: dict[str, int] = {
    "hearing": 0,
    "coordination": 1,
    "evaluation": 2,
    "听证会": 0,
    "协调会": 1,
    "评议会": 2,
}
"""Canonical order of the three meetings of one issue (听证会 → 协调会 → 评议会)."""


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------


def _require_frame(data: Any, argument: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"`{argument}` must be a pandas DataFrame; got {type(data).__name__}. "
            "Build one with pandas.DataFrame(...) or read it with pandas.read_csv(...)."
        )
    return data


def _as_column_list(name: str, value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        out = list(value)
        if len(set(out)) != len(out):
            raise ParameterError(f"`{name}` must not name a column twice; got {out!r}.")
        return out
    raise ParameterError(
        f"`{name}` must be a column name or a list of column names; got {value!r}."
    )


def _missing_rows(frame: pd.DataFrame, column: str) -> list[int]:
    mask = frame[column].isna().to_numpy()
    return [int(i) for i in np.flatnonzero(mask)[:5]]


def _attended_flags(roster: pd.DataFrame, column: str) -> np.ndarray:
    values = roster[column]
    if values.isna().any():
        rows = _missing_rows(roster, column)
        raise DataError(
            f"`roster` column `{column}` has {int(values.isna().sum())} missing value(s) (first at "
            f"row position(s) {rows}); turnout needs a yes/no for every invited person. Record "
            "absent people as False (or 0)."
        )
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        arr = values.to_numpy(dtype=float)
        bad = ~np.isin(arr, (0.0, 1.0))
        if not bad.any():
            return arr == 1.0
    else:
        arr_obj = values.to_numpy(dtype=object)
        if all(isinstance(v, (bool, np.bool_)) for v in arr_obj):
            return arr_obj.astype(bool)
    odd = sorted({repr(v) for v in values.unique() if v not in (True, False, 0, 1)})[:5]
    raise DataError(
        f"`roster` column `{column}` must hold True/False (or 1/0); found {', '.join(odd)}. "
        "Recode it, e.g. roster[col] == '出席'."
    )


def _overall_key(by: list[str]) -> dict[str, Any]:
    return dict.fromkeys(by, ALL)


# ----------------------------------------------------------------------------------------------
# turnout
# ----------------------------------------------------------------------------------------------


def turnout(
    roster: pd.DataFrame,
    *,
    attended: str = "attended",
    by: str | Sequence[str] | None = None,
    household: str | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Turnout (attended / invited) with a confidence interval, overall and by group.

    Parameters
    ----------
    roster : pandas.DataFrame
        One row per invited person, with a True/False (or 1/0) column saying whether the person
        attended. Every invited person must be listed, attenders or not.
    attended : str
        The attendance column.
    by : str or list of str, optional
        Grouping column(s): role, building, floor band, age band, gender... Several columns are
        crossed (one row per observed combination, as :meth:`pandas.DataFrame.groupby`). Missing
        values in a grouping column form their own group, so groups always add up to the total.
    household : str, optional
        A household id column. Adds ``measure == "households"`` rows: households represented
        (distinct household ids with at least one attendee) over households invited (distinct
        household ids on the roster).
    method : {"wilson", "exact", "agresti-coull", "jeffreys", "wald"}
        Interval method of :func:`toolkit.analysis.proportions.proportion_ci`.
    confidence : float
        Confidence level in (0, 1).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns (:data:`ALL` ``"(all)"`` on the overall rows, which come first), then
        ``measure`` (``"persons"``, or ``"households"``), ``count`` (people who attended, or
        households represented), ``n`` (people invited, or households invited), ``estimate``
        (count / n), ``ci_low``, ``ci_high``, ``method``, ``confidence``.

    Raises
    ------
    DataError
        If a column is missing, the roster is empty, ``attended`` is not yes/no or has missing
        values, or a household id is missing.

    Notes
    -----
    turnout :math:`= x / n` with :math:`x` the attenders and :math:`n` the invited. The Wilson score
    interval (default) is

    .. math:: \frac{x + z^2/2}{n + z^2} \pm
              \frac{z\sqrt{n}}{n + z^2}\sqrt{\hat p(1-\hat p) + z^2/(4n)}

    as R ``prop.test(x, n, correct = FALSE)$conf.int``. Households are treated as the sampled units
    of their own rate. A household whose members fall in different groups (e.g. by gender) is
    counted in each of them, so household rows by group need not add up to the overall row;
    person rows always do.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    *JASA* 22, 209-212. R: ``stats::prop.test(x, n, correct = FALSE)``.

    Examples
    --------
    >>> import pandas as pd
    >>> roster = pd.DataFrame({
    ...     "attended": [True, True, False, True, False, False],
    ...     "role": ["resident", "resident", "resident", "cadre", "cadre", "resident"],
    ...     "household": ["101", "101", "102", "201", "202", "203"],
    ... })
    >>> turnout(roster, by="role", household="household")[
    ...     ["role", "measure", "count", "n", "estimate"]].round(4)
           role     measure  count  n  estimate
    0     (all)     persons      3  6    0.5000
    1     (all)  households      2  5    0.4000
    2     cadre     persons      1  2    0.5000
    3     cadre  households      1  2    0.5000
    4  resident     persons      2  4    0.5000
    5  resident  households      1  3    0.3333
    """
    roster = _require_frame(roster, "roster")
    by_cols = _as_column_list("by", by)
    check_option("method", method, PROPORTION_METHODS)
    if attended in by_cols or (household is not None and household in [attended, *by_cols]):
        raise ParameterError(
            "`attended`, `by` and `household` must name different columns; got "
            f"attended={attended!r}, by={by_cols!r}, household={household!r}."
        )
    needed = [attended, *by_cols] + ([household] if household is not None else [])
    check_columns(roster, needed, argument="roster")
    if len(roster) == 0:
        raise DataError("`roster` has no rows; turnout needs at least one invited person.")
    flags = _attended_flags(roster, attended)
    if household is not None and roster[household].isna().any():
        rows = _missing_rows(roster, household)
        raise DataError(
            f"`roster` column `{household}` has {int(roster[household].isna().sum())} missing "
            f"household id(s) (first at row position(s) {rows}). Give every invited person a "
            "household id (a one-person household gets its own id)."
        )

    work = pd.DataFrame({"_att": flags}, index=pd.RangeIndex(len(roster)))
    for col in by_cols:
        work[col] = roster[col].array
    if household is not None:
        work["_hh"] = roster[household].to_numpy()

    keys: list[dict[str, Any]] = []
    counts: list[int] = []
    totals: list[int] = []
    measures: list[str] = []

    def add(key: dict[str, Any], part: pd.DataFrame) -> None:
        keys.append(key)
        measures.append("persons")
        counts.append(int(part["_att"].sum()))
        totals.append(len(part))
        if household is not None:
            keys.append(key)
            measures.append("households")
            counts.append(int(part.loc[part["_att"], "_hh"].nunique()))
            totals.append(int(part["_hh"].nunique()))

    add(_overall_key(by_cols), work)
    if by_cols:
        grouped = work.groupby(by_cols, dropna=False, sort=True, observed=True)
        for values, part in grouped:
            tup = values if isinstance(values, tuple) else (values,)
            add(dict(zip(by_cols, tup, strict=True)), part)

    ci = proportion_ci(counts, totals, method=method, confidence=confidence)
    out = pd.DataFrame(keys, columns=by_cols).astype(object) if by_cols else pd.DataFrame()
    out = out.reindex(range(len(measures)))
    out["measure"] = measures
    for col in ("count", "n", "estimate", "ci_low", "ci_high", "method", "confidence"):
        out[col] = ci[col].to_numpy()
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# representativeness
# ----------------------------------------------------------------------------------------------

_POPULATION_VALUE_COLUMNS = ("share", "proportion", "count", "n", "population")


def _population_series(population: Any, by: str) -> pd.Series:
    if isinstance(population, Mapping) and not isinstance(population, pd.Series):
        series = pd.Series(dict(population), dtype=object)
    elif isinstance(population, pd.Series):
        series = population.copy()
    elif isinstance(population, pd.DataFrame):
        frame = population.set_index(by) if by in population.columns else population
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        named = [c for c in _POPULATION_VALUE_COLUMNS if c in frame.columns]
        if len(numeric) == 1:
            series = frame[numeric[0]]
        elif named:
            series = frame[named[0]]
        else:
            raise DataError(
                f"`population` must hold one numeric column of shares or counts per `{by}` "
                f"category (for example `share` or `count`); its columns are "
                f"{', '.join(map(str, population.columns))}."
            )
    else:
        raise ParameterError(
            "`population` must be a pandas Series, a dict or a DataFrame of shares or counts per "
            f"category; got {type(population).__name__}."
        )
    try:
        values = pd.to_numeric(series, errors="raise").astype(float)
    except (TypeError, ValueError):
        raise DataError(
            "`population` must hold numbers (shares or counts) per category; got "
            f"{list(series.to_numpy())[:5]!r}."
        ) from None
    if values.index.has_duplicates:
        dup = sorted({str(v) for v in values.index[values.index.duplicated()]})
        raise DataError(f"`population` lists category {', '.join(dup)} more than once.")
    if values.isna().any() or not np.isfinite(values.to_numpy()).all():
        raise DataError("`population` has a missing or infinite share/count; fill it in.")
    if (values < 0).any():
        raise DataError("`population` has a negative share/count; shares and counts are >= 0.")
    if values.index.hasnans:
        raise DataError("`population` has a missing category label; name every category.")
    total = float(values.sum())
    if abs(total - 1.0) <= 1e-6:
        return values / total
    if total < 1.0:
        raise DataError(
            f"`population` shares sum to {total:.6g}, not 1. Add the missing categories, or pass "
            "counts (population sizes) instead of shares."
        )
    return values / total


def _sample_counts(sample: Any, by: str, weights: Any) -> pd.Series:
    if isinstance(sample, pd.DataFrame):
        check_columns(sample, [by], argument="sample")
        if len(sample) == 0:
            raise DataError("`sample` has no rows; representativeness needs participants.")
        labels = sample[by]
        if labels.isna().any():
            raise DataError(
                f"`sample` column `{by}` has {int(labels.isna().sum())} missing value(s) (first "
                f"at row position(s) {_missing_rows(sample, by)}): a category the population "
                "does not have. Drop those rows or give them a category the population also has."
            )
        if weights is None:
            w = np.ones(len(sample))
        else:
            if isinstance(weights, str):
                check_columns(sample, [weights], argument="sample")
                w_raw: Any = sample[weights]
            else:
                w_raw = weights
            w = np.asarray(w_raw, dtype=float)
            if w.shape != (len(sample),):
                raise ParameterError(
                    f"`weights` must be a column name or one weight per row of `sample` "
                    f"({len(sample)}); got shape {w.shape}."
                )
            if not np.isfinite(w).all() or (w < 0).any():
                raise DataError("`weights` must be finite and non-negative.")
        frame = pd.DataFrame({"_cat": labels.to_numpy(dtype=object), "_w": w})
        return frame.groupby("_cat", sort=False)["_w"].sum()
    if weights is not None:
        raise ParameterError(
            "`weights` applies only when `sample` is a DataFrame of participants; got counts."
        )
    if isinstance(sample, Mapping) and not isinstance(sample, pd.Series):
        sample = pd.Series(dict(sample), dtype=object)
    if not isinstance(sample, pd.Series):
        raise ParameterError(
            "`sample` must be a DataFrame of participants or a Series/dict of counts per "
            f"category; got {type(sample).__name__}."
        )
    try:
        counts = pd.to_numeric(sample, errors="raise").astype(float)
    except (TypeError, ValueError):
        raise DataError("`sample` counts must be numbers.") from None
    if counts.isna().any() or not np.isfinite(counts.to_numpy()).all() or (counts < 0).any():
        raise DataError("`sample` counts must be finite and non-negative.")
    if counts.index.has_duplicates:
        raise DataError("`sample` lists a category more than once; give one count per category.")
    return counts


def representativeness(
    sample: pd.DataFrame | pd.Series | Mapping[Hashable, float],
    population: pd.DataFrame | pd.Series | Mapping[Hashable, float],
    *,
    by: str,
    weights: str | Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Compare the participants' composition with the population's.

    Parameters
    ----------
    sample : pandas.DataFrame, pandas.Series or dict
        Either one row per participant with a ``by`` column, or the number of participants per
        category (a Series or dict: category -> count).
    population : pandas.Series, dict or pandas.DataFrame
        Population shares or counts per category. A DataFrame has the ``by`` column (or the
        categories as index) and one numeric column (if several, the first of ``share``,
        ``proportion``, ``count``, ``n``, ``population``). Values summing to 1 (within 1e-6) are
        shares; values summing to more than 1 are counts and are divided by their total. Values
        summing to less than 1 are an error (a category is probably missing).
    by : str
        The category column (gender, age band, building...).
    weights : str or array-like, optional
        Frequency weights (a column of ``sample`` or one number per row): each row counts as
        ``w`` participants, as ``xtabs(w ~ by)`` in R. Use it to pass a table of counts as a
        DataFrame. The chi-square test treats the weighted counts as counts, so it is not a
        design-based test for survey (probability) weights; read only the shares and ratios then.

    Returns
    -------
    pandas.DataFrame
        One row per population category (in the population's order), then an overall row with
        ``by == "(all)"``. Columns: ``by``, ``count`` (participants in the category), ``n`` (all
        participants), ``sample_share`` (:math:`p_k`), ``population_share`` (:math:`q_k`),
        ``ratio`` (representation ratio :math:`p_k / q_k`; 1 is proportional, below 1
        under-represented), ``expected`` (:math:`n q_k`), and on the overall row only
        ``dissimilarity`` (D), ``statistic`` (chi-square), ``df``, ``p_value``.

    Raises
    ------
    DataError
        If a sample category is not in the population (the message names it), a category with
        participants has population share 0, or the inputs are malformed.

    Warns
    -----
    UserWarning
        When an expected count is below 5 (the chi-square approximation may be poor), as R's
        ``chisq.test`` warns.

    Notes
    -----
    With :math:`p_k = x_k / n` the sample shares and :math:`q_k` the population shares:

    - dissimilarity index :math:`D = \tfrac12 \sum_k |p_k - q_k|` (the share of participants who
      would have to belong to another category for the sample to match the population);
    - chi-square goodness of fit :math:`X^2 = \sum_k (x_k - n q_k)^2 / (n q_k)` on
      :math:`K - 1` degrees of freedom (:func:`scipy.stats.chisquare`; R ``chisq.test(x, p = q)``).

    A population category with no participants enters with :math:`p_k = 0`. Categories whose
    population share is 0 (and that have no participants) are listed with ``ratio`` NaN and left
    out of the test and its degrees of freedom.

    References
    ----------
    Duncan, O. D. & Duncan, B. (1955). A methodological analysis of segregation indexes.
    *American Sociological Review* 20(2), 210-217. R: ``stats::chisq.test(x, p = q)``.

    Examples
    --------
    >>> import pandas as pd
    >>> sample = pd.DataFrame({"age": ["60+"] * 14 + ["40-59"] * 5 + ["18-39"] * 1})
    >>> population = {"18-39": 0.35, "40-59": 0.35, "60+": 0.30}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     table = representativeness(sample, population, by="age")
    >>> table[["age", "count", "sample_share", "ratio"]].round(3)
         age  count  sample_share  ratio
    0  18-39      1          0.05  0.143
    1  40-59      5          0.25  0.714
    2    60+     14          0.70  2.333
    3  (all)     20          1.00    NaN
    >>> print(round(table["dissimilarity"].iloc[-1], 3), round(table["p_value"].iloc[-1], 5))
    0.4 0.00028
    """
    if not isinstance(by, str):
        raise ParameterError(f"`by` must be one column name; got {by!r}.")
    q = _population_series(population, by)
    x = _sample_counts(sample, by, weights)

    unknown = [k for k in x.index if k not in q.index]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        hints = "".join(did_you_mean(str(k), [str(c) for c in q.index]) for k in unknown)
        raise DataError(
            f"`sample` has category {names} in `{by}` that `population` does not list; the "
            f"population categories are {', '.join(repr(k) for k in q.index)}.{hints} Add the "
            "category to the population or recode the sample."
        )
    counts = x.reindex(q.index, fill_value=0.0).astype(float)
    n = float(counts.sum())
    if n <= 0:
        raise DataError("`sample` has no participants (all counts are 0).")
    zero_with_cases = [k for k in q.index if q[k] == 0 and counts[k] > 0]
    if zero_with_cases:
        raise DataError(
            f"category {', '.join(repr(k) for k in zero_with_cases)} has participants but "
            "population share 0; correct the population shares."
        )

    p = counts / n
    tested = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tested, p / q.where(tested, 1.0), np.nan)
    expected = n * q
    d_index = 0.5 * float(np.abs(p - q).sum())
    obs = counts[tested].to_numpy()
    exp = expected[tested].to_numpy()
    if len(obs) >= 2:
        result = stats.chisquare(obs, f_exp=exp)
        statistic, p_value = float(result.statistic), float(result.pvalue)
        df = float(len(obs) - 1)
    else:
        statistic, p_value, df = np.nan, np.nan, np.nan
    small = [k for k in q.index[tested] if expected[k] < 5]
    if small:
        warnings.warn(
            f"representativeness: expected count below 5 in `{by}` categor"
            f"{'y' if len(small) == 1 else 'ies'} {', '.join(repr(k) for k in small)}; the "
            "chi-square approximation may be incorrect. Merge small categories or use an exact "
            "test.",
            UserWarning,
            stacklevel=2,
        )

    integer_counts = bool(np.all(np.equal(np.floor(counts.to_numpy()), counts.to_numpy())))
    count_values: Any = counts.to_numpy()
    n_value: Any = n
    if integer_counts:
        count_values = count_values.astype(np.int64)
        n_value = int(n)
    rows = pd.DataFrame(
        {
            by: pd.Series(list(q.index), dtype=object),
            "count": count_values,
            "n": n_value,
            "sample_share": p.to_numpy(),
            "population_share": q.to_numpy(),
            "ratio": ratio,
            "expected": expected.to_numpy(),
            "dissimilarity": np.nan,
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
    )
    overall = {
        by: ALL,
        "count": n_value,
        "n": n_value,
        "sample_share": float(p.sum()),
        "population_share": float(q.sum()),
        "ratio": np.nan,
        "expected": float(expected.sum()),
        "dissimilarity": d_index,
        "statistic": statistic,
        "df": df,
        "p_value": p_value,
    }
    out = pd.concat([rows, pd.DataFrame([overall])], ignore_index=True)
    out[by] = out[by].astype(object)
    return out


# ----------------------------------------------------------------------------------------------
# repeat participation
# ----------------------------------------------------------------------------------------------


def _meeting_order(
    meetings: pd.Series, dates: pd.Series | None, order: Sequence[Any] | None, where: str
) -> list[Any]:
    present = list(pd.unique(meetings))
    if order is not None:
        listed = list(order)
        if len(set(listed)) != len(listed):
            raise ParameterError(f"`order` lists a meeting twice; got {listed!r}.")
        absent = [m for m in present if m not in listed]
        if absent:
            raise DataError(
                f"{where}meeting(s) {', '.join(repr(m) for m in absent)} are not in `order`; list "
                "every meeting in `order`."
            )
        return listed
    if dates is not None:
        per = pd.DataFrame({"m": meetings.to_numpy(), "d": dates.to_numpy()}).drop_duplicates()
        if per["d"].isna().any():
            raise DataError(f"{where}a meeting has no date; fill in the `order` column.")
        if per["m"].duplicated().any():
            bad = per.loc[per["m"].duplicated(), "m"].tolist()
            raise DataError(
                f"{where}meeting(s) {', '.join(repr(m) for m in bad)} have more than one value in "
                "the `order` column; give each meeting one date (or sequence number)."
            )
        if per["d"].duplicated().any():
            raise DataError(
                f"{where}two meetings share the same value in the `order` column, so their order "
                "is unknown; pass `order` as a list of meeting ids instead."
            )
        return per.sort_values("d", kind="stable")["m"].tolist()
    if all(isinstance(m, str) and m in MEETING_KINDS for m in present):
        kinds = [MEETING_KINDS[m] for m in present]
        if len(set(kinds)) != len(kinds):
            raise DataError(
                f"{where}the meetings {present!r} name the same kind twice (English and Chinese); "
                "use one spelling."
            )
        return sorted(present, key=lambda m: MEETING_KINDS[m])
    if pd.api.types.is_numeric_dtype(meetings) or pd.api.types.is_datetime64_any_dtype(meetings):
        return sorted(present)
    raise ParameterError(
        "`order` is needed: the meetings are not numbers, dates or the three meeting kinds "
        "(hearing/coordination/evaluation, 听证会/协调会/评议会), so their order is unknown. Pass "
        "`order` as a list of meeting ids in order, or as the name of a date column."
    )


def repeat_participation(
    attendance: pd.DataFrame,
    *,
    meetings: str = "meeting",
    person: str = "participant",
    order: str | Sequence[Any] | None = None,
    issue: str | None = None,
) -> pd.DataFrame:
    r"""First-timers, returners and retention across a sequence of meetings.

    Parameters
    ----------
    attendance : pandas.DataFrame
        One row per person per meeting attended (a sign-in sheet). A person signed in twice at one
        meeting counts once.
    meetings : str
        The meeting id column.
    person : str
        The person id column (stable across meetings).
    order : str or list, optional
        How the meetings are ordered: a list of meeting ids in order (meetings listed but absent
        from ``attendance`` get a row with 0 attendees), or the name of a column holding each
        meeting's date or sequence number. By default numeric and date meeting ids are sorted, and
        the three meeting kinds are ordered 听证会 hearing → 协调会 coordination → 评议会
        evaluation; other ids need ``order``.
    issue : str, optional
        An issue column (one elevator project, one renovation...). Each issue's meetings form their
        own sequence and "first time" means first time on that issue. Without it all meetings form
        one sequence (participation across time).

    Returns
    -------
    pandas.DataFrame
        One row per meeting in order (per issue), with columns ``issue`` (if given), the meeting
        column, ``position`` (1, 2, ...), ``attendees``, ``first_timers`` (not seen at an earlier
        meeting of the sequence), ``returners`` (seen before), ``returner_share`` (returners /
        attendees), ``previous_attendees``, ``retained`` (attendees of the previous meeting who
        came again) and ``retention`` (retained / previous attendees). The three previous-meeting
        columns are missing (``<NA>``/NaN) on the first meeting of a sequence. With both ``issue``
        and a list ``order``, each issue uses the listed meetings it has.

    Raises
    ------
    DataError
        If a column is missing, an id is missing, or the order cannot be established.

    Notes
    -----
    With :math:`A_k` the set of attendees of meeting :math:`k` and :math:`S_{k} = \bigcup_{j<k}
    A_j`: first-timers :math:`|A_k \setminus S_k|`, returners :math:`|A_k \cap S_k|`, retention
    :math:`|A_k \cap A_{k-1}| / |A_{k-1}|`.

    References
    ----------
    Descriptive set counts; see e.g. Fung, A. & Wright, E. O. (2003). *Deepening Democracy*,
    Verso, on sustained participation in deliberative bodies.

    Examples
    --------
    >>> import pandas as pd
    >>> att = pd.DataFrame({
    ...     "meeting": ["听证会"] * 4 + ["协调会"] * 3 + ["评议会"] * 3,
    ...     "participant": ["a", "b", "c", "d", "a", "b", "e", "a", "e", "f"],
    ... })
    >>> repeat_participation(att)[["meeting", "attendees", "first_timers", "returners",
    ...                            "retention"]].round(3)
      meeting  attendees  first_timers  returners  retention
    0     听证会          4             4          0        NaN
    1     协调会          3             1          2      0.500
    2     评议会          3             1          2      0.667
    """
    attendance = _require_frame(attendance, "attendance")
    order_column = order if isinstance(order, str) else None
    order_list = None if order is None or isinstance(order, str) else order
    if order_list is not None and not isinstance(order_list, Sequence | np.ndarray | pd.Index):
        raise ParameterError(
            f"`order` must be a column name or a list of meeting ids; got {order!r}."
        )
    needed = [meetings, person]
    if order_column is not None:
        needed.append(order_column)
    if issue is not None:
        needed.append(issue)
    if len(set(needed)) != len(needed):
        raise ParameterError(
            f"`meetings`, `person`, `order` and `issue` must differ; got {needed}."
        )
    check_columns(attendance, needed, argument="attendance")
    for col, label in ((meetings, "meeting id"), (person, "person id")) + (
        ((issue, "issue"),) if issue is not None else ()
    ):
        if attendance[col].isna().any():
            raise DataError(
                f"`attendance` column `{col}` has {int(attendance[col].isna().sum())} missing "
                f"{label}(s) (first at row position(s) {_missing_rows(attendance, col)}); "
                "fill them in or drop those rows."
            )

    if issue is not None:
        issues = sorted(pd.unique(attendance[issue]), key=lambda v: (str(type(v)), v))
        parts = [(i, attendance[attendance[issue] == i]) for i in issues]
    else:
        parts = [(None, attendance)]

    records: list[dict[str, Any]] = []
    for issue_value, part in parts:
        where = f"issue {issue_value!r}: " if issue is not None else ""
        seq = _meeting_order(
            part[meetings],
            part[order_column] if order_column is not None else None,
            order_list,
            where,
        )
        if order_list is not None and issue is not None:
            present = set(pd.unique(part[meetings]))
            seq = [m for m in seq if m in present]
        people = part.groupby(meetings, sort=False)[person].agg(lambda s: frozenset(s))
        seen: set[Any] = set()
        previous: frozenset[Any] | None = None
        for position, meeting in enumerate(seq, start=1):
            here: frozenset[Any] = people.get(meeting, frozenset())
            returners = len(here & seen)
            row: dict[str, Any] = {} if issue is None else {issue: issue_value}
            row[meetings] = meeting
            row["position"] = position
            row["attendees"] = len(here)
            row["first_timers"] = len(here) - returners
            row["returners"] = returners
            row["returner_share"] = returners / len(here) if here else np.nan
            if previous is None:
                row["previous_attendees"] = pd.NA
                row["retained"] = pd.NA
                row["retention"] = np.nan
            else:
                row["previous_attendees"] = len(previous)
                row["retained"] = len(here & previous)
                row["retention"] = len(here & previous) / len(previous) if previous else np.nan
            records.append(row)
            seen |= here
            previous = here
    out = pd.DataFrame.from_records(records)
    for col in ("previous_attendees", "retained"):
        out[col] = out[col].astype("Int64")
    out["retention"] = out["retention"].astype(float)
    return out
