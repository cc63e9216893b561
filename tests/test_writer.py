"""The single ballot writer (toolkit/store/writer.py): group commits, idempotent, durable.

Also the kill -9 test: a server-like process (one Store, 24 tablets tapping drafts and submitting
without pause through the writer, 6 more only saving drafts under per-browser tokens) is killed
with SIGKILL; the file passes ``PRAGMA integrity_check``, every acknowledged ballot is stored once,
nothing unsent is stored, every acknowledged draft (or a later save of it) comes back after the
restart, and the tablets' resends are each stored once.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.error_support import problem_codes
from tests.store_support import PG_URL, good_answers, need_postgres, new_uuid, setup_meeting
from toolkit.errors import AnswerError, StoreError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables
from toolkit.store import writer as writer_module
from toolkit.store.writer import SingleWriter


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store whose submits go through the single writer, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        with Store.open(tmp_path / "sanhui.db") as opened:
            setup_meeting(opened)
            yield opened
        return
    need_postgres()
    schema = f"sanhui_writer_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema, single_writer=True)
    try:
        setup_meeting(opened)
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def stored_ids(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(tables.submissions.c.submission_id)).scalars())


def commits(store: Store) -> list[int]:
    """A list that grows by one at every commit on the store's engine."""
    seen: list[int] = []
    event.listen(store.engine, "commit", lambda _connection: seen.append(1))
    return seen


def test_sqlite_stores_use_the_writer_by_default(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "a.db") as on,
        Store.open(tmp_path / "b.db", single_writer=False) as off,
    ):
        assert on._single_writer and not off._single_writer
        setup_meeting(on)
        on.submit(Submission(new_uuid(), "m1", good_answers()))
        assert isinstance(on._writer, SingleWriter)
        assert on._writer._thread.is_alive()
        writer = on._writer
    assert not writer._thread.is_alive()  # close() stopped it


def test_thirty_tablets_at_once_are_stored_once_each_in_few_commits(store: Store) -> None:
    ballots = [Submission(new_uuid(), "m1", good_answers(i), device=f"T{i}") for i in range(60)]
    sends = ballots + ballots[:20]  # 20 ballots sent twice, at the same moment
    results: list[tuple[str, str]] = []
    lock = threading.Lock()
    seen = commits(store)
    start = threading.Barrier(30)

    def tablet(k: int) -> None:
        start.wait()
        for ballot in sends[k::30]:
            status = store.submit(ballot).status
            with lock:
                results.append((ballot.uuid, status))

    threads = [threading.Thread(target=tablet, args=(k,)) for k in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80
    stored = stored_ids(store)
    assert sorted(stored) == sorted(b.uuid for b in ballots)
    statuses = Counter(status for _, status in results)
    assert statuses == {"stored": 60, "already_stored": 20}
    firsts = Counter(u for u, status in results if status == "stored")
    assert set(firsts.values()) == {1}
    assert len(seen) < 60  # grouped: fewer commits than ballots


def test_a_bad_ballot_fails_alone_in_its_group(store: Store) -> None:
    (code,) = store.issue_ballot_codes("m1", 1)
    writer = SingleWriter(store)
    try:
        good = Submission(new_uuid(), "m1", good_answers(1), ballot_code=code)
        bad = Submission(new_uuid(), "m1", {**good_answers(2), "wuye__overall": "great"})
        used = Submission(new_uuid(), "m1", good_answers(3), ballot_code=code)
        again = good
        jobs = [
            writer.ballot_job(s, *store._prepare_submission(s)) for s in (good, bad, used, again)
        ]
        writer._commit(jobs)  # one group, one transaction
    finally:
        writer.close()
    assert jobs[0].error is None and jobs[0].result is not None
    assert jobs[0].result.status == "stored"
    assert isinstance(jobs[1].error, AnswerError)
    assert problem_codes(jobs[1].error) == ["E_NOT_A_CHOICE"]
    assert isinstance(jobs[2].error, AnswerError)
    assert problem_codes(jobs[2].error) == ["E_BALLOT_CODE_USED"]
    assert jobs[3].result is not None and jobs[3].result.status == "already_stored"
    assert stored_ids(store) == [good.uuid]
    assert not store.ballot_code_usable("m1", code)


def test_drafts_go_through_the_writer_too(store: Store) -> None:
    assert store._single_writer
    stored = Submission(new_uuid(), "m1", good_answers())
    store.submit(stored)
    ballots = {f"token-{k:02d}": new_uuid() for k in range(30)}
    errors: list[Exception] = []
    start = threading.Barrier(31)

    def tablet(owner: str) -> None:
        start.wait()
        for tap in range(5):
            store.save_draft(owner, ballots[owner], {"taps": tap, "device": owner}, meeting_id="m1")

    def stale() -> None:  # a draft for a ballot already stored fails alone
        start.wait()
        try:
            store.save_draft("token-stale", stored.uuid, {"taps": 1}, meeting_id="m1")
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=tablet, args=(owner,)) for owner in ballots]
    threads.append(threading.Thread(target=stale))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1 and "already stored" in str(errors[0])
    for owner, ballot in ballots.items():
        draft = store.load_draft(owner)
        assert draft is not None and draft.uuid == ballot and draft.answers["taps"] == 4
    assert store.load_draft("token-stale") is None


