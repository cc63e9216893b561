"""Benchmark of concurrent ballot submission: no ballot lost or doubled under load.

- SQLite: 30 simulated tablets (threads) submitting to one store file through :meth:`Store.submit`
  (validation, idempotency check, one durable transaction per ballot: WAL, ``synchronous=FULL``);
- PostgreSQL: several writer processes (``--writers``, each with ``--threads`` threads) on one
  database.

Every tablet resends one ballot in ten (same UUID, same answers, as a tablet does when an
acknowledgement is lost), which must come back ``already_stored``. At the end the stored ballots are
compared with the acknowledged ones: lost = acknowledged but not stored, duplicated = stored more
than once or stored without acknowledgement. Prints submit latency p50/p99 and throughput.

Run: ``.venv/bin/python -m bench.bench_concurrency [--seconds 60] [--writers 4] [--threads 4]``
(default 20 s per run, to keep ``python -m bench`` short; reported figures use 60 s).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from bench.bench_store import make_answers
from toolkit.instrument.loader import load_survey
from toolkit.store import Store, Submission
from toolkit.store import schema as t

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SANHUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SUBJECTS = (
    {"id": "juweihui", "label_zh": "居委会", "label_en": "Residents' committee"},
    {"id": "wuye", "label_zh": "物业公司", "label_en": "Property management"},
)
MEETING = "bench-concurrency"


def _setup(store: Store) -> None:
    survey = load_survey(ROOT / "surveys" / "evaluation.yaml")
    store.create_meeting(
        MEETING, kind="evaluation", title="并发测试评议会", instrument=survey, subjects=SUBJECTS
    )


def _tablets(store: Store, threads: int, seconds: float, seed: int) -> dict[str, Any]:
    """``threads`` tablets submitting for ``seconds``; latencies, acknowledged ids, resends."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    acked: list[str] = []
    outcome = {"resends": 0, "resend_ok": 0, "errors": 0}
    lock = threading.Lock()

    def tablet(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        mine: list[float] = []
        ids: list[str] = []
        resends = resend_ok = errors = 0
        while time.monotonic() < deadline:
            ballot = Submission(str(uuid.uuid4()), MEETING, make_answers(rng), device=f"T{k:02d}")
            start = time.perf_counter()
            try:
                result = store.submit(ballot)
            except Exception:
                errors += 1  # not acknowledged: the tablet would keep it and retry
                continue
            mine.append(time.perf_counter() - start)
            ids.append(result.uuid)
            if rng.random() < 0.1:  # the acknowledgement got lost: the tablet sends it again
                resends += 1
                resend_ok += store.submit(ballot).status == "already_stored"
        with lock:
            latencies.extend(mine)
            acked.extend(ids)
            outcome["resends"] += resends
            outcome["resend_ok"] += resend_ok
            outcome["errors"] += errors

    workers = [threading.Thread(target=tablet, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"latencies": latencies, "acked": acked, **outcome}


def _pg_writer(schema: str, threads: int, seconds: float, seed: int, queue: Any) -> None:
    store = Store.open(PG_URL, schema=schema)
    try:
        queue.put(_tablets(store, threads, seconds, seed))
    finally:
        store.close()


def _stored(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(t.submissions.c.submission_id)).scalars().all())


def _report(label: str, result: dict[str, Any], stored: list[str], seconds: float) -> None:
    acked = result["acked"]
    lat = np.array(result["latencies"]) * 1000
    lost = len(set(acked) - set(stored))
    duplicated = (len(stored) - len(set(stored))) + len(set(stored) - set(acked))
    p50, p99 = np.percentile(lat, [50, 99]) if len(lat) else (float("nan"),) * 2
    print(
        f"{label}: {len(acked):,} ballots acknowledged in {seconds:.0f}s "
        f"({len(acked) / seconds:,.0f}/s), submit p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"resends {result['resends']:,} ({result['resend_ok']:,} already_stored); "
        f"lost {lost}, duplicated {duplicated}, errors {result['errors']}",
        flush=True,
    )
    if lost or duplicated or result["resend_ok"] != result["resends"]:
        raise AssertionError(f"{label}: ballots lost or duplicated")


def run_sqlite(seconds: float, threads: int = 30) -> None:
    path = Path(tempfile.mkdtemp(prefix="sanhui-bench-conc-")) / "meeting.db"
    with Store.open(path) as store:
        _setup(store)
        result = _tablets(store, threads, seconds, seed=1)
    with Store.open(path) as store:  # reopened: what a restarted server would see
        stored = _stored(store)
    _report(f"sqlite, {threads} tablet threads", result, stored, seconds)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_postgres(seconds: float, writers: int, threads: int) -> None:
    schema = f"sanhui_bench_{uuid.uuid4().hex[:8]}"
    store = Store.open(PG_URL, schema=schema)
    try:
        _setup(store)
        context = mp.get_context("spawn")
        queue = context.Queue()
        processes = [
            context.Process(target=_pg_writer, args=(schema, threads, seconds, k, queue))
            for k in range(writers)
        ]
        for process in processes:
            process.start()
        parts = [queue.get(timeout=seconds + 120) for _ in processes]
        for process in processes:
            process.join()
        merged: dict[str, Any] = {"latencies": [], "acked": []}
        for key in ("resends", "resend_ok", "errors"):
            merged[key] = sum(p[key] for p in parts)
        for part in parts:
            merged["latencies"] += part["latencies"]
            merged["acked"] += part["acked"]
        _report(
            f"postgresql, {writers} writer processes x {threads} threads",
            merged,
            _stored(store),
            seconds,
        )
    finally:
        store.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_concurrency", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="per run (full: 60)")
    parser.add_argument("--tablets", type=int, default=30, help="SQLite tablet threads")
    parser.add_argument("--writers", type=int, default=4, help="PostgreSQL writer processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per writer process")
    args = parser.parse_args(argv)
    run_sqlite(args.seconds, args.tablets)
    if _pg_reachable():
        run_postgres(args.seconds, args.writers, args.threads)
    else:
        print(f"postgresql: skipped, {PG_URL} unreachable", flush=True)


if __name__ == "__main__":
    main()
