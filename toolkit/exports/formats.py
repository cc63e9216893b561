"""Writers of one table per file: CSV, XLSX, Parquet, SPSS (``.sav``) and Stata (``.dta``).

:func:`~toolkit.exports.writers.export_responses` chooses the tables and calls these; the codebook
(:mod:`toolkit.exports.codebook`) uses :func:`write_xlsx` too, so the writers live here, below both.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> write_csv(pd.DataFrame({"comments": ["=1+1"]}), out / "t.csv").name
't.csv'
>>> pd.read_csv(out / "t.csv")["comments"].tolist()
["'=1+1"]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option
from toolkit.exports.safe import neutralize_frame
from toolkit.exports.tables import (
    DONT_KNOW_NUMBER,
    Column,
    describe_columns,
    safe_names,
)
from toolkit.instrument.model import Survey, Text

__all__ = ["write_csv", "write_dta", "write_parquet", "write_sav", "write_xlsx"]

_STATA_LABEL = 80  # characters in a Stata variable label
_STATA_STR = 2045  # bytes in a Stata str# column; longer text goes to strL


# ------------------------------------------------------------------------------------------------
# Cell conversions
# ------------------------------------------------------------------------------------------------


def _naive_utc(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series


# ------------------------------------------------------------------------------------------------
# Writers of one table
# ------------------------------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: str | Path, *, bom: bool = False) -> Path:
    """Write a table as CSV (UTF-8), with text cells protected from formula injection.

    Parameters
    ----------
    frame : DataFrame
    path : str or Path
    bom : bool
        Start with a UTF-8 byte-order mark (``utf-8-sig``): Excel on Chinese Windows then reads
        the Chinese text right instead of guessing GBK.

    Returns
    -------
    Path

    References
    ----------
    OWASP Foundation, *CSV Injection*.
    """
    path = Path(path)
    neutralize_frame(frame).to_csv(
        path,
        index=False,
        encoding="utf-8-sig" if bom else "utf-8",
        na_rep="",
        lineterminator="\r\n",
    )
    return path


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as the sheets of one XLSX workbook (streamed, built column by column).

    Text cells are protected from formula injection and stored as text (inline strings, never
    formulas); numbers stay numbers; missing values are empty cells; times are written in UTC
    without a time zone (Excel has none) as date serials with a ``yyyy-mm-dd h:mm:ss`` format.
    Header rows are bold and frozen; sheet names are made valid (31 characters at most). See
    :mod:`toolkit.exports.xlsx_fast` (100,000 ballots × 61 columns in a few seconds).

    Parameters
    ----------
    tables : mapping of sheet name → DataFrame
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    DataError
        A table does not fit an Excel sheet (rows, columns or characters in a cell).

    References
    ----------
    OWASP Foundation, *CSV Injection*; ECMA-376 *Office Open XML File Formats*, Part 1.
    """
    from toolkit.exports.xlsx_fast import write_workbook

    return write_workbook(tables, path)


def write_parquet(
    frame: pd.DataFrame, path: str | Path, *, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write a table as Parquet (pyarrow); categoricals stay dictionary-encoded and ordered.

    Parameters
    ----------
    frame : DataFrame
    path : str or Path
    metadata : mapping, optional
        Stored as JSON under the schema metadata key ``sanhui`` (the exports put the instrument id,
        version and the codebook there).

    Returns
    -------
    Path
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata is not None:
        existing = dict(table.schema.metadata or {})
        existing[b"sanhui"] = json.dumps(metadata, ensure_ascii=False, default=str).encode()
        table = table.replace_schema_metadata(existing)
    pq.write_table(table, path)
    return path


def _numeric(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    language: str,
    max_length: int,
    spss: bool,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[int, str]], dict[str, Column]]:
    """Numbers for categorical columns, valid names, labels: what SPSS and Stata files need."""
    names = safe_names([c.name for c in columns], max_length=max_length)
    if spss:
        names = {k: ("v" + v)[:max_length] if v.startswith("_") else v for k, v in names.items()}
    out: dict[str, Any] = {}
    labels: dict[str, str] = {}
    values: dict[str, dict[int, str]] = {}
    by_name: dict[str, Column] = {}
    for column in columns:
        name = names[column.name]
        series = frame[column.name]
        by_name[name] = column
        labels[name] = column.label.get(language)
        if column.kind in ("single", "grid") and isinstance(series.dtype, pd.CategoricalDtype):
            numbers = column.numbers()
            lookup = np.array(
                [numbers.get(str(c), np.nan) for c in series.cat.categories] + [np.nan],
                dtype=np.float64,
            )
            codes = series.cat.codes.to_numpy()
            out[name] = lookup[np.where(codes >= 0, codes, len(lookup) - 1)]
            text = dict(zip(column.codes, column.labels, strict=True))
            values[name] = {n: text[c].get(language) for c, n in numbers.items()}
        elif column.kind == "indicator":
            out[name] = series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
            values[name] = {0: column.labels[0].get(language), 1: column.labels[1].get(language)}
        elif pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            out[name] = series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[name] = _naive_utc(series).astype("datetime64[ns]").to_numpy()
        else:
            text_values = series.astype(object).to_numpy()
            out[name] = np.array(
                [
                    "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
                    for v in text_values
                ],
                dtype=object,
            )
    return pd.DataFrame(out), labels, values, by_name


