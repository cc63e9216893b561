"""Benchmark of toolkit.store: submit latency/throughput and the response export, SQLite and PostgreSQL.

Ours: :meth:`Store.submit` (validation with check_answers, idempotency check, one durable transaction
per ballot), sequentially and from a few threads. Peers, in the same run, on the same rows:

- raw ``sqlite3`` / ``psycopg`` ``executemany`` of the already-validated rows in ONE transaction (the
  floor: no validation, no per-ballot commit, so it is not a like-for-like durability guarantee);
- raw driver, one INSERT + COMMIT per ballot (the like-for-like durable peer).

Then :meth:`Store.responses` on a larger table against the obvious pandas peer (read the JSON column,
``json.loads`` each row, ``pd.DataFrame`` of the dicts). Both must give the same values.

Run: ``.venv/bin/python -m bench.bench_store`` (env: BENCH_BALLOTS=2000, BENCH_EXPORT_ROWS=100000,
SANHUI_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from toolkit.instrument.answers import check_answers
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import Survey
from toolkit.store import Store, Submission, answers_hash

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SANHUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
N_BALLOTS = int(os.environ.get("BENCH_BALLOTS", "2000"))
N_EXPORT = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
THREADS = 4
SUBJECTS = (
    {"id": "juweihui", "label_zh": "居委会", "label_en": "Residents' committee"},
    {"id": "wuye", "label_zh": "物业公司", "label_en": "Property management"},
)
ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
SCALE = ("satisfied", "basically_satisfied", "dissatisfied")


def make_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for subject in SUBJECTS:
        for item in ITEMS:
            answers[f"{subject['id']}__{item}"] = rng.choice((*SCALE, "dont_know"))
        answers[f"{subject['id']}__overall"] = rng.choice(SCALE)
    answers["project_elevator"] = "no"
    if rng.random() < 0.4:
        answers["rectify"] = rng.sample(["slow_response", "attitude_issue", "quality_issue"], 2)
    answers["role"] = rng.choice(["resident_rep", "party_member", "building_head"])
    answers["age_band"] = rng.choice(["50-59", "60-69", "70-79"])
    answers["gender"] = rng.choice(["female", "male"])
    answers["building"] = rng.randint(1, 40)
    return answers


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q) * 1000)


def open_store(dialect: str, workdir: Path) -> tuple[Store, Callable[[], None]]:
    if dialect == "sqlite":
        store = Store.open(workdir / "bench.db")
        return store, store.close
    schema = f"sanhui_bench_{uuid.uuid4().hex[:8]}"
    store = Store.open(PG_URL, schema=schema)

    def cleanup() -> None:
        store.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    return store, cleanup


def pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as error:
        return str(error).strip()


class RawPeer:
    """The same rows through the bare driver into a copy of the submissions table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pg = store.dialect == "postgresql"
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS peer_submissions")
            if self.pg:
                connection.exec_driver_sql(
                    "CREATE TABLE peer_submissions (LIKE submissions INCLUDING ALL)"
                )
            else:
                ddl = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'submissions'"
                ).scalar_one()
                connection.exec_driver_sql(
                    ddl.replace("CREATE TABLE submissions", "CREATE TABLE peer_submissions", 1)
                )
                for columns in ("meeting_id, status", "instrument_id, instrument_version"):
                    name = "ix_peer_" + columns.replace(", ", "_")
                    connection.exec_driver_sql(
                        f"CREATE INDEX {name} ON peer_submissions ({columns})"
                    )
        self.sql = (
            "INSERT INTO peer_submissions (submission_id, meeting_id, instrument_id, "
            "instrument_version, device, stored_at, status, answers, answers_hash) VALUES "
            + ("(%s, %s, %s, %s, %s, %s, %s, %s, %s)" if self.pg else "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
        )

    def rows(self, answers: list[dict[str, Any]], meeting: str, survey: Survey) -> list[tuple]:
        now = datetime.now(UTC)
        stamp: Any = now if self.pg else now.replace(tzinfo=None).isoformat(sep=" ")
        return [
            (
                str(uuid.uuid4()),
                meeting,
                survey.id,
                survey.version,
                "peer",
                stamp,
                "valid",
                json.dumps(a, ensure_ascii=False),
                answers_hash(a),
            )
            for a in answers
        ]

    def _connect(self) -> Any:
        raw = self.store.engine.raw_connection()
        return raw

    def executemany(self, rows: list[tuple]) -> float:
        raw = self._connect()
        try:
            cursor = raw.cursor()
            start = time.perf_counter()
            if not self.pg:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self.sql, rows)
            raw.commit() if self.pg else cursor.execute("COMMIT")
            return time.perf_counter() - start
        finally:
            raw.close()

    def per_row(self, rows: list[tuple]) -> float:
        raw = self._connect()
        try:
            cursor = raw.cursor()
            start = time.perf_counter()
            for row in rows:
                if not self.pg:
                    cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(self.sql, row)
                raw.commit() if self.pg else cursor.execute("COMMIT")
            return time.perf_counter() - start
        finally:
            raw.close()

    def count(self) -> int:
        with self.store.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM peer_submissions").scalar())


