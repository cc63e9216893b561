"""Tests of toolkit.analysis.rectification against R (tests/reference/rectification.R) and
Newcombe (1998), Statistics in Medicine 17, 873-890, Table II (method 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit.analysis.rectification import (
    rate_difference,
    rectified_vs_others,
    satisfaction_change,
)
from toolkit.errors import DataError

REF = json.loads((Path(__file__).parent / "reference" / "rectification.json").read_text())


@pytest.mark.parametrize(
    ("before", "after", "low", "high"),
    [
        # Newcombe (1998) Table II, method 10 ("hybrid score"), examples (a) and (b), as printed
        ((48, 80), (56, 70), 0.0524, 0.3339),
        ((3, 10), (9, 10), 0.1705, 0.8090),
    ],
)
def test_newcombe_table_ii(before: tuple, after: tuple, low: float, high: float) -> None:
    row = rate_difference(before[0], before[1], after[0], after[1]).iloc[0]
    assert round(float(row["ci_low"]), 4) == pytest.approx(low, abs=1e-12)
    assert round(float(row["ci_high"]), 4) == pytest.approx(high, abs=1e-12)


def test_differences_and_tests_match_r() -> None:
    for ref in REF["differences"]:
        row = rate_difference(
            ref["count_before"],
            ref["n_before"],
            ref["count_after"],
            ref["n_after"],
            confidence=ref["confidence"],
        ).iloc[0]
        assert row["estimate"] == pytest.approx(ref["estimate"], rel=1e-12, abs=1e-15)
        assert row["ci_low"] == pytest.approx(ref["ci_low"], rel=1e-9, abs=1e-12)
        assert row["ci_high"] == pytest.approx(ref["ci_high"], rel=1e-9, abs=1e-12)
        assert row["statistic"] == pytest.approx(ref["statistic"], rel=1e-9, abs=1e-12)
        assert row["p_value"] == pytest.approx(ref["p_value"], rel=1e-9)


@pytest.mark.parametrize("key", ["wilcox_exact", "wilcox_ties"])
def test_rectified_vs_others_matches_wilcox(key: str) -> None:
    ref = REF[key]
    data = pd.DataFrame(
        {
            "item": [f"r{i}" for i in range(len(ref["rectified"]))]
            + [f"o{i}" for i in range(len(ref["other"]))],
            "estimate": ref["rectified"] + ref["other"],
        }
    )
    rectified = [f"r{i}" for i in range(len(ref["rectified"]))]
    row = rectified_vs_others(data, rectified=rectified).iloc[0]
    assert row["statistic"] == ref["statistic"]
    assert row["p_value"] == pytest.approx(ref["p_value"], rel=1e-9)
    assert row["method"] == ("exact" if key == "wilcox_exact" else "normal")
    with pytest.raises(DataError, match="not in column `item`"):
        rectified_vs_others(data, rectified=["zz"])


def test_satisfaction_change_counts_broad_rates() -> None:
    levels = ["satisfied", "basically_satisfied", "dissatisfied", "dont_know"]

    def ballots(values: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"wuye__noise": pd.Categorical(values, levels, ordered=True)})

    before = ballots(["dissatisfied"] * 12 + ["basically_satisfied"] * 8 + ["dont_know"] * 3)
    after = ballots(["dissatisfied"] * 4 + ["satisfied"] * 14 + ["basically_satisfied"] * 4)
    row = satisfaction_change(before, after, items=["wuye__noise"]).iloc[0]
    assert (row["count_before"], row["n_before"], row["count_after"], row["n_after"]) == (
        8,
        20,
        18,
        22,
    )
    direct = rate_difference(8, 20, 18, 22).iloc[0]
    assert row["ci_low"] == direct["ci_low"] and row["p_value"] == direct["p_value"]
