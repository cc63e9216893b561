"""Export ballots to CSV, XLSX, Parquet, SPSS (``.sav``) and Stata (``.dta``).

:func:`export_responses` takes a :class:`~toolkit.store.store.Store` (and a meeting selection) or a
wide response table and its instrument, and writes one file per table (for XLSX: one sheet per
table plus a ``codebook`` sheet):

- ``labels="codes"`` (stored codes, ``satisfied``) or ``"zh"``/``"en"`` (满意 / Satisfied), as
  in ``Store.responses``, in CSV, XLSX and Parquet; SPSS and Stata files always hold numbers 1, 2,
  ... in scale order (98 = 不了解) with variable labels and value labels in ``language``, and the
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

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns, check_option, check_range, deprecated
from toolkit.errors import DataError, ParameterError
from toolkit.exports.codebook import codebook, value_labels
from toolkit.exports.formats import (
    write_csv,
    write_dta,
    write_parquet,
    write_sav,
    write_xlsx,
)
from toolkit.exports.safe import (
    suppress_small,
    suppressed_marker,
)
from toolkit.exports.tables import (
    describe_columns,
    load_responses,
    long_table,
    safe_names,
    split_tables,
    store_paradata,
    with_labels,
)
from toolkit.instrument.model import Survey, Text
from toolkit.labels import Labels, check_labels, label_language

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
    labels: Labels | None = None,
    language: str | None = None,
    layout: str = "wide",
    separate: Sequence[str] = (),
    include_void: bool = False,
    bom: bool = False,
    subject_labels: Mapping[str, Text] | None = None,
    values: str | None = None,
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
    labels : {"codes", "zh", "en"}
        Answers as stored codes (``satisfied``, the default) or as choice labels in Chinese or
        English (CSV, XLSX, Parquet): the same choice as ``Store.responses(labels=)``.
    language : {"zh", "en"}, optional
        Language of the variable labels, value labels (SPSS, Stata) and the codebook's first label
        column; default the language of ``labels``, Chinese for codes.
    layout : {"wide", "long"}
        One row per ballot, or one row per answer (CSV, XLSX, Parquet only).
    separate : sequence of {"profile", "paradata"}
        Tables to take out of the responses.
    bom : bool
        CSV: write a UTF-8 byte-order mark (for Excel on Chinese Windows).
    subject_labels : mapping, optional
        Subject id → label; with a store, taken from its meetings.
    values : {"codes", "labels"}, optional
        Deprecated: ``values="labels"`` is ``labels=language``, ``values="codes"`` is
        ``labels="codes"``.

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
    if values is not None:
        deprecated("export_responses(values=)", "export_responses(labels='codes'|'zh'|'en')")
        check_option("values", values, ("codes", "labels"))
        if labels is not None:
            raise ParameterError("pass `labels` only; `values` is its old name.")
        labels = (language or "zh") if values == "labels" else "codes"  # type: ignore[assignment]
    shown = check_labels("codes" if labels is None else labels)
    language = check_option("language", language or label_language(shown), ("zh", "en"))
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
        frame, stored, stored_labels = load_responses(
            source, meeting, instrument=instrument, include_void=include_void
        )
        survey = survey or stored
        subject_labels = subject_labels or stored_labels
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
                table = long_table(table, survey, language=None if shown == "codes" else shown)
                if shown != "codes":
                    table = table.drop(columns="value").rename(columns={"label": "value"})
            elif shown != "codes":
                table = with_labels(table, survey, language=shown)
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
        threshold of docs/domain.md, Evaluation ballots); ``None`` to publish everything.
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
