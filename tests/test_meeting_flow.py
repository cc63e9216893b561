"""The README's flow of a real meeting, end to end through the command line and the keying widget:
template → filled roster → meeting → tablet and paper ballots (keyed twice) → tally PDF → close.
Once on SQLite, once on PostgreSQL (required when CI is set)."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.meeting_support import PEOPLE, need_chromium, new_args
from tests.store_support import PG_URL, need_postgres
from toolkit.cli import app
from toolkit.collect.keying import KeyingApp
from toolkit.store import Store, Submission

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "sanhui.db")
        return
    need_postgres()
    schema = f"sanhui_flow_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


@pytest.mark.browser
def test_readme_flow(database: str, tmp_path: Path) -> None:
    need_chromium()
    db = ["--database", database]
    roster = tmp_path / "roster.xlsx"
    _ok(["roster", "template", str(roster)])
    book = load_workbook(roster)  # the community worker fills it in
    for offset, row in enumerate(PEOPLE):
        for column, value in enumerate(row, start=1):
            book.worksheets[0].cell(row=3 + offset, column=column, value=value)
    book.save(roster)
    args = new_args(Path("unused"), roster, "flow-1")
    _ok([*args[: args.index("--database")], *db])
    _ok(["meeting", "open", "flow-1", *db])
    with Store.open(database) as store:
        # two tablet ballots
        for i, value in enumerate(("satisfied", "basically_satisfied")):
            answers = {"project_elevator": "no"}
            for subject in ("wuye", "juweihui"):
                for item in (
                    "attitude",
                    "efficiency",
                    "transparency",
                    "responsiveness",
                    "integrity",
                    "results",
                    "overall",
                ):
                    answers[f"{subject}__{item}"] = value
            store.submit(Submission(str(uuid.uuid4()), "flow-1", answers, device=f"A{i}"))
        # three paper ballots keyed twice, one with a difference resolved against the paper
        for keyer in (1, 2):
            keying = KeyingApp(store, "flow-1")
            for number in (1, 2, 3):
                keying.type(str(number))
                for field in keying.fields:
                    digit = "1" if field.kind == "choice" and field.question == "ratings" else "0"
                    if keyer == 2 and number == 2 and field.name == "wuye__overall":
                        digit = "3"
                    keying.type(digit)
                while keying.state == "resolve":
                    keying.type("1")
        assert keying.progress_counts() == {"keyed": 3, "compared": 3, "resolved": 3}
    tally = tmp_path / "tally.pdf"
    out = _ok(["print", "tally", "flow-1", "--out", str(tally), *db])
    assert "5 ballots returned, 5 valid, 0 void" in out
    text = subprocess.run(
        ["pdftotext", "-layout", str(tally), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "计票单" in text and "总体评价" in text
    # majority of 5 members: wuye 4 满意 (> 2.5) → 满意; juweihui 4 满意 as well
    assert re.search(r"物业公司\s+满意\s*\n", text) and re.search(r"居委会\s+满意\s*\n", text)
    closed = _ok(["meeting", "close", "flow-1", *db])
    assert "5 ballots (5 valid, 0 void; 2 tablet, 3 paper)" in closed
    shown = _ok(["meeting", "show", "flow-1", *db])
    assert "closed 已结束" in shown and "(the stored ballots match)" in shown
    with Store.open(database) as store:
        late = KeyingApp(store, "flow-1")
        late.type("4")
        for _field in late.fields:
            late.type("0")
        late.type("4")
        for _field in late.fields:
            late.type("0")
        assert "not open and takes no ballots" in late.message.value
    assert "5 returned" in _ok(["meeting", "show", "flow-1", *db])
