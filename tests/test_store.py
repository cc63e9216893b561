"""Tests of toolkit.store: durability, idempotency, anonymity, migrations and the response tables.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test). PostgreSQL tests are skipped when the server is unreachable, except when ``CI=true``,
where they fail instead.
"""

from __future__ import annotations

import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.store_support import (
    PG_URL,
    SUBJECTS,
    good_answers,
    make_survey,
    need_postgres,
    new_uuid,
    setup_meeting,
)
from toolkit.errors import AnswerError, ConflictError, DataError, ParameterError, StoreError
from toolkit.store import Store, Submission, answers_hash, default_url
from toolkit.store import schema as tables
from toolkit.store.store import create_engine, upgrade_schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(tmp_path / "sanhui.db")
        yield opened
        opened.close()
        return
    need_postgres()
    schema = f"sanhui_test_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def count(store: Store, table: sa.Table, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where:
        query = query.where(*where)
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


# --- opening, settings, migrations -------------------------------------------------------------


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with Store.open(tmp_path / "x.db") as store, store.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }


def test_drafts_are_written_without_fsync_ballots_with(tmp_path: Path) -> None:
    """Drafts go through connections with synchronous=NORMAL (WAL: no fsync per commit), ballots
    through synchronous=FULL; the draft still ends in the ballot's own transaction."""
    path = tmp_path / "x.db"
    with Store.open(path) as store:
        setup_meeting(store)
        levels = {}
        for name, engine in (("ballots", store.engine), ("drafts", store._drafts)):
            with engine.connect() as connection:
                levels[name] = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        assert levels == {"ballots": 2, "drafts": 1}  # FULL, NORMAL
        ballot = new_uuid()
        store.save_draft("t1", ballot, {"wuye__overall": "satisfied"}, meeting_id="m1")
        store.save_draft("t1", ballot, {"wuye__overall": "dissatisfied"}, meeting_id="m1")
    with Store.open(path) as store:  # a saved draft is there for a restarted server
        draft = store.load_draft("t1")
        assert draft is not None and dict(draft.answers) == {"wuye__overall": "dissatisfied"}
        store.submit(Submission(ballot, "m1", good_answers()))
        assert store.load_draft("t1") is None
    with Store.open("sqlite://") as memory:  # one shared in-memory connection: one engine
        assert memory._drafts is memory.engine


