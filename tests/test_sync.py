"""Tests of toolkit.store.sync: site laptops (SQLite) into one store, SQLite or PostgreSQL.

Every target runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema per
test), skipped when the server is unreachable except in CI (``CI`` set, not ``0``/``false``),
where they fail.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from typer.testing import CliRunner

from tests.store_support import (
    PG_URL,
    good_answers,
    make_survey,
    need_postgres,
    new_uuid,
    setup_meeting,
)
from toolkit.analysis import satisfaction_rates
from toolkit.errors import ParameterError, StoreError
from toolkit.store import Store, Submission, answers_hash
from toolkit.store import schema as tables
from toolkit.store.sync import TABLES, sync
from toolkit.store.sync_rules import fast_answers_hash

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Target:
    """Where a test syncs to: a URL and, on PostgreSQL, a fresh schema."""

    url: str
    schema: str | None

    def open(self) -> Store:
        return Store.open(self.url, schema=self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target(f"sqlite:///{tmp_path / 'city.db'}", None)
        return
    need_postgres()
    schema = f"sanhui_sync_{uuid.uuid4().hex[:12]}"
    try:
        yield Target(PG_URL, schema)
    finally:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


# --- site files ------------------------------------------------------------------------------------

NAMES = [f"测试姓名{i:03d}" for i in range(40)]


def registry() -> pd.DataFrame:
    """The district's participant list, loaded on every site laptop (same ids and attributes)."""
    return pd.DataFrame(
        {
            "participant_id": [f"p-{i:04d}" for i in range(40)],
            "community": ["五里桥一居" if i < 20 else "打浦桥二居" for i in range(40)],
            "role": ["resident_rep"] * 40,
            "gender": ["female" if i % 2 else "male" for i in range(40)],
            "age_band": ["60-69"] * 40,
            "building": [str(1 + i % 5) for i in range(40)],
            "party_member": [i % 3 == 0 for i in range(40)],
            "birth_year": [1950 + i for i in range(40)],
            "name": NAMES,
            "room": [f"{100 + i}" for i in range(40)],
        }
    )


def build_site(
    path: Path, meetings: list[tuple[str, str]], *, ballots: int = 8, seed: int = 0
) -> Path:
    """A meeting laptop's store: the registry, its meetings, attendance, ballots and codes."""
    with Store.open(path) as store:
        store.add_participants(registry())
        for k, (meeting_id, street) in enumerate(meetings):
            setup_meeting(store, meeting_id, street=street, community=f"{street}一居")
            invited = [f"p-{(seed * 7 + k * 5 + j) % 40:04d}" for j in range(6)]
            store.invite(meeting_id, invited)
            store.check_in(meeting_id, invited[0], at=datetime(2026, 3, 1, 9, 5, tzinfo=UTC))
            for i in range(ballots):
                store.submit(
                    Submission(
                        new_uuid(),
                        meeting_id,
                        good_answers(seed * 100 + k * 10 + i),
                        device=f"T{i % 3}",
                        paradata={"page_seconds": {"ratings": 10 + i}},
                    )
                )
            paper = good_answers(seed)
            del paper["wuye__overall"]  # a blank on a paper ballot, keyed in by staff
            store.submit(Submission(new_uuid(), meeting_id, paper, mode="paper"))
            spoilt = new_uuid()
            store.submit(Submission(spoilt, meeting_id, good_answers(seed + 1)))
            store.void(spoilt, "一人两票")
            codes = store.issue_ballot_codes(meeting_id, 2)
            store.submit(
                Submission(new_uuid(), meeting_id, good_answers(seed + 2), ballot_code=codes[0])
            )
    return path


def bulk_ballots(store: Store, meeting_id: str, n: int, *, seed: int = 0) -> list[str]:
    """``n`` valid ballots written in one transaction (fast test data, answers made valid)."""
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        answers = good_answers(seed + i)
        rows.append(
            {
                "submission_id": new_uuid(),
                "meeting_id": meeting_id,
                "instrument_id": "evaltest",
                "instrument_version": "1",
                "device": "bulk",
                "started_at": None,
                "submitted_at": None,
                "stored_at": now,
                "status": "valid",
                "void_reason": None,
                "answers": answers,
                "paradata": None,
                "answers_hash": answers_hash(answers),
                "mode": "tablet",
            }
        )
    with store.engine.begin() as connection:
        connection.execute(sa.insert(tables.submissions), rows)
    return [r["submission_id"] for r in rows]


