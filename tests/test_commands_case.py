"""The `sanhui case` and `sanhui rectify` commands: happy paths and located errors, on SQLite and
PostgreSQL (a fresh schema per test; required when ``CI=true``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.store_support import PG_URL, make_survey, require_postgres, setup_meeting
from toolkit.cli import app
from toolkit.store import Store

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "cli-cases.db"
        _fill(Store.open(path))
        yield str(path)
        return
    require_postgres()
    schema = f"sanhui_cli_{uuid.uuid4().hex[:12]}"
    _fill(Store.open(PG_URL, schema=schema))
    try:  # the command line reaches the schema through the URL's search_path
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _fill(opened: Store) -> None:
    with opened as store:
        survey = make_survey()
        store.add_instrument(survey)
        for meeting_id, kind, date in (
            ("h1", "hearing", "2026-01-10"),
            ("c1", "coordination", "2026-02-01"),
            ("e1", "evaluation", "2026-06-01"),
            ("e2", "evaluation", "2026-10-01"),
        ):
            setup_meeting(store, meeting_id, kind=kind, date=date, survey=survey)


def run(db: str, *args: str) -> object:
    return runner.invoke(app, [*args, "--database", db])


def test_case_from_hearing_to_rectification(db: str) -> None:
    steps = [
        ("case", "new", "elev-3", "--title", "3号楼加装电梯", "--kind", "elevator",
         "--street", "五里桥街道", "--building", "3号楼"),
        ("case", "add-meeting", "elev-3", "h1", "--support", "option_1=20", "--oppose",
         "option_1=9", "--undecided", "option_1=3"),
        ("case", "add-meeting", "elev-3", "c1", "--agreement", "partial", "--parties", "4",
         "--term", "低层住户补偿", "--term", "施工时间8-17点"),
        ("case", "add-meeting", "elev-3", "e1", "--verdict", "基本满意"),
        ("rectify", "add", "elev-3", "--item", "施工噪音", "--subject", "contractor",
         "--source", "low_rating", "--ref", "contractor__noise", "--meeting", "e1",
         "--due", "2026-08-01"),
        ("case", "add-meeting", "elev-3", "e2"),
        ("rectify", "update", "1", "--status", "done", "--evidence", "夜间停工公告",
         "--followup", "e2"),
    ]  # fmt: skip
    for step in steps:
        result = run(db, *step)
        assert result.exit_code == 0, (step, result.output)
    shown = run(db, "case", "show", "elev-3")
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert "stage: rectification" in lines[0]
    assert "1. 2026-01-10  hearing" in shown.output
    assert '"option_1": {"support": 20, "oppose": 9, "dont_know": 3}' in shown.output
    assert "agreement partial, 4 parties, terms: 低层住户补偿; 施工时间8-17点" in shown.output
    assert "4. 2026-10-01  follow_up" in shown.output
    assert "整改 #1 [done] 施工噪音 — contractor due 2026-08-01" in shown.output
    listed = run(db, "case", "list")
    assert "elev-3  rectification" in listed.output and "整改 1/1 done" in listed.output
    items = run(db, "rectify", "list", "--case", "elev-3")
    assert "#1  elev-3  [done] 施工噪音" in items.output and "checked at e2" in items.output


def test_errors_are_located_and_change_nothing(db: str) -> None:
    assert run(db, "case", "new", "k1", "--title", "停车", "--kind", "parking").exit_code == 0
    again = run(db, "case", "new", "k1", "--title", "x", "--kind", "parking")
    assert again.exit_code == 1 and "case `k1` already exists" in again.output
    wrong = run(db, "case", "add-meeting", "k1", "c1", "--verdict", "满意")
    assert wrong.exit_code == 1
    assert "`verdict` does not apply to the coordination stage" in wrong.output
    bad_count = run(db, "case", "add-meeting", "k1", "h1", "--support", "option_1")
    assert bad_count.exit_code == 1 and "write OPTION=COUNT" in bad_count.output
    missing = run(db, "case", "show", "k9")
    assert missing.exit_code == 1 and "no case `k9`" in missing.output
    status = run(db, "rectify", "add", "k1", "--item", "x", "--subject", "wuye",
                 "--source", "rumour")  # fmt: skip
    assert status.exit_code == 1 and "`source` must be one of" in status.output
    # nothing was half-written: the failed add-meeting left no link behind
    shown = run(db, "case", "show", "k1")
    assert "no meetings yet" in shown.output
    assert run(db, "rectify", "list").output.strip() == "no rectification items"
