"""Tests of toolkit.store.ballots: durable, idempotent submission, ballot codes, drafts and void.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test); see tests/store_support.py for when PostgreSQL tests are skipped.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.error_support import problem_codes
from tests.store_support import (
    ROOT,
    count,
    good_answers,
    make_survey,
    new_uuid,
    setup_meeting,
    store_fixture,  # noqa: F401  (the `store` fixture)
)
from toolkit.errors import AnswerError, ConflictError, ParameterError, StoreError
from toolkit.store import Store, Submission, answers_hash
from toolkit.store import schema as tables

# --- submit ------------------------------------------------------------------------------------------


def test_submit_is_idempotent(store: Store) -> None:
    setup_meeting(store)
    ballot = new_uuid()
    answers = good_answers(3)
    first = store.submit(
        Submission(ballot, "m1", answers, device="tablet-1", paradata={"ratings": 41.5})
    )
    assert first.status == "stored"
    shuffled = dict(reversed(list(answers.items())))
    again = store.submit(Submission(ballot.upper(), "m1", shuffled, device="tablet-1"))
    assert again.status == "already_stored"
    assert again.stored_at == first.stored_at
    assert count(store, tables.submissions) == 1
    stored = store.submission(ballot)
    assert stored["answers"] == answers and stored["paradata"] == {"ratings": 41.5}


def test_same_uuid_other_answers_is_a_conflict(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers(1)))
    with pytest.raises(ConflictError, match="different answers"):
        store.submit(Submission(ballot, "m1", good_answers(2)))
    with pytest.raises(ConflictError, match="already stored for meeting `m1`"):
        store.submit(Submission(ballot, "m2", good_answers(1)))
    assert store.submission(ballot)["answers"] == good_answers(1)
    assert count(store, tables.submissions) == 1


def test_rejected_answers_write_nothing(store: Store) -> None:
    setup_meeting(store)
    codes = store.issue_ballot_codes("m1", 1)
    ballot = new_uuid()
    store.save_draft("tablet-1", ballot, {"wuye__overall": "satisfied"}, meeting_id="m1")
    bad = good_answers()
    bad["wuye__overall"] = "great"  # not a choice
    del bad["juweihui__overall"]  # required
    bad["building"] = 999  # constraint
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(ballot, "m1", bad, ballot_code=codes[0]))
    found = {(p.field, p.code) for p in caught.value.problems}
    assert {
        ("wuye__overall", "E_NOT_A_CHOICE"),
        ("juweihui__overall", "E_REQUIRED"),
        ("building", "E_CONSTRAINT"),
    } <= found
    assert "the ballot was not stored" in str(caught.value)
    assert count(store, tables.submissions) == 0
    assert count(store, tables.ballot_codes, tables.ballot_codes.c.used_at.is_not(None)) == 0
    assert store.load_draft("tablet-1") is not None
    # not JSON at all
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", {"building": object()}))
    assert problem_codes(caught) == ["E_NOT_JSON"]
    # the code is still good for the corrected ballot
    assert store.submit(Submission(ballot, "m1", good_answers(), ballot_code=codes[0])).status == (
        "stored"
    )


def test_unknown_and_closed_meetings(store: Store) -> None:
    setup_meeting(store)
    with pytest.raises(StoreError, match=r"no meeting `m11`.*Did you mean `m1`.*create_meeting"):
        store.submit(Submission(new_uuid(), "m11", good_answers()))
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers()))
    store.close_meeting("m1")
    with pytest.raises(StoreError, match=r"not open.*sanhui meeting open m1"):
        store.submit(Submission(new_uuid(), "m1", good_answers()))
    # a tablet resending a ballot stored before the meeting closed still gets its acknowledgement
    assert store.submit(Submission(ballot, "m1", good_answers())).status == "already_stored"
    assert count(store, tables.submissions) == 1


def test_submission_record_checks() -> None:
    with pytest.raises(ParameterError, match="UUID made by the client"):
        Submission("not-a-uuid", "m1", {})
    with pytest.raises(ParameterError, match="ISO 8601"):
        Submission(new_uuid(), "m1", {}, started_at="yesterday")  # type: ignore[arg-type]
    s = Submission(new_uuid(), "m1", {}, started_at="2026-03-01T09:00:00+08:00")
    assert s.started_at == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def test_concurrent_resends_store_once(store: Store) -> None:
    setup_meeting(store)
    ballot = new_uuid()
    results: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            results.append(store.submit(Submission(ballot, "m1", good_answers(5))).status)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == ["already_stored"] * 5 + ["stored"]
    assert count(store, tables.submissions) == 1


# --- ballot codes --------------------------------------------------------------------------------


def test_ballot_codes(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    codes = store.issue_ballot_codes("m1", 3)
    other = store.issue_ballot_codes("m2", 1)
    assert len(set(codes)) == 3
    assert all(len(c) == 9 and c[4] == "-" and c.replace("-", "").isdigit() for c in codes)
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(tables.ballot_codes.c.code_hash)).scalars().all()
    assert not set(stored) & {*codes, *(c.replace("-", "") for c in codes)}
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", good_answers()))
    assert problem_codes(caught) == ["E_BALLOT_CODE_REQUIRED"]
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code="ZZZZ-ZZZZ"))
    assert problem_codes(caught) == ["E_UNKNOWN_BALLOT_CODE"]
    assert caught.value.problems[0].field == "ballot_code"
    with pytest.raises(StoreError, match="belongs to meeting `m2`"):
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=other[0]))
    typed = codes[0].lower().replace("-", " ")
    ballot = new_uuid()
    assert (
        store.submit(Submission(ballot, "m1", good_answers(), ballot_code=typed)).status == "stored"
    )
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=codes[0]))
    assert problem_codes(caught) == ["E_BALLOT_CODE_USED"]
    # the retry of the stored ballot is acknowledged although its code is now used
    resent = Submission(ballot, "m1", good_answers(), ballot_code=codes[0])
    assert store.submit(resent).status == "already_stored"
    assert count(store, tables.submissions) == 1
    with store.engine.connect() as connection:
        used = connection.execute(
            sa.select(tables.ballot_codes).where(tables.ballot_codes.c.used_at.is_not(None))
        ).all()
    assert len(used) == 1
    # anonymous instrument: no link to the ballot, and only the day of use
    assert used[0].submission_id is None
    assert used[0].used_at.time() == datetime.min.time()
    frame = store.meetings().set_index("meeting_id")
    assert (frame.loc["m1", "codes_issued"], frame.loc["m1", "codes_used"]) == (3, 1)


def test_ballot_codes_named_instrument_keeps_link(store: Store) -> None:
    setup_meeting(store, survey=make_survey("named", anonymous=False))
    code = store.issue_ballot_codes("m1", 1)[0]
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers(), ballot_code=code))
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(tables.ballot_codes)).one()
    assert row.submission_id == ballot


# --- drafts and void ---------------------------------------------------------------------------


def test_drafts(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    assert store.load_draft("tablet-1") is None
    first = new_uuid()
    store.save_draft("tablet-1", first, {"wuye__attitude": "satisfied"}, meeting_id="m1")
    store.save_draft("tablet-1", first, {"wuye__attitude": "dissatisfied"}, meeting_id="m1")
    draft = store.load_draft("tablet-1")
    assert draft is not None
    assert (draft.uuid, draft.meeting_id, dict(draft.answers)) == (
        first,
        "m1",
        {"wuye__attitude": "dissatisfied"},
    )
    # a tampered meeting id: the draft says m1, the submission says m2
    with pytest.raises(StoreError, match="draft belongs to meeting `m1`"):
        store.submit(Submission(first, "m2", good_answers()))
    assert count(store, tables.submissions) == 0
    store.submit(Submission(first, "m1", good_answers()))
    assert store.load_draft("tablet-1") is None  # deleted with the ballot, in its transaction
    with pytest.raises(StoreError, match="already stored"):
        store.save_draft("tablet-1", first, {})
    second = new_uuid()
    store.save_draft("tablet-2", second, {})
    assert not store.discard_draft("tablet-2", uuid=new_uuid())
    assert store.discard_draft("tablet-2")
    assert store.load_draft("tablet-2") is None


def test_void(store: Store) -> None:
    setup_meeting(store)
    ballots = [new_uuid() for _ in range(3)]
    for i, ballot in enumerate(ballots):
        store.submit(Submission(ballot, "m1", good_answers(i)))
    store.void(ballots[1], "一人两票")
    assert store.submission(ballots[1])["void_reason"] == "一人两票"
    assert store.responses("m1")["submission_id"].tolist() == [ballots[0], ballots[2]]
    everything = store.responses("m1", include_void=True)
    assert everything["status"].tolist() == ["valid", "void", "valid"]
    assert "status" not in store.responses("m1", status_column=False).columns
    with pytest.raises(ParameterError, match="reason"):
        store.void(ballots[0], " ")
    with pytest.raises(StoreError, match="no ballot"):
        store.void(new_uuid(), "x")
    counts = store.meetings().iloc[0]
    assert (counts.ballots_returned, counts.ballots_valid, counts.ballots_void) == (3, 2, 1)


# --- crash durability ---------------------------------------------------------------------------------

CHILD = """
import sys, uuid
from tests.store_support import good_answers, make_survey
from toolkit.store import Store, Submission
store = Store.open(sys.argv[1])
store.add_instrument(make_survey())
for i in range(100000):
    ballot = str(uuid.uuid4())
    store.submit(Submission(ballot, "m1", good_answers(i), device="tablet-1"))
    print(ballot, flush=True)
