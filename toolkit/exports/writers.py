"""Export ballots to CSV, XLSX, Parquet, SPSS (``.sav``) and Stata (``.dta``).

:func:`export_responses` takes a :class:`~toolkit.store.store.Store` (and a meeting selection) or a
wide response table and its instrument, and writes one file per table (for XLSX: one sheet per
table plus a ``codebook`` sheet):

- ``values="codes"`` (stored codes, ``satisfied``) or ``"labels"`` (满意 / Satisfied, in
  ``language``) in CSV, XLSX and Parquet; SPSS and Stata files always hold numbers 1, 2, ... in
  scale order (98 = 不了解) with variable labels and value labels in ``language``, and the
  don't-know code declared missing in SPSS;
- ``layout="wide"`` (one row per ballot, the layout of ``Store.responses``) or ``"long"`` (one row
  per answer, :func:`~toolkit.exports.tables.long_table`);
- ``separate=("profile", "paradata")`` moves the anonymous rater profile and the paradata (device,
  times, duration, stored form timings) to tables of their own, keyed by ``submission_id``.

Variable names are valid in Stata, SPSS and R (:func:`~toolkit.exports.tables.safe_names`:
``wuye__attitude``, ``rectify__slow_response``; others are cleaned and listed in the codebook's
``source`` column). Text cells in CSV and XLSX are protected from formula injection
(:mod:`toolkit.exports.safe`). Exports read only ballots and meeting records: never participants'
names (:meth:`Store.responses` has none).

:func:`aggregate_table` and :func:`export_aggregate` make published count tables with small cells
suppressed (``suppress_below=5``).

Examples
--------
>>> import tempfile, pathlib
>>> from toolkit.instrument.loader import load_survey
>>> from toolkit.exports.tables import responses_from_answers
>>> survey = load_survey("surveys/evaluation.yaml")
>>> wide = responses_from_answers(survey, [{"wuye__overall": "satisfied", "comments": "=1+1"}],
...                               subjects=("wuye",))
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> [p.name for p in export_responses(wide, out / "ballots.csv", survey=survey)]
['ballots.csv']
>>> pd.read_csv(out / "ballots.csv")["comments"].tolist()
["'=1+1"]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range
from toolkit.errors import DataError, ParameterError
from toolkit.exports.codebook import codebook, value_labels
from toolkit.exports.safe import (
    neutralize_frame,
    suppress_small,
    suppressed_marker,
)
from toolkit.exports.tables import (
    DONT_KNOW_NUMBER,
    Column,
    describe_columns,
    load_responses,
    long_table,
    safe_names,
    split_tables,
    store_paradata,
    with_labels,
)
from toolkit.instrument.model import Survey, Text

if TYPE_CHECKING:
    from toolkit.store.store import Store

__all__ = [
    "EXPORT_FORMATS",
    "aggregate_table",
    "export_aggregate",
    "export_responses",
    "write_csv",
    "write_dta",
    "write_parquet",
    "write_sav",
    "write_xlsx",
]

#: File extension → format.
EXPORT_FORMATS: Mapping[str, str] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".sav": "sav",
    ".dta": "dta",
}
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


# ------------------------------------------------------------------------------------------------
# The export
# ------------------------------------------------------------------------------------------------


def _instrument_metadata(survey: Survey, book: pd.DataFrame) -> dict[str, Any]:
    return {
        "instrument": survey.id,
        "version": survey.version,
        "content_hash": survey.content_hash,
        "codebook": book.to_dict("records"),
    }


def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        return check_option("format", format, tuple(EXPORT_FORMATS.values()))
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ParameterError(
            f"cannot tell the format of {str(path)!r} from its extension; use one of "
            f"{', '.join(EXPORT_FORMATS)} or pass `format=`."
        )
    return EXPORT_FORMATS[suffix]


def export_responses(
    source: Store | pd.DataFrame,
    path: str | Path,
    *,
    survey: Survey | None = None,
    meeting: str | Sequence[str] | None = None,
    instrument: str | tuple[str, str] | None = None,
    format: str | None = None,
    values: str = "codes",
    language: str = "zh",
    layout: str = "wide",
    separate: Sequence[str] = (),
    include_void: bool = False,
    bom: bool = False,
    subject_labels: Mapping[str, Text] | None = None,
) -> list[Path]:
    """Export ballots to CSV, XLSX, Parquet, SPSS or Stata (the body of ``sanhui export``).

    Parameters
    ----------
    source : Store or DataFrame
        A store (the ballots of ``meeting``), or a wide response table of codes (the layout of
        ``Store.responses``) with its ``survey``.
    path : str or Path
        The file to write; separate tables go beside it as ``{stem}_profile{suffix}`` and
        ``{stem}_paradata{suffix}`` (XLSX: extra sheets).
    survey : Survey, optional
        Required with a DataFrame; with a store it is the meetings' instrument version.
    meeting, instrument, include_void
        The selection from a store (as in ``Store.responses``).
    format : {"csv", "xlsx", "parquet", "sav", "dta"}, optional
        Default from the extension.
    values : {"codes", "labels"}
        Codes (``satisfied``) or choice labels in ``language`` (CSV, XLSX, Parquet).
    language : {"zh", "en"}
        Language of labels, value labels and the codebook's first label column.
    layout : {"wide", "long"}
        One row per ballot, or one row per answer (CSV, XLSX, Parquet only).
    separate : sequence of {"profile", "paradata"}
        Tables to take out of the responses.
    bom : bool
        CSV: write a UTF-8 byte-order mark (for Excel on Chinese Windows).
    subject_labels : mapping, optional
        Subject id → label; with a store, taken from its meetings.

    Returns
    -------
    list of Path
        The files written, the main one first.

    Raises
    ------
    ParameterError
        Unknown options, or a long layout for SPSS/Stata.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.instrument.loader import load_survey
    >>> from toolkit.exports.tables import responses_from_answers
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> wide = responses_from_answers(s, [{"gender": "female", "building": 3}])
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "b.sav"
    >>> [p.name for p in export_responses(wide, out, survey=s, separate=("profile",))]
    ['b.sav', 'b_profile.sav']
    """
    path = Path(path)
    kind = _format_of(path, format)
    check_option("values", values, ("codes", "labels"))
    check_option("language", language, ("zh", "en"))
    check_option("layout", layout, ("wide", "long"))
    for part in separate:
        check_option("separate", part, ("profile", "paradata"))
    if layout == "long" and kind in ("sav", "dta"):
        raise ParameterError(
            "`layout='long'` is for CSV, XLSX and Parquet; SPSS and Stata files are wide "
            "(one row per ballot, with value labels)."
        )
    extra_paradata: pd.DataFrame | None = None
    if isinstance(source, pd.DataFrame):
        if survey is None:
            raise ParameterError("`survey` is required when `source` is a DataFrame.")
        frame = source
        check_columns(frame, ["submission_id"], argument="source")
    else:
        frame, stored, labels = load_responses(
            source, meeting, instrument=instrument, include_void=include_void
        )
        survey = survey or stored
        subject_labels = subject_labels or labels
        if "paradata" in separate:
            extra_paradata = store_paradata(source, frame["submission_id"].tolist())
            if len(extra_paradata.columns) == 1:
                extra_paradata = None
    tables = split_tables(frame, survey, separate=tuple(separate), paradata=extra_paradata)
    books = {
        name: codebook(survey, columns=list(t.columns), subject_labels=subject_labels)
        for name, t in tables.items()
    }
    if kind in ("csv", "xlsx", "parquet"):
        shaped: dict[str, pd.DataFrame] = {}
        for name, table in tables.items():
            if layout == "long" and name != "paradata":
                table = long_table(table, survey, language=language if values == "labels" else None)
                if values == "labels":
                    table = table.drop(columns="value").rename(columns={"label": "value"})
            elif values == "labels":
                table = with_labels(table, survey, language=language)
            if layout == "wide":
                names = safe_names([str(c) for c in table.columns])
                table = table.rename(columns=names)
            shaped[name] = table
        tables = shaped
    written: list[Path] = []
    if kind == "xlsx":
        sheets = dict(tables)
        sheets["codebook"] = (
            books["responses"]
            if len(tables) == 1
            else pd.concat([b.assign(table=name) for name, b in books.items()], ignore_index=True)
        )
        sheets["values"] = value_labels(survey)
        written.append(write_xlsx(sheets, path))
        return written
    for name, table in tables.items():
        target = path if name == "responses" else path.with_name(f"{path.stem}_{name}{path.suffix}")
        if kind == "csv":
            write_csv(table, target, bom=bom)
        elif kind == "parquet":
            write_parquet(table, target, metadata=_instrument_metadata(survey, books[name]))
        elif kind == "sav":
            write_sav(
                table, target, survey=survey, language=language, subject_labels=subject_labels
            )
        else:
            write_dta(
                table, target, survey=survey, language=language, subject_labels=subject_labels
            )
        written.append(target)
    return written


# ------------------------------------------------------------------------------------------------
# Aggregate tables
# ------------------------------------------------------------------------------------------------


def aggregate_table(
    frame: pd.DataFrame,
    survey: Survey,
    *,
    variables: Sequence[str] | None = None,
    by: Sequence[str] = ("meeting_id",),
    suppress_below: int | None = 5,
    language: str | None = None,
) -> pd.DataFrame:
    """Counts of each answer per group, for publication, with small cells suppressed.

    Parameters
    ----------
    frame : DataFrame
        A wide response table of codes.
    survey : Survey
    variables : sequence of str, optional
        Single-choice and grid variables to count; default every one in ``frame``.
    by : sequence of str
        Grouping columns (default one table per meeting); ``()`` for the whole table.
    suppress_below : int or None
        Cells (a group × variable) with fewer raters than this are suppressed (default 5, as the
        domain notes ask for published tables); ``None`` to publish everything.
    language : {"zh", "en"}, optional
        Add a ``label`` column with the choice label.

    Returns
    -------
    DataFrame
        ``*by, variable, value, [label], count, n, percent, suppressed``: ``n`` is the number of
        raters who answered the variable in the group (不了解 included), ``percent`` is
        ``100 * count / n``. Suppressed rows have ``count``, ``n`` and ``percent`` missing.

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> from toolkit.exports.tables import responses_from_answers
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> wide = responses_from_answers(s, [{"gender": "female"}] * 3, meta={"meeting_id": ["m"] * 3})
    >>> t = aggregate_table(wide, s, variables=["gender"])
    >>> t[["value", "count", "suppressed"]].values.tolist()
    [['female', <NA>, True], ['male', <NA>, True]]
    """
    if suppress_below is not None:
        check_range("suppress_below", suppress_below, low=1)
    if language is not None:
        check_option("language", language, ("zh", "en"))
    check_columns(frame, list(by), argument="frame")
    described = [c for c in describe_columns(survey, frame.columns) if c.kind in ("single", "grid")]
    if variables is not None:
        check_columns(frame, variables, argument="frame")
        wanted = set(variables)
        described = [c for c in described if c.name in wanted]
        unknown = wanted - {c.name for c in described}
        if unknown:
            raise DataError(
                f"`variables` must be single-choice or grid variables; got {sorted(unknown)}."
            )
    parts = []
    groups = (
        [((), frame)]
        if not by
        else list(frame.groupby(list(by), sort=True, observed=True, dropna=False))
    )
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for column in described:
            counts = group[column.name].value_counts(sort=False, dropna=True)
            n = int(counts.sum())
            labels = dict(zip(column.codes, column.labels, strict=True))
            for code in column.codes:
                row = dict(zip(by, key, strict=True))
                row.update({"variable": column.name, "value": code})
                if language is not None:
                    row["label"] = labels[code].get(language)
                count = int(counts.get(code, 0))
                row.update({"count": count, "n": n, "percent": 100.0 * count / n if n else np.nan})
                parts.append(row)
    columns = [*by, "variable", "value", *(["label"] if language else []), "count", "n", "percent"]
    table = pd.DataFrame(parts, columns=columns)
    table["count"] = table["count"].astype("Int64")
    table["n"] = table["n"].astype("Int64")
    table["percent"] = table["percent"].astype("Float64")
    if suppress_below is None:
        table["suppressed"] = False
        return table
    return suppress_small(table, n="n", columns=["count", "n", "percent"], below=suppress_below)


def export_aggregate(
    table: pd.DataFrame,
    path: str | Path,
    *,
    suppress_below: int = 5,
    bom: bool = False,
) -> Path:
    """Write an aggregate table (CSV or XLSX) with suppressed cells shown as ``<5``.

    Parameters
    ----------
    table : DataFrame
        From :func:`aggregate_table` (or any table with a boolean ``suppressed`` column).
    path : str or Path
        ``.csv`` or ``.xlsx``.
    suppress_below : int
        The threshold used, for the marker text (``<5``).
    bom : bool
        CSV: write a UTF-8 byte-order mark.

    Returns
    -------
    Path
    """
    path = Path(path)
    kind = _format_of(path, None)
    if kind not in ("csv", "xlsx"):
        raise ParameterError("aggregate tables are written as .csv or .xlsx.")
    check_columns(table, ["suppressed"], argument="table")
    shown = table.copy()
    marker = suppressed_marker(suppress_below)
    small = shown["suppressed"].to_numpy(dtype=bool)
    for column in ("count", "n", "percent"):
        if column in shown:
            values = shown[column].astype(object)
            values[small] = marker
            shown[column] = values
    if kind == "csv":
        return write_csv(shown, path, bom=bom)
    return write_xlsx({"table": shown}, path)
