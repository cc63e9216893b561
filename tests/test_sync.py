"""Tests of toolkit.store.sync: site laptops (SQLite) into one store, SQLite or PostgreSQL.

Every target runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema per
test), skipped when the server is unreachable except in CI (``CI`` set, not ``0``/``false``),
where they fail.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
from toolkit.instrument.model import Group, Page, Question, Settings, Survey, Text
from toolkit.store import Store, Submission, answers_hash
from toolkit.store import schema as tables
from toolkit.store.closing import close_meeting, closing_record, verify_closing
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
    """Every synced table's rows, sorted, as comparable tuples (JSON as text); rectification items
    without their number (each store numbers its own)."""
    out = {}
    with store.engine.connect() as connection:
        for name in TABLES:
            table = tables.metadata.tables[name]
            kept = [c for c in table.columns if c.name != "item_id"]
            rows = connection.execute(sa.select(*kept)).all()
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
        site.set_meeting_venue("m1", "park")
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
        assert city.meetings().set_index("meeting_id").loc["m1", "venue"] == "park"
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


# --- the tables added since: closings, repeat rows, turns, codings, online windows, cases -----------

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
RECORDS = (
    "repeat_rows",
    "meeting_closings",
    "turns",
    "codings",
    "online_windows",
    "cases",
    "case_meetings",
    "case_outcomes",
    "rectification_items",
)


def household_survey() -> Survey:
    """An instrument with a repeat group: one instance per household member."""
    page = Page(
        "p",
        Text("页"),
        (
            Question("n", "integer", Text("人数")),
            Question("age", "integer", Text("年龄"), required=True, group="member"),
            Question("works", "text", Text("工作"), group="member"),
        ),
        groups=(Group("member", Text("成员"), repeat=True),),
    )
    return Survey(Settings("household", "1", Text("住户")), (page,), {})


def household(i: int) -> dict[str, Any]:
    members = [{"age": 30 + i, "works": "教师"}, {"age": 5 + i}][: 1 + i % 2]
    return {"n": len(members), "member": members}


@dataclass
class Site:
    path: Path
    commented: list[str]  # ballots of e1 with a comment, coded by A, B and a final coding
    households: list[str]  # ballots of r1, with repeat rows
    open_turn: str
    item: int  # a rectification item, open


def build_records_site(path: Path, *, case: str = "k1") -> Site:
    """A site with every newer table: a case through hearing, coordination, evaluation and
    follow-up (outcomes, two rectification items), turns of the hearing (one undone, one open), its
    online window and plan, coded comments of the evaluation (closed with its record, as is the
    follow-up) and ballots with repeat groups."""
    with Store.open(path) as store:
        survey = make_survey()
        store.add_instrument(survey)
        for meeting_id, kind, date in (
            ("h1", "hearing", "2026-01-10"),
            ("c1", "coordination", "2026-02-01"),
            ("e1", "evaluation", "2026-06-01"),
            ("e2", "evaluation", "2026-10-01"),
        ):
            setup_meeting(store, meeting_id, kind=kind, date=date, survey=survey)
        setup_meeting(store, "r1", survey=household_survey())
        commented = []
        for i in range(4):
            ballot = new_uuid()
            store.submit(Submission(ballot, "e1", {**good_answers(i), "comments": f"意见{i}"}))
            commented.append(ballot)
            for coder, codes in (("A", ["noise"]), ("B", ["noise", "daylight"][: 1 + i % 2])):
                at = T0 + timedelta(minutes=i)
                store.save_coding("e1", ballot, "comments", coder=coder, codes=codes,
                                  codebook="comment_codes@1", at=at)  # fmt: skip
            store.save_coding("e1", ballot, "comments", coder="A", codes=["noise"], role="final",
                              codebook="comment_codes@1", note="对过", at=T0)  # fmt: skip
        close_meeting(store, "e1")
        households = [new_uuid() for _ in range(3)]
        for i, ballot in enumerate(households):
            store.submit(Submission(ballot, "r1", household(i)))
        store.start_turn("h1", "resident", seat=3, at=T0)
        second = store.start_turn("h1", "property", at=T0 + timedelta(seconds=60))
        store.set_turn_codes(second.turn_id, ["question"])
        store.start_turn("h1", "resident", seat=5, at=T0 + timedelta(seconds=120))
        store.undo_turn("h1")  # the tap on seat 5 was a mistake: undone
        store.start_turn("h1", "government", at=T0 + timedelta(seconds=180))
        opened = store.start_turn("h1", "resident", seat=8, at=T0 + timedelta(seconds=240))
        store.set_online_window("h1", "2026-01-03T08:00+08:00", "2026-01-10T08:00+08:00")
        store.set_online_plan("h1", "加装电梯方案", [PNG])
        store.create_case(case, title="3号楼加装电梯", kind="elevator", street="五里桥街道")
        store.add_case_meeting(case, "h1", outcome={"positions": {"opt1": {"support": 9}}})
        store.add_case_meeting(case, "c1", outcome={"agreement": "reached", "terms": ["夜间停工"]})
        store.add_case_meeting(case, "e1", outcome={"verdict": "基本满意", "rule": "majority"})
        store.add_case_meeting(case, "e2")
        first = store.add_rectification(
            case, item="施工噪音", subject="contractor", source="low_rating",
            source_ref="wuye__attitude", source_meeting_id="e1", due_date="2026-08-01",
        )  # fmt: skip
        store.add_rectification(case, item="电梯挡光", subject="wuye", source="comment")
        store.update_rectification(first.item_id, status="in_progress", followup_meeting_id="e2")
        close_meeting(store, "e2")
    return Site(path, commented, households, opened.turn_id, first.item_id)


def records(store: Store) -> dict[str, Any]:
    """What the Store's own reads give of the newer tables."""
    case = store.case("k1")
    return {
        "repeat_rows": store.repeat_rows("r1", include_void=True),
        "turns": store.turns("h1", include_undone=True),
        "codings": store.codings("e1"),
        "window": store.online_window("h1"),
        "closing": closing_record(store, "e1"),
        "case": (case.meetings, [{**i.__dict__, "item_id": 0} for i in case.items], case.stage),
    }


