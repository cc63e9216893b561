"""Instruments as XLSForm workbooks (ODK, KoboToolbox, SurveyCTO): read, write and convert.

:func:`read_xlsform` reads the ``survey``, ``choices`` and ``settings`` sheets of an ``.xlsx``
file into the instrument model; :func:`write_xlsform` writes an instrument back; :func:`convert`
converts between YAML and XLSForm by file extension (``sanhui convert IN OUT``). A round trip
YAML → XLSForm → instrument gives an equal :class:`~toolkit.instrument.model.Survey`, and the written
workbook is accepted by ``pyxform``, the reference XLSForm converter.

Mapping
-------
=================================  ===========================================================
XLSForm                            instrument model
=================================  ===========================================================
``select_one L`` / ``select_multiple L``   ``single`` / ``multiple`` with ``choices: L``
``integer``, ``decimal``, ``text``, ``date``, ``note``   the same types
top-level ``begin group`` … ``end group``  a page (the group's label is the page title)
a group inside a page, appearance ``field-list``, rows ``select_one L`` of one list (appearance
``likert`` or ``table-list``)       a ``grid``; the rows are its items
a choice ``dont_know`` in a grid's list    the grid's 不了解 answer (its label is the list's
                                   ``dont_know_label``); a row with ``choice_filter``
                                   ``name != 'dont_know'`` does not offer it
``label::中文 (zh)``, ``label::Chinese (zh)``, ``label::English (en)``; plain ``label``  Chinese
(``zh``) and English (``en``) texts; a plain ``label`` (no language) is Chinese
``hint``, ``required`` (yes/true/1), ``required_message``, ``constraint``,
``constraint_message``, ``relevant``, ``default``, ``appearance``   the same fields
``settings``: ``form_id``, ``version``, ``form_title``, ``default_language``, ``anonymous``,
``kind``                           ``settings``: ``id``, ``version``, ``title`` (Chinese), ...
=================================  ===========================================================

Questions outside any group form a page of their own (``page_1``, ``page_2``, ...).

What XLSForm cannot say is kept in extra columns, which ``pyxform`` ignores (checked by a test):

- survey sheet: ``sanhui::per_subject`` (``yes`` on a grid's ``begin group`` row: the grid is
  repeated for each evaluated subject), ``sanhui::page`` (the page id, when the group had to be
  renamed because XLSForm names must be unique across groups and questions: page ``rectify``
  holding question ``rectify`` is written as group ``rectify_page``), ``sanhui::min_length`` and
  ``sanhui::max_length`` (text bounds);
- choices sheet: ``points`` and ``sanhui_ordered`` (``yes`` on every row of an ordered list).
  These have no ``::``: pyxform turns every choices column into an element of the list's XML
  instance, and a ``::`` column there breaks it;
- settings sheet: ``anonymous``, ``kind``, ``sanhui::title_en``, ``sanhui::description``,
  ``sanhui::description_en``.

A grid's ``required`` is written on its ``begin group`` row (``yes``/``no``) and, as ODK needs it,
on each row; an item whose ``required`` differs from the grid's keeps its own value. (An item that
states the grid's own value explicitly reads back as inheriting it: the same instrument.)

Everything else is refused with a located :class:`~toolkit.errors.InstrumentError` naming the
sheet, row and column, never dropped: ``begin repeat``, media columns (``image``, ``audio``,
``video``, ``media::*``), ``geopoint``/``geotrace``/``geoshape``, ``calculate`` (the instrument
model has no computed fields), metadata rows (``start``, ``end``, ``deviceid``: the tablet records
paradata itself), other types, ``choice_filter`` other than the 不了解 filter (the model has no
cascading choices), languages other than Chinese and English, and unknown columns (with a
did-you-mean: ``lable`` → ``label``). Every problem is collected before one error is raised.

References
----------
XLSForm.org, *XLSForm specification* (https://xlsform.org/en/ref-table/). ODK, *Form logic* and
*Form styling: table-list and likert appearances* (https://docs.getodk.org/form-styling/).

Examples
--------
>>> import tempfile, pathlib
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "evaluation.xlsx"
>>> write_xlsform(survey, path)
>>> read_xlsform(path) == survey
True
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, ParameterError, Problem
from toolkit.instrument.loader import TYPE_FIELDS
from toolkit.instrument.model import (
    DONT_KNOW,
    DONT_KNOW_LABEL_EN,
    DONT_KNOW_LABEL_ZH,
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)

__all__ = [
    "DONT_KNOW_FILTER",
    "LANGUAGE_COLUMNS",
    "MAX_XLSFORM_BYTES",
    "convert",
    "read_xlsform",
    "write_xlsform",
]

#: Largest workbook accepted (bytes on disk), and the largest it may unpack to.
MAX_XLSFORM_BYTES = 10_000_000
_MAX_UNPACKED = 100_000_000
_MAX_ROWS = 20_000
_MAX_PROBLEMS = 100

#: The ``choice_filter`` of a grid row that does not offer 不了解.
DONT_KNOW_FILTER = f"name != '{DONT_KNOW}'"
_DK_FILTER_RE = re.compile(r"\s*name\s*!=\s*(['\"])dont_know\1\s*")

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

_TRANSLATED = ("label", "hint", "required_message", "constraint_message")
_PLAIN = (
    "type",
    "name",
    "required",
    "constraint",
    "relevant",
    "default",
    "appearance",
    "choice_filter",
)
_OURS = ("sanhui::per_subject", "sanhui::page", "sanhui::min_length", "sanhui::max_length")
_SURVEY_KNOWN = (*_PLAIN, *_TRANSLATED, *_OURS)
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
}
_UNSUPPORTED_COLUMNS = {
    "calculation": "calculations (the instrument model has no computed fields)",
    "repeat_count": "repeats",
    "image": "media (images)",
    "big-image": "media (images)",
    "audio": "media (audio)",
    "video": "media (video)",
    "media": "media",
    "read_only": "read-only questions",
    "readonly": "read-only questions",
    "trigger": "triggers",
    "parameters": "question parameters",
    "guidance_hint": "guidance hints",
    "bind": "custom bind attributes",
    "instance": "custom instance attributes",
    "body": "custom body attributes",
    "label_expression": "dynamic labels",
}
_CHOICES_KNOWN = ("list_name", "name", "label", "points", "sanhui_ordered")
_SETTINGS_KNOWN = (
    "form_id",
    "version",
    "form_title",
    "default_language",
    "anonymous",
    "kind",
    "sanhui::title_en",
    "sanhui::description",
    "sanhui::description_en",
)
#: Deployment settings that do not change the instrument (accepted and not kept).
_SETTINGS_IGNORED = (
    "instance_name",
    "public_key",
    "submission_url",
    "style",
    "auto_send",
    "auto_delete",
    "allow_choice_duplicates",
    "clean_text_values",
    "namespaces",
    "omit_instanceid",
    "name",
)
_KINDS = ("evaluation", "hearing", "coordination", "other")
_TRUE = ("yes", "true", "1", "true()", "y")
_FALSE = ("no", "false", "0", "false()", "n")

_TYPE_WORDS: Mapping[str, str] = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
}
_SELECT_WORDS: Mapping[str, str] = {
    "select_one": "single",
    "select one": "single",
    "select_multiple": "multiple",
    "select multiple": "multiple",
    "select all that apply": "multiple",
}
_GROUP_WORDS: Mapping[str, str] = {
    "begin group": "begin",
    "begin_group": "begin",
    "end group": "end",
    "end_group": "end",
    "begin repeat": "repeat",
    "begin_repeat": "repeat",
    "end repeat": "end_repeat",
    "end_repeat": "end_repeat",
}
_UNSUPPORTED_TYPES: Mapping[str, str] = {
    "geopoint": "locations are not collected on anonymous ballots",
    "geotrace": "locations are not collected on anonymous ballots",
    "geoshape": "locations are not collected on anonymous ballots",
    "calculate": "the instrument model has no computed fields",
    "image": "media answers are not supported",
    "audio": "media answers are not supported",
    "video": "media answers are not supported",
    "file": "file answers are not supported",
    "background-audio": "media answers are not supported",
    "barcode": "barcodes are not supported",
    "time": "use `date`, or a `text` question",
    "datetime": "use `date`, or a `text` question",
    "range": "use `integer` with a constraint, or a `select_one` scale",
    "rank": "use a grid, or several `select_one` questions",
    "acknowledge": "use a `select_one` question with a yes choice",
    "hidden": "the instrument model has no hidden fields",
    "start": "the tablet records start and end times itself (paradata); delete the row",
    "end": "the tablet records start and end times itself (paradata); delete the row",
    "today": "the tablet records the date itself (paradata); delete the row",
    "deviceid": "the tablet records its device id itself (paradata); delete the row",
    "phonenumber": "no personal metadata is collected; delete the row",
    "username": "no personal metadata is collected; delete the row",
    "email": "no personal metadata is collected; delete the row",
    "audit": "the tablet records paradata itself; delete the row",
    "select_one_from_file": "choices must be listed on the choices sheet",
    "select_multiple_from_file": "choices must be listed on the choices sheet",
    "select_one_external": "choices must be listed on the choices sheet",
}
_IMPLICIT_TITLE = Text("(implicit page)")  # replaced by the form title
_GRID_ROW_APPEARANCES = frozenset({"likert", "table-list", "list-nolabel", "horizontal"})
_GRID_GROUP_APPEARANCES = frozenset({"field-list", "table-list"})


# ------------------------------------------------------------------------------------------------
# Cells, columns and locations
# ------------------------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    """A cell as text: None for empty; numbers without a spurious ``.0``; dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
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


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _language(spec: str) -> str | None:
    """``中文 (zh)``, ``Chinese (zh)``, ``zh``, ``English`` → ``zh``/``en``; None if another."""
    match = _LANG_CODE_RE.search(spec)
    if match:
        code = match.group(1).lower()
        return code if code in ("zh", "en") else None
    return _LANGUAGE_WORDS.get(spec.strip().lower())


