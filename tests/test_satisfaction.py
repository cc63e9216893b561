"""Tests of toolkit.analysis.satisfaction against R (tests/reference/satisfaction.R -> .json,
and satisfaction_counts.R -> .json for the rates from a counts table).

R references (base R only): counts with table(), intervals with prop.test(correct = FALSE) and
binom.test, Agresti-Coull/Jeffreys/Wald written out from Brown, Cai & DasGupta (2001), the index
with t.test; verdicts by the rules of docs/domain.md computed in R with integer arithmetic.
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
from toolkit.analysis.proportions import PROPORTION_METHODS
from toolkit.analysis.satisfaction import (
    evaluation_verdict,
    satisfaction_index,
    satisfaction_rates,
    satisfaction_rates_from_counts,
)
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "satisfaction.json").read_text("utf-8"))
RTOL = 1e-9
ITEMS = ["attitude", "efficiency", "overall", "all_satisfied", "none_satisfied", "nobody"]
CODES = ["satisfied", "basically_satisfied", "dissatisfied", "dont_know"]
ZH = dict(zip(CODES, ["满意", "基本满意", "不满意", "不了解"], strict=True))
ZH_VERDICT = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def _ballots() -> pd.DataFrame:
    df = pd.DataFrame(REF["ballots"])
    for item in ITEMS:
        df[item] = df[item].astype(object).where(df[item].notna(), np.nan)
    return df


def _zh(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for item in ITEMS:
        out[item] = out[item].map(ZH)
    return out


def _ref_rates(item: str, denominator: str, method: str) -> pd.DataFrame:
    rows = [
        r for r in REF["rates"][item] if r["denominator"] == denominator and r["method"] == method
    ]
    return pd.DataFrame(rows)


# --- satisfaction_rates --------------------------------------------------------------------


@pytest.mark.parametrize("method", PROPORTION_METHODS)
@pytest.mark.parametrize("denominator", ["valid", "all", "members"])
def test_rates_match_r_overall(method: str, denominator: str) -> None:
    members = REF["members_all"] if denominator == "members" else None
    out = satisfaction_rates(
        _ballots(), items=ITEMS, method=method, denominator=denominator, members=members
    )
    assert len(out) == len(ITEMS) * 3
    for item in ITEMS:
        ref = _ref_rates(item, denominator, method)
        ref = ref[ref["group"].isna()]
        got = out[out["item"] == item]
        assert got["measure"].tolist() == ref["measure"].tolist() == ["strict", "broad",
                                                                       "dissatisfied"]  # fmt: skip
        np.testing.assert_array_equal(got["count"], ref["count"])
        np.testing.assert_array_equal(got["n"], ref["n"])
        for col in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(
                got[col].to_numpy(float), ref[col].to_numpy(float), rtol=RTOL, atol=1e-14
            )
    assert (out["denominator"] == denominator).all()
    assert (out["method"] == method).all()


@pytest.mark.parametrize("method", ["wilson", "exact"])
@pytest.mark.parametrize("denominator", ["valid", "all", "members"])
def test_rates_match_r_by_group(method: str, denominator: str) -> None:
    members = REF["members_role"] if denominator == "members" else None
    out = satisfaction_rates(
        _ballots(),
        items=ITEMS,
        by="role",
        method=method,
        denominator=denominator,
        members=members,
    )
    assert list(out.columns) == [
        "item", "role", "measure", "denominator", "count", "n", "estimate", "ci_low", "ci_high",
        "method", "confidence",
    ]  # fmt: skip
    assert out["role"].unique().tolist() == ["deputy", "party_member", "resident_rep"]  # sorted
    for item in ITEMS:
        ref = _ref_rates(item, denominator, method)
        ref = ref[ref["group"].notna()].rename(columns={"group": "role"})
        got = out[out["item"] == item].merge(ref, on=["role", "measure"], suffixes=("", "_r"))
        assert len(got) == 9
        np.testing.assert_array_equal(got["count"], got["count_r"])
        np.testing.assert_array_equal(got["n"], got["n_r"])
        for col in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(
                got[col].to_numpy(float), got[f"{col}_r"].to_numpy(float), rtol=RTOL, atol=1e-14
            )


def test_item_answered_by_nobody_gives_nan_not_an_error() -> None:
    out = satisfaction_rates(_ballots(), items="nobody")
    assert (out["n"] == 0).all()
    assert out[["estimate", "ci_low", "ci_high"]].isna().all().all()
    everyone = satisfaction_rates(_ballots(), items="nobody", denominator="all")
    assert (everyone["n"] == 40).all() and (everyone["estimate"] == 0).all()


def test_everyone_and_nobody_satisfied() -> None:
    out = satisfaction_rates(_ballots(), items=["all_satisfied", "none_satisfied"])
    top = out[(out["item"] == "all_satisfied") & (out["measure"] == "strict")].iloc[0]
    assert top["estimate"] == 1.0 and top["ci_high"] == 1.0 and top["ci_low"] < 1.0
    bottom = out[(out["item"] == "none_satisfied") & (out["measure"] == "strict")].iloc[0]
    assert bottom["estimate"] == 0.0 and bottom["ci_low"] == 0.0 and bottom["ci_high"] > 0.0


def test_one_rater() -> None:
    out = satisfaction_rates(pd.DataFrame({"q": ["基本满意"]}), items="q", method="exact")
    assert out["count"].tolist() == [0, 1, 0]
    assert out["n"].tolist() == [1, 1, 1]
    strict = out.iloc[0]
    assert strict["ci_low"] == 0.0
    assert strict["ci_high"] == pytest.approx(0.975)  # binom.test(0, 1)


def _variants() -> dict[str, pd.DataFrame]:
    codes = _ballots()
    zh = _zh(codes)
    english = codes.copy()
    en = {"satisfied": "Satisfied", "basically_satisfied": "Basically satisfied",
          "dissatisfied": "Dissatisfied", "dont_know": "Don't know"}  # fmt: skip
    cat_zh = zh.copy()
    cat_codes = codes.copy()
    for item in ITEMS:
        english[item] = codes[item].map(en)
        cat_zh[item] = pd.Categorical(
            zh[item], categories=["不满意", "基本满意", "满意", "不了解"], ordered=True
        )
        cat_codes[item] = pd.Categorical(codes[item], categories=CODES)
    padded = zh.copy()
    padded["attitude"] = padded["attitude"].map(lambda v: f" {v} " if isinstance(v, str) else "")
    return {
        "chinese": zh, "english": english, "categorical_zh": cat_zh,
        "categorical_codes": cat_codes, "padded_and_empty_strings": padded,
    }  # fmt: skip


@pytest.mark.parametrize("variant", list(_variants()))
def test_strings_labels_and_categoricals_agree(variant: str) -> None:
    expected = satisfaction_rates(_ballots(), items=ITEMS, by="role")
    got = satisfaction_rates(_variants()[variant], items=ITEMS, by="role")
    pd.testing.assert_frame_equal(got, expected)


def test_declared_levels() -> None:
    numeric = _ballots()
    code_of = {"satisfied": 1, "basically_satisfied": 2, "dissatisfied": 3, "dont_know": 9}
    for item in ITEMS:
        numeric[item] = numeric[item].map(code_of)
    levels = {"strict": [1], "broad": [1, 2], "dissatisfied": [3], "excluded": [9]}
    got = satisfaction_rates(numeric, items=ITEMS, levels=levels)
    pd.testing.assert_frame_equal(got, satisfaction_rates(_ballots(), items=ITEMS))
    five = pd.DataFrame({"q": ["很满意", "满意", "一般", "不满意", "很不满意", "说不清"]})
    levels5 = {"strict": ["很满意", "满意"], "broad": ["一般"],
               "dissatisfied": ["不满意", "很不满意"], "excluded": ["说不清"]}  # fmt: skip
    out = satisfaction_rates(five, items="q", levels=levels5)
    assert out["count"].tolist() == [2, 3, 2]
    assert out["n"].tolist() == [5, 5, 5]


def test_unknown_value_names_column_and_value() -> None:
    df = pd.DataFrame({"attitude": ["满意", "很满意", "不满意"]})
    with pytest.raises(DataError, match=r"column `attitude`: unknown value '很满意'.*levels="):
        satisfaction_rates(df, items="attitude")
    cat = pd.DataFrame({"attitude": pd.Categorical(["满意"], categories=["满意", "还行"])})
    with pytest.raises(DataError, match="'还行'"):  # an unknown category, even unused
        satisfaction_rates(cat, items="attitude")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"denominator": "members"}, "needs `members`"),
        ({"denominator": "members", "members": 10}, "40 ballots returned but only 10"),
        ({"members": 45}, "only with denominator='members'"),
        ({"denominator": "members", "members": 45, "by": "role"}, "must be a dict"),
        ({"denominator": "members", "members": {"deputy": 5}, "by": "role"}, "no entry"),
        ({"denominator": "membres"}, "`denominator` must be one of"),
        ({"levels": {"strikt": ["满意"]}}, "Did you mean `strict`"),
        ({"levels": {"strict": ["满意"], "dissatisfied": ["满意"]}}, "under two keys"),
        ({"items": "atitude"}, "Did you mean `attitude`"),
        ({"by": "attitude"}, "must not share"),
    ],
)
def test_rate_errors(kwargs: dict, match: str) -> None:
    kwargs = {"items": "attitude", **kwargs}
    with pytest.raises((ParameterError, DataError), match=match):
        satisfaction_rates(_zh(_ballots()), **kwargs)


def test_missing_group_label_is_its_own_group() -> None:
    df = pd.DataFrame({"q": ["满意", "不满意", "满意"], "g": ["a", None, "a"]})
    out = satisfaction_rates(df, items="q", by="g")
    assert out["g"].iloc[0] == "a" and pd.isna(out["g"].iloc[3])
    assert out["n"].tolist() == [2, 2, 2, 1, 1, 1]


# --- evaluation_verdict ----------------------------------------------------------------------


def test_majority_of_members_matches_r() -> None:
    out = evaluation_verdict(_zh(_ballots()), items=ITEMS, members=REF["members_all"])
    for _, row in out.iterrows():
        ref = REF["verdicts"][row["item"]]
        assert row["verdict"] == ZH_VERDICT[ref["majority"]]
        assert (row["count_satisfied"], row["count_basically_satisfied"]) == (ref["S"], ref["B"])
        assert (row["count_dissatisfied"], row["count_dont_know"]) == (ref["D"], ref["K"])
        assert row["count_blank"] == ref["E"]
        assert row["members"] == 45 and row["ballots"] == 40 and row["threshold"] == 0.5
        assert row["strict_share"] == pytest.approx(ref["S"] / 45, rel=1e-12)
    assert (out["rule"] == "majority_of_members").all()


def test_majority_uses_exact_more_than_half() -> None:
    def ballots(s: int, b: int, d: int) -> pd.DataFrame:
        return pd.DataFrame({"q": ["满意"] * s + ["基本满意"] * b + ["不满意"] * d})

    # exactly half is not more than half (过半数 excludes the threshold)
    assert evaluation_verdict(ballots(15, 0, 15), items="q", members=30)["verdict"][0] == "不满意"
    assert evaluation_verdict(ballots(15, 1, 14), items="q", members=30)["verdict"][0] == "基本满意"
    assert evaluation_verdict(ballots(16, 0, 14), items="q", members=30)["verdict"][0] == "满意"
    # members who did not return a ballot count against: 16 of 33 is not more than half
    assert evaluation_verdict(ballots(16, 0, 0), items="q", members=33)["verdict"][0] == "不满意"
    assert evaluation_verdict(ballots(2, 0, 1), items="q", members=3)["verdict"][0] == "满意"
    out = evaluation_verdict(ballots(2, 0, 1), items="q", members="returned")
    assert out["members"][0] == 3
    per_item = evaluation_verdict(ballots(2, 0, 1), items="q", members={"q": 5})
    assert per_item["verdict"][0] == "不满意"


def test_majority_requires_members_with_a_fix() -> None:
    with pytest.raises(ParameterError, match=r"needs `members`.*members=31.*members='returned'"):
        evaluation_verdict(_ballots(), items="overall")
    with pytest.raises(DataError, match="40 ballots returned but only 39 members"):
        evaluation_verdict(_ballots(), items="overall", members=39)
    with raises_code(ParameterError, "E_OPTION", argument="members"):
        evaluation_verdict(_ballots(), items="overall", members="all")
    with pytest.raises(ParameterError, match="only by rule='majority_of_members'"):
        evaluation_verdict(_ballots(), items="overall", rule="plurality", members=40)


def test_plurality_matches_r_and_reports_ties() -> None:
    out = evaluation_verdict(_ballots(), items=ITEMS, rule="plurality")
    for _, row in out.iterrows():
        ref = REF["verdicts"][row["item"]]["plurality"]
        if ref is None:
            assert pd.isna(row["verdict"]) and row["note"] == "no valid answers"
        else:
            assert row["verdict"] == ZH_VERDICT[ref]
    tie = pd.DataFrame({"q": ["满意", "基本满意", "满意", "基本满意", "不满意", "不了解"]})
    row = evaluation_verdict(tie, items="q", rule="plurality").iloc[0]
    assert row["verdict"] == "并列"
    assert row["tied_levels"] == "满意, 基本满意"
    assert "2 each" in row["note"]


def test_score_bands_match_r() -> None:
    out = evaluation_verdict(_ballots(), items=ITEMS, rule="score_bands")
    for _, row in out.iterrows():
        ref = REF["verdicts"][row["item"]]
        if ref["score"] is None:
            assert pd.isna(row["verdict"]) and np.isnan(row["score"])
        else:
            assert row["score"] == pytest.approx(ref["score"], rel=1e-12)
            assert row["verdict"] == ZH_VERDICT[ref["score_band"]]
    assert (out["band_high"] == 80).all() and (out["band_low"] == 60).all()


def test_score_bands_edges_and_numeric_scores() -> None:
    # 60 exactly is in the 基本满意 band; 80 exactly is 满意 (exact comparisons)
    df = pd.DataFrame(
        {
            "a": ["基本满意"] * 3 + [None, "不了解"],
            "b": ["满意", "基本满意", "基本满意", "满意", "满意"],
        }
    )
    out = evaluation_verdict(df, items=["a", "b"], rule="score_bands")
    assert out["score"].tolist() == [60.0, 84.0]
    assert out["verdict"].tolist() == ["基本满意", "满意"]
    pts = {"满意": 100, "基本满意": 70, "不满意": 0}
    out = evaluation_verdict(df, items="a", rule="score_bands", points=pts, bands=(70, 50))
    assert out["verdict"][0] == "满意"
    scores = pd.DataFrame({"s": [79.5, 80.5, np.nan, 80.0]})
    out = evaluation_verdict(scores, items="s", rule="score_bands")
    assert out["score"][0] == 80.0 and out["verdict"][0] == "满意" and out["valid"][0] == 3
    assert pd.isna(out["count_satisfied"][0])
    with pytest.raises(DataError, match="outside 0-100"):
        evaluation_verdict(pd.DataFrame({"s": [7, 120]}), items="s", rule="score_bands")
    with pytest.raises(ParameterError, match="high > low"):
        evaluation_verdict(df, items="a", rule="score_bands", bands=(60, 80))


def test_bottom_k_matches_r_and_flags_ties() -> None:
    out = evaluation_verdict(_ballots(), items=ITEMS, rule="bottom_k", k=2)
    rated = {i: REF["verdicts"][i]["broad_rate"] for i in ITEMS}
    lowest = sorted((r, i) for i, r in rated.items() if r is not None)[:2]
    flagged = set(out.loc[out["verdict"] == "整改", "item"])
    assert flagged == {i for _, i in lowest}
    for _, row in out.iterrows():
        if rated[row["item"]] is None:
            assert pd.isna(row["verdict"]) and "not ranked" in row["note"]
        else:
            assert row["estimate"] == pytest.approx(rated[row["item"]], rel=1e-12)
            assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert out.loc[out["item"] == lowest[0][1], "rank"].iloc[0] == 1
    tie = pd.DataFrame(
        {"a": ["满意", "不满意"], "b": ["基本满意", "不满意"], "c": ["满意", "满意"]}
    )
    out = evaluation_verdict(tie, items=["a", "b", "c"], rule="bottom_k", k=1)
    assert out["verdict"].tolist() == ["整改", "整改", "通过"]
    assert out["rank"].tolist() == [1, 1, 3]
    assert "tie at the cut" in out["note"][0]
    with raises_code(ParameterError, "E_RANGE", argument="k"):
        evaluation_verdict(tie, items=["a", "b", "c"], rule="bottom_k", k=4)


def test_verdict_one_rater_and_all_equal() -> None:
    one = pd.DataFrame({"q": ["满意"]})
    assert evaluation_verdict(one, items="q", members=1)["verdict"][0] == "满意"
    assert evaluation_verdict(one, items="q", rule="plurality")["verdict"][0] == "满意"
    same = pd.DataFrame({"q": ["不满意"] * 20})
    assert evaluation_verdict(same, items="q", rule="score_bands")["score"][0] == 0.0


# --- satisfaction_index ----------------------------------------------------------------------


def test_index_matches_r() -> None:
    ref = REF["index"]
    weights = {"attitude": 2, "efficiency": 1, "overall": 1}
    out = satisfaction_index(_zh(_ballots()), items=list(weights), weights=weights)
    row = out.iloc[0]
    assert row["n"] == ref["n"] and row["n_items"] == 3
    for col in ("estimate", "sd", "se", "ci_low", "ci_high"):
        assert row[col] == pytest.approx(ref[col], rel=1e-9)
    assert row["method"] == "analytic"
    out90 = satisfaction_index(_ballots(), items=list(weights), weights=[2, 1, 1], confidence=0.9)
    assert out90["ci_low"][0] == pytest.approx(ref["ci_low_90"], rel=1e-9)
    assert out90["ci_high"][0] == pytest.approx(ref["ci_high_90"], rel=1e-9)


def test_index_numeric_scale_matches_r() -> None:
    ref = REF["index_score10"]
    out = satisfaction_index(_ballots(), items="score10", points=(0, 10)).iloc[0]
    for col in ("n", "estimate", "sd", "ci_low", "ci_high"):
        assert out[col] == pytest.approx(ref[col], rel=1e-9)


def test_index_bootstrap_is_seeded() -> None:
    items = ["attitude", "efficiency", "overall"]
    a = satisfaction_index(_ballots(), items=items, method="bootstrap", n_boot=500, seed=3)
    b = satisfaction_index(_ballots(), items=items, method="bootstrap", n_boot=500, seed=3)
    c = satisfaction_index(_ballots(), items=items, method="bootstrap", n_boot=500, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert a["ci_low"][0] != c["ci_low"][0]
    analytic = satisfaction_index(_ballots(), items=items)
    assert a["estimate"][0] == analytic["estimate"][0]
    assert a["ci_low"][0] == pytest.approx(analytic["ci_low"][0], abs=3)
    assert a["se"][0] == pytest.approx(analytic["se"][0], rel=0.2)


@pytest.mark.parametrize("method", ["analytic", "bootstrap"])
def test_index_by_group_equals_index_of_each_group(method: str) -> None:
    items = ["attitude", "efficiency", "overall"]
    data = _ballots()
    data.loc[data.index[:5], "role"] = np.nan  # missing labels form their own group, last
    out = satisfaction_index(data, items=items, by="role", method=method, n_boot=300, seed=2)
    assert list(out.columns[:3]) == ["role", "n", "n_items"]
    labels = sorted(data["role"].dropna().unique())
    assert out["role"].iloc[:-1].tolist() == labels and pd.isna(out["role"].iloc[-1])
    for _, row in out.iterrows():
        mask = data["role"].isna() if pd.isna(row["role"]) else data["role"] == row["role"]
        alone = satisfaction_index(data[mask], items=items, method=method, n_boot=300, seed=2)
        pd.testing.assert_frame_equal(
            row.drop("role").to_frame().T.reset_index(drop=True).astype(alone.dtypes),
            alone,
        )
    assert out["n"].sum() == satisfaction_index(data, items=items)["n"].iloc[0]


def test_index_points_and_errors() -> None:
    df = pd.DataFrame({"q": ["满意", "基本满意", "不满意", "不了解"]})
    out = satisfaction_index(df, items="q", points={"satisfied": 100, "basically_satisfied": 80,
                                                    "dissatisfied": 20})  # fmt: skip
    assert out["estimate"][0] == pytest.approx(200 / 3) and out["n"][0] == 3
    nobody = satisfaction_index(pd.DataFrame({"q": ["不了解", None]}), items="q")
    assert nobody["n"][0] == 0 and np.isnan(nobody["estimate"][0])
    one = satisfaction_index(pd.DataFrame({"q": ["满意"]}), items="q")
    assert one["estimate"][0] == 100 and np.isnan(one["ci_low"][0])
    with pytest.raises(ParameterError, match=r"pass `points=\(low, high\)`"):
        satisfaction_index(pd.DataFrame({"s": [1, 2]}), items="s")
    with pytest.raises(DataError, match="outside the scale"):
        satisfaction_index(pd.DataFrame({"s": [1, 12]}), items="s", points=(0, 10))
    with pytest.raises(ParameterError, match="missing"):
        satisfaction_index(df, items="q", points={"satisfied": 100})
    with pytest.raises(ParameterError, match="not in `items`"):
        satisfaction_index(df, items="q", weights={"qq": 1})


# --- properties ------------------------------------------------------------------------------

LEVEL_VALUES = ["满意", "基本满意", "不满意", "不了解", None]


@st.composite
def ballot_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=30))
    q = draw(st.lists(st.sampled_from(LEVEL_VALUES), min_size=n, max_size=n))
    g = draw(st.lists(st.sampled_from(["东", "西", "南"]), min_size=n, max_size=n))
    return pd.DataFrame({"q": q, "g": g})


@settings(max_examples=30, deadline=None)
@given(df=ballot_frames(), seed=st.integers(min_value=0, max_value=2**16))
def test_rates_do_not_depend_on_row_order(df: pd.DataFrame, seed: int) -> None:
    shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    for by in (None, "g"):
        a = satisfaction_rates(df, items="q", by=by, method="jeffreys")
        b = satisfaction_rates(shuffled, items="q", by=by, method="jeffreys")
        pd.testing.assert_frame_equal(a, b)
    va = evaluation_verdict(df, items="q", rule="plurality")
    vb = evaluation_verdict(shuffled, items="q", rule="plurality")
    pd.testing.assert_frame_equal(va, vb)


@settings(max_examples=30, deadline=None)
@given(df=ballot_frames(), order=st.permutations(["东", "西", "南"]))
def test_rates_do_not_depend_on_group_label_order(df: pd.DataFrame, order: list[str]) -> None:
    plain = satisfaction_rates(df, items="q", by="g")
    cat = df.assign(g=pd.Categorical(df["g"], categories=order))
    recat = satisfaction_rates(cat, items="q", by="g")
    key = ["g", "measure"]
    a = plain.sort_values(key).reset_index(drop=True)
    b = recat.assign(g=recat["g"].astype(str)).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# --- satisfaction_rates_from_counts ---------------------------------------------------------

COUNTS_REF = json.loads(
    (Path(__file__).parent / "reference" / "satisfaction_counts.json").read_text("utf-8")
)
COUNT_ITEMS = ["wuye__overall", "juweihui__overall", "wuye__attitude"]


def _ref_counts() -> pd.DataFrame:
    counts = pd.DataFrame(COUNTS_REF["counts"])
    for column in ("street", "value"):
        counts[column] = counts[column].astype(object).where(counts[column].notna(), None)
    return counts


def _expand(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per ballot from a counts table whose items all add up to the same ballots."""
    columns = {}
    for item in COUNT_ITEMS:
        rows = counts[counts["variable"] == item]
        rows = rows.sort_values("street", kind="stable", na_position="last")
        columns[item] = np.repeat(rows["value"].to_numpy(dtype=object), rows["count"])
        columns["street"] = np.repeat(rows["street"].to_numpy(dtype=object), rows["count"])
    return pd.DataFrame(columns)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
