"""Tests of toolkit.analysis.coordination against R (tests/reference/coordination.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.coordination import (
    agreement_rates,
    agreement_times,
    parties_per_meeting,
    terms_recorded,
    time_to_agreement,
)
from toolkit.errors import DataError

REF = json.loads((Path(__file__).parent / "reference" / "coordination.json").read_text())


def _check_curve(got: pd.DataFrame, ref: dict) -> None:
    got = got[got["time"] > 0].reset_index(drop=True)  # R has no time-0 row
    assert got["time"].tolist() == pytest.approx(ref["time"])
    for column in ("n_risk", "events", "censored"):
        assert got[column].tolist() == pytest.approx(ref[column])
    assert got["estimate"].to_numpy() == pytest.approx(np.array(ref["estimate"]), rel=1e-9)
    # R gives NA bounds where S(t) = 0 or 1 (no log-log interval); compare where R has them
    for column in ("ci_low", "ci_high"):
        expected = np.array([np.nan if v in (None, "NA") else v for v in ref[column]], float)
        mask = ~np.isnan(expected)
        assert got[column].to_numpy()[mask] == pytest.approx(expected[mask], rel=1e-7)


def test_kaplan_meier_matches_survfit_log_log() -> None:
    data = pd.DataFrame(REF["data"]["days"], columns=["days"]).assign(
        event=REF["data"]["event"], kind=REF["data"]["kind"]
    )
    _check_curve(time_to_agreement(data), REF["all"])
    by = time_to_agreement(data, by="kind")
    for kind in ("elevator", "property"):
        _check_curve(by[by["kind"] == kind].drop(columns="kind"), REF[kind])


def test_agreement_rates_match_prop_test() -> None:
    cases = pd.DataFrame({"agreement": REF["data"]["agreement"] + [None]})
    for ref in REF["rates"]:
        row = agreement_rates(cases, by=None, confidence=ref["confidence"]).iloc[0]
        assert (row["measure"], row["count"], row["n"]) == ("reached", ref["count"], ref["n"])
        assert row["ci_low"] == pytest.approx(ref["ci_low"], rel=1e-9)
        assert row["ci_high"] == pytest.approx(ref["ci_high"], rel=1e-9)
    with pytest.raises(DataError, match="values \\['maybe'\\]"):
        agreement_rates(pd.DataFrame({"agreement": ["maybe"]}), by=None)


def test_agreement_times_censor_open_and_closed_cases() -> None:
    meetings = pd.DataFrame(
        {
            "case_id": ["a", "a", "a", "b", "b", "c", "d"],
            "stage": [
                "hearing",
                "coordination",
                "coordination",
                "hearing",
                "coordination",
                "hearing",
                "coordination",
            ],
            "date": pd.to_datetime(
                [
                    "2026-01-01",
                    "2026-01-20",
                    "2026-02-10",
                    "2026-01-05",
                    "2026-02-01",
                    "2026-03-01",
                    "2026-03-01",
                ]
            ).date,
            "agreement": [None, "none", "reached", None, "partial", None, "reached"],
        }
    )
    closed = pd.Series({"b": pd.Timestamp("2026-02-15").date()})
    times = agreement_times(meetings, as_of="2026-04-01", closed_on=closed).set_index("case_id")
    assert times.loc["a"].tolist() == [40, 1]  # the second coordination reached it
    assert times.loc["b"].tolist() == [41, 0]  # closed without agreement: censored then
    assert times.loc["c"].tolist() == [31, 0]  # still open: censored on as_of
    assert "d" not in times.index  # no hearing
    with pytest.raises(DataError, match="before its hearing"):
        agreement_times(meetings, as_of="2025-01-01")


def test_parties_and_terms_summaries() -> None:
    data = pd.DataFrame(
        {
            "kind": ["elevator", "elevator", "parking"],
            "parties": [3, 5, 2],
            "terms": [["补偿", "工期"], ["补偿"], []],
        }
    )
    parties = parties_per_meeting(data).set_index(["kind", "measure"])["estimate"]
    assert parties[("elevator", "mean")] == 4.0 and parties[("parking", "max")] == 2.0
    terms = terms_recorded(data).set_index(["kind", "measure"])["estimate"]
    assert terms[("elevator", "total")] == 3.0 and terms[("parking", "mean")] == 0.0
