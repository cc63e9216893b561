"""The ballots of 30 tablets submitting together, through the form and the store.

``.venv/bin/python -m bench.bench_collect [--seconds 60] [--tablets 30]`` (the default, 20 s, keeps
``python -m bench`` short; the figures in reports use 60 s). The served pages themselves (time to the
first tappable choice, server CPU and memory per tablet, against Voilà): ``bench/bench_serve.py``.

30 simulated tablets: 30 threads, each driving a real :class:`SurveyForm` with a
:class:`StoreBackend` on its own store (own connections) on one SQLite file (taps through the
widget buttons, a draft saved on every answer, review, submit, reset). Twice: *realistic*, a
person's pace, a seeded random pause of 1-3 s before every tap (a ballot takes about a minute), and
*saturated*, no pause at all (the worst case, far beyond 30 people). Submit and draft-save latency
p50/p99, ballots acknowledged vs stored, lost and duplicated (must be 0). Peer: the same 30 threads
calling ``store.submit`` directly, without the form layer.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class TimedBackend:
    """A :class:`StoreBackend` that records how long each draft save takes."""

    def __init__(self, backend: Any, sink: list[float], lock: threading.Lock) -> None:
        self.backend, self.sink, self.lock = backend, sink, lock

    def save_draft(self, **kwargs: Any) -> None:
        t0 = time.perf_counter()
        self.backend.save_draft(**kwargs)
        elapsed = time.perf_counter() - t0
        with self.lock:
            self.sink.append(elapsed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


def tablets(
    db: Path,
    *,
    n: int,
    seconds: float,
    mode: str,
    think: tuple[float, float] = (1.0, 3.0),
    seed: int = 0,
) -> dict:
    """``n`` tablets for ``seconds``. ``mode``: ``"realistic"`` (a person: a pause of ``think``
    seconds, seeded, before every tap), ``"saturated"`` (no pause) or ``"raw"`` (``store.submit``
    without the form, no pause)."""
    from toolkit.collect.backend import StoreBackend
    from toolkit.collect.form import Subject, SurveyForm
    from toolkit.demo import LIVE_MEETING
    from toolkit.instrument.model import Text
    from toolkit.store import Store, Submission

    prefix = {"realistic": "H", "saturated": "B", "raw": "R"}[mode]
    acked: list[str] = []
    latencies: list[float] = []
    drafts: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(n)

    def answers() -> dict:
        a = {f"{s}__{i}": "satisfied" for s in ("juweihui", "wuye") for i in ITEMS}
        return a | {"project_elevator": "no"}

    def run(index: int) -> None:
        import uuid

        rng = random.Random(seed * 1000 + index)

        def pause() -> None:  # a person reads, thinks and taps
            if mode == "realistic":
                time.sleep(rng.uniform(*think))

        store = Store.open(db)
        record = store.meeting(LIVE_MEETING)
        survey = store.instrument(record.instrument_id, record.instrument_version)
        subjects = [Subject(s.id, Text(s.label_zh, s.label_en)) for s in record.subjects]
        form = SurveyForm(
            survey,
            store=TimedBackend(StoreBackend(store), drafts, lock),
            meeting=LIVE_MEETING,
            subjects=subjects,
            device=f"{prefix}{index}",
            draft_key=f"bench-{prefix}{index}",
        )
        start.wait()
        if mode == "realistic":  # tablets do not start in step
            time.sleep(rng.uniform(0, think[1]))
        while time.monotonic() < stop_at:
            if mode == "raw":
                sid = str(uuid.uuid4())
                t0 = time.perf_counter()
                try:
                    store.submit(
                        Submission(
                            uuid=sid,
                            meeting_id=LIVE_MEETING,
                            answers=answers(),
                            device=f"R{index}",
                        )
                    )
                except Exception:
                    with lock:
                        failures[0] += 1
                    continue
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    acked.append(sid)
                continue
            for subject in ("juweihui", "wuye"):
                for item in ITEMS:
                    pause()
                    form.controls[f"{subject}__{item}"].buttons[0].click()
                pause()
                form.next()
            while form.screen == "page":
                pause()
                form.next()
            pause()  # reads the review page
            sid = form.respondent.submission_id
            while True:  # the resident taps 提交 again after a failure
                t0 = time.perf_counter()
                form.buttons["submit"].click()
                elapsed = time.perf_counter() - t0
                if form.screen == "thanks":
                    break
                with lock:
                    failures[0] += 1
                sid = form.respondent.submission_id
            with lock:
                latencies.append(elapsed)
                acked.append(sid)
            form.buttons["next_respondent"].click()
        store.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Store.open(db) as store:
        stored = store.responses(LIVE_MEETING, include_void=True)
    mine = stored[stored["device"].astype(str).str.startswith(prefix)]
    ids = [str(s) for s in mine["submission_id"]]
    nan = float("nan")
    return {
        "acked": len(acked),
        "stored": len(ids),
        "lost": len(set(acked) - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "unacked_stored": len(set(ids) - set(acked)),
        "failures": failures[0],
        "p50": percentile(latencies, 0.5) if latencies else nan,
        "p99": percentile(latencies, 0.99) if latencies else nan,
        "drafts": len(drafts),
        "draft_p50": percentile(drafts, 0.5) if drafts else nan,
        "draft_p99": percentile(drafts, 0.99) if drafts else nan,
        "rate": len(acked) / seconds,
    }


def report(label: str, r: dict, tablets: int, seconds: float) -> None:
    print(
        f"{label}, {tablets} tablets × {seconds:.0f}s: {r['acked']} ballots acknowledged, "
        f"{r['stored']} stored, lost {r['lost']}, duplicated {r['duplicated']}, "
        f"stored-but-unacknowledged {r['unacked_stored']}, failed taps {r['failures']}; "
        f"submit p50 {1000 * r['p50']:.0f} ms, p99 {1000 * r['p99']:.0f} ms; "
        f"{r['drafts']} draft saves, p50 {1000 * r['draft_p50']:.1f} ms, "
        f"p99 {1000 * r['draft_p99']:.1f} ms",
        flush=True,
    )
    if r["lost"] or r["duplicated"] or r["unacked_stored"]:
        raise AssertionError(f"{label}: ballots lost or duplicated")


ITEMS = (
    "attitude",
    "efficiency",
    "transparency",
    "responsiveness",
    "integrity",
    "results",
    "overall",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_collect", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per load test (full: 60)")
    parser.add_argument("--tablets", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from toolkit.demo import build_demo
    from toolkit.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="sanhui-bench-collect-"))
    db = tmp / "demo.db"
    with Store.open(db) as store:
        build_demo(store)
    n, seconds = args.tablets, args.seconds
    human = tablets(db, n=n, seconds=seconds, mode="realistic", seed=args.seed)
    report("realistic (a tap every 1-3 s) through SurveyForm+StoreBackend", human, n, seconds)
    busy = tablets(db, n=n, seconds=seconds, mode="saturated", seed=args.seed)
    report("saturated (no pause) through SurveyForm+StoreBackend", busy, n, seconds)
    raw = tablets(db, n=n, seconds=min(seconds, 20.0), mode="raw", seed=args.seed)
    print(
        f"peer store.submit without the form ({n} threads, no pause): "
        f"{raw['acked']} acknowledged, {raw['stored']} stored, lost {raw['lost']}, "
        f"duplicated {raw['duplicated']}; p50 {1000 * raw['p50']:.0f} ms, "
        f"p99 {1000 * raw['p99']:.0f} ms"
    )
    ratio = raw["p99"] / busy["p99"] if busy["p99"] else float("nan")
    print(
        f"saturated submit p99: ours {busy['p99']:.3f}s, peer {raw['p99']:.3f}s, "
        f"ratio peer/ours {ratio:.1f}x"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
