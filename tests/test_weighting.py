"""Tests of toolkit.analysis.weighting against R's `survey` (rake, postStratify, trimWeights).

Reference values: tests/reference/design.R -> tests/reference/design.json (weights_* entries).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.analysis.weighting import kish_effective_n, poststratify, rake, trim_weights
from toolkit.errors import ConvergenceError, DataError, ParameterError

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "design.json").read_text())
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


def api(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "data" / f"{name}.csv")


def test_rake_matches_r() -> None:
    w = rake(api("apiclus1"), margins={"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weights="pw")
    np.testing.assert_allclose(w, REF["weights_clus1_rake"], rtol=1e-10)
    w = rake(api("apistrat"), margins={"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, weights="pw")
    np.testing.assert_allclose(w, REF["weights_strat_rake"], rtol=1e-10)
    own = pd.read_csv(REF_DIR / "data" / "own.csv")
    w = rake(
        own,
        weights="w",
        margins={
            "band": pd.Series({"high": 900, "low": 1200, "mid": 1500}),
            "role": {"cadre": 500, "party": 700, "resident": 2400},
        },
    )
    np.testing.assert_allclose(w, REF["weights_own_rake"], rtol=1e-10)
    assert isinstance(w, pd.Series) and w.index.equals(own.index)


def test_poststratify_matches_r() -> None:
    w = poststratify(api("apiclus1"), strata="stype", population=POP_TYPES, weights="pw")
    np.testing.assert_allclose(w, REF["weights_clus1_post"], rtol=1e-12)
    own = pd.read_csv(REF_DIR / "data" / "own.csv")
    frame = pd.DataFrame({"band": ["high", "low", "mid"], "Freq": [900, 1200, 1500]})
    w = poststratify(own, strata="band", population=frame, weights="w")
    np.testing.assert_allclose(w, REF["weights_own_post"], rtol=1e-12)


def test_poststratify_on_two_columns() -> None:
    df = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": [1, 2, 1, 1]})
    w = poststratify(df, strata=["a", "b"], population={("x", 1): 10, ("x", 2): 20, ("y", 1): 30})
    assert w.tolist() == [10.0, 20.0, 15.0, 15.0]


def test_trim_weights_matches_r() -> None:
    d = api("apiclus2")
    # apiclus2 has no weight column in R's call: weights come from fpc1, fpc2
    n1 = d["dnum"].nunique()
    m = d.groupby("dnum")["snum"].transform("nunique")
    d = d.assign(w0=d["fpc1"] / n1 * d["fpc2"] / m)
    np.testing.assert_allclose(
        trim_weights(d, weights="w0", upper=60, lower=20), REF["weights_trim"], rtol=1e-12
    )
    np.testing.assert_allclose(
        trim_weights(d["w0"], upper=45, strict=True), REF["weights_trim_strict"], rtol=1e-12
    )


def test_rake_errors() -> None:
    df = pd.DataFrame({"sex": ["m", "m", "f"], "age": ["y", "o", "o"]})
    with pytest.raises(DataError, match="no sample cases"):
        rake(df, margins={"sex": {"m": 5, "f": 5, "x": 0.0 + 3}, "age": {"y": 6, "o": 7}})
    with pytest.raises(DataError, match=r"does not list|do not list"):
        rake(df, margins={"sex": {"m": 5}, "age": {"y": 2, "o": 3}})
    with pytest.raises(DataError, match="agree on the population total"):
        rake(df, margins={"sex": {"m": 5, "f": 5}, "age": {"y": 0.5, "o": 0.5}})
    with pytest.raises(ConvergenceError, match="after 1 iterations"):
        rake(df, margins={"sex": {"m": 50, "f": 50}, "age": {"y": 10, "o": 90}}, max_iter=1)
    with pytest.raises(ParameterError, match="margins"):
        rake(df, margins={})
    with pytest.raises(DataError, match="missing values"):
        rake(df.assign(sex=[None, "m", "f"]), margins={"sex": {"m": 5, "f": 5}})


def test_kish_and_trim_basics() -> None:
    assert kish_effective_n([2, 2, 2]) == pytest.approx(3.0)
    with pytest.raises(DataError):
        kish_effective_n([1, -1])
    with pytest.raises(ParameterError, match="weights="):
        trim_weights(pd.DataFrame({"w": [1.0]}), upper=1)
    with pytest.raises(ParameterError, match="lower"):
        trim_weights([1.0, 2.0], lower=3, upper=2)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.1, 100), min_size=3, max_size=30), st.floats(1, 50))
def test_trim_keeps_total_and_kish_bounds(weights: list[float], upper: float) -> None:
    w = np.array(weights)
    if (w > upper).all():
        return
    t = trim_weights(w, upper=upper)
    assert t.sum() == pytest.approx(w.sum())
    assert 1 - 1e-9 <= kish_effective_n(w) <= len(w) + 1e-9


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 1000))
def test_rake_meets_every_margin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.integers(0, 3, 60), "b": rng.integers(0, 2, 60)})
    if df["a"].nunique() < 3 or df["b"].nunique() < 2:
        return
    w = rake(df, margins={"a": {0: 100, 1: 200, 2: 300}, "b": {0: 250, 1: 350}}, tol=1e-9)
    assert w.groupby(df["a"]).sum().tolist() == pytest.approx([100, 200, 300], rel=1e-6)
    assert w.groupby(df["b"]).sum().tolist() == pytest.approx([250, 350], rel=1e-6)
