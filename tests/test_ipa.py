"""Tests of toolkit.analysis.ipa against R (tests/reference/ipa.R -> ipa.json).

R: prop.test(correct = FALSE) (Wilson) rates, cor(use = "pairwise.complete.obs"), Johnson's relative
weights with eigen(), quadrants at the means (Martilla & James 1977).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.ipa import importance_performance
from toolkit.errors import ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "ipa.json").read_text("utf-8"))
ITEMS = REF["items"]


def _data() -> pd.DataFrame:
    return pd.DataFrame(REF["data"])


@pytest.mark.parametrize(
    ("importance", "key", "quadrants"),
    [
        ("relative_weights", "share_rw", "quadrant_rw"),
        ("correlation", "correlation", "quadrant_cor"),
    ],
)
def test_matches_r(importance, key, quadrants) -> None:
    out = importance_performance(_data(), items=ITEMS, outcome="overall", importance=importance)
    assert list(out["item"]) == ITEMS
    np.testing.assert_allclose(out["importance"], REF[key], rtol=1e-9)
    assert list(out["count"]) == REF["count"] and list(out["n"]) == REF["n"]
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(out[col], REF[col], rtol=1e-9)
    assert list(out["quadrant"]) == REF[quadrants]
    assert out.attrs["importance_line"] == pytest.approx(np.mean(REF[key]))
    assert out.attrs["performance_line"] == pytest.approx(np.mean(REF["estimate"]))


def test_stated_importance_and_chosen_lines() -> None:
    stated = dict(zip(ITEMS, [5, 4, 3, 2, 1], strict=True))
    out = importance_performance(
        _data(), items=ITEMS, importance=stated, importance_line=3, performance_line=0.5
    )
    np.testing.assert_allclose(out["importance"], [5, 4, 3, 2, 1])
    high_perf = np.array(REF["estimate"]) >= 0.5
    expected = [
        {
            (True, True): "keep_up",
            (True, False): "concentrate_here",
            (False, True): "possible_overkill",
            (False, False): "low_priority",
        }[(imp >= 3, bool(p))]
        for imp, p in zip([5, 4, 3, 2, 1], high_perf, strict=True)
    ]
    assert list(out["quadrant"]) == expected


def test_errors() -> None:
    with pytest.raises(ParameterError, match="needs `outcome`"):
        importance_performance(_data(), items=ITEMS)
    with pytest.raises(ParameterError, match="missing"):
        importance_performance(_data(), items=ITEMS, importance={"attitude": 1})
    with pytest.raises(ParameterError, match="upside down"):
        importance_performance(_data(), items=ITEMS, outcome="overall", rate="dissatisfied")


@pytest.mark.parametrize("importance", ["relative_weights", "correlation"])
def test_frequency_weights_equal_expanded_rows(importance: str) -> None:
    data = _data().assign(w=np.arange(len(_data())) % 3 + 1)
    expanded = data.loc[data.index.repeat(data["w"])].reset_index(drop=True)
    a = importance_performance(
        data, items=ITEMS, outcome="overall", importance=importance, weights="w"
    )
    b = importance_performance(expanded, items=ITEMS, outcome="overall", importance=importance)
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
