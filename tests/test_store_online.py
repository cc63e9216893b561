"""The store's online windows and the status of a one-time code (toolkit/store/online.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.store_support import (
    make_survey,
    store_fixture,  # noqa: F401  (the `store` fixture: SQLite, PostgreSQL)
)
from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.errors import AnswerError, ParameterError
from toolkit.store import Submission


@pytest.fixture
def db():
    db = demo_store()
    yield db
    db.close()


def test_window_is_stored_in_utc_and_moves(db):
    assert db.online_window(LIVE_MEETING) is None
    assert db.online_state(LIVE_MEETING) == "none"
    db.set_online_window(LIVE_MEETING, "2026-03-01T08:00+08:00", "2026-03-08T08:00+08:00")
    window = db.online_window(LIVE_MEETING)
    assert window.opens_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert db.online_state(LIVE_MEETING, datetime(2026, 3, 1, tzinfo=UTC)) == "open"
    assert db.online_state(LIVE_MEETING, datetime(2026, 3, 8, tzinfo=UTC)) == "closed"
    db.set_online_window(LIVE_MEETING, "2026-04-01T00:00+00:00", "2026-04-02T00:00+00:00")
    assert db.online_window(LIVE_MEETING).opens_at.month == 4


def test_bad_windows_change_nothing(db):
    with pytest.raises(ParameterError, match=r"closes .* before it opens"):
        db.set_online_window(LIVE_MEETING, "2026-03-08T00:00+00:00", "2026-03-01T00:00+00:00")
    with pytest.raises(ParameterError, match="no time zone"):
        db.set_online_window(LIVE_MEETING, "2026-03-01T08:00", "2026-03-08T08:00+08:00")
    with pytest.raises(ParameterError, match="date and time"):
        db.set_online_window(LIVE_MEETING, "soon", "2026-03-08T08:00+08:00")
    with pytest.raises(Exception, match="nope"):
        db.set_online_window("nope", "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    assert db.online_window(LIVE_MEETING) is None


def test_code_status_usable_used_unknown(db):
    code = db.issue_ballot_codes(LIVE_MEETING, 1)[0]
    assert db.ballot_code_status(LIVE_MEETING, code) == "usable"
    assert db.ballot_code_status(LIVE_MEETING, "00000000") == "unknown"
    other = next(m for m in db.meetings()["meeting_id"] if m != LIVE_MEETING)
    assert db.ballot_code_status(other, code) == "unknown"  # another meeting's code
    ballot = Submission(str(uuid.uuid4()), LIVE_MEETING, {}, ballot_code=code, mode="online")
    with pytest.raises(AnswerError):  # an empty ballot is refused: code stays usable
        db.submit(ballot)
    assert db.ballot_code_status(LIVE_MEETING, code) == "usable"


def test_online_is_a_channel_of_its_own(db):
    ballot = Submission(str(uuid.uuid4()), LIVE_MEETING, {}, mode="online")
    with pytest.raises(AnswerError):  # online ballots are checked like tablet ones
        db.submit(ballot)
    with pytest.raises(ParameterError, match="'tablet', 'paper', 'online'"):
        Submission(str(uuid.uuid4()), LIVE_MEETING, {}, mode="phone")  # type: ignore[arg-type]
    with db.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("UPDATE submissions SET mode = 'phone'")


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64


def test_a_hearing_plan_with_pictures_survives_a_moved_window(db):
    with pytest.raises(ParameterError, match="no online window"):
        db.set_online_plan(LIVE_MEETING, "方案一：加装电梯", [PNG])
    db.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    db.set_online_plan(LIVE_MEETING, "方案一：加装电梯\n方案二：不装", [PNG, JPEG])
    db.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-05T00:00+00:00")
    window = db.online_window(LIVE_MEETING)
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
def test_bad_plans_change_nothing(db, text, images, message):
    db.set_online_window(LIVE_MEETING, "2026-03-01T00:00+00:00", "2026-03-02T00:00+00:00")
    with pytest.raises(ParameterError, match=message):
        db.set_online_plan(LIVE_MEETING, text, images)
    assert db.online_window(LIVE_MEETING).plan_text is None


def test_responses_expose_the_channel_for_analysis(db):
    from toolkit.analysis.satisfaction import satisfaction_rates

    plain = db.responses(instrument="evaluation")
    assert "channel" not in plain.columns  # the table keeps its columns unless asked
    demo = db.responses(instrument="evaluation", channel_column=True)
    assert list(demo.columns[:10]) == [*plain.columns[:9], "channel"]
    assert set(demo["channel"]) <= {"tablet", "paper"}
    with db.engine.begin() as connection:  # a third of the ballots came from phones
        connection.exec_driver_sql(
            "UPDATE submissions SET mode = 'online' WHERE rowid % 3 = 0 AND mode = 'tablet'"
        )
    frame = db.responses(instrument="evaluation", channel_column=True)
    online = frame["channel"] == "online"
    assert 0 < online.sum() < len(frame)
    item = "wuye__overall"
    rates = satisfaction_rates(frame, items=item, by="channel")
    row = rates[(rates["channel"] == "online") & (rates["measure"] == "strict")].iloc[0]
    answered = frame.loc[online, item].dropna()
    answered = answered[answered.astype(str) != "dont_know"]
    assert row["n"] == len(answered)
    assert row["count"] == (answered.astype(str) == "satisfied").sum()


def test_windows_plans_and_online_ballots_on_both_databases(store):
    """SQLite and PostgreSQL (the workers of a district-wide ballot share one)."""
    store.create_meeting(
        "m-online", kind="evaluation", title="评议", instrument=make_survey(), subjects=["wuye"]
    )
    store.set_online_window("m-online", "2026-03-01T08:00+08:00", "2026-03-08T08:00+08:00")
    store.set_online_plan("m-online", "方案", [PNG])
    window = store.online_window("m-online")
    assert window.opens_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert window.plan_images[0][0] == "image/png"
    code = store.issue_ballot_codes("m-online", 1)[0]
    assert store.ballot_code_status("m-online", code) == "usable"
