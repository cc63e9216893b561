"""Safe cells for published files: spreadsheet-formula injection and small-cell suppression.

Formula injection (CSV injection)
---------------------------------
A ballot comment such as ``=HYPERLINK("http://x","点我")`` or ``@SUM(1)`` becomes a live formula
when a CSV or XLSX file is opened in Excel, LibreOffice or WPS. Following OWASP's guidance, every
*text* cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe (``'``), which spreadsheets show as text and never evaluate; the full-width forms
``＝ ＋ － ＠`` are treated the same, as some Chinese spreadsheet programs convert them. Numbers stay
numbers (``-3`` in a numeric column is not text), so analysis is unaffected.

Small cells
-----------
Meetings are small, and a published table cell describing fewer than 5 raters can identify people
(docs/domain.md, Evaluation ballots: published cells with fewer than 5 raters are suppressed). :func:`suppress_small`
blanks such cells and flags them.

References
----------
OWASP Foundation, *CSV Injection* (https://owasp.org/www-community/attacks/CSV_Injection).
Office for National Statistics (UK), *Statistical disclosure control: small cell suppression*.

Examples
--------
>>> neutralize_formula('=HYPERLINK("http://x","点我")')
'\\'=HYPERLINK("http://x","点我")'
>>> neutralize_formula("满意"), neutralize_formula(-3)
('满意', -3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_range
from toolkit.errors import ParameterError

__all__ = [
    "FORMULA_PREFIXES",
    "neutralize_formula",
    "neutralize_frame",
    "suppress_small",
    "suppressed_marker",
]

#: Text cells starting with one of these get a leading apostrophe (OWASP CSV injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralize_formula(value: Any) -> Any:
    """Prefix a text value that a spreadsheet would read as a formula with an apostrophe.

    Parameters
    ----------
    value : object
        A cell value; only ``str`` values are changed.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is text starting with one of :data:`FORMULA_PREFIXES`,
        else ``value`` unchanged.

    References
    ----------
    OWASP Foundation, *CSV Injection*.

    Examples
    --------
    >>> neutralize_formula("@SUM(1)"), neutralize_formula("+86 021"), neutralize_formula(1.5)
    ("'@SUM(1)", "'+86 021", 1.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _text_series(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    mask = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES))
    if not bool(mask.any()):
        return series
    out = values.copy()
    out[mask] = "'" + values[mask].astype(str)
    return out


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) safe from formula injection.

    Text columns (object, string) are checked cell by cell; categorical columns have their
    category labels checked (so codes and order are kept); numeric, boolean and date columns are
    left as they are.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame

    References
    ----------
    OWASP Foundation, *CSV Injection*.

    Examples
    --------
    >>> df = pd.DataFrame({"comments": ["好", "=1+1", "-"], "n": [-1, 2, 3]})
    >>> neutralize_frame(df)["comments"].tolist(), neutralize_frame(df)["n"].tolist()
    (['好', "'=1+1", "'-"], [-1, 2, 3])
    """
    out: dict[Any, Any] = {}
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            categories = list(dtype.categories)
            safe = [neutralize_formula(c) for c in categories]
            if safe != categories:
                series = series.cat.rename_categories(safe)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            series = _text_series(series)
        out[neutralize_formula(name) if isinstance(name, str) else name] = series
    return pd.DataFrame(out, index=frame.index)


def suppressed_marker(below: int) -> str:
    """The text shown in place of a suppressed cell: ``"<5"`` for ``below=5``."""
    return f"<{below}"


def suppress_small(
    table: pd.DataFrame,
    *,
    n: str = "n",
    columns: Sequence[str] | None = None,
    below: int = 5,
    keep_empty: bool = False,
) -> pd.DataFrame:
    """Blank the cells of an aggregate table that describe fewer than ``below`` raters.

    The one small-cell rule of the package: exports, the meeting report and the live board use it.

    Parameters
    ----------
    table : DataFrame
        An aggregate table with one row per cell and its number of raters in column ``n``.
    n : str
        The column holding the number of raters the row describes.
    columns : sequence of str, optional
        The columns to blank in suppressed rows; default every numeric column (``n`` included).
    below : int
        Rows with ``n < below`` are suppressed (default 5).
    keep_empty : bool
        Publish rows with ``n == 0`` (a group nobody is in has nothing to hide); by default they
        are suppressed like any row under ``below``.

    Returns
    -------
    DataFrame
        A copy where suppressed rows have missing values in ``columns`` and a boolean column
        ``suppressed``. When writing the table, :func:`suppressed_marker` (``"<5"``) is shown in
        the blanked cells.

    Notes
    -----
    This is primary suppression of each published cell. Complementary suppression (so a blanked
    cell cannot be recovered from a total) is not applied: publish totals only for groups that are
    themselves at least ``below`` raters.

    References
    ----------
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley, chapter 5 (threshold
    rule for frequency tables).

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["a", "b"], "count": [3, 20], "n": [4, 40]})
    >>> suppress_small(t)
      group  count     n  suppressed
    0     a   <NA>  <NA>        True
    1     b     20    40       False
    >>> empty = pd.DataFrame({"count": [0], "n": [0]})
    >>> suppress_small(empty, keep_empty=True)["suppressed"].tolist()
    [False]
    """
    check_columns(table, [n], argument="table")
    check_range("below", below, low=1)
    if columns is None:
        columns = [
            c
            for c in table.columns
            if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
        ]
    else:
        check_columns(table, columns, argument="table")
    if "suppressed" in table.columns:
        raise ParameterError("`table` already has a `suppressed` column; drop or rename it first.")
    out = table.copy()
    sizes = pd.to_numeric(out[n], errors="coerce").astype("Float64")
    flags = ((sizes < below) & ((sizes > 0) if keep_empty else True)).fillna(False)
    small = flags.to_numpy(dtype=bool)
    for column in columns:
        values = out[column]
        if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            values = values.astype("Int64")
        elif pd.api.types.is_float_dtype(values):
            values = values.astype("Float64")
        else:
            values = values.astype(object)
        values = values.copy()
        values[small] = pd.NA if values.dtype != object else None  # type: ignore[index,assignment]
        out[column] = values
    out["suppressed"] = np.asarray(small, dtype=bool)
    return out
