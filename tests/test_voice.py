"""Tests of toolkit.analysis.voice against R (tests/reference/voice.R) and a published value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.voice import (
    _gini_draws,
    _percentile,
    gini,
    lorenz_curve,
    speaker_totals,
    speaking_time,
    top_share,
    turn_transitions,
    voice_shares,
)
from toolkit.errors import DataError, ParameterError

REF = json.loads((Path(__file__).parent / "reference" / "voice.json").read_text())
RTOL = 1e-9


def seat_turns(times: list[float]) -> pd.DataFrame:
    """Each speaker's time split into two turns, seats 1..n, in shuffled order."""
    rows = []
    for seat, total in enumerate(times, start=1):
        rows += [(seat, total * 0.25), (seat, total * 0.75)]
    frame = pd.DataFrame(rows, columns=["seat", "seconds"])
    return frame.sample(frac=1, random_state=3).reset_index(drop=True)


def test_gini_published_example() -> None:
    # phylotools::gini help page: gini(c(1,3,2,1,1,1,4)) prints 0.3076923
    got = gini(pd.Series([1, 3, 2, 1, 1, 1, 4]), n_boot=0)["estimate"].iloc[0]
    assert got == pytest.approx(0.3076923, abs=5e-8)
    assert got == pytest.approx(REF["published"]["gini"], rel=RTOL)


def test_gini_matches_r_with_and_without_silent_attendees() -> None:
    turns = seat_turns(REF["seconds"])
    speakers = gini(turns, n_boot=0)
    assert speakers["estimate"].iloc[0] == pytest.approx(REF["gini_speakers"], rel=RTOL)
    assert int(speakers["n"].iloc[0]) == len(REF["seconds"])
    present = gini(turns, attendees=len(REF["present"]), n_boot=0)
    assert present["estimate"].iloc[0] == pytest.approx(REF["gini_present"], rel=RTOL)
    corrected = gini(turns, attendees=len(REF["present"]), corrected=True, n_boot=0)
    assert corrected["estimate"].iloc[0] == pytest.approx(REF["gini_present_corrected"], rel=RTOL)


def test_gini_bootstrap_percentiles_match_r_on_the_same_resamples() -> None:
    x = np.asarray(REF["present"], dtype=float)
    idx = np.asarray(REF["boot_idx"], dtype=np.int64) - 1
    low, high = _percentile(_gini_draws(x, idx), 0.95)
    assert [low, high] == pytest.approx(REF["boot_ci"], rel=RTOL)


def test_gini_interval_brackets_the_estimate_and_is_reproducible() -> None:
    turns = seat_turns(REF["seconds"])
    a = gini(turns, attendees=24, n_boot=500, seed=1)
    b = gini(turns, attendees=24, n_boot=500, seed=1)
    pd.testing.assert_frame_equal(a, b)
    row = a.iloc[0]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["method"] == "percentile bootstrap" and row["confidence"] == 0.95


def test_gini_extremes() -> None:
    assert gini(pd.Series([5.0] * 6), n_boot=0)["estimate"].iloc[0] == 0
    alone = gini(pd.Series([100.0, 0, 0, 0]), n_boot=0)["estimate"].iloc[0]
    assert alone == pytest.approx(3 / 4)


def test_lorenz_and_top_share_match_r() -> None:
    turns = seat_turns(REF["seconds"])
    curve = lorenz_curve(turns, attendees=24)
    assert curve["population_share"].tolist() == pytest.approx(REF["lorenz_p"], rel=RTOL)
    assert curve["cumulative_share"].tolist() == pytest.approx(REF["lorenz_L"], rel=RTOL, abs=0)
    assert top_share(turns, attendees=24)["estimate"].iloc[0] == pytest.approx(
        REF["top10_present"], rel=RTOL
    )
    assert top_share(turns)["estimate"].iloc[0] == pytest.approx(REF["top10_speakers"], rel=RTOL)
    assert top_share(turns, attendees=24, top=0.2)["estimate"].iloc[0] == pytest.approx(
        REF["top20_present"], rel=RTOL
    )


def ordered_turns() -> pd.DataFrame:
    return pd.DataFrame({"category": REF["category"], "seconds": REF["turn_seconds"]})


def test_speaking_time_per_category_matches_r() -> None:
    got = speaking_time(ordered_turns())
    want = pd.DataFrame(REF["by_category"])
    assert got["category"].tolist() == want["category"].tolist()  # the recorder's order
    assert got["count"].tolist() == want["count"].tolist()
    for column in ("seconds", "share_time", "share_turns", "mean_seconds"):
        assert got[column].tolist() == pytest.approx(want[column].tolist(), rel=RTOL)


def test_speaking_time_open_turn_and_seats() -> None:
    turns = pd.DataFrame(
        {"category": ["resident", "resident"], "seat": [2, None], "seconds": [30.0, np.nan]}
    )
    got = speaking_time(turns)
    assert got[["count", "seconds", "mean_seconds"]].values.tolist() == [[2, 30.0, 30.0]]
    by_seat = speaking_time(turns, by="seat")
    assert by_seat["seat"].tolist() == [2] and by_seat["count"].tolist() == [1]


def test_voice_shares_match_r() -> None:
    got = voice_shares(ordered_turns())
    want = pd.DataFrame(REF["groups"])
    assert got["group"].tolist() == want["group"].tolist()
    assert got["count"].tolist() == want["count"].tolist()
    assert got["seconds"].tolist() == pytest.approx(want["seconds"].tolist(), rel=RTOL)
    assert got["share_time"].tolist() == pytest.approx(want["share_time"].tolist(), rel=RTOL)
    with pytest.raises(DataError, match="no group"):
        voice_shares(ordered_turns(), groups={"resident": "residents"})


def test_transitions_match_r() -> None:
    got = turn_transitions(ordered_turns())
    want = REF["transitions"]
    expected = {
        (f, t): (c, e)
        for f, t, c, e in zip(
            want["from"], want["to"], want["count"], want["estimate"], strict=True
        )
    }
    assert len(got) == len(expected)
    for row in got.itertuples():
        count, estimate = expected[(row[1], row[2])]
        assert row.count == count
        assert row.estimate == pytest.approx(estimate, rel=RTOL)
    assert got.groupby("from")["estimate"].sum().tolist() == pytest.approx([1.0] * 9)


def test_bad_input_is_named() -> None:
    with pytest.raises(DataError, match="turns table"):
        speaking_time([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="negative"):
        speaking_time(pd.DataFrame({"category": ["resident"], "seconds": [-1.0]}))
    with pytest.raises(ParameterError, match="attendees"):
        speaker_totals(seat_turns([1.0, 2.0, 3.0]), attendees=2)
    with pytest.raises(DataError, match="no speaking time"):
        gini(pd.DataFrame({"seat": [None], "seconds": [3.0]}), n_boot=0)
    with pytest.raises(DataError, match="fewer than two"):
        turn_transitions(pd.DataFrame({"category": ["resident"]}))
    with pytest.raises(ParameterError, match="top"):
        top_share(pd.Series([1.0, 2.0]), top=1.5)
