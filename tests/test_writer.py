"""The single ballot writer (toolkit/store/writer.py): group commits, idempotent, durable.

Also the kill -9 test: a server-like process submitting and saving drafts for 30 tablets through
the writer is killed with SIGKILL; every acknowledged ballot is stored once and every acknowledged
draft comes back after the restart.
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

from tests.store_support import PG_URL, good_answers, need_postgres, new_uuid, setup_meeting
from toolkit.errors import AnswerError, StoreError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables
from toolkit.store import writer as writer_module
from toolkit.store.writer import SingleWriter, _Job


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
        jobs = [_Job(s, *store._prepare_submission(s)) for s in (good, bad, used, again)]
        writer._commit(jobs)  # one group, one transaction
    finally:
        writer.close()
    assert jobs[0].error is None and jobs[0].result is not None
    assert jobs[0].result.status == "stored"
    assert isinstance(jobs[1].error, AnswerError) and "great" in str(jobs[1].error)
    assert isinstance(jobs[2].error, AnswerError) and "already been used" in str(jobs[2].error)
    assert jobs[3].result is not None and jobs[3].result.status == "already_stored"
    assert stored_ids(store) == [good.uuid]
    assert not store.ballot_code_usable("m1", code)


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
