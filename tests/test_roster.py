"""The roster template and reading a filled roster with every problem located."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.meeting_support import filled_roster
from toolkit.store.roster_sheet import ROSTER_COLUMNS, read_roster, write_roster_template


def test_template_has_bilingual_headers_lists_example_and_help(tmp_path: Path) -> None:
    path = write_roster_template(tmp_path / "roster.xlsx")
    book = load_workbook(path)
    sheet, guide = book.worksheets
    headers = [c.value for c in sheet[1]]
    assert headers == [c.header for c in ROSTER_COLUMNS]
    assert headers[0] == "姓名 name" and "身份 role" in headers
    assert str(sheet["A2"].value).startswith("示例")
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert any("居民代表" in f for f in lists.values())
    assert any("60～69岁" in f for f in lists.values())
    assert any("女" in f and "男" in f for f in lists.values())
    assert any("1～3层" in f for f in lists.values())
    assert guide.title == "说明 help" and guide.max_row >= len(ROSTER_COLUMNS) + 1


def test_filled_roster_reads_codes(tmp_path: Path) -> None:
    roster = read_roster(filled_roster(tmp_path / "r.xlsx"))
    assert roster.problems == ()
    assert roster.frame["role"].tolist() == [
        "resident_rep",
        "party_member",
        "building_head",
        "owners_committee",
    ]
    assert roster.frame["age_band"].tolist()[0] == "60-69"
    assert roster.frame["party_member"].tolist() == [False, True, False, False]


def test_every_problem_is_reported_with_sheet_row_and_column(tmp_path: Path) -> None:
    rows = [
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
        (None, "4-101", "4", "1～3层", "党员", "男", "70～79岁", 1950, "是"),
        ("李强", "5-102", "5", "9层", "居民带表", "男士", "70～79岁", 2020, "也许"),
        ("陈静", "7-702", "7", "7层及以上", "党员", "女", "30～39岁", 1950, "否"),
        ("周杰", "8-101", "8", "1～3层", "党员", "男", "30～39岁", "一九八零", "否"),
    ]
    roster = read_roster(filled_roster(tmp_path / "bad.xlsx", rows))
    place = "bad.xlsx, sheet 名单 roster, row {}, column {}"
    assert [(p.code, p.where) for p in roster.problems] == [
        ("E_DUPLICATE_PERSON", place.format(4, "A (姓名 name)")),
        ("E_EMPTY_VALUE", place.format(5, "A (姓名 name)")),
        ("E_NOT_A_CHOICE", place.format(6, "E (身份 role)")),
        ("E_NOT_A_CHOICE", place.format(6, "F (性别 gender)")),
        ("E_NOT_A_CHOICE", place.format(6, "D (楼层 floor band)")),
        ("E_NOT_A_BOOLEAN", place.format(6, "I (党员 party member)")),
        ("E_IMPLAUSIBLE_AGE", place.format(6, "H (出生年份 birth year)")),
        ("E_AGE_BAND_MISMATCH", place.format(7, "H (出生年份 birth year)")),
        ("E_NOT_A_YEAR", place.format(8, "H (出生年份 birth year)")),
    ]
    duplicate, _, role, gender, floor, *_ = roster.problems
    assert "row 3" in duplicate.message  # where the person already is
    # a close value is suggested, else the allowed values are listed
    assert role.fix == "Did you mean `居民代表`?" and gender.fix == "Did you mean `男`?"
    assert floor.fix is not None and "7层及以上" in floor.fix
    assert len(roster.frame) == 1  # only the first 王芳 row is clean


def test_csv_unknown_header_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("姓名 name,房间\n王芳,1\n", encoding="utf-8")
    (problem,) = read_roster(path).problems
    assert problem.code == "E_UNKNOWN_COLUMN"
    # one exact message, on purpose: the place, the problem and the fix, in that order
    assert str(problem) == (
        "r.csv, row 1, column B: unknown column `房间`. Did you mean `房号 room`? Use the "
        "template's headers."
    )

    def codes(path: Path) -> list[str | None]:
        return [p.code for p in read_roster(path).problems]

    assert codes(_write(tmp_path / "n.csv", "房号 room\n1\n")) == ["E_MISSING_COLUMN"]
    assert codes(_write(tmp_path / "d.csv", "姓名,name\n王芳,王芳\n")) == ["E_DUPLICATE_COLUMN"]
    assert codes(_bytes(tmp_path / "g.csv", "姓名\n王".encode("gbk"))) == ["E_NOT_UTF8"]
    assert codes(_bytes(tmp_path / "x.xlsx", b"no")) == ["E_NOT_XLSX"]
    assert codes(_bytes(tmp_path / "x.txt", b"a")) == ["E_FILE_TYPE"]
    assert codes(tmp_path / "missing.xlsx") == ["E_UNREADABLE"]
    assert codes(_write(tmp_path / "e.csv", "")) == ["E_EMPTY_FILE"]
    assert codes(_write(tmp_path / "h.csv", "姓名 name\n")) == ["E_NO_PEOPLE"]
    many = "".join(f"p{i}\n" for i in range(5001))
    assert codes(_write(tmp_path / "big.csv", "姓名 name\n" + many)) == ["E_TOO_LARGE"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