@dataclass(frozen=True)
class _Column:
    index: int
    header: str  # as written
    base: str  # normalised field name ("label", "sanhui::per_subject", ...)
    language: str | None  # "zh"/"en" for translated columns

    @property
    def letter(self) -> str:
        return _column_letter(self.index)


@dataclass
class _Row:
    number: int  # the spreadsheet row number (1-based)
    cells: dict[str, str]  # field → text (translated fields as "label@zh")


@dataclass
class _Sheet:
    name: str
    columns: list[_Column]
    rows: list[_Row]

    def column(self, base: str, language: str | None = None) -> _Column | None:
        for col in self.columns:
            if col.base == base and (language is None or col.language == language):
                return col
        return None


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[tuple[int, int, int], Problem]] = []

    def where(
        self,
        sheet: str | None,
        row: int | None = None,
        column: _Column | str | None = None,
    ) -> str:
        text = self.source
        if sheet is not None:
            text += f", sheet `{sheet}`"
        if row is not None:
            text += f", row {row}"
        if isinstance(column, _Column):
            text += f", column `{column.header}` ({column.letter})"
        elif column is not None:
            text += f", column `{column}`"
        return text

    def add(
        self,
        sheet: str | None,
        row: int | None,
        column: _Column | str | None,
        message: str,
        fix: str | None = None,
        name: str | None = None,
    ) -> None:
        order = {"settings": 0, "survey": 1, "choices": 2}.get(sheet or "", 3)
        col = column.index if isinstance(column, _Column) else 0
        key = (order, row or 0, col)
        self.items.append((key, Problem(self.where(sheet, row, column), message, fix, name)))

    def error(self) -> InstrumentError:
        ordered = [p for _, p in sorted(self.items, key=lambda kp: kp[0])]
        if len(ordered) > _MAX_PROBLEMS:
            rest = len(ordered) - _MAX_PROBLEMS
            ordered = [*ordered[:_MAX_PROBLEMS], Problem(self.source, f"... and {rest} more.")]
        return InstrumentError(ordered, source=self.source)


# ------------------------------------------------------------------------------------------------
# Reading the workbook
# ------------------------------------------------------------------------------------------------


def _open_workbook(path: Path, problems: _Problems) -> dict[str, list[tuple[Any, ...]]] | None:
    """Every sheet's rows (values only), after size checks; None (with a problem) if unreadable."""
    source = problems.source
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.add(None, None, None, f"cannot read the file ({exc.strerror}).", "Check the path.")
        return None
    if size > MAX_XLSFORM_BYTES:
        problems.add(
            None,
            None,
            None,
            f"the file is {size:,} bytes; XLSForm workbooks are limited to {MAX_XLSFORM_BYTES:,}.",
            "Check that this is really an instrument.",
        )
        return None
    if path.suffix.lower() == ".xls":
        problems.add(
            None,
            None,
            None,
            "old-style .xls workbooks are not read.",
            "Open it in Excel or LibreOffice and save it as .xlsx.",
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
        )
        return None
    if unpacked > _MAX_UNPACKED:
        problems.add(
            None,
            None,
            None,
            f"the workbook unpacks to {unpacked:,} bytes, more than an instrument needs.",
            "Check that this is really an instrument.",
        )
        return None
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on damaged files
        problems.add(None, None, None, f"cannot open the workbook ({type(exc).__name__}: {exc}).")
        return None
    sheets: dict[str, list[tuple[Any, ...]]] = {}
    try:
        for sheet in book.worksheets:
            rows: list[tuple[Any, ...]] = []
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                if number > _MAX_ROWS:
                    problems.add(
                        sheet.title,
                        number,
                        None,
                        f"the sheet has more than {_MAX_ROWS:,} rows.",
                        "Delete the empty rows at the end, or split the instrument.",
                    )
                    break
                rows.append(tuple(row))
            sheets[sheet.title] = rows
    finally:
        book.close()
    del source
    return sheets


def _find_sheet(
    sheets: Mapping[str, list[tuple[Any, ...]]], name: str, problems: _Problems, *, required: bool
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
        )
    return None


