"""Tests of toolkit.analysis.agreement.

Sources of truth:
- Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
  Communication Departmental Papers 43: example A (binary, 2 observers, alpha = 0.095), example B
  (nominal, 2 observers, alpha = 0.692), example C (4 observers, missing data: nominal 0.743, ordinal
  0.815, interval 0.849, ratio 0.797); and the `krippendorff` PyPI package (0.9) to 1e-12.
- irr::kappam.fleiss, written out in R from irr's source (irr is not a Debian package;
  tests/reference/agreement.R -> agreement.json), and the Fleiss' kappa example on Wikipedia
  (10 subjects, 14 raters: 0.210).
"""

from __future__ import annotations

import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.error_support import raises_code
from tests.rater_support import frame_and_shuffled
from toolkit.analysis.agreement import fleiss_kappa, krippendorff_alpha
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "agreement.json").read_text("utf-8"))
NAN = np.nan
LEVELS = ["不满意", "基本满意", "满意"]

EXAMPLE_C = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        "C": [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    }
)


def _alpha(data: pd.DataFrame, **kw: object) -> float:
    return float(krippendorff_alpha(data, n_boot=0, **kw)["estimate"].iloc[0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_krippendorff_2011_example_c(level: str, published: float) -> None:
    value = _alpha(EXAMPLE_C, metric=level)
    assert round(value, 3) == published
    peer = krippendorff.alpha(EXAMPLE_C.to_numpy().T, level_of_measurement=level)
    assert value == pytest.approx(peer, rel=1e-12)
    res = krippendorff_alpha(EXAMPLE_C, metric=level, n_boot=0)
    assert res["n"].iloc[0] == 40  # pairable values (unit 12 has one rating)
    assert res["n_units"].iloc[0] == 11


def test_alpha_krippendorff_2011_examples_a_and_b() -> None:
    binary = pd.DataFrame(
        {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}
    )
    assert round(_alpha(binary), 3) == 0.095
    letters = pd.DataFrame({"A": list("aabbdcccedda"), "B": list("babbbccceddd")})
    assert round(_alpha(letters), 3) == 0.692


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_matches_krippendorff_package(level: str) -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(1, 6, (150, 7)).astype(float)
    x[rng.random(x.shape) < 0.25] = NAN
    x[:5] = NAN  # unpairable units
    x[5, :] = [1, NAN, NAN, NAN, NAN, NAN, 2]
    value = _alpha(pd.DataFrame(x), metric=level)
    assert value == pytest.approx(krippendorff.alpha(x.T, level_of_measurement=level), rel=1e-12)


def test_alpha_non_integer_values() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(5, 2, (60, 4)).round(2)
    x[rng.random(x.shape) < 0.1] = NAN
    for level in ("interval", "ratio", "ordinal"):
        value = _alpha(pd.DataFrame(np.abs(x)), metric=level)
        peer = krippendorff.alpha(np.abs(x).T, level_of_measurement=level)
        assert value == pytest.approx(peer, rel=1e-10)


@pytest.mark.parametrize("path", ["dense", "sparse"])
def test_alpha_many_values_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """The per-unit path (many distinct values, no coincidence matrix) gives the same alpha."""
    from toolkit.analysis import agreement

    rng = np.random.default_rng(8)
    x = rng.integers(1, 9, (80, 5)).astype(float)
    x[rng.random(x.shape) < 0.2] = NAN
    monkeypatch.setattr(agreement, "_SMALL_DOMAIN", 2)
    if path == "sparse":
        monkeypatch.setattr(agreement, "_DENSE_CELLS", 10)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        res = krippendorff_alpha(pd.DataFrame(x), metric=level, n_boot=20)
        peer = krippendorff.alpha(x.T, level_of_measurement=level)
        assert res["estimate"].iloc[0] == pytest.approx(peer, rel=1e-10)
        assert res["ci_low"].iloc[0] < res["ci_high"].iloc[0]


def test_alpha_chinese_labels_strings_and_categoricals() -> None:
    codes = EXAMPLE_C.clip(upper=3)  # three levels: 1 2 3
    labels = codes.apply(lambda c: c.map({1: "不满意", 2: "基本满意", 3: "满意"}))
    nominal = _alpha(codes)
    assert _alpha(labels) == pytest.approx(nominal)
    ordered = labels.apply(lambda c: pd.Categorical(c, categories=LEVELS, ordered=True))
    assert _alpha(ordered, metric="ordinal") == pytest.approx(_alpha(codes, metric="ordinal"))
    assert _alpha(labels, metric="ordinal", levels=LEVELS) == pytest.approx(
        _alpha(codes, metric="ordinal")
    )
    # a level never used changes nothing
    wider = [*LEVELS, "不了解"]
    assert _alpha(labels, metric="ordinal", levels=wider) == pytest.approx(
        _alpha(codes, metric="ordinal")
    )
    with pytest.raises(DataError, match="need numeric ratings"):
        krippendorff_alpha(labels, metric="interval")
    with pytest.raises(DataError, match="not in `levels`"):
        krippendorff_alpha(labels, levels=["满意"])


def test_alpha_bootstrap_interval_is_reproducible_and_brackets() -> None:
    a = krippendorff_alpha(EXAMPLE_C, metric="interval", n_boot=300, seed=1)
    b = krippendorff_alpha(EXAMPLE_C, metric="interval", n_boot=300, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert a["ci_low"].iloc[0] < a["estimate"].iloc[0] <= a["ci_high"].iloc[0] <= 1
    assert "ci_low" not in krippendorff_alpha(EXAMPLE_C, n_boot=0).columns


def test_alpha_edge_cases() -> None:
    with pytest.raises(DataError, match="at least 2 raters"):
        krippendorff_alpha(EXAMPLE_C[["A"]])
    with pytest.raises(DataError, match="nothing is pairable"):
        krippendorff_alpha(pd.DataFrame({"a": [1, NAN], "b": [NAN, 2]}))
    same = krippendorff_alpha(pd.DataFrame({"a": [2, 2, 2], "b": [2, 2, NAN]}))
    assert np.isnan(same["estimate"].iloc[0])
    assert "undefined" in same["note"].iloc[0]
    with raises_code(ParameterError, "E_OPTION", argument="metric"):
        krippendorff_alpha(EXAMPLE_C, metric="ordinall")


# ---------------------------------------------------------------------------------------------
# Fleiss' kappa


def _ballots(key: str) -> pd.DataFrame:
    rows = [[None if v == "NA" else LEVELS[int(v) - 1] for v in row] for row in REF["fleiss"][key]]
    return pd.DataFrame(rows, columns=[f"m{i}" for i in range(1, 9)])


@pytest.mark.parametrize(("data", "res"), [("data", "res"), ("data_na", "res_na")])
def test_fleiss_kappa_matches_irr_formulas(data: str, res: str) -> None:
    ref = REF["fleiss"][res]
    out = fleiss_kappa(_ballots(data), n_boot=0)
    assert out["estimate"].iloc[0] == pytest.approx(ref["kappa"], rel=1e-12)
    assert out["statistic"].iloc[0] == pytest.approx(ref["z"], rel=1e-12)
    assert out["n"].iloc[0] == ref["n"]
    if data == "data_na":
        assert out["note"].iloc[0] == "13 units with missing ratings left out"


def test_fleiss_kappa_wikipedia_example() -> None:
    # https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example: 10 subjects, 14 raters
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    wide = pd.DataFrame([np.repeat(np.arange(1, 6), row) for row in table])
    assert round(fleiss_kappa(wide, n_boot=0)["estimate"].iloc[0], 3) == 0.210


def test_fleiss_kappa_edge_cases() -> None:
    one = fleiss_kappa(pd.DataFrame({"a": ["满意"] * 4, "b": ["满意"] * 4}), n_boot=0)
    assert np.isnan(one["estimate"].iloc[0])
    with pytest.raises(DataError, match="no unit is rated by all"):
        fleiss_kappa(pd.DataFrame({"a": ["x", None], "b": [None, "y"]}))
    unused = fleiss_kappa(_ballots("data"), levels=[*LEVELS, "不了解"], n_boot=0)
    assert unused["estimate"].iloc[0] == pytest.approx(REF["fleiss"]["res"]["kappa"])
    boot = fleiss_kappa(_ballots("data"), n_boot=200)
    assert boot["ci_low"].iloc[0] < boot["estimate"].iloc[0] < boot["ci_high"].iloc[0]


# ---------------------------------------------------------------------------------------------
# properties: raters are exchangeable, units too


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 12), st.integers(2, 5)),
        elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, NAN]),
    ),
    st.randoms(use_true_random=False),
)
def test_swapping_raters_and_units_changes_nothing(x: np.ndarray, rnd) -> None:
    data, other = frame_and_shuffled(x, rnd)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        try:
            a = _alpha(data, metric=level)
        except DataError:
            continue
        assert _alpha(other, metric=level) == pytest.approx(a, nan_ok=True, abs=1e-12)
    complete = data.dropna()
    if len(complete) >= 2:
        kept = other.dropna()
        assert fleiss_kappa(kept, n_boot=0)["estimate"].iloc[0] == pytest.approx(
            fleiss_kappa(complete, n_boot=0)["estimate"].iloc[0], nan_ok=True
        )