def test_nothing_is_acknowledged_when_the_commit_fails(store: Store) -> None:
    def refuse(_connection: object) -> None:
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(store.engine, "commit", refuse)
    ballot = Submission(new_uuid(), "m1", good_answers())
    with pytest.raises(StoreError, match="disk I/O error"):
        store.submit(ballot)
    event.remove(store.engine, "commit", refuse)
    assert stored_ids(store) == []
    assert store.submit(ballot).status == "stored"  # the tablet's resend
    assert stored_ids(store) == [ballot.uuid]


def test_a_dropped_connection_is_retried_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_tx = store._tx
    calls: list[int] = []

    def dropping_tx(**options: object) -> object:
        calls.append(1)
        if len(calls) == 1:  # the first group meets a connection the server dropped
            cause = sa.exc.OperationalError(
                "SELECT 1", {}, Exception("server closed the connection")
            )
            cause.connection_invalidated = True
            error = StoreError("database error")
            error.__cause__ = cause
            raise error
        return real_tx(**options)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_tx", dropping_tx)
    ballot = Submission(new_uuid(), "m1", good_answers())
    assert store.submit(ballot).status == "stored"
    assert len(calls) == 2
    assert stored_ids(store) == [ballot.uuid]


def test_close_stores_what_is_queued_then_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class CountingQueue(queue.SimpleQueue):  # type: ignore[type-arg]
        puts = 0

        def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
            type(self).puts += 1
            super().put(item, block, timeout)

    monkeypatch.setattr(
        writer_module, "queue", SimpleNamespace(SimpleQueue=CountingQueue, Empty=queue.Empty)
    )
    store = Store.open(tmp_path / "s.db")
    setup_meeting(store)
    ballots = [Submission(new_uuid(), "m1", good_answers(i)) for i in range(10)]
    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda b=b: answers.append(store.submit(b).status)) for b in ballots
    ]
    with store._write_lock:  # hold the writer back so that ballots are queued when close() comes
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while CountingQueue.puts < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert CountingQueue.puts == 10  # all ten queued, none committed (the lock is held)
        writer = store._writer
        closer = threading.Thread(target=store.close)
        closer.start()
    closer.join()
    for thread in threads:
        thread.join()
    assert answers == ["stored"] * 10  # every queued caller was answered after its commit
    assert writer is not None and not writer._thread.is_alive()
    with pytest.raises(StoreError, match="store is closed"):
        writer.submit(ballots[0], *store._prepare_submission(ballots[0]))
    with Store.open(tmp_path / "s.db") as again:
        assert sorted(stored_ids(again)) == sorted(b.uuid for b in ballots)


# --- kill -9 of a server-like process under load ----------------------------------------------------