def bench_submit(dialect: str, survey: Survey, workdir: Path) -> None:
    store, cleanup = open_store(dialect, workdir)
    try:
        store.add_instrument(survey)
        for name in ("seq", "threads"):
            store.create_meeting(
                name, kind="evaluation", title="bench", instrument=survey.id, subjects=SUBJECTS
            )
        rng = random.Random(20260301)
        answers = [make_answers(rng) for _ in range(N_BALLOTS)]
        subject_ids = tuple(s["id"] for s in SUBJECTS)
        assert not check_answers(survey, answers[0], subjects=subject_ids)

        # ours, sequential
        latencies: list[float] = []
        start = time.perf_counter()
        for a in answers:
            t0 = time.perf_counter()
            store.submit(Submission(str(uuid.uuid4()), "seq", a, device="tablet-1"))
            latencies.append(time.perf_counter() - t0)
        sequential = time.perf_counter() - start

        # ours, THREADS threads
        threaded_latencies: list[float] = []
        lock = threading.Lock()

        def worker(part: list[dict[str, Any]]) -> None:
            mine = []
            for a in part:
                t0 = time.perf_counter()
                store.submit(Submission(str(uuid.uuid4()), "threads", a, device="tablet-2"))
                mine.append(time.perf_counter() - t0)
            with lock:
                threaded_latencies.extend(mine)

        parts = [answers[i::THREADS] for i in range(THREADS)]
        threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        threaded = time.perf_counter() - start

        # the idempotent resend path
        resend = Submission(str(uuid.uuid4()), "seq", answers[0])
        store.submit(resend)
        t0 = time.perf_counter()
        for _ in range(200):
            assert store.submit(resend).status == "already_stored"
        resend_ms = (time.perf_counter() - t0) / 200 * 1000

        # peers, same rows
        peer = RawPeer(store)
        bulk = peer.executemany(peer.rows(answers, "seq", survey))
        single = peer.per_row(peer.rows(answers, "seq", survey))
        frame = store.responses("seq")
        assert len(frame) == N_BALLOTS + 1, len(frame)  # + the resent ballot
        assert peer.count() == 2 * N_BALLOTS, peer.count()
        with store.engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT answers FROM submissions WHERE meeting_id = 'seq'")
            ).scalars()
            ours_hashes = sorted(
                answers_hash(json.loads(a) if isinstance(a, str) else a) for a in stored
            )
        assert ours_hashes == sorted(answers_hash(a) for a in [*answers, answers[0]])

        print(
            f"[{dialect}] submit x{N_BALLOTS} sequential: p50 {percentile_ms(latencies, 50):.2f} ms, "
            f"p99 {percentile_ms(latencies, 99):.2f} ms, {N_BALLOTS / sequential:.0f} ballots/s"
        )
        print(
            f"[{dialect}] submit x{N_BALLOTS} with {THREADS} threads: "
            f"p50 {percentile_ms(threaded_latencies, 50):.2f} ms, "
            f"p99 {percentile_ms(threaded_latencies, 99):.2f} ms, "
            f"{N_BALLOTS / threaded:.0f} ballots/s"
        )
        print(f"[{dialect}] resend of a stored ballot (already_stored): {resend_ms:.2f} ms")
        print(
            f"{dialect} submit vs raw executemany (1 transaction): ours {sequential:.2f}s, "
            f"peer {bulk:.2f}s, ratio peer/ours {bulk / sequential:.3f}x"
        )
        print(
            f"{dialect} submit vs raw INSERT+COMMIT per ballot: ours {sequential:.2f}s, "
            f"peer {single:.2f}s, ratio peer/ours {single / sequential:.2f}x"
        )
        bench_export(store, survey, dialect)
    finally:
        cleanup()


