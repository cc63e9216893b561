"""Meeting rosters (名单): the Excel template, and reading a filled roster with located problems.

A roster is one row per invited person. :func:`write_roster_template` writes the template that
``sanhui roster template`` hands out; :func:`read_roster` reads it back (``.xlsx`` or ``.csv``)
and reports **every** problem with its sheet, row and column, never only the first.

Values are taken as codes or as Chinese or English labels; the lists come from the meeting's
instrument when it has a choice list of the same name (``role``, ``age_band``, ``gender``,
``floor_band``), else from :data:`DEFAULT_VOCABULARY` (those of ``surveys/evaluation.yaml``).

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> template = write_roster_template(folder / "roster.xlsx")
>>> roster = read_roster(template)
>>> len(roster.frame), [p.message for p in roster.problems]    # the example row is skipped
(0, ['the roster has nobody on it.'])
>>> _ = (folder / "r.csv").write_text(
...     "姓名 name,房号 room,身份 role,年龄段 age band\\n王芳,3-201,居民代表,60-69\\n"
...     "李强,5-102,居民带表,70-79\\n", encoding="utf-8")
>>> roster = read_roster(folder / "r.csv")
>>> print(roster.problems[0])
r.csv, row 3, column C (身份 role): unknown role `居民带表`. Did you mean `居民代表`?
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import Problem

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.instrument.model import Survey

__all__ = [
    "DEFAULT_VOCABULARY",
    "ROSTER_COLUMNS",
    "Roster",
    "RosterColumn",
    "read_roster",
    "roster_vocabulary",
    "write_roster_template",
]

ROSTER_SHEET = "名单 roster"
HELP_SHEET = "说明 help"
EXAMPLE_PREFIX = "示例"
_MAX_ROWS = 5000
_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class RosterColumn:
    """One roster column: its store field, Chinese and English headers and what it holds."""

    key: str
    zh: str
    en: str
    help_zh: str
    example: Any
    required: bool = False

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn(
        "name", "姓名", "name", "必填。只用于签到查找，不进入选票和导出。", "示例：王芳", True
    ),
    RosterColumn("room", "房号", "room", "选填。同名的人用房号区分。", "3-201"),
    RosterColumn("building", "楼号", "building", "选填。楼号或门牌。", "3"),
    RosterColumn("floor_band", "楼层", "floor band", "选填。从下拉列表中选择。", "1～3层"),
    RosterColumn("role", "身份", "role", "选填。从下拉列表中选择。", "居民代表"),
    RosterColumn("gender", "性别", "gender", "选填。从下拉列表中选择。", "女"),
    RosterColumn("age_band", "年龄段", "age band", "选填。从下拉列表中选择。", "60～69岁"),
    RosterColumn("birth_year", "出生年份", "birth year", "选填。四位数年份，如 1958。", 1958),
    RosterColumn("party_member", "党员", "party member", "选填。是 或 否。", "否"),
    RosterColumn("household_id", "户号", "household", "选填。同一户的人填相同户号。", "H3-201"),
)
_BY_KEY = {c.key: c for c in ROSTER_COLUMNS}

#: Codes and labels used when the instrument has no choice list of that name.
DEFAULT_VOCABULARY: dict[str, tuple[tuple[str, str, str], ...]] = {
    "role": (
        ("resident_rep", "居民代表", "Residents' representative"),
        ("party_member", "党员", "Party member"),
        ("deputy", "人大代表/政协委员", "People's Congress deputy / CPPCC member"),
        ("owners_committee", "业委会成员", "Owners' committee member"),
        ("building_head", "楼组长", "Building head"),
        ("other", "其他", "Other"),
    ),
    "age_band": (
        ("18-29", "18～29岁", "18–29"),
        ("30-39", "30～39岁", "30–39"),
        ("40-49", "40～49岁", "40–49"),
        ("50-59", "50～59岁", "50–59"),
        ("60-69", "60～69岁", "60–69"),
        ("70-79", "70～79岁", "70–79"),
        ("80+", "80岁及以上", "80 and over"),
    ),
    "gender": (("female", "女", "Female"), ("male", "男", "Male")),
    "floor_band": (
        ("1-3", "1～3层", "Floors 1–3"),
        ("4-6", "4～6层", "Floors 4–6"),
        ("7+", "7层及以上", "Floor 7 or higher"),
    ),
}
_YES = ("是", "yes", "y", "true", "1")
_NO = ("否", "no", "n", "false", "0")
_ROLE_WORDS = {"role": "role", "age_band": "age band", "gender": "gender", "floor_band": "floor"}


def roster_vocabulary(survey: Survey | None = None) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The allowed (code, Chinese label, English label) of each list column of the roster.

    The instrument's choice list of the same name wins over :data:`DEFAULT_VOCABULARY`.
    """
    vocabulary = dict(DEFAULT_VOCABULARY)
    if survey is not None:
        for key in vocabulary:
            lists = survey.choice_lists
            if key in lists:
                vocabulary[key] = tuple(
                    (c.value, c.label.zh, c.label.en or c.value) for c in lists[key].choices
                )
    return vocabulary


