"""The store's online windows and the status of a one-time code (toolkit/store/online.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.errors import AnswerError, ParameterError
from toolkit.store import Submission


@pytest.fixture
def store():
    store = demo_store()
    yield store
    store.close()


def test_window_is_stored_in_utc_and_moves(store):
    assert store.online_window(LIVE_MEETING) is None
    assert store.online_state(LIVE_MEETING) == "none"
    store.set_online_window(LIVE_MEETING, "2026-03-01T08:00+08:00", "2026-03-08T08:00+08:00")
    window = store.online_window(LIVE_MEETING)
    assert window.opens_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert store.online_state(LIVE_MEETING, datetime(2026, 3, 1, tzinfo=UTC)) == "open"
    assert store.online_state(LIVE_MEETING, datetime(2026, 3, 8, tzinfo=UTC)) == "closed"
    store.set_online_window(LIVE_MEETING, "2026-04-01T00:00+00:00", "2026-04-02T00:00+00:00")
    assert store.online_window(LIVE_MEETING).opens_at.month == 4


def test_bad_windows_change_nothing(store):
    with pytest.raises(ParameterError, match=r"closes .* before it opens"):
        store.set_online_window(LIVE_MEETING, "2026-03-08T00:00+00:00", "2026-03-01T00:00+00:00")
    with pytest.raises(ParameterError, match="no time zone"):
        store.set_online_window(LIVE_MEETING, "2026-03-01T08:00", "2026-03-08T08:00+08:00")
    with pytest.raises(ParameterError, match="date and time"):
        store.set_online_window(LIVE_MEETING, "soon", "2026-03-08T08:00+08:00")
    with pytest.raises(Exception, match="nope"):
        store.set_online_window("nope", "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    assert store.online_window(LIVE_MEETING) is None


def test_code_status_usable_used_unknown(store):
    code = store.issue_ballot_codes(LIVE_MEETING, 1)[0]
    assert store.ballot_code_status(LIVE_MEETING, code) == "usable"
    assert store.ballot_code_status(LIVE_MEETING, "00000000") == "unknown"
    other = next(m for m in store.meetings()["meeting_id"] if m != LIVE_MEETING)
    assert store.ballot_code_status(other, code) == "unknown"  # another meeting's code
    ballot = Submission(str(uuid.uuid4()), LIVE_MEETING, {}, ballot_code=code, mode="online")
    with pytest.raises(AnswerError):  # an empty ballot is refused: code stays usable
        store.submit(ballot)
    assert store.ballot_code_status(LIVE_MEETING, code) == "usable"


def test_online_is_a_channel_of_its_own(store):
    ballot = Submission(str(uuid.uuid4()), LIVE_MEETING, {}, mode="online")
    with pytest.raises(AnswerError):  # online ballots are checked like tablet ones
        store.submit(ballot)
    with pytest.raises(ParameterError, match="'tablet', 'paper', 'online'"):
        Submission(str(uuid.uuid4()), LIVE_MEETING, {}, mode="phone")  # type: ignore[arg-type]
    with store.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("UPDATE submissions SET mode = 'phone'")


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def test_a_hearing_plan_with_pictures_survives_a_moved_window(store):
    with pytest.raises(ParameterError, match="no online window"):
        store.set_online_plan(LIVE_MEETING, "方案一：加装电梯", [PNG])
    store.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    store.set_online_plan(LIVE_MEETING, "方案一：加装电梯\n方案二：不装", [PNG, JPEG])
    store.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-05T00:00+00:00")
    window = store.online_window(LIVE_MEETING)
    assert window.plan_text.startswith("方案一")
    assert [kind for kind, _ in window.plan_images] == ["image/png", "image/jpeg"]


@pytest.mark.parametrize(
    ("text", "images", "message"),
    [
        ("", [], "1 to 20000 characters"),
        ("方案", [b"GIF89a"], "not a PNG or JPEG"),
        ("方案", [PNG + b"\0" * 700_000], "larger than"),
        ("方案", [PNG] * 9, "at most 8"),
    ],
)
def test_bad_plans_change_nothing(store, text, images, message):
    store.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    with pytest.raises(ParameterError, match=message):
        store.set_online_plan(LIVE_MEETING, text, images)
    assert store.online_window(LIVE_MEETING).plan_text is None


def test_responses_expose_the_channel_for_analysis(store):
    from toolkit.analysis.satisfaction import satisfaction_rates

    plain = store.responses(instrument="evaluation")
    assert "channel" not in plain.columns  # the table keeps its columns unless asked
    demo = store.responses(instrument="evaluation", channel_column=True)
    assert list(demo.columns[:10]) == [*plain.columns[:9], "channel"]
    assert set(demo["channel"]) <= {"tablet", "paper"}
    with store.engine.begin() as connection:  # a third of the ballots came from phones
        connection.exec_driver_sql(
            "UPDATE submissions SET mode = 'online' WHERE rowid % 3 = 0 AND mode = 'tablet'"
        )
    frame = store.responses(instrument="evaluation", channel_column=True)
    online = frame["channel"] == "online"
    assert 0 < online.sum() < len(frame)
    item = "wuye__overall"
    rates = satisfaction_rates(frame, items=item, by="channel")
    row = rates[(rates["channel"] == "online") & (rates["measure"] == "strict")].iloc[0]
    answered = frame.loc[online, item].dropna()
    answered = answered[answered.astype(str) != "dont_know"]
    assert row["n"] == len(answered)
    assert row["count"] == (answered.astype(str) == "satisfied").sum()