def _parse_sheet(
    title: str,
    rows: list[tuple[Any, ...]],
    known: Sequence[str],
    translated: Sequence[str],
    problems: _Problems,
    *,
    sheet: str,
) -> _Sheet:
    """Read the header (row 1) and every non-blank row; report unknown/unsupported columns."""
    header = rows[0] if rows else ()
    columns: list[_Column] = []
    seen: dict[tuple[str, str | None], _Column] = {}
    data_rows = rows[1:]
    for index, raw in enumerate(header):
        text = _cell_text(raw)
        if text is None:
            continue
        text = text.strip()
        lowered = text.lower()
        base, _, lang_spec = lowered.partition("::")
        base = _ALIASES.get(base, base).strip()
        language: str | None = None
        has_data = any(index < len(r) and _cell_text(r[index]) is not None for r in data_rows)
        column: _Column | None
        if lowered.startswith("sanhui::"):
            column = _Column(index, text, lowered, None)
            if lowered not in known:
                ours = [k for k in known if k.startswith("sanhui::")]
                hint = did_you_mean(lowered, ours).strip()
                problems.add(
                    sheet,
                    1,
                    column,
                    f"unknown sanhui column `{text}`.",
                    hint or f"The sanhui columns of this sheet are: {', '.join(ours) or 'none'}.",
                )
                continue
        elif base in _UNSUPPORTED_COLUMNS or lowered.startswith("media::"):
            what = _UNSUPPORTED_COLUMNS.get(base, "media")
            if has_data:
                problems.add(
                    sheet,
                    1,
                    _Column(index, text, base, None),
                    f"column `{text}`: {what} are not supported by sanhui instruments.",
                    "Remove the column (or empty it).",
                )
            continue
        else:
            if lang_spec and base in translated:
                language = _language(lang_spec)
                if language is None:
                    if has_data:
                        problems.add(
                            sheet,
                            1,
                            _Column(index, text, base, None),
                            f"column `{text}`: language `{lang_spec}` is not supported; "
                            "instruments are in Chinese and English.",
                            "Name the columns `label::中文 (zh)` and `label::English (en)`, "
                            "or remove this one.",
                        )
                    continue
            elif lang_spec:
                if has_data:
                    hint = did_you_mean(base, known).strip()
                    problems.add(
                        sheet,
                        1,
                        _Column(index, text, base, None),
                        f"unknown column `{text}`.",
                        hint or f"The columns of this sheet are: {', '.join(known)}.",
                    )
                continue
            elif base in translated:
                language = "zh"  # a plain `label` is the default language, Chinese
            if base not in known:
                if has_data:
                    hint = did_you_mean(base, [*known, *_UNSUPPORTED_COLUMNS]).strip()
                    problems.add(
                        sheet,
                        1,
                        _Column(index, text, base, None),
                        f"unknown column `{text}`.",
                        hint or f"The columns of this sheet are: {', '.join(known)}.",
                    )
                continue
            column = _Column(index, text, base, language)
        key = (column.base, column.language)
        if key in seen:
            problems.add(
                sheet,
                1,
                column,
                f"column `{text}` repeats column `{seen[key].header}` ({seen[key].letter}).",
                "Keep one of them.",
            )
            continue
        seen[key] = column
        columns.append(column)
    parsed: list[_Row] = []
    for number, raw_row in enumerate(data_rows, 2):
        cells: dict[str, str] = {}
        for column in columns:
            if column.index < len(raw_row):
                value = _cell_text(raw_row[column.index])
                if value is not None:
                    cell_key = (
                        f"{column.base}@{column.language}" if column.language else column.base
                    )
                    cells[cell_key] = value if column.base in translated else value.strip()
        if cells:
            parsed.append(_Row(number, cells))
    return _Sheet(title, columns, parsed)


def _boolean(
    value: str | None, problems: _Problems, sheet: _Sheet, row: _Row, base: str
) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    problems.add(
        sheet.name,
        row.number,
        sheet.column(base) or base,
        f"`{value}` is not yes or no.",
        "Write `yes` or `no` (a condition here is not supported: use `relevant`).",
    )
    return None


def _text(
    row: _Row, base: str, problems: _Problems, sheet: _Sheet, *, required: bool = False
) -> Text | None:
    zh = row.cells.get(f"{base}@zh")
    en = row.cells.get(f"{base}@en")
    if zh is None and en is None:
        if required:
            problems.add(
                sheet.name,
                row.number,
                sheet.column(base, "zh") or f"{base}::{LANGUAGE_COLUMNS['zh']}",
                f"missing `{base}`.",
                f"Write the Chinese text in the `{base}::{LANGUAGE_COLUMNS['zh']}` column.",
                row.cells.get("name"),
            )
        return None
    if zh is None:
        problems.add(
            sheet.name,
            row.number,
            sheet.column(base, "zh") or f"{base}::{LANGUAGE_COLUMNS['zh']}",
            f"`{base}` has English but no Chinese text.",
            f"Chinese is required: fill the `{base}::{LANGUAGE_COLUMNS['zh']}` column.",
            row.cells.get("name"),
        )
        return None
    return Text(zh, en)


# ------------------------------------------------------------------------------------------------
# Building the instrument
# ------------------------------------------------------------------------------------------------


@dataclass
class _Group:
    row: _Row
    kind: str  # page, grid, page+grid, implicit, skip
    name: str
    questions: list[Question] = field(default_factory=list)
    grid_rows: list[tuple[_Row, str, str | None]] = field(default_factory=list)
    depth: int = 0  # for skipped nested groups
    rows_seen: int = 0  # rows inside it (questions, grids, broken rows)


@dataclass
class _Places:
    """Where each thing came from, to relocate the loader's problems."""

    questions: dict[str, int] = field(default_factory=dict)  # question/item id → survey row
    pages: dict[str, int] = field(default_factory=dict)
    lists: dict[str, int] = field(default_factory=dict)  # list id → first choices row
    choices: dict[tuple[str, str], int] = field(default_factory=dict)


