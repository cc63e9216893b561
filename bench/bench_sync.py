"""Benchmark of toolkit.store.sync: a synthetic city's ballots from a site file into PostgreSQL.

1. A synthetic city (:func:`toolkit.synth.make_large`: meetings of 16–50 raters, four per community,
   twenty communities per street; 1,000,000 ballots ≈ 6,000 communities × 4 meetings × ~40) is written
   to a SQLite site file by :func:`bulk_load`, a bulk loader **for synthetic and benchmark data
   only**: it inserts rows in large transactions instead of calling :meth:`Store.submit` once per
   ballot. It still checks the answers, vectorised: every answer column's values must be codes of
   its variable (不了解 only where the item offers it), ratings only for the meeting's subjects,
   and ``check_answers`` runs on a random sample of 2,000 ballots; entry mode is ``paper`` exactly
   when a required rating is blank (the instrument's only required question).
2. :func:`toolkit.store.sync.sync` copies the file into a fresh PostgreSQL schema (ours). Peer: the
   bare floor, psycopg ``COPY`` of the same submission rows into a plain table (no lookups, no
   checks, one transaction).
3. Satisfaction rates of the four subjects' ``overall`` item by street over the whole city. Ours:
   :meth:`Store.rating_counts` (counted inside PostgreSQL, ``answers->>'x'`` by street) then
   :func:`toolkit.analysis.satisfaction_rates_from_counts`; peer: :meth:`Store.responses` of the
   whole city then :func:`toolkit.analysis.satisfaction_rates` with ``by="street"``. Both must give
   the same table (compared exactly, frame for frame).

Run: ``.venv/bin/python -m bench.bench_sync [--ballots N] [--batch-size B]``. The default, 100,000
ballots, keeps ``python -m bench`` short; the full city is ``--ballots 1000000``.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from toolkit.analysis import satisfaction_rates, satisfaction_rates_from_counts
from toolkit.errors import DataError
from toolkit.instrument.answers import check_answers
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import DONT_KNOW, Survey
from toolkit.store import Store, answers_hash
from toolkit.store import schema as t
from toolkit.store.sync import sync
from toolkit.synth import ballots_answers, make_large, make_large_meetings
from toolkit.synth._common import RATING_ITEMS, SUBJECTS

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("SANHUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SUBJECT_LABELS = {
    "juweihui": "居委会",
    "wuye": "物业公司",
    "yeweihui": "业委会",
    "contractor": "施工单位",
}
ITEMS = [f"{s}__overall" for s in SUBJECTS]
_CHUNK = 50_000


def _allowed_codes(survey: Survey) -> dict[str, set[Any]]:
    """Variable name → accepted values (choice variables only), over every subject."""
    allowed: dict[str, set[Any]] = {}
    for variable in survey.variables(subjects=list(SUBJECTS)):
        question = variable.question
        if question.type not in ("single", "grid", "multiple"):
            continue
        codes = set(survey.scale(question).values)
        if variable.item is not None and variable.item.allow_dont_know:
            codes.add(DONT_KNOW)
        allowed[variable.name] = codes
    return allowed


def check_ballots(survey: Survey, meetings: pd.DataFrame, ballots: pd.DataFrame) -> np.ndarray:
    """The vectorised answer checks of :func:`bulk_load`; returns the entry mode of each ballot."""
    allowed = _allowed_codes(survey)
    for name, codes in allowed.items():
        if name not in ballots:
            continue
        column = ballots[name]
        if isinstance(column.dtype, pd.CategoricalDtype):  # the categories in use
            used = np.unique(column.cat.codes.to_numpy())
            values = column.cat.categories[used[used >= 0]]
        else:
            values = pd.Index(column.dropna().unique())
        if name == "rectify":
            values = pd.Index({code for v in values for code in str(v).split(";")})
        bad = sorted(set(map(str, values)) - {str(c) for c in codes})
        if bad:
            raise DataError(f"column `{name}` holds values that are not codes: {bad[:5]}.")
    subjects = meetings.set_index("meeting_id")["subjects"]
    has = {
        s: ballots["meeting_id"].map(subjects.map(lambda ids, s=s: s in ids)).to_numpy(bool)
        for s in SUBJECTS
    }
    blank_required = np.zeros(len(ballots), dtype=bool)
    for s in SUBJECTS:
        for item in RATING_ITEMS:
            missing = ballots[f"{s}__{item}"].isna().to_numpy()
            if (~missing & ~has[s]).any():
                raise DataError(f"`{s}__{item}` is answered at a meeting without subject `{s}`.")
            blank_required |= missing & has[s]
    mode = np.where(blank_required, "paper", "tablet")
    picks = sorted(random.Random(0).sample(range(len(ballots)), min(2000, len(ballots))))
    answers = ballots_answers(ballots.iloc[picks])
    for i, row_answers in zip(picks, answers, strict=True):
        meeting_subjects = tuple(subjects[str(ballots["meeting_id"].iat[i])])
        strict = check_answers(survey, row_answers, subjects=meeting_subjects)
        lenient = check_answers(survey, row_answers, subjects=meeting_subjects, require=False)
        if lenient or (not strict) != (mode[i] == "tablet"):
            raise DataError(f"ballot row {i} fails the instrument's checks: {(lenient or strict)}")
    return mode


def bulk_load(path: Path, survey: Survey, meetings: pd.DataFrame, ballots: pd.DataFrame) -> Store:
    """Write synthetic meetings and ballots into a new SQLite site file, in big transactions.

    For synthetic and benchmark data only: real ballots go through :meth:`Store.submit`.
    """
    mode = check_ballots(survey, meetings, ballots)
    store = Store.open(path)
    ref = store.add_instrument(survey)
    now = datetime.now(UTC)
    meeting_rows = [
        {
            "meeting_id": m["meeting_id"],
            "kind": "evaluation",
            "title": m["title"],
            "community": m["community_id"],
            "street": m["street_id"],
            "district": "合成区",
            "date": pd.Timestamp(m["date"]).date(),
            "instrument_id": ref.id,
            "instrument_version": ref.version,
            "subjects": [
                {"id": s, "label_zh": SUBJECT_LABELS[s], "label_en": None} for s in m["subjects"]
            ],
            "ballots_issued": int(m["ballots_issued"]),
            "members": int(m["members"]),
            "status": "closed",
            "created_at": now,
        }
        for m in meetings.to_dict("records")
    ]
    with store.engine.begin() as connection:
        connection.execute(sa.insert(t.meetings), meeting_rows)
    started = ballots["started_at"].dt.tz_convert("UTC").dt.floor("us").dt.to_pydatetime()
    submitted = ballots["submitted_at"].dt.tz_convert("UTC").dt.floor("us").dt.to_pydatetime()
    ids = ballots["submission_id"].astype(str).to_numpy()
    meeting_ids = ballots["meeting_id"].astype(str).to_numpy()
    devices = ballots["device"].astype(object).to_numpy()
    status = ballots["status"].astype(str).to_numpy()
    for start in range(0, len(ballots), _CHUNK):
        stop = min(start + _CHUNK, len(ballots))
        answers = ballots_answers(ballots.iloc[start:stop])
        rows = [
            {
                "submission_id": ids[i],
                "meeting_id": meeting_ids[i],
                "instrument_id": ref.id,
                "instrument_version": ref.version,
                "device": devices[i],
                "started_at": started[i],
                "submitted_at": submitted[i],
                "stored_at": submitted[i],
                "status": status[i],
                "void_reason": "作废：填写不规范（合成数据）" if status[i] == "void" else None,
                "answers": a,
                "paradata": None,
                "answers_hash": answers_hash(a),
                "mode": mode[i],
            }
            for i, a in zip(range(start, stop), answers, strict=True)
        ]
        with store.engine.begin() as connection:
            connection.execute(sa.insert(t.submissions), rows)
    return store


def rates_by_street_counts(store: Store, items: list[str]) -> pd.DataFrame:
    """Ours: :meth:`Store.rating_counts` (the counting pushed into the database: each ballot's
    answers extracted once, counted by street and answer combination) then
    :func:`toolkit.analysis.satisfaction_rates_from_counts`."""
    counts = store.rating_counts(by="street", items=["overall"])
    return satisfaction_rates_from_counts(counts, items=items, by="street")


def rates_by_street_pandas(store: Store, items: list[str]) -> pd.DataFrame:
    responses = store.responses()
    return satisfaction_rates(responses, items=items, by="street")


def copy_floor(site: Path, schema: str) -> float:
    """The peer: psycopg COPY of the raw submission rows into a plain table (no checks)."""
    import sqlite3

    import psycopg

    start = time.perf_counter()
    with (
        sqlite3.connect(site) as source,
        psycopg.connect(PG_URL.replace("+psycopg", ""), options=f"-csearch_path={schema}") as pg,
    ):
        pg.execute("CREATE TABLE peer_submissions (LIKE submissions)")
        columns = [c.name for c in t.submissions.columns]
        cursor = source.execute(f"SELECT {', '.join(columns)} FROM submissions")
        with pg.cursor().copy(f"COPY peer_submissions ({', '.join(columns)}) FROM STDIN") as copy:
            while rows := cursor.fetchmany(50_000):
                for row in rows:
                    copy.write_row(row)
        pg.commit()
    return time.perf_counter() - start


def _drop(schema: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def _compare(ours: pd.DataFrame, peer: pd.DataFrame) -> float:
    """Raises unless both paths give the same table; returns the largest difference (0)."""
    pd.testing.assert_frame_equal(ours, peer, check_exact=True)
    diff = 0.0
    for column in ("estimate", "ci_low", "ci_high"):
        left, right = ours[column].to_numpy(float), peer[column].to_numpy(float)
        both = ~(np.isnan(left) & np.isnan(right))
        diff = max(diff, float(np.max(np.abs(left[both] - right[both]), initial=0.0)))
    return diff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sync", description=__doc__)
    parser.add_argument("--ballots", type=int, default=100_000, help="full city: 1000000")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-peer", action="store_true", help="skip the slow pandas rates path")
    args = parser.parse_args(argv)
    survey = load_survey(ROOT / "surveys" / "evaluation.yaml")
    workdir = Path(tempfile.mkdtemp(prefix="sanhui-bench-sync-"))
    site = workdir / "site.db"

    start = time.perf_counter()
    meetings = make_large_meetings(n_ballots=args.ballots, seed=args.seed)
    ballots = make_large(n_ballots=args.ballots, seed=args.seed)
    made = time.perf_counter() - start
    n_comm = meetings["community_id"].nunique()
    n_streets = meetings["street_id"].nunique()
    print(
        f"city: {len(ballots):,} ballots, {len(meetings):,} meetings, {n_comm:,} communities, "
        f"{n_streets:,} streets (made in {made:.1f}s)",
        flush=True,
    )
    start = time.perf_counter()
    bulk_load(site, survey, meetings, ballots).close()
    loaded = time.perf_counter() - start
    size = site.stat().st_size / 2**20
    print(
        f"bulk load into SQLite: {loaded:.1f}s ({len(ballots) / loaded:,.0f} ballots/s), "
        f"{size:,.0f} MiB",
        flush=True,
    )
    del ballots

    schema = f"sanhui_bench_{uuid.uuid4().hex[:8]}"
    try:
        city = Store.open(PG_URL, schema=schema)
        start = time.perf_counter()
        report = sync(site, city, progress=False, batch_size=args.batch_size)
        ours = time.perf_counter() - start
        n = report.counts("submissions")["new"]
        print(report.summary(), flush=True)
        start = time.perf_counter()
        again = sync(site, city, progress=False, batch_size=args.batch_size)
        rerun = time.perf_counter() - start
        assert again.copied == 0 and again.conflicts == 0
        peer = copy_floor(site, schema)
        print(
            f"sync SQLite->PostgreSQL ({n:,} ballots): ours {ours:.2f}s "
            f"({n / ours:,.0f} ballots/s), peer (raw COPY, no checks) {peer:.2f}s, "
            f"ratio peer/ours {peer / ours:.2f}x; idempotent rerun {rerun:.2f}s",
            flush=True,
        )
        with city.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            count_rates = rates_by_street_counts(city, ITEMS)
            timings.append(time.perf_counter() - start)
        ours_rates = min(timings)
        if args.skip_peer:
            print(
                f"rates by street ({n_streets} streets x {len(ITEMS)} items, {n:,} ballots): "
                f"ours (rating_counts + satisfaction_rates_from_counts) {ours_rates:.2f}s "
                "(best of 3; target < 2s)",
                flush=True,
            )
        else:
            start = time.perf_counter()
            pandas_rates = rates_by_street_pandas(city, ITEMS)
            peer_rates = time.perf_counter() - start
            diff = _compare(count_rates, pandas_rates)
            print(
                f"rates by street ({n_streets} streets x {len(ITEMS)} items, {n:,} ballots): "
                f"ours (rating_counts + satisfaction_rates_from_counts) {ours_rates:.2f}s "
                f"(best of 3; target < 2s), peer (responses + satisfaction_rates) "
                f"{peer_rates:.2f}s, ratio peer/ours {peer_rates / ours_rates:.1f}x; identical "
                f"tables, max |diff| {diff:.1e}",
                flush=True,
            )
        city.close()
    finally:
        _drop(schema)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{site}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
