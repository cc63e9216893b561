"""One writer thread for ballots: concurrent submits are committed together, never in a busy wait.

SQLite has one writer at a time. With 30 tablets tapping *Submit* together, each ballot used to wait
for the write lock and then pay for its own commit, an ``fsync`` of the WAL (``synchronous=FULL``):
the last one in the queue waited for 29 fsyncs. :class:`SingleWriter` is a queue in front of one
thread. The thread takes every ballot waiting in the queue (up to ``max_batch``), opens **one**
write transaction, stores each ballot under its own ``SAVEPOINT`` (so a rejected ballot is rolled
back alone and its caller gets its own error), commits once, and only then answers each caller. A
group of 30 ballots costs one fsync instead of 30 (group commit).

The guarantees of :meth:`toolkit.store.Store.submit` are unchanged:

- **durable**: a caller gets its :class:`~toolkit.store.SubmitResult` only after the group's commit
  returned; if the commit fails, every caller of the group gets the error and nothing is
  acknowledged (the tablets keep their answers and resend);
- **idempotent**: the same UUID twice, in one group or in two, is stored once (the second is seen by
  the first's lookup in the same transaction and answered ``"already_stored"``);
- **isolated errors**: a ballot with bad answers, a used code or a closed meeting fails alone.

Draft saves (one per tap) go through the same queue: they are committed in groups too, in their
own transaction on the drafts engine (no fsync, as before), so draft saves no longer take the
write lock one by one ahead of waiting ballots, and every write is served in its turn (first in,
first out; a plain lock lets a thread that just released it take it again).

The Store uses it for :meth:`~toolkit.store.Store.submit` and
:meth:`~toolkit.store.Store.save_draft` on SQLite by default
(``Store.open(url, single_writer=False)`` turns it off). It also works on PostgreSQL, where a UUID
committed by another process between the lookup and the insert is answered from the stored row.

Examples
--------
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")             # single_writer is on for SQLite
>>> store._single_writer
True
>>> store.close()                               # stops the thread once its queue is empty
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from toolkit.errors import StoreError, ToolkitError

if TYPE_CHECKING:
    from toolkit.store.records import Submission, SubmitResult

__all__ = ["SingleWriter"]

log = logging.getLogger(__name__)


class _BallotStore(Protocol):
    """What the writer needs of the store (``BallotsMixin`` provides it; a protocol, so this
    module does not import the store that imports it)."""

    def _tx(self, *, write: bool, draft: bool = False) -> AbstractContextManager[sa.Connection]: ...

    def _stored(self, connection: sa.Connection, uuid: str) -> Any: ...

    def _resent(self, submission: Submission, stored: Any, digest: str) -> SubmitResult: ...

    def _store_ballot(
        self,
        connection: sa.Connection,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> SubmitResult: ...


#: How long a caller waits for its group to be committed before giving up (the tablet resends).
ANSWER_TIMEOUT_S = 60.0


@dataclass
class _Job:
    """One write: ``work`` runs inside the group's transaction, under its own savepoint."""

    work: Callable[[sa.Connection], Any]
    what: str  # for messages: "ballot <uuid>", "draft of ballot <uuid>"
    draft: bool = False  # drafts are committed through the drafts engine (no fsync)
    recover: Callable[[sa.Connection], Any] | None = None  # after an IntegrityError
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


_STOP = object()