@pytest.mark.parametrize("denominator", ["valid", "all", "members"])
def test_rates_from_counts_match_r(method: str, denominator: str) -> None:
    """Against R (tests/reference/satisfaction_counts.R): prop.test / binom.test on summed counts."""
    counts = _ref_counts()
    members = None
    if denominator == "members":  # a missing street has no body to count: leave it out
        counts = counts[counts["street"].notna()]
        members = {m["street"]: m["members"] for m in COUNTS_REF["members"] if m["street"]}
    got = satisfaction_rates_from_counts(
        counts,
        items=COUNT_ITEMS,
        by="street",
        method=method,
        denominator=denominator,
        members=members,
    )
    ref = pd.DataFrame(
        [
            r
            for r in COUNTS_REF["rates"]
            if r["method"] == method
            and r["denominator"] == denominator
            and (denominator != "members" or r["street"] is not None)
        ]
    )
    key = ["item", "street", "measure"]
    ref = ref.assign(street=ref["street"].fillna("<NA>")).set_index(key)
    got = got.assign(street=got["street"].fillna("<NA>")).set_index(key)
    ref = ref.loc[got.index]
    assert len(got) == len(ref) == len(COUNT_ITEMS) * (4 if denominator != "members" else 3) * 3
    np.testing.assert_array_equal(got["count"], ref["count"])
    np.testing.assert_array_equal(got["n"], ref["n"])
    for column in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(
            got[column].to_numpy(float), ref[column].to_numpy(float), rtol=1e-9, equal_nan=True
        )