def test_store_does_not_import_pandas() -> None:
    """A tablet kernel imports the store and the form; pandas (~45 MB) loads on the first table."""
    code = (
        "import sys, toolkit.store, toolkit.store.sync, toolkit.collect.form, "
        "toolkit.collect.backend, toolkit.collect.app;"
        "bad = [m for m in ('pandas', 'numpy') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_new_sqlite_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ballots.db"
    with Store.open(path) as store:
        setup_meeting(store)
        store.submit(Submission(new_uuid(), "m1", good_answers()))
        files = [Path(str(path) + suffix) for suffix in ("", "-wal", "-shm")]
        assert all(f.exists() for f in files)
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_default_url_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANHUI_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{tmp_path / 'data' / 'sanhui.db'}"
    with Store.open() as store:
        assert store.dialect == "sqlite"
    assert (tmp_path / "data" / "sanhui.db").exists()
    monkeypatch.setenv("SANHUI_DB", str(tmp_path / "other.db"))
    assert default_url() == f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("SANHUI_DB", "postgres://u@h/db")
    assert default_url() == "postgresql+psycopg://u@h/db"


def test_unsupported_or_unreachable_urls(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="SQLite and PostgreSQL"):
        Store.open("mysql://u@localhost/db")
    with pytest.raises(StoreError, match="cannot open the ballot store"):
        Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(ParameterError, match="PostgreSQL only"):
        Store.open(tmp_path / "x.db", schema="s")


def test_migrations_build_exactly_the_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert store.schema_revision == "0003_entry_mode"
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    assert diff == []


def test_database_from_the_first_revision_opens(tmp_path: Path) -> None:
    """A database made by the first release (revision 0001, rows written with plain SQL) opens with
    the current code, is upgraded to head, and its ballots read back."""
    path = tmp_path / "old.db"
    engine = create_engine(path)
    assert upgrade_schema(engine, revision="0001_initial") == "0001_initial"
    survey = make_survey()
    from toolkit.store.store import _dump_survey

    ballot = new_uuid()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO instruments VALUES (:i, :v, :h, :y, '2025-01-01 00:00:00.000000')"
            ),
            {
                "i": survey.id,
                "v": survey.version,
                "h": survey.content_hash,
                "y": _dump_survey(survey),
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO meetings VALUES ('old', 'evaluation', '旧会', 'c', 's', 'd', "
                "'2025-01-02', :i, :v, :subjects, 30, 40, 'open', '2025-01-01 00:00:00.000000')"
            ),
            {
                "i": survey.id,
                "v": survey.version,
                "subjects": '[{"id": "wuye", "label_zh": "物业"}]',
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO submissions (submission_id, meeting_id, instrument_id, "
                "instrument_version, stored_at, status, answers, answers_hash) VALUES "
                "(:u, 'old', :i, :v, '2025-01-02 10:00:00.000000', 'valid', :a, :h)"
            ),
            {
                "u": ballot,
                "i": survey.id,
                "v": survey.version,
                "a": '{"wuye__attitude": "satisfied", "wuye__overall": "dissatisfied"}',
                "h": answers_hash({"wuye__attitude": "satisfied", "wuye__overall": "dissatisfied"}),
            },
        )
    engine.dispose()
    with Store.open(path) as store:
        assert store.schema_revision == "0003_entry_mode"
        meeting = store.meeting("old")
        assert meeting.subject_ids == ("wuye",)
        assert meeting.created_at == datetime(2025, 1, 1, tzinfo=UTC)
        frame = store.responses("old")
        assert frame["submission_id"].tolist() == [ballot]
        assert frame["wuye__overall"].tolist() == ["dissatisfied"]
        again = store.submit(
            Submission(
                ballot, "old", {"wuye__overall": "dissatisfied", "wuye__attitude": "satisfied"}
            )
        )
        assert again.status == "already_stored"
        with store.engine.connect() as connection:
            indexes = sa.inspect(connection).get_indexes("submissions")
        assert {i["name"] for i in indexes} >= {"ix_submissions_meeting_id_status"}


# --- instruments and meetings ----------------------------------------------------------------------


def test_instruments_round_trip_and_conflict(store: Store) -> None:
    survey = make_survey("1")
    ref = store.add_instrument(survey)
    assert (ref.id, ref.version, ref.content_hash) == ("evaltest", "1", survey.content_hash)
    assert store.add_instrument(survey) == ref  # idempotent
    changed = make_survey("1", extra_item=True)
    with pytest.raises(ConflictError, match="new `version`"):
        store.add_instrument(changed)
    time.sleep(0.01)
    store.add_instrument(make_survey("2", extra_item=True))
    from toolkit.store import store as store_module

    store_module._SURVEYS_BY_HASH.clear()  # force rebuilding from the stored YAML
    assert store.instrument("evaltest", "1").content_hash == survey.content_hash
    assert store.instrument("evaltest").version == "2"
    assert store.instruments()["version"].tolist() == ["1", "2"]
    with pytest.raises(StoreError, match="Stored versions: 1, 2"):
        store.instrument("evaltest", "9")
    with pytest.raises(StoreError, match="Did you mean `evaltest`"):
        store.instrument("evaltset")


def test_meetings(store: Store) -> None:
    meeting = setup_meeting(store, ballots_issued=30, members=41)
    assert meeting.subject_ids == ("wuye", "juweihui")
    assert meeting.subjects[0].label_en == "Property management"
    assert str(meeting.date) == "2026-03-01"
    with pytest.raises(ConflictError, match="already exists"):
        setup_meeting(store)
    with pytest.raises(ParameterError, match="needs `subjects`"):
        store.create_meeting("m2", kind="evaluation", title="t", instrument="evaltest")
    with pytest.raises(ParameterError, match="`kind` must be one of"):
        store.create_meeting("m2", kind="party", title="t", instrument="evaltest")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="Did you mean `m1`"):
        store.meeting("m11")
    store.submit(Submission(new_uuid(), "m1", good_answers()))
    frame = store.meetings()
    row = frame.iloc[0]
    assert (row.ballots_issued, row.members, row.ballots_returned, row.ballots_valid) == (
        30,
        41,
        1,
        1,
    )
    assert store.close_meeting("m1").status == "closed"


