"""Benchmark: submit latency with 30 tablets tapping without pause on SQLite, single writer vs direct.

30 tablet threads share one :class:`~toolkit.store.Store` on a SQLite file (as the meeting server
shares one), each submitting ballots back to back; before each ballot a tablet saves ``--drafts``
drafts (one per tapped answer, under its own session key), and one ballot in ten is sent again with
the same UUID (a lost acknowledgement), which must come back ``already_stored``. Two modes, each
on fresh files, run in alternating rounds in the same process (so that both see the same load
from whatever else the machine runs):

- **direct**: ``Store.open(path, single_writer=False)``: each submit takes the store's write lock
  and commits its own transaction (one WAL fsync per ballot), the behaviour before the writer;
- **writer**: ``Store.open(path)``: submits go through :class:`toolkit.store.writer.SingleWriter`,
  which commits the ballots waiting at the same moment together.

Lost = acknowledged but not stored after reopening; duplicated = stored twice or stored without an
acknowledgement. Prints, per mode over all its rounds, p50/p99 submit latency and throughput, the
writer/direct ratios, and the machine's load average (other processes inflate the tail).
Target: p99 <= 100 ms, 0 lost, 0 duplicated.

Run: ``.venv/bin/python -m bench.bench_submit [--rounds 4] [--seconds 5] [--tablets 30] [--drafts 0]``
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_concurrency import MEETING, _setup, _stored
from bench.bench_store import make_answers
from toolkit.store import Store, Submission


def _tablets(store: Store, tablets: int, seconds: float, drafts: int) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    result: dict[str, Any] = {"latencies": [], "acked": [], "resends": 0, "resend_ok": 0}
    result["errors"] = 0
    lock = threading.Lock()
    go = threading.Barrier(tablets)

    def tablet(k: int) -> None:
        rng = random.Random(k)
        key = uuid.uuid4().hex  # the browser's session token
        mine: list[float] = []
        ids: list[str] = []
        resends = resend_ok = errors = 0
        go.wait()
        while time.monotonic() < deadline:
            answers = make_answers(rng)
            ballot = Submission(str(uuid.uuid4()), MEETING, answers, device=f"T{k:02d}")
            for tap in range(drafts):
                partial = dict(list(answers.items())[: tap + 1])
                store.save_draft(key, ballot.uuid, partial, meeting_id=MEETING)
            start = time.perf_counter()
            try:
                acknowledged = store.submit(ballot)
            except Exception:
                errors += 1  # not acknowledged: the tablet keeps the ballot and retries
                continue
            mine.append(time.perf_counter() - start)
            ids.append(acknowledged.uuid)
            if rng.random() < 0.1:
                resends += 1
                resend_ok += store.submit(ballot).status == "already_stored"
        with lock:
            result["latencies"] += mine
            result["acked"] += ids
            result["resends"] += resends
            result["resend_ok"] += resend_ok
            result["errors"] += errors

    threads = [threading.Thread(target=tablet, args=(k,)) for k in range(tablets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def run(*, single_writer: bool, seconds: float, tablets: int, drafts: int) -> dict[str, Any]:
    """One round of one mode on a fresh file: latencies (ms), and lost / duplicated counts."""
    folder = Path(tempfile.mkdtemp(prefix="sanhui-bench-submit-"))
    path = folder / "meeting.db"
    with Store.open(path, single_writer=single_writer) as store:
        _setup(store)
        result = _tablets(store, tablets, seconds, drafts)
    with Store.open(path) as store:  # reopened: what a restarted server would see
        stored = _stored(store)
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    acked = result["acked"]
    return {
        "latencies": [x * 1000 for x in result["latencies"]],
        "n": len(acked),
        "lost": len(set(acked) - set(stored)),
        "duplicated": (len(stored) - len(set(stored))) + len(set(stored) - set(acked)),
        "errors": result["errors"],
        "resends": result["resends"],
        "resend_ok": result["resend_ok"],
    }


def _summary(label: str, rounds: list[dict[str, Any]], seconds: float) -> dict[str, float]:
    latencies = np.concatenate([np.array(r["latencies"]) for r in rounds])
    p50, p99 = np.percentile(latencies, [50, 99]) if len(latencies) else (float("nan"),) * 2
    total = {k: sum(r[k] for r in rounds) for k in ("n", "lost", "duplicated", "errors")}
    resends = sum(r["resends"] for r in rounds)
    resend_ok = sum(r["resend_ok"] for r in rounds)
    rate = total["n"] / (seconds * len(rounds))
    print(
        f"{label:>6}: {total['n']:,} ballots in {len(rounds)} x {seconds:.0f}s ({rate:,.0f}/s), "
        f"submit p50 {p50:.1f} ms, p99 {p99:.1f} ms; resends {resends} ({resend_ok} "
        f"already_stored); lost {total['lost']}, duplicated {total['duplicated']}, errors "
        f"{total['errors']}",
        flush=True,
    )
    if total["lost"] or total["duplicated"] or resend_ok != resends:
        raise AssertionError(f"{label}: ballots lost or duplicated")
    return {"p50": float(p50), "p99": float(p99), "rate": rate, **total}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_submit", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per mode")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--tablets", type=int, default=30)
    parser.add_argument("--drafts", type=int, default=0, help="draft saves before each ballot")
    args = parser.parse_args(argv)
    print(
        f"SQLite, {args.tablets} tablets tapping without pause, {args.drafts} draft saves per "
        f"ballot; load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    options = {"seconds": args.seconds, "tablets": args.tablets, "drafts": args.drafts}
    rounds: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for k in range(args.rounds):
        for single_writer in (False, True) if k % 2 == 0 else (True, False):
            rounds[single_writer].append(run(single_writer=single_writer, **options))
    direct = _summary("direct", rounds[False], args.seconds)
    writer = _summary("writer", rounds[True], args.seconds)
    print(
        f"writer/direct: p50 x{writer['p50'] / direct['p50']:.2f}, "
        f"p99 x{writer['p99'] / direct['p99']:.2f}, throughput x{writer['rate'] / direct['rate']:.2f}"
        f"; target p99 <= 100 ms: {'met' if writer['p99'] <= 100 else 'MISSED'}; "
        f"lost {writer['lost']}, duplicated {writer['duplicated']}; load average after: "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