@pytest.mark.parametrize("denominator", ["valid", "all"])
def test_rates_from_counts_equal_rates_of_the_ballots(denominator: str) -> None:
    counts = _ref_counts()
    ballots = _expand(counts)
    for by in ("street", None):
        expected = satisfaction_rates(ballots, items=COUNT_ITEMS, by=by, denominator=denominator)
        got = satisfaction_rates_from_counts(
            counts, items=COUNT_ITEMS, by=by, denominator=denominator
        )
        pd.testing.assert_frame_equal(got, expected)


def test_rates_from_counts_of_the_demo_store() -> None:
    from toolkit.demo import demo_store

    store = demo_store()
    try:
        wide = store.responses(instrument="evaluation")
        for by in ("street", ["community", "role"]):
            counts = store.rating_counts(by=by, instrument="evaluation")
            items = list(dict.fromkeys(counts["variable"]))
            assert len(items) > 20
            for denominator in ("valid", "all"):
                expected = satisfaction_rates(
                    wide, items=items, by=by, denominator=denominator, method="exact"
                )
                got = satisfaction_rates_from_counts(
                    counts, items=items, by=by, denominator=denominator, method="exact"
                )
                pd.testing.assert_frame_equal(got, expected)
    finally:
        store.close()


def test_rates_from_counts_checks() -> None:
    counts = _ref_counts()
    with pytest.raises(ParameterError, match="DataFrame"):
        satisfaction_rates_from_counts(counts.to_dict(), items="wuye__overall")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="does not hold"):
        satisfaction_rates_from_counts(counts, items="wuye__overal")
    with pytest.raises(DataError, match="not a count"):
        satisfaction_rates_from_counts(counts.assign(count=-1), items="wuye__overall")
    with pytest.raises(DataError, match="whole numbers"):
        satisfaction_rates_from_counts(counts.assign(count="3"), items="wuye__overall")
    with pytest.raises(ParameterError, match="must not name"):
        satisfaction_rates_from_counts(counts, items="wuye__overall", by="value")
    with pytest.raises(DataError, match="unknown value"):
        satisfaction_rates_from_counts(counts.assign(value="很好"), items="wuye__overall")
    # without its blank rows an item no longer covers every ballot: fine for "valid" only
    no_blanks = counts[counts["value"].notna()]
    satisfaction_rates_from_counts(no_blanks, items=COUNT_ITEMS, by="street")
    with pytest.raises(DataError, match="Count blanks"):
        satisfaction_rates_from_counts(no_blanks, items=COUNT_ITEMS, by="street", denominator="all")