# --- submit ------------------------------------------------------------------------------------------


def test_submit_is_idempotent(store: Store) -> None:
    setup_meeting(store)
    ballot = new_uuid()
    answers = good_answers(3)
    first = store.submit(
        Submission(ballot, "m1", answers, device="tablet-1", paradata={"ratings": 41.5})
    )
    assert first.status == "stored"
    shuffled = dict(reversed(list(answers.items())))
    again = store.submit(Submission(ballot.upper(), "m1", shuffled, device="tablet-1"))
    assert again.status == "already_stored"
    assert again.stored_at == first.stored_at
    assert count(store, tables.submissions) == 1
    stored = store.submission(ballot)
    assert stored["answers"] == answers and stored["paradata"] == {"ratings": 41.5}


def test_same_uuid_other_answers_is_a_conflict(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers(1)))
    with pytest.raises(ConflictError, match="different answers"):
        store.submit(Submission(ballot, "m1", good_answers(2)))
    with pytest.raises(ConflictError, match="already stored for meeting `m1`"):
        store.submit(Submission(ballot, "m2", good_answers(1)))
    assert store.submission(ballot)["answers"] == good_answers(1)
    assert count(store, tables.submissions) == 1


def test_rejected_answers_write_nothing(store: Store) -> None:
    setup_meeting(store)
    codes = store.issue_ballot_codes("m1", 1)
    ballot = new_uuid()
    store.save_draft("tablet-1", ballot, {"wuye__overall": "satisfied"}, meeting_id="m1")
    bad = good_answers()
    bad["wuye__overall"] = "great"  # not a choice
    del bad["juweihui__overall"]  # required
    bad["building"] = 999  # constraint
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(ballot, "m1", bad, ballot_code=codes[0]))
    fields = {p.field for p in caught.value.problems}
    assert {"wuye__overall", "juweihui__overall", "building"} <= fields
    assert "the ballot was not stored" in str(caught.value)
    assert count(store, tables.submissions) == 0
    assert count(store, tables.ballot_codes, tables.ballot_codes.c.used_at.is_not(None)) == 0
    assert store.load_draft("tablet-1") is not None
    # not JSON at all
    with pytest.raises(AnswerError, match="JSON"):
        store.submit(Submission(new_uuid(), "m1", {"building": object()}))
    # the code is still good for the corrected ballot
    assert store.submit(Submission(ballot, "m1", good_answers(), ballot_code=codes[0])).status == (
        "stored"
    )


def test_unknown_and_closed_meetings(store: Store) -> None:
    setup_meeting(store)
    with pytest.raises(StoreError, match=r"no meeting `m11`.*Did you mean `m1`.*create_meeting"):
        store.submit(Submission(new_uuid(), "m11", good_answers()))
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers()))
    store.close_meeting("m1")
    with pytest.raises(StoreError, match=r"closed.*update_meeting"):
        store.submit(Submission(new_uuid(), "m1", good_answers()))
    # a tablet resending a ballot stored before the meeting closed still gets its acknowledgement
    assert store.submit(Submission(ballot, "m1", good_answers())).status == "already_stored"
    assert count(store, tables.submissions) == 1


def test_submission_record_checks() -> None:
    with pytest.raises(ParameterError, match="UUID made by the client"):
        Submission("not-a-uuid", "m1", {})
    with pytest.raises(ParameterError, match="ISO 8601"):
        Submission(new_uuid(), "m1", {}, started_at="yesterday")  # type: ignore[arg-type]
    s = Submission(new_uuid(), "m1", {}, started_at="2026-03-01T09:00:00+08:00")
    assert s.started_at == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def test_concurrent_resends_store_once(store: Store) -> None:
    setup_meeting(store)
    ballot = new_uuid()
    results: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            results.append(store.submit(Submission(ballot, "m1", good_answers(5))).status)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == ["already_stored"] * 5 + ["stored"]
    assert count(store, tables.submissions) == 1


# --- ballot codes --------------------------------------------------------------------------------


