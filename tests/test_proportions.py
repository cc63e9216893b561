"""Tests of toolkit.analysis.proportions against R (tests/reference/proportions.R -> .json).

R references: stats::prop.test(correct = FALSE) (Wilson), stats::binom.test (Clopper-Pearson);
Agresti-Coull, Jeffreys and Wald written out in R with qnorm/qbeta from Brown, Cai & DasGupta
(2001), Statistical Science 16(2), 101-133.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.analysis.proportions import PROPORTION_METHODS, proportion_ci
from toolkit.errors import ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "proportions.json").read_text("utf-8"))
RTOL = 1e-9


def test_reference_has_every_method() -> None:
    assert {r["method"] for r in REF["rows"]} == set(PROPORTION_METHODS)


@pytest.mark.parametrize("method", PROPORTION_METHODS)
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_matches_r(method: str, confidence: float) -> None:
    rows = [r for r in REF["rows"] if r["method"] == method and r["confidence"] == confidence]
    assert rows
    ref = pd.DataFrame(rows)
    out = proportion_ci(ref["count"], ref["n"], method=method, confidence=confidence)
    np.testing.assert_array_equal(out["count"], ref["count"])
    np.testing.assert_array_equal(out["n"], ref["n"])
    np.testing.assert_allclose(out["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(out["ci_low"], ref["ci_low"], rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(out["ci_high"], ref["ci_high"], rtol=RTOL, atol=1e-14)
    assert (out["method"] == method).all()
    assert (out["confidence"] == confidence).all()


def test_scalar_returns_one_tidy_row() -> None:
    out = proportion_ci(3, 10)
    assert list(out.columns) == [
        "count", "n", "estimate", "ci_low", "ci_high", "method", "confidence",
    ]  # fmt: skip
    assert len(out) == 1
    assert out["count"].dtype == np.int64


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_boundaries(method: str) -> None:
    out = proportion_ci([0, 20], [20, 20], method=method)
    assert out["ci_low"].iloc[0] == 0.0
    assert out["ci_high"].iloc[1] == 1.0
    assert out["estimate"].tolist() == [0.0, 1.0]
    if method != "wald":  # wald is degenerate at the boundaries (documented)
        assert out["ci_high"].iloc[0] > 0.0
        assert out["ci_low"].iloc[1] < 1.0


@pytest.mark.parametrize("method", PROPORTION_METHODS)
def test_n_zero_gives_nan_not_an_error(method: str) -> None:
    out = proportion_ci([0, 3], [0, 5], method=method)
    assert np.isnan(out[["estimate", "ci_low", "ci_high"]].iloc[0]).all()
    assert out["n"].iloc[0] == 0
    assert not np.isnan(out["estimate"].iloc[1])


def test_broadcasts_count_against_n() -> None:
    out = proportion_ci([1, 2, 3], 10)
    assert out["n"].tolist() == [10, 10, 10]
    with pytest.raises(ParameterError, match="same length"):
        proportion_ci([1, 2, 3], [10, 10])


@pytest.mark.parametrize(
    ("count", "n", "match"),
    [
        (6, 5, "must not exceed"),
        (-1, 5, "negative"),
        (1.5, 5, "whole numbers"),
        (1, float("nan"), "missing"),
        ("a", 5, "whole number"),
    ],
)
def test_bad_counts(count: object, n: object, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        proportion_ci(count, n)


def test_bad_options() -> None:
    with raises_code(ParameterError, "E_OPTION", argument="method"):
        proportion_ci(1, 5, method="wilsen")
    with raises_code(ParameterError, "E_RANGE", argument="confidence"):
        proportion_ci(1, 5, confidence=95)


def test_is_dependency_light() -> None:
    path = Path(__file__).parents[1] / "toolkit" / "analysis" / "proportions.py"
    tree = ast.parse(path.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    allowed = {"__future__", "typing", "numpy", "pandas", "scipy", "toolkit._checks"}
    assert imported <= allowed | {"toolkit.errors"}


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=200),
    frac=st.floats(min_value=0, max_value=1),
    method=st.sampled_from(PROPORTION_METHODS),
    confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_interval_properties(n: int, frac: float, method: str, confidence: float) -> None:
    x = round(frac * n)
    row = proportion_ci(x, n, method=method, confidence=confidence).iloc[0]
    assert 0.0 <= row["ci_low"] <= row["ci_high"] <= 1.0
    if method in ("wilson", "exact", "jeffreys", "wald"):
        assert row["ci_low"] - 1e-12 <= row["estimate"] <= row["ci_high"] + 1e-12
    # symmetry: the interval of n - x is the mirror image
    mirror = proportion_ci(n - x, n, method=method, confidence=confidence).iloc[0]
    assert mirror["ci_low"] == pytest.approx(1 - row["ci_high"], abs=1e-12)
    assert mirror["ci_high"] == pytest.approx(1 - row["ci_low"], abs=1e-12)
