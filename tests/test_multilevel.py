"""Tests of toolkit.analysis.multilevel against lme4 (tests/reference/multilevel.R -> .json).

R: lme4::lmer (REML and ML) fixed effects, vcov, VarCorr, logLik, AIC, BIC, REMLcrit, theta; the
ICC profile interval from uniroot on lme4's own deviance function (devFunOnly = TRUE).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.analysis.multilevel import multilevel_model, multilevel_model_fit
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "multilevel.json").read_text("utf-8"))
FORMULA = "score ~ age + role"
# lme4's optimiser (bobyqa, rhoend 1e-12 in the R script) and our Brent search both sit within
# ~1e-9 of the optimum of the same criterion
RTOL = 1e-6


def _data() -> pd.DataFrame:
    d = REF["data"]
    return pd.DataFrame(
        {
            "community": d["community"],
            "age": d["age"],
            "role": pd.Categorical(d["role"], categories=REF["roles"]),
            "score": d["score"],
            "flat": d["flat"],
        }
    )


def _check(out: pd.DataFrame, fit: pd.DataFrame, ref: dict) -> None:
    fixed = out[out["measure"] == "fixed"]
    assert list(fixed["term"]) == list(np.atleast_1d(ref["term"]))  # jsonlite unboxes length 1
    np.testing.assert_allclose(fixed["estimate"], np.atleast_1d(ref["estimate"]), rtol=RTOL)
    np.testing.assert_allclose(fixed["se"], np.atleast_1d(ref["se"]), rtol=RTOL)
    np.testing.assert_allclose(fixed["statistic"], np.atleast_1d(ref["t"]), rtol=RTOL)
    var = out[out["measure"] == "variance"].set_index("term")["estimate"]
    assert var["community (Intercept)"] == pytest.approx(ref["var_group"], rel=RTOL)
    assert var["Residual"] == pytest.approx(ref["var_resid"], rel=RTOL)
    icc = out[out["measure"] == "icc"].iloc[0]
    assert icc["term"] == "ICC(community)"
    assert icc["estimate"] == pytest.approx(ref["icc"], rel=RTOL)
    assert icc["ci_low"] == pytest.approx(ref["icc_low"], rel=RTOL, abs=1e-12)
    assert icc["ci_high"] == pytest.approx(ref["icc_high"], rel=RTOL)
    assert icc["method"] == "profile"
    row = fit.iloc[0]
    assert row["log_likelihood"] == pytest.approx(ref["logLik"], rel=1e-10)
    assert row["aic"] == pytest.approx(ref["AIC"], rel=1e-10)
    assert row["bic"] == pytest.approx(ref["BIC"], rel=1e-10)
    assert row["deviance"] == pytest.approx(ref["deviance"], rel=1e-10)
    assert row["theta"] == pytest.approx(ref["theta"], rel=RTOL)
    assert row["sigma"] == pytest.approx(ref["sigma"], rel=RTOL)
    assert row["n"] == ref["nobs"]


@pytest.mark.parametrize(
    ("key", "formula", "reml"),
    [
        ("reml", FORMULA, True),
        ("ml", FORMULA, False),
        ("empty", "score ~ 1", True),
        ("flat", "flat ~ age", True),
    ],
)
def test_matches_lmer(key: str, formula: str, reml: bool) -> None:
    out = multilevel_model(_data(), formula=formula, group="community", reml=reml)
    fit = multilevel_model_fit(_data(), formula=formula, group="community", reml=reml)
    _check(out, fit, REF[key])
    assert fit["n_groups"].iloc[0] == 40


def test_profile_interval_lower_end_at_zero() -> None:
    out = multilevel_model(_data(), formula="flat ~ age", group="community")
    assert out["ci_low"].iloc[-1] == 0.0  # lme4's devfun at theta = 0 is inside the interval too
    assert REF["flat"]["theta_low"] == 0


def test_singular_fit_gives_zero_icc() -> None:
    # residuals centred within each community: group means vary less than chance, REML theta = 0
    rng = np.random.default_rng(4)
    community = np.repeat(np.arange(10), 12)
    noise = rng.normal(size=community.size)
    noise -= pd.Series(noise).groupby(community).transform("mean").to_numpy()
    data = pd.DataFrame({"y": 3 + noise, "community": community})
    out = multilevel_model(data, formula="y ~ 1", group="community")
    icc = out[out["measure"] == "icc"].iloc[0]
    assert icc["estimate"] == 0.0
    assert icc["ci_low"] == 0.0
    assert 0 < icc["ci_high"] < 0.2
    assert multilevel_model_fit(data, formula="y ~ 1", group="community")["theta"].iloc[0] == 0


def test_bootstrap_interval_is_seeded_and_near_profile() -> None:
    kw = {"formula": FORMULA, "group": "community", "interval": "bootstrap", "n_boot": 100}
    a = multilevel_model(_data(), **kw)
    b = multilevel_model(_data(), **kw)
    pd.testing.assert_frame_equal(a, b)
    icc = a.iloc[-1]
    assert icc["method"] == "bootstrap"
    # the percentile bootstrap and the profile interval agree to a few hundredths here
    assert icc["ci_low"] == pytest.approx(REF["reml"]["icc_low"], abs=0.03)
    assert icc["ci_high"] == pytest.approx(REF["reml"]["icc_high"], abs=0.03)
    none = multilevel_model(_data(), formula=FORMULA, group="community", interval="none")
    assert "ci_low" in none.columns and np.isnan(none["ci_low"].iloc[-1])


def test_string_predictor_and_missing_rows() -> None:
    data = _data()
    data.loc[[0, 5], "score"] = np.nan
    data.loc[9, "community"] = None
    fit = multilevel_model_fit(data, formula=FORMULA, group="community").iloc[0]
    assert (fit["n"], fit["n_dropped"]) == (1047, 3)
    base = multilevel_model(_data().drop(index=[0, 5, 9]), formula=FORMULA, group="community")
    pd.testing.assert_frame_equal(multilevel_model(data, formula=FORMULA, group="community"), base)


def test_errors() -> None:
    with pytest.raises(ParameterError, match="`group`"):
        multilevel_model(_data(), formula="score ~ age + (1 | community)", group="community")
    with pytest.raises(DataError, match="no column `comunity`"):
        multilevel_model(_data(), formula=FORMULA, group="comunity")
    with pytest.raises(DataError, match="must be numeric"):
        multilevel_model(_data(), formula="role ~ age", group="community")
    with pytest.raises(DataError, match="1 group"):
        multilevel_model(_data().assign(community="社区01"), formula=FORMULA, group="community")
    with pytest.raises(DataError, match="collinear"):
        multilevel_model(
            _data().assign(age2=lambda d: d["age"] * 2),
            formula="score ~ age + age2",
            group="community",
        )
    with raises_code(ParameterError, "E_OPTION", argument="interval"):
        multilevel_model(_data(), formula=FORMULA, group="community", interval="wald")


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_and_group_labels_do_not_matter(rnd) -> None:
    data = _data().iloc[:300]
    rows = list(range(len(data)))
    rnd.shuffle(rows)
    names = sorted(set(data["community"]))
    shuffled = names[:]
    rnd.shuffle(shuffled)
    relabel = dict(zip(names, shuffled, strict=True))
    a = multilevel_model(data, formula=FORMULA, group="community")
    b = multilevel_model(
        data.iloc[rows].assign(community=lambda d: d["community"].map(relabel)),
        formula=FORMULA,
        group="community",
    )
    pd.testing.assert_frame_equal(a, b, rtol=1e-7)
