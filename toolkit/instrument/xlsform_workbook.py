"""Reading the cells of an XLSForm workbook: sheets, columns and rows, bounded by the cells that
are really there, with every problem located by sheet, row and column."""

from __future__ import annotations

import datetime as _dt
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.located import CellMark, Locations
from toolkit.instrument.model import DONT_KNOW
from toolkit.instrument.reading import NodeReader

__all__ = [
    "DONT_KNOW_FILTER",
    "LANGUAGE_COLUMNS",
    "MAX_XLSFORM_BYTES",
    "SheetProblems",
    "find_sheet",
    "language_key",
    "open_workbook",
    "parse_sheet",
]

#: Largest workbook accepted (bytes on disk), and the largest it may unpack to.
MAX_XLSFORM_BYTES = 10_000_000
_MAX_UNPACKED = 100_000_000
_MAX_ROWS = 20_000
#: Columns read per row, non-empty cells per workbook, blank rows that end a sheet.
_MAX_COLUMNS = 1_000
_MAX_CELLS = 500_000
_BLANK_RUN = 5_000
_MAX_PROBLEMS = 100

#: The ``choice_filter`` of a grid row that does not offer 不了解.
DONT_KNOW_FILTER = f"name != '{DONT_KNOW}'"
DK_FILTER_RE = re.compile(r"\s*name\s*!=\s*(['\"])dont_know\1\s*")

#: The language suffix written for each language (``label::中文 (zh)``).
LANGUAGE_COLUMNS: Mapping[str, str] = {"zh": "中文 (zh)", "en": "English (en)"}
_LANGUAGE_WORDS = {
    "zh": "zh",
    "chinese": "zh",
    "中文": "zh",
    "汉语": "zh",
    "简体中文": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
_LANG_CODE_RE = re.compile(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*\)\s*$")

TRANSLATED = ("label", "hint", "required_message", "constraint_message")
_PLAIN = (
    "type",
    "name",
    "required",
    "constraint",
    "relevant",
    "default",
    "appearance",
    "choice_filter",
    "calculation",
    "repeat_count",
    "read_only",
    "parameters",
)
_OURS = ("sanhui::per_subject", "sanhui::page", "sanhui::min_length", "sanhui::max_length")
SURVEY_KNOWN = (*_PLAIN, *TRANSLATED, *_OURS)
_ALIASES = {
    "list name": "list_name",
    "caption": "label",
    "jr:constraintmsg": "constraint_message",
    "jr:requiredmsg": "required_message",
    "constraint message": "constraint_message",
    "required message": "required_message",
    "choice filter": "choice_filter",
    "id_string": "form_id",
    "title": "form_title",
    "readonly": "read_only",
}
_UNSUPPORTED_COLUMNS = {
    "image": "media (images)",
    "big-image": "media (images)",
    "audio": "media (audio)",
    "video": "media (video)",
    "media": "media",
    "trigger": "triggers",
    "guidance_hint": "guidance hints",
    "bind": "custom bind attributes",
    "instance": "custom instance attributes",
    "body": "custom body attributes",
    "label_expression": "dynamic labels",
}
CHOICES_KNOWN = ("list_name", "name", "label", "points", "sanhui_ordered")
SETTINGS_KNOWN = (
    "form_id",
    "version",
    "form_title",
    "default_language",
    "anonymous",
    "kind",
    "sanhui::title_en",
    "sanhui::description",
    "sanhui::description_en",
    "allow_choice_duplicates",
)
#: Deployment settings that do not change the instrument (accepted and not kept).
SETTINGS_IGNORED = (
    "instance_name",
    "public_key",
    "submission_url",
    "style",
    "auto_send",
    "auto_delete",
    "clean_text_values",
    "namespaces",
    "omit_instanceid",
    "name",
)
KINDS = ("evaluation", "hearing", "coordination", "other")
TRUE = ("yes", "true", "1", "true()", "y")
FALSE = ("no", "false", "0", "false()", "n")

TYPE_WORDS: Mapping[str, str] = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
    "calculate": "calculate",
    "time": "time",
    "datetime": "datetime",
    "range": "range",
}
SELECT_WORDS: Mapping[str, str] = {
    "select_one": "single",
    "select one": "single",
    "select_multiple": "multiple",
    "select multiple": "multiple",
    "select all that apply": "multiple",
}
GROUP_WORDS: Mapping[str, str] = {
    "begin group": "begin",
    "begin_group": "begin",
    "end group": "end",
    "end_group": "end",
    "begin repeat": "repeat",
    "begin_repeat": "repeat",
    "end repeat": "end_repeat",
    "end_repeat": "end_repeat",
}
#: Types that name a feature sanhui does not support: type → (feature, problem code).
UNSUPPORTED_TYPES: Mapping[str, tuple[str, str]] = {
    **{t: ("geo", "E_UNSUPPORTED_GEO") for t in ("geopoint", "geotrace", "geoshape", "gps")},
    "start-geopoint": ("geo", "E_UNSUPPORTED_GEO"),
    **{
        t: ("media", "E_UNSUPPORTED_MEDIA")
        for t in ("image", "photo", "audio", "video", "file", "background-audio", "barcode")
    },
    **{
        t: ("choices from a file outside the workbook", "E_UNSUPPORTED_EXTERNAL")
        for t in (
            "select_one_from_file",
            "select_multiple_from_file",
            "select_multiple_external",
            "select one external",
            "csv-external",
            "xml-external",
        )
    },
    "rank": ("ranking (`rank`)", "E_UNSUPPORTED_TYPE"),
    "acknowledge": ("`acknowledge`", "E_UNSUPPORTED_TYPE"),
    "hidden": ("`hidden`", "E_UNSUPPORTED_TYPE"),
    "trigger": ("`trigger`", "E_UNSUPPORTED_TYPE"),
}
#: XLSForm metadata types (recorded by the tablet as paradata), with their aliases.
METADATA_WORDS: Mapping[str, str] = {
    "start": "start",
    "end": "end",
    "today": "today",
    "deviceid": "deviceid",
    "imei": "deviceid",
    "uri:deviceid": "deviceid",
    "username": "username",
    "uri:username": "username",
    "phonenumber": "phonenumber",
    "phone number": "phonenumber",
    "email": "email",
    "uri:email": "email",
    "subscriberid": "subscriberid",
    "simserial": "simserial",
    "sim serial": "simserial",
    "audit": "audit",
}