def count(store: Store, table: str) -> int:
    with store.engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(tables.metadata.tables[table])
        return int(connection.execute(query).scalar_one())


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every synced table's rows, sorted, as comparable tuples (JSON as text)."""
    out = {}
    with store.engine.connect() as connection:
        for name in TABLES:
            table = tables.metadata.tables[name]
            rows = connection.execute(sa.select(table)).all()
            out[name] = sorted(tuple(_text(v) for v in row) for row in rows)
    return out


def _text(value: Any) -> str:
    if isinstance(value, dict | list):  # JSONB keeps its own key order
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


# --- tests -----------------------------------------------------------------------------------------


def test_sync_copies_everything_and_is_idempotent(tmp_path: Path, target: Target) -> None:
    site = build_site(tmp_path / "site.db", [("m1", "五里桥街道"), ("m2", "五里桥街道")])
    first = sync(site, target.url, target_schema=target.schema, progress=False, batch_size=7)
    assert first.conflicts == 0 and first.skipped == 0
    with Store.open(site) as source, target.open() as city:
        expected = {name: count(source, name) for name in TABLES}
        assert {name: first.counts(name)["new"] for name in TABLES} == expected
        assert snapshot(city) == snapshot(source)  # every column, status, paradata, mode, codes
        for meeting in ("m1", "m2"):
            pd.testing.assert_frame_equal(
                city.responses(meeting, include_void=True),
                source.responses(meeting, include_void=True),
            )
        frame = city.meetings().set_index("meeting_id")
        assert frame.loc["m1", "ballots_void"] == 1 and frame.loc["m1", "codes_used"] == 1
        before = snapshot(city)
    second = sync(site, target.url, target_schema=target.schema, progress=False)
    assert second.copied == 0 and second.conflicts == 0
    assert {name: second.counts(name)["present"] for name in TABLES} == expected
    with target.open() as city:
        assert snapshot(city) == before
    assert "submissions" in second.summary()


def test_names_stay_in_the_names_table(tmp_path: Path, target: Target) -> None:
    site = build_site(tmp_path / "site.db", [("m1", "五里桥街道")])
    report = sync(site, target.url, target_schema=target.schema, progress=False)
    with target.open() as city, city.engine.connect() as connection:
        for name, table in tables.metadata.tables.items():
            text = " ".join(str(v) for row in connection.execute(sa.select(table)) for v in row)
            found = [n for n in NAMES if n in text]
            if name == "participant_names":
                assert sorted(found) == sorted(NAMES)
            else:
                assert found == [], name
        assert set(city.attendance_table().columns).isdisjoint({"name", "room"})
        assert city.search_participants("m1", "测试姓名001")["name"].tolist() == ["测试姓名001"]
    assert not any(n in report.summary() for n in NAMES)


