"""No ballot lost or doubled under crashes, a locked or full database, and bad input.

- crash: a child process standing in for the form server (StoreBackend, the adapter the tablet
  form submits through) takes ballots from 30 tablet threads and is killed with SIGKILL mid-stream;
  every acknowledged ballot is stored once, the file passes ``PRAGMA integrity_check``, and the
  tablets' resends after the restart are stored once;
- a locked database (another connection holds SQLite's write lock; the store's busy timeout is cut
  to 0.2 s for the test) and a full disk (``PRAGMA max_page_count`` pinned to the file's size, which
  makes SQLite answer "database or disk is full" unprivileged): the tablet form shows
  保存失败，请联系工作人员, keeps the answers, nothing reaches ``submissions``, and a retry stores the
  ballot once;
- bad input (oversized text, lone surrogates, unknown questions, tampered meeting ids): rejected
  with a clear error, nothing written; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.error_support import problem_codes
from tests.store_support import PG_URL, good_answers, need_postgres, new_uuid, setup_meeting
from tests.test_collect_form import SUBJECTS, fill_whole_ballot, make_form
from toolkit.collect.backend import StoreBackend
from toolkit.errors import AnswerError, StoreError
from toolkit.instrument.loader import load_survey
from toolkit.store import Store, Submission
from toolkit.store import engine as store_engine
from toolkit.store import schema as tables

ROOT = Path(__file__).resolve().parents[1]
FAILED = "保存失败，请联系工作人员"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store on SQLite, then on PostgreSQL in a fresh schema (as in test_store.py)."""
    if request.param == "sqlite":
        with Store.open(tmp_path / "sanhui.db") as opened:
            yield opened
        return
    need_postgres()
    schema = f"sanhui_test_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def count(store: Store, table: sa.Table = tables.submissions) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


# --- crash: the form server killed mid-stream -----------------------------------------------------

SERVER = """
import datetime as dt, itertools, sys, threading, uuid
from tests.store_support import good_answers
from toolkit.collect.backend import StoreBackend
from toolkit.store import Store

store = Store.open(sys.argv[1])
backend = StoreBackend(store)
resend = [line.split() for line in open(sys.argv[2])] if len(sys.argv) > 2 else None
numbers = itertools.count()
say = threading.Lock()

def tell(*words):
    with say:
        print(*words, flush=True)

def tablet(k):
    while True:
        if resend is None:
            i, ballot = next(numbers), str(uuid.uuid4())
        else:
            j = next(numbers)
            if j >= len(resend):
                return
            i, ballot = int(resend[j][0]), resend[j][1]
        tell("send", i, ballot)
        now = dt.datetime.now(dt.UTC)
        status = backend.submit_ballot(
            submission_id=ballot, meeting_id="m1", answers=good_answers(i), device=f"T{k:02d}",
            started_at=now, submitted_at=now, paradata={"page_seconds": {"p": 1.0}},
            ballot_code=None,
        )
        tell("ack", i, ballot, status)

threads = [threading.Thread(target=tablet, args=(k,)) for k in range(30)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
tell("done")
"""


