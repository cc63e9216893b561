"""Tests for toolkit.analysis.consent (民法典 Art. 278 double test and Shanghai rule versions).

Source of truth: the text of 民法典 Art. 278 (2020, in force 2021):

- quorum: "专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与表决";
- items 6-8: "应当经参与表决专有部分面积四分之三以上的业主且参与表决人数四分之三以上的业主同意";
- other matters: "应当经参与表决专有部分面积过半数的业主且参与表决人数过半数的业主同意".

以上 includes the threshold, 过半数 does not. Every boundary is checked with exact
fractions; the expected values below are worked out by hand.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.analysis.consent import CONSENT_RULES, ConsentCondition, ConsentRule, consent_check
from toolkit.errors import DataError, ParameterError


def units_table(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """rows: (owner, area, vote) with vote None for no participation."""
    return pd.DataFrame(
        {
            "owner": [r[0] for r in rows],
            "area": [r[1] for r in rows],
            "participated": [r[2] is not None for r in rows],
            "vote": [r[2] for r in rows],
        }
    )


def by_condition(result: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["condition"]: row for row in result.to_dict("records")}


def flats(votes: list[str | None], area: float = 60.0) -> pd.DataFrame:
    return units_table([(f"o{i}", area, v) for i, v in enumerate(votes)])


# -- head-count boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "rule", "condition", "passed", "needed"),
    [
        # quorum: exactly 2/3 of owners take part (4 of 6) passes (以上 includes 2/3)
        (["agree"] * 4 + [None] * 2, "cc2021_major", "quorum_owners", True, 0),
        # 3 of 6 is below 2/3: one more owner must take part
        (["agree"] * 3 + [None] * 3, "cc2021_major", "quorum_owners", False, 1),
        # approval: exactly 3/4 of participants agree (3 of 4) passes
        (["agree"] * 3 + ["against"], "cc2021_major", "approval_owners", True, 0),
        # 5 of 7 < 3/4 (21/4 = 5.25): one more participant must switch to agree
        (["agree"] * 5 + ["against"] * 2, "cc2021_major", "approval_owners", False, 1),
        # 2 of 4 < 3/4: needs ceil(3) - 2 = 1
        (["agree"] * 2 + ["abstain", "against"], "cc2021_major", "approval_owners", False, 1),
        # ordinary: exactly 1/2 (2 of 4) FAILS 过半数; one more agreeing participant needed
        (["agree"] * 2 + ["against"] * 2, "cc2021_ordinary", "approval_owners", False, 1),
        # 3 of 4 > 1/2 passes
        (["agree"] * 3 + ["against"], "cc2021_ordinary", "approval_owners", True, 0),
        # 3 of 6 exactly 1/2 fails; floor(3) + 1 - 3 = 1
        (["agree"] * 3 + ["against"] * 3, "cc2021_ordinary", "approval_owners", False, 1),
        # 3 of 5 > 1/2 passes
        (["agree"] * 3 + ["against"] * 2, "cc2021_ordinary", "approval_owners", True, 0),
        # pilot: exactly 9/10 of all owners agree (9 of 10), nobody against
        (["agree"] * 9 + [None], "sh2014_pilot", "agree_owners", True, 0),
        (["agree"] * 8 + [None] * 2, "sh2014_pilot", "agree_owners", False, 1),
        (["agree"] * 9 + ["against"], "sh2014_pilot", "no_objection", False, 1),
        # two thirds, no objection: 4 of 6 agree passes; 1 against fails no_objection
        (["agree"] * 4 + [None] * 2, "sh_two_thirds_no_objection", "agree_owners", True, 0),
        (["agree"] * 4 + ["against", None], "sh_two_thirds_no_objection", "no_objection", False, 1),
    ],
)
def test_head_count_boundaries(
    votes: list[str | None], rule: str, condition: str, passed: bool, needed: int
) -> None:
    row = by_condition(consent_check(flats(votes), rule=rule))[condition]
    assert row["passed"] is passed
    assert row["needed"] == needed
    assert row["rule"] == rule
    assert row["rule_description"] == CONSENT_RULES[rule].description


def test_threshold_rendering_and_comparison() -> None:
    major = by_condition(consent_check(flats(["agree"] * 4)))
    assert major["quorum_area"]["threshold"] == "2/3"
    assert major["approval_owners"]["threshold"] == "3/4"
    assert major["approval_owners"]["comparison"] == "≥"
    ordinary = by_condition(consent_check(flats(["agree"] * 4), rule="cc2021_ordinary"))
    assert ordinary["approval_area"]["threshold"] == "1/2"
    assert ordinary["approval_area"]["comparison"] == ">"
    pilot = by_condition(consent_check(flats(["agree"] * 4), rule="sh2014_pilot"))
    assert pilot["agree_owners"]["threshold"] == "9/10"
    assert (pilot["no_objection"]["comparison"], pilot["no_objection"]["threshold"]) == ("≤", "0")


# -- area boundaries with decimals ----------------------------------------------------------------


def test_quorum_area_exactly_two_thirds_with_decimals() -> None:
    # 84.91 + 45.55 = 130.46 = 2/3 of 195.69 exactly, but in floating point 3 * 130.46 < 2 * 195.69
    assert (84.91 + 45.55) * 3 < 2 * (84.91 + 45.55 + 65.23)
    units = units_table([("a", 84.91, "agree"), ("b", 45.55, "agree"), ("c", 65.23, None)])
    res = by_condition(consent_check(units))
    quorum = res["quorum_area"]
    assert quorum["value"] == Fraction("130.46") and quorum["base"] == Fraction("195.69")
    assert quorum["share"] == Fraction(2, 3)
    assert quorum["passed"] is True and quorum["needed"] == 0
    assert isinstance(quorum["area"], Fraction)


def test_approval_area_exactly_three_quarters_with_decimals() -> None:
    # 46.85 + 76.97 + 85.22 = 209.04 = 3/4 of 278.72; float 209.04 < 0.75 * 278.72
    assert 46.85 + 76.97 + 85.22 < 0.75 * (46.85 + 76.97 + 85.22 + 69.68)
    units = units_table(
        [("a", 46.85, "agree"), ("b", 76.97, "agree"), ("c", 85.22, "agree"), ("d", 69.68, "反对")]
    )
    res = by_condition(consent_check(units))
    approval = res["approval_area"]
    assert approval["share"] == Fraction(3, 4)
    assert approval["passed"] is True and approval["needed"] == 0
    assert res["approval_owners"]["passed"] is True  # 3 of 4
    assert res["quorum_owners"]["passed"] is True
    assert consent_check(units)["verdict"].iloc[0] == "pass"


def test_area_shortfall_is_exact() -> None:
    units = units_table(
        [("a", 55.37, "agree"), ("b", 60.0, "agree"), ("c", 48.5, "反对"), ("d", 70.25, None)]
    )
    res = by_condition(consent_check(units))
    # agreeing 115.37 of participating 163.87: needs 3/4 * 163.87 - 115.37 = 7.5325 m² more
    assert res["approval_area"]["needed"] == Fraction("7.5325")
    assert res["approval_area"]["needed_rule"] == "at least"
    assert res["approval_area"]["unit"] == "m²"
    # quorum on area: 163.87 of 234.12 >= 2/3 (156.08): passes
    assert res["quorum_area"]["passed"] is True


def test_ordinary_area_exactly_half_fails_with_more_than_rule() -> None:
    units = units_table(
        [("a", 55.37, "agree"), ("b", 44.63, "agree"), ("c", 100, "against"), ("d", 1, None)]
    )
    res = by_condition(consent_check(units, rule="cc2021_ordinary"))
    approval = res["approval_area"]
    assert approval["share"] == Fraction(1, 2)
    assert approval["passed"] is False
    assert approval["needed"] == 0 and approval["needed_rule"] == "more than"
    # head count: 2 of 3 participants > 1/2 passes
    assert res["approval_owners"]["passed"] is True


def test_quorum_area_shortfall_when_failing() -> None:
    units = units_table([("a", 50, "agree"), ("b", 50, "agree"), ("c", 100, None)])
    res = by_condition(consent_check(units))
    # 100 of 200 < 2/3: 200 * 2/3 - 100 = 100/3 m² more must take part; owners 2 of 3 pass
    assert res["quorum_area"]["needed"] == Fraction(100, 3)
    assert res["quorum_owners"]["passed"] is True


# -- one owner, several units ---------------------------------------------------------------------


def test_owner_with_three_flats_counts_once_with_summed_area() -> None:
    units = units_table(
        [
            ("wang", 55.37, "agree"),
            ("wang", 60.2, "agree"),
            ("wang", 48.05, "agree"),
            ("li", 50.0, "against"),
            ("zhao", 66.6, None),
        ]
    )
    result = consent_check(units)
    row = result.iloc[0]
    assert row["owners"] == 3
    assert row["participating_owners"] == 2 and row["agreeing_owners"] == 1
    assert row["area"] == Fraction("280.22")
    assert row["agreeing_area"] == Fraction("163.62")
    res = by_condition(result)
    # area approval passes (163.62 / 213.62 >= 3/4) but head count 1 of 2 fails (needs 1 more)
    assert res["approval_area"]["passed"] is True
    assert res["approval_owners"]["passed"] is False and res["approval_owners"]["needed"] == 1
    # quorum: 2 of 3 owners = 2/3 exactly passes; area 213.62 / 280.22 >= 2/3 passes
    assert res["quorum_owners"]["passed"] is True and res["quorum_area"]["passed"] is True


def test_multi_unit_owner_with_inconsistent_votes_is_a_data_error() -> None:
    units = units_table([("wang", 55.37, "agree"), ("wang", 60.2, "against"), ("li", 70, "agree")])
    with pytest.raises(DataError, match=r"owner 'wang'.*several units.*vote alike"):
        consent_check(units)
    half_in = units_table([("wang", 55.37, "agree"), ("wang", 60.2, None), ("li", 70, "agree")])
    with pytest.raises(DataError, match="owner 'wang'"):
        consent_check(half_in)


# -- buildings, rules, inputs ---------------------------------------------------------------------


def test_per_building_and_owner_in_two_buildings() -> None:
    units = units_table(
        [
            ("wang", 60, "agree"),
            ("li", 60, "agree"),
            ("zhou", 60, "agree"),
            ("wang", 70, "against"),  # wang also owns a flat in building 5 and votes there
            ("sun", 70, "agree"),
            ("qian", 70, None),
        ]
    )
    units["building"] = ["3", "3", "3", "5", "5", "5"]
    res = consent_check(units, building="building")
    assert list(res["building"].unique()) == ["3", "5"]
    b3 = res[res["building"] == "3"]
    b5 = by_condition(res[res["building"] == "5"])
    assert (b3["verdict"] == "pass").all()
    assert b5["approval_owners"]["passed"] is False  # 1 of 2 participants
    assert b5["quorum_owners"]["value"] == 2 and b5["quorum_owners"]["base"] == 3


def test_max_against_and_custom_rule() -> None:
    units = flats(["agree"] * 9 + ["against"])
    res = by_condition(consent_check(units, rule="sh2014_pilot", max_against=1))
    assert res["no_objection"]["passed"] is True
    custom = ConsentRule(
        "building_rule_2019",
        "a custom rule: at least 4/5 of all owners agree",
        (
            ConsentCondition(
                "agree_owners", "4/5 agree", "owners", "agreeing", "all", Fraction(4, 5)
            ),
        ),
    )
    out = consent_check(units, rule=custom)
    assert out["rule"].iloc[0] == "building_rule_2019" and out["verdict"].iloc[0] == "pass"


def test_vote_encodings_and_derived_participation() -> None:
    units = pd.DataFrame(
        {
            "owner": list("abcdefg"),
            "area": ["55.37", Fraction(121, 2), 48, 70.25, 50.0, 50.0, 50.0],
            "vote": ["同意", True, "Agree", "弃权", "不同意", False, None],
        }
    )
    res = consent_check(units, participated=None).iloc[0]
    assert res["participating_owners"] == 6 and res["agreeing_owners"] == 3
    assert res["against_owners"] == 2
    assert res["area"] == Fraction("55.37") + Fraction(121, 2) + 48 + Fraction("70.25") + 150


def test_no_participants_fails_approval_with_needed_none() -> None:
    res = by_condition(consent_check(flats([None, None, None])))
    assert res["approval_owners"]["passed"] is False and res["approval_owners"]["needed"] is None
    assert res["quorum_owners"]["needed"] == 2


def test_errors() -> None:
    good = flats(["agree", "against"])
    with raises_code(ParameterError, "E_OPTION", argument="rule"):
        consent_check(good, rule="cc2021")
    with pytest.raises(ParameterError, match="max_against"):
        consent_check(good, max_against=-1)
    with pytest.raises(DataError, match="unknown vote 'maybe'"):
        consent_check(good.assign(vote=["agree", "maybe"]))
    with pytest.raises(DataError, match="did not take part"):
        consent_check(good.assign(participated=[True, False]))
    with pytest.raises(DataError, match="area must be positive"):
        consent_check(good.assign(area=[60.0, 0.0]))
    with pytest.raises(DataError, match="area is missing"):
        consent_check(good.assign(area=[60.0, float("nan")]))
    with pytest.raises(DataError, match="not a number"):
        consent_check(good.assign(area=["60", "sixty"]))
    with pytest.raises(DataError, match="missing owner id"):
        consent_check(good.assign(owner=["a", None]))
    with pytest.raises(DataError, match="Did you mean `owner`"):
        consent_check(good, owner="ownr")
    with pytest.raises(DataError, match="participation must be True/False"):
        consent_check(good.assign(participated=["yes", "no"]))
    with pytest.raises(DataError, match="no rows"):
        consent_check(good.iloc[:0])


# -- properties -----------------------------------------------------------------------------------

unit_rows = st.lists(
    st.tuples(
        st.integers(0, 7),  # owner id (repeats: multi-unit owners)
        st.integers(3000, 12000).map(lambda c: Fraction(c, 100)),
        st.sampled_from(["agree", "against", "abstain", None]),
        st.sampled_from(["1", "2"]),
    ),
    min_size=1,
    max_size=25,
)


def consistent_units(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Give each owner (per building) the vote of their first unit, as the rules require."""
    first: dict[tuple[Any, Any], Any] = {}
    out = []
    for owner, area, vote, building in rows:
        v = first.setdefault((owner, building), vote)
        out.append((owner, str(area.numerator / area.denominator), v, building))
    return pd.DataFrame(
        {
            "owner": [r[0] for r in out],
            "area": [r[1] for r in out],
            "participated": [r[2] is not None for r in out],
            "vote": [r[2] for r in out],
            "building": [r[3] for r in out],
        }
    )


