"""Tests of toolkit.store.repeats: repeat groups' answers as child rows of the ballot, on SQLite
and PostgreSQL (the `store` fixture), and the long table."""

from __future__ import annotations

import pytest

from tests.store_support import count, new_uuid, store_fixture  # noqa: F401  (the `store` fixture)
from tests.test_answers_repeat import household
from toolkit.errors import AnswerError, ConflictError
from toolkit.store import Store, Submission
from toolkit.store import schema as tables
from toolkit.store.repeats import REPEAT_COLUMNS


@pytest.fixture
def meeting(store: Store) -> str:
    store.create_meeting("hh1", kind="evaluation", title="评议会", instrument=household())
    return "hh1"


MEMBERS = [{"age": 40, "sex": "f", "job": "教师"}, {"age": 9, "sex": "m"}]


def test_rows_are_written_with_the_ballot_and_once(store: Store, meeting: str) -> None:
    uuid = new_uuid()
    ballot = Submission(uuid, meeting, {"size": 2, "member": MEMBERS})
    assert store.submit(ballot).status == "stored"
    assert store.submit(ballot).status == "already_stored"
    assert count(store, tables.repeat_rows) == 5
    changed = Submission(uuid, meeting, {"size": 2, "member": MEMBERS[:1]})
    with pytest.raises(ConflictError):
        store.submit(changed)
    assert count(store, tables.repeat_rows) == 5
    # the wide table has the ballot's own variable, never the repeat's
    assert "member" not in store.responses(meeting).columns
    assert "age" not in store.responses(meeting).columns


def test_a_bad_instance_stores_nothing(store: Store, meeting: str) -> None:
    bad = [{"age": 40}, {"age": 200}, {"job": "x"}]
    with pytest.raises(AnswerError) as caught:
        store.submit(Submission(new_uuid(), meeting, {"size": 3, "member": bad}))
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["member[2].age", "member[3].age", "member[3].job"]
    assert count(store, tables.repeat_rows) == 0
    assert count(store, tables.submissions) == 0


def test_the_long_table(store: Store, meeting: str) -> None:
    first, second, void = new_uuid(), new_uuid(), new_uuid()
    store.submit(Submission(first, meeting, {"size": 2, "member": MEMBERS}))
    store.submit(Submission(second, meeting, {"size": 1, "member": [{"sex": "m", "age": 70}]}))
    store.submit(Submission(void, meeting, {"size": 1, "member": [{"age": 1}]}))
    store.submit(Submission(new_uuid(), meeting, {"size": 0}))
    store.void(void, "test")
    frame = store.repeat_rows(meeting)
    assert tuple(frame.columns) == REPEAT_COLUMNS
    rows = frame[["submission_id", "instance", "variable", "value", "label"]].values.tolist()
    assert rows == [
        [first, 1, "age", 40, "40"],
        [first, 1, "sex", "f", "女"],
        [first, 1, "job", "教师", "教师"],
        [first, 2, "age", 9, "9"],
        [first, 2, "sex", "m", "男"],
        [second, 1, "age", 70, "70"],
        [second, 1, "sex", "m", "男"],
    ]
    assert set(frame["repeat"]) == {"member"} and set(frame["meeting_id"]) == {meeting}
    english = store.repeat_rows(meeting, language="en", include_void=True)
    assert english["label"].tolist()[1] == "Female"
    assert void in set(english["submission_id"])
    assert store.repeat_rows(meeting)["instance"].dtype == "Int64"