def test_ballot_codes(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    codes = store.issue_ballot_codes("m1", 3)
    other = store.issue_ballot_codes("m2", 1)
    assert len(set(codes)) == 3
    assert all(len(c) == 9 and c[4] == "-" and c.replace("-", "").isdigit() for c in codes)
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(tables.ballot_codes.c.code_hash)).scalars().all()
    assert not set(stored) & {*codes, *(c.replace("-", "") for c in codes)}
    with pytest.raises(AnswerError, match="ballot code only"):
        store.submit(Submission(new_uuid(), "m1", good_answers()))
    with pytest.raises(AnswerError, match="unknown ballot code"):
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code="ZZZZ-ZZZZ"))
    with pytest.raises(StoreError, match="belongs to meeting `m2`"):
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=other[0]))
    typed = codes[0].lower().replace("-", " ")
    ballot = new_uuid()
    assert (
        store.submit(Submission(ballot, "m1", good_answers(), ballot_code=typed)).status == "stored"
    )
    with pytest.raises(AnswerError, match="already been used"):
        store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=codes[0]))
    # the retry of the stored ballot is acknowledged although its code is now used
    resent = Submission(ballot, "m1", good_answers(), ballot_code=codes[0])
    assert store.submit(resent).status == "already_stored"
    assert count(store, tables.submissions) == 1
    with store.engine.connect() as connection:
        used = connection.execute(
            sa.select(tables.ballot_codes).where(tables.ballot_codes.c.used_at.is_not(None))
        ).all()
    assert len(used) == 1
    # anonymous instrument: no link to the ballot, and only the day of use
    assert used[0].submission_id is None
    assert used[0].used_at.time() == datetime.min.time()
    frame = store.meetings().set_index("meeting_id")
    assert (frame.loc["m1", "codes_issued"], frame.loc["m1", "codes_used"]) == (3, 1)


def test_ballot_codes_named_instrument_keeps_link(store: Store) -> None:
    setup_meeting(store, survey=make_survey("named", anonymous=False))
    code = store.issue_ballot_codes("m1", 1)[0]
    ballot = new_uuid()
    store.submit(Submission(ballot, "m1", good_answers(), ballot_code=code))
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(tables.ballot_codes)).one()
    assert row.submission_id == ballot


# --- drafts and void ---------------------------------------------------------------------------


def test_drafts(store: Store) -> None:
    setup_meeting(store)
    setup_meeting(store, "m2")
    assert store.load_draft("tablet-1") is None
    first = new_uuid()
    store.save_draft("tablet-1", first, {"wuye__attitude": "satisfied"}, meeting_id="m1")
    store.save_draft("tablet-1", first, {"wuye__attitude": "dissatisfied"}, meeting_id="m1")
    draft = store.load_draft("tablet-1")
    assert draft is not None
    assert (draft.uuid, draft.meeting_id, dict(draft.answers)) == (
        first,
        "m1",
        {"wuye__attitude": "dissatisfied"},
    )
    # a tampered meeting id: the draft says m1, the submission says m2
    with pytest.raises(StoreError, match="draft belongs to meeting `m1`"):
        store.submit(Submission(first, "m2", good_answers()))
    assert count(store, tables.submissions) == 0
    store.submit(Submission(first, "m1", good_answers()))
    assert store.load_draft("tablet-1") is None  # deleted with the ballot, in its transaction
    with pytest.raises(StoreError, match="already stored"):
        store.save_draft("tablet-1", first, {})
    second = new_uuid()
    store.save_draft("tablet-2", second, {})
    assert not store.discard_draft("tablet-2", uuid=new_uuid())
    assert store.discard_draft("tablet-2")
    assert store.load_draft("tablet-2") is None


def test_void(store: Store) -> None:
    setup_meeting(store)
    ballots = [new_uuid() for _ in range(3)]
    for i, ballot in enumerate(ballots):
        store.submit(Submission(ballot, "m1", good_answers(i)))
    store.void(ballots[1], "一人两票")
    assert store.submission(ballots[1])["void_reason"] == "一人两票"
    assert store.responses("m1")["submission_id"].tolist() == [ballots[0], ballots[2]]
    everything = store.responses("m1", include_void=True)
    assert everything["status"].tolist() == ["valid", "void", "valid"]
    assert "status" not in store.responses("m1", status_column=False).columns
    with pytest.raises(ParameterError, match="reason"):
        store.void(ballots[0], " ")
    with pytest.raises(StoreError, match="no ballot"):
        store.void(new_uuid(), "x")
    counts = store.meetings().iloc[0]
    assert (counts.ballots_returned, counts.ballots_valid, counts.ballots_void) == (3, 2, 1)