class _Reader:
    def __init__(self, source: str) -> None:
        self.problems = _Problems(source)
        self.places = _Places()
        self.lists: dict[str, ChoiceList] = {}
        self.list_has_dk: set[str] = set()
        self.list_ordered_rows: dict[str, list[bool]] = {}
        self.names: dict[str, int] = {}  # variable namespace: question/item id → row
        self.page_names: dict[str, int] = {}
        self.grid_lists: set[str] = set()
        self.non_grid_dk_use: list[tuple[_Row, str, bool]] = []
        self.broken: set[str] = set()  # names of rows that could not be read

    # --- choices --------------------------------------------------------------------------------
    def read_choices(self, sheet: _Sheet | None) -> None:
        if sheet is None:
            return
        p = self.problems
        for required in ("list_name", "name"):
            if sheet.rows and sheet.column(required) is None:
                p.add(sheet.name, 1, None, f"the choices sheet has no `{required}` column.")
                return
        if sheet.rows and sheet.column("label", "zh") is None:
            p.add(
                sheet.name,
                1,
                None,
                "the choices sheet has no Chinese label column.",
                f"Add a `label::{LANGUAGE_COLUMNS['zh']}` (or plain `label`) column.",
            )
        building: dict[str, list[Choice]] = {}
        ordered: dict[str, set[bool]] = {}
        dk_label: dict[str, Text] = {}
        seen: dict[tuple[str, str], int] = {}
        for row in sheet.rows:
            list_name = row.cells.get("list_name")
            value = row.cells.get("name")
            if list_name is None or value is None:
                missing = "list_name" if list_name is None else "name"
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column(missing),
                    f"missing `{missing}`.",
                    "Every choice needs a list_name and a name (the stored code).",
                )
                continue
            self.places.lists.setdefault(list_name, row.number)
            key = (list_name, value)
            if key in seen:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("name"),
                    f"choice `{value}` of list `{list_name}` is given twice "
                    f"(rows {seen[key]} and {row.number}).",
                    "Keep one of them, or give them different names.",
                )
                continue
            seen[key] = row.number
            self.places.choices[key] = row.number
            label = _text(row, "label", p, sheet, required=True)
            points: float | None = None
            if row.cells.get("points") is not None:
                try:
                    points = float(row.cells["points"])
                    if not math.isfinite(points):
                        raise ValueError
                except ValueError:
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("points"),
                        f"points `{row.cells['points']}` is not a number.",
                    )
            flag = _boolean(row.cells.get("sanhui_ordered"), p, sheet, row, "sanhui_ordered")
            ordered.setdefault(list_name, set()).add(bool(flag))
            building.setdefault(list_name, [])
            if label is None:
                continue
            if value == DONT_KNOW:
                dk_label[list_name] = label
                self.list_has_dk.add(list_name)
                continue
            building[list_name].append(Choice(value, label, points))
        for list_name, choices in building.items():
            if len(ordered.get(list_name, {False})) > 1:
                p.add(
                    sheet.name,
                    self.places.lists[list_name],
                    sheet.column("sanhui_ordered"),
                    f"list `{list_name}` is marked ordered on some rows only.",
                    "Write `yes` in `sanhui_ordered` on every row of an ordered list, or on none.",
                )
            default = Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)
            self.lists[list_name] = ChoiceList(
                list_name,
                tuple(choices),
                ordered=True in ordered.get(list_name, set()),
                dont_know_label=dk_label.get(list_name, default),
            )

    # --- settings -------------------------------------------------------------------------------
    def read_settings(self, sheet: _Sheet | None, fallback_id: str) -> Settings | None:
        p = self.problems
        row = sheet.rows[0] if sheet is not None and sheet.rows else _Row(2, {})
        name = sheet.name if sheet is not None else "settings"
        if sheet is not None and len(sheet.rows) > 1:
            p.add(
                name,
                sheet.rows[1].number,
                None,
                "the settings sheet has more than one row of values.",
                "Keep the settings in row 2 only.",
            )
        cells = row.cells
        form_id = cells.get("form_id") or fallback_id
        version = cells.get("version")
        if version is None:
            p.add(
                name,
                row.number,
                "version",
                "missing `version`.",
                "Add a `version` column to the settings sheet, e.g. `2026.1` (as text).",
            )
        title_zh = cells.get("form_title") or form_id
        title = Text(title_zh, cells.get("sanhui::title_en"))
        description: Text | None = None
        if cells.get("sanhui::description") is not None:
            description = Text(cells["sanhui::description"], cells.get("sanhui::description_en"))
        language = "zh"
        if cells.get("default_language") is not None:
            found = _language(cells["default_language"])
            if found is None:
                p.add(
                    name,
                    row.number,
                    sheet.column("default_language") if sheet else "default_language",
                    f"default language `{cells['default_language']}` is not supported.",
                    f"Use `{LANGUAGE_COLUMNS['zh']}` or `{LANGUAGE_COLUMNS['en']}`.",
                )
            else:
                language = found
        anonymous = True
        if sheet is not None and cells.get("anonymous") is not None:
            flag = _boolean(cells["anonymous"], p, sheet, row, "anonymous")
            anonymous = True if flag is None else flag
        kind = cells.get("kind", "other")
        if kind not in _KINDS:
            hint = did_you_mean(kind, _KINDS).strip()
            p.add(
                name,
                row.number,
                sheet.column("kind") if sheet else "kind",
                f"kind `{kind}` is not one of {', '.join(_KINDS)}.",
                hint or None,
            )
            kind = "other"
        if version is None:
            return None
        return Settings(
            form_id,
            version,
            title,
            default_language=cast(Any, language),
            anonymous=anonymous,
            kind=cast(Any, kind),
            description=description,
        )

    # --- survey ---------------------------------------------------------------------------------
    def claim(self, sheet: _Sheet, row: _Row, name: str, *, page: bool = False) -> None:
        names = self.page_names if page else self.names
        if name in names:
            what = "group" if page else "question"
            self.problems.add(
                sheet.name,
                row.number,
                sheet.column("name"),
                f"the {what} name `{name}` is used twice (rows {names[name]} and {row.number}).",
                "Names must be unique: rename one of them.",
                name,
            )
        else:
            names[name] = row.number

    def read_survey(self, sheet: _Sheet, settings_title: Text | None) -> list[Page]:
        p = self.problems
        if sheet.column("type") is None or sheet.column("name") is None:
            missing = [c for c in ("type", "name") if sheet.column(c) is None]
            p.add(
                sheet.name,
                1,
                None,
                f"the survey sheet has no {' or '.join(f'`{c}`' for c in missing)} column.",
                "Row 1 of the survey sheet names the columns: type, name, label, ...",
            )
            return []
        pages: list[Page] = []
        stack: list[_Group] = []
        implicit = 0
        for row in sheet.rows:
            raw_type = row.cells.get("type")
            if raw_type is None:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    "the row has no `type`.",
                    "Give it a type (e.g. `select_one satisfaction`, `text`), or clear the row.",
                    row.cells.get("name"),
                )
                continue
            kind, list_name = self.parse_type(sheet, row, raw_type)
            top = stack[-1] if stack else None
            if top is not None and kind not in ("end", "end_repeat"):
                top.rows_seen += 1
            if kind is None:
                if row.cells.get("name"):
                    self.broken.add(row.cells["name"])
                continue
            if top is not None and top.kind == "skip":
                if kind in ("begin", "repeat"):
                    top.depth += 1
                elif kind in ("end", "end_repeat"):
                    top.depth -= 1
                    if top.depth < 0:
                        stack.pop()
                continue
            if kind == "repeat":
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    "`begin repeat` is not supported: a ballot has a fixed set of questions.",
                    "Per-subject ratings use a grid with `sanhui::per_subject` = yes; otherwise "
                    "list the questions once.",
                    row.cells.get("name"),
                )
                stack.append(_Group(row, "skip", row.cells.get("name", "?")))
                continue
            if kind == "end_repeat":
                p.add(
                    sheet.name, row.number, sheet.column("type"), "`end repeat` without a repeat."
                )
                continue
            if kind == "begin":
                self.begin_group(sheet, row, stack, pages)
                continue
            if kind == "end":
                if not stack or stack[-1].kind == "implicit":
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        "`end group` without a matching `begin group`.",
                        "Delete it, or add the `begin group` row.",
                    )
                    continue
                self.end_group(sheet, stack, pages)
                continue
            # a question
            if top is None:
                implicit += 1
                name = f"page_{implicit}"
                while name in self.page_names:
                    implicit += 1
                    name = f"page_{implicit}"
                self.page_names[name] = row.number
                stack.append(_Group(row, "implicit", name))
                top = stack[-1]
            if top.kind in ("grid", "page+grid"):
                top.grid_rows.append((row, kind, list_name))
                continue
            question = self.question(sheet, row, kind, list_name)
            if question is not None:
                top.questions.append(question)
            # an implicit page ends at the next begin group
        while stack:
            group = stack[-1]
            if group.kind == "implicit":
                self.end_group(sheet, stack, pages)
                continue
            if group.kind != "skip":
                p.add(
                    sheet.name,
                    group.row.number,
                    sheet.column("type"),
                    f"`begin group` `{group.name}` has no matching `end group`.",
                    "Add an `end group` row after its last question.",
                    group.name,
                )
            stack.pop()
        del settings_title
        return pages

    def parse_type(self, sheet: _Sheet, row: _Row, raw: str) -> tuple[str | None, str | None]:
        p = self.problems
        text = " ".join(raw.split())
        lowered = text.lower()
        if lowered in _GROUP_WORDS:
            return _GROUP_WORDS[lowered], None
        if lowered in _TYPE_WORDS:
            return _TYPE_WORDS[lowered], None
        for prefix, kind in _SELECT_WORDS.items():
            if lowered.startswith(prefix + " ") or lowered == prefix:
                rest = text[len(prefix) :].split()
                if len(rest) == 2 and rest[1].lower() == "or_other":
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        "`or_other` is not supported.",
                        "Add an `other` choice and a text question relevant when it is selected.",
                        row.cells.get("name"),
                    )
                    return None, None
                if len(rest) != 1:
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        f"`{text}` must name one choice list, e.g. `{prefix} satisfaction`.",
                        None,
                        row.cells.get("name"),
                    )
                    return None, None
                return kind, rest[0]
        first = lowered.split()[0] if lowered.split() else lowered
        if first in _UNSUPPORTED_TYPES:
            p.add(
                sheet.name,
                row.number,
                sheet.column("type"),
                f"type `{text}` is not supported: {_UNSUPPORTED_TYPES[first]}.",
                None,
                row.cells.get("name"),
            )
            return None, None
        known = [*_TYPE_WORDS, *_SELECT_WORDS, "begin group", "end group"]
        hint = did_you_mean(first, known).strip()
        p.add(
            sheet.name,
            row.number,
            sheet.column("type"),
            f"unknown type `{text}`.",
            hint
            or "Use select_one LIST, select_multiple LIST, integer, decimal, text, date, note, "
            "begin group or end group.",
            row.cells.get("name"),
        )
        return None, None

    def begin_group(self, sheet: _Sheet, row: _Row, stack: list[_Group], pages: list[Page]) -> None:
        p = self.problems
        name = row.cells.get("name")
        if name is None:
            p.add(
                sheet.name,
                row.number,
                sheet.column("name"),
                "`begin group` has no name.",
                "Give the group a name (it becomes the page or grid id).",
            )
            name = f"group_row_{row.number}"
        if stack and stack[-1].kind == "implicit":
            self.end_group(sheet, stack, pages)
        appearance = set((row.cells.get("appearance") or "").split())
        if not stack:
            page_id = row.cells.get("sanhui::page") or name
            self.claim(sheet, row, page_id, page=True)
            self.places.pages[page_id] = row.number
            if "table-list" in appearance:
                self.claim(sheet, row, name)
                self.places.questions[name] = row.number
                stack.append(_Group(row, "page+grid", page_id))
            else:
                stack.append(_Group(row, "page", page_id))
            return
        if stack[-1].kind == "page" and appearance & _GRID_GROUP_APPEARANCES:
            self.claim(sheet, row, name)
            self.places.questions[name] = row.number
            stack.append(_Group(row, "grid", name))
            return
        if stack[-1].kind == "page":
            fix = (
                "A group inside a page is read as a grid only with appearance `field-list` and "
                "rows `select_one` of one list; otherwise move its questions into the page."
            )
        else:
            fix = "Grids cannot hold groups; move the inner group out."
        p.add(
            sheet.name,
            row.number,
            sheet.column("type"),
            f"group `{name}` is nested inside group `{stack[-1].name}`; nested groups are "
            "not supported (a page is a top-level group).",
            fix,
            name,
        )
        stack.append(_Group(row, "skip", name))

    def end_group(self, sheet: _Sheet, stack: list[_Group], pages: list[Page]) -> None:
        group = stack.pop()
        if group.kind == "grid":
            grid = self.grid(sheet, group)
            if grid is not None and stack:
                stack[-1].questions.append(grid)
            return
        if group.kind == "page+grid":
            grid = self.grid(sheet, group)
            group.questions = [grid] if grid is not None else []
        self.places.pages.setdefault(group.name, group.row.number)
        if group.kind == "implicit":
            title = _IMPLICIT_TITLE
            relevant = None
        else:
            title = _text(group.row, "label", self.problems, sheet) or Text(group.name)
            relevant = group.row.cells.get("relevant")
            self.check_expression(sheet, group.row, "relevant", group.name)
            self.check_unused(sheet, group.row, "page")
        if not group.questions:
            if group.rows_seen == 0:
                self.problems.add(
                    sheet.name,
                    group.row.number,
                    sheet.column("type"),
                    f"group `{group.name}` has no questions.",
                    "Add questions to the group, or delete it.",
                    group.name,
                )
            return
        pages.append(
            Page(group.name, title, tuple(group.questions), relevant, line=group.row.number)
        )

    def check_unused(self, sheet: _Sheet, row: _Row, what: str) -> None:
        allowed = {
            "page": {"type", "name", "label", "relevant", "appearance", "sanhui::page"},
            "grid": {
                "type",
                "name",
                "label",
                "hint",
                "relevant",
                "appearance",
                "required",
                "required_message",
                "sanhui::per_subject",
            },
        }[what]
        for key in row.cells:
            base = key.split("@")[0]
            if base not in allowed:
                self.problems.add(
                    sheet.name,
                    row.number,
                    sheet.column(base) or base,
                    f"column `{base}` is not used on the `begin group` row of a {what}.",
                    "Remove the value, or put it on the questions.",
                    row.cells.get("name"),
                )

    def check_expression(self, sheet: _Sheet, row: _Row, base: str, name: str | None) -> None:
        text = row.cells.get(base)
        if text is None:
            return
        from toolkit.instrument.expressions import parse

        column = sheet.column(base)
        where = self.problems.where(sheet.name, row.number, column or base)
        try:
            parse(text, where=where)
        except InstrumentError as exc:
            for problem in exc.problems:
                key = (1, row.number, column.index if column else 0)
                self.problems.items.append(
                    (key, Problem(problem.where or where, problem.message, problem.fix, name))
                )

    def choice_filter(self, sheet: _Sheet, row: _Row, list_name: str | None) -> bool:
        """True when the row excludes 不了解; reports any other filter."""
        text = row.cells.get("choice_filter")
        if text is None:
            return False
        if _DK_FILTER_RE.fullmatch(text) and list_name in self.list_has_dk:
            return True
        self.problems.add(
            sheet.name,
            row.number,
            sheet.column("choice_filter"),
            f"choice_filter `{text}` is not supported: the instrument model has no cascading "
            f"choices; the only filter read is `{DONT_KNOW_FILTER}` on a row whose list has a "
            f"`{DONT_KNOW}` choice.",
            "Split the list into one list per case, or remove the filter.",
            row.cells.get("name"),
        )
        return False

    def question(
        self, sheet: _Sheet, row: _Row, qtype: str, list_name: str | None
    ) -> Question | None:
        p = self.problems
        name = row.cells.get("name")
        if name is None:
            p.add(
                sheet.name,
                row.number,
                sheet.column("name"),
                f"the {qtype} question has no name.",
                "Give it a name: the variable name, e.g. `building`.",
            )
            return None
        self.claim(sheet, row, name)
        self.places.questions[name] = row.number
        allowed = TYPE_FIELDS[qtype] | {"type", "name"}
        for key in row.cells:
            base = key.split("@")[0]
            field_name = base.removeprefix("sanhui::")
            if base in ("choice_filter", "sanhui::page", "sanhui::per_subject"):
                if base == "choice_filter" and qtype in ("single", "multiple"):
                    continue
                ok = False
            else:
                ok = field_name in allowed
            if not ok:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column(base) or base,
                    f"column `{base}` is not used by {qtype} questions.",
                    "Remove the value.",
                    name,
                )
        if list_name is not None and list_name not in self.lists:
            hint = did_you_mean(list_name, self.lists).strip()
            p.add(
                sheet.name,
                row.number,
                sheet.column("type"),
                f"choice list `{list_name}` is not on the choices sheet.",
                hint or f"Add the list `{list_name}` to the choices sheet.",
                name,
            )
        excluded = self.choice_filter(sheet, row, list_name)
        if list_name in self.list_has_dk:
            self.non_grid_dk_use.append((row, list_name, excluded))
        for base in ("relevant", "constraint"):
            self.check_expression(sheet, row, base, name)
        label = _text(row, "label", p, sheet, required=True)
        required = bool(_boolean(row.cells.get("required"), p, sheet, row, "required"))
        lengths: dict[str, int | None] = {}
        for base in ("sanhui::min_length", "sanhui::max_length"):
            value = row.cells.get(base)
            if value is None:
                continue
            try:
                lengths[base.removeprefix("sanhui::")] = int(value)
            except ValueError:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column(base),
                    f"`{value}` is not a whole number.",
                    None,
                    name,
                )
        if label is None:
            return None
        return Question(
            name,
            cast(Any, qtype),
            label,
            hint=_text(row, "hint", p, sheet),
            required=required,
            required_message=_text(row, "required_message", p, sheet),
            constraint=row.cells.get("constraint"),
            constraint_message=_text(row, "constraint_message", p, sheet),
            relevant=row.cells.get("relevant"),
            appearance=tuple((row.cells.get("appearance") or "").split()),
            choices=list_name,
            default=row.cells.get("default"),
            line=row.number,
            **cast(dict[str, Any], {k: v for k, v in lengths.items() if v is not None}),
        )

    def grid(self, sheet: _Sheet, group: _Group) -> Question | None:
        p = self.problems
        head = group.row
        name = head.cells.get("name", group.name)
        self.check_unused(sheet, head, "grid")
        self.check_expression(sheet, head, "relevant", name)
        if not group.grid_rows:
            p.add(
                sheet.name,
                head.number,
                sheet.column("type"),
                f"grid `{name}` has no rows.",
                "Add `select_one LIST` rows, one per item.",
                name,
            )
            return None
        lists: dict[str, int] = {}
        items: list[GridItem] = []
        row_required: list[bool] = []
        messages: set[Text | None] = set()
        defaults: set[str | None] = set()
        for row, kind, list_name in group.grid_rows:
            item_name = row.cells.get("name")
            if kind != "single" or list_name is None:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"the rows of grid `{name}` must be `select_one` of one list; this row is "
                    f"`{row.cells['type']}`.",
                    "Move the row out of the grid's group.",
                    item_name,
                )
                continue
            lists.setdefault(list_name, row.number)
            if item_name is None:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("name"),
                    "the grid row has no name.",
                    "Give it a name: the item id.",
                )
                continue
            self.claim(sheet, row, item_name)
            self.places.questions[item_name] = row.number
            for key in row.cells:
                base = key.split("@")[0]
                if base not in (
                    "type",
                    "name",
                    "label",
                    "hint",
                    "required",
                    "required_message",
                    "default",
                    "appearance",
                    "choice_filter",
                ):
                    fix = (
                        "Put `relevant` on the grid's `begin group` row."
                        if base == "relevant"
                        else "Remove the value."
                    )
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column(base) or base,
                        f"column `{base}` is not used on the rows of a grid.",
                        fix,
                        item_name,
                    )
            words = set((row.cells.get("appearance") or "").split())
            if words - _GRID_ROW_APPEARANCES:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("appearance"),
                    f"appearance `{' '.join(sorted(words - _GRID_ROW_APPEARANCES))}` is not "
                    "used on grid rows.",
                    "Use `likert` (or `table-list`).",
                    item_name,
                )
            excluded = self.choice_filter(sheet, row, list_name)
            label = _text(row, "label", p, sheet, required=True)
            required = bool(_boolean(row.cells.get("required"), p, sheet, row, "required"))
            row_required.append(required)
            if required:
                messages.add(_text(row, "required_message", p, sheet))
            defaults.add(row.cells.get("default"))
            if label is None:
                continue
            allow_dk = list_name in self.list_has_dk and not excluded
            items.append(
                GridItem(item_name, label, _text(row, "hint", p, sheet), allow_dk, required)
            )
        if len(lists) > 1:
            listed = ", ".join(f"`{k}` (row {v})" for k, v in lists.items())
            p.add(
                sheet.name,
                head.number,
                sheet.column("type"),
                f"the rows of grid `{name}` use several choice lists: {listed}.",
                "A grid's rows share one scale: use one list, or make separate grids.",
                name,
            )
            return None
        if not lists:
            return None
        list_name = next(iter(lists))
        self.grid_lists.add(list_name)
        if list_name not in self.lists:
            hint = did_you_mean(list_name, self.lists).strip()
            p.add(
                sheet.name,
                lists[list_name],
                sheet.column("type"),
                f"choice list `{list_name}` is not on the choices sheet.",
                hint or f"Add the list `{list_name}` to the choices sheet.",
                name,
            )
        head_required = _boolean(head.cells.get("required"), p, sheet, head, "required")
        grid_required = all(row_required) if head_required is None else head_required
        grid_message = _text(head, "required_message", p, sheet)
        if grid_message is None and messages - {None}:
            if len(messages - {None}) > 1:
                p.add(
                    sheet.name,
                    head.number,
                    sheet.column("required_message", "zh") or "required_message",
                    f"the rows of grid `{name}` have different required messages.",
                    "Give one `required_message` on the grid's `begin group` row.",
                    name,
                )
            else:
                grid_message = next(iter(messages - {None}))
        if len(defaults) > 1:
            p.add(
                sheet.name,
                head.number,
                sheet.column("default") or "default",
                f"the rows of grid `{name}` have different defaults.",
                "A grid has one default for all its rows: give every row the same, or none.",
                name,
            )
        label = _text(head, "label", p, sheet, required=True)
        per_subject = _boolean(
            head.cells.get("sanhui::per_subject"), p, sheet, head, "sanhui::per_subject"
        )
        appearance = tuple(
            w
            for w in (head.cells.get("appearance") or "").split()
            if w not in _GRID_GROUP_APPEARANCES
        )
        if label is None:
            return None
        final_items = tuple(
            GridItem(
                it.id,
                it.label,
                it.hint,
                it.allow_dont_know,
                None if it.required == grid_required else it.required,
            )
            for it in items
        )
        return Question(
            name,
            "grid",
            label,
            hint=_text(head, "hint", p, sheet),
            required=grid_required,
            required_message=grid_message,
            relevant=head.cells.get("relevant"),
            appearance=appearance,
            choices=list_name,
            items=final_items,
            per_subject=bool(per_subject),
            default=next(iter(defaults)) if len(defaults) == 1 else None,
            line=head.number,
        )

    def check_dont_know_use(self, sheet: _Sheet) -> None:
        for row, list_name, excluded in self.non_grid_dk_use:
            if excluded and list_name not in self.grid_lists:
                self.problems.add(
                    sheet.name,
                    row.number,
                    sheet.column("choice_filter"),
                    f"choice_filter `{DONT_KNOW_FILTER}` is only read on questions whose list "
                    "is also a grid's list (where `dont_know` is the grid's 不了解 answer).",
                    "Remove the `dont_know` choice from the list, or the filter.",
                    row.cells.get("name"),
                )
            elif not excluded and list_name in self.grid_lists:
                self.problems.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"list `{list_name}` has a `{DONT_KNOW}` choice, which is a grid's 不了解 "
                    f"answer, but this question is not a grid row.",
                    f"Add the choice_filter `{DONT_KNOW_FILTER}` to this row, or give it a list "
                    "of its own.",
                    row.cells.get("name"),
                )
        for list_name in self.list_has_dk - self.grid_lists:
            if list_name in self.lists:
                # not a grid's list: dont_know is an ordinary choice there
                scale = self.lists[list_name]
                dk = Choice(DONT_KNOW, scale.dont_know_label)
                row_number = self.places.choices.get((list_name, DONT_KNOW), 0)
                position = sum(
                    1
                    for (ln, _v), r in self.places.choices.items()
                    if ln == list_name and r < row_number
                )
                choices = list(scale.choices)
                choices.insert(min(position, len(choices)), dk)
                self.lists[list_name] = ChoiceList(list_name, tuple(choices), scale.ordered)
                self.list_has_dk.discard(list_name)


