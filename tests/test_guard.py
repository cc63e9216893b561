"""Size and Unicode bounds on ballots and drafts (toolkit/store/guard.py), through the Store.

Each refused payload raises a clear AnswerError (Chinese and English) and stores nothing: no
ballot, no used code, and the draft saved before stays as it was. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.store_support import PG_URL, good_answers, need_postgres, new_uuid, setup_meeting
from toolkit.errors import AnswerError, ParameterError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables
from toolkit.store.guard import MAX_BALLOT_BYTES, MAX_DEPTH, check_payload


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with Store.open(tmp_path / "sanhui.db") as opened:
            setup_meeting(opened)
            yield opened
        return
    need_postgres()
    schema = f"sanhui_guard_{uuid.uuid4().hex[:12]}"
    opened = Store.open(PG_URL, schema=schema)
    try:
        setup_meeting(opened)
        yield opened
    finally:
        opened.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


BAD_TEXTS = {
    "lone surrogate": "满意\ud800",
    "surrogate escape": b"\xe6\xbb\xa1\xff".decode("utf-8", errors="surrogateescape"),
    "NUL": "a\x00b",
    "escape": "\x1b[31m",
}


def refused(info: pytest.ExceptionInfo[AnswerError], code: str) -> str:
    """The message of the one problem of a refusal, after checking its code, and that it says the
    problem in Chinese and in English (a resident may see it)."""
    (problem,) = info.value.problems
    assert problem.code == code, problem
    assert re.search("[\u4e00-\u9fff]", problem.message), problem.message
    assert re.search("[A-Za-z]{4}", problem.message), problem.message
    return problem.message


def count(store: Store, table: sa.Table = tables.submissions) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_the_cap_and_its_edge() -> None:
    filler = "x" * (MAX_BALLOT_BYTES - len('{"c":""}'))
    assert check_payload({"c": filler}, where="draft") == MAX_BALLOT_BYTES
    with pytest.raises(AnswerError) as info:
        check_payload({"c": filler + "x"}, where="draft")
    assert f"{MAX_BALLOT_BYTES + 1:,}" in refused(info, "E_TOO_LARGE")  # the size it has
    # Chinese counts in UTF-8 bytes (3 each), and answers and paradata count together
    with pytest.raises(AnswerError) as info:
        check_payload(
            {"c": "满" * (MAX_BALLOT_BYTES // 6)}, {"p": "满" * (MAX_BALLOT_BYTES // 6)}, where="b"
        )
    refused(info, "E_TOO_LARGE")
    nested: object = "leaf"
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    with pytest.raises(AnswerError) as info:
        check_payload({"c": nested}, where="draft")
    refused(info, "E_TOO_DEEP")
    assert check_payload({"c": "tab\tnew\nline\r"}, where="draft") > 0


@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
def test_bad_text_in_a_draft_saves_nothing(store: Store, kind: str) -> None:
    ballot = new_uuid()
    store.save_draft("token-a", ballot, {"state": {"comments": "first"}}, meeting_id="m1")
    bad = BAD_TEXTS[kind]
    for state in ({"comments": bad}, {"answers": {"comments": bad}}, {bad: "x"}):
        with pytest.raises(AnswerError) as caught:
            store.save_draft("token-a", ballot, state, meeting_id="m1")
        refused(caught, "E_BAD_CHARACTER")
    draft = store.load_draft("token-a")
    assert draft is not None and draft.answers == {"state": {"comments": "first"}}


def test_an_oversized_draft_saves_nothing(store: Store) -> None:
    ballot = new_uuid()
    store.save_draft("token-a", ballot, {"comments": "short"}, meeting_id="m1")
    with pytest.raises(AnswerError) as info:
        store.save_draft("token-a", ballot, {"comments": "x" * 1_000_000}, meeting_id="m1")
    refused(info, "E_TOO_LARGE")
    with pytest.raises(AnswerError) as info:
        store.save_draft("token-b", new_uuid(), {"comments": "满" * 100_000}, meeting_id="m1")
    refused(info, "E_TOO_LARGE")
    draft = store.load_draft("token-a")
    assert draft is not None and draft.answers == {"comments": "short"}
    assert store.load_draft("token-b") is None
    assert count(store, tables.drafts) == 1


def test_bad_or_oversized_submissions_store_nothing(store: Store) -> None:
    (code,) = store.issue_ballot_codes("m1", 1)
    for paradata, problem in (
        ({"device": "A3\x00"}, "E_BAD_CHARACTER"),
        ({"page_seconds": {"p\ud800": 1.0}}, "E_BAD_CHARACTER"),
        ({"log": "x" * MAX_BALLOT_BYTES}, "E_TOO_LARGE"),
    ):
        ballot = Submission(new_uuid(), "m1", good_answers(), paradata=paradata, ballot_code=code)
        with pytest.raises(AnswerError) as info:
            store.submit(ballot)
        refused(info, problem)
    assert count(store) == 0
    assert store.ballot_code_usable("m1", code)  # the code was not used up
    ballot = Submission(
        new_uuid(), "m1", good_answers(), paradata={"device": "A3"}, ballot_code=code
    )
    assert store.submit(ballot).status == "stored"


def test_the_owner_key_is_opaque_and_bounded(store: Store) -> None:
    ballot = new_uuid()
    token = uuid.uuid4().hex
    draft = store.save_draft(token, ballot, {"device": "C1", "answers": {}}, meeting_id="m1")
    assert draft.owner == draft.device == token
    assert store.load_draft("C1") is None  # the tablet's label does not find it
    assert store.load_draft(token) is not None
    for owner in ("", "x" * 101, "tok\x00en", None):
        with pytest.raises(ParameterError, match="`owner`"):
            store.save_draft(owner, new_uuid(), {}, meeting_id="m1")  # type: ignore[arg-type]
    assert count(store, tables.drafts) == 1
