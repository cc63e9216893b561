"""Shared helpers of the meeting tests: a filled roster and a prepared evaluation meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.ci_support import in_ci
from toolkit.store.roster_sheet import write_roster_template

ROOT = Path(__file__).resolve().parents[1]
EVALUATION = ROOT / "surveys" / "evaluation.yaml"

PEOPLE = [
    ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
    ("李强", "5-102", "5", "1～3层", "党员", "男", "70～79岁", 1950, "是"),
    ("张伟", "6-501", "6", "4～6层", "楼组长", "男", "50～59岁", 1972, "否"),
    ("赵敏", "2-303", "2", "1～3层", "业委会成员", "女", "40～49岁", 1982, "否"),
]


def filled_roster(path: Path, rows: list[tuple[Any, ...]] | None = None) -> Path:
    """The roster template filled in with ``rows`` (default :data:`PEOPLE`) from row 3."""
    write_roster_template(path)
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for offset, row in enumerate(PEOPLE if rows is None else rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=3 + offset, column=column, value=value)
    book.save(path)
    return path


def new_args(db: Path, roster: Path, meeting_id: str = "wlq-2026-03") -> list[str]:
    """The `sanhui meeting new` arguments of the README's example."""
    return [
        "meeting",
        "new",
        "--id",
        meeting_id,
        "--kind",
        "evaluation",
        "--title",
        "2026年一季度评议会",
        "--date",
        "2026-03-15",
        "--instrument",
        str(EVALUATION),
        "--subject",
        "wuye=物业公司",
        "--subject",
        "juweihui=居委会",
        "--roster",
        str(roster),
        "--members",
        "5",
        "--ballots-issued",
        "6",
        "--rule",
        "majority_of_members",
        "--database",
        str(db),
    ]


def need_chromium() -> None:
    """Skip (or, with ``CI`` set, fail) a test when Chromium or poppler-utils are missing."""
    import shutil

    import pytest

    missing = [n for n in ("chromium", "pdftotext", "pdftoppm", "pdfinfo") if not shutil.which(n)]
    if not missing:
        return
    message = f"{', '.join(missing)} not found (Debian: apt-get install chromium poppler-utils)"
    if in_ci():
        pytest.fail(f"{message}; CI requires the PDF tests to run.")
    pytest.skip(message)