GRID_ROW_APPEARANCES = frozenset(
    {"likert", "table-list", "list-nolabel", "horizontal", "label", "minimal", "quick"}
)
GRID_GROUP_APPEARANCES = frozenset({"field-list", "table-list"})


# ------------------------------------------------------------------------------------------------
# Cells, columns and locations
# ------------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as text: None for empty; numbers without a spurious ``.0``; dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):  # as pyxform reads it (a name can be FALSE)
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def language_key(spec: str) -> str:
    """The language of a column suffix: ``中文 (zh)``, ``Chinese``, ``zh`` → ``zh``;
    ``English (en)``, ``english`` → ``en``; ``Swahili (sw)`` → ``sw``; a name without a code is
    kept as written (``Tetun``), as pyxform does.

    >>> language_key("Chinese (zh)"), language_key("English"), language_key("Swahili (sw)")
    ('zh', 'en', 'sw')
    """
    spec = " ".join(spec.split())
    match = _LANG_CODE_RE.search(spec)
    if match:
        return match.group(1).lower()
    return _LANGUAGE_WORDS.get(spec.lower(), spec)


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written
    base: str  # normalised field name ("label", "sanhui::per_subject", ...)
    language: str | None  # the language key of translated columns (zh, en, fr, ...)

    @property
    def letter(self) -> str:
        return get_column_letter(self.index + 1)


@dataclass
class Row:
    number: int  # the spreadsheet row number (1-based)
    cells: dict[str, str]  # field → text (translated fields as "label@zh")


@dataclass
class Sheet:
    name: str
    columns: list[Column]
    rows: list[Row]

    def column(self, base: str, language: str | None = None) -> Column | None:
        for col in self.columns:
            if col.base == base and (language is None or col.language == language):
                return col
        return None


class SheetProblems:
    """Adds the problems of the workbook to the builder's one collector, located by cell."""

    def __init__(self, sink: NodeReader, locations: Locations) -> None:
        self.sink = sink
        self.locations = locations
        self.source = sink.source
        self.warnings: list[Problem] = []
        #: read forms using unsupported features in optional questions, dropping those
        self.drop_unsupported = False
        self.dropped: list[str] = []

    def mark(self, sheet: str | None, row: int | None, column: Column | str | None) -> CellMark:
        header = column.header if isinstance(column, Column) else column
        index = column.index if isinstance(column, Column) else None
        return self.locations.cell(sheet or "", row or 0, header, index)

    def where(
        self, sheet: str | None, row: int | None = None, column: Column | str | None = None
    ) -> str:
        text = self.source
        if sheet is not None:
            text += f", sheet `{sheet}`"
        if row is not None:
            text += f", row {row}"
        if isinstance(column, Column):
            text += f", column `{column.header}` ({column.letter})"
        elif column is not None:
            text += f", column `{column}`"
        return text

    def add(
        self,
        sheet: str | None,
        row: int | None,
        column: Column | str | None,
        message: str,
        fix: str | None = None,
        name: str | None = None,
        *,
        code: str,
    ) -> None:
        key = self.mark(sheet, row, column).line + 1 if sheet is not None else 0
        problem = Problem(self.where(sheet, row, column), message, fix, name, code)
        if code.startswith("W_"):
            self.warnings.append(problem)
        else:
            self.sink.problems.append((key, problem))

    @property
    def failed(self) -> bool:
        return bool(self.sink.problems)

    def error(self) -> InstrumentError:
        return self.sink.error()


