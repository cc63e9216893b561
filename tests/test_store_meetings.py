"""Tests of toolkit.store.core, meetings and roster: instruments, meetings, participants, attendance.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test); see tests/store_support.py for when PostgreSQL tests are skipped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.error_support import raises_code
from tests.store_support import (
    good_answers,
    make_survey,
    new_uuid,
    setup_meeting,
    store_fixture,  # noqa: F401  (the `store` fixture)
)
from toolkit.errors import ConflictError, DataError, ParameterError, StoreError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables

# --- instruments and meetings ----------------------------------------------------------------------


def test_instruments_round_trip_and_conflict(store: Store) -> None:
    survey = make_survey("1")
    ref = store.add_instrument(survey)
    assert (ref.id, ref.version, ref.content_hash) == ("evaltest", "1", survey.content_hash)
    assert store.add_instrument(survey) == ref  # idempotent
    changed = make_survey("1", extra_item=True)
    with pytest.raises(ConflictError, match="new `version`"):
        store.add_instrument(changed)
    time.sleep(0.01)
    store.add_instrument(make_survey("2", extra_item=True))
    from toolkit.store import store as store_module

    store_module._SURVEYS_BY_HASH.clear()  # force rebuilding from the stored YAML
    assert store.instrument("evaltest", "1").content_hash == survey.content_hash
    assert store.instrument("evaltest").version == "2"
    assert store.instruments()["version"].tolist() == ["1", "2"]
    with pytest.raises(StoreError, match="Stored versions: 1, 2"):
        store.instrument("evaltest", "9")
    with pytest.raises(StoreError, match="Did you mean `evaltest`"):
        store.instrument("evaltset")


def test_meetings(store: Store) -> None:
    meeting = setup_meeting(store, ballots_issued=30, members=41)
    assert meeting.subject_ids == ("wuye", "juweihui")
    assert meeting.subjects[0].label_en == "Property management"
    assert str(meeting.date) == "2026-03-01"
    with pytest.raises(ConflictError, match="already exists"):
        setup_meeting(store)
    with pytest.raises(ParameterError, match="needs `subjects`"):
        store.create_meeting("m2", kind="evaluation", title="t", instrument="evaltest")
    with raises_code(ParameterError, "E_OPTION", argument="kind"):
        store.create_meeting("m2", kind="party", title="t", instrument="evaltest")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="Did you mean `m1`"):
        store.meeting("m11")
    store.submit(Submission(new_uuid(), "m1", good_answers()))
    frame = store.meetings()
    row = frame.iloc[0]
    assert (row.ballots_issued, row.members, row.ballots_returned, row.ballots_valid) == (
        30,
        41,
        1,
        1,
    )
    assert store.close_meeting("m1").status == "closed"


# --- participants and attendance ------------------------------------------------------------------


def _people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ["p1", "p2", "p3"],
            "community": ["五里桥一居"] * 3,
            "role": ["resident_rep", "party_member", "building_head"],
            "gender": ["female", "male", "female"],
            "age_band": ["70-79", "60-69", "50-59"],
            "building": [3, 5, 5],
            "floor_band": ["1-3", "4-6", "7+"],
            "household_id": ["h3-101", "h5-402", "h5-801"],
            "party_member": [False, True, None],
            "birth_year": [1950, None, 1970],
            "name": ["王阿姨", "李师傅", "张老师"],
            "room": ["101", "402", None],
        }
    )


def test_participants_names_are_kept_apart(store: Store) -> None:
    setup_meeting(store)
    assert store.add_participants(_people()) == ["p1", "p2", "p3"]
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("participants")}
        names = connection.execute(sa.select(tables.participant_names)).all()
    assert "name" not in columns and "room" not in columns
    assert {n.name for n in names} == {"王阿姨", "李师傅", "张老师"}
    with pytest.raises(ConflictError, match="replace=True"):
        store.add_participants(_people().iloc[:1])
    changed = _people().iloc[:1].assign(role="deputy", name="王阿姨")
    store.add_participants(changed, replace=True)
    generated = store.add_participants(pd.DataFrame({"role": ["other"], "gender": ["male"]}))
    assert generated[0].startswith("p-")
    with pytest.raises(DataError, match="Did you mean `gender`"):
        store.add_participants(pd.DataFrame({"participant_id": ["x"], "gendr": ["male"]}))
    store.invite("m1", ["p1", "p2"])
    roster = store.roster("m1")
    assert roster["participant_id"].tolist() == ["p1", "p2"]
    assert roster.loc[0, "role"] == "deputy" and roster.loc[0, "building"] == "3"
    assert not {"name", "room"} & set(roster.columns)
    assert str(roster["birth_year"].dtype) == "Int64"
    with pytest.raises(DataError, match="unknown participant ids: nobody"):
        store.invite("m1", ["nobody"])


def test_attendance(store: Store) -> None:
    setup_meeting(store)
    store.add_participants(_people())
    assert store.invite("m1", ["p1", "p2"]) == 2
    assert store.invite("m1", ["p1"]) == 0
    arrived = store.check_in("m1", "p1", at=datetime(2026, 3, 1, 1, 30, tzinfo=UTC))
    assert (arrived.invited, arrived.walk_in) == (True, False)
    again = store.check_in("m1", "p1")
    assert again.checked_in_at == arrived.checked_in_at  # idempotent
    with pytest.raises(StoreError, match="walk_in=True"):
        store.check_in("m1", "p3")
    assert store.check_in("m1", "p3", walk_in=True).walk_in
    newcomer = store.register_walk_in(
        "m1", role="other", gender="male", age_band="30-39", building=7, name="赵先生"
    )
    table = store.attendance_table("m1").set_index("participant_id")
    assert table.loc["p1", "attended"] and not table.loc["p2", "attended"]
    assert table.loc[newcomer, "community"] == "五里桥一居"
    assert bool(table.loc[newcomer, "walk_in"]) and not bool(table.loc[newcomer, "invited"])
    assert table["attended"].sum() == 3
    found = store.search_participants("m1", "王")
    assert found["name"].tolist() == ["王阿姨"] and bool(found["checked_in"].iloc[0])
    assert store.search_participants("m1", "赵")["participant_id"].tolist() == [newcomer]
    store.close_meeting("m1")
    with pytest.raises(StoreError, match="closed"):
        store.check_in("m1", "p2")