_LOCATION_RE = re.compile(
    r"(?:(?P<kind>question|page|item|choice list) `(?P<id>[^`]+)`)|(?:field `(?P<field>[^`]+)`)"
)


def _relocate(error: InstrumentError, reader: _Reader, sheets: Mapping[str, _Sheet | None]) -> None:
    """Move the loader's problems (found on the YAML text of the instrument) to sheet/row/column."""
    p = reader.problems
    taken = {problem.where for _, problem in p.items}
    for problem in error.problems:
        refs = re.findall(r"\$\{([^}]+)\}", problem.message)
        if any(ref in reader.broken for ref in refs):
            continue  # a consequence of a row already reported
        kind = ident = field_name = None
        for match in _LOCATION_RE.finditer(problem.where):
            if match.group("kind"):
                kind, ident = match.group("kind"), match.group("id")
            elif match.group("field"):
                field_name = match.group("field")
        sheet_name: str
        row: int | None = None
        if kind == "choice list" and ident is not None:
            sheet_name, row = "choices", reader.places.lists.get(ident)
        elif kind == "page" and ident is not None:
            sheet_name, row = "survey", reader.places.pages.get(ident)
        elif kind in ("question", "item") and ident is not None:
            sheet_name, row = "survey", reader.places.questions.get(ident)
        else:
            sheet_name = "settings"
        sheet = sheets.get(sheet_name)
        column: _Column | str | None = None
        if field_name is not None:
            base = {"id": "name", "choices": "type", "items": "type"}.get(field_name, field_name)
            if base in ("min_length", "max_length", "per_subject"):
                base = f"sanhui::{base}"
            if sheet_name == "settings":
                base = {"id": "form_id", "title": "form_title"}.get(field_name, field_name)
            found = sheet.column(base, "zh") or sheet.column(base) if sheet is not None else None
            column = found or base
        where = p.where(sheet.name if sheet else sheet_name, row, column)
        if where in taken:
            continue  # the same cell already has a problem (e.g. its expression does not parse)
        message = problem.message
        if refs and refs[0] in reader.places.questions:
            message = re.sub(r"\(line \d+\)", f"(row {reader.places.questions[refs[0]]})", message)
        message = re.sub(r" ?\(?(?:first )?on line \d+\)?", "", message)
        p.add(sheet.name if sheet else sheet_name, row, column, message, problem.fix, ident)