def write_sav(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    survey: Survey,
    language: str = "zh",
    subject_labels: Mapping[str, Text] | None = None,
) -> Path:
    """Write a wide table as an SPSS ``.sav`` file with variable labels and value labels.

    Single choices and grid items are numbered 1, 2, ... in scale order (98 = 不了解, declared as
    a user-missing value); multiple-choice indicators are 0/1; times are UTC.

    Parameters
    ----------
    frame : DataFrame
        A wide response table of codes (or a table of meta columns, e.g. paradata).
    path : str or Path
    survey : Survey
        Its instrument (labels and value labels).
    language : {"zh", "en"}
        Language of the labels.
    subject_labels : mapping, optional
        Subject id → label, for the labels of per-subject variables.

    Returns
    -------
    Path

    References
    ----------
    pyreadstat (ReadStat), ``write_sav``: https://ofajardo.github.io/pyreadstat_documentation/
    """
    import pyreadstat

    check_option("language", language, ("zh", "en"))
    columns = describe_columns(survey, frame.columns, subject_labels=subject_labels)
    data, labels, values, by_name = _numeric(
        frame, columns, language=language, max_length=64, spss=True
    )
    missing = {name: [DONT_KNOW_NUMBER] for name, c in by_name.items() if c.dont_know}
    measure = {}
    for name, c in by_name.items():
        if c.kind in ("single", "grid"):
            measure[name] = "ordinal" if c.ordered else "nominal"
        elif c.kind == "indicator":
            measure[name] = "nominal"
        elif c.kind in ("integer", "decimal"):
            measure[name] = "scale"
    pyreadstat.write_sav(
        data,
        str(path),
        column_labels=[labels[c] for c in data.columns],
        variable_value_labels=values,  # type: ignore[arg-type]
        missing_ranges=missing,  # type: ignore[arg-type]
        variable_measure=measure,
    )
    return Path(path)


def write_dta(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    survey: Survey,
    language: str = "zh",
    subject_labels: Mapping[str, Text] | None = None,
) -> Path:
    """Write a wide table as a Stata ``.dta`` file (format 118, Unicode) with labels.

    Single choices and grid items are numbered 1, 2, ... in scale order with value labels; 98 is
    不了解 (recode it to an extended missing value with ``mvdecode _all, mv(98=.d)`` where a mean
    is wanted); indicators are 0/1; variable labels are cut to Stata's 80 characters; long text
    is stored as ``strL``; times are UTC (``%tc``), dates ``%td``.

    Parameters
    ----------
    frame, path, survey, language, subject_labels
        As in :func:`write_sav`.

    Returns
    -------
    Path

    References
    ----------
    pandas, ``DataFrame.to_stata`` (version 118); StataCorp, *Stata 18 dta file format*.
    """
    check_option("language", language, ("zh", "en"))
    columns = describe_columns(survey, frame.columns, subject_labels=subject_labels)
    data, labels, values, by_name = _numeric(
        frame, columns, language=language, max_length=32, spss=False
    )
    dates = {}
    strl = []
    for name, c in by_name.items():
        if pd.api.types.is_datetime64_any_dtype(data[name].dtype):
            dates[name] = "td" if c.kind == "date" else "tc"
        elif data[name].dtype == object:
            longest = max((len(str(v).encode("utf-8")) for v in data[name]), default=0)
            if longest > _STATA_STR:
                strl.append(name)
    data.to_stata(
        Path(path),
        write_index=False,
        version=118,
        variable_labels={k: v[:_STATA_LABEL] for k, v in labels.items()},
        value_labels=values,  # type: ignore[arg-type]
        convert_dates=dates,  # type: ignore[arg-type]
        convert_strl=strl,
    )
    return Path(path)