def test_krippendorff_level_is_the_deprecated_name_of_metric() -> None:
    new = krippendorff_alpha(EXAMPLE_C, metric="ordinal", n_boot=0)
    with pytest.warns(FutureWarning, match=r"krippendorff_alpha\(metric=\)"):
        old = krippendorff_alpha(EXAMPLE_C, level="ordinal", n_boot=0)
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(ParameterError, match="old name of `metric`"), pytest.warns(FutureWarning):
        krippendorff_alpha(EXAMPLE_C, metric="interval", level="ordinal", n_boot=0)


# ---------------------------------------------------------------------------------------------
# Bootstrap intervals against a second, plain implementation: the same resampling of units with
# the same generator and seed, each replicate's statistic computed from its definition.


def _plain_alpha(units: list[list[float]], metric: str, values: list[float]) -> float:
    """Krippendorff (2011): coincidences o_ck, each pair of a unit weighted 1 / (m_u - 1)."""
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in units:
        m = len(unit)
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[index[unit[i]], index[unit[j]]] += 1.0 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d = np.zeros_like(o)
    for c, vc in enumerate(values):
        for k, vk in enumerate(values):
            if metric == "nominal":
                d[c, k] = float(vc != vk)
            elif metric == "interval":
                d[c, k] = (vc - vk) ** 2
            else:  # ordinal: ranks through the marginal counts
                low, high = min(c, k), max(c, k)
                d[c, k] = (n_c[low : high + 1].sum() - (n_c[c] + n_c[k]) / 2) ** 2
    expected = (n_c[:, None] * n_c[None, :] * d).sum()
    return float("nan") if expected == 0 else 1.0 - (n - 1) * (o * d).sum() / expected