def read_xlsform(path: str | Path) -> Survey:
    """Read an XLSForm workbook (``.xlsx``) into an instrument.

    Parameters
    ----------
    path : str or Path
        The workbook: sheets ``survey`` (required), ``choices`` and ``settings``. It is named as
        given in located messages.

    Returns
    -------
    Survey
        The instrument; ``survey.source`` is ``str(path)``; each question's ``line`` is its row on
        the survey sheet.

    Raises
    ------
    InstrumentError
        Listing every problem, each located by sheet, row and column: a missing survey sheet,
        unknown or unsupported types and columns (with a did-you-mean), bad expressions, duplicate
        names (naming both rows), nested groups that are not grids, and everything the YAML loader
        checks (references, look-back, defaults, ids).

    Notes
    -----
    The mapping and the extra ``sanhui::`` columns are described in the module docstring. After
    the sheets are read, the instrument is checked by the same rules as a YAML instrument (it is
    passed through :func:`~toolkit.instrument.dumper.dump_survey` and
    :func:`~toolkit.instrument.loader.loads_survey`), and those problems are located back on the
    sheets.

    References
    ----------
    XLSForm.org, *XLSForm specification*; ODK, *Form styling* (``field-list``, ``table-list``,
    ``likert``).

    Examples
    --------
    >>> survey = read_xlsform(_example_path())
    >>> survey.id, [q.id for q in survey.questions]
    ('demo', ['ratings', 'comments'])
    >>> survey.question("ratings").items[0].allow_dont_know
    True
    """
    path = Path(path)
    source = str(path)
    reader = _Reader(source)
    p = reader.problems
    raw = _open_workbook(path, p)
    if raw is None:
        raise p.error()
    found = _find_sheet(raw, "survey", p, required=True)
    if found is None:
        raise p.error()
    choices_found = _find_sheet(raw, "choices", p, required=False)
    settings_found = _find_sheet(raw, "settings", p, required=False)
    survey_sheet = _parse_sheet(found[0], found[1], _SURVEY_KNOWN, _TRANSLATED, p, sheet=found[0])
    choices_sheet = (
        _parse_sheet(
            choices_found[0],
            choices_found[1],
            _CHOICES_KNOWN,
            ("label",),
            p,
            sheet=choices_found[0],
        )
        if choices_found
        else None
    )
    settings_sheet = (
        _parse_sheet(
            settings_found[0],
            settings_found[1],
            (*_SETTINGS_KNOWN, *_SETTINGS_IGNORED),
            (),
            p,
            sheet=settings_found[0],
        )
        if settings_found
        else None
    )
    fallback_id = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:64] or "form"
    settings = reader.read_settings(settings_sheet, fallback_id)
    reader.read_choices(choices_sheet)
    pages = reader.read_survey(survey_sheet, settings.title if settings else None)
    reader.check_dont_know_use(survey_sheet)
    # implicit pages are titled with the form title
    if settings is not None:
        pages = [
            Page(pg.id, settings.title, pg.questions, pg.relevant, pg.line)
            if pg.title is _IMPLICIT_TITLE
            else pg
            for pg in pages
        ]
    if not pages and not p.items:
        p.add(
            survey_sheet.name,
            None,
            None,
            "the survey sheet has no questions.",
            "Add questions below the header row.",
        )
    if settings is None or not pages:
        raise p.error()
    survey = Survey(settings, tuple(pages), dict(reader.lists), source=source)
    from toolkit.instrument.dumper import dump_survey
    from toolkit.instrument.loader import loads_survey

    try:
        loads_survey(dump_survey(survey), source=source)
    except InstrumentError as exc:
        sheets = {"survey": survey_sheet, "choices": choices_sheet, "settings": settings_sheet}
        _relocate(exc, reader, sheets)
    except Exception as exc:  # pragma: no cover - a partial instrument the dumper cannot write
        if not p.items:
            raise InstrumentError([Problem(source, f"cannot check the instrument: {exc}")]) from exc
    if p.items:
        raise p.error()
    return survey


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