def test_conflicts_are_reported_and_not_overwritten(tmp_path: Path, target: Target) -> None:
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        setup_meeting(site, "m1")
        setup_meeting(site, "m2")
        shared = new_uuid()
        site.submit(Submission(shared, "m1", good_answers(1)))
        for i in range(3):
            site.submit(Submission(new_uuid(), "m2", good_answers(i)))
        other = make_survey("2", extra_item=True)
        site.add_instrument(other)
        setup_meeting(site, "m3", survey=other)
        extra = {**good_answers(2), "wuye__efficiency": "satisfied"}
        site.submit(Submission(new_uuid(), "m3", {**extra, "juweihui__efficiency": "satisfied"}))
    with target.open() as city:
        setup_meeting(city, "m1")
        city.submit(Submission(shared, "m1", good_answers(2)))  # same UUID, other answers
        setup_meeting(city, "m2", instrument_version="1", title="另一个会", street="别的街道")
        # same instrument id and version, other content: the site's is not taken
        city.add_instrument(make_survey("2"))
        before = snapshot(city)
    report = sync(site_path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("instruments") == {
        "new": 0,
        "present": 1,
        "updated": 0,
        "conflicts": 1,
        "skipped": 0,
    }
    assert report.counts("meetings")["conflicts"] == 1  # m2: other title and street
    assert report.counts("meetings")["skipped"] == 1  # m3: its instrument conflicts
    ballots = report.counts("submissions")
    assert ballots["conflicts"] == 1 and ballots["new"] == 3 and ballots["skipped"] == 1
    reasons = {issue.key: issue for issue in report.issues}
    assert reasons[shared].kind == "conflict" and "different answers" in reasons[shared].reason
    assert "evaltest/2" in reasons and "other content" in reasons["evaltest/2"].reason
    with target.open() as city:
        after = snapshot(city)
        assert city.submission(shared)["answers_hash"] == answers_hash(good_answers(2))
        assert city.meeting("m2").title == "另一个会"
        assert "m3" not in set(city.meetings()["meeting_id"])
    assert after["instruments"] == before["instruments"]
    assert len(after["submissions"]) == len(before["submissions"]) + 3
    again = sync(site_path, target.url, target_schema=target.schema, progress=False)
    assert again.copied == 0 and again.counts("submissions")["conflicts"] == 1


def test_later_changes_at_the_site_arrive(tmp_path: Path, target: Target) -> None:
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        site.add_participants(registry())
        setup_meeting(site, "m1")
        site.invite("m1", ["p-0001"])
        ballot = new_uuid()
        site.submit(Submission(ballot, "m1", good_answers(3)))
        (code,) = site.issue_ballot_codes("m1", 1)
    sync(site_path, target.url, target_schema=target.schema, progress=False)
    with Store.open(site_path) as site:
        site.check_in("m1", "p-0001")
        site.submit(Submission(new_uuid(), "m1", good_answers(4), ballot_code=code))
        site.void(ballot, "填写不规范")
        site.close_meeting("m1")
    report = sync(site_path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("meetings")["updated"] == 1
    assert report.counts("attendance")["updated"] == 1
    assert report.counts("submissions") == {
        "new": 1,
        "present": 0,
        "updated": 1,
        "conflicts": 0,
        "skipped": 0,
    }
    assert report.counts("ballot_codes")["updated"] == 1
    with target.open() as city:
        assert city.meeting("m1").status == "closed"
        assert city.submission(ballot)["void_reason"] == "填写不规范"
        assert bool(city.attendance_table("m1")["attended"].iloc[0])
        assert city.meetings()["codes_used"].iloc[0] == 1


def test_merge_three_sites_and_a_whole_street(tmp_path: Path, target: Target) -> None:
    plan = {
        "a": [("a1", "五里桥街道"), ("a2", "打浦桥街道")],
        "b": [("b1", "五里桥街道")],
        "c": [("c1", "五里桥街道"), ("c2", "打浦桥街道")],
    }
    sites = [
        build_site(tmp_path / f"{name}.db", meetings, ballots=6, seed=k)
        for k, (name, meetings) in enumerate(plan.items())
    ]
    reports = [
        sync(site, target.url, target_schema=target.schema, progress=False) for site in sites
    ]
    assert all(r.conflicts == 0 and r.skipped == 0 for r in reports)
    # the shared registry arrives once; later sites find it present
    assert [r.counts("participants")["new"] for r in reports] == [40, 0, 0]
    assert [r.counts("participant_names")["present"] for r in reports] == [0, 40, 40]
    totals: dict[str, int] = {}
    for site in sites:
        with Store.open(site) as source:
            for name in ("meetings", "attendance", "submissions", "ballot_codes"):
                totals[name] = totals.get(name, 0) + count(source, name)
    with target.open() as city:
        assert {name: count(city, name) for name in totals} == totals
        assert count(city, "participants") == 40
        meetings = city.meetings()
        street = meetings.loc[meetings["street"] == "五里桥街道", "meeting_id"].tolist()
        assert sorted(street) == ["a1", "b1", "c1"]
        responses = city.responses(street)
        assert len(responses) == 3 * 8  # 6 + paper + code ballot per meeting; the void one left out
        assert set(responses["street"]) == {"五里桥街道"} and responses["submission_id"].is_unique
        rates = satisfaction_rates(responses, items=["wuye__overall"], by="meeting_id")
        assert set(rates["meeting_id"]) == {"a1", "b1", "c1"}
        broad = rates[rates["measure"] == "broad"]
        assert broad["n"].sum() == 3 * (8 - 1)  # the paper ballot left wuye__overall blank
    again = [sync(s, target.url, target_schema=target.schema, progress=False) for s in sites]
    assert sum(r.copied for r in again) == 0


CHILD = """
import sys, time
from toolkit.store.sync import sync

def committed(table, done):
    print(table, done, flush=True)
    if table == "submissions":
        time.sleep(0.05)  # leave time for the kill to land mid-way

sync(sys.argv[1], sys.argv[2], target_schema=sys.argv[3] or None, progress=False,
     batch_size=50, on_batch=committed)
print("done", flush=True)
"""


@pytest.mark.slow
def test_sync_killed_mid_way_resumes_exactly_once(tmp_path: Path, target: Target) -> None:
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        setup_meeting(site, "m1")
        ids = bulk_ballots(site, "m1", 1000)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(site_path), target.url, target.schema or ""],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith("submissions"):
            child.send_signal(signal.SIGKILL)  # after the first committed batch of ballots
            break
    _rest, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, (lines, errors)
    with target.open() as city:
        arrived = count(city, "submissions")
    assert 50 <= arrived < 1000
    report = sync(site_path, target.url, target_schema=target.schema, progress=False)
    ballots = report.counts("submissions")
    assert ballots["present"] == arrived and ballots["new"] == 1000 - arrived
    with target.open() as city, city.engine.connect() as connection:
        stored = connection.execute(sa.select(tables.submissions.c.submission_id)).scalars().all()
    assert sorted(stored) == sorted(ids)  # every ballot, exactly once


@pytest.mark.postgres
def test_postgres_connection_dropped_mid_sync(tmp_path: Path) -> None:
    need_postgres()
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        setup_meeting(site, "m1")
        ids = bulk_ballots(site, "m1", 400)
    schema = f"sanhui_sync_{uuid.uuid4().hex[:12]}"
    city = Store.open(PG_URL, schema=schema)
    pids: set[int] = set()
    terminated: list[int] = []

    @event.listens_for(city.engine, "connect")
    def remember(dbapi_connection: Any, _record: Any) -> None:
        pids.add(dbapi_connection.info.backend_pid)  # only this store's own connections

    def terminate(table: str, done: int) -> None:
        if table == "submissions" and done == 100:
            with sa.create_engine(PG_URL).connect() as admin:
                for pid in sorted(pids):
                    query = sa.text("SELECT pg_terminate_backend(:pid)")
                    if admin.execute(query, {"pid": pid}).scalar():
                        terminated.append(pid)
            pids.clear()

    try:
        city.engine.dispose()  # from now on every connection is recorded
        with pytest.raises(StoreError, match="run the same sync again"):
            sync(site_path, city, progress=False, batch_size=50, retries=0, on_batch=terminate)
        assert terminated
        assert count(city, "submissions") == 100
        report = sync(site_path, city, progress=False, batch_size=50)
        assert report.counts("submissions")["present"] == 100
        assert report.counts("submissions")["new"] == 300
        # with retries (the default) a dropped connection is cured within the run
        with Store.open(site_path) as site:
            more = bulk_ballots(site, "m1", 200, seed=7)
        city.engine.dispose()
        terminated.clear()
        report = sync(site_path, city, progress=False, batch_size=50, on_batch=terminate)
        assert terminated and report.counts("submissions")["new"] == 200
        with city.engine.connect() as connection:
            stored = (
                connection.execute(sa.select(tables.submissions.c.submission_id)).scalars().all()
            )
        assert sorted(stored) == sorted(ids + more)
    finally:
        city.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def test_damaged_ballots_are_skipped_paper_blanks_are_kept(tmp_path: Path) -> None:
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        setup_meeting(site, "m1")
        ok, edited, paper = new_uuid(), new_uuid(), new_uuid()
        site.submit(Submission(ok, "m1", good_answers(1)))
        site.submit(Submission(edited, "m1", good_answers(2)))
        blank = good_answers(3)
        del blank["wuye__overall"]
        site.submit(Submission(paper, "m1", blank, mode="paper"))
        with site.engine.begin() as connection:  # someone edits a ballot in the file
            connection.execute(
                sa.update(tables.submissions)
                .where(tables.submissions.c.submission_id == edited)
                .values(answers={**good_answers(2), "wuye__overall": "satisfied"})
            )
        wrong = new_uuid()
        bad = {**good_answers(4), "wuye__overall": "excellent"}
        with site.engine.begin() as connection:  # a ballot no submit would have accepted
            connection.execute(
                sa.insert(tables.submissions).values(
                    submission_id=wrong,
                    meeting_id="m1",
                    instrument_id="evaltest",
                    instrument_version="1",
                    stored_at=datetime.now(UTC),
                    status="valid",
                    answers=bad,
                    answers_hash=answers_hash(bad),
                    mode="tablet",
                )
            )
    report = sync(site_path, tmp_path / "city.db", progress=False, verify_answers=True)
    assert report.counts("submissions")["new"] == 2  # the good one and the paper one
    skipped = {i.key: i.reason for i in report.issues if i.kind == "skipped"}
    assert "hash" in skipped[edited] and "excellent" in skipped[wrong]
    with Store.open(tmp_path / "city.db") as city:
        assert city.submission(paper)["mode"] == "paper"
        assert city.submission(ok)["status"] == "valid"
    lenient = sync(site_path, tmp_path / "other.db", progress=False)
    assert lenient.counts("submissions")["new"] == 3  # type checks are opt-in


def test_sync_arguments(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        with pytest.raises(ParameterError, match="same database"):
            sync(store, store, progress=False)
        with pytest.raises(ParameterError, match="batch_size"):
            sync(store, tmp_path / "x.db", batch_size=0)
    with pytest.raises(ParameterError, match="same database"):
        sync(path, f"sqlite:///{path}", progress=False)


def test_cli_sync(tmp_path: Path) -> None:
    from toolkit.cli import app

    site = build_site(tmp_path / "site.db", [("m1", "五里桥街道")], ballots=3)
    city = tmp_path / "city.db"
    runner = CliRunner()
    args = ["sync", "--from", str(site), "--to", str(city), "--no-progress"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "submissions" in first.output and "new" in first.output
    second = runner.invoke(app, [*args, "--batch-size", "2"])
    assert second.exit_code == 0
    with Store.open(city) as store:
        assert count(store, "submissions") == 6
        ballot = store.responses("m1")["submission_id"].iloc[0]
        with store.engine.begin() as connection:  # the city copy now disagrees with the site
            connection.execute(
                sa.update(tables.submissions)
                .where(tables.submissions.c.submission_id == ballot)
                .values(answers_hash="0" * 64)
            )
    third = runner.invoke(app, args)
    assert third.exit_code == 2 and "different answers" in third.output


_VALUES = st.one_of(
    st.text(max_size=5),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.lists(st.text(max_size=3), max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.lists(st.text(max_size=3), max_size=3), max_size=2),
)


@given(st.dictionaries(st.text(max_size=8), _VALUES, max_size=8))
@settings(max_examples=50, deadline=None)
def test_fast_hash_equals_answers_hash(answers: dict[str, Any]) -> None:
    assert fast_answers_hash(answers) == answers_hash(answers)


def test_a_missing_site_file_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        sync(tmp_path / "typo.db", tmp_path / "city.db", progress=False)
    assert not (tmp_path / "typo.db").exists()
