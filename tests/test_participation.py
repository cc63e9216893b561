"""Tests for toolkit.analysis.participation (turnout, representativeness, repeat participation).

Sources of truth: R ``prop.test(x, n, correct = FALSE)`` (Wilson) in
tests/reference/participation_turnout.R/.json, R ``chisq.test(x, p = q)`` in
tests/reference/participation_representativeness.R/.json, and the Shanghai survey turnout figures
quoted in docs/domain.md (13.8 % at 18-29, 55.7 % at 50-59, 77.7 % at 70-79; party members
65.1 %, others 48.4 %).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.analysis.participation import (
    ALL,
    repeat_participation,
    representativeness,
    turnout,
)
from toolkit.errors import DataError, ParameterError

REF = Path(__file__).parent / "reference"
TURNOUT_REF = json.loads((REF / "participation_turnout.json").read_text(encoding="utf-8"))
REPR_REF = json.loads((REF / "participation_representativeness.json").read_text(encoding="utf-8"))

REL = 1e-9


def close(value: Any, expected: Any, rel: float = REL) -> bool:
    return bool(value == pytest.approx(expected, rel=rel, abs=1e-12))


def roster_from_counts(rows: list[tuple[dict[str, Any], int, int]]) -> pd.DataFrame:
    """Build a roster: for each (group values, attended, invited), ``invited`` people."""
    records: list[dict[str, Any]] = []
    for values, x, n in rows:
        for i in range(n):
            records.append({**values, "attended": i < x})
    return pd.DataFrame.from_records(records)


# ------------------------------------------------------------------------------------------------
# turnout
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", TURNOUT_REF["single"], ids=lambda c: f"{c['count']}/{c['n']}")
def test_turnout_matches_r_prop_test(case: dict[str, Any]) -> None:
    roster = roster_from_counts([({}, int(case["count"]), int(case["n"]))])
    res = turnout(roster, confidence=case["confidence"])
    assert list(res.columns) == [
        "measure",
        "count",
        "n",
        "estimate",
        "ci_low",
        "ci_high",
        "method",
        "confidence",
    ]
    row = res.iloc[0]
    assert row["measure"] == "persons"
    assert row["count"] == case["count"] and row["n"] == case["n"]
    assert close(row["estimate"], case["estimate"])
    assert close(row["ci_low"], case["ci_low"], 1e-7)
    assert close(row["ci_high"], case["ci_high"], 1e-7)


def test_turnout_by_role_matches_r() -> None:
    ref = TURNOUT_REF["grouped"]
    roster = roster_from_counts(
        [({"role": g["role"]}, int(g["count"]), int(g["n"])) for g in ref["by_role"]]
    )
    roster = roster.sample(frac=1.0, random_state=3).reset_index(drop=True)
    res = turnout(roster, by="role")
    assert res.iloc[0]["role"] == ALL
    expected = [ref["overall"], *ref["by_role"]]
    assert list(res["role"]) == [ALL] + [g["role"] for g in ref["by_role"]]
    for (_, row), exp in zip(res.iterrows(), expected, strict=True):
        assert row["count"] == exp["count"] and row["n"] == exp["n"]
        assert close(row["ci_low"], exp["ci_low"], 1e-7)
        assert close(row["ci_high"], exp["ci_high"], 1e-7)


def test_turnout_reaches_shanghai_survey_figures() -> None:
    """A synthetic roster built to the Shanghai survey's published turnout (docs/domain.md, Participation).

    Age bands 18-29: 13.8 %, 50-59: 55.7 %, 70-79: 77.7 %; party members 65.1 %, others 48.4 %.
    The cells (age band x party) are chosen so that both margins hold at once.
    """
    cells = [  # (age band, party, attended, invited)
        ("18-29", "other", 138, 1000),
        ("30-49", "other", 400, 1000),
        ("50-59", "member", 200, 250),
        ("50-59", "other", 357, 750),
        ("60-69", "member", 250, 350),
        ("60-69", "other", 465, 650),
        ("70-79", "member", 201, 400),
        ("70-79", "other", 576, 600),
    ]
    roster = roster_from_counts([({"age_band": a, "party": p}, x, n) for a, p, x, n in cells])
    by_age = turnout(roster, by="age_band").set_index("age_band")
    for band, rate in {"18-29": 0.138, "50-59": 0.557, "70-79": 0.777}.items():
        assert by_age.loc[band, "estimate"] == pytest.approx(rate, abs=1e-12)
    by_party = turnout(roster, by="party").set_index("party")
    assert by_party.loc["member", "estimate"] == pytest.approx(0.651, abs=1e-12)
    assert by_party.loc["other", "estimate"] == pytest.approx(0.484, abs=1e-12)
    assert by_age.loc["18-29", "ci_low"] < 0.138 < by_age.loc["18-29", "ci_high"]
    crossed = turnout(roster, by=["age_band", "party"])
    assert len(crossed) == 1 + len(cells)


def test_turnout_several_by_columns_are_crossed_and_keep_missing_groups() -> None:
    roster = pd.DataFrame(
        {
            "attended": [1, 0, 1, 1, 0, 0, 1],
            "building": ["3", "3", "3", "5", "5", "5", "5"],
            "gender": ["f", "m", "f", "f", None, "m", "m"],
        }
    )
    res = turnout(roster, by=["building", "gender"])
    assert list(res.columns[:2]) == ["building", "gender"]
    assert res.iloc[0][["building", "gender"]].tolist() == [ALL, ALL]
    groups = res.iloc[1:]
    assert len(groups) == 5  # (3,f) (3,m) (5,f) (5,m) (5,NaN)
    assert groups["n"].sum() == 7 and groups["count"].sum() == 4
    missing = groups[groups["gender"].isna()]
    assert missing["n"].tolist() == [1] and missing["count"].tolist() == [0]


def test_turnout_keeps_categorical_order_and_skips_empty_categories() -> None:
    bands = ["18-29", "30-49", "50-69", "70+"]
    roster = pd.DataFrame(
        {
            "attended": [1, 0, 1, 1],
            "age": pd.Categorical(["70+", "18-29", "30-49", "70+"], categories=bands),
        },
        index=[5, 6, 7, 8],
    )
    res = turnout(roster, by="age")
    assert list(res["age"]) == [ALL, "18-29", "30-49", "70+"]
    assert list(res["count"]) == [3, 0, 1, 2]


def test_turnout_households() -> None:
    roster = pd.DataFrame(
        {
            "attended": [True, True, False, False, True, False],
            "household": ["A", "A", "B", "B", "C", "D"],
            "floor": ["1-3", "1-3", "1-3", "4-6", "4-6", "4-6"],
        }
    )
    res = turnout(roster, household="household")
    hh = res[res["measure"] == "households"].iloc[0]
    assert (hh["count"], hh["n"]) == (2, 4)  # A and C represented out of A, B, C, D
    by_floor = turnout(roster, by="floor", household="household")
    hh_floor = by_floor[by_floor["measure"] == "households"].set_index("floor")
    # household B has members on both floor bands: it is counted in each
    assert (hh_floor.loc["1-3", "count"], hh_floor.loc["1-3", "n"]) == (1, 2)
    assert (hh_floor.loc["4-6", "count"], hh_floor.loc["4-6", "n"]) == (1, 3)


def test_turnout_other_method_and_bool_flags() -> None:
    roster = roster_from_counts([({}, 0, 12)])
    res = turnout(roster, method="exact")
    assert res.iloc[0]["method"] == "exact"
    assert res.iloc[0]["ci_low"] == 0.0
    # Clopper-Pearson upper bound for 0/12 is 1 - 0.025^(1/12) (R binom.test(0, 12))
    assert res.iloc[0]["ci_high"] == pytest.approx(1 - 0.025 ** (1 / 12), rel=1e-9)


def test_turnout_errors() -> None:
    roster = pd.DataFrame({"attended": [True, False], "role": ["a", "b"]})
    with pytest.raises(DataError, match="Did you mean `role`"):
        turnout(roster, by="rol")
    with pytest.raises(DataError, match="missing value"):
        turnout(pd.DataFrame({"attended": [True, None]}))
    with pytest.raises(DataError, match="True/False"):
        turnout(pd.DataFrame({"attended": ["yes", "no"]}))
    with pytest.raises(DataError, match="True/False"):
        turnout(pd.DataFrame({"attended": [2, 0]}))
    with pytest.raises(DataError, match="no rows"):
        turnout(pd.DataFrame({"attended": pd.Series([], dtype=bool)}))
    with pytest.raises(DataError, match="household id"):
        turnout(roster.assign(hh=["x", None]), household="hh")
    with raises_code(ParameterError, "E_OPTION", argument="method"):
        turnout(roster, method="wilsen")
    with pytest.raises(ParameterError, match="confidence"):
        turnout(roster, confidence=1.5)
    with pytest.raises(ParameterError, match="DataFrame"):
        turnout([True, False])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="different columns"):
        turnout(roster, by="attended")


rosters = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "y"])),
    min_size=1,
    max_size=40,
).map(lambda rows: pd.DataFrame(rows, columns=["attended", "role", "building"]))


@settings(max_examples=50, deadline=None)
@given(rosters, st.randoms(use_true_random=False))
def test_turnout_row_order_does_not_matter(roster: pd.DataFrame, rnd: Any) -> None:
    order = list(range(len(roster)))
    rnd.shuffle(order)
    shuffled = roster.iloc[order].reset_index(drop=True)
    a = turnout(roster, by=["role", "building"])
    b = turnout(shuffled, by=["role", "building"])
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=50, deadline=None)
@given(rosters)
def test_turnout_groups_sum_to_overall(roster: pd.DataFrame) -> None:
    for by in ("role", ["role", "building"]):
        res = turnout(roster, by=by)
        overall, groups = res.iloc[0], res.iloc[1:]
        assert groups["count"].sum() == overall["count"] == roster["attended"].sum()
        assert groups["n"].sum() == overall["n"] == len(roster)


# ------------------------------------------------------------------------------------------------
# representativeness
# ------------------------------------------------------------------------------------------------


def participants(categories: list[str], counts: list[int], column: str) -> pd.DataFrame:
    labels = [c for c, k in zip(categories, counts, strict=True) for _ in range(int(k))]
    return pd.DataFrame({column: labels})


@pytest.mark.parametrize("case", REPR_REF["cases"], ids=lambda c: c["name"])
def test_representativeness_matches_r_chisq_test(case: dict[str, Any]) -> None:
    by = case["name"]
    cats = [str(c) for c in case["categories"]]
    sample = participants(cats, case["count"], by)
    population = dict(zip(cats, case["population_share"], strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = representativeness(sample, population, by=by)
    body, overall = res.iloc[:-1], res.iloc[-1]
    assert list(body[by]) == cats and overall[by] == ALL
    assert list(body["count"]) == case["count"]
    for col in ("sample_share", "population_share", "ratio", "expected"):
        np.testing.assert_allclose(body[col].to_numpy(float), case[col], rtol=1e-9)
    assert close(overall["dissimilarity"], case["dissimilarity"])
    assert close(overall["statistic"], case["statistic"])
    assert overall["df"] == case["df"]
    assert close(overall["p_value"], case["p_value"], 1e-7)


def test_representativeness_population_as_counts_series_frame_and_sample_as_counts() -> None:
    case = next(c for c in REPR_REF["cases"] if c["name"] == "gender")
    counts = {"female": 5120, "male": 4880}
    expected = case["p_value"]
    sample_counts = pd.Series({"female": 27, "male": 13})
    for population in (
        counts,
        pd.Series(counts),
        pd.DataFrame({"gender": list(counts), "count": list(counts.values())}),
        pd.DataFrame({"count": pd.Series(counts), "label": ["女", "男"]}),
    ):
        res = representativeness(sample_counts, population, by="gender")
        assert close(res.iloc[-1]["p_value"], expected, 1e-7)
    # a table of counts as a DataFrame with frequency weights
    table = pd.DataFrame({"gender": ["male", "female"], "k": [13, 27]})
    res = representativeness(table, counts, by="gender", weights="k")
    assert close(res.iloc[-1]["statistic"], case["statistic"])
    assert list(res["count"][:-1]) == [27, 13]


def test_representativeness_category_handling() -> None:
    sample = pd.DataFrame({"building": ["1", "1", "3", "4"]})
    population = {"1": 0.5, "2": 0.25, "3": 0.25}
    with pytest.raises(DataError, match=r"'4'.*does not list"):
        representativeness(sample, population, by="building")
    # a population category without participants enters with share 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = representativeness(sample.iloc[:3], population, by="building")
    row2 = res[res["building"] == "2"].iloc[0]
    assert row2["count"] == 0 and row2["sample_share"] == 0.0 and row2["ratio"] == 0.0
    # a zero-share category without cases is listed but left out of the test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res0 = representativeness(sample.iloc[:3], {**population, "9": 0.0}, by="building")
    assert np.isnan(res0[res0["building"] == "9"]["ratio"].iloc[0])
    assert res0.iloc[-1]["df"] == 2
    with pytest.raises(DataError, match="population share 0"):
        representativeness(sample.iloc[:3], {"1": 0.5, "2": 0.5, "3": 0.0}, by="building")
    with pytest.raises(DataError, match=r"sum to 0\.75"):
        representativeness(sample, {"1": 0.5, "3": 0.25}, by="building")
    with pytest.raises(DataError, match="missing value"):
        representativeness(pd.DataFrame({"building": ["1", None]}), population, by="building")
    with pytest.raises(DataError, match="Did you mean `building`"):
        representativeness(sample, population, by="buildin")
    with pytest.raises(ParameterError, match="one column"):
        representativeness(sample, population, by=["building"])  # type: ignore[arg-type]


def test_representativeness_warns_on_small_expected_counts() -> None:
    sample = participants(["a", "b", "c"], [10, 6, 4], "g")
    with pytest.warns(UserWarning, match="expected count below 5 in `g` category 'c'"):
        representativeness(sample, {"a": 0.5, "b": 0.3, "c": 0.2}, by="g")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        representativeness(sample, {"a": 0.4, "b": 0.3, "c": 0.3}, by="g")


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.sampled_from(["18-39", "40-59", "60+"]), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_representativeness_row_order_does_not_matter(labels: list[str], rnd: Any) -> None:
    population = {"18-39": 0.35, "40-59": 0.35, "60+": 0.30}
    shuffled = list(labels)
    rnd.shuffle(shuffled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a = representativeness(pd.DataFrame({"age": labels}), population, by="age")
        b = representativeness(pd.DataFrame({"age": shuffled}), population, by="age")
    pd.testing.assert_frame_equal(a, b)
    body = a.iloc[:-1]
    d = 0.5 * np.abs(body["sample_share"] - body["population_share"]).sum()
    assert a.iloc[-1]["dissimilarity"] == pytest.approx(d)
    assert 0.0 <= d <= 1.0


# ------------------------------------------------------------------------------------------------
# repeat participation
# ------------------------------------------------------------------------------------------------


def elevator_issue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "meeting": ["评议会"] * 3 + ["听证会"] * 4 + ["协调会"] * 4,
            "participant": ["a", "e", "f", "a", "b", "c", "d", "a", "b", "e", "b"],
        }
    )


def test_repeat_participation_three_meetings_in_canonical_order() -> None:
    res = repeat_participation(elevator_issue())
    assert list(res["meeting"]) == ["听证会", "协调会", "评议会"]
    assert list(res["position"]) == [1, 2, 3]
    assert list(res["attendees"]) == [4, 3, 3]  # b signed in twice at 协调会: counted once
    assert list(res["first_timers"]) == [4, 1, 1]
    assert list(res["returners"]) == [0, 2, 2]
    assert res["returner_share"].tolist()[1:] == pytest.approx([2 / 3, 2 / 3])
    assert res["previous_attendees"].isna().iloc[0]
    assert list(res["previous_attendees"].iloc[1:]) == [4, 3]
    assert list(res["retained"].iloc[1:]) == [2, 2]
    assert np.isnan(res["retention"].iloc[0])
    assert res["retention"].tolist()[1:] == pytest.approx([0.5, 2 / 3])


def test_repeat_participation_orders_and_issues() -> None:
    att = pd.DataFrame(
        {
            "issue": ["lift-3"] * 5 + ["lift-5"] * 4,
            "meeting": ["h3", "h3", "c3", "c3", "e3", "h5", "h5", "c5", "e5"],
            "date": pd.to_datetime(
                [
                    "2023-03-01",
                    "2023-03-01",
                    "2023-04-02",
                    "2023-04-02",
                    "2024-01-10",
                    "2023-05-01",
                    "2023-05-01",
                    "2023-06-01",
                    "2023-09-01",
                ]
            ),
            "participant": ["p1", "p2", "p1", "p3", "p3", "p1", "p4", "p4", "p5"],
        }
    )
    by_date = repeat_participation(att, order="date", issue="issue")
    assert list(by_date["issue"]) == ["lift-3"] * 3 + ["lift-5"] * 3
    assert list(by_date["meeting"]) == ["h3", "c3", "e3", "h5", "c5", "e5"]
    # p1 attended lift-3 before, but is a first-timer on lift-5
    assert list(by_date["first_timers"]) == [2, 1, 0, 2, 0, 1]
    # across time (no issue): p1 returns at h5
    over_time = repeat_participation(att, order="date")
    assert list(over_time["meeting"]) == ["h3", "c3", "h5", "c5", "e5", "e3"]
    assert list(over_time["returners"]) == [0, 1, 1, 1, 0, 1]
    # an explicit order, with a meeting nobody attended
    listed = repeat_participation(
        att[att["issue"] == "lift-3"], order=["h3", "c3", "x3", "e3"]
    ).set_index("meeting")
    assert listed.loc["x3", "attendees"] == 0
    assert listed.loc["e3", "returners"] == 1 and listed.loc["e3", "retained"] == 0
    assert np.isnan(listed.loc["e3", "retention"])
    # numeric meeting ids sort
    num = repeat_participation(att.assign(meeting=att["date"].dt.month))
    assert list(num["meeting"]) == [1, 3, 4, 5, 6, 9]


def test_repeat_participation_errors() -> None:
    att = pd.DataFrame({"meeting": ["m1", "m2"], "participant": ["a", "b"]})
    with pytest.raises(ParameterError, match="`order` is needed"):
        repeat_participation(att)
    with pytest.raises(DataError, match="'m2' are not in `order`"):
        repeat_participation(att, order=["m1"])
    with pytest.raises(DataError, match="missing person id"):
        repeat_participation(att.assign(participant=["a", None]), order=["m1", "m2"])
    same_day = att.assign(date=["2024-01-01", "2024-01-01"])
    with pytest.raises(DataError, match="share the same value"):
        repeat_participation(same_day, order="date")
    two_dates = pd.DataFrame(
        {"meeting": ["m1", "m1"], "participant": ["a", "b"], "date": ["2024-01-01", "2024-01-02"]}
    )
    with pytest.raises(DataError, match="more than one value"):
        repeat_participation(two_dates, order="date")
    with pytest.raises(DataError, match="Did you mean `participant`"):
        repeat_participation(att, person="participnt", order=["m1", "m2"])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["hearing", "coordination", "evaluation"]), st.integers(0, 8)),
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_repeat_participation_row_order_does_not_matter(rows: list[Any], rnd: Any) -> None:
    att = pd.DataFrame(rows, columns=["meeting", "participant"])
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    a = repeat_participation(att)
    b = repeat_participation(pd.DataFrame(shuffled, columns=["meeting", "participant"]))
    pd.testing.assert_frame_equal(a, b)
    assert (a["first_timers"] + a["returners"] == a["attendees"]).all()
    assert a["first_timers"].sum() == att["participant"].nunique()