_SURVEY_HEADER = (
    "type",
    "name",
    "label::中文 (zh)",
    "label::English (en)",
    "hint::中文 (zh)",
    "hint::English (en)",
    "required",
    "required_message::中文 (zh)",
    "required_message::English (en)",
    "relevant",
    "constraint",
    "constraint_message::中文 (zh)",
    "constraint_message::English (en)",
    "default",
    "appearance",
    "choice_filter",
    "sanhui::per_subject",
    "sanhui::page",
    "sanhui::min_length",
    "sanhui::max_length",
)
_CHOICES_HEADER = (
    "list_name",
    "name",
    "label::中文 (zh)",
    "label::English (en)",
    "points",
    "sanhui_ordered",
)
_SETTINGS_HEADER = (
    "form_id",
    "version",
    "form_title",
    "default_language",
    "anonymous",
    "kind",
    "sanhui::title_en",
    "sanhui::description",
    "sanhui::description_en",
)
_DEFAULT_MAX_LENGTH = Question("q", "text", Text("q")).max_length
_DEFAULT_DK = Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)


def _texts(text: Text | None) -> tuple[str | None, str | None]:
    return (None, None) if text is None else (text.zh, text.en)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _survey_rows(survey: Survey) -> list[dict[str, Any]]:
    names = {q.id for q in survey.questions} | {it.id for q in survey.questions for it in q.items}
    dk_lists = _dont_know_lists(survey)
    rows: list[dict[str, Any]] = []
    used: set[str] = set(names)
    for page in survey.pages:
        group = page.id
        if group in used:
            group = f"{page.id}_page"
            n = 2
            while group in used:
                group, n = f"{page.id}_page{n}", n + 1
        used.add(group)
        zh, en = _texts(page.title)
        rows.append(
            {
                "type": "begin group",
                "name": group,
                "label::中文 (zh)": zh,
                "label::English (en)": en,
                "relevant": page.relevant,
                "appearance": "field-list",
                "sanhui::page": page.id if group != page.id else None,
            }
        )
        for q in page.questions:
            rows += _question_rows(survey, q, dk_lists)
        rows.append({"type": "end group", "name": group})
    return rows


def _dont_know_lists(survey: Survey) -> set[str]:
    """Lists written with a ``dont_know`` choice: a grid's list where 不了解 is offered or has
    its own label."""
    out: set[str] = set()
    for q in survey.questions:
        if q.type == "grid" and q.choices is not None and q.choices in survey.choice_lists:
            scale = survey.choice_lists[q.choices]
            if any(it.allow_dont_know for it in q.items) or scale.dont_know_label != _DEFAULT_DK:
                out.add(q.choices)
    return out


