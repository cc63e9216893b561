"""Tests of toolkit.store.engine: connection settings, file modes, URLs and migrations.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test); see tests/store_support.py for when PostgreSQL tests are skipped.
"""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store_support import (
    ROOT,
    good_answers,
    make_survey,
    new_uuid,
    setup_meeting,
    store_fixture,  # noqa: F401  (the `store` fixture)
)
from toolkit.errors import ParameterError, StoreError
from toolkit.store import Store, Submission, answers_hash, default_url
from toolkit.store import schema as tables
from toolkit.store.store import create_engine, upgrade_schema

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

    assert store.schema_revision == "0011_repeats"
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
        assert store.schema_revision == "0011_repeats"
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


def test_existing_sqlite_files_are_tightened_to_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        setup_meeting(store)
        store.submit(Submission(new_uuid(), "m1", good_answers()))
    files = [Path(str(path) + suffix) for suffix in ("", "-wal", "-shm")]
    # a file made by another tool (or an older release) readable by everyone
    for f in files:
        f.touch()
        f.chmod(0o644)
    with Store.open(path) as store:
        assert store.meetings().shape[0] == 1
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_no_column_of_submissions_links_a_ballot_to_a_person() -> None:
    """SECURITY.md: ballots hold no name and no participant id; nothing links a ballot to a person."""
    submissions = tables.submissions
    people = {"participants", "participant_names", "attendance"}
    assert not [fk for fk in submissions.foreign_keys if fk.column.table.name in people], (
        "submissions references a table of people"
    )
    personal = ("participant", "person", "name", "room", "household", "phone", "birth")
    assert not [c.name for c in submissions.columns if any(p in c.name for p in personal)]
    assert {c.name for c in submissions.columns} == {
        "submission_id",
        "meeting_id",
        "instrument_id",
        "instrument_version",
        "device",
        "started_at",
        "submitted_at",
        "stored_at",
        "status",
        "void_reason",
        "answers",
        "paradata",
        "answers_hash",
        "mode",
    }, "a new submissions column: check it links no ballot to a person, then list it here"


def test_the_migrations_have_one_head() -> None:
    """Every migration names the one before it: a second head means a down_revision to re-point."""
    from alembic.script import ScriptDirectory

    from toolkit.store.engine import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: re-point a down_revision"
