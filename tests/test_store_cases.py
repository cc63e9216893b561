"""Tests of toolkit.store.cases: cases linked to their meetings, outcomes and rectification items.

Every test runs on SQLite and on PostgreSQL (a fresh schema per test); PostgreSQL tests fail instead
of skipping when ``CI`` is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store_support import PG_URL, make_survey, require_postgres, setup_meeting
from toolkit.errors import ConflictError, ParameterError, StoreError
from toolkit.store import Store
from toolkit.store.engine import _head_revision as head_revision
from toolkit.store.store import create_engine, upgrade_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with Store.open(tmp_path / "cases.db") as opened:
            yield opened
        return
    require_postgres()
    schema = f"sanhui_cases_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _three_meetings(store: Store) -> None:
    survey = make_survey()
    store.add_instrument(survey)
    for meeting_id, kind, date in (
        ("h1", "hearing", "2026-01-10"),
        ("c1", "coordination", "2026-02-01"),
        ("e1", "evaluation", "2026-06-01"),
        ("e2", "evaluation", "2026-10-01"),
    ):
        setup_meeting(store, meeting_id, kind=kind, date=date, survey=survey)


def test_case_through_the_stages(store: Store) -> None:
    _three_meetings(store)
    case = store.create_case(
        "kase1", title="3号楼加装电梯", kind="elevator", street="五里桥街道", building="3号楼1门洞"
    )
    assert case.stage == "opened" and case.meetings == ()
    assert store.add_case_meeting("kase1", "h1").stage == "hearing"
    store.record_outcome("kase1", "h1", positions={"option_1": {"support": 20, "oppose": 9}})
    assert store.case("kase1").stage == "hearing"
    store.add_case_meeting("kase1", "c1")
    store.record_outcome(
        "kase1", "c1", agreement="partial", parties=4, terms=["低层住户补偿", "施工时间8-17点"]
    )
    store.add_case_meeting("kase1", "e1")
    store.record_outcome("kase1", "e1", verdict="基本满意", rule="majority_of_members")
    assert store.case("kase1").stage == "evaluation"
    item = store.add_rectification(
        "kase1",
        item="施工噪音",
        subject="contractor",
        source="low_rating",
        source_ref="contractor__noise",
        source_meeting_id="e1",
        due_date="2026-08-01",
    )
    assert item.status == "open" and item.due_date.isoformat() == "2026-08-01"
    assert store.case("kase1").stage == "rectification"
    assert store.add_case_meeting("kase1", "e2").stage == "follow_up"
    done = store.update_rectification(
        item.item_id, status="done", evidence="夜间停工公告", followup_meeting_id="e2"
    )
    assert (done.status, done.evidence, done.followup_meeting_id) == ("done", "夜间停工公告", "e2")

    case = store.case("kase1")
    assert [m.meeting_id for m in case.meetings] == ["h1", "c1", "e1", "e2"]
    assert [m.sequence for m in case.meetings] == [1, 2, 3, 4]
    assert case.meetings[0].positions == {"option_1": {"support": 20, "oppose": 9}}
    assert case.meetings[1].terms == ("低层住户补偿", "施工时间8-17点")
    assert case.meetings[1].parties == 4
    frame = store.cases()
    row = frame.iloc[0]
    assert (row["stage"], row["agreement"], row["terms"], row["items"], row["items_done"]) == (
        "rectification",
        "partial",
        2,
        1,
        1,
    )
    assert str(row["hearing_date"]) == "2026-01-10" and str(row["follow_up_date"]) == "2026-10-01"
    assert store.close_case("kase1", on="2026-11-01").stage == "closed"
    links = store.case_meetings("kase1")
    assert links["stage"].tolist() == ["hearing", "coordination", "evaluation", "follow_up"]
    assert store.rectification_items("kase1")["status"].tolist() == ["done"]


def test_venue_defaults_to_community_and_is_checked(store: Store) -> None:
    _three_meetings(store)
    assert store.meeting_venue("h1") == "community"
    store.set_meeting_venue("h1", "online")
    assert store.meetings().set_index("meeting_id").loc["h1", "venue"] == "online"
    with pytest.raises(ParameterError, match="`venue` must be one of"):
        store.set_meeting_venue("h1", "cafe")
    assert store.meeting_venue("h1") == "online"
    with pytest.raises(StoreError, match="no meeting `h9`"):
        store.set_meeting_venue("h9", "park")


def test_bad_input_is_located_and_changes_nothing(store: Store) -> None:
    _three_meetings(store)
    store.create_case("kase1", title="t", kind="parking")
    with pytest.raises(ConflictError, match="case `kase1` already exists"):
        store.create_case("kase1", title="other", kind="parking")
    with pytest.raises(StoreError, match=r"no case `kase2`.*Did you mean `kase1`"):
        store.add_case_meeting("kase2", "h1")
    with pytest.raises(ParameterError, match="is a hearing meeting and cannot serve"):
        store.add_case_meeting("kase1", "h1", stage="coordination")
    store.add_case_meeting("kase1", "c1")
    with pytest.raises(ParameterError, match="dated before `c1`"):
        store.add_case_meeting("kase1", "h1")
    with pytest.raises(ConflictError, match="already linked"):
        store.add_case_meeting("kase1", "c1")
    with pytest.raises(ParameterError, match="`verdict` does not apply to the coordination"):
        store.record_outcome("kase1", "c1", verdict="满意")
    with pytest.raises(ParameterError, match="`agreement` must be one of"):
        store.record_outcome("kase1", "c1", agreement="maybe")
    with pytest.raises(StoreError, match="not linked to case `kase1`"):
        store.record_outcome("kase1", "e1", verdict="满意")
    with pytest.raises(StoreError, match="`source_meeting_id`: meeting `e1` is not linked"):
        store.add_rectification(
            "kase1", item="x", subject="wuye", source="comment", source_meeting_id="e1"
        )
    with pytest.raises(ParameterError, match="`status` must be one of"):
        store.add_rectification("kase1", item="x", subject="wuye", source="comment", status="later")
    with pytest.raises(ParameterError, match="`due_date` must be a date"):
        store.add_rectification(
            "kase1", item="x", subject="wuye", source="comment", due_date="soon"
        )
    with pytest.raises(StoreError, match="no rectification item 99"):
        store.update_rectification(99, status="done")
    case = store.case("kase1")
    assert [m.meeting_id for m in case.meetings] == ["c1"] and case.items == ()
    assert case.meetings[0].agreement is None


def test_old_database_upgrades_with_venue_community(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(path)
    upgrade_schema(engine, revision="0003_entry_mode")
    engine.dispose()
    with Store.open(path) as store:
        assert store.schema_revision == head_revision()
        setup_meeting(store, "m1")
        assert store.meeting_venue("m1") == "community"
        assert store.cases().empty and store.rectification_items().empty