@pytest.mark.parametrize("metric", ["nominal", "ordinal", "interval"])
def test_alpha_bootstrap_interval_matches_a_plain_implementation(metric: str) -> None:
    n_boot, seed, confidence = 400, 3, 0.9
    rows = [[v for v in row if not np.isnan(v)] for row in EXAMPLE_C.to_numpy()]
    units = [row for row in rows if len(row) >= 2]  # pairable units, in order
    values = sorted({v for row in units for v in row})
    picks = np.random.default_rng(seed).integers(0, len(units), (n_boot, len(units)))
    draws = np.array([_plain_alpha([units[i] for i in p], metric, values) for p in picks])
    draws = draws[np.isfinite(draws)]
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    ours = krippendorff_alpha(
        EXAMPLE_C, metric=metric, n_boot=n_boot, seed=seed, confidence=confidence
    ).iloc[0]
    assert ours["ci_low"] == pytest.approx(low, rel=1e-9)
    assert ours["ci_high"] == pytest.approx(high, rel=1e-9)


def _plain_fleiss(table: np.ndarray) -> float:
    """Fleiss (1971): units x categories counts, the same number of raters per unit."""
    raters = table.sum(axis=1)[0]
    p_j = table.sum(axis=0) / table.sum()
    p_i = ((table**2).sum(axis=1) - raters) / (raters * (raters - 1))
    p_e = (p_j**2).sum()
    return float((p_i.mean() - p_e) / (1 - p_e))


def test_fleiss_bootstrap_interval_matches_a_plain_implementation() -> None:
    rng = np.random.default_rng(11)
    truth = rng.choice(LEVELS, 30)
    data = pd.DataFrame(
        {f"r{k}": np.where(rng.random(30) < 0.7, truth, rng.choice(LEVELS, 30)) for k in range(4)}
    )
    table = np.stack([(data.to_numpy() == level).sum(axis=1) for level in LEVELS], axis=1)
    n_boot, seed, confidence = 300, 5, 0.9
    generator = np.random.default_rng(seed)
    draws = np.array([_plain_fleiss(table[generator.integers(0, 30, 30)]) for _ in range(n_boot)])
    low, high = np.quantile(draws[np.isfinite(draws)], [0.05, 0.95])
    ours = fleiss_kappa(data, levels=LEVELS, n_boot=n_boot, seed=seed, confidence=confidence).iloc[
        0
    ]
    assert ours["estimate"] == pytest.approx(_plain_fleiss(table), rel=1e-12)
    assert ours["ci_low"] == pytest.approx(low, rel=1e-9)
    assert ours["ci_high"] == pytest.approx(high, rel=1e-9)
