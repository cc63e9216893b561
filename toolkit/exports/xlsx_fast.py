"""A streaming XLSX (SpreadsheetML) writer that builds each sheet column by column.

Row-by-row writers (openpyxl, xlsxwriter) spend several microseconds of Python per cell: 100,000
ballots × 61 columns took 69 s with openpyxl's write-only mode and about 35 s with xlsxwriter's
``constant_memory`` mode (typed ``write_string``/``write_number`` calls), against about 3 s here
(``bench/bench_exports.py``). This writer does the per-cell work once per *distinct value* of a column
instead: each column is factorized (categoricals already are), the XML of one cell is built for
each distinct value, and the column's cells are taken by code with numpy. Rows are then joined
and streamed, in chunks, into the zip archive. Only the minimal OOXML parts are written
(content types, relationships, workbook, styles, document properties, one worksheet per table).

What every cell gets:

- text is protected from formula injection (:func:`~toolkit.exports.safe.neutralize_formula`: a
  leading apostrophe) and stored as an inline string (``t="inlineStr"``), never a formula; ``&``,
  ``<`` and ``>`` are escaped, a carriage return is kept as ``&#13;``, characters XML 1.0 does
  not allow (control characters, lone surrogates) are dropped;
- numbers (negative ones too) are numeric cells; booleans are boolean cells; NaN, ±inf, None,
  ``pd.NA`` and ``NaT`` are empty cells;
- times are converted to UTC, their zone dropped (Excel has none), and written as Excel serial
  numbers with the ``yyyy-mm-dd h:mm:ss`` format; durations with ``[h]:mm:ss``;
- the header row is bold and frozen; sheet names are made valid (at most 31 characters, none of
  ``: \\ / ? * [ ]``, unique).

References
----------
ECMA-376 *Office Open XML File Formats*, Part 1, §18.3 (worksheets), §18.8 (styles).
OWASP Foundation, *CSV Injection*.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
>>> frame = pd.DataFrame({"意见": ["=1+1", "好"], "n": [-1, 2]})
>>> _ = write_workbook({"responses": frame}, path)
>>> list(openpyxl.load_workbook(path)["responses"].iter_rows(values_only=True))
[('意见', 'n'), ("'=1+1", -1), ('好', 2)]
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from toolkit.errors import DataError
from toolkit.exports.safe import FORMULA_PREFIXES, neutralize_formula

__all__ = ["MAX_CELL_TEXT", "MAX_COLUMNS", "MAX_ROWS", "sheet_names", "write_workbook"]

#: Excel's limits: rows per sheet (header included), columns, characters in a cell.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_TEXT = 32_767

_MAX_SHEET_NAME = 31
_CHUNK_ROWS = 5_000
_ZIP64_ABOVE = 1 << 30  # force Zip64 for a sheet whose XML may pass 2 GiB (estimated)
_ROW = "\x01"  # placeholder for the row number in a cell reference; never in escaped text
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_SHEET_CHARS = re.compile(r"[:\\/?*\[\]]")
_EPOCH_SERIAL = 25_569  # Excel serial of 1970-01-01 (1900 date system)
_NS_PER_DAY = 86_400 * 10**9

# cellXfs indices in styles.xml
_STYLE_BOLD = 1
_STYLE_DATETIME = 2
_STYLE_DURATION = 3

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLES = (
    _XML_DECL + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


# ------------------------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Text for an XML text node (illegal characters already dropped): ``& < >`` escaped, CR kept."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _text_cell(text: str, *, style: int = 0) -> str | None:
    """The attributes and content of an inline-string cell (after ``<c r="A1"``); ``None`` when
    nothing is left of the text (empty, or only characters XML does not allow)."""
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)  # first, so that "\x00=1" is protected as "=1" is
    if not text:
        return None
    text = neutralize_formula(text)
    if len(text) > MAX_CELL_TEXT:
        raise DataError(
            f"write_xlsx: a text cell has {len(text):,} characters, more than the {MAX_CELL_TEXT:,}"
            " an Excel cell holds; export this table as CSV or Parquet, or shorten the text."
        )
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    styled = f' s="{style}"' if style else ""
    return f'{styled} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _number_cell(value: float | int, *, style: int = 0) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    styled = f' s="{style}"' if style else ""
    return f"{styled}><v>{value!r}</v></c>"


def _serial(value: dt.datetime | dt.date) -> float:
    """Excel serial (1900 date system) of a naive or aware datetime (aware ones in UTC)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return float(_serials(np.array([stamp.as_unit("ns").value], dtype=np.int64))[0])


