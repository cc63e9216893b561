"""Tests for toolkit.analysis.response_rates (AAPOR outcome rates).

Sources of truth:

- the AAPOR Standard Definitions, 9th edition (2016), formulas for RR1-RR6, COOP1-COOP4, REF1-REF3,
  CON1-CON3, evaluated in R by tests/reference/response_rates_aapor.R (R's ``outcomerate`` package
  is not a Debian package: ``apt-cache policy r-cran-outcomerate`` lists no candidate);
- the published examples of R ``outcomerate`` (Pilliard Hellwig, rOpenSci): the exact fractions of
  its test suite (tests/testthat/test-rate.R, e = 0.5) and the README table
  (I=4, P=2, R=1, NC=1, O=1, UH=1, UO=1, NE=1 with e = eligibility_rate = 0.9), printed to 3 places.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.analysis.response_rates import AAPOR_FORMULAS, response_rates
from toolkit.errors import DataError, ParameterError

REF = json.loads(
    (Path(__file__).parent / "reference" / "response_rates_aapor.json").read_text(encoding="utf-8")
)
MEASURES = list(AAPOR_FORMULAS)


def as_dict(result: pd.DataFrame) -> dict[str, float]:
    return dict(zip(result["measure"], result["estimate"], strict=True))


@pytest.mark.parametrize("case", REF["results"], ids=lambda c: f"{c['name']}-e={c['e_given']}")
def test_matches_r_evaluation_of_aapor_formulas(case: dict[str, Any]) -> None:
    res = response_rates(case["counts"], e=case["e_given"])
    assert list(res["measure"]) == MEASURES
    got = as_dict(res)
    for measure in MEASURES:
        assert got[measure] == pytest.approx(case["rates"][measure], rel=1e-12, abs=1e-15)
    assert res["e"].iloc[0] == pytest.approx(case["rates"]["e"], rel=1e-12)


def test_outcomerate_test_suite_exact_values() -> None:
    """outcomerate tests/testthat/test-rate.R: dispositions x1 with e = 0.5, exact fractions."""
    x1 = ["I", "P", "I", "NC", "UH", "I", "R", "UO", "I", "O", "P", "I", "R", "O", "P", "NE"]
    counts = pd.Series(x1).value_counts().to_dict()
    expected = {
        "RR1": 1 / 3,
        "RR2": 8 / 15,
        "RR3": 5 / 14,
        "RR4": 4 / 7,
        "RR5": 5 / 13,
        "RR6": 8 / 13,
        "COOP1": 5 / 12,
        "COOP2": 2 / 3,
        "COOP3": 1 / 2,
        "COOP4": 4 / 5,
        "REF1": 2 / 15,
        "REF2": 1 / 7,
        "REF3": 2 / 13,
        "CON1": 4 / 5,
        "CON2": 6 / 7,
        "CON3": 12 / 13,
    }
    got = as_dict(response_rates(counts, e=0.5))
    for measure, value in expected.items():
        assert got[measure] == pytest.approx(value, rel=1e-12)


def test_outcomerate_readme_example() -> None:
    """outcomerate README: e = eligibility_rate(freq) = 0.9, rates printed to 3 decimals."""
    freq = {"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}
    printed = {
        "RR1": 0.364,
        "RR2": 0.545,
        "RR3": 0.370,
        "RR4": 0.556,
        "RR5": 0.444,
        "RR6": 0.667,
        "COOP1": 0.500,
        "COOP2": 0.750,
        "COOP3": 0.571,
        "COOP4": 0.857,
        "REF1": 0.091,
        "REF2": 0.093,
        "REF3": 0.111,
        "CON1": 0.727,
        "CON2": 0.741,
        "CON3": 0.889,
    }
    res = response_rates(freq)
    assert res["e"].iloc[0] == pytest.approx(0.9)
    got = as_dict(res)
    for measure, value in printed.items():
        assert round(got[measure], 3) == pytest.approx(value, abs=1e-12)


def test_worked_example_by_hand() -> None:
    """A worked example written out from the printed formulas (AAPOR 2016)."""
    d = {"I": 600, "P": 50, "R": 150, "NC": 100, "O": 50, "UH": 40, "UO": 60, "NE": 50}
    got = as_dict(response_rates(d, e=0.6))
    assert got["RR1"] == pytest.approx(600 / 1050)  # 600 / (650 + 300 + 100)
    assert got["RR2"] == pytest.approx(650 / 1050)
    assert got["RR3"] == pytest.approx(600 / 1010)  # e(UH+UO) = 60
    assert got["RR4"] == pytest.approx(650 / 1010)
    assert got["RR5"] == pytest.approx(600 / 950)
    assert got["RR6"] == pytest.approx(650 / 950)
    assert got["COOP1"] == pytest.approx(600 / 850)
    assert got["COOP2"] == pytest.approx(650 / 850)
    assert got["COOP3"] == pytest.approx(600 / 800)
    assert got["COOP4"] == pytest.approx(650 / 800)
    assert got["REF1"] == pytest.approx(150 / 1050)
    assert got["REF2"] == pytest.approx(150 / 1010)
    assert got["REF3"] == pytest.approx(150 / 950)
    assert got["CON1"] == pytest.approx(850 / 1050)
    assert got["CON2"] == pytest.approx(850 / 1010)
    assert got["CON3"] == pytest.approx(850 / 950)
    # e = "estimate": (I+P+R+NC+O)/(I+P+R+NC+O+NE) = 950/1000
    assert response_rates(d)["e"].iloc[0] == pytest.approx(0.95)


def test_dataframe_input_keeps_identifiers_and_matches_r() -> None:
    cases = [c for c in REF["results"] if c["e_given"] == "estimate"]
    frame = pd.DataFrame([{"sample": c["name"], **c["counts"]} for c in cases])
    frame.columns = [c.lower() if c in ("NC", "UO") else c for c in frame.columns]  # any case
    res = response_rates(frame)
    assert list(res.columns) == ["sample", "measure", "estimate", "e", "formula"]
    assert len(res) == 16 * len(cases)
    for case in cases:
        got = as_dict(res[res["sample"] == case["name"]])
        for measure in MEASURES:
            assert got[measure] == pytest.approx(case["rates"][measure], rel=1e-12)
    assert res.loc[res["measure"] == "RR3", "formula"].iloc[0] == AAPOR_FORMULAS["RR3"]


def test_missing_codes_count_as_zero_and_empty_denominators_give_nan() -> None:
    res = as_dict(response_rates({"I": 10, "NC": 5}))
    assert res["RR1"] == pytest.approx(10 / 15)
    assert res["COOP1"] == 1.0
    only_unknown = response_rates({"UO": 3}, e=0.3)
    got = as_dict(only_unknown)
    assert got["RR1"] == 0.0 and got["CON1"] == 0.0
    assert np.isnan(got["RR5"]) and np.isnan(got["COOP1"]) and np.isnan(got["CON3"])
    # no known-eligibility cases: e cannot be estimated; rates needing it are NaN
    unknown_e = as_dict(response_rates({"UH": 2}))
    assert np.isnan(unknown_e["RR3"]) and unknown_e["RR1"] == 0.0
    # no unknown cases: the e term vanishes even if e is undefined
    no_unknown = as_dict(response_rates({"I": 3, "R": 1}))
    assert no_unknown["RR3"] == no_unknown["RR1"] == 0.75


def test_weighted_counts_allowed() -> None:
    got = as_dict(response_rates({"I": 10.5, "R": 2.25, "NC": 1.25}))
    assert got["RR1"] == pytest.approx(10.5 / 14)


def test_errors() -> None:
    with pytest.raises(DataError, match="Did you mean `NC`"):
        response_rates({"I": 3, "NCC": 1})
    with pytest.raises(DataError, match="negative"):
        response_rates({"I": 3, "R": -1})
    with pytest.raises(DataError, match="missing or infinite"):
        response_rates(pd.DataFrame({"I": [3, None]}))
    with pytest.raises(DataError, match="no disposition code"):
        response_rates(pd.DataFrame({"group": ["a"], "count": [3]}))
    with pytest.raises(DataError, match="twice"):
        response_rates(pd.DataFrame({"I": [3], "i": [2]}))
    with raises_code(ParameterError, "E_RANGE", argument="e"):
        response_rates({"I": 3}, e=1.2)
    with pytest.raises(ParameterError, match="'estimate' or a number"):
        response_rates({"I": 3}, e="est")
    with pytest.raises(ParameterError, match="'estimate' or a number"):
        response_rates({"I": 3}, e=True)
    with pytest.raises(ParameterError, match="dict or Series"):
        response_rates([3, 1])


codes = st.fixed_dictionaries(
    {code: st.integers(0, 50) for code in ("I", "P", "R", "NC", "O", "UH", "UO", "NE")}
)


@settings(max_examples=50, deadline=None)
@given(st.lists(codes, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_row_order_does_not_change_rates(rows: list[dict[str, int]], rnd: Any) -> None:
    frame = pd.DataFrame(rows).assign(group=range(len(rows)))
    order = list(range(len(rows)))
    rnd.shuffle(order)
    a = response_rates(frame).sort_values(["group", "measure"]).reset_index(drop=True)
    b = response_rates(frame.iloc[order]).sort_values(["group", "measure"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # rates are proportions, and RR1 <= RR3 <= RR5 (e in [0, 1])
    est = a["estimate"].dropna()
    assert ((est >= 0) & (est <= 1 + 1e-12)).all()
    for _, part in a.groupby("group"):
        r = dict(zip(part["measure"], part["estimate"], strict=True))
        if not np.isnan(r["RR5"]):
            assert r["RR1"] <= r["RR3"] + 1e-12 and r["RR3"] <= r["RR5"] + 1e-12