def assert_same_records(one: Store, other: Store) -> None:
    a, b = records(one), records(other)
    for name in ("repeat_rows", "turns", "codings"):
        pd.testing.assert_frame_equal(a.pop(name), b.pop(name))
    assert a == b


def test_newer_tables_arrive_equal_and_a_second_sync_finds_them_present(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    first = sync(site.path, target.url, target_schema=target.schema, progress=False, batch_size=3)
    assert first.conflicts == 0 and first.skipped == 0, first.summary()
    with Store.open(site.path) as source, target.open() as city:
        expected = {name: count(source, name) for name in TABLES}
        assert all(expected[name] > 0 for name in RECORDS), expected
        assert {name: first.counts(name)["new"] for name in TABLES} == expected
        assert snapshot(city) == snapshot(source)
        assert_same_records(source, city)
        assert len(city.repeat_rows("r1")) == 7  # 1 + 2 + 1 members, 3 of them working
        assert verify_closing(city, "e1")  # every ballot of the closed meeting arrived
        assert city.open_turn("h1").turn_id == site.open_turn
        before = snapshot(city)
    second = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert second.copied == 0 and second.conflicts == 0 and second.skipped == 0
    assert {name: second.counts(name)["present"] for name in TABLES} == expected
    with target.open() as city:
        assert snapshot(city) == before


def clear_plan(path: Path) -> None:
    """The site's online window as it was before its plan was written."""
    with Store.open(path) as store, store.engine.begin() as connection:
        connection.execute(
            sa.update(tables.online_windows).values(plan_text=None, plan_images=None)
        )


def test_changes_made_on_the_site_after_a_sync_arrive_as_updates(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    clear_plan(site.path)
    sync(site.path, target.url, target_schema=target.schema, progress=False)
    with Store.open(site.path) as store:
        store.end_turn(site.open_turn, at=T0 + timedelta(seconds=300))  # the open turn ended
        store.set_turn_codes(site.open_turn, ["proposal"])
        last = store.start_turn("h1", "resident", seat=9, at=T0 + timedelta(seconds=360))
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("turns") == {
        "new": 1, "present": 4, "updated": 1, "conflicts": 0, "skipped": 0
    }  # fmt: skip
    with Store.open(site.path) as store:
        store.undo_turn("h1")  # the last turn, still open: a mistake
        store.save_coding("e1", site.commented[0], "comments", coder="B", codes=["daylight"],
                          codebook="comment_codes@1", at=T0 + timedelta(days=1))  # fmt: skip
        store.record_outcome("k1", "c1", agreement="partial", terms=["夜间停工", "补偿"])
        store.update_rectification(site.item, status="done", evidence="夜间停工公告")
        store.close_case("k1", on="2026-11-01")
        store.set_online_plan("h1", "加装电梯方案", [PNG])
        close_meeting(store, "r1")  # a closing made after the sync is new
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.conflicts == 0 and report.skipped == 0
    updated = (
        "turns",
        "codings",
        "online_windows",
        "cases",
        "case_outcomes",
        "rectification_items",
    )
    for name in updated:
        assert report.counts(name)["updated"] == 1, (name, report.counts(name))
    assert report.counts("meeting_closings")["new"] == 1
    with Store.open(site.path) as source, target.open() as city:
        assert city.turn(last.turn_id).undone and city.open_turn("h1") is None
        ended = city.turn(site.open_turn)
        assert ended.ended_at == T0 + timedelta(seconds=300) and ended.codes == ("proposal",)
        assert city.case("k1").stage == "closed"
        (item,) = [i for i in city.case("k1").items if i.item == "施工噪音"]
        assert (item.status, item.evidence, item.followup_meeting_id) == (
            "done",
            "夜间停工公告",
            "e2",
        )
        assert city.online_window("h1").plan_images == (
            ("image/png", base64.b64encode(PNG).decode()),
        )
        assert closing_record(city, "r1") == closing_record(source, "r1")
        assert snapshot(city) == snapshot(source)
        assert_same_records(source, city)


def test_the_target_holding_a_later_version_keeps_it(tmp_path: Path, target: Target) -> None:
    site = build_records_site(tmp_path / "site.db")
    clear_plan(site.path)
    sync(site.path, target.url, target_schema=target.schema, progress=False)
    with target.open() as city:  # the district follows the case up itself
        (number,) = [i.item_id for i in city.case("k1").items if i.item == "施工噪音"]
        city.update_rectification(number, status="not_accepted")
        city.record_outcome("k1", "e1", verdict="不满意", rule="majority")
        city.close_case("k1", on="2026-12-01")
        city.set_online_plan("h1", "区里的方案")
        before = snapshot(city)
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.conflicts == 0 and report.copied == 0
    for name in ("rectification_items", "case_outcomes", "cases", "online_windows"):
        assert report.counts(name)["updated"] == 0, name
    with target.open() as city:
        assert snapshot(city) == before
    with Store.open(site.path) as store:  # closed on the site too, on another day
        store.close_case("k1", on="2026-11-01")
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("cases")["conflicts"] == 1
    with target.open() as city:
        assert city.case("k1").closed_on == date(2026, 12, 1)


def test_other_content_in_the_target_is_a_conflict_and_stays(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    sync(site.path, target.url, target_schema=target.schema, progress=False)
    c = tables.metadata.tables
    changes = {  # one row of each table, changed in the target only
        "repeat_rows": (c["repeat_rows"].c.instance == 2, {"value": 99}),
        "meeting_closings": (c["meeting_closings"].c.meeting_id == "e1", {"checksum": "0" * 64}),
        "turns": (c["turns"].c.category == "government", {"category": "other"}),
        "codings": (
            (c["codings"].c.submission_id == site.commented[0]) & (c["codings"].c.role == "final"),
            {"note": "改过"},
        ),
        "online_windows": (None, {"closes_at": T0}),
        "cases": (None, {"street": "打浦桥街道"}),
        "case_meetings": (c["case_meetings"].c.meeting_id == "e2", {"stage": "evaluation"}),
        "case_outcomes": (c["case_outcomes"].c.meeting_id == "e1", {"verdict": "不满意"}),
        "rectification_items": (c["rectification_items"].c.source == "comment",
                                {"source_ref": "另一条意见"}),
    }  # fmt: skip
    with target.open() as city:
        with city.engine.begin() as connection:
            for name, (where, values) in changes.items():
                query = sa.update(c[name]).values(values)
                done = connection.execute(query if where is None else query.where(where))
                assert done.rowcount == 1, name
        before = snapshot(city)
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    for name in changes:
        assert report.counts(name)["conflicts"] == 1, (name, report.counts(name))
        assert report.counts(name)["new"] == report.counts(name)["updated"] == 0, name
    assert {issue.table for issue in report.issues} == set(changes)
    assert report.counts("case_outcomes")["skipped"] == 0  # e2 has no outcome
    with target.open() as city:
        assert snapshot(city) == before
        assert city.case("k1").street == "打浦桥街道"
        city.set_online_window("h1", "2026-01-03T08:00+08:00", "2026-01-10T08:00+08:00")
        city.set_online_plan("h1", "区里改过的方案")  # the window back, another plan
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("online_windows")["conflicts"] == 1
    with target.open() as city:
        assert city.online_window("h1").plan_text == "区里改过的方案"


def test_a_case_of_another_title_keeps_its_meetings_outcomes_and_items(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    with target.open() as city:
        city.create_case("k1", title="垃圾分类", kind="greening")
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("cases")["conflicts"] == 1
    assert report.counts("case_meetings")["skipped"] == 4
    assert report.counts("case_outcomes")["skipped"] == 3
    assert report.counts("rectification_items")["skipped"] == 2
    with target.open() as city:
        case = city.case("k1")
        assert case.title == "垃圾分类" and case.meetings == () and case.items == ()


def test_rows_of_ballots_and_meetings_not_copied_are_skipped(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    with Store.open(site.path) as store, store.engine.begin() as connection:
        connection.execute(  # a repeat row edited in the file
            sa.update(tables.repeat_rows)
            .where(
                tables.repeat_rows.c.submission_id == site.households[2],
                tables.repeat_rows.c.variable == "age",
            )
            .values(value=77)
        )
    with Store.open(site.path) as store:  # a coding naming another meeting than its ballot's
        store.save_coding("c1", site.commented[2], "comments", coder="C", codes=[],
                          codebook="comment_codes@1")  # fmt: skip
    with target.open() as city:
        # the same ballot ids with other answers; meetings h1 and e2 with another instrument
        setup_meeting(city, "r1", survey=household_survey())
        city.submit(Submission(site.households[0], "r1", household(5)))
        setup_meeting(city, "e1", date="2026-06-01")
        city.submit(Submission(site.commented[1], "e1", good_answers(7)))
        other = make_survey("2")
        city.add_instrument(other)
        setup_meeting(city, "h1", kind="hearing", survey=other)
        setup_meeting(city, "e2", survey=other)
        before = snapshot(city)
        before_rows = [(site.households[0], "age", 35), (site.households[0], "works", "教师"),
                       (site.households[0], "age", 10)]  # fmt: skip
    after_rows = [(site.households[1], "age", 31), (site.households[1], "works", "教师"),
                  (site.households[1], "age", 6), (site.households[2], "works", "教师")]  # fmt: skip
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    skipped = [i for i in report.issues if i.kind == "skipped"]
    # the 2 rows of ballot 0 of r1 (the target's own is another) and the edited row of ballot 2
    assert report.counts("repeat_rows") == {
        "new": 4, "present": 0, "updated": 0, "conflicts": 0, "skipped": 3
    }  # fmt: skip
    # 3 codings of ballot 1 of e1 (the target's own is another), and the one naming c1
    assert report.counts("codings")["skipped"] == 4 and report.counts("codings")["new"] == 9
    assert report.counts("turns")["skipped"] == 5
    assert report.counts("online_windows")["skipped"] == 1
    assert report.counts("case_meetings")["skipped"] == 2  # h1 and e2
    assert report.counts("case_outcomes")["skipped"] == 1  # h1's
    # the item followed up in e2; the other one arrives
    assert report.counts("rectification_items") == {
        "new": 1, "present": 0, "updated": 0, "conflicts": 0, "skipped": 1
    }  # fmt: skip
    assert report.counts("meeting_closings") == {  # e1 is the same meeting; e2 is not copied
        "new": 1, "present": 0, "updated": 0, "conflicts": 0, "skipped": 1
    }  # fmt: skip
    reasons = {(i.table, i.key.split("/")[0]): i.reason for i in skipped}
    assert "was not copied" in reasons["repeat_rows", site.households[0]]
    assert "was not copied" in reasons["codings", site.commented[1]]
    assert "belongs to meeting `e1`" in reasons["codings", site.commented[2]]
    assert any("does not match" in i.reason for i in skipped if i.table == "repeat_rows")
    assert any("followup_meeting_id `e2`" in i.reason for i in skipped)
    with target.open() as city, city.engine.connect() as connection:
        r = tables.repeat_rows
        kept = connection.execute(sa.select(r.c.submission_id, r.c.variable, r.c.value)).all()
        assert sorted(map(str, kept)) == sorted(map(str, before_rows + after_rows))
        codings = city.codings("e1")
        assert site.commented[1] not in set(codings["submission_id"])
        assert len(codings) == 9
        assert snapshot(city)["turns"] == before["turns"] == []
        assert not verify_closing(city, "e1")  # ballot 1 of e1 is the target's own


def test_repeat_rows_reach_ballots_synced_before_they_were_copied(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    sync(site.path, target.url, target_schema=target.schema, progress=False)
    with target.open() as city:  # a district store synced by a version without repeat rows
        with city.engine.begin() as connection:
            connection.execute(sa.delete(tables.repeat_rows))
        assert city.repeat_rows("r1").empty
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("repeat_rows")["new"] == 7
    assert report.counts("submissions")["present"] == 7 and report.copied == 7
    with Store.open(site.path) as source, target.open() as city:
        pd.testing.assert_frame_equal(city.repeat_rows("r1"), source.repeat_rows("r1"))


def test_rectification_items_of_two_sites_keep_their_own_numbers_apart(
    tmp_path: Path, target: Target
) -> None:
    one = build_records_site(tmp_path / "one.db", case="k1")
    with Store.open(one.path) as store:
        store.add_rectification("k1", item="楼道照明", subject="wuye", source="comment")
    two = tmp_path / "two.db"
    with Store.open(two) as store:  # the same item numbers 1 and 2, another case
        store.create_case("k2", title="停车", kind="parking")
        for text in ("划线", "限时"):
            store.add_rectification("k2", item=text, subject="wuye", source="comment")
    with target.open() as city:
        city.create_case("k3", title="绿化", kind="greening")
        city.add_rectification("k3", item="补种", subject="wuye", source="comment")  # number 1
    for path in (one.path, two, one.path, two):
        report = sync(path, target.url, target_schema=target.schema, progress=False, batch_size=2)
        assert report.conflicts == 0 and report.skipped == 0
    assert report.counts("rectification_items")["present"] == 2
    with target.open() as city:
        items = city.rectification_items()
        assert sorted(items["item"]) == sorted(
            ["施工噪音", "电梯挡光", "楼道照明", "划线", "限时", "补种"]
        )
        assert items["item_id"].is_unique
        added = city.add_rectification("k3", item="修剪", subject="wuye", source="comment")
        assert added.item_id > items["item_id"].max()  # the target's numbering goes on


def test_a_turn_reopened_or_uncoded_on_the_site_after_a_sync_is_a_conflict(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    with Store.open(site.path) as store:
        store.end_turn(site.open_turn, at=T0 + timedelta(seconds=300))
        second = store.turns("h1")["turn_id"].iloc[1]
    sync(site.path, target.url, target_schema=target.schema, progress=False)
    with Store.open(site.path) as store:
        store.undo_turn("h1")  # reopens the last ended turn
        store.set_turn_codes(second, [])  # takes its code off
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("turns")["conflicts"] == 2 and report.counts("turns")["updated"] == 0
    with target.open() as city:
        assert city.turn(site.open_turn).ended_at == T0 + timedelta(seconds=300)
        assert city.turn(second).codes == ("question",)
    with Store.open(site.path) as store:
        store.undo_turn("h1")  # the reopened turn: undone after all, which wins
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("turns")["updated"] == 1 and report.counts("turns")["conflicts"] == 1
    with Store.open(site.path) as source, target.open() as city:
        assert city.turn(site.open_turn) == source.turn(site.open_turn)
        assert city.turn(site.open_turn).undone and city.turn(site.open_turn).ended_at is None


def test_a_place_taken_in_the_target_case_is_a_conflict_not_an_error(
    tmp_path: Path, target: Target
) -> None:
    site = build_records_site(tmp_path / "site.db")
    with target.open() as city:  # the same case with another hearing first, then h1
        setup_meeting(city, "x1", kind="hearing", date="2026-01-05")
        setup_meeting(city, "h1", kind="hearing", date="2026-01-10")
        city.create_case("k1", title="3号楼加装电梯", kind="elevator", street="五里桥街道")
        city.add_case_meeting("k1", "x1")
        city.add_case_meeting("k1", "h1")
    report = sync(site.path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("cases")["present"] == 1
    # h1: in place 2 there, not 1; c1: place 2 taken by h1
    assert report.counts("case_meetings") == {
        "new": 2, "present": 0, "updated": 0, "conflicts": 2, "skipped": 0
    }  # fmt: skip
    # the outcomes of h1 and c1 stay behind; e1's arrives
    assert report.counts("case_outcomes") == {
        "new": 1, "present": 0, "updated": 0, "conflicts": 0, "skipped": 2
    }  # fmt: skip
    with target.open() as city:
        case = city.case("k1")
        assert [m.meeting_id for m in case.meetings] == ["x1", "h1", "e1", "e2"]
        assert [m.positions for m in case.meetings[:2]] == [None, None]


def test_a_venue_set_in_both_places_is_a_conflict(tmp_path: Path, target: Target) -> None:
    site_path = tmp_path / "site.db"
    with Store.open(site_path) as site:
        setup_meeting(site, "m1")
    sync(site_path, target.url, target_schema=target.schema, progress=False)
    with target.open() as city:
        city.set_meeting_venue("m1", "park")
    with Store.open(site_path) as site:
        site.set_meeting_venue("m1", "online")
    report = sync(site_path, target.url, target_schema=target.schema, progress=False)
    assert report.counts("meetings")["conflicts"] == 1
    assert any("venue" in issue.reason for issue in report.issues)
    with target.open() as city:
        assert city.meetings().set_index("meeting_id").loc["m1", "venue"] == "park"