def _parse(lines: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    sent: dict[str, int] = {}
    acked: dict[str, str] = {}
    for line in lines:
        words = line.split()
        if len(words) >= 3 and words[0] == "send":
            sent[words[2]] = int(words[1])
        elif len(words) == 4 and words[0] == "ack":
            acked[words[2]] = words[3]
    return sent, acked


@pytest.mark.slow
def test_form_server_killed_mid_stream_loses_and_doubles_nothing(tmp_path: Path) -> None:
    path = tmp_path / "meeting.db"
    with Store.open(path) as store:
        setup_meeting(store)
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(x.startswith("ack") for x in lines) < 150:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
    child.send_signal(signal.SIGKILL)  # 30 tablets mid-submit, some inside a transaction
    rest, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, errors
    lines += rest.splitlines()
    sent, acked = _parse(lines)
    assert len(acked) >= 150, errors
    assert set(acked.values()) == {"stored"}
    # the restart: every acknowledged ballot is there, once, and the file is sound
    assert integrity(path) == "ok"
    with Store.open(path) as store, store.engine.connect() as connection:
        stored = connection.execute(sa.select(tables.submissions.c.submission_id)).scalars().all()
    assert len(stored) == len(set(stored))
    assert set(acked) <= set(stored)
    assert set(stored) <= set(sent)  # nothing stored that no tablet sent
    # the tablets resend every ballot they sent (they keep the UUID until acknowledged)
    listing = tmp_path / "resend.txt"
    listing.write_text("".join(f"{i} {u}\n" for u, i in sent.items()))
    again = subprocess.run(
        [sys.executable, "-c", SERVER, str(path), str(listing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    _sent, resent = _parse(again.stdout.splitlines())
    assert set(resent) == set(sent)
    assert {u for u, status in resent.items() if status == "already_stored"} == set(stored)
    with Store.open(path) as store, store.engine.connect() as connection:
        final = connection.execute(sa.select(tables.submissions.c.submission_id)).scalars().all()
    assert sorted(final) == sorted(sent)
    assert integrity(path) == "ok"


# --- a locked or full database, seen from the tablet form -------------------------------------------


@pytest.fixture
def evaluation_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(store_engine, "_SQLITE_BUSY_MS", 200)  # a short wait for the lock
    survey = load_survey(ROOT / "surveys" / "evaluation.yaml")
    opened = Store.open(tmp_path / "meeting.db")
    opened.create_meeting(
        "m1",
        kind="evaluation",
        title="评议会",
        instrument=survey,
        subjects=[{"id": s.id, "label_zh": s.label.zh} for s in SUBJECTS],
    )
    yield opened
    opened.close()


def _form(store: Store) -> Any:
    survey = store.instrument("evaluation")
    form = make_form(survey, StoreBackend(store))
    fill_whole_ballot(form)
    return form


def test_locked_database_keeps_the_ballot_on_the_tablet(evaluation_store: Store) -> None:
    store = evaluation_store
    form = _form(store)
    answers = dict(form.answers)
    holder = sqlite3.connect(str(store.engine.url.database), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        started = time.monotonic()
        form.buttons["submit"].click()
        assert time.monotonic() - started < 5
        assert form.screen == "review"
        assert FAILED in form.notice and form.status == FAILED and form.status_failed
        assert form.answers == answers  # kept for the retry
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert count(store) == 0
    form.buttons["submit"].click()  # the staff retry once the lock is gone
    assert form.screen == "thanks"
    (stored,) = store.responses("m1")["submission_id"]
    assert stored == form.respondent.submission_id
    assert store.load_draft("A3") is None


def test_full_disk_keeps_the_ballot_on_the_tablet(evaluation_store: Store) -> None:
    store = evaluation_store
    path = Path(str(store.engine.url.database))
    form = _form(store)
    form.set_answer("comments", "楼道灯坏了很久，" * 180)  # a long comment needs new pages
    answers = dict(form.answers)
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("VACUUM")  # no free pages left inside the file

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full at this size
        cursor.close()

    event.listen(store.engine, "connect", no_room)
    store.engine.dispose()
    form.buttons["submit"].click()
    assert form.screen == "review"
    assert FAILED in form.notice and form.status == FAILED
    assert form.answers == answers
    event.remove(store.engine, "connect", no_room)
    store.engine.dispose()  # space freed
    assert count(store) == 0 and integrity(path) == "ok"
    form.buttons["submit"].click()
    assert form.screen == "thanks"
    frame = store.responses("m1")
    assert len(frame) == 1 and frame["comments"].iloc[0] == answers["comments"]


# --- bad input -----------------------------------------------------------------------------------


def _nothing_written(store: Store) -> None:
    assert count(store) == 0
    with store.engine.connect() as connection:
        used = connection.execute(
            sa.select(sa.func.count()).where(tables.ballot_codes.c.used_at.is_not(None))
        ).scalar_one()
    assert used == 0


def test_oversized_text_is_rejected(db: Store) -> None:
    store = db
    setup_meeting(store)
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", {**good_answers(), "comments": "x" * 2001}))
    assert [(p.field, p.code) for p in caught.value.problems] == [("comments", "E_TOO_LONG")]
    assert "2,000" in caught.value.problems[0].message  # the limit
    huge = {**good_answers(), **{f"junk{i}": "x" for i in range(5000)}}
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", huge))
    assert problem_codes(caught) == ["E_UNKNOWN_VARIABLE"] * 5000
    assert caught.value.problems[0].field == "junk0"
    _nothing_written(store)


def test_invalid_utf8_is_rejected(db: Store) -> None:
    store = db
    setup_meeting(store)
    broken = b"\xe6\xbb\xa1\xff".decode("utf-8", errors="surrogateescape")  # 满 + a bad byte
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", {**good_answers(), "comments": broken}))
    (problem,) = caught.value.problems
    assert (problem.code, problem.field) == ("E_BAD_CHARACTER", "comments")
    assert "(U+DCFF)" in problem.message  # the character
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", good_answers(), paradata={"language": "\ud800"}))
    (problem,) = caught.value.problems
    assert (problem.code, problem.field) == ("E_BAD_CHARACTER", "language")
    assert "(U+D800)" in problem.message
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", {**good_answers(), "\udcff": "x"}))
    assert problem_codes(caught) == ["E_BAD_CHARACTER"]
    _nothing_written(store)


def test_answers_for_unknown_questions_are_rejected(db: Store) -> None:
    store = db
    setup_meeting(store)
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), "m1", {**good_answers(), "wuye__atitude": "x"}))
    (problem,) = caught.value.problems
    assert (problem.code, problem.field) == ("E_UNKNOWN_VARIABLE", "wuye__atitude")
    assert problem.fix is not None and "Did you mean `wuye__attitude`" in problem.fix
    with pytest.raises(AnswerError) as caught:
        # a subject this meeting does not evaluate
        store.submit(Submission(new_uuid(), "m1", {**good_answers(), "yeweihui__overall": "x"}))
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("yeweihui__overall", "E_UNKNOWN_SUBJECT")
    ]
    _nothing_written(store)


def test_tampered_meeting_ids_are_rejected(db: Store) -> None:
    store = db
    setup_meeting(store, "m1")
    setup_meeting(store, "m2")
    with pytest.raises(StoreError, match="no meeting `m3`"):
        store.submit(Submission(new_uuid(), "m3", good_answers()))
    ballot = new_uuid()
    store.save_draft("A3", ballot, good_answers(), meeting_id="m1")
    with pytest.raises(StoreError, match="draft belongs to meeting `m1`, not `m2`"):
        store.submit(Submission(ballot, "m2", good_answers()))
    (code,) = store.issue_ballot_codes("m1", 1)
    with pytest.raises(StoreError, match="code belongs to meeting `m1`, not `m2`"):
        store.submit(Submission(new_uuid(), "m2", good_answers(), ballot_code=code))
    store.submit(Submission(first := new_uuid(), "m1", good_answers(), ballot_code=code))
    with pytest.raises(StoreError, match="already stored for meeting `m1`, not `m2`"):
        store.submit(Submission(first, "m2", good_answers()))
    assert count(store) == 1
    assert store.load_draft("A3") is not None  # the draft of the rejected ballot is kept
    assert store.responses("m2").empty


def test_json_of_a_stored_ballot_is_exactly_what_was_acknowledged(tmp_path: Path) -> None:
    """Chinese text, newlines and tabs survive byte for byte (nothing is half-written or mangled)."""
    with Store.open(tmp_path / "m.db") as store:
        setup_meeting(store)
        text = "电梯噪音\n晚上十点后\t仍施工。😀"
        ballot = new_uuid()
        store.submit(Submission(ballot, "m1", {**good_answers(), "comments": text}))
        stored = store.submission(ballot)
        assert stored["answers"]["comments"] == text
        assert json.dumps(stored["answers"], ensure_ascii=False).count("电梯噪音") == 1
        assert store.responses("m1")["comments"].iloc[0] == text
    assert dt.datetime.now(dt.UTC) >= stored["stored_at"]
