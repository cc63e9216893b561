"""Tests of toolkit.synth.voice: realistic synthetic turns, comments and codings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.store_support import setup_meeting
from toolkit.instrument.speakers import SPEAKER_LABELS, VOICE_GROUPS
from toolkit.store import Store
from toolkit.synth.voice import (
    MEDIAN_SECONDS,
    THEME_TEXTS,
    make_codings,
    make_comments,
    make_turns,
    record_turns,
)


def test_turns_are_seeded_an_hour_long_and_cadres_speak_longer() -> None:
    a, b = make_turns(seed=3), make_turns(seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_turns(seed=4))
    assert a["seconds"].sum() == pytest.approx(3600.0)
    assert (a["ended_at"].iloc[:-1].to_numpy() == a["started_at"].iloc[1:].to_numpy()).all()
    assert set(MEDIAN_SECONDS) == set(SPEAKER_LABELS)
    many = pd.concat([make_turns(seed=s) for s in range(8)])
    group = many["category"].map(VOICE_GROUPS)
    median = many.groupby(group)["seconds"].median()
    assert median["cadres"] > 2 * median["residents"]
    assert median["evaluated"] > median["residents"]
    # a few residents talk a lot: per-seat time is unequal among residents
    residents = many[group == "residents"]
    assert residents.groupby("seat").size().max() > 3 * residents.groupby("seat").size().median()


def test_comments_come_with_low_ratings_and_themes_match() -> None:
    comments = make_comments(seed=2, n=400)
    share = comments["text"].notna().groupby(comments["overall"], observed=True).mean()
    assert share["不满意"] > share["基本满意"] > share["满意"]
    written = comments[comments["text"].notna()]
    for text, themes in zip(written["text"], written["themes"], strict=True):
        assert themes and any(any(t in text for t in THEME_TEXTS[c]) for c in themes)
    praise = written["themes"].map(lambda t: "praise" in t)
    assert praise[written["overall"] == "满意"].mean() > 0.5
    assert praise[written["overall"] == "不满意"].mean() < 0.3
    codings = make_codings(comments, seed=2)
    assert len(codings) == 2 * len(written)
    agree = (
        codings.pivot(index="submission_id", columns="coder", values="codes")
        .apply(lambda r: r["A"] == r["B"], axis=1)
        .mean()
    )
    assert 0.7 < agree < 0.99


def test_record_turns_into_a_store(tmp_path: Path) -> None:
    turns = make_turns(seed=5, minutes=10)
    with Store.open(tmp_path / "s.db") as store:
        setup_meeting(store)
        assert record_turns(store, "m1", turns) == len(turns)
        stored = store.turns("m1")
    assert stored["category"].tolist() == turns["category"].tolist()
    assert stored["seconds"].to_numpy() == pytest.approx(turns["seconds"].to_numpy(), abs=1e-5)
    assert stored["codes"].tolist() == turns["codes"].tolist()