# --- response tables ---------------------------------------------------------------------------------


def test_responses_shape_and_types(store: Store) -> None:
    setup_meeting(store)
    answers = [good_answers(i) for i in range(6)]
    answers[0]["comments"] = "电梯噪音大"
    answers[0]["role"] = "party_member"
    answers[0]["score"] = 87.5
    ballots = []
    for i, a in enumerate(answers):
        ballot = new_uuid()
        ballots.append(ballot)
        store.submit(
            Submission(
                ballot,
                "m1",
                a,
                device=f"tablet-{i % 2}",
                started_at=datetime(2026, 3, 1, 9, i, tzinfo=UTC),
                submitted_at=datetime(2026, 3, 1, 9, i + 1, tzinfo=UTC),
            )
        )
    frame = store.responses("m1")
    meta = ["submission_id", "meeting_id", "community", "street", "kind", "device"]
    meta += ["started_at", "submitted_at", "status"]
    variables = ["wuye__attitude", "wuye__overall", "juweihui__attitude", "juweihui__overall"]
    variables += [f"rectify__{c}" for c in ("attitude_issue", "slow_response", "other")]
    variables += ["comments", "role", "building", "score"]
    assert list(frame.columns) == meta + variables
    assert frame["submission_id"].tolist() == ballots
    assert frame["community"].iloc[0] == "五里桥一居"
    assert str(frame["started_at"].dt.tz) == "UTC"
    attitude = frame["wuye__attitude"]
    assert attitude.cat.ordered
    assert list(attitude.cat.categories) == [
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
        "dont_know",
    ]
    assert list(frame["wuye__overall"].cat.categories) == [
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
    ]
    assert attitude.tolist() == [a["wuye__attitude"] for a in answers]
    role = frame["role"]
    assert role.cat.ordered and list(role.cat.categories) == [
        "resident_rep",
        "party_member",
        "other",
    ]
    assert role.isna().sum() == 5  # unused levels kept, unanswered missing
    assert str(frame["building"].dtype) == "Int64"
    assert frame["building"].tolist() == [a["building"] for a in answers]
    assert str(frame["score"].dtype) == "Float64" and frame["score"].iloc[0] == 87.5
    assert str(frame["rectify__slow_response"].dtype) == "Int64"
    # rectify: unanswered (i = 0, 2, 3, 4) missing; i=1 ["slow_response"]; i=5 [.., "other"]
    assert frame["rectify__slow_response"].tolist() == [pd.NA, 1, pd.NA, pd.NA, pd.NA, 1]
    assert frame["rectify__other"].tolist() == [pd.NA, 0, pd.NA, pd.NA, pd.NA, 1]
    assert frame["rectify__attitude_issue"].tolist() == [pd.NA, 0, pd.NA, pd.NA, pd.NA, 0]
    assert frame["comments"].iloc[0] == "电梯噪音大"
    zh = store.responses("m1", labels="zh")
    assert list(zh["wuye__attitude"].cat.categories) == ["满意", "基本满意", "不满意", "不了解"]
    assert zh["wuye__attitude"].iloc[0] == "不了解"
    en = store.responses("m1", labels="en")
    assert list(en["role"].cat.categories) == ["Resident representative", "Party member", "Other"]
    assert list(en["wuye__attitude"].cat.categories)[-1] == "Don't know"


