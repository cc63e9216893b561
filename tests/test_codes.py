"""Ballot codes are stored as HMAC-SHA256 under a secret outside the database (toolkit/store/codes.py).

A copy of the database alone cannot reverse or check a code; legacy (pre-0004) codes still verify.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from tests.error_support import raises_problems
from tests.store_support import PG_URL, good_answers, need_postgres, new_uuid, setup_meeting
from toolkit.errors import AnswerError, StoreError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables
from toolkit.store.codes import (
    SECRET_ENV,
    code_secret,
    hmac_code,
    legacy_code_hash,
    secret_path,
)
from toolkit.store.store import alembic_config, create_engine, upgrade_schema


def stored_codes(store: Store) -> list[tuple[str, str]]:
    b = tables.ballot_codes
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(b.c.code_hash, b.c.scheme))]


def test_stored_digest_is_keyed_and_the_secret_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        setup_meeting(store)
        assert not secret_path(path).exists()  # made on first use only
        codes = store.issue_ballot_codes("m1", 3)
        secret = code_secret(store.engine)
        rows = dict(stored_codes(store))
    assert stat.S_IMODE(secret_path(path).stat().st_mode) == 0o600
    assert len(secret) == 32
    assert set(rows.values()) == {"hmac"}
    assert set(rows) == {hmac_code(secret, c) for c in codes}
    # the unkeyed hash of before (what a brute force over 10^8 codes would find) is not stored
    assert not set(rows) & {legacy_code_hash(c) for c in codes}
    # the secret is not in the database file
    assert secret.hex().encode() not in path.read_bytes()
    assert secret not in path.read_bytes()


def test_a_copy_of_the_database_alone_cannot_check_codes(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        setup_meeting(store)
        code, spare = store.issue_ballot_codes("m1", 2)
        assert store.ballot_code_usable("m1", code)
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    shutil.copy(path, stolen / "site.db")
    with Store.open(stolen / "site.db") as copy:
        assert not copy.ballot_code_usable("m1", code)  # a new secret: the code does not verify
        with raises_problems(AnswerError, "E_UNKNOWN_BALLOT_CODE"):
            copy.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=code))
        assert copy.responses("m1").empty
    # with the secret copied along, the copy is a working store again
    shutil.copy(secret_path(path), secret_path(stolen / "site.db"))
    with Store.open(stolen / "site.db") as copy:
        assert copy.ballot_code_usable("m1", spare)


def test_a_wrong_secret_does_not_verify(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        setup_meeting(store)
        (code,) = store.issue_ballot_codes("m1", 1)
    secret_path(path).write_text(os.urandom(32).hex() + "\n")
    with Store.open(path) as store:
        assert not store.ballot_code_usable("m1", code)
        with raises_problems(AnswerError, "E_UNKNOWN_BALLOT_CODE"):
            store.submit(Submission(new_uuid(), "m1", good_answers(), ballot_code=code))
    secret_path(path).write_text("not a secret\n")
    with Store.open(path) as store, pytest.raises(StoreError, match="damaged"):
        store.ballot_code_usable("m1", code)


def test_codes_issued_before_revision_0004_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        setup_meeting(store)
    engine = create_engine(path)
    with engine.begin() as connection:  # back to 0003, with a code as that release stored it
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0003_entry_mode")
        connection.execute(
            sa.text(
                "INSERT INTO ballot_codes (code_hash, meeting_id, issued_at) "
                "VALUES (:h, 'm1', '2026-03-01 08:00:00.000000')"
            ),
            {"h": legacy_code_hash("1111-2222")},
        )
    assert upgrade_schema(engine, revision="0004_code_hmac") == "0004_code_hmac"
    engine.dispose()
    with Store.open(path) as store:
        assert stored_codes(store) == [(legacy_code_hash("1111-2222"), "sha256")]
        assert store.ballot_code_usable("m1", "1111 2222")
        assert not store.ballot_code_usable("m1", "1111-2223")
        ballot = Submission(new_uuid(), "m1", good_answers(), ballot_code="11112222")
        assert store.submit(ballot).status == "stored"
        assert not store.ballot_code_usable("m1", "1111-2222")
        (new,) = store.issue_ballot_codes("m1", 1)
        assert store.ballot_code_usable("m1", new)


def test_sync_copies_the_scheme_and_never_the_secret(tmp_path: Path) -> None:
    from toolkit.store.sync import sync

    site = tmp_path / "site.db"
    with Store.open(site) as store:
        setup_meeting(store)
        (code,) = store.issue_ballot_codes("m1", 1)
        copied = stored_codes(store)
    target = tmp_path / "district.db"
    sync(site, f"sqlite:///{target}", progress=False)
    with Store.open(target) as district:
        assert stored_codes(district) == copied  # the keyed digest, marked "hmac"
        assert not district.ballot_code_usable("m1", code)  # its own secret: not the site's
    assert secret_path(site).read_text() != secret_path(target).read_text()


def test_in_memory_stores_use_a_process_secret() -> None:
    with Store.open("sqlite://") as store:
        setup_meeting(store)
        (code,) = store.issue_ballot_codes("m1", 1)
        assert store.ballot_code_usable("m1", code)
        ((digest, scheme),) = stored_codes(store)
        assert scheme == "hmac" and digest != legacy_code_hash(code)
        assert not store.ballot_code_usable("m1", "\ud800\x00")  # bad Unicode: no crash


@pytest.fixture
def pg_store() -> Iterator[Store]:
    need_postgres()
    schema = f"sanhui_codes_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_takes_the_secret_from_the_environment(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_meeting(pg_store)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(StoreError, match=f"{SECRET_ENV} is not set"):
        pg_store.issue_ballot_codes("m1", 1)
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(StoreError, match="has 5 characters"):
        pg_store.issue_ballot_codes("m1", 1)
    assert stored_codes(pg_store) == []
    monkeypatch.setenv(SECRET_ENV, "a" * 64)
    (code,) = pg_store.issue_ballot_codes("m1", 1)
    ((digest, scheme),) = stored_codes(pg_store)
    assert (digest, scheme) == (hmac_code(b"a" * 64, code), "hmac")
    assert pg_store.ballot_code_usable("m1", code)
    monkeypatch.setenv(SECRET_ENV, "b" * 64)
    with Store.open(PG_URL, schema=pg_store._schema) as other:  # another process, wrong secret
        assert not other.ballot_code_usable("m1", code)
