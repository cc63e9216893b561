"""Tests of toolkit.analysis.design against R's `survey` package.

Reference values: tests/reference/design.R (survey 4.1.1) -> tests/reference/design.json, on the
`api` data shipped with R survey (apistrat, apiclus1, apiclus2; exported to tests/reference/data/)
and on our own data (tests/reference/data/own.csv: six strata, one with a single PSU, one sampled with
certainty, two stages with a single-SSU PSU, zero weights, missing values, a domain where every case
says yes).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.analysis.design import SurveyDesign
from toolkit.errors import DataError, ParameterError

REF_DIR = Path(__file__).parent / "reference"
REF: dict[str, Any] = json.loads((REF_DIR / "design.json").read_text())
METHODS = ("logit", "likelihood", "beta", "mean")
LONELY = ("fail", "remove", "certainty", "adjust", "average")
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}
POP_BAND = {"high": 900, "low": 1200, "mid": 1500}
POP_ROLE = {"cadre": 500, "party": 700, "resident": 2400}


def num(v: Any) -> float:
    if v is None or v == "NA":
        return math.nan
    if isinstance(v, str):
        return {"NaN": math.nan, "Inf": math.inf, "-Inf": -math.inf}[v]
    return float(v)


def close(ours: float, theirs: Any, rtol: float, what: str) -> None:
    t = num(theirs)
    o = float(ours)
    if math.isnan(t) or math.isnan(o):
        assert math.isnan(t) and math.isnan(o), f"{what}: ours {o}, R {t}"
        return
    if math.isinf(t):
        assert o == t, f"{what}: ours {o}, R {t}"
        return
    assert abs(o - t) <= rtol * max(abs(t), 1e-300) + 1e-13, f"{what}: ours {o!r}, R {t!r}"


@cache
def data(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF_DIR / "data" / f"{name}.csv", keep_default_na=True)
    if name == "own":
        df["y60"] = np.where(df["y"].isna(), np.nan, (df["y"] > 60).astype(float))
    return df


@cache
def api_design(name: str) -> SurveyDesign:
    if name == "strat":
        return SurveyDesign(data("apistrat"), strata="stype", weights="pw", fpc="fpc")
    if name == "strat_nofpc":
        return SurveyDesign(data("apistrat"), strata="stype", weights="pw")
    if name == "clus1":
        return SurveyDesign(data("apiclus1"), cluster="dnum", weights="pw", fpc="fpc")
    if name == "clus1_frac":
        return SurveyDesign(data("apiclus1"), cluster="dnum", weights="pw", fpc="fpcfrac")
    if name == "clus2":
        return SurveyDesign(data("apiclus2"), cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    if name == "clus2_nofpc":
        return SurveyDesign(data("apiclus2"), cluster=["dnum", "snum"], weights="pw")
    if name == "clus1_post":
        return api_design("clus1").poststratify("stype", POP_TYPES)
    if name == "clus1_rake":
        return api_design("clus1").rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    if name == "strat_rake":
        return api_design("strat_nofpc").rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    if name == "clus2_post":
        return api_design("clus2").poststratify("stype", POP_TYPES)
    raise KeyError(name)


@cache
def own_design(name: str, lonely: str) -> SurveyDesign:
    df = data("own")
    common: dict[str, Any] = {"strata": "stratum", "lonely_psu": lonely}
    if name == "own1":
        return SurveyDesign(df, cluster="psu", weights="w", fpc="fpc1", **common)
    if name == "own1_frac":
        return SurveyDesign(df, cluster="psu", weights="w", fpc="frac1", **common)
    if name == "own1_nofpc":
        return SurveyDesign(df, cluster="psu", weights="w", **common)
    if name == "own2":
        return SurveyDesign(df, cluster=["psu", "ssu"], weights="w", fpc=["fpc1", "fpc2"], **common)
    if name == "own2_noweights":
        return SurveyDesign(df, cluster=["psu", "ssu"], fpc=["fpc1", "fpc2"], **common)
    raise KeyError(name)


def compare(ours: pd.DataFrame, ref: Any, key: str | None, fields: dict[str, float], what: str):
    rows = [ref] if isinstance(ref, dict) else ref
    if key is None:
        assert len(ours) == len(rows) == 1, what
        pairs = [(ours.iloc[0], rows[0])]
    else:
        lookup = {str(k): r for k, r in zip(ours[key], ours.to_dict("records"), strict=True)}
        theirs = {str(r["key"]) for r in rows}
        assert set(lookup) == theirs, f"{what}: domains {sorted(lookup)}, R has {sorted(theirs)}"
        pairs = [(lookup[str(r["key"])], r) for r in rows]
        assert len(pairs) >= 1
    for o, r in pairs:
        if fields is CIPROP and o["estimate"] in (0.0, 1.0):
            continue  # R's glm diverges at p = 0 or 1: see test_proportion_of_exactly_one_and_zero
        for field, rtol in fields.items():
            if field in r:
                close(o[field], r[field], rtol, f"{what} [{r.get('key', '')}] {field}")


STAT = {"estimate": 1e-8, "se": 1e-6, "ci_low": 1e-6, "ci_high": 1e-6, "deff": 1e-6}
CIPROP = {"estimate": 1e-7, "se": 1e-6, "ci_low": 1e-6, "ci_high": 1e-6}
SE_ONLY = {"estimate": 1e-8, "se": 1e-6, "deff": 1e-6}  # svymean's normal CI is not svyciprop's


def run_case(d: SurveyDesign, case: str, what: str) -> None:
    """Run one reference case (the key after the design name) and compare with R."""
    ref = REF[what]
    if case == "rake_mean_y" and "noweights" not in what and isinstance(ref, list):
        # R's raking variance divides influence values by the weights, so the two zero-weight rows
        # of own.csv make it NaN (or 0); R on the data without them is what we reproduce
        assert math.isnan(num(ref[0]["se"])) or num(ref[0]["se"]) == 0
        ref = REF[f"{what}_nozero"]
    parts = case.split("/")
    if isinstance(ref, dict) and "error" in ref:
        if "only one PSU" in ref["error"] or what.startswith("fail/"):
            with pytest.raises(DataError, match="only one"):
                run_ours(d, parts)
        else:  # R itself fails (e.g. profiling diverges at p = 1): we must still answer
            run_ours(d, parts)
        return
    ours, key, fields = run_ours(d, parts)
    rows = [ref] if isinstance(ref, dict) else ref
    if parts[0] == "ciprop_schwide" and num(rows[0]["se"]) < 1e-9:
        # sch.wide is a raking margin: its share is fixed (R's se is rounding noise, 2e-13, and
        # its intervals are [p, p] up to noise or NaN); ours is exactly [p, p] with se 0
        row = ours.iloc[0]
        close(row["estimate"], rows[0]["estimate"], 1e-8, what)
        assert row["se"] < 1e-9 and row["ci_low"] == row["ci_high"] == row["estimate"]
        assert num(rows[0]["se"]) < 1e-9
        return
    compare(ours, ref, key, fields, what)


def run_ours(d: SurveyDesign, parts: list[str]) -> tuple[pd.DataFrame, str | None, dict]:
    kind = parts[0]
    method = parts[1] if len(parts) > 1 else "logit"
    table: dict[str, Any] = {
        "mean_api00": lambda: (d.mean("api00"), None, STAT),
        "mean_avged": lambda: (d.mean("avg.ed"), None, STAT),
        "total_enroll": lambda: (d.total("enroll"), None, STAT),
        "by_mean_api00_stype": lambda: (d.mean("api00", by="stype"), "stype", STAT),
        "by_mean_avged_stype": lambda: (d.mean("avg.ed", by="stype"), "stype", STAT),
        "by_total_enroll_schwide": lambda: (d.total("enroll", by="sch.wide"), "sch.wide", STAT),
        "ratio_api00_api99": lambda: (d.ratio("api00", "api99"), None, STAT),
        "by_ratio_api00_api99_stype": lambda: (
            d.ratio("api00", "api99", by="stype"),
            "stype",
            STAT,
        ),
        "ciprop_schwide": lambda: (
            d.proportion("sch.wide", level="Yes", method=method),
            None,
            CIPROP,
        ),
        "by_ciprop_schwide_stype": lambda: (
            d.proportion("sch.wide", level="Yes", by="stype", method=method),
            "stype",
            CIPROP,
        ),
        "mean_y": lambda: (d.mean("y"), None, STAT),
        "total_y": lambda: (d.total("y"), None, STAT),
        "by_mean_y_role": lambda: (d.mean("y", by="role"), "role", STAT),
        "by_mean_y_band": lambda: (d.mean("y", by="band"), "band", STAT),
        "by_total_y_role": lambda: (d.total("y", by="role"), "role", STAT),
        "ratio_y_x": lambda: (d.ratio("y", "x"), None, STAT),
        "by_ratio_y_x_role": lambda: (d.ratio("y", "x", by="role"), "role", STAT),
        "ciprop_sat": lambda: (d.proportion("sat", level="sat", method=method), None, CIPROP),
        "by_ciprop_yes_role": lambda: (
            d.proportion("yes", level=1, by="role", method=method),
            "role",
            CIPROP,
        ),
        "by_ciprop_y60_role": lambda: (
            d.proportion("y60", level=1.0, by="role", method=method),
            "role",
            CIPROP,
        ),
        "by_ciprop_sat_band": lambda: (
            d.proportion("sat", level="sat", by="band", method=method),
            "band",
            CIPROP,
        ),
        "by_se_sat_band": lambda: (d.proportion("sat", level="sat", by="band"), "band", SE_ONLY),
        "post_by_mean_y_role": lambda: (
            d.poststratify("band", POP_BAND).mean("y", by="role"),
            "role",
            STAT,
        ),
        "rake_mean_y": lambda: (d.rake({"band": POP_BAND, "role": POP_ROLE}).mean("y"), None, STAT),
    }
    if kind in table:
        return table[kind]()  # type: ignore[no-any-return]
    raise KeyError(kind)


API_DESIGNS = (
    "strat",
    "strat_nofpc",
    "clus1",
    "clus1_frac",
    "clus2",
    "clus2_nofpc",
    "clus1_post",
    "clus1_rake",
    "strat_rake",
    "clus2_post",
)
API_CASES = [
    "mean_api00",
    "mean_avged",
    "total_enroll",
    "by_mean_api00_stype",
    "by_mean_avged_stype",
    "by_total_enroll_schwide",
    "ratio_api00_api99",
    "by_ratio_api00_api99_stype",
] + [f"{k}/{m}" for k in ("ciprop_schwide", "by_ciprop_schwide_stype") for m in METHODS]
OWN_DESIGNS = ("own1", "own1_frac", "own1_nofpc", "own2", "own2_noweights")
OWN_CASES = [
    "mean_y",
    "total_y",
    "by_mean_y_role",
    "by_mean_y_band",
    "by_total_y_role",
    "ratio_y_x",
    "by_ratio_y_x_role",
    "by_se_sat_band",
    "post_by_mean_y_role",
    "rake_mean_y",
] + [
    f"{k}/{m}"
    for k in ("ciprop_sat", "by_ciprop_yes_role", "by_ciprop_y60_role", "by_ciprop_sat_band")
    for m in METHODS
]


@pytest.mark.parametrize("case", API_CASES)
@pytest.mark.parametrize("design", API_DESIGNS)
def test_api_against_r(design: str, case: str) -> None:
    run_case(api_design(design), case, f"{design}/{case}")


@pytest.mark.parametrize("case", OWN_CASES)
@pytest.mark.parametrize("design", OWN_DESIGNS)
@pytest.mark.parametrize("lonely", LONELY)
def test_own_data_lonely_psu_against_r(lonely: str, design: str, case: str) -> None:
    run_case(own_design(design, lonely), case, f"{lonely}/{design}/{case}")


@pytest.mark.parametrize("design", API_DESIGNS)
def test_api_level_proportions_against_r(design: str) -> None:
    """svyby(~awards, ~stype, svymean): every level of a factor."""
    ref = REF[f"{design}/by_mean_awards_stype"]
    ours = api_design(design).proportion("awards", by="stype")
    assert set(zip(ours["stype"].astype(str), ours["level"].astype(str), strict=True)) == {
        (str(r["key"]), str(r["level"])) for r in ref
    }, f"{design}: domains or levels that R does not have"
    for r in ref:
        o = ours[(ours["stype"] == r["key"]) & (ours["level"] == r["level"])].iloc[0]
        for field in ("estimate", "se", "deff"):
            close(o[field], r[field], STAT[field], f"{design} awards {r['key']} {field}")


def check_chisq(d: SurveyDesign, row: str, col: str, prefix: str) -> None:
    ours = d.crosstab(row, col).set_index("method")
    f = REF[f"{prefix}_F"][0] if isinstance(REF[f"{prefix}_F"], list) else REF[f"{prefix}_F"]
    for field in ("statistic", "df1", "df2", "p_value"):
        close(ours.loc["F", field], f[field], 1e-6, f"{prefix} F {field}")
    c = REF[f"{prefix}_Chisq"]
    c = c[0] if isinstance(c, list) else c
    close(ours.loc["Chisq", "pearson"], c["statistic"], 1e-8, f"{prefix} X2")
    close(ours.loc["Chisq", "df1"], c["df1"], 1e-12, f"{prefix} chisq df")
    close(ours.loc["Chisq", "p_value"], c["p_value"], 1e-6, f"{prefix} chisq p")


@pytest.mark.parametrize("design", API_DESIGNS)
def test_api_chisq_against_r(design: str) -> None:
    d = api_design(design)
    check_chisq(d, "sch.wide", "stype", f"{design}/chisq_schwide_stype")
    ref = REF[f"{design}/chisq_awards_compimp_F"]
    ref = ref[0] if isinstance(ref, list) else ref
    ours = d.crosstab("awards", "comp.imp").set_index("method")
    close(ours.loc["F", "statistic"], ref["statistic"], 1e-6, f"{design} awards F")
    close(ours.loc["F", "p_value"], ref["p_value"], 1e-6, f"{design} awards p")


@pytest.mark.parametrize("design", OWN_DESIGNS)
@pytest.mark.parametrize("lonely", ["remove", "certainty", "adjust", "average"])
def test_own_chisq_against_r(lonely: str, design: str) -> None:
    check_chisq(own_design(design, lonely), "sat", "band", f"{lonely}/{design}/chisq_sat_band")


def test_own_chisq_fail_raises() -> None:
    assert "only one PSU" in REF["fail/own1/chisq_sat_band_F"]["error"]
    with pytest.raises(DataError, match="stratum 'h4' has only one PSU"):
        own_design("own1", "fail").crosstab("sat", "band")


@pytest.mark.parametrize("design", API_DESIGNS)
def test_degf_matches_r(design: str) -> None:
    assert api_design(design).degf == REF["degf"][design]


def test_calibrated_weights_match_r() -> None:
    for name, key in [
        ("clus1_post", "weights_clus1_post"),
        ("clus1_rake", "weights_clus1_rake"),
        ("strat_rake", "weights_strat_rake"),
    ]:
        np.testing.assert_allclose(api_design(name).weights, REF[key], rtol=1e-10)


def test_subsets_keep_the_design() -> None:
    for name, frame, fields in [
        ("clus1", "apiclus1", None),
        ("clus1_rake", "apiclus1", None),
        ("clus2", "apiclus2", 1),
    ]:
        d = api_design(name)
        if fields is None:
            ours = d.subset(data(frame)["stype"] == "E").mean("api00")
            compare(ours, REF[f"{name}/subset_mean_api00_E"], None, STAT, name)
        else:
            ours = d.subset(data(frame)["stype"] == "H").total("enroll")
            compare(ours, REF[f"{name}/subset_total_enroll_H"], None, STAT, name)


# ---- edge cases -----------------------------------------------------------------------------------


def test_domain_with_no_cases_gives_nan_row() -> None:
    df = data("own").copy()
    df["role"] = pd.Categorical(df["role"], categories=["cadre", "deputy", "party", "resident"])
    d = SurveyDesign(
        df, cluster="psu", strata="stratum", weights="w", fpc="fpc1", lonely_psu="adjust"
    )
    out = d.mean("y", by="role").set_index("role")
    assert out.loc["deputy", "n"] == 0
    assert np.isnan(out.loc["deputy", "estimate"])
    ref = {r["key"]: r for r in REF["adjust/own1/by_mean_y_role"]}
    close(out.loc["party", "se"], ref["party"]["se"], 1e-6, "party se")
    props = d.proportion("yes", level=1, by="role").set_index("role")
    assert props.loc["deputy", "n"] == 0 and np.isnan(props.loc["deputy", "ci_low"])


@pytest.mark.parametrize("method", METHODS)
def test_proportion_of_exactly_one_and_zero(method: str) -> None:
    """Cadres all said yes. R: estimate 1 and se 0; its glm-based intervals degenerate there."""
    d = own_design("own1", "adjust")
    yes = d.proportion("yes", level=1, by="role", method=method).set_index("role")
    no = d.proportion("yes", level=0, by="role", method=method).set_index("role")
    assert yes.loc["cadre", "estimate"] == 1.0 and yes.loc["cadre", "se"] == 0.0
    assert no.loc["cadre", "estimate"] == 0.0 and no.loc["cadre", "se"] == 0.0
    if method == "mean":  # R: the Wald interval collapses to [1, 1]
        ref = {r["key"]: r for r in REF["adjust/own1/by_ciprop_yes_role/mean"]}
        close(yes.loc["cadre", "ci_low"], ref["cadre"]["ci_low"], 1e-12, "mean ci")
        assert yes.loc["cadre", "ci_high"] == 1.0
    else:  # Korn-Graubard with n* = number of cases: a proper one-sided interval
        n = yes.loc["cadre", "n"]
        assert yes.loc["cadre", "ci_high"] == 1.0 and 0.5 < yes.loc["cadre", "ci_low"] < 1.0
        assert no.loc["cadre", "ci_low"] == 0.0 and 0.0 < no.loc["cadre", "ci_high"] < 0.5
        assert yes.loc["cadre", "ci_low"] == pytest.approx(1 - no.loc["cadre", "ci_high"])
        assert n > 5


def test_zero_weights_are_kept_in_the_design_but_not_counted() -> None:
    df = data("own")
    d = own_design("own1", "adjust")
    assert (df["w"] == 0).sum() == 2
    out = d.mean("y")
    assert out["n"].iloc[0] == int(((df["w"] > 0) & df["y"].notna()).sum())
    # dropping the zero-weight rows changes nothing (their PSUs still count)
    d2 = SurveyDesign(
        df, cluster="psu", strata="stratum", weights="w", fpc="fpc1", lonely_psu="adjust"
    ).subset(df["w"] > 0)
    np.testing.assert_allclose(d2.mean("y")["se"], out["se"], rtol=1e-12)


def test_missing_values_are_dropped_per_variable() -> None:
    d = own_design("own1", "adjust")
    df = data("own")
    assert df["y"].isna().sum() == 3
    both = d.mean(["y", "x"])
    assert list(both["item"]) == ["y", "x"]
    assert both["n"].tolist() == [int(((df.w > 0) & df.y.notna()).sum()), int((df.w > 0).sum())]


def test_multiple_by_columns_and_labels() -> None:
    d = api_design("strat")
    out = d.mean("api00", by=["stype", "sch.wide"])
    assert list(out.columns[:2]) == ["stype", "sch.wide"]
    assert len(out) == 6
    # each cell equals the single-column domain estimate of the combined label
    df = data("apistrat").assign(cell=lambda f: f["stype"] + "." + f["sch.wide"])
    single = SurveyDesign(df, strata="stype", weights="pw", fpc="fpc").mean("api00", by="cell")
    np.testing.assert_allclose(np.sort(out["se"]), np.sort(single["se"]), rtol=1e-12)


def test_confidence_level_changes_normal_interval() -> None:
    d = api_design("strat")
    r90 = d.mean("api00", confidence=0.9).iloc[0]
    assert r90["ci_high"] - r90["estimate"] == pytest.approx(1.6448536269514722 * r90["se"])
    with pytest.raises(ParameterError, match="confidence"):
        d.mean("api00", confidence=95)


def test_parameter_and_data_errors() -> None:
    df = data("apistrat")
    with pytest.raises(ParameterError, match="lonely_psu"):
        SurveyDesign(df, strata="stype", lonely_psu="drop")
    with pytest.raises(DataError, match="stypo"):
        SurveyDesign(df, strata="stypo")
    with pytest.raises(ParameterError, match="method"):
        api_design("strat").proportion("sch.wide", method="wilson")
    bad = df.assign(pw=df["pw"].where(df.index != 3))
    with pytest.raises(DataError, match="missing values"):
        SurveyDesign(bad, weights="pw")
    mixed = df.assign(fpc=np.where(df.index == 0, 0.5, df["fpc"]))
    with pytest.raises(DataError, match="population sizes"):
        SurveyDesign(mixed, strata="stype", fpc="fpc")
    varying = df.assign(fpc=df["fpc"] + np.arange(len(df)))
    with pytest.raises(DataError, match="varies within"):
        SurveyDesign(varying, strata="stype", fpc="fpc")
    with pytest.raises(DataError, match="not numeric"):
        api_design("strat").mean("stype")


def test_repr_and_len() -> None:
    d = api_design("clus2")
    assert "two-stage" in repr(d) and len(d) == 126


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_strata=st.integers(1, 4),
    lonely=st.sampled_from(["remove", "adjust", "average", "certainty"]),
)
def test_vectorised_domains_equal_one_domain_at_a_time(seed: int, n_strata: int, lonely: str):
    """svyby semantics: all-domains-at-once equals a subset design per domain."""
    rng = np.random.default_rng(seed)
    n = 80
    df = pd.DataFrame(
        {
            "h": rng.integers(0, n_strata, n),
            "c": rng.integers(0, 6, n),
            "w": rng.uniform(1, 5, n),
            "y": rng.normal(size=n),
            "g": rng.integers(0, 4, n),
        }
    )
    df.loc[rng.random(n) < 0.1, "y"] = np.nan
    d = SurveyDesign(df, strata="h", cluster="c", weights="w", lonely_psu=lonely)
    together = d.mean("y", by="g").set_index("g")
    for g, row in together.iterrows():
        alone = d.subset(df["g"] == g).mean("y").iloc[0]
        for field in ("estimate", "se", "deff"):
            a, b = row[field], alone[field]
            assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-15)