def test_responses_empty_and_across_meetings(store: Store) -> None:
    setup_meeting(store)
    empty = store.responses("m1")
    assert len(empty) == 0
    assert isinstance(empty["wuye__attitude"].dtype, pd.CategoricalDtype)
    assert str(empty["building"].dtype) == "Int64"
    store.create_meeting(
        "m2",
        kind="evaluation",
        title="另一次",
        instrument="evaltest",
        subjects=[SUBJECTS[1], {"id": "contractor", "label_zh": "施工单位"}],
        date="2026-04-01",
    )
    store.submit(Submission(new_uuid(), "m1", good_answers(1)))
    store.submit(Submission(new_uuid(), "m2", good_answers(1, ("juweihui", "contractor"))))
    frame = store.responses()
    assert frame["meeting_id"].tolist() == ["m1", "m2"]
    assert "contractor__overall" in frame.columns
    assert frame["contractor__overall"].isna().tolist() == [True, False]
    assert frame["wuye__overall"].isna().tolist() == [False, True]
    setup_meeting(store, "m3", survey=make_survey("2"))
    with pytest.raises(ParameterError, match="several instruments"):
        store.responses()
    assert len(store.responses(instrument=("evaltest", "1"))) == 2
    assert len(store.responses(instrument="evaltest")) == 0  # latest version: "2"
    with pytest.raises(ParameterError, match="`labels` must be one of"):
        store.responses(labels="fr")  # type: ignore[arg-type]


def test_ratings_long_table(store: Store) -> None:
    setup_meeting(store)
    answers = [good_answers(i) for i in range(4)]
    for a in answers:
        store.submit(Submission(new_uuid(), "m1", a))
    long = store.ratings("m1")
    assert list(long.columns) == [
        "submission_id",
        "meeting_id",
        "community",
        "subject",
        "question",
        "item",
        "value",
    ]
    assert len(long) == 4 * 2 * 2
    assert long["value"].cat.ordered
    assert list(long["value"].cat.categories)[-1] == "dont_know"
    wide = store.responses("m1")
    first = long[long["submission_id"] == wide["submission_id"].iloc[1]]
    assert first["subject"].tolist() == ["wuye", "wuye", "juweihui", "juweihui"]
    assert first["item"].tolist() == ["attitude", "overall", "attitude", "overall"]
    assert first["value"].tolist() == [
        answers[1][f"{s}__{i}"] for s in ("wuye", "juweihui") for i in ("attitude", "overall")
    ]
    table = long.groupby(["subject", "item"], observed=True)["value"].count()
    assert table.loc[("wuye", "overall")] == 4
    zh = store.ratings("m1", labels="zh")
    assert "不了解" in set(zh["value"].astype(str))
    with pytest.raises(ParameterError, match="grid questions"):
        store.ratings("m1", questions=["rating"])


def test_rating_counts_match_the_ballots(store: Store) -> None:
    from toolkit.analysis import satisfaction_rates, satisfaction_rates_from_counts

    setup_meeting(store)
    setup_meeting(store, "m2", street="南京东路街道", subjects=SUBJECTS[:1])
    ballots = []
    for i in range(14):
        answers = good_answers(i) if i % 3 else good_answers(i, subjects=("wuye",))
        answers["role"] = ("resident_rep", "party_member", "other")[i % 3]
        if i % 5 == 0:
            answers.pop("role")
        meeting = "m1" if i % 3 else "m2"
        ballots.append(store.submit(Submission(new_uuid(), meeting, answers)).uuid)
    store.submit(
        Submission(new_uuid(), "m1", {"wuye__overall": "satisfied"}, mode="paper")
    )  # blanks kept
    store.void(ballots[1], "一人两票")
    counts = store.rating_counts(by="street")
    assert list(counts.columns) == [
        "street",
        "subject",
        "question",
        "item",
        "variable",
        "value",
        "count",
    ]
    assert counts["count"].dtype == "int64" and (counts["count"] > 0).all()
    assert list(counts["value"].cat.categories) == [
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
        "dont_know",
    ]
    # every ballot counted once under every item (blanks and absent subjects as missing values)
    totals = counts.groupby(["street", "variable"])["count"].sum()
    assert set(totals.loc["五里桥街道"]) == {9} and set(totals.loc["南京东路街道"]) == {5}
    m2 = counts[(counts["street"] == "南京东路街道") & (counts["variable"] == "juweihui__overall")]
    assert m2["value"].isna().all() and m2["count"].tolist() == [5]
    wide = store.responses()
    items = list(dict.fromkeys(counts["variable"]))
    assert items == ["wuye__attitude", "wuye__overall", "juweihui__attitude", "juweihui__overall"]
    for by in ("street", ["street", "role"], ["meeting_id"]):
        for denominator in ("valid", "all"):
            expected = satisfaction_rates(wide, items=items, by=by, denominator=denominator)
            got = satisfaction_rates_from_counts(
                store.rating_counts(by=by), items=items, by=by, denominator=denominator
            )
            pd.testing.assert_frame_equal(got, expected)
    with_void = store.rating_counts(by=(), include_void=True)
    assert with_void.groupby("variable")["count"].sum().eq(15).all()
    only = store.rating_counts("m1", by=["status"], items=["overall"], subjects=["juweihui"])
    assert set(only["variable"]) == {"juweihui__overall"} and set(only["status"]) == {"valid"}
    by_role = store.rating_counts(by="role")
    assert list(by_role["role"].cat.categories) == ["resident_rep", "party_member", "other"]
    with pytest.raises(ParameterError, match="single-choice questions"):
        store.rating_counts(by="rol")
    with pytest.raises(ParameterError, match="grid items"):
        store.rating_counts(items=["overal"])
    with pytest.raises(ParameterError, match="subjects of the selected meetings"):
        store.rating_counts(subjects=["yeweihui"])


