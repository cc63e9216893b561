"""Tests of toolkit.analysis.concordance.

Sources of truth:
- psych::ICC(lmer = FALSE) (tests/reference/agreement.R -> agreement.json) and Shrout & Fleiss
  (1979), Table 4: .17 .29 .71 .44 .62 .91 for the Table 2 data.
- irr::kendall(correct = TRUE), written out in R from irr's source (irr is not a Debian package).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.rater_support import frame_and_shuffled
from toolkit.analysis.concordance import icc, kendall_w
from toolkit.errors import DataError

REF = json.loads((Path(__file__).parent / "reference" / "agreement.json").read_text("utf-8"))
NAN = np.nan
LEVELS = ["不满意", "基本满意", "满意"]


# ---------------------------------------------------------------------------------------------
# Kendall's W


def _scores() -> pd.DataFrame:
    return pd.DataFrame(REF["kendall"]["data"], columns=[f"r{i}" for i in range(1, 6)])


def test_kendall_w_matches_irr_formulas() -> None:
    ref, plain = REF["kendall"]["res"], REF["kendall"]["res_plain"]
    out = kendall_w(_scores())
    assert out["estimate"].iloc[0] == pytest.approx(ref["W"], rel=1e-12)
    assert out["statistic"].iloc[0] == pytest.approx(ref["chisq"], rel=1e-12)
    assert out["df"].iloc[0] == ref["df"]
    assert out["p_value"].iloc[0] == pytest.approx(ref["p"], rel=1e-9)
    assert kendall_w(_scores(), correct=False)["estimate"].iloc[0] == pytest.approx(
        plain["W"], rel=1e-12
    )


def test_kendall_w_perfect_and_ordinal_labels() -> None:
    perfect = pd.DataFrame({"a": [1, 2, 3], "b": [10, 20, 30], "c": [5, 6, 7]})
    assert kendall_w(perfect)["estimate"].iloc[0] == pytest.approx(1.0)
    labels = pd.DataFrame(
        {"a": ["不满意", "满意", "基本满意"], "b": ["不满意", "基本满意", "满意"]}
    )
    codes = pd.DataFrame({"a": [0, 2, 1], "b": [0, 1, 2]})
    w = kendall_w(labels, levels=LEVELS)["estimate"].iloc[0]
    assert w == pytest.approx(kendall_w(codes)["estimate"].iloc[0])
    flat = kendall_w(pd.DataFrame({"a": [1, 1], "b": [2, 2]}))
    assert np.isnan(flat["estimate"].iloc[0])
    with pytest.raises(DataError, match="at least 2 raters"):
        kendall_w(perfect[["a"]])


# ---------------------------------------------------------------------------------------------
# ICC


def _check_icc(out: pd.DataFrame, ref: dict) -> None:
    psych = {
        "ICC(1,1)": "ICC1",
        "ICC(2,1)": "ICC2",
        "ICC(3,1)": "ICC3",
        "ICC(1,k)": "ICC1k",
        "ICC(2,k)": "ICC2k",
        "ICC(3,k)": "ICC3k",
    }
    assert [psych[m] for m in out["measure"]] == ref["type"]
    for ours, theirs in [
        ("estimate", "ICC"), ("statistic", "F"), ("df1", "df1"), ("df2", "df2"),
        ("p_value", "p"), ("ci_low", "lower"), ("ci_high", "upper"),
    ]:  # fmt: skip
        np.testing.assert_allclose(out[ours], ref[theirs], rtol=1e-9, err_msg=ours)


def test_icc_matches_psych() -> None:
    data = pd.DataFrame(REF["icc"]["data"], columns=[f"r{i}" for i in range(1, 6)])
    _check_icc(icc(data), REF["icc"]["res"])
    _check_icc(icc(data, confidence=0.90), REF["icc"]["res90"])


def test_icc_shrout_fleiss_table_4() -> None:
    data = pd.DataFrame(REF["shrout_fleiss"]["data"], columns=["j1", "j2", "j3", "j4"])
    out = icc(data)
    _check_icc(out, REF["shrout_fleiss"]["res"])
    np.testing.assert_array_equal(out["estimate"].round(2), [0.17, 0.29, 0.71, 0.44, 0.62, 0.91])


def test_icc_edge_cases() -> None:
    data = pd.DataFrame(REF["shrout_fleiss"]["data"], columns=["j1", "j2", "j3", "j4"])
    holes = data.astype(float)
    holes.loc[6] = [1.0, NAN, 2.0, 3.0]
    out = icc(holes)
    assert out["n"].iloc[0] == 6
    assert out["note"].iloc[0] == "1 units with missing ratings left out"
    with pytest.raises(DataError, match="need numeric ratings"):
        icc(data.astype(str))
    with pytest.raises(DataError, match="at least 2 raters"):
        icc(data[["j1"]])


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 12), st.integers(2, 5)),
        elements=st.sampled_from([1.0, 2.0, 3.0, 4.0]),
    ),
    st.randoms(use_true_random=False),
)
def test_swapping_raters_and_units_changes_nothing(x: np.ndarray, rnd) -> None:
    data, other = frame_and_shuffled(x, rnd)
    assert kendall_w(other)["estimate"].iloc[0] == pytest.approx(
        kendall_w(data)["estimate"].iloc[0], nan_ok=True
    )
    np.testing.assert_allclose(
        icc(other)["estimate"].to_numpy(), icc(data)["estimate"].to_numpy(), rtol=1e-9, atol=1e-12
    )


def test_kendall_w_bootstrap_interval_resamples_raters() -> None:
    rng = np.random.default_rng(11)
    truth = np.arange(8)
    scores = pd.DataFrame({f"r{j}": truth + rng.normal(0, 2.5, 8) for j in range(10)})
    scores.iloc[:, 3] = np.round(scores.iloc[:, 3])  # some ties
    out = kendall_w(scores, n_boot=400, seed=3).iloc[0]
    assert out["method"] == "bootstrap_raters" and out["confidence"] == 0.95
    assert out["ci_low"] < out["estimate"] < out["ci_high"]
    # each resample is kendall_w of the raters drawn (same generator, same draws)
    counts = np.random.default_rng(3).multinomial(10, np.full(10, 0.1), size=400)
    draws = [
        kendall_w(scores.iloc[:, np.repeat(np.arange(10), c)], n_boot=0)["estimate"].iloc[0]
        for c in counts
    ]
    low, high = np.quantile(draws, [0.025, 0.975])
    assert out["ci_low"] == pytest.approx(low, rel=1e-12)
    assert out["ci_high"] == pytest.approx(high, rel=1e-12)
    pd.testing.assert_frame_equal(
        kendall_w(scores, n_boot=400, seed=3), kendall_w(scores, n_boot=400, seed=3)
    )
    assert "ci_low" not in kendall_w(scores, n_boot=0).columns


def test_the_old_import_path_still_works_with_a_warning() -> None:
    from toolkit.analysis import agreement

    with pytest.warns(FutureWarning, match=r"use toolkit\.analysis\.kendall_w"):
        old = agreement.kendall_w
    assert old is kendall_w
    with pytest.warns(FutureWarning):
        from toolkit.analysis.agreement import icc as old_icc
    assert old_icc is icc
    with pytest.raises(AttributeError):
        agreement.nothing  # noqa: B018