SERVER = """
import itertools, sys, threading, uuid
from tests.store_support import good_answers
from toolkit.store import Store, Submission

store = Store.open(sys.argv[1])  # the single writer is on (SQLite default)
resend = [line.split() for line in open(sys.argv[2])] if len(sys.argv) > 2 else None
numbers = itertools.count()
say = threading.Lock()

def tell(*words):
    with say:
        print(*words, flush=True)

def voter(k):  # taps (a draft per tap) then submits, without pause
    token = f"session-{k:02d}"
    while True:
        if resend is None:
            i, ballot = next(numbers), str(uuid.uuid4())
            for tap in range(3):
                store.save_draft(token, ballot, {"device": f"T{k:02d}", "taps": tap}, meeting_id="m1")
        else:
            j = next(numbers)
            if j >= len(resend):
                return
            i, ballot = int(resend[j][0]), resend[j][1]
        tell("send", i, ballot)
        status = store.submit(Submission(ballot, "m1", good_answers(i), device=f"T{k:02d}")).status
        tell("ack", i, ballot, status)

def drafter(k):  # a tablet whose resident is still answering: its draft grows tap by tap
    token, ballot = f"drafter-{k:02d}", str(uuid.uuid4())
    for n in itertools.count():
        store.save_draft(token, ballot, {"device": f"D{k:02d}", "taps": n}, meeting_id="m1")
        tell("draft", token, ballot, n)

threads = [threading.Thread(target=voter, args=(k,)) for k in range(24)]
if resend is None:
    threads += [threading.Thread(target=drafter, args=(k,), daemon=True) for k in range(6)]
for thread in threads:
    thread.start()
for thread in threads[:24]:
    thread.join()
tell("done")
"""


def _parse(lines: list[str]) -> tuple[dict[str, int], dict[str, str], dict[str, tuple[str, int]]]:
    sent: dict[str, int] = {}
    acked: dict[str, str] = {}
    drafts: dict[str, tuple[str, int]] = {}
    for line in lines:
        words = line.split()
        if len(words) == 3 and words[0] == "send":
            sent[words[2]] = int(words[1])
        elif len(words) == 4 and words[0] == "ack":
            acked[words[2]] = words[3]
        elif len(words) == 4 and words[0] == "draft":
            drafts[words[1]] = (words[2], int(words[3]))
    return sent, acked, drafts


@pytest.mark.slow
def test_kill_9_under_load_loses_and_doubles_nothing(tmp_path: Path) -> None:
    import signal
    import sqlite3
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "meeting.db"
    with Store.open(path) as store:
        setup_meeting(store)
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(path)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(x.startswith("ack") for x in lines) < 120:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
    child.send_signal(signal.SIGKILL)  # mid-group: ballots queued, a transaction open
    rest, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, errors
    lines += rest.splitlines()
    sent, acked, drafts = _parse(lines)
    assert len(acked) >= 120, errors
    assert set(acked.values()) == {"stored"}
    assert len(drafts) == 6, errors
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(path) as store:
        stored = stored_ids(store)
        assert len(stored) == len(set(stored))  # nothing twice
        assert set(acked) <= set(stored)  # every acknowledged ballot is there
        assert set(stored) <= set(sent)  # nothing no tablet sent
        # every acknowledged draft is back after the restart (or a later save of it)
        for token, (ballot, taps) in drafts.items():
            draft = store.load_draft(token)
            assert draft is not None and draft.uuid == ballot, token
            assert draft.answers["taps"] >= taps and draft.answers["device"].startswith("D")
        # a voter's draft never outlives its stored ballot (deleted in the ballot's transaction)
        for k in range(24):
            draft = store.load_draft(f"session-{k:02d}")
            if draft is not None:
                assert draft.uuid not in stored
    # the tablets resend every ballot they sent and did not see acknowledged, and the others too
    listing = tmp_path / "resend.txt"
    listing.write_text("".join(f"{i} {u}\n" for u, i in sent.items()))
    again = subprocess.run(
        [sys.executable, "-c", SERVER, str(path), str(listing)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    _sent, resent, _drafts = _parse(again.stdout.splitlines())
    assert set(resent) == set(sent)
    assert {u for u, status in resent.items() if status == "already_stored"} == set(stored)
    with Store.open(path) as store:
        assert sorted(stored_ids(store)) == sorted(sent)