def test_rating_counts_of_nothing(store: Store) -> None:
    assert store.rating_counts().empty
    setup_meeting(store)
    counts = store.rating_counts("m1")
    assert counts.empty and "count" in counts


# --- participants and attendance ------------------------------------------------------------------


def _people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ["p1", "p2", "p3"],
            "community": ["五里桥一居"] * 3,
            "role": ["resident_rep", "party_member", "building_head"],
            "gender": ["female", "male", "female"],
            "age_band": ["70-79", "60-69", "50-59"],
            "building": [3, 5, 5],
            "floor_band": ["1-3", "4-6", "7+"],
            "household_id": ["h3-101", "h5-402", "h5-801"],
            "party_member": [False, True, None],
            "birth_year": [1950, None, 1970],
            "name": ["王阿姨", "李师傅", "张老师"],
            "room": ["101", "402", None],
        }
    )


def test_participants_names_are_kept_apart(store: Store) -> None:
    setup_meeting(store)
    assert store.add_participants(_people()) == ["p1", "p2", "p3"]
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("participants")}
        names = connection.execute(sa.select(tables.participant_names)).all()
    assert "name" not in columns and "room" not in columns
    assert {n.name for n in names} == {"王阿姨", "李师傅", "张老师"}
    with pytest.raises(ConflictError, match="replace=True"):
        store.add_participants(_people().iloc[:1])
    changed = _people().iloc[:1].assign(role="deputy", name="王阿姨")
    store.add_participants(changed, replace=True)
    generated = store.add_participants(pd.DataFrame({"role": ["other"], "gender": ["male"]}))
    assert generated[0].startswith("p-")
    with pytest.raises(DataError, match="Did you mean `gender`"):
        store.add_participants(pd.DataFrame({"participant_id": ["x"], "gendr": ["male"]}))
    store.invite("m1", ["p1", "p2"])
    roster = store.roster("m1")
    assert roster["participant_id"].tolist() == ["p1", "p2"]
    assert roster.loc[0, "role"] == "deputy" and roster.loc[0, "building"] == "3"
    assert not {"name", "room"} & set(roster.columns)
    assert str(roster["birth_year"].dtype) == "Int64"
    with pytest.raises(DataError, match="unknown participant ids: nobody"):
        store.invite("m1", ["nobody"])