"""


@pytest.mark.slow
def test_acknowledged_ballots_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    with Store.open(path) as store:
        setup_meeting(store)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    child.send_signal(signal.SIGKILL)  # mid-stream, probably inside a transaction
    rest, errors = child.communicate(timeout=30)
    acknowledged += [line.strip() for line in rest.splitlines() if line.strip()]
    assert child.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 40, errors
    with Store.open(path) as store:
        stored = store.responses("m1")["submission_id"]
    assert set(acknowledged) <= set(stored)
    assert stored.is_unique
    assert stored.value_counts().reindex(acknowledged).eq(1).all()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_ballot_code_checks_before_the_ballot(store: Store) -> None:
    setup_meeting(store, "m1")
    setup_meeting(store, "m2")
    assert store.meeting_uses_ballot_codes("m1") is False
    (code,) = store.issue_ballot_codes("m1", 1)
    assert store.meeting_uses_ballot_codes("m1") is True
    assert store.meeting_uses_ballot_codes("m2") is False
    assert store.ballot_code_usable("m1", code) is True
    assert store.ballot_code_usable("m1", code.replace("-", " ")) is True
    assert store.ballot_code_usable("m2", code) is False  # issued for another meeting
    assert store.ballot_code_usable("m1", "0000-0000") is False or code == "0000-0000"
    store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=code))
    assert store.ballot_code_usable("m1", code) is False  # used


def test_paper_ballots_keep_blanks_but_not_bad_answers(store: Store) -> None:
    setup_meeting(store, "m1")
    blank = good_answers()
    del blank["wuye__overall"]  # a required item left blank on paper
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", blank))
    assert [(p.field, p.code) for p in caught.value.problems] == [("wuye__overall", "E_REQUIRED")]
    paper = new_uuid()
    assert store.submit(Submission(paper, "m1", blank, mode="paper")).status == "stored"
    wrong = {**blank, "wuye__attitude": "excellent"}
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", wrong, mode="paper"))
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("wuye__attitude", "E_NOT_A_CHOICE")
    ]
    with store.engine.connect() as connection:
        modes = connection.execute(sa.select(tables.submissions.c.mode)).scalars().all()
    assert modes == ["paper"]
    with pytest.raises(ParameterError, match="`mode`"):
        Submission(new_uuid(), "m1", blank, mode="fax")  # type: ignore[arg-type]


def test_concurrent_resends_from_separate_stores_on_one_sqlite_file(tmp_path: Path) -> None:
    """The write race between processes: each sender has its own Store (own engine, no shared
    in-process lock), so only SQLite's write lock (BEGIN IMMEDIATE) keeps the check and the insert
    of one ballot together. One is stored, the others are acknowledged, one row exists; a send of
    the same UUID with other answers is refused and changes nothing."""
    path = tmp_path / "race.db"
    with Store.open(path) as first:
        setup_meeting(first)
    ballot = new_uuid()
    stores = [Store.open(path) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[str] = []
    errors: list[BaseException] = []

    def send(store: Store, answers: dict[str, Any]) -> None:
        barrier.wait()
        try:
            results.append(store.submit(Submission(ballot, "m1", answers)).status)
        except BaseException as error:
            errors.append(error)

    try:
        threads = [threading.Thread(target=send, args=(s, good_answers(5))) for s in stores[:-1]]
        threads.append(threading.Thread(target=send, args=(stores[-1], good_answers(6))))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    with Store.open(path) as store:
        assert count(store, tables.submissions) == 1
        kept = store.submission(ballot)["answers_hash"]
    winner_was_other = kept == answers_hash(good_answers(6))
    conflicts = [e for e in errors if isinstance(e, ConflictError)]
    assert len(errors) == len(conflicts), errors
    if winner_was_other:  # the odd send came first: the five equal sends are the conflicts
        assert sorted(results) == ["stored"] and len(conflicts) == 5
    else:
        assert sorted(results) == ["already_stored"] * 4 + ["stored"] and len(conflicts) == 1
