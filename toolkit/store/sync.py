"""Copy one ballot store into another: meeting laptops (SQLite) into the district's PostgreSQL.

:func:`sync` copies, table by table and in key order (:data:`TABLES`), everything a site store holds
that the target lacks: instruments (by id + version, checked by content hash), meetings,
participants (their names only into the target's ``participant_names``), attendance, ballots (with
status, void reason, paradata and entry mode, exactly as stored) and their repeat rows, ballot codes
(their used state), closing records, speaking turns, codings of comments, online windows (with the
hearing plan), and cases with their meetings, outcomes and rectification items. Drafts stay on the
laptop.

- **Idempotent**: a row already in the target is counted as *present* and left alone; running the
  same sync twice changes nothing.
- **Never overwrites**: a row whose key is in the target with other content (a ballot UUID with other
  answers, a meeting with another instrument, an instrument version with another content hash) is a
  *conflict*: reported, and the target keeps its own. The only changes made to existing target rows
  are the ones a site makes after an earlier sync (*updated*); a target further on than the site
  (a ballot voided, a case closed there) is *present*:

  - meetings: closed (the status; other differences are conflicts);
  - attendance: checked in, invited; ballot codes: used;
  - ballots: voided (void wins, with its reason);
  - turns: an open turn ended, a turn undone (undone wins, as void does), codes added; a turn
    reopened, ended at another time or with a code taken off on the site is a conflict (a turn
    carries no time of change, so which side is newer is unknown);
  - online windows: a plan written where the target has none; a moved window or another plan is a
    conflict (no time of change either);
  - cases: closed (``closed_on`` where the target has none; another date is a conflict);
  - codings, case outcomes and rectification items (an item's status, evidence, due date and
    follow-up meeting), which the Store replaces and stamps (``coded_at``, ``recorded_at``,
    ``updated_at``): the later stamp wins, as in one store. The site's later stamp is *updated*,
    the target's later stamp is *present* (kept), the same stamp with other content is a conflict.
    Stamps come from each machine's clock;
  - closing records, repeat rows and a case's meetings never change once written: any difference
    is a conflict.

- **Checked references, not re-validated answers**: a ballot is copied only when its meeting is in
  the target with the same instrument version, and when its answers still hash to the stored
  ``answers_hash`` (a corrupted or edited file is caught). The answers are not checked again against
  the instrument's required rules, so paper ballots keyed in with blanks arrive as stored; pass
  ``verify_answers=True`` to run the type checks (codes, types, unknown variables) as well. Rows
  that hang on a meeting or ballot (attendance, codes, closings, turns, windows, repeat rows,
  codings) are *skipped* with a reason when it was not copied (blocked or conflicting) or is not
  the same ballot in the target; a repeat row must also say what its ballot's answers say. A case
  with another title or kind in the target is a conflict, and the site's meetings, outcomes and
  items of that case are skipped; so are those naming a meeting not copied. A case meeting whose
  place in the case is taken in the target is a conflict, and its outcome is skipped.
- **Rectification items are renumbered**: every store numbers its own items, so an item is found in
  the target by its case, creation time, subject and text, and a new one takes the target's next
  number (several sites' item 1 all arrive).
- **Resumable**: each batch of ``batch_size`` rows is committed in its own transaction, so a
  killed sync loses at most the open batch; the next run skips what arrived. A dropped database
  connection is retried (``retries`` times per batch) before the sync stops with a
  :class:`~toolkit.errors.StoreError`.

A closing record is copied as the site wrote it: :func:`toolkit.store.closing.verify_closing` on the
target tells whether every ballot of the meeting arrived unchanged. The rules are in
:mod:`toolkit.store.sync_rules` and :mod:`toolkit.store.sync_case_rules`.

Merging several site files into one store is several syncs into one target.

>>> from toolkit.instrument.model import Choice, ChoiceList, Page, Question, Settings, Survey, Text
>>> from toolkit.store import Store, Submission
>>> yn = ChoiceList("yn", (Choice("yes", Text("是")), Choice("no", Text("否"))))
>>> q = Question("agree", "single", Text("同意吗"), choices="yn", required=True)
>>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("页"), (q,)),), {"yn": yn})
>>> site, city = Store.open("sqlite://"), Store.open("sqlite://")
>>> _ = site.create_meeting("m1", kind="evaluation", title="评议会", instrument=survey)
>>> _ = site.submit(Submission("6f1c0a52-4d0e-4b43-9a43-1a2b3c4d5e6f", "m1", {"agree": "yes"}))
>>> sync(site, city, progress=False).counts("submissions")
{'new': 1, 'present': 0, 'updated': 0, 'conflicts': 0, 'skipped': 0}
>>> sync(site, city, progress=False).counts("submissions")["present"]
1
>>> site.close(); city.close()
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url

from toolkit._checks import check_range
from toolkit.errors import ParameterError, StoreError
from toolkit.store.store import Store, _normalize_url
from toolkit.store.sync_case_rules import CaseRules
from toolkit.store.sync_rules import TABLES, Decision, Phase, SyncRules

__all__ = ["TABLES", "SyncIssue", "SyncReport", "sync"]

_COUNTERS = ("new", "present", "updated", "conflicts", "skipped")
_MAX_ISSUES = 1000  # issues listed one by one; the counts always cover every row

IssueKind = Literal["conflict", "skipped"]
StoreLike = Store | str | os.PathLike[str]


@dataclass(frozen=True)
class SyncIssue:
    """One row that was not copied: a ``conflict`` (the target keeps its own) or ``skipped``.

    ``key`` identifies the row (a ballot UUID, a meeting id, ``meeting_id/participant_id``); it never
    holds a name.
    """

    table: str
    key: str
    kind: IssueKind
    reason: str

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.reason}"


@dataclass
class SyncReport:
    """What :func:`sync` did, per table: new, present (already there), updated, conflicts, skipped.

    ``issues`` lists the first 1,000 conflicts and skipped rows with their reasons; the counts cover
    every row.
    """

    source: str
    target: str
    tables: dict[str, dict[str, int]] = field(
        default_factory=lambda: {name: dict.fromkeys(_COUNTERS, 0) for name in TABLES}
    )
    issues: list[SyncIssue] = field(default_factory=list)
    seconds: float = 0.0
    batches: int = 0

    def counts(self, table: str) -> dict[str, int]:
        """The counters of one table (a copy)."""
        if table not in self.tables:
            raise ParameterError(
                f"`table` must be one of {', '.join(TABLES)}; got {table!r}.", code="E_OPTION"
            )
        return dict(self.tables[table])

    @property
    def conflicts(self) -> int:
        """Rows reported as conflicts, over every table."""
        return sum(c["conflicts"] for c in self.tables.values())

    @property
    def skipped(self) -> int:
        """Rows skipped (unknown or conflicting references, corrupted answers), over every table."""
        return sum(c["skipped"] for c in self.tables.values())

    @property
    def copied(self) -> int:
        """Rows newly written to the target, over every table."""
        return sum(c["new"] for c in self.tables.values())

    def to_frame(self) -> Any:
        """The counters as a DataFrame, one row per table."""
        import pandas as pd

        return pd.DataFrame(
            [{"table": name, **self.tables[name]} for name in TABLES],
            columns=["table", *_COUNTERS],
        )

    def summary(self) -> str:
        """A readable table of the counters, then the issues (at most 20 shown)."""
        ballots = self.tables["submissions"]
        moved = ballots["new"] + ballots["present"] + ballots["updated"]
        rate = f", {ballots['new'] / self.seconds:,.0f} new ballots/s" if self.seconds else ""
        lines = [
            f"sync {self.source} -> {self.target}: {self.seconds:.1f} s, "
            f"{self.batches} batches{rate}",
            f"{'table':<20}" + "".join(f"{c:>10}" for c in _COUNTERS),
        ]
        for name in TABLES:
            lines.append(f"{name:<20}" + "".join(f"{self.tables[name][c]:>10,}" for c in _COUNTERS))
        lines.append(f"ballots in the target from this source: {moved:,}")
        if self.issues:
            total = self.conflicts + self.skipped
            lines.append(f"{total:,} rows not copied (conflicts keep the target's version):")
            lines += [f"  - {issue}" for issue in self.issues[:20]]
            if total > 20:
                lines.append(f"  ... and {total - 20:,} more (SyncReport.issues).")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _open(store: StoreLike, schema: str | None, *, must_exist: bool) -> tuple[Store, bool]:
    if isinstance(store, Store):
        if schema is not None:
            raise ParameterError("pass a schema only with a URL; an open Store has its own.")
        return store, False
    if must_exist:  # a mistyped site file must not become a new, empty store
        url = make_url(_normalize_url(store))
        database = url.database
        file = url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
        if file and not Path(str(database)).exists():
            raise StoreError(
                f"there is no store at {database}; check the path of the site's file "
                "(e.g. data/sanhui.db on the meeting laptop)."
            )
    return Store.open(store, schema=schema), True


def sync(
    source: StoreLike,
    target: StoreLike,
    *,
    source_schema: str | None = None,
    target_schema: str | None = None,
    progress: bool = True,
    batch_size: int = 5000,
    verify_answers: bool = False,
    retries: int = 2,
    on_batch: Callable[[str, int], None] | None = None,
) -> SyncReport:
    """Copy what ``source`` holds and ``target`` lacks; report new, present and conflicting rows.

    Parameters
    ----------
    source, target : Store, URL or SQLite path
        The stores (any two: SQLite → PostgreSQL, SQLite → SQLite ...). URLs and paths are opened
        (creating or upgrading the schema, as :meth:`Store.open` does) and closed afterwards; Store
        objects are used as they are and left open.
    source_schema, target_schema : str, optional
        PostgreSQL schema of a store given by URL.
    progress : bool
        Show a tqdm progress bar per table (on stderr).
    batch_size : int
        Rows per committed batch: a killed sync loses at most one batch of work.
    verify_answers : bool
        Also run the instrument's type checks on each new ballot (codes, types, unknown variables;
        required questions are not enforced, so paper ballots with blanks pass). Off by default:
        every ballot was checked by :meth:`Store.submit` when it was stored, and the answers hash
        check already catches changed answers.
    retries : int
        Times a batch is retried after a dropped connection or a concurrent writer's insert.
    on_batch : callable, optional
        Called with ``(table, rows done in that table)`` after each committed batch.

    Returns
    -------
    SyncReport
        Counters per table and the list of conflicts and skipped rows.

    Raises
    ------
    StoreError
        A database error that retrying did not cure (batches committed before it stay, and running
        the same sync again resumes), or a source SQLite file that does not exist.

    Examples
    --------
    Typical use: ``sync("site-wlq.db", "postgresql+psycopg://researcher@district/sanhui")``, or
    ``sanhui sync --from site-wlq.db --to postgresql+psycopg://...`` on the command line.

    >>> report = sync("sqlite://", "sqlite://", progress=False)  # two empty in-memory stores
    >>> report.copied, report.conflicts, report.counts("submissions")["new"]
    (0, 0, 0)
    """
    check_range("batch_size", batch_size, low=1)
    check_range("retries", retries, low=0)
    src, close_src = _open(source, source_schema, must_exist=True)
    try:
        dst, close_dst = _open(target, target_schema, must_exist=False)
    except BaseException:
        if close_src:
            src.close()
        raise
    try:
        same = src is dst or (
            src.engine.url.render_as_string() == dst.engine.url.render_as_string()
            and src._schema == dst._schema
            and src.engine.url.database not in (None, "", ":memory:")
        )
        if same:
            raise ParameterError(
                f"`source` and `target` are the same database ({src.url}); sync copies between "
                "two stores."
            )
        return _Sync(src, dst, progress, batch_size, verify_answers, retries, on_batch).run()
    finally:
        if close_dst:
            dst.close()
        if close_src:
            src.close()


class _Sync:
    def __init__(
        self,
        source: Store,
        target: Store,
        progress: bool,
        batch_size: int,
        verify_answers: bool,
        retries: int,
        on_batch: Callable[[str, int], None] | None,
    ) -> None:
        self.source = source
        self.target = target
        self.progress = progress
        self.batch_size = batch_size
        self.retries = retries
        self.on_batch = on_batch
        self.report = SyncReport(source.url, target.url)
        self.rules = SyncRules(source.url, target, verify_answers=verify_answers)

    # --- driver ---------------------------------------------------------------------------------

    def run(self) -> SyncReport:
        start = time.perf_counter()
        phases = [*self.rules.phases(), *CaseRules(self.rules).phases()]
        assert tuple(p.name for p in phases) == TABLES
        for phase in phases:
            if phase.before is not None:
                phase.before()
            self._run_phase(phase)
        self.report.seconds = time.perf_counter() - start
        return self.report

    def _run_phase(self, phase: Phase) -> None:
        keys = [phase.table.c[k] for k in phase.key]
        with self.source.engine.connect() as connection:
            total = connection.execute(
                sa.select(sa.func.count()).select_from(phase.table)
            ).scalar_one()
        bar = _bar(total, phase.name, self.progress)
        done, last = 0, None
        try:
            while True:
                columns = (
                    [phase.table]
                    if phase.light is None
                    else [phase.table.c[c] for c in phase.light]
                )
                query = sa.select(*columns).order_by(*keys).limit(self.batch_size)
                if last is not None:
                    query = query.where(
                        keys[0] > last[0] if len(keys) == 1 else sa.tuple_(*keys) > sa.tuple_(*last)
                    )
                rows = self._read(phase.name, query)
                if not rows:
                    break
                self._write_batch(phase, rows)
                done += len(rows)
                last = tuple(rows[-1][k] for k in phase.key)
                self.report.batches += 1
                bar.update(len(rows))
                if self.on_batch is not None:
                    self.on_batch(phase.name, done)
        finally:
            bar.close()

    def _read(self, name: str, query: Any) -> list[dict[str, Any]]:
        for attempt in range(self.retries + 1):
            try:
                with self.source.engine.connect() as connection, connection.begin():
                    return [dict(r._mapping) for r in connection.execute(query)]
            except sa.exc.OperationalError as error:
                if attempt < self.retries:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise StoreError(
                    f"sync stopped reading table `{name}` from {self.source.url} "
                    f"({self.report.batches} batches committed): {error.orig}. Run the same "
                    "sync again to resume."
                ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.target.engine.connect() as connection:
            connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection

    def _write_batch(self, phase: Phase, rows: list[dict[str, Any]]) -> None:
        for attempt in range(self.retries + 1):
            try:
                decisions = self._apply(phase, rows)
            except sa.exc.DBAPIError as error:
                transient = bool(error.connection_invalidated) or isinstance(
                    error, sa.exc.IntegrityError | sa.exc.OperationalError | sa.exc.InterfaceError
                )
                if transient and attempt < self.retries:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise StoreError(
                    f"sync stopped at table `{phase.name}` ({self.report.batches} batches "
                    f"committed to {self.target.url}): {error.orig}. Nothing of the open batch "
                    "was written; run the same sync again to resume."
                ) from error
            break
        counters = self.report.tables[phase.name]
        for key, decision in decisions:
            counters[decision.outcome] += 1
            listed = len(self.report.issues) < _MAX_ISSUES
            if listed and decision.outcome in ("conflicts", "skipped") and decision.reason:
                kind: IssueKind = "conflict" if decision.outcome == "conflicts" else "skipped"
                self.report.issues.append(
                    SyncIssue(phase.name, "/".join(map(str, key)), kind, decision.reason)
                )
            if decision.block and phase.blocks is not None:
                phase.blocks(key)

    def _apply(
        self, phase: Phase, rows: list[dict[str, Any]]
    ) -> list[tuple[tuple[Any, ...], Decision]]:
        table = phase.table
        keys = [table.c[k] for k in phase.key]
        match = phase.match or phase.key
        wanted = [tuple(r[k] for k in phase.key) for r in rows]
        with self._write() as connection:
            if phase.prepare is not None:
                phase.prepare(connection, rows)
            query = sa.select(*[table.c[c] for c in phase.compare])
            if phase.match is not None:  # found by the first column, then matched on all
                found = {r[match[0]] for r in rows}
                query = query.where(table.c[match[0]].in_(sorted(found)))
            elif len(keys) == 1:
                query = query.where(keys[0].in_([w[0] for w in wanted]))
            else:
                query = query.where(sa.tuple_(*keys).in_(wanted))
            existing = {
                tuple(r._mapping[k] for k in match): dict(r._mapping)
                for r in connection.execute(query)
            }
            if phase.light is not None:  # the whole row only where it may be copied
                missing = [w[0] for w in wanted if w not in existing]
                if missing:
                    full = sa.select(table).where(keys[0].in_(missing))
                    fetched = {r[phase.key[0]]: r for r in self._read(phase.name, full)}
                    rows = [fetched.get(r[phase.key[0]], r) for r in rows]
            decisions = []
            inserts: list[dict[str, Any]] = []
            primary = list(table.primary_key.columns)
            for key, row in zip(wanted, rows, strict=True):
                there = existing.get(tuple(row[k] for k in match))
                decision = phase.decide(row, there)
                decisions.append((key, decision))
                if decision.insert is not None:
                    inserts.append(decision.insert)
                if decision.update and there is not None:
                    where = [c == there[c.name] for c in primary]
                    connection.execute(sa.update(table).where(*where).values(decision.update))
            if inserts:
                connection.execute(sa.insert(table), inserts)
        return decisions


class _NoBar:
    def update(self, _n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, name: str, show: bool) -> Any:
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{name:<19}", unit="row", leave=True, dynamic_ncols=True)
