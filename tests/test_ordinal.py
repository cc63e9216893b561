"""Tests of toolkit.analysis.ordinal against R (tests/reference/ordinal.R -> ordinal.json).

R: ordinal::clm (logit and probit; coefficients, SEs, logLik, AIC, BIC), confint.default (Wald),
MASS::polr (to its optimiser's tolerance), ordinal::nominal_test and clm(nominal = ~ age + role).
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
from toolkit.analysis.compare import AnalysisWarning
from toolkit.analysis.ordinal import (
    ordinal_model_fit,
    ordinal_regression,
    proportional_odds_test,
)
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "ordinal.json").read_text("utf-8"))
LEVELS = REF["levels"]
FORMULA = "overall ~ age + role + floor"


def _data() -> pd.DataFrame:
    d = REF["data"]
    return pd.DataFrame(
        {
            "age": d["age"],
            "role": pd.Categorical(d["role"], categories=REF["roles"]),
            "floor": d["floor"],
            "overall": pd.Categorical(d["overall"], categories=LEVELS, ordered=True),
            "score": d["score"],
        }
    )


def _check(out: pd.DataFrame, ref: dict, rtol: float = 1e-6) -> None:
    assert list(out["term"]) == ref["term"]
    np.testing.assert_allclose(out["estimate"], ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(out["se"], ref["se"], rtol=rtol)
    np.testing.assert_allclose(out["statistic"], ref["z"], rtol=rtol)
    np.testing.assert_allclose(out["p_value"], ref["p"], rtol=rtol)


@pytest.mark.parametrize(("link", "key"), [("logit", "clm_logit"), ("probit", "clm_probit")])
def test_matches_clm(link: str, key: str) -> None:
    out = ordinal_regression(_data(), formula=FORMULA, link=link)
    _check(out, REF[key])
    assert list(out["measure"]) == ["threshold"] * 2 + ["coefficient"] * 4
    fit = ordinal_model_fit(_data(), formula=FORMULA, link=link).iloc[0]
    assert fit["log_likelihood"] == pytest.approx(REF[key]["logLik"], rel=1e-10)
    assert fit["aic"] == pytest.approx(REF[key]["AIC"], rel=1e-10)
    assert fit["bic"] == pytest.approx(REF[key]["BIC"], rel=1e-10)
    assert fit["n"] == REF[key]["nobs"]
    assert fit["levels"] == "不满意 < 基本满意 < 满意"
    if link == "probit":
        assert "odds_ratio" not in out.columns


def test_four_levels_and_wald_interval_and_odds_ratio() -> None:
    out = ordinal_regression(_data(), formula="score ~ age + role")
    _check(out, REF["clm_score"])
    assert list(out["term"][:3]) == ["1|2", "2|3", "3|4"]
    logit = ordinal_regression(_data(), formula=FORMULA, confidence=0.95)
    ci = REF["wald_ci"]
    assert list(logit["term"]) == ci["term"]
    np.testing.assert_allclose(logit["ci_low"], ci["low"], rtol=1e-6)
    np.testing.assert_allclose(logit["ci_high"], ci["high"], rtol=1e-6)
    coef = logit[logit["measure"] == "coefficient"]
    np.testing.assert_allclose(coef["odds_ratio"], np.exp(coef["estimate"]))
    assert logit.loc[logit["measure"] == "threshold", "odds_ratio"].isna().all()


def test_matches_polr_to_its_tolerance() -> None:
    out = ordinal_regression(_data(), formula=FORMULA).set_index("term")
    polr = REF["polr"]
    for term, value in {**polr["coef"], **polr["zeta"]}.items():
        assert out.loc[term, "estimate"] == pytest.approx(value, rel=1e-4)
        # polr's Hessian is optim's finite-difference one
        assert out.loc[term, "se"] == pytest.approx(polr["se"][term], rel=1e-3)
    fit = ordinal_model_fit(_data(), formula=FORMULA)
    assert fit["log_likelihood"].iloc[0] == pytest.approx(polr["logLik"], rel=1e-9)


def test_proportional_odds_test_matches_nominal_test() -> None:
    ref = REF["nominal_test"]
    out = proportional_odds_test(_data(), formula="score ~ age + role")
    assert list(out["term"]) == ["age", "role", "(all terms)"]
    np.testing.assert_allclose(out["statistic"][:2], ref["LRT"][1:], rtol=1e-6)
    np.testing.assert_allclose(out["df"][:2], ref["df"][1:])
    np.testing.assert_allclose(out["p_value"][:2], ref["p"][1:], rtol=1e-6)
    np.testing.assert_allclose(out["log_likelihood"][:2], ref["logLik"][1:], rtol=1e-9)
    np.testing.assert_allclose(out["aic"][:2], ref["AIC"][1:], rtol=1e-9)
    everything = out.iloc[2]
    assert everything["log_likelihood"] == pytest.approx(REF["all_nominal"]["logLik"], rel=1e-9)
    assert everything["aic"] == pytest.approx(REF["all_nominal"]["AIC"], rel=1e-9)
    assert everything["df"] == 6
    probit = proportional_odds_test(_data(), formula="score ~ age + role", link="probit")
    np.testing.assert_allclose(
        probit["statistic"][:2], REF["nominal_test_probit"]["LRT"][1:], rtol=1e-6
    )


def test_response_forms_agree() -> None:
    base = ordinal_regression(_data(), formula=FORMULA)
    strings = _data().assign(overall=lambda d: d["overall"].astype(str))
    with_levels = ordinal_regression(strings, formula=FORMULA, levels=LEVELS)
    pd.testing.assert_frame_equal(base, with_levels)
    codes = _data().assign(overall=lambda d: d["overall"].cat.codes + 1)
    numeric = ordinal_regression(codes, formula=FORMULA)
    np.testing.assert_allclose(numeric["estimate"], base["estimate"])
    assert list(numeric["term"][:2]) == ["1|2", "2|3"]
    with pytest.raises(DataError, match="no order"):
        ordinal_regression(strings, formula=FORMULA)
    # predictor given as plain strings: patsy sorts levels, so the reference level can change,
    # the fit cannot
    plain = _data().assign(role=lambda d: d["role"].astype(str))
    fit = ordinal_model_fit(plain, formula=FORMULA)
    assert fit["log_likelihood"].iloc[0] == pytest.approx(REF["clm_logit"]["logLik"], rel=1e-10)


def test_unused_level_is_dropped_with_warning() -> None:
    data = _data()
    data["overall"] = data["overall"].cat.add_categories("非常满意")  # never chosen
    with pytest.warns(AnalysisWarning, match="非常满意"):
        out = ordinal_regression(data, formula=FORMULA)
    _check(out, REF["clm_logit"])


def test_missing_values_are_dropped() -> None:
    data = _data()
    data.loc[[3, 10], "age"] = np.nan
    data.loc[[20], "overall"] = np.nan
    fit = ordinal_model_fit(data, formula=FORMULA).iloc[0]
    assert (fit["n"], fit["n_dropped"]) == (297, 3)
    expected = ordinal_regression(_data().drop(index=[3, 10, 20]), formula=FORMULA)
    pd.testing.assert_frame_equal(ordinal_regression(data, formula=FORMULA), expected)


def test_complete_separation_names_the_predictor() -> None:
    data = _data().copy()
    data["role"] = data["role"].cat.add_categories("业委会")
    data.loc[:19, "role"] = "业委会"
    data.loc[:19, "overall"] = "满意"  # every owners'-committee member is satisfied
    data.loc[20:, "overall"] = data.loc[20:, "overall"].where(
        data.loc[20:, "overall"] != "满意", "基本满意"
    )
    with pytest.raises(DataError, match="separation by `role业委会`"):
        ordinal_regression(data, formula=FORMULA)
    numeric = pd.DataFrame({"y": [1, 1, 1, 2, 2, 3, 3, 3], "x": [1, 2, 3, 4, 5, 6, 7, 8.0]})
    with pytest.raises(DataError, match="separation by `x`"):
        ordinal_regression(numeric, formula="y ~ x")


def test_errors() -> None:
    with raises_code(ParameterError, "E_OPTION", argument="link"):
        ordinal_regression(_data(), formula=FORMULA, link="cloglog")
    with pytest.raises(ParameterError, match="one `~`"):
        ordinal_regression(_data(), formula="age + role")
    with pytest.raises(ParameterError, match="keep the intercept"):
        ordinal_regression(_data(), formula="overall ~ 0 + age")
    with pytest.raises(DataError, match="no column `overal`"):
        ordinal_regression(_data(), formula="overal ~ age")
    with pytest.raises(DataError, match="cannot be built"):
        ordinal_regression(_data(), formula="overall ~ agee")
    one = _data().assign(overall=pd.Categorical(["满意"] * 300, categories=LEVELS, ordered=True))
    with pytest.raises(DataError, match="1 level in use"):
        ordinal_regression(one, formula=FORMULA)
    with pytest.raises(DataError, match="does not vary"):
        ordinal_regression(_data().assign(floor=3), formula=FORMULA)


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rnd) -> None:
    data = _data().iloc[:120]
    rows = list(range(len(data)))
    rnd.shuffle(rows)
    a = ordinal_regression(data, formula=FORMULA)
    b = ordinal_regression(data.iloc[rows], formula=FORMULA)
    pd.testing.assert_frame_equal(a, b, rtol=1e-8)


# --------------------------------------------------------------------------------------------------
# weights (tests/reference/ordinal_weights.R -> ordinal_weights.json)

WREF = json.loads((Path(__file__).parent / "reference" / "ordinal_weights.json").read_text("utf-8"))
HOUSING = "Sat ~ Infl + Type + Cont"


def _housing() -> pd.DataFrame:
    h = WREF["housing"]
    three = ["Low", "Medium", "High"]
    return pd.DataFrame(
        {
            "Sat": pd.Categorical(h["Sat"], categories=three, ordered=True),
            "Infl": pd.Categorical(h["Infl"], categories=three),
            "Type": pd.Categorical(
                h["Type"], categories=["Tower", "Apartment", "Atrium", "Terrace"]
            ),
            "Cont": pd.Categorical(h["Cont"], categories=["Low", "High"]),
            "Freq": h["Freq"],
        }
    )


def test_frequency_weights_match_clm_and_polr_on_housing() -> None:
    out = ordinal_regression(_housing(), formula=HOUSING, weights="Freq")
    _check(out, WREF["clm_freq"], rtol=1e-8)
    _check(out, WREF["clm_expanded"], rtol=1e-8)  # the same as expanding the table
    fit = ordinal_model_fit(_housing(), formula=HOUSING, weights="Freq").iloc[0]
    assert fit["n"] == WREF["clm_freq"]["nobs"] == 1681
    assert fit["log_likelihood"] == pytest.approx(WREF["clm_freq"]["logLik"], rel=1e-10)
    assert fit["bic"] == pytest.approx(WREF["clm_freq"]["BIC"], rel=1e-10)
    polr = WREF["polr_freq"]
    indexed = out.set_index("term")
    for term, value in {**polr["coef"], **polr["zeta"]}.items():
        assert indexed.loc[term, "estimate"] == pytest.approx(value, rel=1e-4)
        assert indexed.loc[term, "se"] == pytest.approx(polr["se"][term], rel=1e-3)


def test_frequency_weights_equal_repeated_rows_and_zero_drops_a_row() -> None:
    data = _data().iloc[:80].assign(w=1)
    data.loc[data.index[:10], "w"] = 2
    data.loc[data.index[10], "w"] = 0
    weighted = ordinal_regression(data, formula=FORMULA, weights="w")
    repeated = pd.concat([data, data.iloc[:10]]).drop(index=data.index[10])
    pd.testing.assert_frame_equal(weighted, ordinal_regression(repeated, formula=FORMULA))
    test_w = proportional_odds_test(data, formula=FORMULA, weights="w")
    test_r = proportional_odds_test(repeated, formula=FORMULA)
    np.testing.assert_allclose(test_w["statistic"], test_r["statistic"], rtol=1e-8)
    with pytest.raises(DataError, match="weight column `w`"):
        ordinal_regression(data.assign(w=-1.0), formula=FORMULA, weights="w")


def _api():
    from toolkit.analysis.design import SurveyDesign

    a = WREF["api"]
    api = pd.DataFrame(
        {
            "mealcat": pd.Categorical(a["mealcat"], categories=a["mealcat_levels"], ordered=True),
            "avg_ed": a["avg_ed"],
            "stype": pd.Categorical(a["stype"], categories=["E", "H", "M"]),
            "dnum": a["dnum"],
            "pw": a["pw"],
            "fpc": a["fpc"],
        }
    )
    return api, SurveyDesign(api, weights="pw", cluster="dnum", fpc="fpc")


def test_sampling_weights_match_svyolr_linearisation() -> None:
    api, design = _api()
    out = ordinal_regression(api, formula="mealcat ~ avg_ed + stype", design=design)
    exact = WREF["svy_exact"]
    assert [t.replace("avg_ed", "avg.ed") for t in out["term"]] == exact["term"]
    np.testing.assert_allclose(out["estimate"], exact["estimate"], rtol=1e-7)
    np.testing.assert_allclose(out["se"], exact["se"], rtol=1e-7)
    # svyolr itself: optim's estimates and finite-difference Hessian
    np.testing.assert_allclose(out["estimate"], WREF["svyolr"]["estimate"], rtol=1e-4)
    np.testing.assert_allclose(out["se"], WREF["svyolr"]["se"], rtol=1e-4)
    with pytest.raises(ParameterError, match="not both"):
        ordinal_regression(api, formula="mealcat ~ avg_ed", design=design, weights="pw")
    with pytest.raises(DataError, match=r"design\.data"):
        ordinal_regression(api.iloc[1:], formula="mealcat ~ avg_ed", design=design)
