"""Tests of toolkit.store.turns: speaking turns and comment codings, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store_support import PG_URL, need_postgres, setup_meeting
from toolkit.errors import ParameterError, StoreError
from toolkit.store import Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(tmp_path / "sanhui.db")
        setup_meeting(opened)
        yield opened
        opened.close()
        return
    need_postgres()
    schema = f"sanhui_turns_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    setup_meeting(opened)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_new_turn_ends_the_open_one(store: Store) -> None:
    a = store.start_turn("m1", "resident", seat=4, at=at(0), device="sec")
    assert store.open_turn("m1") == a
    b = store.start_turn("m1", "residents_committee", at=at(75))
    assert store.turn(a.turn_id).ended_at == at(75)
    assert store.turn(a.turn_id).seconds == 75
    store.end_turn(b.turn_id, at=at(200))
    assert store.open_turn("m1") is None
    frame = store.turns("m1")
    assert frame["category"].tolist() == ["resident", "residents_committee"]
    assert frame["seconds"].tolist() == [75.0, 125.0]
    assert frame["seat"].tolist()[0] == 4 and frame["seat"].isna().tolist() == [False, True]
    assert frame["device"].tolist() == ["sec", None]
    # ending again changes nothing
    assert store.end_turn(b.turn_id, at=at(999)).ended_at == at(200)


def test_resent_tap_is_stored_once(store: Store) -> None:
    turn_id = str(uuid.uuid4())
    first = store.start_turn("m1", "property", turn_id=turn_id, at=at(0))
    again = store.start_turn("m1", "property", turn_id=turn_id, at=at(5))
    assert again == first
    assert len(store.turns("m1")) == 1
    with pytest.raises(StoreError, match="already stored"):
        store.start_turn("m1", "resident", turn_id=turn_id)


def test_undo_marks_open_turn_undone_or_reopens_ended_one(store: Store) -> None:
    assert store.undo_turn("m1") is None
    a = store.start_turn("m1", "resident", at=at(0))
    store.end_turn(a.turn_id, at=at(30))
    reopened = store.undo_turn("m1")  # the end tap was a mistake
    assert reopened is not None and reopened.turn_id == a.turn_id and reopened.ended_at is None
    b = store.start_turn("m1", "government", at=at(60))
    undone = store.undo_turn("m1")  # the tap on 政府部门 was a mistake
    assert undone is not None and undone.turn_id == b.turn_id and undone.undone
    assert store.turns("m1")["turn_id"].tolist() == [a.turn_id]
    everything = store.turns("m1", include_undone=True)
    assert everything["undone"].tolist() == [False, True]
    # the auto-ended first turn stays ended at the moment of the mistaken tap
    assert store.turn(a.turn_id).ended_at == at(60)


def test_codes_and_bad_input_change_nothing(store: Store) -> None:
    a = store.start_turn("m1", "resident", at=at(0))
    assert store.set_turn_codes(a.turn_id, ["question", "objection", "question"]).codes == (
        "question",
        "objection",
    )
    with pytest.raises(ParameterError, match="turn code"):
        store.set_turn_codes(a.turn_id, ["shouting"])
    assert store.turn(a.turn_id).codes == ("question", "objection")
    with pytest.raises(ParameterError, match="category"):
        store.start_turn("m1", "mayor")
    with pytest.raises(ParameterError, match="seat"):
        store.start_turn("m1", "resident", seat=0)
    with pytest.raises(StoreError, match="no meeting"):
        store.start_turn("m9", "resident")
    with pytest.raises(StoreError, match="no turn"):
        store.end_turn("nope")
    assert store.open_turn("m1") == store.turn(a.turn_id)
    assert len(store.turns("m1", include_undone=True)) == 1


def test_open_turn_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "meeting.db"
    with Store.open(path) as first:
        setup_meeting(first)
        turn = first.start_turn("m1", "owners_committee", seat=2, at=at(0))
    with Store.open(path) as second:
        assert second.open_turn("m1") == turn
        second.end_turn(turn.turn_id, at=at(42))
    with Store.open(path) as third:
        assert third.turns("m1")["seconds"].tolist() == [42.0]


def test_codings_upsert_and_roles(store: Store) -> None:
    store.save_coding(
        "m1", "s1", "comments", coder="A", codes=["noise", "cost"], codebook="cc@1", at=at(0)
    )
    store.save_coding("m1", "s1", "comments", coder="B", codes=["noise"], codebook="cc@1")
    store.save_coding(
        "m1", "s1", "comments", coder="A", codes=["noise"], codebook="cc@1", note=" 噪音 "
    )
    store.save_coding(
        "m1", "s1", "comments", coder="A", codes=["noise"], codebook="cc@1", role="final"
    )
    frame = store.codings("m1")
    assert frame[["coder", "role"]].values.tolist() == [
        ["A", "coder"],
        ["B", "coder"],
        ["A", "final"],
    ]
    assert frame["codes"].tolist() == [["noise"], ["noise"], ["noise"]]
    assert frame["note"].tolist()[0] == "噪音"
    assert len(store.codings("m1", role="final")) == 1
    with pytest.raises(ParameterError, match="coder"):
        store.save_coding("m1", "s1", "comments", coder="张三 李", codes=[], codebook="cc@1")
    with pytest.raises(ParameterError, match="codes"):
        store.save_coding("m1", "s2", "comments", coder="A", codes=["a b"], codebook="cc@1")
    with pytest.raises(ParameterError, match="role"):
        store.save_coding("m1", "s2", "comments", coder="A", codes=[], codebook="x", role="boss")
    assert len(store.codings("m1")) == 3