class SingleWriter:
    """A queue and one thread storing the ballots of a :class:`~toolkit.store.Store` in groups.

    Parameters
    ----------
    store : Store
        The store whose ``_store_ballot`` (checks and insert of one ballot inside a transaction)
        and ``_tx`` (a write transaction, holding the store's in-process write lock) are used.
    max_batch : int
        The most ballots committed together.
    """

    def __init__(self, store: _BallotStore, *, max_batch: int = 64) -> None:
        self._store = store
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sanhui-ballot-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> SubmitResult:
        """Queue one prepared ballot and wait until its group is committed (or refused)."""
        result: SubmitResult = self._wait(self.ballot_job(submission, answers, paradata, digest))
        return result

    def ballot_job(
        self,
        submission: Submission,
        answers: dict[str, Any],
        paradata: dict[str, Any] | None,
        digest: str,
    ) -> _Job:
        """The job storing one prepared ballot (:meth:`submit` queues it)."""
        store = self._store

        def recover(connection: sa.Connection) -> SubmitResult:
            # PostgreSQL: another process committed this UUID after our lookup
            stored = store._stored(connection, submission.uuid)
            if stored is None:
                raise StoreError(
                    f"ballot {submission.uuid} was not stored: the database refused it as a "
                    "duplicate, but no such ballot is stored. Send it again."
                )
            return store._resent(submission, stored, digest)

        return _Job(
            lambda c: store._store_ballot(c, submission, answers, paradata, digest),
            f"ballot {submission.uuid}",
            recover=recover,
        )

    def save_draft(self, work: Callable[[sa.Connection], Any], *, what: str) -> Any:
        """Queue one draft write (``work`` runs in a drafts transaction) and wait for its commit."""
        return self._wait(_Job(work, what, draft=True))

    def _wait(self, job: _Job) -> Any:
        with self._close_lock:
            if self._closed:
                raise StoreError(
                    f"{job.what} was not stored: the ballot store is closed. Reopen it "
                    "(Store.open) and send it again."
                )
            self._queue.put(job)
        if not job.done.wait(ANSWER_TIMEOUT_S):
            raise StoreError(
                f"{job.what}: the ballot writer did not answer within {ANSWER_TIMEOUT_S:.0f} s; "
                "it may or may not be stored. Send it again (a resend of a ballot with the same "
                "UUID is stored once) and check the database."
            )
        if job.error is not None:
            raise job.error
        return job.result

    def close(self, timeout: float = 30.0) -> None:
        """Store what is queued, then stop the thread. Later submits raise :class:`StoreError`."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)

    # --- the writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                    break
                batch.append(job)
            try:
                self._commit(batch)
            except BaseException as error:  # never leave a caller waiting
                log.exception("the ballot writer failed on a group of %d ballots", len(batch))
                for job in batch:
                    job.result, job.error = None, job.error or error
            finally:
                for job in batch:
                    job.done.set()

    def _commit(self, batch: Sequence[_Job]) -> None:
        # drafts and ballots of the group: one transaction each (drafts without an fsync); a
        # tablet saves its draft and submits one after the other, never both in one group
        for draft in (True, False):
            jobs = [job for job in batch if job.draft is draft]
            if jobs:
                self._transaction(jobs, draft=draft)

    def _transaction(self, jobs: Sequence[_Job], *, draft: bool) -> None:
        for attempt in (1, 2):
            for job in jobs:
                job.result, job.error = None, None
            try:
                with self._store._tx(write=True, draft=draft) as connection:
                    for job in jobs:
                        self._one(connection, job)
                return
            except Exception as error:
                # a pooled connection the server dropped (PostgreSQL restart): run the group
                # once more, as the direct submit does; safe even if the commit had reached the
                # server, since a stored ballot comes back "already_stored" and drafts are upserts
                if attempt == 1 and getattr(error.__cause__, "connection_invalidated", False):
                    continue
                self._fail(jobs, error)
                return

    @staticmethod
    def _fail(jobs: Sequence[_Job], error: Exception) -> None:
        # the group's transaction failed (database locked, disk full, connection lost): nothing
        # of it is stored, so nothing of the group is acknowledged; each caller gets its own
        # exception (one instance raised in many threads would mix their tracebacks)
        for job in jobs:
            if job.error is None:
                failed = StoreError(f"{job.what} was not stored: {error}")
                failed.__cause__ = error
                job.result, job.error = None, failed

    def _one(self, connection: sa.Connection, job: _Job) -> None:
        try:
            try:
                with self._savepoint(connection):
                    job.result = job.work(connection)
            except sa.exc.IntegrityError:
                if job.recover is None:
                    raise
                job.result = job.recover(connection)
        except ToolkitError as error:  # this write is refused; the others of the group go on
            job.result, job.error = None, error

    @staticmethod
    @contextlib.contextmanager
    def _savepoint(connection: sa.Connection) -> Iterator[None]:
        """A savepoint around one write. SQLite: issued on the driver's connection directly
        (measured 0.004 ms against 0.14 ms for SQLAlchemy's nested transaction, a tenth of a
        ballot's CPU time); SQLAlchemy does not track it, and the store's SQLite connections
        leave transactions to explicit statements (``isolation_level = None``), so the outer
        transaction is unaffected."""
        if connection.dialect.name != "sqlite":
            with connection.begin_nested():
                yield
            return
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("SAVEPOINT sanhui_ballot")
        try:
            yield
        except BaseException:
            raw.execute("ROLLBACK TO SAVEPOINT sanhui_ballot")
            raw.execute("RELEASE SAVEPOINT sanhui_ballot")
            raise
        raw.execute("RELEASE SAVEPOINT sanhui_ballot")
