"""Tests of toolkit.analysis.hearing against R (tests/reference/hearing.R) and published values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.hearing import (
    concern_cooccurrence,
    concern_frequency,
    position_association,
    position_consensus,
    position_crosstab,
    position_shares,
    tastle_wierman_consensus,
    van_der_eijk_agreement,
)
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "hearing.json").read_text())
LEVELS = ["support", "conditional", "oppose", "dont_know"]


@pytest.fixture
def panel() -> pd.DataFrame:
    d = REF["data"]
    return pd.DataFrame(
        {
            "option_1": pd.Categorical(d["option_1"], categories=LEVELS, ordered=True),
            "option_2": pd.Categorical(d["option_2"], categories=LEVELS, ordered=True),
            "floor_band": d["floor_band"],
            "affected": d["affected"],
            "concerns__cost": d["cost"],
            "concerns__noise": d["noise"],
            "concerns__daylight": d["daylight"],
            "concerns__none": [0] * len(d["cost"]),
        }
    )


def test_position_shares_match_r(panel: pd.DataFrame) -> None:
    result = position_shares(panel, items=["option_1"]).set_index("level")
    for row in REF["shares"]:
        got = result.loc[row["level"]]
        assert (got["count"], got["n"]) == (row["count"], row["n"])
        assert got["ci_low"] == pytest.approx(row["ci_low"], rel=1e-9, abs=1e-12)
        assert got["ci_high"] == pytest.approx(row["ci_high"], rel=1e-9)


@pytest.mark.parametrize(
    ("item", "by", "key"),
    [
        ("option_1", "floor_band", "by_floor"),
        ("option_1", "affected", "by_affected"),
        ("option_2", "affected", "option_2_by_affected"),
    ],
)
def test_association_matches_r(panel: pd.DataFrame, item: str, by: str, key: str) -> None:
    ref = REF[key]
    row = position_association(panel, item=item, by=by).iloc[0]
    assert row["statistic"] == pytest.approx(ref["statistic"], rel=1e-9)
    assert row["df"] == ref["df"]
    assert row["p_value"] == pytest.approx(ref["p_value"], rel=1e-7)
    assert row["effect_size"] == pytest.approx(ref["cramers_v"], rel=1e-9)
    assert row["min_expected"] == pytest.approx(ref["min_expected"], rel=1e-9)
    if ref.get("fisher_p_value") not in (None, {}):  # R NULL (no 2x2) is written as {}
        assert row["fisher_p_value"] == pytest.approx(ref["fisher_p_value"], rel=1e-7)
    else:
        assert np.isnan(row["fisher_p_value"])


def test_crosstab_counts_and_row_shares(panel: pd.DataFrame) -> None:
    table = position_crosstab(panel, item="option_1", by="floor_band")
    low = table[table["floor_band"] == "1-3"].set_index("level")
    assert low["count"].to_dict() == {"support": 2, "conditional": 3, "oppose": 6}
    assert low["n"].unique().tolist() == [11]  # the undecided ballot is left out
    assert low["estimate"].sum() == pytest.approx(1.0)


def test_published_consensus_values() -> None:
    # agrmt's documented examples (Ruedin, R package agrmt, ?consensus and ?agreement)
    example = [30, 40, 210, 130, 530, 50, 10]
    assert tastle_wierman_consensus(example) == pytest.approx(0.7256876, abs=5e-8)
    assert van_der_eijk_agreement(example) == pytest.approx(0.6113333, abs=5e-8)
    # the defining extremes (Tastle & Wierman 2007; van der Eijk 2001): unanimity, even split
    # between the extremes, uniform spread
    assert tastle_wierman_consensus([0, 0, 7, 0, 0]) == 1.0
    assert tastle_wierman_consensus([4, 0, 0, 0, 4]) == pytest.approx(0.0)
    assert van_der_eijk_agreement([0, 7, 0]) == 1.0
    assert van_der_eijk_agreement([4, 0, 0, 0, 4]) == pytest.approx(-1.0)
    assert van_der_eijk_agreement([2, 2, 2, 2, 2]) == pytest.approx(0.0)
    with pytest.raises(ParameterError, match="at least two ordered categories"):
        tastle_wierman_consensus([0, 0])


def test_position_consensus_per_option(panel: pd.DataFrame) -> None:
    result = position_consensus(panel, items=["option_1", "option_2"]).set_index(
        ["item", "measure"]
    )
    counts = [17, 7, 9]  # support, conditional, oppose on option 1 (undecided left out)
    assert result.loc[("option_1", "tastle_wierman"), "estimate"] == pytest.approx(
        tastle_wierman_consensus(counts)
    )
    assert result.loc[("option_1", "van_der_eijk_a"), "n"] == 33
    assert result.loc[("option_2", "van_der_eijk_a"), "estimate"] == pytest.approx(
        van_der_eijk_agreement([15, 0, 19])
    )


def test_concerns_frequency_and_phi_match_r(panel: pd.DataFrame) -> None:
    freq = concern_frequency(panel).set_index("level")
    assert freq["count"].to_dict() == {"cost": 14, "noise": 14, "daylight": 10}
    assert "none" not in freq.index
    pairs = concern_cooccurrence(panel)
    phi = {tuple(sorted((r.level, r.level_other))): r.effect_size for r in pairs.itertuples()}
    assert phi[("cost", "noise")] == pytest.approx(REF["phi"]["cost_noise"], rel=1e-9)
    assert phi[("cost", "daylight")] == pytest.approx(REF["phi"]["cost_daylight"], rel=1e-9)
    assert phi[("daylight", "noise")] == pytest.approx(REF["phi"]["daylight_noise"], rel=1e-9)
    with pytest.raises(DataError, match="no indicator columns `worries__"):
        concern_frequency(panel, question="worries")
