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
    text = [str(p) for p in roster.problems]
    place = "bad.xlsx, sheet 名单 roster"
    assert (
        f"{place}, row 4, column A (姓名 name): duplicate person: `王芳` in room `3-201` is "
        "already on row 3." in text[0]
    )
    assert any(f"{place}, row 5, column A (姓名 name): the name is empty." in t for t in text)
    assert any(
        "row 6, column E (身份 role): unknown role `居民带表`. Did you mean `居民代表`?" in t
        for t in text
    )
    assert any("row 6, column F (性别 gender): unknown gender `男士`" in t for t in text)
    assert any("row 6, column D (楼层 floor band): unknown floor `9层`" in t for t in text)
    assert any("row 6, column H (出生年份 birth year): bad age" in t for t in text)
    assert any("row 6, column I (党员 party member)" in t for t in text)
    assert any(
        "row 7, column H (出生年份 birth year): bad age" in t and "30～39岁" in t for t in text
    )
    assert any("row 8, column H" in t and "is not a year" in t for t in text)
    assert len(roster.frame) == 1  # only the first 王芳 row is clean


def test_csv_unknown_header_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("姓名 name,房间\n王芳,1\n", encoding="utf-8")
    problems = [str(p) for p in read_roster(path).problems]
    assert problems == [
        "r.csv, row 1, column B: unknown column `房间`. Did you mean `房号 room`? Use the "
        "template's headers."
    ]
    assert "no column `姓名 name`" in str(
        read_roster(_write(tmp_path / "n.csv", "房号 room\n1\n")).problems[0]
    )
    assert "not UTF-8" in str(
        read_roster(_bytes(tmp_path / "g.csv", "姓名\n王".encode("gbk"))).problems[0]
    )
    assert "not an Excel workbook" in str(
        read_roster(_bytes(tmp_path / "x.xlsx", b"no")).problems[0]
    )
    assert ".xlsx or .csv" in str(read_roster(_bytes(tmp_path / "x.txt", b"a")).problems[0])
    assert "cannot read" in str(read_roster(tmp_path / "missing.xlsx").problems[0])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