def _question_rows(survey: Survey, q: Question, dk_lists: set[str]) -> list[dict[str, Any]]:
    zh, en = _texts(q.label)
    hzh, hen = _texts(q.hint)
    rzh, ren = _texts(q.required_message)
    czh, cen = _texts(q.constraint_message)
    appearance = " ".join(q.appearance) or None
    if q.type == "grid":
        head = {
            "type": "begin group",
            "name": q.id,
            "label::中文 (zh)": zh,
            "label::English (en)": en,
            "hint::中文 (zh)": hzh,
            "hint::English (en)": hen,
            "required": "yes" if q.required else "no",
            "required_message::中文 (zh)": rzh,
            "required_message::English (en)": ren,
            "relevant": q.relevant,
            "appearance": " ".join(("field-list", *q.appearance)),
            "sanhui::per_subject": "yes" if q.per_subject else None,
        }
        rows = [head]
        for item in q.items:
            required = q.required if item.required is None else item.required
            izh, ien = _texts(item.label)
            ihzh, ihen = _texts(item.hint)
            rows.append(
                {
                    "type": f"select_one {q.choices}",
                    "name": item.id,
                    "label::中文 (zh)": izh,
                    "label::English (en)": ien,
                    "hint::中文 (zh)": ihzh,
                    "hint::English (en)": ihen,
                    "required": "yes" if required else None,
                    "required_message::中文 (zh)": rzh if required else None,
                    "required_message::English (en)": ren if required else None,
                    "default": q.default,
                    "appearance": "likert",
                    "choice_filter": DONT_KNOW_FILTER
                    if q.choices in dk_lists and not item.allow_dont_know
                    else None,
                }
            )
        rows.append({"type": "end group", "name": q.id})
        return rows
    kind = {"single": "select_one", "multiple": "select_multiple"}.get(q.type, q.type)
    row: dict[str, Any] = {
        "type": f"{kind} {q.choices}" if q.type in ("single", "multiple") else kind,
        "name": q.id,
        "label::中文 (zh)": zh,
        "label::English (en)": en,
        "hint::中文 (zh)": hzh,
        "hint::English (en)": hen,
        "required": "yes" if q.required else None,
        "required_message::中文 (zh)": rzh,
        "required_message::English (en)": ren,
        "relevant": q.relevant,
        "constraint": q.constraint,
        "constraint_message::中文 (zh)": czh,
        "constraint_message::English (en)": cen,
        "default": q.default,
        "appearance": appearance,
        "choice_filter": DONT_KNOW_FILTER if q.choices in dk_lists else None,
    }
    if q.type == "text":
        row["sanhui::min_length"] = q.min_length
        if q.max_length != _DEFAULT_MAX_LENGTH:
            row["sanhui::max_length"] = q.max_length
    return [row]


def _choice_rows(survey: Survey) -> list[dict[str, Any]]:
    dk_lists = _dont_know_lists(survey)
    rows: list[dict[str, Any]] = []
    for scale in survey.choice_lists.values():
        ordered = "yes" if scale.ordered else None
        for choice in scale.choices:
            zh, en = _texts(choice.label)
            rows.append(
                {
                    "list_name": scale.id,
                    "name": choice.value,
                    "label::中文 (zh)": zh,
                    "label::English (en)": en,
                    "points": None if choice.points is None else _number(choice.points),
                    "sanhui_ordered": ordered,
                }
            )
        if scale.id in dk_lists:
            zh, en = _texts(scale.dont_know_label)
            rows.append(
                {
                    "list_name": scale.id,
                    "name": DONT_KNOW,
                    "label::中文 (zh)": zh,
                    "label::English (en)": en,
                    "sanhui_ordered": ordered,
                }
            )
    return rows


def _write_sheet(
    book: Any, title: str, header: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, 2):
        for index, name in enumerate(header, 1):
            value = row.get(name)
            if value is None:
                continue
            cell = sheet.cell(row=number, column=index)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, 1):
        sheet.column_dimensions[_column_letter(index - 1)].width = max(12, min(40, len(name) + 2))


def write_xlsform(survey: Survey, path: str | Path) -> None:
    """Write an instrument as an XLSForm workbook (``.xlsx``) that ``pyxform`` accepts.

    Parameters
    ----------
    survey : Survey
        The instrument.
    path : str or Path
        The ``.xlsx`` file to write (replaced if it exists).

    Notes
    -----
    Sheets ``survey``, ``choices`` and ``settings``; labels in ``label::中文 (zh)`` and
    ``label::English (en)`` columns; pages as top-level groups (appearance ``field-list``), grids
    as groups inside them with ``likert`` rows, the 不了解 answer as a ``dont_know`` choice
    excluded by ``choice_filter`` from rows that do not offer it; what XLSForm cannot say in
    ``sanhui::`` columns (see the module docstring). Text cells are stored as text, never as
    formulas. :func:`read_xlsform` reads the file back into an equal survey.

    References
    ----------
    XLSForm.org, *XLSForm specification*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.instrument.loader import load_survey
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hearing.xlsx"
    >>> write_xlsform(load_survey("surveys/hearing.yaml"), out)
    >>> read_xlsform(out).id
    'hearing'
    """
    if not isinstance(survey, Survey):
        raise ParameterError(f"`survey` must be a Survey; got {type(survey).__name__}.")
    import openpyxl

    s = survey.settings
    settings_row = {
        "form_id": s.id,
        "version": s.version,
        "form_title": s.title.zh,
        "default_language": LANGUAGE_COLUMNS[s.default_language],
        "anonymous": "yes" if s.anonymous else "no",
        "kind": s.kind,
        "sanhui::title_en": s.title.en,
        "sanhui::description": s.description.zh if s.description else None,
        "sanhui::description_en": s.description.en if s.description else None,
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    _write_sheet(book, "survey", _SURVEY_HEADER, _survey_rows(survey))
    _write_sheet(book, "choices", _CHOICES_HEADER, _choice_rows(survey))
    _write_sheet(book, "settings", _SETTINGS_HEADER, [settings_row])
    book.save(Path(path))


def convert(src: str | Path, dst: str | Path) -> Survey:
    """Convert an instrument between YAML (``.yaml``/``.yml``) and XLSForm (``.xlsx``).

    This is the body of ``sanhui convert IN OUT``; the formats follow the extensions, so
    YAML → YAML rewrites a file in the canonical layout and XLSForm → XLSForm normalises one.

    Parameters
    ----------
    src : str or Path
        The instrument to read.
    dst : str or Path
        The file to write (replaced if it exists).

    Returns
    -------
    Survey
        The instrument read from ``src``.

    Raises
    ------
    InstrumentError
        When ``src`` has problems (all of them, located).
    ParameterError
        When an extension is not one of ``.yaml``, ``.yml``, ``.xlsx``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = convert("surveys/coordination.yaml", out / "c.xlsx")
    >>> convert(out / "c.xlsx", out / "c.yaml").id
    'coordination'
    """
    formats = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
    kinds = []
    for name, value in (("src", src), ("dst", dst)):
        suffix = Path(value).suffix.lower()
        if suffix not in formats:
            raise ParameterError(
                f"`{name}` must end in .yaml, .yml or .xlsx; got {str(value)!r}."
                + (" Save .xls workbooks as .xlsx first." if suffix == ".xls" else "")
            )
        kinds.append(formats[suffix])
    if kinds[0] == "yaml":
        from toolkit.instrument.loader import load_survey

        survey = load_survey(src)
    else:
        survey = read_xlsform(src)
    if kinds[1] == "yaml":
        from toolkit.instrument.dumper import dump_survey

        Path(dst).write_text(dump_survey(survey), encoding="utf-8")
    else:
        write_xlsform(survey, dst)
    return survey


def _example_path() -> Path:
    """A small XLSForm for the examples (written to a temporary directory)."""
    import tempfile

    survey = Survey(
        Settings("demo", "1", Text("示例", "Demo")),
        (
            Page(
                "p1",
                Text("第一页"),
                (
                    Question(
                        "ratings",
                        "grid",
                        Text("请评价"),
                        choices="sat",
                        items=(GridItem("attitude", Text("工作态度"), allow_dont_know=True),),
                    ),
                    Question("comments", "text", Text("意见")),
                ),
            ),
        ),
        {"sat": ChoiceList("sat", (Choice("good", Text("好")), Choice("bad", Text("差"))))},
    )
    path = Path(tempfile.mkdtemp()) / "demo.xlsx"
    write_xlsform(survey, path)
    return path
