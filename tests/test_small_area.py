"""Tests of toolkit.analysis.small_area against R (tests/reference/small_area.R -> small_area.json).

R: lme4::glmer(cbind(x, n - x) ~ 1 + (1 | community), binomial) with tight tolerances (fixef, vcov,
ranef with condVar, VarCorr); the beta-binomial marginal likelihood maximised by optim, qbeta.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from toolkit.analysis.compare import AnalysisWarning
from toolkit.analysis.small_area import small_area_rates
from toolkit.errors import ConvergenceError, DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "small_area.json").read_text("utf-8"))


def _data() -> pd.DataFrame:
    return pd.DataFrame(REF["data"])


@pytest.mark.parametrize("method", ["glmm", "beta_binomial"])
def test_matches_r(method: str) -> None:
    out = small_area_rates(_data(), item="overall", area="community", rate="strict", method=method)
    shrunk = out[out["measure"] == "shrunken"]
    g = REF["glmm"]
    assert list(shrunk["community"]) == g["community"]
    assert list(shrunk["count"]) == g["x"] and list(shrunk["n"]) == g["n"]
    ref = REF[method]
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(shrunk[col], ref[col], rtol=1e-6)
    raw = out[out["measure"] == "raw"]
    np.testing.assert_allclose(raw["estimate"], np.array(g["x"]) / np.array(g["n"]))
    overall = out[out["measure"] == "overall"].iloc[0]
    spread = out[out["measure"] == "between_sd"].iloc[0]
    if method == "glmm":
        assert overall["estimate"] == pytest.approx(special.expit(g["beta0"]), rel=1e-7)
        assert spread["estimate"] == pytest.approx(g["sigma"], rel=1e-6)
        # lme4's vcov is a finite-difference Hessian too
        low = special.expit(g["beta0"] - 1.959963984540054 * g["se_beta0"])
        assert overall["ci_low"] == pytest.approx(low, rel=1e-6)
    else:
        a, b = ref["alpha"], ref["beta"]
        assert overall["estimate"] == pytest.approx(a / (a + b), rel=1e-7)
    assert pd.isna(overall["community"])


def test_shrinkage_pulls_small_communities_most() -> None:
    out = small_area_rates(_data(), item="overall", area="community", rate="strict")
    raw = out[out["measure"] == "raw"].set_index("community")
    shrunk = out[out["measure"] == "shrunken"].set_index("community")
    centre = out.loc[out["measure"] == "overall", "estimate"].iloc[0]
    pull = 1 - (shrunk["estimate"] - centre) / (raw["estimate"] - centre)
    small, large = raw["n"].idxmin(), raw["n"].idxmax()
    assert pull[small] > pull[large] > 0
    width = shrunk["ci_high"] - shrunk["ci_low"]
    assert width[small] < raw.loc[small, "ci_high"] - raw.loc[small, "ci_low"]


def test_no_spread() -> None:
    same = pd.DataFrame(
        {"community": np.repeat(list("ABCDE"), 20), "overall": (["满意"] * 14 + ["不满意"] * 6) * 5}
    )
    with pytest.raises(ConvergenceError, match="singular"):
        small_area_rates(same, item="overall", area="community", rate="strict")
    with pytest.warns(AnalysisWarning, match="do not differ"):
        out = small_area_rates(
            same, item="overall", area="community", rate="strict", method="beta_binomial"
        )
    np.testing.assert_allclose(out.loc[out["measure"] == "shrunken", "estimate"], 0.7, rtol=1e-4)


def test_errors() -> None:
    two = _data()[_data()["community"].isin(["社区01", "社区02"])]
    with pytest.raises(DataError, match="at least 3"):
        small_area_rates(two, item="overall", area="community")
    with pytest.raises(ParameterError, match="`method` must be one of"):
        small_area_rates(_data(), item="overall", area="community", method="fay-herriot")


@pytest.mark.parametrize("method", ["glmm", "beta_binomial"])
def test_frequency_weights_equal_expanded_rows(method: str) -> None:
    table = _data().value_counts().rename("w").reset_index()
    a = small_area_rates(table, item="overall", area="community", method=method, weights="w")
    b = small_area_rates(_data(), item="overall", area="community", method=method)
    pd.testing.assert_frame_equal(a, b)
