"""Tests of toolkit.synth.trends: seeded, shaped as documented, and carrying the trend it is told."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.analysis.satisfaction import satisfaction_rates
from toolkit.analysis.trends import satisfaction_trend
from toolkit.errors import ParameterError
from toolkit.synth.trends import ASPECTS, make_trend_ballots


def test_seeded_and_shaped() -> None:
    a = make_trend_ballots(communities=4, seed=3)
    pd.testing.assert_frame_equal(a, make_trend_ballots(communities=4, seed=3))
    assert not a.equals(make_trend_ballots(communities=4, seed=4))
    assert list(a.columns) == ["year", "community", "subject", *ASPECTS, "overall"]
    sizes = a.groupby(["community", "year"]).size()
    assert sizes.between(8, 40).all()
    assert set(a["overall"]) <= {"satisfied", "basically_satisfied", "dissatisfied"}
    assert (a[list(ASPECTS)] == "dont_know").to_numpy().mean() == pytest.approx(0.05, abs=0.02)


def test_trend_and_flat_series() -> None:
    up = make_trend_ballots(communities=20, trend=0.4, seed=1).assign(all="all")
    test = satisfaction_trend(up, item="overall", year="year", rate="strict")
    trend = test[test["measure"] == "trend"].iloc[0]
    assert trend["estimate"] > 0 and trend["p_value"] < 1e-6
    flat = make_trend_ballots(communities=20, trend=0.0, seed=1)
    test = satisfaction_trend(flat, item="overall", year="year", rate="strict")
    assert abs(test[test["measure"] == "trend"]["estimate"].iloc[0]) < 0.03


def test_aspects_differ_as_designed() -> None:
    b = make_trend_ballots(communities=30, seed=2)
    rates = satisfaction_rates(b, items=list(ASPECTS)).query("measure == 'strict'")
    best = rates.set_index("item")["estimate"]
    assert best["attitude"] > best["results"]


def test_errors() -> None:
    with pytest.raises(ParameterError, match="distinct years"):
        make_trend_ballots(years=[2024, 2024])
    with pytest.raises(ParameterError, match="fewest, most"):
        make_trend_ballots(ballots=(30, 10))
