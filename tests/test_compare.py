"""Tests of toolkit.analysis.compare against base R (tests/reference/compare_groups.R -> .json).

R references: wilcox.test(exact = FALSE, correct = TRUE), kruskal.test, chisq.test, fisher.test,
p.adjust; Dunn's z written out in R from Dunn (1964) as dunn.test computes it (dunn.test and FSA are
not Debian packages).
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
from toolkit.analysis import compare
from toolkit.analysis.compare import SmallExpectedCountWarning, _p_adjust, compare_groups
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "compare_groups.json").read_text("utf-8"))
LEVELS = ["不满意", "基本满意", "满意"]
RTOL = 1e-9


def _two() -> pd.DataFrame:
    ref = REF["two"]
    labels = [LEVELS[v - 1] for v in ref["y"]]
    return pd.DataFrame(
        {"y": pd.Categorical(labels, categories=LEVELS, ordered=True), "g": ref["g"]}
    )


@pytest.mark.parametrize("case", REF["two"]["mw"], ids=lambda c: c["alternative"])
def test_mann_whitney_matches_wilcox_test(case: dict) -> None:
    alt = case["alternative"].replace(".", "-")
    res = compare_groups(_two(), y="y", by="g", alternative=alt)
    row = res.iloc[0]
    assert row["measure"] == "mann_whitney"
    assert (row["group1"], row["group2"]) == ("党员", "群众")
    assert row["statistic"] == pytest.approx(case["W"], rel=RTOL)
    assert row["p_value"] == pytest.approx(case["p"], rel=RTOL)
    assert row["effect_size"] == pytest.approx(2 * case["W"] / (23 * 31) - 1, rel=RTOL)


def test_mann_whitney_without_correction() -> None:
    res = compare_groups(_two(), y="y", by="g", correct=False)
    assert res["p_value"].iloc[0] == pytest.approx(REF["two"]["p_nocorrect"], rel=RTOL)


def test_ordinal_input_forms_agree() -> None:
    """Ordered Categorical, string labels with `levels`, and numeric codes give one answer."""
    base = compare_groups(_two(), y="y", by="g")
    strings = _two().assign(y=lambda d: d["y"].astype(str))
    with_levels = compare_groups(strings, y="y", by="g", levels=LEVELS)
    codes = _two().assign(y=lambda d: d["y"].cat.codes.astype(float))
    numeric = compare_groups(codes, y="y", by="g")
    for other in (with_levels, numeric):
        assert other["statistic"].iloc[0] == pytest.approx(base["statistic"].iloc[0])
        assert other["p_value"].iloc[0] == pytest.approx(base["p_value"].iloc[0])
    # strings without an order are categories: chi-square, not a rank test
    assert compare_groups(strings, y="y", by="g")["measure"].iloc[0] == "chi_square"


def test_rank_biserial_sign_convention() -> None:
    df = pd.DataFrame({"y": [5, 6, 7, 1, 2, 3], "g": ["甲", "甲", "甲", "乙", "乙", "乙"]})
    res = compare_groups(df, y="y", by="g")
    # sorted order puts 乙 (U+4E59) before 甲 (U+7532); 乙 gives the smaller answers
    assert res["group1"].iloc[0] == "乙"
    assert res["effect_size"].iloc[0] == -1.0
    cat = df.assign(g=pd.Categorical(df["g"], categories=["甲", "乙"]))
    assert compare_groups(cat, y="y", by="g")["effect_size"].iloc[0] == 1.0


def _four() -> pd.DataFrame:
    return pd.DataFrame({"y": REF["four"]["y"], "g": REF["four"]["g"]})


def test_kruskal_wallis_and_dunn_match_r() -> None:
    ref = REF["four"]
    res = compare_groups(_four(), y="y", by="g")
    omni = res.iloc[0]
    assert omni["measure"] == "kruskal_wallis"
    assert omni["statistic"] == pytest.approx(ref["H"], rel=RTOL)
    assert omni["df"] == ref["df"]
    assert omni["p_value"] == pytest.approx(ref["p"], rel=RTOL)
    n = len(ref["y"])
    assert omni["effect_size"] == pytest.approx(ref["H"] / ((n**2 - 1) / (n + 1)), rel=RTOL)
    pairs = res.iloc[1:].reset_index(drop=True)
    dunn = pd.DataFrame(ref["dunn"])
    assert list(pairs["group1"]) == list(dunn["group1"])
    assert list(pairs["group2"]) == list(dunn["group2"])
    np.testing.assert_allclose(pairs["statistic"], dunn["z"], rtol=RTOL)
    np.testing.assert_allclose(pairs["p_value"], dunn["p"], rtol=RTOL)
    np.testing.assert_allclose(pairs["p_adjusted"], dunn["p_holm"], rtol=RTOL)
    np.testing.assert_allclose(pairs["effect_size"], dunn["rank_biserial"], rtol=RTOL)
    for method, col in (("bh", "p_bh"), ("bonferroni", "p_bonferroni")):
        other = compare_groups(_four(), y="y", by="g", adjust=method).iloc[1:]
        np.testing.assert_allclose(other["p_adjusted"], dunn[col], rtol=RTOL)
        assert set(other["method"]) == {method}


def test_sorted_and_table_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dense count-table path and the sort/sparse path give the same numbers."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=300).round(1), "g": rng.integers(0, 6, 300)})
    dense = compare_groups(df, y="y", by="g")
    monkeypatch.setattr(compare, "_DENSE_CELLS", 10)
    sparse_path = compare_groups(df, y="y", by="g")
    cols = ["statistic", "p_value", "p_adjusted", "effect_size"]
    pd.testing.assert_frame_equal(dense[cols], sparse_path[cols], rtol=1e-12)


def test_without_pairwise() -> None:
    res = compare_groups(_four(), y="y", by="g", pairwise=False)
    assert list(res["measure"]) == ["kruskal_wallis"]
    assert "p_adjusted" not in res.columns


def test_chi_square_matches_r() -> None:
    ref = REF["cat3"]
    df = pd.DataFrame({"y": ref["y"], "g": ref["g"]})
    assert ref["min_expected"] < 5  # one expected count of 4.38 (R warns too)
    with pytest.warns(SmallExpectedCountWarning, match="1 of 12 expected counts"):
        res = compare_groups(df, y="y", by="g")
    assert "merge sparse levels" in res["note"].iloc[0]
    assert "fisher_exact" not in set(res["measure"])
    row = res.iloc[0]
    assert row["measure"] == "chi_square"
    assert row["statistic"] == pytest.approx(ref["X2"], rel=RTOL)
    assert row["df"] == ref["df"]
    assert row["p_value"] == pytest.approx(ref["p"], rel=RTOL)
    assert row["effect_size"] == pytest.approx(np.sqrt(ref["X2"] / (ref["n"] * 2)), rel=RTOL)


def test_two_by_two_small_counts_fisher_and_warning() -> None:
    ref = REF["cat22"]
    df = pd.DataFrame({"y": ref["y"], "g": ref["g"]})
    with pytest.warns(SmallExpectedCountWarning, match="expected counts are below 5"):
        res = compare_groups(df, y="y", by="g", confidence=0.9)
    chi = res.iloc[0]
    assert chi["statistic"] == pytest.approx(ref["X2"], rel=RTOL)
    assert chi["p_value"] == pytest.approx(ref["p"], rel=RTOL)
    assert chi["effect_size"] == pytest.approx(np.sqrt(ref["X2_plain"] / 20), rel=RTOL)
    assert "Fisher" in chi["note"]
    for case in ref["fisher"]:
        alt = case["alternative"].replace(".", "-")
        with pytest.warns(SmallExpectedCountWarning):
            res = compare_groups(df, y="y", by="g", alternative=alt, confidence=0.9)
        fisher = res[res["measure"] == "fisher_exact"].iloc[0]
        assert fisher["p_value"] == pytest.approx(case["p"], rel=1e-7)
        # fisher.test solves for the estimate and bounds with uniroot's default tolerance (~1e-4);
        # the *_precise values are R's same equations solved to 1e-14 (see the R script).
        assert fisher["odds_ratio"] == pytest.approx(case["or_precise"], rel=1e-7)
        assert fisher["odds_ratio"] == pytest.approx(case["or"], rel=1e-3)
        assert fisher["ci_low"] == pytest.approx(case["low_precise"], rel=1e-6, abs=1e-12)
        high = float(case["high_precise"])  # "Inf" for a one-sided interval
        assert fisher["ci_high"] == pytest.approx(high, rel=1e-6)
    with pytest.warns(SmallExpectedCountWarning):
        plain = compare_groups(df, y="y", by="g", correct=False)
    assert plain["statistic"].iloc[0] == pytest.approx(ref["X2_plain"], rel=RTOL)


def test_p_adjust_matches_r_examples() -> None:
    # p.adjust(c(0.01, 0.04, 0.03, 0.2), "holm") = 0.04 0.09 0.09 0.20; "BH" = 0.04 0.0533 0.0533 0.2
    p = np.array([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(_p_adjust(p, "holm"), [0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(_p_adjust(p, "bh"), [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    np.testing.assert_allclose(_p_adjust(p, "none"), p)


# ---------------------------------------------------------------------------------------------
# edge cases


def test_edge_cases() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "g": ["a", "a", "a"]})
    with pytest.raises(DataError, match="at least 2"):
        compare_groups(df, y="y", by="g")
    with pytest.raises(DataError, match="no column `yy`"):
        compare_groups(df, y="yy", by="g")
    with raises_code(ParameterError, "E_OPTION", argument="kind"):
        compare_groups(df, y="y", by="g", kind="rank")
    with pytest.raises(ParameterError, match="two-sided"):
        compare_groups(_four(), y="y", by="g", alternative="greater")
    with pytest.raises(DataError, match="not in `levels`"):
        compare_groups(
            _two().assign(y=lambda d: d["y"].astype(str)), y="y", by="g", levels=["满意"]
        )
    with pytest.raises(DataError, match="has no order"):
        compare_groups(pd.DataFrame({"y": ["x", "y"], "g": [1, 2]}), y="y", by="g", kind="ordinal")


def test_all_answers_equal() -> None:
    df = pd.DataFrame({"y": [2.0] * 6, "g": list("aabbcc")})
    res = compare_groups(df, y="y", by="g")
    assert np.isnan(res["statistic"].iloc[0])
    assert "all answers are equal" in res["note"].iloc[0]
    two = compare_groups(df.iloc[:4], y="y", by="g")
    assert np.isnan(two["p_value"].iloc[0])


def test_empty_group_and_unused_level_are_left_out() -> None:
    df = _two().assign(g=lambda d: pd.Categorical(d["g"], categories=["党员", "团员", "群众"]))
    res = compare_groups(df, y="y", by="g")
    assert res["measure"].iloc[0] == "mann_whitney"
    assert "团员" in res["note"].iloc[0]
    cat = pd.DataFrame(
        {
            "y": pd.Categorical(["满意", "不满意"] * 10, categories=[*LEVELS, "不了解"]),
            "g": ["a"] * 10 + ["b"] * 10,
        }
    )
    res = compare_groups(cat, y="y", by="g")
    assert "levels never chosen left out: 基本满意, 不了解" in res["note"].iloc[0]
    assert res["df"].iloc[0] == 1


def test_missing_rows_are_dropped() -> None:
    df = _four()
    holes = df.copy()
    holes.loc[[0, 5], "y"] = np.nan
    holes.loc[7, "g"] = None
    res = compare_groups(holes, y="y", by="g")
    expected = compare_groups(df.drop(index=[0, 5, 7]), y="y", by="g")
    pd.testing.assert_frame_equal(res, expected)


# ---------------------------------------------------------------------------------------------
# properties


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=12, max_size=40),
    st.randoms(use_true_random=False),
)
def test_row_order_and_group_labels_do_not_matter(values: list[int], rnd) -> None:
    n = len(values)
    groups = [("c", "b", "a")[i % 3] for i in range(n)]
    df = pd.DataFrame({"y": np.array(values, float), "g": groups})
    base = compare_groups(df, y="y", by="g")
    order = list(range(n))
    rnd.shuffle(order)
    shuffled = compare_groups(df.iloc[order], y="y", by="g")
    pd.testing.assert_frame_equal(base, shuffled, check_exact=False, rtol=1e-12)
    relabelled = compare_groups(
        df.assign(g=df["g"].map({"a": "z", "b": "y", "c": "x"})), y="y", by="g"
    )
    # omnibus unchanged; each pair is reversed, so z and rank-biserial change sign
    assert relabelled["statistic"].iloc[0] == pytest.approx(base["statistic"].iloc[0], nan_ok=True)
    mapping = {"a": "z", "b": "y", "c": "x"}
    for _, row in base.iloc[1:].iterrows():
        other = relabelled[
            (relabelled["group1"] == mapping[row["group2"]])
            & (relabelled["group2"] == mapping[row["group1"]])
        ].iloc[0]
        assert other["z"] == pytest.approx(-row["z"], nan_ok=True, abs=1e-12)
        assert other["effect_size"] == pytest.approx(-row["effect_size"], nan_ok=True, abs=1e-12)
        assert other["p_adjusted"] == pytest.approx(row["p_adjusted"], nan_ok=True)


# --- exact Mann-Whitney p-values (tests/reference/compare_exact.R -> compare_exact.json) ---------

EXACT = json.loads((Path(__file__).parent / "reference" / "compare_exact.json").read_text("utf-8"))


@pytest.mark.parametrize("case", EXACT["cases"])
def test_exact_mann_whitney_matches_wilcox_test(case) -> None:
    x, y = np.atleast_1d(case["x"]), np.atleast_1d(case["y"])
    data = pd.DataFrame({"score": np.concatenate([x, y]), "g": ["a"] * x.size + ["b"] * y.size})
    for alternative, p in zip(["two-sided", "greater", "less"], case["p"], strict=True):
        out = compare_groups(data, y="score", by="g", exact=True, alternative=alternative)
        row = out.iloc[0]
        assert row["statistic"] == case["W"]
        assert row["p_value"] == pytest.approx(p, rel=1e-12)
        assert row["method"] == "exact" and pd.isna(row["z"])
    auto = compare_groups(data, y="score", by="g", exact=None).iloc[0]
    assert (auto.get("method") == "exact") == (x.size < 50 and y.size < 50)


def test_exact_with_ties_falls_back_to_normal() -> None:
    data = pd.DataFrame({"score": [1, 2, 2, 3, 4, 4, 5], "g": list("aaabbbb")})
    out = compare_groups(data, y="score", by="g", exact=True).iloc[0]
    normal = compare_groups(data, y="score", by="g").iloc[0]
    assert out["p_value"] == normal["p_value"]
    assert "exact p-value not available" in out["note"]
    assert (
        compare_groups(data, y="score", by="g", exact=None).iloc[0]["p_value"] == normal["p_value"]
    )
