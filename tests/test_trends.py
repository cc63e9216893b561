"""Tests of toolkit.analysis.trends against R (tests/reference/trends.R -> trends.json).

R: prop.test(correct = FALSE) (Wilson), Newcombe's method 10 from two prop.test intervals,
prop.trend.test and the slope of lm(x / n ~ year, weights = n). Newcombe (1998) table II for the
published example.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.trends import cochran_armitage, newcombe_difference, satisfaction_trend
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "trends.json").read_text("utf-8"))


def _data() -> pd.DataFrame:
    return pd.DataFrame(REF["data"])


def test_rates_changes_and_trend_match_r() -> None:
    out = satisfaction_trend(_data(), item="overall", year="year", by="community")
    assert list(out.columns[:4]) == ["community", "item", "measure", "year"]
    for ref in REF["communities"]:
        part = out[out["community"] == ref["community"]]
        rate = part[part["measure"] == "rate"]
        assert list(rate["year"]) == REF["years"]
        assert list(rate["count"]) == ref["count"]
        assert list(rate["n"]) == ref["n"]
        for col in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(rate[col], ref[col], rtol=1e-9)
        change = part[part["measure"] == "change"]
        np.testing.assert_allclose(change["estimate"], ref["change"], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(change["ci_low"], ref["change_low"], rtol=1e-9)
        np.testing.assert_allclose(change["ci_high"], ref["change_high"], rtol=1e-9)
        trend = part[part["measure"] == "trend"].iloc[0]
        assert trend["statistic"] == pytest.approx(ref["statistic"], rel=1e-9)
        assert trend["p_value"] == pytest.approx(ref["p_value"], rel=1e-9)
        assert trend["estimate"] == pytest.approx(ref["slope"], rel=1e-9)
        assert trend["df"] == 1


def test_published_examples() -> None:
    smokers = cochran_armitage([83, 90, 129, 70], [86, 93, 136, 82]).iloc[0]
    assert smokers["statistic"] == pytest.approx(REF["smokers"]["statistic"], rel=1e-10)
    assert smokers["p_value"] == pytest.approx(REF["smokers"]["p_value"], rel=1e-10)
    # Newcombe (1998), table II, method 10: (a) 56/70 - 48/80, (b) 9/10 - 3/10
    out = newcombe_difference([56, 9], [70, 10], [48, 3], [80, 10])
    np.testing.assert_allclose(out["ci_low"], [0.0524, 0.1705], atol=5e-5)
    np.testing.assert_allclose(out["ci_high"], [0.3339, 0.8090], atol=5e-5)


def test_a_year_without_valid_answers_is_skipped_in_changes() -> None:
    data = _data()
    data = data[~((data["community"] == "康乐") & (data["year"] == 2023))]
    out = satisfaction_trend(data, item="overall", year="year", by="community")
    kangle = out[out["community"] == "康乐"]
    assert list(kangle.loc[kangle["measure"] == "change", "year"]) == [2022, 2024, 2025]


def test_errors() -> None:
    with pytest.raises(ParameterError, match="`rate` must be one of"):
        satisfaction_trend(_data(), item="overall", year="year", rate="happy")
    with pytest.raises(DataError, match="no column `yaer`"):
        satisfaction_trend(_data(), item="overall", year="yaer")
    with pytest.raises(DataError, match="a year"):
        satisfaction_trend(_data().assign(year="去年"), item="overall", year="year")


def test_frequency_weights_equal_expanded_rows() -> None:
    table = _data().value_counts().rename("w").reset_index()
    a = satisfaction_trend(table, item="overall", year="year", by="community", weights="w")
    b = satisfaction_trend(_data(), item="overall", year="year", by="community")
    pd.testing.assert_frame_equal(a, b)