def _serials(nanoseconds: np.ndarray) -> np.ndarray:
    """Excel serials of times given as nanoseconds since 1970-01-01 (naive UTC).

    Whole days and the time of day are added separately, as openpyxl does; serials up to 60
    (before 1900-03-01) are shifted by Excel's phantom 1900-02-29.
    """
    days, rest = np.divmod(nanoseconds, _NS_PER_DAY)
    days = days + _EPOCH_SERIAL
    days = np.where((days > 0) & (days <= 60), days - 1, days)
    microseconds = rest // 1_000
    return days + microseconds / 1e6 / 86_400


def _cell(value: Any) -> str | None:
    """The XML of one cell after ``<c r="A1"``, for any Python value; ``None`` for an empty one."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return _text_cell(value)
    if isinstance(value, bool | np.bool_):
        return f' t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Integral):
        return _number_cell(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, np.datetime64 | np.timedelta64):
        return _number_cell(float(value))
    if isinstance(value, dt.datetime | dt.date | np.datetime64):
        if isinstance(value, np.datetime64) and np.isnat(value):
            return None
        return _number_cell(_serial(value), style=_STYLE_DATETIME)  # type: ignore[arg-type]
    if isinstance(value, dt.timedelta | np.timedelta64):
        if isinstance(value, np.timedelta64) and np.isnat(value):
            return None
        days = pd.Timedelta(value).value / _NS_PER_DAY
        return _number_cell(days, style=_STYLE_DURATION)
    return _text_cell(str(value))


def _numbers(values: np.ndarray, start: str, style: int) -> list[str]:
    """Cells of distinct numbers (a numpy array), ``""`` for the non-finite ones."""
    styled = f' s="{style}"' if style else ""
    head = f"{start}{styled}><v>"
    cells = [f"{head}{v!r}</v></c>" for v in values.tolist()]
    if values.dtype.kind == "f":
        for i in np.flatnonzero(~np.isfinite(values)):
            cells[i] = ""
    return cells


def _column_cells(series: pd.Series, letter: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes (``-1`` for missing) and the cell XML of each distinct value of one column.

    The cell list ends with ``""``, so that ``cells[codes]`` gives empty cells for code ``-1``.
    """
    start = f'<c r="{letter}{_ROW}"'
    dtype = series.dtype
    cells: list[str]
    codes: Any
    distinct: Any
    if isinstance(dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        cells = _cells(list(dtype.categories), start)
    elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        times = series
        if isinstance(dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = times.isna().to_numpy()
        unit = "datetime64[ns]" if times.dtype.kind == "M" else "timedelta64[ns]"
        ticks = times.to_numpy(dtype=unit).view(np.int64)
        codes, distinct = pd.factorize(np.where(missing, 0, ticks))
        codes[missing] = -1
        if unit.startswith("datetime"):
            cells = _numbers(_serials(np.asarray(distinct)), start, _STYLE_DATETIME)
        else:
            cells = _numbers(np.asarray(distinct) / _NS_PER_DAY, start, _STYLE_DURATION)
    elif (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and dtype.kind in "iuf"
    ):
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        kind = {"f": np.float64, "i": np.int64, "u": np.uint64}[dtype.kind]
        cells = _numbers(np.asarray(distinct, dtype=kind), start, 0)
    elif pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(
        series, skipna=True
    ) not in ("string", "empty"):
        # mixed Python objects (1, True and 1.0 would share a code if factorized): one per cell
        values = series.to_numpy(dtype=object)
        codes = np.arange(len(values))
        cells = [_any_cell(v, start) for v in values]
    else:  # text, booleans
        if not pd.api.types.is_bool_dtype(dtype):
            series = _without_illegal(series)
        codes, distinct = pd.factorize(series, use_na_sentinel=True)
        if pd.api.types.is_bool_dtype(dtype):
            distinct = [bool(v) for v in distinct]
        cells = _cells(list(np.asarray(distinct, dtype=object)), start)
    cells.append("")
    return np.asarray(codes, dtype=np.intp), np.array(cells, dtype=object)


def _without_illegal(series: pd.Series) -> pd.Series:
    """Text without the characters XML does not allow, dropped before factorizing: pandas 3.0
    hashes a string only up to its first NUL, so ``"\x00="`` and ``""`` would share one cell."""
    values = series.to_numpy(dtype=object)
    if not _ILLEGAL_XML.search("".join(v for v in values if isinstance(v, str))):
        return series
    cleaned = [_ILLEGAL_XML.sub("", v) if isinstance(v, str) else v for v in values]
    return pd.Series(cleaned, index=series.index, dtype=object)


def _any_cell(value: Any, start: str) -> str:
    body = _cell(value)
    return "" if body is None else start + body


def _cells(values: Sequence[Any], start: str) -> list[str]:
    """Cells of distinct values; text is escaped in one pass over all of it when possible."""
    texts = values if isinstance(values, list) else list(values)
    if not texts or not all(isinstance(t, str) for t in texts):
        return [_any_cell(v, start) for v in texts]
    if max(map(len, texts)) >= MAX_CELL_TEXT or _ILLEGAL_XML.search("".join(texts)):
        return [_any_cell(v, start) for v in texts]  # the error, or characters to drop
    safe = [("'" + t) if t.startswith(FORMULA_PREFIXES) else t for t in texts]
    joined = "\x00".join(safe)  # NUL is not allowed in XML, so it is in no text
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        if char in joined:
            joined = joined.replace(char, entity)
    head = f'{start} t="inlineStr"><is><t'
    return [
        ""
        if not text
        else f'{head} xml:space="preserve">{xml}</t></is></c>'
        if text[0].isspace() or text[-1].isspace()
        else f"{head}>{xml}</t></is></c>"
        for text, xml in zip(safe, joined.split("\x00"), strict=True)
    ]


# ------------------------------------------------------------------------------------------------
# Sheets
# ------------------------------------------------------------------------------------------------


def sheet_names(titles: Sequence[Any]) -> list[str]:
    """Valid, distinct Excel sheet names for ``titles``.

    Characters Excel refuses (``: \\ / ? * [ ]``) become ``_``, names are cut to 31 characters,
    leading and trailing apostrophes are dropped, an empty name becomes ``Sheet{i}`` and a name
    equal (ignoring case) to an earlier one gets a ``~2``, ``~3``, ... suffix.

    Parameters
    ----------
    titles : sequence
        Wanted names (anything with ``str``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> sheet_names(["responses", "a/b", "x" * 40, "X" * 40])
    ['responses', 'a_b', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXX~2']
    """
    out: list[str] = []
    taken: set[str] = set()
    for i, title in enumerate(titles, start=1):
        name = _ILLEGAL_XML.sub("", _BAD_SHEET_CHARS.sub("_", str(title))).strip("'")
        name = name[:_MAX_SHEET_NAME] or f"Sheet{i}"
        candidate, k = name, 1
        while candidate.casefold() in taken or candidate.casefold() == "history":
            k += 1
            suffix = f"~{k}"
            candidate = name[: _MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _sheet_chunks(frame: pd.DataFrame, *, selected: bool) -> Iterator[str]:
    """The worksheet XML of a table, in pieces of a few thousand rows."""
    n_rows, n_columns = frame.shape
    if n_rows + 1 > MAX_ROWS:
        raise DataError(
            f"write_xlsx: a table has {n_rows:,} rows; an Excel sheet holds {MAX_ROWS - 1:,} below"
            " its header. Export it as CSV or Parquet, or split it."
        )
    if n_columns > MAX_COLUMNS:
        raise DataError(
            f"write_xlsx: a table has {n_columns:,} columns; an Excel sheet holds {MAX_COLUMNS:,}."
            " Export it as CSV or Parquet, or use the long layout."
        )
    letters = [get_column_letter(j + 1) for j in range(n_columns)]
    last = f"{letters[-1]}{n_rows + 1}" if n_columns else "A1"
    tab = ' tabSelected="1"' if selected else ""
    header = "".join(
        f'<c r="{letter}1"{body}'
        for letter, name in zip(letters, frame.columns, strict=True)
        if (body := _text_cell(str(name), style=_STYLE_BOLD)) is not None
    )
    yield (
        _XML_DECL + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f'<sheetData><row r="1">{header}</row>'
    )
    columns = [
        _column_cells(frame.iloc[:, j], letters[j]) for j in range(n_columns)
    ]  # (codes, cells) per column
    for start in range(0, n_rows, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n_rows)
        parts = [cells[codes[start:stop]].tolist() for codes, cells in columns]
        rows = []
        for number, row in enumerate(zip(*parts, strict=True), start=start + 2):
            r = str(number)
            rows.append(f'<row r="{r}">' + "".join(row).replace(_ROW, r) + "</row>")
        yield "".join(rows)
    yield (
        "</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


# ------------------------------------------------------------------------------------------------
# The package
# ------------------------------------------------------------------------------------------------


def _package_parts(names: Sequence[str]) -> dict[str, str]:
    """Every part but the worksheets."""
    n = len(names)
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "[Content_Types].xml": _XML_DECL
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{sheet_types}"
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>",
        "_rels/.rels": _XML_DECL + f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>",
        "docProps/app.xml": _XML_DECL + "<Properties xmlns="
        '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>sanhui</Application></Properties>",
        "docProps/core.xml": _XML_DECL + "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>sanhui</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>",
        "xl/workbook.xml": _XML_DECL + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{sheets}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": _XML_DECL + f'<Relationships xmlns="{_PKG_REL}">'
        f"{sheet_rels}"
        f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": _STYLES,
    }


def write_workbook(
    tables: Mapping[Any, pd.DataFrame], path: str | Path, *, compresslevel: int = 1
) -> Path:
    """Write tables as the sheets of one XLSX workbook, streaming each sheet into the archive.

    Parameters
    ----------
    tables : mapping of sheet name → DataFrame
        In sheet order; names are made valid with :func:`sheet_names`. Column names are the
        header row (as text). The index is not written.
    path : str or Path
    compresslevel : int
        zlib level of the archive's deflate compression (1, the default, is fastest; 6 makes
        files about a quarter smaller and takes about twice as long).

    Returns
    -------
    Path

    Raises
    ------
    DataError
        A table has more rows or columns than an Excel sheet, or a text longer than a cell.
    """
    path = Path(path)
    names = sheet_names(list(tables))
    if not names:
        raise DataError("write_xlsx: no tables to write; an XLSX workbook needs one sheet or more.")
    parts = _package_parts(names)
    with zipfile.ZipFile(
        path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
    ) as archive:
        for name in ("[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "docProps/core.xml"):
            archive.writestr(name, parts[name])
        archive.writestr("xl/workbook.xml", parts["xl/workbook.xml"])
        archive.writestr("xl/_rels/workbook.xml.rels", parts["xl/_rels/workbook.xml.rels"])
        archive.writestr("xl/styles.xml", parts["xl/styles.xml"])
        for i, frame in enumerate(tables.values(), start=1):
            chunks = _sheet_chunks(frame, selected=i == 1)
            first = next(chunks).encode("utf-8")
            second = next(chunks).encode("utf-8")
            estimate = len(first) + len(second) * (1 + len(frame) // _CHUNK_ROWS)
            with archive.open(
                f"xl/worksheets/sheet{i}.xml", "w", force_zip64=estimate > _ZIP64_ABOVE
            ) as member:
                member.write(first)
                member.write(second)
                for chunk in chunks:
                    member.write(chunk.encode("utf-8"))
    return path
