"""Tests of toolkit.synth.cases: cases that run through the stages, with stalls and rectification."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.analysis import position_association
from toolkit.synth import make_city
from toolkit.synth.cases import make_cases


@pytest.fixture(scope="module")
def bundle():  # type: ignore[no-untyped-def]
    city = make_city(
        seed=5,
        streets=2,
        communities_per_street=4,
        buildings_per_community=4,
        households_per_building=20,
    )
    return make_cases(city, seed=5, per_community=3)


def test_same_seed_same_bundle() -> None:
    city = make_city(seed=2, streets=1, communities_per_street=2, buildings_per_community=3,
                     households_per_building=10)  # fmt: skip
    a, b = make_cases(city, seed=2), make_cases(city, seed=2)
    pd.testing.assert_frame_equal(a.meetings, b.meetings)
    assert a.ballots["submission_id"].tolist() == b.ballots["submission_id"].tolist()
    assert make_cases(city, seed=3).ballots["submission_id"].tolist() != (
        a.ballots["submission_id"].tolist()
    )


def test_stages_in_order_with_stalls(bundle) -> None:  # type: ignore[no-untyped-def]
    stages = bundle.meetings.groupby("case_id")["stage"].apply(list)
    order = {"hearing": 0, "coordination": 1, "evaluation": 2, "follow_up": 3}
    for sequence in stages:
        assert sequence[0] == "hearing"
        assert [order[s] for s in sequence] == sorted(order[s] for s in sequence)
    dates = bundle.meetings.groupby("case_id")["date"].apply(list)
    assert all(d == sorted(d) for d in dates)
    reached = bundle.outcomes.groupby("case_id")["agreement"].apply(lambda s: "reached" in set(s))
    stalled = reached[~reached].index
    assert len(stalled) >= 2  # some issues never get past coordination
    evaluated = set(bundle.meetings.loc[bundle.meetings["stage"] == "evaluation", "case_id"])
    assert evaluated.isdisjoint(stalled)
    assert set(bundle.cases["venue"]) == {"community", "park", "online"}


def test_rectification_follows_low_ratings(bundle) -> None:  # type: ignore[no-untyped-def]
    assert len(bundle.rectification) > 0
    for item in bundle.rectification.to_dict("records"):
        ballots = bundle.ballots[bundle.ballots["meeting_id"] == item["source_meeting_id"]]
        values = [a[item["source_ref"]] for a in ballots["answers"]]
        rated = [v for v in values if v != "dont_know"]
        assert sum(v == "dissatisfied" for v in rated) / len(rated) >= 0.2


def test_elevator_positions_depend_on_floor(bundle) -> None:  # type: ignore[no-untyped-def]
    hearings = bundle.meetings[
        (bundle.meetings["stage"] == "hearing")
        & bundle.meetings["case_id"].isin(bundle.cases.loc[bundle.cases["kind"] == "elevator",
                                                           "case_id"])
    ]["meeting_id"]  # fmt: skip
    answers = pd.DataFrame(
        list(bundle.ballots.loc[bundle.ballots["meeting_id"].isin(hearings), "answers"])
    )
    direct = answers.dropna(subset=["floor_band"])
    support = direct.groupby("floor_band")["option_1"].apply(
        lambda s: (s.isin(["support", "conditional"])).mean()
    )
    assert support["1-3"] < support["4-6"] < support["7+"]
    test = position_association(direct, item="option_1", by="floor_band").iloc[0]
    assert test["p_value"] < 0.01


def test_load_cases_into_a_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from toolkit.demo import SUBJECT_LABELS, SURVEYS_DIR
    from toolkit.instrument import load_survey
    from toolkit.store import Store
    from toolkit.synth.cases import load_cases

    city = make_city(seed=4, streets=1, communities_per_street=2, buildings_per_community=3,
                     households_per_building=12)  # fmt: skip
    small = make_cases(city, seed=4)
    with Store.open(tmp_path / "cases.db") as store:
        for path in [*SURVEYS_DIR.glob("*.yaml"), *SURVEYS_DIR.glob("park/*.yaml")]:
            store.add_instrument(load_survey(path))
        load_cases(store, small, labels=SUBJECT_LABELS)
        cases = store.cases().set_index("case_id")
        assert sorted(cases.index) == sorted(small.cases["case_id"])
        assert cases["meetings"].sum() == len(small.meetings)
        assert len(store.rectification_items()) == len(small.rectification)
        links = store.case_meetings()
        assert links["stage"].tolist() == small.meetings["stage"].tolist()
        assert set(links["venue"]) <= {"community", "park", "online"}
        hearing = small.meetings.loc[small.meetings["stage"] == "hearing", "meeting_id"].iloc[0]
        assert len(store.responses(hearing)) == (small.ballots["meeting_id"] == hearing).sum()