def open_workbook(path: Path, problems: SheetProblems) -> dict[str, list[tuple[Any, ...]]] | None:
    """Every sheet's non-blank rows, bounded by the cells actually present (never by the
    ``dimension`` a sheet claims); None (with a problem) if the file cannot be read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.add(
            None,
            None,
            None,
            f"cannot read the file ({exc.strerror}).",
            "Check the path.",
            code="E_UNREADABLE",
        )
        return None
    if size > MAX_XLSFORM_BYTES:
        problems.add(
            None,
            None,
            None,
            f"the file is {size:,} bytes; XLSForm workbooks are limited to {MAX_XLSFORM_BYTES:,}.",
            "Check that this is really an instrument.",
            code="E_TOO_LARGE",
        )
        return None
    if path.suffix.lower() == ".xls":
        problems.add(
            None,
            None,
            None,
            "old-style .xls workbooks are not read.",
            "Open it in Excel or LibreOffice and save it as .xlsx.",
            code="E_NOT_XLSX",
        )
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        problems.add(
            None,
            None,
            None,
            "the file is not an .xlsx workbook.",
            "Save the XLSForm as an Excel workbook (.xlsx).",
            code="E_NOT_XLSX",
        )
        return None
    if unpacked > _MAX_UNPACKED:
        problems.add(
            None,
            None,
            None,
            f"the workbook unpacks to {unpacked:,} bytes, more than an instrument needs.",
            "Check that this is really an instrument.",
            code="E_TOO_LARGE",
        )
        return None
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files
        problems.add(
            None,
            None,
            None,
            f"cannot open the workbook ({type(exc).__name__}: {exc}).",
            code="E_NOT_XLSX",
        )
        return None
    sheets: dict[str, list[tuple[Any, ...]]] = {}
    cells = 0
    try:
        for sheet in book.worksheets:
            # A sheet's `dimension` may claim far more than it holds (A1:XFD20000); reading by it
            # pads every row to the claimed width. Forget it and read the cells that are there.
            sheet.reset_dimensions()
            rows: list[tuple[Any, ...]] = []
            blank_run = 0
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                values = tuple(row[:_MAX_COLUMNS])
                filled = sum(1 for v in values if v is not None and str(v).strip())
                if not filled:
                    blank_run += 1
                    if blank_run > _BLANK_RUN:
                        break  # formatted but empty rows to the end of the sheet
                    rows.append(())
                    continue
                blank_run = 0
                cells += filled
                if len(rows) - rows.count(()) >= _MAX_ROWS or cells > _MAX_CELLS:
                    problems.add(
                        sheet.title,
                        number,
                        None,
                        f"the sheet has more than {_MAX_ROWS:,} rows or the workbook more than "
                        f"{_MAX_CELLS:,} filled cells.",
                        "Split the instrument, or check that this is really an instrument.",
                        code="E_TOO_LARGE",
                    )
                    break
                rows.append(values)
            while rows and rows[-1] == ():
                rows.pop()
            sheets[sheet.title] = rows
    finally:
        book.close()
    return sheets


def find_sheet(
    sheets: Mapping[str, list[tuple[Any, ...]]],
    name: str,
    problems: SheetProblems,
    *,
    required: bool,
) -> tuple[str, list[tuple[Any, ...]]] | None:
    for title, rows in sheets.items():
        if title.strip().lower() == name:
            return title, rows
    if required:
        close = did_you_mean(name, [t.strip().lower() for t in sheets])
        renamed = next((t for t in sheets if close and t.strip().lower() in close), None)
        fix = (
            f"Rename the sheet `{renamed}` to `{name}`."
            if renamed
            else f"Add a sheet named `{name}` (see https://xlsform.org)."
        )
        problems.add(
            None,
            None,
            None,
            f"the workbook has no `{name}` sheet (its sheets: "
            f"{', '.join(f'`{t}`' for t in sheets) or 'none'}).",
            fix,
            code="E_MISSING_SHEET",
        )
    return None


def _split_header(text: str) -> tuple[str, str]:
    """``label::English (en)`` → (``label``, ``English (en)``); the older ``label:English`` and
    ``bind:relevant`` / ``jr:constraintMsg`` spellings are read too."""
    lowered = text.strip()
    if "::" in lowered:
        base, _, spec = lowered.partition("::")
        return base.strip().lower(), spec.strip()
    if ":" in lowered:
        prefix, _, rest = lowered.partition(":")
        if prefix.strip().lower() in ("bind", "control", "body"):
            return _ALIASES.get(rest.strip().lower(), rest.strip().lower()), ""
        if prefix.strip().lower() == "jr":
            return _ALIASES.get(lowered.lower(), lowered.lower()), ""
        return prefix.strip().lower(), rest.strip()
    return lowered.lower(), ""


_SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def parse_sheet(
    title: str,
    rows: list[tuple[Any, ...]],
    known: Sequence[str],
    translated: Sequence[str],
    problems: SheetProblems,
    *,
    sheet: str,
    keep_unknown: bool = False,
) -> Sheet:
    """Read the header (the first non-blank row) and every non-blank row. Unknown columns are
    ignored with a warning, as pyxform ignores them; unsupported ones are reported."""
    start = next((i for i, r in enumerate(rows) if r), 0)
    header = rows[start] if rows else ()
    columns: list[Column] = []
    seen: dict[tuple[str, str | None], Column] = {}
    data_rows = rows[start + 1 :]
    header_row = start + 1
    for index, raw in enumerate(header):
        text = cell_text(raw)
        if text is None:
            continue
        text = text.strip()
        base, lang_spec = _split_header(text)
        base = _ALIASES.get(base, base).strip()
        has_data = any(index < len(r) and cell_text(r[index]) is not None for r in data_rows)
        if text.lower().startswith("sanhui::"):
            base, lang_spec = text.lower(), ""
        column = Column(index, text, base, None)
        if base in _UNSUPPORTED_COLUMNS or base == "media":
            media = base in ("image", "big-image", "audio", "video", "media")
            if has_data and media and problems.drop_unsupported:
                problems.dropped.append(f"column `{text}` (media)")
            elif has_data:
                what = _UNSUPPORTED_COLUMNS.get(base, "media")
                problems.add(
                    sheet,
                    header_row,
                    column,
                    f"column `{text}`: {what} are not supported by sanhui instruments.",
                    "Remove the column (or empty it)"
                    + (", or read with --drop-unsupported." if media else "."),
                    code="E_UNSUPPORTED_MEDIA" if media else "E_UNSUPPORTED_COLUMN",
                )
            continue
        if base not in known and keep_unknown and not lang_spec and " " not in base:
            # a choices column pyxform keeps for choice_filter expressions (state, county, ...)
            known = (*known, base)
        if base not in known:
            if has_data:
                hint = did_you_mean(base, known).strip()
                problems.add(
                    sheet,
                    header_row,
                    column,
                    f"unknown column `{text}` is ignored.",
                    hint or None,
                    code="W_UNKNOWN_COLUMN",
                )
            continue
        language: str | None = None
        if base in translated:
            language = language_key(lang_spec) if lang_spec else "zh"
        column = Column(index, text, base, language)
        key = (column.base, column.language)
        if key in seen and lang_spec and not seen[key].header.count(":"):
            # `label` and `label::Chinese`: the plain column is pyxform's `default` language
            old = seen.pop(key)
            moved = Column(old.index, old.header, old.base, "default")
            columns[columns.index(old)] = moved
            seen[(old.base, "default")] = moved
        if key in seen:
            if has_data:
                problems.add(
                    sheet,
                    header_row,
                    column,
                    f"column `{text}` repeats column `{seen[key].header}` ({seen[key].letter}).",
                    "Keep one of them.",
                    code="E_DUPLICATE_COLUMN",
                )
            continue
        seen[key] = column
        columns.append(column)
    parsed: list[Row] = []
    smart_quotes = sheet.lower() == "survey"
    for number, raw_row in enumerate(data_rows, header_row + 1):
        cells: dict[str, str] = {}
        for column in columns:
            if column.index < len(raw_row):
                value = cell_text(raw_row[column.index])
                if value is not None:
                    cell_key = (
                        f"{column.base}@{column.language}" if column.language else column.base
                    )
                    if smart_quotes and column.base not in translated:
                        # pyxform's clean_text_values: ‘other’ in an expression is 'other'
                        # (texts keep their quotes: “不了解” is typography, not syntax)
                        value = value.translate(_SMART_QUOTES)
                    cells[cell_key] = value if column.base in translated else value.strip()
        if cells:
            parsed.append(Row(number, cells))
    return Sheet(title, columns, parsed)
