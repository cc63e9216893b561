"""Tests of toolkit.store.reads and counts: the wide and long response tables and rating counts.

Every store test runs on SQLite and on PostgreSQL (127.0.0.1:5432, database ``test``, a fresh schema
per test); see tests/store_support.py for when PostgreSQL tests are skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.error_support import raises_code
from tests.store_support import (
    SUBJECTS,
    good_answers,
    make_survey,
    new_uuid,
    setup_meeting,
    store_fixture,  # noqa: F401  (the `store` fixture)
)
from toolkit.errors import ParameterError
from toolkit.store import Store, Submission

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
    with raises_code(ParameterError, "E_OPTION", argument="labels"):
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
