"""Widget-level tests of the speaking-turn recorder (toolkit.collect.turns): taps, undo, codes,
and a 60-minute meeting recorded across reloads and a server restart without losing a turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.store_support import setup_meeting
from toolkit.collect.turns import TurnRecorder, seats_from_roster
from toolkit.errors import ParameterError, StoreError
from toolkit.store import Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    db = tmp_path / "meeting.db"
    with Store.open(db) as store:
        setup_meeting(store)
    return db


def test_taps_start_end_and_switch(path: Path) -> None:
    clock = Clock()
    with Store.open(path) as store:
        rec = TurnRecorder(store, "m1", clock=clock, seats={1: "resident", 2: "property"})
        assert "无人发言" in rec.now.value
        rec.category_buttons["residents_committee"].click()
        assert "正在发言：居委会" in rec.now.value
        assert "sh-speaking" in rec.category_buttons["residents_committee"]._dom_classes
        clock.advance(120)
        rec.seat_buttons[1].click()  # a resident at seat 1 takes the floor
        assert "sh-speaking" not in rec.category_buttons["residents_committee"]._dom_classes
        assert "sh-speaking" in rec.seat_buttons[1]._dom_classes
        clock.advance(45)
        rec.seat_buttons[1].click()  # ... and stops
        assert rec.current is None and "45 秒" in rec.message.value
        frame = store.turns("m1")
        assert frame["category"].tolist() == ["residents_committee", "resident"]
        assert frame["seat"].tolist()[1] == 1
        assert frame["seconds"].tolist() == [120.0, 45.0]
        assert "已记录 2 次发言" in rec.history.value


def test_undo_and_codes(path: Path) -> None:
    clock = Clock()
    with Store.open(path) as store:
        rec = TurnRecorder(store, "m1", clock=clock)
        rec.code_buttons["question"].click()  # nothing to code yet
        assert "请先点发言人" in rec.message.value
        rec.category_buttons["resident"].click()
        rec.code_buttons["question"].click()
        rec.code_buttons["objection"].click()
        rec.code_buttons["question"].click()  # toggled off again
        assert "sh-selected" in rec.code_buttons["objection"]._dom_classes
        assert "sh-selected" not in rec.code_buttons["question"]._dom_classes
        clock.advance(30)
        rec.category_buttons["property"].click()  # mistaken tap
        rec.undo_button.click()
        assert rec.current is None and "已撤销" in rec.message.value
        clock.advance(10)
        rec.category_buttons["government"].click()
        clock.advance(10)
        rec.category_buttons["government"].click()  # ended too soon by mistake
        rec.undo_button.click()
        assert rec.current is not None and rec.current.category == "government"
        clock.advance(50)
        rec.category_buttons["government"].click()
        rec.code_buttons["information"].click()  # codes the last turn after it ended
        frame = store.turns("m1")
        assert frame["category"].tolist() == ["resident", "government"]
        assert frame["codes"].tolist() == [["objection"], ["information"]]
        assert frame["seconds"].tolist() == [30.0, 60.0]
        assert store.turns("m1", include_undone=True)["undone"].tolist() == [False, True, False]


def test_failed_tap_says_so_and_retry_is_stored_once(path: Path) -> None:
    with Store.open(path) as store:
        rec = TurnRecorder(store, "m1", clock=Clock())
        real = store.start_turn
        calls = {"n": 0}

        def flaky(*args: object, **kwargs: object) -> object:
            calls["n"] += 1
            result = real(*args, **kwargs)  # type: ignore[arg-type]
            if calls["n"] == 1:
                raise StoreError("database error at sqlite:///secret/path.db: locked")
            return result

        store.start_turn = flaky  # type: ignore[method-assign]
        rec.category_buttons["resident"].click()
        assert "没有记下，请再点一次" in rec.message.value and rec.current is None
        assert "secret" not in rec.message.value  # no database path on the page
        rec.category_buttons["resident"].click()
        assert rec.current is not None
        assert len(store.turns("m1")) == 1


def test_seats_from_roster_and_checks(path: Path) -> None:
    import pandas as pd

    with Store.open(path) as store:
        people = pd.DataFrame(
            {
                "participant_id": ["p1", "p2", "p3", "p4"],
                "role": ["party_member", "resident", "deputy", "resident_rep"],
            }
        )
        store.add_participants(people)
        store.invite("m1", ["p1", "p2", "p3", "p4"])
        for pid in ("p1", "p2", "p3"):
            store.check_in("m1", pid)
        seats = seats_from_roster(store, "m1")
        assert sorted(seats.values()) == ["other", "party_member", "resident"]
        assert list(seats) == [1, 2, 3] and seats[1] == "resident" and seats[3] == "other"
        with pytest.raises(ParameterError, match="seat 5"):
            TurnRecorder(store, "m1", seats={5: "mayor"})


def test_sixty_minute_meeting_across_reloads_and_a_restart(path: Path) -> None:
    """120 turns over 60 minutes; the page is reloaded every 15 turns (a new recorder on the same
    store) and the server restarted once (the store reopened), with open turns at those moments.
    Nothing is lost: the stored turns are exactly the ones tapped, and they add up to the hour."""
    rng = np.random.default_rng(18)
    clock = Clock()
    categories = ["resident", "residents_committee", "property", "party_member", "government"]
    lengths = rng.dirichlet(np.ones(120)) * 3600
    expected = []
    store = Store.open(path)
    rec = TurnRecorder(store, "m1", clock=clock, device="secretary")
    previous = None
    for i, length in enumerate(lengths):
        category = categories[int(rng.integers(0, len(categories)))]
        if category == previous:  # the same speaker again: end first, then start anew
            rec.category_buttons[category].click()
        rec.category_buttons[category].click()
        previous = category
        expected.append(category)
        if i % 15 == 7:  # reload while the turn is open
            rec = TurnRecorder(store, "m1", clock=clock, device="secretary")
            assert rec.current is not None and rec.current.category == category
            assert "正在发言" in rec.now.value
        if i == 60:  # the server restarts
            store.close()
            store = Store.open(path)
            rec = TurnRecorder(store, "m1", clock=clock, device="secretary")
        clock.advance(float(length))
    rec.category_buttons[previous].click()  # the chair closes the meeting
    frame = store.turns("m1")
    store.close()
    assert frame["category"].tolist() == expected
    assert frame["seconds"].notna().all()
    assert frame["seconds"].sum() == pytest.approx(3600, abs=0.01)
    assert frame["seconds"].to_numpy() == pytest.approx(lengths, abs=1e-5)
