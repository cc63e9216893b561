"""Tests of toolkit.analysis.drivers against R (tests/reference/drivers.R -> drivers.json).

R: general dominance as LMG by brute force over all subsets with lm() (Groemping 2006's definition,
relaimpo's type = "lmg"), Johnson's (2000) relative weights with eigen(), ordinal::clm; frequency
weights with lm(weights =), cov.wt and clm(weights =).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.drivers import driver_analysis
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "drivers.json").read_text("utf-8"))
ITEMS = REF["items"]


def _data() -> pd.DataFrame:
    return pd.DataFrame(REF["data"])


def _rows(out: pd.DataFrame, method: str, measure: str) -> pd.DataFrame:
    return out[(out["method"] == method) & (out["measure"] == measure)]


@pytest.mark.parametrize(("weights", "suffix"), [(None, ""), ("w", "_w")])
def test_matches_r(weights, suffix) -> None:
    out = driver_analysis(_data(), outcome="overall", items=ITEMS, weights=weights, n_boot=0)
    dom = _rows(out, "dominance", "weight")
    assert list(dom["item"]) == ITEMS
    np.testing.assert_allclose(dom["estimate"], REF["lmg" + suffix], rtol=1e-9)
    rw = _rows(out, "relative_weights", "weight")
    np.testing.assert_allclose(rw["estimate"], REF["rw" + suffix], rtol=1e-9)
    for method in ("dominance", "relative_weights"):
        r2 = _rows(out, method, "r_squared")["estimate"].iloc[0]
        assert r2 == pytest.approx(REF["r_squared" + suffix], rel=1e-9)
        assert _rows(out, method, "share")["estimate"].sum() == pytest.approx(1.0)
    coef = _rows(out, "ordinal", "coefficient")
    np.testing.assert_allclose(coef["estimate"], REF["clm" + suffix]["estimate"], rtol=1e-6)
    np.testing.assert_allclose(coef["se"], REF["clm" + suffix]["se"], rtol=1e-6)
    n = 400 if weights is None else int(_data()["w"].sum())
    assert (out["n"] == n).all()


def test_text_answers_read_as_scores() -> None:
    codes = {3: "满意", 2: "基本满意", 1: "不满意"}
    text = _data()[[*ITEMS, "overall"]].replace(codes)
    text.loc[0, "attitude"] = "不了解"  # left out
    a = driver_analysis(text, outcome="overall", items=ITEMS, n_boot=0, method="dominance")
    b = driver_analysis(
        _data().drop(index=0), outcome="overall", items=ITEMS, n_boot=0, method="dominance"
    )
    pd.testing.assert_frame_equal(a.drop(columns="n"), b.drop(columns="n"))
    assert (a["n"] == 399).all()


def test_bootstrap_intervals_cover_and_are_seeded() -> None:
    data = _data()
    out = driver_analysis(
        data, outcome="overall", items=ITEMS, method="relative_weights", n_boot=200, seed=5
    )
    again = driver_analysis(
        data, outcome="overall", items=ITEMS, method="relative_weights", n_boot=200, seed=5
    )
    pd.testing.assert_frame_equal(out, again)
    assert (out["ci_low"] <= out["estimate"]).all() and (out["estimate"] <= out["ci_high"]).all()
    share = _rows(out, "relative_weights", "share")
    assert share["ci_high"].max() < 1 and share["ci_low"].min() > 0
    # frequency weights resample ballots: weight 2 is the same as a duplicated row
    twice = pd.concat([data, data]).reset_index(drop=True)
    w = driver_analysis(
        data.assign(two=2),
        outcome="overall",
        items=ITEMS,
        weights="two",
        method="dominance",
        n_boot=0,
    )
    d = driver_analysis(twice, outcome="overall", items=ITEMS, method="dominance", n_boot=0)
    np.testing.assert_allclose(w["estimate"], d["estimate"], rtol=1e-10)


def test_errors() -> None:
    with pytest.raises(ParameterError, match="at least two distinct"):
        driver_analysis(_data(), outcome="overall", items=["attitude"])
    with pytest.raises(ParameterError, match="`method` must be one of"):
        driver_analysis(_data(), outcome="overall", items=ITEMS, method="shapley")
    with pytest.raises(DataError, match="same answer"):
        driver_analysis(_data().assign(results=2), outcome="overall", items=ITEMS, n_boot=0)
    with pytest.raises(DataError, match="no column"):
        driver_analysis(_data(), outcome="overal", items=ITEMS)
