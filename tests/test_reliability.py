"""Tests of toolkit.analysis.reliability against R (tests/reference/reliability.R -> .json).

R references: psych::alpha (raw_alpha, std.alpha, ase, Feldt interval from psych::alpha.ci,
item.stats r.drop / mean / sd, alpha.drop), stats::factanal (one factor, tight tolerance) and
psych::fa(fm = "ml") for omega. psych 2.2.9, R 4.2.2 (Debian).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.analysis.reliability import cronbach_alpha, item_analysis, omega
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "reliability.json").read_text("utf-8"))
RTOL = 1e-9


def _d1() -> pd.DataFrame:
    return pd.DataFrame(REF["d1"]).astype("int64")


def _d2() -> pd.DataFrame:
    return pd.DataFrame(REF["d2"]).astype("float64")


CASES = {
    "alpha_d1_reversed": (_d1, {"reverse": ["f"], "scale_range": (1, 5)}),
    "alpha_d1_abcde": (lambda: _d1()[list("abcde")], {}),
    "alpha_two_items": (lambda: _d1()[["a", "b"]], {}),
    "alpha_d2_pairwise": (_d2, {"missing": "pairwise"}),
    "alpha_d2_listwise": (_d2, {"missing": "listwise"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_alpha_matches_psych(case: str) -> None:
    ref = REF[case]
    make, kwargs = CASES[case]
    out = cronbach_alpha(make(), **kwargs)  # type: ignore[arg-type]
    raw, std = out.iloc[0], out.iloc[1]
    assert (raw["measure"], std["measure"]) == ("raw", "standardized")
    assert raw["estimate"] == pytest.approx(ref["raw"], rel=RTOL)
    assert std["estimate"] == pytest.approx(ref["std"], rel=RTOL)
    assert raw["se"] == pytest.approx(ref["ase"], rel=RTOL)
    assert np.isnan(std["se"])
    assert [raw["ci_low"], raw["ci_high"]] == pytest.approx(ref["raw_ci"], rel=RTOL)
    assert [raw["ci_low"], raw["ci_high"]] == pytest.approx(list(ref["feldt"].values()), rel=RTOL)
    assert [std["ci_low"], std["ci_high"]] == pytest.approx(ref["std_ci"], rel=RTOL)
    assert (out["n"] == ref["n"]).all() and (out["n_items"] == ref["k"]).all()
    assert (out["method"] == "feldt").all() and (out["confidence"] == 0.95).all()


def test_alpha_confidence_matches_psych() -> None:
    ref = REF["alpha_d1_abcde_90"]
    out = cronbach_alpha(_d1(), items=list("abcde"), confidence=0.9).iloc[0]
    assert [out["ci_low"], out["ci_high"]] == pytest.approx(ref["raw_ci"], rel=RTOL)


@pytest.mark.parametrize("case", [c for c in CASES if c != "alpha_two_items"])
def test_item_analysis_matches_psych(case: str) -> None:
    ref = REF[case]
    make, kwargs = CASES[case]
    out = item_analysis(make(), **kwargs)  # type: ignore[arg-type]
    assert out["item"].tolist() == [i.rstrip("-") for i in ref["items"]]
    pairs = [("r_drop", "r_drop"), ("mean", "mean"), ("sd", "sd"),
             ("alpha_if_deleted", "drop_raw"), ("std_alpha_if_deleted", "drop_std")]  # fmt: skip
    for col, key in pairs:
        np.testing.assert_allclose(out[col], ref[key], rtol=RTOL, err_msg=col)
    np.testing.assert_array_equal(out["n"], ref["item_n"])
    assert out["reversed"].tolist() == [i.endswith("-") for i in ref["items"]]


def test_item_analysis_two_items() -> None:
    out = item_analysis(_d1(), items=["a", "b"])
    np.testing.assert_allclose(out["r_drop"], np.corrcoef(_d1()["a"], _d1()["b"])[0, 1])
    assert out["alpha_if_deleted"].isna().all()


OMEGA_CASES = {
    "omega_d1_reversed": (_d1, {"reverse": "f", "scale_range": (1, 5)}),
    "omega_d2_listwise": (_d2, {}),
    "omega_d2_pairwise": (_d2, {"missing": "pairwise"}),
}


@pytest.mark.parametrize("case", list(OMEGA_CASES))
def test_omega_matches_factanal_and_psych_fa(case: str) -> None:
    ref = REF[case]
    make, kwargs = OMEGA_CASES[case]
    out = omega(make(), **kwargs).iloc[0]  # type: ignore[arg-type]
    assert out["measure"] == "omega_total" and out["method"] == "ml"
    # stats::factanal run to convergence: same maximum-likelihood solution
    assert out["estimate"] == pytest.approx(ref["omega_total"], rel=1e-6)
    assert out["sum_loadings"] == pytest.approx(sum(ref["loadings"]), rel=1e-6)
    assert out["sum_uniquenesses"] == pytest.approx(sum(ref["uniquenesses"]), rel=1e-6)
    # psych::fa(fm = "ml") stops at its default optimiser tolerance
    assert out["estimate"] == pytest.approx(ref["psych_fa_omega_total"], rel=1e-4)
    # psych::omega's omega.tot uses the observed sum of R: close, not equal (documented)
    assert out["estimate"] == pytest.approx(ref["psych_omega_tot"], abs=5e-3)
    assert not out["heywood"]


@pytest.mark.parametrize("case", list(OMEGA_CASES))
def test_omega_docstring_states_psych_formula(case: str) -> None:
    """psych's omega.tot is (V_t - sum psi) / V_t with V_t = 1'R1, as the docstring says."""
    ref = REF[case]
    make, kwargs = OMEGA_CASES[case]
    data = make()
    if kwargs.get("reverse"):
        data = data.assign(f=6 - data["f"])
    if case == "omega_d2_listwise":
        data = data.dropna()
    cov = data.cov().to_numpy()  # pairwise complete, as R's cov(use = "pairwise")
    d = 1 / np.sqrt(np.diag(cov))
    v_t = float((cov * np.outer(d, d)).sum())
    psych_formula = (v_t - sum(ref["psych_fa_uniquenesses"])) / v_t
    assert psych_formula == pytest.approx(ref["psych_omega_tot"], rel=1e-9)
    ours = omega(make(), **kwargs).iloc[0]  # type: ignore[arg-type]
    assert (v_t - ours["sum_uniquenesses"]) / v_t == pytest.approx(ref["psych_omega_tot"], rel=1e-4)


def test_omega_needs_three_items() -> None:
    with pytest.raises(ParameterError, match="at least 3 items"):
        omega(_d1(), items=["a", "b"])


def test_omega_heywood_case_is_flagged() -> None:
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3, 2], "b": [2, 2, 3, 5, 4, 3, 1],
                       "c": [1, 3, 3, 4, 5, 2, 2], "d": [2, 1, 4, 4, 5, 3, 3]})  # fmt: skip
    out = omega(df).iloc[0]
    assert out["heywood"]
    # R: factanal(covmat = cor(df), factors = 1, n.obs = 7, control = list(opt = list(factr = 10)))
    # uniquenesses 0.005, 0.332682985634, 0.174867416706, 0.292640398049
    assert out["sum_uniquenesses"] == pytest.approx(
        0.005 + 0.332682985634 + 0.174867416706 + 0.292640398049, rel=1e-6
    )
    assert out["estimate"] == pytest.approx(0.940383926621, rel=1e-6)


def test_pairwise_on_complete_data_equals_listwise() -> None:
    a = cronbach_alpha(_d1(), missing="pairwise")
    b = cronbach_alpha(_d1().astype(float), missing="listwise")
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_all_blank_row_does_not_count_in_pairwise_n() -> None:
    d2 = _d2()
    d2.loc[len(d2)] = np.nan
    out = cronbach_alpha(d2, missing="pairwise")
    assert out["n"][0] == REF["alpha_d2_pairwise"]["n"]
    assert out["estimate"][0] == pytest.approx(REF["alpha_d2_pairwise"]["raw"], rel=RTOL)


def test_zero_variance_item_is_named() -> None:
    df = _d1().assign(c=3)
    with pytest.raises(DataError, match="item `c` has zero variance"):
        cronbach_alpha(df)
    with pytest.raises(DataError, match="item `c` has zero variance"):
        item_analysis(df.astype(float).assign(c=0.1), missing="pairwise")
    with pytest.raises(DataError, match="item `c` has zero variance"):
        cronbach_alpha(pd.concat([df] * 500, ignore_index=True).astype(float).assign(c=0.1))


def test_all_ratings_equal_and_one_rater() -> None:
    same = pd.DataFrame({"a": [4] * 5, "b": [4] * 5})
    with pytest.raises(DataError, match="item `a` has zero variance"):
        cronbach_alpha(same)
    with pytest.raises(DataError, match="at least 2 respondents"):
        cronbach_alpha(pd.DataFrame({"a": [1], "b": [2]}))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reverse": ["f"]}, ParameterError, r"need `scale_range=\(min, max\)`"),
        ({"reverse": ["g"], "scale_range": (1, 5)}, ParameterError, "not one of the items"),
        ({"scale_range": (1, 4)}, DataError, "outside `scale_range`"),
        ({"scale_range": (5, 1)}, ParameterError, "min < max"),
        ({"items": ["a"]}, ParameterError, "at least two items"),
        ({"items": ["a", "bb"]}, DataError, "has no column `bb`"),
        ({"missing": "everything"}, ParameterError, "`missing` must be one of"),
        ({"confidence": 1.0}, ParameterError, "`confidence` must be in"),
    ],
)
def test_errors(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        cronbach_alpha(_d1(), **kwargs)


def test_non_numeric_item_is_a_data_error() -> None:
    df = _d1().assign(a=lambda d: d["a"].astype(str))
    with pytest.raises(DataError, match="column `a` is not numeric"):
        cronbach_alpha(df)


def test_listwise_with_too_few_complete_rows() -> None:
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [np.nan, 2.0, np.nan]})
    with pytest.raises(DataError, match="Try missing='pairwise'"):
        cronbach_alpha(df)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**16))
def test_alpha_does_not_depend_on_row_or_item_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = _d2()
    rows = rng.permutation(len(df))
    cols = list(rng.permutation(df.columns))
    for missing in ("listwise", "pairwise"):
        a = cronbach_alpha(df, missing=missing)
        b = cronbach_alpha(df.iloc[rows][cols].reset_index(drop=True), missing=missing)
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)
        ia = item_analysis(df, missing=missing).set_index("item").loc[cols].reset_index()
        ib = item_analysis(df.iloc[rows][cols], missing=missing)
        pd.testing.assert_frame_equal(ia, ib, rtol=1e-10)
