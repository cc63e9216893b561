"""Online ballots at scale: phones held on one ``sanhui serve --online`` worker, and submits.

Run by hand: ``python -m bench.bench_online [--phones 300] [--submitters 300] [--seconds 60]``.

1. **Connected phones** (protocol level): ``--phones`` phones open ``/vote`` on one worker, one
   after another, over the widget websocket (what Solara's front-end sends, without a browser:
   :class:`tests.serve_support.WidgetClient`), and stay connected. Printed: the worker's resident
   memory (RSS) before and with all of them connected, and how many reached the code screen.
2. **Submits** (store level): ``--submitters`` phones, each with its own one-time code, submit a
   whole ballot at random moments over ``--seconds`` through :class:`toolkit.collect.vote.
   OnlineBackend` (the path a phone's submit takes in the worker) on one shared store, from a thread
   pool as the worker's sessions would. Half of them resend their ballot (a phone that lost the
   acknowledgement) and a tenth try the code a second time with a new ballot. Printed: p50/p99
   latency, ballots lost, and ballots per code (must be 1).

3. **Failover** (``--failover-pg URL``): two workers on one PostgreSQL store, phones on worker A
   with a draft each, A killed with SIGKILL, every phone reconnecting to worker B with its own
   browser token: how many get their draft back.

Not measured here: the submit over the websocket protocol with all phones answering pages, and the
two workers behind nginx (the phones reconnect to B directly; see docs/online.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_serve import ROOT, Served, demo_copy, free_port

LIVE = "S01-C01-LIVE"


def start_online(db: Path) -> Served:
    port = free_port()
    import os

    env = dict(os.environ, SANHUI_ACCESS_CODE="246810", PYTHONPATH=str(ROOT))
    command = [
        *(sys.executable, "-m", "toolkit.cli", "serve", "--database", str(db)),
        *("--host", "127.0.0.1", "--port", str(port), "--sessions-per-client", "100000"),
        *("--meeting", LIVE, "--online", "--base-url", "https://vote.example.org"),
    ]
    served = Served("online", command, env, f"http://127.0.0.1:{port}", "/vote")
    served.wait_ready("/readyz")
    return served


def connected_phones(db: Path, n: int, ready: str) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tests.serve_support import WidgetClient

    served = start_online(db)
    clients: list[Any] = []
    try:
        served.settle()
        before = served.rss_mb()
        started = time.monotonic()
        for _ in range(n):
            client = WidgetClient(served.base, "/vote")
            client.wait(lambda c=client: c.find("Button", description=ready), timeout=60)
            clients.append(client)
        opened = time.monotonic() - started
        for client in clients:  # every page still alive
            client.pump(0.01)
        shown = sum(1 for c in clients if c.find("Button", description=ready))
        served.settle()
        return {
            "phones": n,
            f"showing {ready}": shown,
            "rss before MB": before,
            "rss with phones MB": served.rss_mb(),
            "MB per phone": (served.rss_mb() - before) / n,
            "open seconds": opened,
            "alive": float(served.process.poll() is None),
        }
    finally:
        for client in clients:
            client.close()
        served.stop()


def failover(pg_url: str, n: int) -> dict[str, float]:
    """Two workers on one PostgreSQL store; ``n`` phones on worker A tap an answer (a draft each),
    A is killed (SIGKILL), and each phone reconnects to worker B with its own cookies."""
    import os
    import signal

    sys.path.insert(0, str(ROOT))
    from tests.serve_support import WidgetClient
    from toolkit.demo import build_demo
    from toolkit.store import Store

    with Store.open(pg_url) as store:
        if store.meetings().empty:
            build_demo(store)
        now = datetime.now(UTC)
        store.set_online_window(LIVE, now - timedelta(hours=1), now + timedelta(hours=1))
    workers = []
    for _ in range(2):
        port = free_port()
        env = dict(os.environ, SANHUI_ACCESS_CODE="246810", PYTHONPATH=str(ROOT))
        command = [
            *(sys.executable, "-m", "toolkit.cli", "serve", "--database", pg_url),
            *("--host", "127.0.0.1", "--port", str(port), "--sessions-per-client", "100000"),
            *("--meeting", LIVE, "--online", "--base-url", "https://vote.example.org"),
        ]
        worker = Served(f"worker{port}", command, env, f"http://127.0.0.1:{port}", "/vote")
        worker.wait_ready("/readyz")
        workers.append(worker)
    a, b = workers
    phones = []
    try:
        for _ in range(n):
            phone = WidgetClient(a.base, "/vote")
            phone.wait(lambda p=phone: p.find("Button", description="满意"), timeout=60)
            first = phone.find("Button", description="满意")[0]
            phone.click(first)
            phone.wait(lambda p=phone: "已保存" in p.text(), timeout=30)
            phones.append(phone)
        saved = sum(1 for p in phones if "已保存" in p.text())
        rss_a = a.rss_mb()
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        started = time.monotonic()
        restored = 0
        for phone in phones:
            phone.close()
            again = WidgetClient(b.base, "/vote", cookies=phone.cookies)
            if again.wait(lambda p=again: "已恢复" in p.text() and p.selected(), timeout=60):
                restored += 1
            again.close()
        return {
            "phones on A": n,
            "drafts saved": saved,
            "restored on B": restored,
            "reconnect seconds (all)": time.monotonic() - started,
            "worker A MB": rss_a,
        }
    finally:
        for worker in workers:
            worker.stop()


def _open_window(db: Path) -> None:
    from toolkit.store import Store

    with Store.open(db) as store:
        now = datetime.now(UTC)
        store.set_online_window(LIVE, now - timedelta(hours=1), now + timedelta(hours=1))


def submits(db: Path, n: int, seconds: float) -> dict[str, float]:
    from toolkit.collect.vote import OnlineBackend
    from toolkit.store import Store

    store = Store.open(db)
    now = datetime.now(UTC)
    store.set_online_window(LIVE, now - timedelta(hours=1), now + timedelta(hours=1))
    codes = store.issue_ballot_codes(LIVE, n)
    survey_answers = _answers(store)
    backend = OnlineBackend(store)
    latencies: list[float] = []
    acknowledged: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)
    delays = sorted(rng.uniform(0, seconds) for _ in range(n))
    t0 = time.monotonic()

    def phone(i: int) -> None:
        time.sleep(max(0.0, delays[i] - (time.monotonic() - t0)))
        ballot = {
            "submission_id": str(uuid.uuid4()),
            "meeting_id": LIVE,
            "answers": survey_answers,
            "device": None,
            "started_at": datetime.now(UTC) - timedelta(minutes=3),
            "submitted_at": datetime.now(UTC),
            "paradata": {},
            "ballot_code": codes[i],
        }
        started = time.perf_counter()
        status = backend.submit_ballot(**ballot)
        spent = time.perf_counter() - started
        with lock:
            latencies.append(spent)
            if status == "stored":
                acknowledged.append(str(ballot["submission_id"]))
        if i % 2 == 0:  # the acknowledgement was lost: the phone sends the same ballot again
            assert backend.submit_ballot(**ballot) == "already_stored"
        if i % 10 == 0:  # the same code, a new ballot: refused
            try:
                backend.submit_ballot(**dict(ballot, submission_id=str(uuid.uuid4())))
                raise AssertionError("a used code voted twice")
            except AssertionError:
                raise
            except Exception:
                pass

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(phone, range(n)))
    frame = store.responses(LIVE, channel_column=True)
    stored = set(frame.loc[frame["channel"] == "online", "submission_id"])
    store.close()
    ordered = sorted(latencies)
    return {
        "submitters": n,
        "seconds": seconds,
        "p50 ms": 1000 * statistics.median(ordered),
        "p99 ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "max ms": 1000 * ordered[-1],
        "acknowledged": len(acknowledged),
        "lost": len(set(acknowledged) - stored),
        "online ballots stored": len(stored),
        "ballots per code (max)": 1.0 if len(stored) == len(acknowledged) else float("nan"),
    }


def _answers(store: Any) -> dict[str, Any]:
    items = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
    answers: dict[str, Any] = {}
    for subject in ("juweihui", "wuye"):
        for item in (*items, "overall"):
            answers[f"{subject}__{item}"] = "satisfied"
    answers["rectify"] = ["slow_response"]
    return answers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=300)
    parser.add_argument("--submitters", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-phones", action="store_true")
    parser.add_argument(
        "--only-ratings", action="store_true", help="only phones on the ratings page"
    )
    parser.add_argument("--failover-pg", help="PostgreSQL URL of an empty database: run failover")
    parser.add_argument("--failover-phones", type=int, default=30)
    args = parser.parse_args(argv)
    if args.failover_pg:
        print(f"failover: {failover(args.failover_pg, args.failover_phones)}", flush=True)
        return
    if not args.only_ratings:
        with tempfile.TemporaryDirectory() as tmp:
            db = demo_copy(Path(tmp))
            print(f"submits: {submits(db, args.submitters, args.seconds)}", flush=True)
            if not args.skip_phones:  # phones on the code screen (codes were issued above)
                found = connected_phones(db, args.phones, "开始填写")
                print(f"connected phones, code screen: {found}", flush=True)
    if not args.skip_phones:
        with tempfile.TemporaryDirectory() as tmp:  # no codes: phones on the first ratings page
            fresh = demo_copy(Path(tmp))
            _open_window(fresh)
            found = connected_phones(fresh, args.phones, "满意")
            print(f"connected phones, ratings page: {found}", flush=True)


if __name__ == "__main__":
    main()
