"""Tests of toolkit.analysis.likert against R (tests/reference/likert.R -> .json).

R references (base R only): table(factor(x, levels)), mean, sd, median, t.test(x)$conf.int on
the level codes 1..k.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.analysis.likert import likert_counts, likert_summary
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "likert.json").read_text("utf-8"))
RTOL = 1e-9
SAT = ["不满意", "基本满意", "满意"]
ZH = {"dissatisfied": "不满意", "basically_satisfied": "基本满意", "satisfied": "满意",
      "dont_know": "不了解"}  # fmt: skip
GROUPS = ["all", "b01", "b02", "b03"]
STATS = ("mean", "sd", "se", "median", "ci_low", "ci_high", "top_box", "top2_box", "bottom2_box")


def _answers(categorical: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(REF["answers"])
    for item in ("overall", "attitude"):
        labels = df[item].map(ZH)
        df[item] = (
            pd.Categorical(labels, categories=[*SAT], ordered=True)
            if categorical and item == "attitude"
            else labels
        )
    df["quality"] = pd.to_numeric(df["quality"])
    return df


def _summary(df: pd.DataFrame, item: str, by: str | None = None, **kw: object) -> pd.DataFrame:
    levels = [1, 2, 3, 4, 5] if item == "quality" else None if item == "attitude" else SAT
    return likert_summary(df, items=item, by=by, levels=levels, exclude=["不了解"], **kw)


@pytest.mark.parametrize("item", ["overall", "attitude", "quality"])
def test_summary_matches_r(item: str) -> None:
    df = _answers()
    out = pd.concat([_summary(df, item), _summary(df, item, by="building")], ignore_index=True)
    assert len(out) == 4
    for group, (_, row) in zip(GROUPS, out.iterrows(), strict=True):
        ref = REF["results"][item][group]
        if group != "all":
            assert row["building"] == group
        assert row["n"] == ref["n"]
        for stat in STATS:
            if stat in ref:
                assert row[stat] == pytest.approx(ref[stat], rel=RTOL), (item, group, stat)
            else:
                assert np.isnan(row[stat]), (item, group, stat)


def test_summary_confidence_matches_r() -> None:
    out = _summary(_answers(), "overall", by="building", confidence=0.9)
    for group, (_, row) in zip(GROUPS[1:], out.iterrows(), strict=True):
        ref = REF["results"]["overall"][group]
        assert row["ci_low"] == pytest.approx(ref["ci_low_90"], rel=RTOL)
        assert row["ci_high"] == pytest.approx(ref["ci_high_90"], rel=RTOL)
        assert row["confidence"] == 0.9


@pytest.mark.parametrize("item", ["overall", "attitude", "quality"])
def test_counts_match_r_and_keep_unused_levels(item: str) -> None:
    df = _answers()
    levels = [1, 2, 3, 4, 5] if item == "quality" else SAT
    out = likert_counts(df, items=item, by="building", levels=levels, exclude=["不了解"])
    assert len(out) == 3 * len(levels)
    for group in GROUPS[1:]:
        ref = REF["results"][item][group]
        got = out[out["building"] == group]
        assert got["level"].tolist() == levels
        assert got["code"].tolist() == list(range(1, len(levels) + 1))
        assert got["count"].tolist() == ref["counts"]
        assert (got["n"] == ref["n"]).all()
        if ref["n"]:
            np.testing.assert_allclose(got["estimate"], np.array(ref["counts"]) / ref["n"])
        else:
            assert got["estimate"].isna().all()  # an item nobody answered in b03


def test_level_never_used_is_zero() -> None:
    out = likert_counts(_answers(), items="attitude")
    assert out["count"].tolist()[0] == 0  # 不满意 never chosen
    assert out["level"].tolist() == SAT
    summary = likert_summary(_answers(), items="attitude")
    assert summary["bottom2_box"][0] == pytest.approx(
        REF["results"]["attitude"]["all"]["counts"][1] / 46
    )


def test_strings_and_categoricals_agree() -> None:
    strings = _answers(categorical=False)
    cats = _answers(categorical=True)
    a = likert_summary(strings, items="attitude", by="building", levels=SAT)
    b = likert_summary(cats, items="attitude", by="building")
    pd.testing.assert_frame_equal(a, b)
    # levels= overrides the Categorical's own order
    rev = likert_summary(cats, items="attitude", levels=SAT[::-1])
    assert rev["mean"][0] == pytest.approx(4 - likert_summary(cats, items="attitude")["mean"][0])


def test_all_ratings_equal_and_one_rater() -> None:
    same = pd.DataFrame({"q": ["满意"] * 7})
    row = likert_summary(same, items="q", levels=SAT).iloc[0]
    assert row["mean"] == 3 and row["sd"] == 0 and row["ci_low"] == row["ci_high"] == 3
    assert row["top_box"] == 1 and row["bottom2_box"] == 0
    one = likert_summary(pd.DataFrame({"q": ["基本满意"]}), items="q", levels=SAT).iloc[0]
    assert one["n"] == 1 and one["mean"] == 2 and one["median"] == 2
    assert np.isnan(one["sd"]) and np.isnan(one["ci_low"])


def test_item_answered_by_nobody() -> None:
    out = likert_summary(pd.DataFrame({"q": [None, "不了解"]}), items="q", levels=SAT,
                         exclude=["不了解"])  # fmt: skip
    assert out["n"][0] == 0 and np.isnan(out["mean"][0])


def test_errors() -> None:
    df = _answers(categorical=False)
    with pytest.raises(ParameterError, match="not an ordered Categorical"):
        likert_summary(df, items="overall")
    with pytest.raises(DataError, match=r"column `overall`: value '不了解' is not one of"):
        likert_summary(df, items="overall", levels=SAT)
    with pytest.raises(ParameterError, match="twice"):
        likert_summary(df, items="overall", levels=["满意", "满意"])
    with pytest.raises(ParameterError, match="both a level and in `exclude`"):
        likert_summary(df, items="overall", levels=SAT, exclude=["满意"])


def test_shape_of_the_summary() -> None:
    out = likert_summary(_answers(), items=["overall", "attitude"], by="building", levels=SAT,
                         exclude=["不了解"])  # fmt: skip
    assert list(out.columns) == [
        "item", "building", "n", "n_levels", "mean", "sd", "se", "ci_low", "ci_high",
        "confidence", "median", "top_box", "top2_box", "bottom2_box",
    ]  # fmt: skip
    assert out["item"].tolist() == ["overall"] * 3 + ["attitude"] * 3


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=30))
    q = draw(st.lists(st.sampled_from([*SAT, None]), min_size=n, max_size=n))
    g = draw(st.lists(st.sampled_from(["甲", "乙"]), min_size=n, max_size=n))
    return pd.DataFrame({"q": q, "g": g})


@settings(max_examples=30, deadline=None)
@given(df=frames(), seed=st.integers(min_value=0, max_value=2**16))
def test_order_invariance(df: pd.DataFrame, seed: int) -> None:
    shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        likert_summary(df, items="q", by="g", levels=SAT),
        likert_summary(shuffled, items="q", by="g", levels=SAT),
    )
    cat = shuffled.assign(g=pd.Categorical(shuffled["g"], categories=["乙", "甲"]))
    a = likert_counts(df, items="q", by="g", levels=SAT).sort_values(["g", "code"])
    b = likert_counts(cat, items="q", by="g", levels=SAT)
    b = b.assign(g=b["g"].astype(str)).sort_values(["g", "code"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