def bench_export(store: Store, survey: Survey, dialect: str) -> None:
    """responses() on N_EXPORT ballots (bulk-loaded) against json.loads + pd.DataFrame."""
    store.create_meeting(
        "export", kind="evaluation", title="export", instrument=survey.id, subjects=SUBJECTS
    )
    rng = random.Random(7)
    pool = [make_answers(rng) for _ in range(500)]
    now = datetime.now(UTC)
    rows = [
        {
            "submission_id": str(uuid.uuid4()),
            "meeting_id": "export",
            "instrument_id": survey.id,
            "instrument_version": survey.version,
            "device": "bulk",
            "stored_at": now,
            "status": "valid",
            "answers": pool[i % 500],
            "answers_hash": answers_hash(pool[i % 500]),
        }
        for i in range(N_EXPORT)
    ]
    from toolkit.store import schema

    with store.engine.begin() as connection:
        for start in range(0, len(rows), 10_000):
            connection.execute(sa.insert(schema.submissions), rows[start : start + 10_000])
    ours_times, peer_times = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        ours = store.responses("export")
        ours_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with store.engine.connect() as connection:
            raw = connection.exec_driver_sql(
                "SELECT submission_id, answers FROM submissions WHERE meeting_id = 'export' "
                "AND status = 'valid'"
            ).all()
        loaded = [json.loads(a) if isinstance(a, str) else a for _, a in raw]
        peer = pd.DataFrame(loaded)
        peer_times.append(time.perf_counter() - t0)
    assert len(ours) == len(peer) == N_EXPORT
    merged = ours.set_index("submission_id").loc[[r[0] for r in raw]]
    for column in ("wuye__overall", "juweihui__attitude", "role"):
        assert (merged[column].astype(str).to_numpy() == peer[column].astype(str).to_numpy()).all()
    assert (merged["building"].to_numpy(dtype=int) == peer["building"].to_numpy(dtype=int)).all()
    best, best_peer = min(ours_times), min(peer_times)
    print(
        f"{dialect} responses() of {N_EXPORT} ballots (typed, categorical) vs json.loads + "
        f"DataFrame (untyped): ours {best:.2f}s, peer {best_peer:.2f}s, "
        f"ratio peer/ours {best_peer / best:.2f}x"
    )


def main() -> None:
    survey = load_survey(ROOT / "surveys" / "evaluation.yaml")
    with tempfile.TemporaryDirectory() as workdir:
        bench_submit("sqlite", survey, Path(workdir))
    problem = pg_reachable()
    if problem is None:
        with tempfile.TemporaryDirectory() as workdir:
            bench_submit("postgresql", survey, Path(workdir))
    else:
        print(f"postgresql: skipped, {PG_URL} unreachable ({problem})")


if __name__ == "__main__":
    main()
