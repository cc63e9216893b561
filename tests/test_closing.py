"""Closing a meeting for good: the record, the checksum, and what it refuses afterwards."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.meeting_support import EVALUATION
from toolkit.errors import StoreError
from toolkit.store import Store, Submission, schema
from toolkit.store.closing import (
    FrozenMeetingError,
    ballot_counts,
    close_meeting,
    closing_record,
    meeting_state,
    open_meeting,
    verify_closing,
)
from toolkit.store.meeting_setup import create_planned_meeting, plan_meeting


def test_closing_record_checksum_and_refusals(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    plan = plan_meeting(
        store,
        meeting_id="m1",
        kind="evaluation",
        title="评议会",
        instrument=EVALUATION,
        subjects=["wuye=物业公司"],
        ballots_issued=5,
    )
    create_planned_meeting(store, plan)
    assert meeting_state(store, "m1") == "prepared" and closing_record(store, "m1") is None
    with pytest.raises(StoreError, match="has no closing record"):
        verify_closing(store, "m1")
    open_meeting(store, "m1")
    ids = []
    for value in ("satisfied", "dissatisfied", "satisfied"):
        answers = {
            f"wuye__{i}": value
            for i in (
                "attitude",
                "efficiency",
                "transparency",
                "responsiveness",
                "integrity",
                "results",
                "overall",
            )
        }
        ids.append(str(uuid.uuid4()))
        store.submit(Submission(ids[-1], "m1", answers, mode="paper" if ids[1:] else "tablet"))
    store.void(ids[1], "看不清")
    store.save_draft("A1", str(uuid.uuid4()), {"wuye__overall": "satisfied"}, meeting_id="m1")
    record = close_meeting(store, "m1")
    assert (
        record.ballots_issued,
        record.ballots_returned,
        record.ballots_valid,
        record.ballots_void,
        record.ballots_tablet,
        record.ballots_paper,
    ) == (5, 3, 2, 1, 1, 2)
    assert len(record.checksum) == 64 and closing_record(store, "m1") == record
    assert ballot_counts(store, "m1")["returned"] == 3
    assert store.load_draft("A1") is None  # unsent drafts are dropped at closing
    assert verify_closing(store, "m1")
    for action in (
        lambda: open_meeting(store, "m1"),
        lambda: close_meeting(store, "m1"),
        lambda: store.update_meeting("m1", status="open"),
    ):
        with pytest.raises(FrozenMeetingError, match="cannot be reopened"):
            action()
    with store.engine.begin() as connection:  # someone edits a ballot behind the store's back
        connection.execute(
            sa.update(schema.submissions)
            .where(schema.submissions.c.submission_id == ids[0])
            .values(answers_hash="0" * 64)
        )
    assert not verify_closing(store, "m1")
    store.close()
