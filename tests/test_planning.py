"""Tests of toolkit.analysis.planning against R (tests/reference/planning.R -> planning.json).

R: prop.test(correct = FALSE) (Wilson), qbeta/binom.test (Clopper-Pearson), Newcombe's method 10 from
two prop.test intervals, pwr::pwr.p.test and pwr::pwr.2p.test; sample sizes by brute force over n.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit.analysis.planning import plan_sample_size, precision
from toolkit.errors import ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "planning.json").read_text("utf-8"))


def _none(value):
    return None if value is None or value == "NA" else value


@pytest.mark.parametrize("case", REF["intervals"])
def test_sample_size_for_a_half_width_matches_r(case) -> None:
    out = plan_sample_size(
        half_width=case["half_width"],
        rate=case["rate"],
        rate2=_none(case["rate2"]),
        confidence=case["confidence"],
        method=case["method"],
        population=_none(case["population"]),
        deff=case["deff"],
    ).iloc[0]
    assert out["n_srs"] == pytest.approx(case["n_srs"], rel=1e-7)
    assert out["n"] == case["n"]
    # n ballots are enough, n - 1 are not
    kwargs = dict(rate=case["rate"], rate2=_none(case["rate2"]), confidence=case["confidence"])
    kwargs |= dict(method=case["method"], population=_none(case["population"]), deff=case["deff"])
    assert precision(n=case["n"], **kwargs)["half_width"].iloc[0] <= case["half_width"]
    if case["n"] > 1:
        assert precision(n=case["n"] - 1, **kwargs)["half_width"].iloc[0] > case["half_width"]


@pytest.mark.parametrize("case", REF["precision"])
def test_precision_matches_r(case) -> None:
    out = precision(
        n=case["n"],
        rate=case["rate"],
        rate2=_none(case["rate2"]),
        confidence=case["confidence"],
        method=case["method"],
        population=_none(case["population"]),
        deff=case["deff"],
    ).iloc[0]
    assert out["ci_low"] == pytest.approx(case["ci_low"], rel=1e-9)
    assert out["ci_high"] == pytest.approx(case["ci_high"], rel=1e-9)
    if "power" in case:
        assert out["power"] == pytest.approx(case["power"], rel=1e-9)


def test_exact_interval_is_binom_test_for_whole_counts() -> None:
    out = precision(n=17, rate=11 / 17, method="exact").iloc[0]
    np.testing.assert_allclose([out["ci_low"], out["ci_high"]], REF["binom_test_11_17"], rtol=1e-9)


def test_power_matches_pwr() -> None:
    two = REF["power"]["two"]
    out = plan_sample_size(power=two["power"], rate=two["rate"], rate2=two["rate2"]).iloc[0]
    assert out["n_srs"] == pytest.approx(two["n_srs"], rel=1e-7)
    assert out["n"] == int(np.ceil(two["n_srs"]))
    assert out["measure"] == "power"
    one = REF["power"]["one"]
    out = plan_sample_size(power=one["power"], rate=one["rate"], benchmark=one["benchmark"])
    assert out["n_srs"].iloc[0] == pytest.approx(one["n_srs"], rel=1e-7)
    p = REF["power"]["one_power"]
    got = precision(n=p["n"], rate=p["rate"], benchmark=p["benchmark"])["power"].iloc[0]
    assert got == pytest.approx(p["power"], rel=1e-9)


def test_published_closed_form_and_fpc() -> None:
    # Cochran (1977) eq. 4.1: z^2 p q / h^2 = 1.959964^2 * 0.25 / 0.01 = 96.04 -> 97
    wald = plan_sample_size(half_width=0.10, method="wald").iloc[0]
    assert wald["n_srs"] == pytest.approx(96.0365, rel=1e-5)
    assert wald["n"] == 97
    # eq. 4.2: n = n0 / (1 + (n0 - 1) / N) with N = 40
    fpc = plan_sample_size(half_width=0.10, method="wald", population=40).iloc[0]
    assert fpc["n"] == int(np.ceil(96.0365 / (1 + 95.0365 / 40)))
    # the whole population gives a zero-width interval
    assert precision(n=40, population=40)["half_width"].iloc[0] == 0


def test_errors() -> None:
    with pytest.raises(ParameterError, match="one of the two"):
        plan_sample_size()
    with pytest.raises(ParameterError, match="`method` must be one of"):
        plan_sample_size(half_width=0.1, method="agresti")
    with pytest.raises(ParameterError, match="'exact' has no difference"):
        plan_sample_size(half_width=0.1, rate2=0.4, method="exact")
    with pytest.raises(ParameterError, match="needs `rate2`"):
        plan_sample_size(power=0.8)
    with pytest.raises(ParameterError, match="cannot exceed"):
        precision(n=41, population=40)
    with pytest.raises(ParameterError, match="`half_width` must be in"):
        plan_sample_size(half_width=0.0)