@settings(max_examples=50, deadline=None)
@given(unit_rows, st.sampled_from(sorted(CONSENT_RULES)), st.randoms(use_true_random=False))
def test_result_is_invariant_to_unit_order(rows: list[Any], rule: str, rnd: Any) -> None:
    units = consistent_units(rows)
    order = list(range(len(units)))
    rnd.shuffle(order)
    a = consent_check(units, rule=rule, building="building")
    b = consent_check(units.iloc[order].reset_index(drop=True), rule=rule, building="building")
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 40), st.integers(0, 40))
def test_needed_owners_is_the_minimum(owners: int, taking_part: int, agreeing: int) -> None:
    taking_part = min(taking_part, owners)
    agreeing = min(agreeing, taking_part)
    votes = ["agree"] * agreeing + ["against"] * (taking_part - agreeing)
    votes += [None] * (owners - taking_part)
    for rule in ("cc2021_major", "cc2021_ordinary"):
        res = by_condition(consent_check(flats(votes), rule=rule))
        cond = CONSENT_RULES[rule].conditions
        for c in cond:
            if c.measure != "owners" or c.threshold is None:
                continue
            row = res[c.name]
            if row["needed"] is None:
                continue
            k = row["needed"]

            def ok(value: int, base: int = row["base"], c: Any = c) -> bool:
                target = c.threshold * base
                return value > target if c.strict else value >= target

            assert ok(row["value"] + k)
            assert k == 0 or not ok(row["value"] + k - 1)
            assert row["passed"] is (k == 0)