def test_attendance(store: Store) -> None:
    setup_meeting(store)
    store.add_participants(_people())
    assert store.invite("m1", ["p1", "p2"]) == 2
    assert store.invite("m1", ["p1"]) == 0
    arrived = store.check_in("m1", "p1", at=datetime(2026, 3, 1, 1, 30, tzinfo=UTC))
    assert (arrived.invited, arrived.walk_in) == (True, False)
    again = store.check_in("m1", "p1")
    assert again.checked_in_at == arrived.checked_in_at  # idempotent
    with pytest.raises(StoreError, match="walk_in=True"):
        store.check_in("m1", "p3")
    assert store.check_in("m1", "p3", walk_in=True).walk_in
    newcomer = store.register_walk_in(
        "m1", role="other", gender="male", age_band="30-39", building=7, name="赵先生"
    )
    table = store.attendance_table("m1").set_index("participant_id")
    assert table.loc["p1", "attended"] and not table.loc["p2", "attended"]
    assert table.loc[newcomer, "community"] == "五里桥一居"
    assert bool(table.loc[newcomer, "walk_in"]) and not bool(table.loc[newcomer, "invited"])
    assert table["attended"].sum() == 3
    found = store.search_participants("m1", "王")
    assert found["name"].tolist() == ["王阿姨"] and bool(found["checked_in"].iloc[0])
    assert store.search_participants("m1", "赵")["participant_id"].tolist() == [newcomer]
    store.close_meeting("m1")
    with pytest.raises(StoreError, match="closed"):
        store.check_in("m1", "p2")


# --- canonical hash ---------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.text(max_size=5),
            st.integers(),
            st.lists(st.text(max_size=4), max_size=4, unique=True),
        ),
        max_size=6,
    ),
    st.randoms(use_true_random=False),
)
def test_answers_hash_ignores_order(answers: dict[str, Any], rng: Any) -> None:
    items = list(answers.items())
    rng.shuffle(items)
    shuffled = {k: (rng.sample(v, len(v)) if isinstance(v, list) else v) for k, v in items}
    assert answers_hash(shuffled) == answers_hash(answers)


# --- crash durability ---------------------------------------------------------------------------------

CHILD = """
import sys, uuid
from tests.store_support import good_answers, make_survey
from toolkit.store import Store, Submission
store = Store.open(sys.argv[1])
store.add_instrument(make_survey())
for i in range(100000):
    ballot = str(uuid.uuid4())
    store.submit(Submission(ballot, "m1", good_answers(i), device="tablet-1"))
    print(ballot, flush=True)
"""


@pytest.mark.slow
def test_acknowledged_ballots_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    with Store.open(path) as store:
        setup_meeting(store)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        acknowledged.append(line.strip())
    child.send_signal(signal.SIGKILL)  # mid-stream, probably inside a transaction
    rest, errors = child.communicate(timeout=30)
    acknowledged += [line.strip() for line in rest.splitlines() if line.strip()]
    assert child.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 40, errors
    with Store.open(path) as store:
        stored = store.responses("m1")["submission_id"]
    assert set(acknowledged) <= set(stored)
    assert stored.is_unique
    assert stored.value_counts().reindex(acknowledged).eq(1).all()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_ballot_code_checks_before_the_ballot(store: Store) -> None:
    setup_meeting(store, "m1")
    setup_meeting(store, "m2")
    assert store.meeting_uses_ballot_codes("m1") is False
    (code,) = store.issue_ballot_codes("m1", 1)
    assert store.meeting_uses_ballot_codes("m1") is True
    assert store.meeting_uses_ballot_codes("m2") is False
    assert store.ballot_code_usable("m1", code) is True
    assert store.ballot_code_usable("m1", code.replace("-", " ")) is True
    assert store.ballot_code_usable("m2", code) is False  # issued for another meeting
    assert store.ballot_code_usable("m1", "0000-0000") is False or code == "0000-0000"
    store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=code))
    assert store.ballot_code_usable("m1", code) is False  # used


def test_paper_ballots_keep_blanks_but_not_bad_answers(store: Store) -> None:
    setup_meeting(store, "m1")
    blank = good_answers()
    del blank["wuye__overall"]  # a required item left blank on paper
    with pytest.raises(AnswerError, match="wuye__overall"):
        store.submit(Submission(new_uuid(), "m1", blank))
    paper = new_uuid()
    assert store.submit(Submission(paper, "m1", blank, mode="paper")).status == "stored"
    wrong = {**blank, "wuye__attitude": "excellent"}
    with pytest.raises(AnswerError, match="wuye__attitude"):
        store.submit(Submission(new_uuid(), "m1", wrong, mode="paper"))
    with store.engine.connect() as connection:
        modes = connection.execute(sa.select(tables.submissions.c.mode)).scalars().all()
    assert modes == ["paper"]
    with pytest.raises(ParameterError, match="`mode`"):
        Submission(new_uuid(), "m1", blank, mode="fax")  # type: ignore[arg-type]