def write_roster_template(path: str | Path, *, survey: Survey | None = None) -> Path:
    """Write the Excel roster template: bilingual headers, drop-down lists, an example row, help.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write (an existing file is replaced).
    survey : Survey, optional
        Take the drop-down lists from this instrument's choice lists.

    Returns
    -------
    Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        from toolkit.errors import ParameterError

        raise ParameterError(f"the roster template is an Excel file: name it *.xlsx; got {target}.")
    vocabulary = roster_vocabulary(survey)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ROSTER_SHEET
    bold = Font(bold=True)
    for index, column in enumerate(ROSTER_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
        sheet.cell(row=2, column=index, value=column.example).font = Font(color="808080")
        sheet.column_dimensions[cell.column_letter].width = 16
    sheet.freeze_panes = "A2"
    for key, entries in vocabulary.items():
        letter = _letter(next(i for i, c in enumerate(ROSTER_COLUMNS) if c.key == key))
        listed = ",".join(label for _code, label, _en in entries)
        rule = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True)
        rule.error = f"请从下拉列表中选择（{listed}）。"
        rule.errorTitle = _BY_KEY[key].header
        rule.add(f"{letter}2:{letter}{_MAX_ROWS + 1}")
        sheet.add_data_validation(rule)
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    letter = _letter(next(i for i, c in enumerate(ROSTER_COLUMNS) if c.key == "party_member"))
    yes_no.add(f"{letter}2:{letter}{_MAX_ROWS + 1}")
    sheet.add_data_validation(yes_no)

    guide = book.create_sheet(HELP_SHEET)
    guide.append(["列 column", "必填 required", "说明 what to write", "可选值 allowed values"])
    for cell in guide[1]:
        cell.font = bold
    for column in ROSTER_COLUMNS:
        allowed = "、".join(label for _c, label, _e in vocabulary.get(column.key, ()))
        if column.key == "party_member":
            allowed = "是、否"
        guide.append([column.header, "是" if column.required else "否", column.help_zh, allowed])
    guide.append([])
    guide.append(
        [
            "第2行",
            "",
            f"第2行是示例。姓名以“{EXAMPLE_PREFIX}”开头的行不会导入；请从第3行起填写，或改写第2行。",
            "",
        ]
    )
    guide.append(
        ["检查", "", "sanhui meeting new 会一次列出所有问题（工作表、行、列），改好后再导入。", ""]
    )
    for letter, width in zip("ABCD", (18, 12, 60, 60), strict=True):
        guide.column_dimensions[letter].width = width
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


@dataclass(frozen=True)
class Roster:
    """A read roster: ``frame`` (store columns plus ``name`` and ``room``, codes not labels) and
    every located problem. ``frame`` holds only the rows without problems."""

    frame: pd.DataFrame
    problems: tuple[Problem, ...]
    source: str


def read_roster(
    path: str | Path,
    *,
    survey: Survey | None = None,
    when: dt.date | None = None,
) -> Roster:
    """Read a filled roster (``.xlsx`` or ``.csv``) and check every row.

    Parameters
    ----------
    path : str or Path
        The roster; an ``.xlsx`` is read from its sheet ``名单 roster`` (else its first sheet).
    survey : Survey, optional
        The meeting's instrument: its choice lists give the allowed roles, age bands...
    when : date, optional
        The meeting date, to check birth years (default: today).

    Returns
    -------
    Roster
        Problems found: unknown headers, empty names, duplicate people (same name and room),
        unknown roles, genders, floor and age bands (with a "did you mean"), birth years that are
        not a year or give an age below 16 or above 110, or disagree with the age band.
    """
    source = Path(path)
    name = source.name
    try:
        size = source.stat().st_size
    except OSError as error:
        failed = Problem(
            name,
            f"cannot read the roster ({error.strerror}).",
            "Check the path.",
            code="E_UNREADABLE",
        )
        return Roster(_frame([]), (failed,), name)
    if size > _MAX_BYTES:
        too_big = Problem(
            name,
            f"the roster is larger than {_MAX_BYTES:,} bytes.",
            "Split it.",
            code="E_TOO_LARGE",
        )
        return Roster(_frame([]), (too_big,), name)
    suffix = source.suffix.lower()
    problem: Problem | None
    if suffix == ".xlsx":
        sheet_name, rows, problem = _xlsx_rows(source)
        place = f"{name}, sheet {sheet_name}"
    elif suffix == ".csv":
        rows, problem = _csv_rows(source)
        place = name
    else:
        problem = Problem(
            name,
            "a roster is an .xlsx or .csv file.",
            "Save it as .xlsx or .csv.",
            code="E_FILE_TYPE",
        )
        rows = []
        place = name
    if problem is not None:
        return Roster(_frame([]), (problem,), name)
    return _check_rows(rows, place, roster_vocabulary(survey), when or dt.date.today(), name)


# --- reading --------------------------------------------------------------------------------------


def _xlsx_rows(path: Path) -> tuple[str, list[tuple[Any, ...]], Problem | None]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, OSError, KeyError, ValueError) as error:
        problem = Problem(
            path.name, f"not an Excel workbook ({error}).", "Save it as .xlsx.", code="E_NOT_XLSX"
        )
        return "", [], problem
    try:
        sheet = book[ROSTER_SHEET] if ROSTER_SHEET in book.sheetnames else book.worksheets[0]
        rows = [tuple(r) for r in sheet.iter_rows(max_row=_MAX_ROWS + 2, values_only=True)]
        return sheet.title, rows, None
    finally:
        book.close()


def _csv_rows(path: Path) -> tuple[list[tuple[Any, ...]], Problem | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], Problem(
            path.name, "the file is not UTF-8 text.", "Save it as CSV UTF-8.", code="E_NOT_UTF8"
        )
    rows = [tuple(r) for r in csv.reader(text.splitlines())]
    return rows[: _MAX_ROWS + 2], None


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _header_key(text: str) -> str | None:
    lowered = re.sub(r"\s+", " ", text.strip().lower())
    for column in ROSTER_COLUMNS:
        names = {column.header.lower(), column.zh.lower(), column.en.lower(), column.key}
        if lowered in names:
            return column.key
    return None


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    columns = [c.key for c in ROSTER_COLUMNS]
    return pd.DataFrame(records, columns=columns)


def _check_rows(
    rows: list[tuple[Any, ...]],
    place: str,
    vocabulary: Mapping[str, Sequence[tuple[str, str, str]]],
    when: dt.date,
    source: str,
) -> Roster:
    problems: list[Problem] = []
    if not rows:
        problems.append(
            Problem(
                place,
                "the roster is empty.",
                "Fill in the template's columns.",
                code="E_EMPTY_FILE",
            )
        )
        return Roster(_frame([]), tuple(problems), source)
    keys: dict[int, str] = {}
    for index, cell in enumerate(rows[0]):
        text = _text(cell)
        if text is None:
            continue
        key = _header_key(text)
        where = f"{place}, row 1, column {_letter(index)}"
        if key is None:
            words = {w: c.header for c in ROSTER_COLUMNS for w in (c.header, c.zh, c.en)}
            close = difflib.get_close_matches(text, list(words), n=1, cutoff=0.5)
            hint = f"Did you mean `{words[close[0]]}`? " if close else ""
            problems.append(
                Problem(
                    where,
                    f"unknown column `{text}`.",
                    f"{hint}Use the template's headers.",
                    code="E_UNKNOWN_COLUMN",
                )
            )
        elif key in keys.values():
            problems.append(
                Problem(
                    where, f"column `{text}` appears twice.", "Keep one.", code="E_DUPLICATE_COLUMN"
                )
            )
        else:
            keys[index] = key
    if "name" not in keys.values():
        problems.append(
            Problem(
                f"{place}, row 1",
                "no column `姓名 name`.",
                "Use the roster template.",
                code="E_MISSING_COLUMN",
            )
        )
        return Roster(_frame([]), tuple(problems), source)
    if len(rows) > _MAX_ROWS + 1:
        problems.append(
            Problem(place, f"more than {_MAX_ROWS} rows.", "Split the roster.", code="E_TOO_LARGE")
        )
    lookups = {key: _lookup(entries) for key, entries in vocabulary.items()}
    records: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1 : _MAX_ROWS + 1], start=2):
        values = {key: _text(row[i]) if i < len(row) else None for i, key in keys.items()}
        if all(v is None for v in values.values()):
            continue
        if (values.get("name") or "").startswith(EXAMPLE_PREFIX):
            continue
        letters = {key: _letter(i) for i, key in keys.items()}

        def locate(key: str, number: int = number, letters: dict[str, str] = letters) -> str:
            return f"{place}, row {number}, column {letters[key]} ({_BY_KEY[key].header})"

        before = len(problems)
        record: dict[str, Any] = {c.key: None for c in ROSTER_COLUMNS}
        record.update({k: v for k, v in values.items() if k in ("name", "room", "building")})
        record["household_id"] = values.get("household_id")
        if values.get("name") is None:
            problems.append(
                Problem(
                    locate("name"),
                    "the name is empty.",
                    "Write the person's name (姓名).",
                    code="E_EMPTY_VALUE",
                )
            )
        for key, lookup in lookups.items():
            value = values.get(key)
            if value is None:
                continue
            code = lookup.get(_fold(value))
            if code is None:
                labels = [label for _c, label, _e in vocabulary[key]]
                close = difflib.get_close_matches(value, labels, n=1, cutoff=0.5)
                hint = f"Did you mean `{close[0]}`?" if close else ""
                problems.append(
                    Problem(
                        locate(key),
                        f"unknown {_ROLE_WORDS[key]} `{value}`.",
                        hint or f"Choose one of: {'、'.join(labels)}.",
                        code="E_NOT_A_CHOICE",
                    )
                )
            record[key] = code
        party = values.get("party_member")
        if party is not None:
            if party.lower() in _YES:
                record["party_member"] = True
            elif party.lower() in _NO:
                record["party_member"] = False
            else:
                problems.append(
                    Problem(
                        locate("party_member"),
                        f"`{party}` is not 是 or 否.",
                        "Write 是 or 否.",
                        code="E_NOT_A_BOOLEAN",
                    )
                )
        year_text = values.get("birth_year")
        if year_text is not None:
            year = _year(year_text)
            if year is None:
                problems.append(
                    Problem(
                        locate("birth_year"),
                        f"bad age: `{year_text}` is not a year.",
                        "Write a four-digit year such as 1958.",
                        code="E_NOT_A_YEAR",
                    )
                )
            elif not 16 <= when.year - year <= 110:
                problems.append(
                    Problem(
                        locate("birth_year"),
                        f"bad age: born {year} makes {when.year - year} years old on "
                        f"{when.isoformat()}.",
                        "Check the year; members are 16 to 110 years old.",
                        code="E_IMPLAUSIBLE_AGE",
                    )
                )
            else:
                record["birth_year"] = year
                band = record.get("age_band")
                if band is not None and not _age_in_band(when.year - year, band):
                    problems.append(
                        Problem(
                            locate("birth_year"),
                            f"bad age: born {year} ({when.year - year} years old) is not in the "
                            f"age band `{values.get('age_band')}`.",
                            "Correct the birth year or the age band.",
                            code="E_AGE_BAND_MISMATCH",
                        )
                    )
        name = values.get("name")
        if name is not None:
            person = (_fold(name), _fold(values.get("room") or ""))
            if person in seen:
                room = values.get("room")
                problems.append(
                    Problem(
                        locate("name"),
                        f"duplicate person: `{name}`"
                        + (f" in room `{room}`" if room else "")
                        + f" is already on row {seen[person]}.",
                        "Delete the repeated row, or add the room (房号) to tell them apart.",
                        code="E_DUPLICATE_PERSON",
                    )
                )
            else:
                seen[person] = number
        if len(problems) == before:
            records.append(record)
    if not records and not problems:
        problems.append(
            Problem(
                place, "the roster has nobody on it.", "Add one row per person.", code="E_NO_PEOPLE"
            )
        )
    return Roster(_frame(records), tuple(problems), source)


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("~", "～").lower()


def _lookup(entries: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for code, zh, en in entries:
        for word in (code, zh, en):
            table[_fold(word)] = code
    return table


def _year(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1000 <= value <= 9999 else None


def _age_in_band(age: int, band: str) -> bool:
    match = re.fullmatch(r"(\d+)-(\d+)", band)
    if match:
        return int(match.group(1)) - 1 <= age <= int(match.group(2)) + 1
    match = re.fullmatch(r"(\d+)\+", band)
    if match:
        return age >= int(match.group(1)) - 1
    return True