@st.composite
def count_tables(draw: st.DrawFn) -> pd.DataFrame:
    """Ballots (two items, a group with missing labels) and their counts table."""
    n = draw(st.integers(min_value=1, max_value=40))
    values = st.lists(st.sampled_from(LEVEL_VALUES), min_size=n, max_size=n)
    groups = st.lists(st.sampled_from(["东", "西", "南", None]), min_size=n, max_size=n)
    return pd.DataFrame({"q": draw(values), "r": draw(values), "g": draw(groups)})


@settings(max_examples=50, deadline=None)
@given(
    ballots=count_tables(),
    denominator=st.sampled_from(["valid", "all"]),
    method=st.sampled_from(PROPORTION_METHODS),
)
def test_rates_from_counts_equal_rates_of_generated_ballots(
    ballots: pd.DataFrame, denominator: str, method: str
) -> None:
    long = ballots.melt(id_vars="g", var_name="variable", value_name="value")
    counts = (
        long.groupby(["g", "variable", "value"], dropna=False).size().rename("count").reset_index()
    )
    counts = counts[counts["count"] > 0].sample(frac=1, random_state=0)  # any row order
    for by in ("g", None):
        expected = satisfaction_rates(
            ballots, items=["q", "r"], by=by, denominator=denominator, method=method
        )
        got = satisfaction_rates_from_counts(
            counts, items=["q", "r"], by=by, denominator=denominator, method=method
        )
        pd.testing.assert_frame_equal(got, expected)


def test_rates_frequency_weights_equal_expanded_rows() -> None:
    data = _ballots().assign(w=np.arange(len(_ballots())) % 3)  # 0, 1, 2 copies
    expanded = data.loc[data.index.repeat(data["w"])]
    for denominator in ("valid", "all"):
        a = satisfaction_rates(
            data, items=ITEMS[:3], by="role", weights="w", denominator=denominator
        )
        b = satisfaction_rates(expanded, items=ITEMS[:3], by="role", denominator=denominator)
        pd.testing.assert_frame_equal(a, b)
    with pytest.raises(DataError, match="not a count"):
        satisfaction_rates(data.assign(w=0.5), items="attitude", weights="w")
