"""Tests of toolkit.synth: determinism, calibration to the domain figures, ballot validity.

Outside sources of truth:
- turnout by age band and party: the Shanghai survey quoted in docs/domain.md
  (Participation; N ≈ 6,581): 13.8 % at 18–29, 55.7 % at 50–59, 77.7 % at
  70–79; party members 65.1 %, others 48.4 %;
- variable ids and codes: docs/evaluation-ballot.md (parsed here, not copied from the code).
"""

from __future__ import annotations

import re
import uuid
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.error_support import raises_code
from toolkit.errors import DataError, ParameterError
from toolkit.synth import (
    ANSWER_COLUMNS,
    BALLOT_COLUMNS,
    ELEVATOR_ITEMS,
    RATING_ITEMS,
    SUBJECTS,
    City,
    ballots_answers,
    ballots_to_answers,
    make_attendance,
    make_ballots,
    make_city,
    make_demo,
    make_large,
    make_large_meetings,
    make_meetings,
    make_population_margins,
)

ROOT = Path(__file__).resolve().parents[1]
BALLOT_DOC = ROOT / "docs" / "evaluation-ballot.md"
POINTS = {"satisfied": 100, "basically_satisfied": 60, "dissatisfied": 0}


# --- fixtures (module-level caches keep the suite fast) ---------------------------------------
@cache
def small() -> tuple[City, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    city = make_city(seed=5)
    meetings = make_meetings(city, seed=5, per_community=3)
    attendance = make_attendance(city, meetings, seed=5)
    return city, meetings, attendance, make_ballots(city, meetings, attendance, seed=5)


@cache
def large_city() -> tuple[City, pd.DataFrame, pd.DataFrame]:
    city = make_city(seed=11, streets=6, communities_per_street=6)
    meetings = make_meetings(city, seed=11, per_community=6)
    return city, meetings, make_attendance(city, meetings, seed=11)


@cache
def large_ballots() -> pd.DataFrame:
    return make_large(
        n_ballots=120_000, seed=2, dont_know_rate=0.1, blank_rate=0.05, void_rate=0.04
    )


@cache
def doc_ids() -> set[str]:
    """Every `code` written in docs/evaluation-ballot.md."""
    return set(re.findall(r"`([^`]+)`", BALLOT_DOC.read_text(encoding="utf-8")))


def rating_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if "__" in c or c in ELEVATOR_ITEMS]


# --- determinism ------------------------------------------------------------------------------
def test_same_seed_gives_identical_frames() -> None:
    a, b = make_city(seed=3), make_city(seed=3)
    for name in ("streets", "communities", "buildings", "households", "residents", "names"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    m1, m2 = make_meetings(a, seed=4), make_meetings(b, seed=4)
    pd.testing.assert_frame_equal(m1, m2)
    at1, at2 = make_attendance(a, m1, seed=4), make_attendance(b, m2, seed=4)
    pd.testing.assert_frame_equal(at1, at2)
    pd.testing.assert_frame_equal(
        make_ballots(a, m1, at1, seed=4), make_ballots(b, m2, at2, seed=4)
    )
    pd.testing.assert_frame_equal(
        make_large(n_ballots=3000, seed=9), make_large(n_ballots=3000, seed=9)
    )
    pd.testing.assert_frame_equal(make_demo().ballots, make_demo().ballots)


def test_different_seed_gives_different_frames() -> None:
    a, b = make_city(seed=3), make_city(seed=4)
    assert not a.residents.equals(b.residents)
    assert not a.residents["participant_id"].isin(b.residents["participant_id"]).all()
    city, meetings, attendance, ballots = small()
    assert not make_meetings(city, seed=6, per_community=3).equals(meetings)
    assert not make_attendance(city, meetings, seed=6)["attended"].equals(attendance["attended"])
    other = make_ballots(city, meetings, attendance, seed=6)
    assert not other["submission_id"].isin(ballots["submission_id"]).any()
    assert not make_large(n_ballots=500, seed=1).equals(make_large(n_ballots=500, seed=2))


def test_names_option_does_not_change_the_demographics() -> None:
    with_names, without = make_city(seed=8), make_city(seed=8, names=False)
    pd.testing.assert_frame_equal(with_names.residents, without.residents)
    assert without.names.empty
    assert list(without.names.columns) == ["participant_id", "surname", "given_name", "name"]


# --- the city ---------------------------------------------------------------------------------
def test_city_structure() -> None:
    city = make_city(seed=2, streets=2, communities_per_street=2, buildings_per_community=5)
    res, bld, hh = city.residents, city.buildings, city.households
    assert len(city.streets) == 2 and len(city.communities) == 4 and len(bld) == 20
    assert res["participant_id"].is_unique
    assert hh["adults"].sum() == len(res)
    assert (
        res.groupby("building_id")["role"].apply(lambda r: (r == "building_head").sum()) == 1
    ).all()
    assert set(res["role"]) <= {
        "resident",
        "building_head",
        "party_member",
        "owners_committee",
        "deputy",
    }
    assert res.loc[res["role"] == "party_member", "party_member"].all()
    assert res["age"].between(18, 99).all()
    bands = ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")
    low = res["age_band"].map({b: int(b[:2]) for b in bands})
    assert (res["age"] >= low).all()
    assert set(res["floor_band"]) <= {"1-3", "4-6", "7+"}
    assert set(res["tenure"]) <= {"owner", "renter"}
    assert set(res["gender"]) == {"female", "male"}
    assert (hh["floor"] <= hh["building_id"].map(bld.set_index("building_id")["floors"])).all()
    assert city.communities["satisfaction_effect"].notna().all()
    assert "City(seed=2" in repr(city)


def test_names_live_only_in_the_names_frame() -> None:
    city, meetings, attendance, ballots = small()
    names = city.names
    assert list(names.columns) == ["participant_id", "surname", "given_name", "name"]
    assert names["participant_id"].tolist() == city.residents["participant_id"].tolist()
    assert (names["name"] == names["surname"] + names["given_name"]).all()
    assert names["name"].str.len().between(2, 3).all()
    all_names = set(names["name"]) | set(names["given_name"])
    for frame in (city.residents, city.households, city.buildings, meetings, attendance, ballots):
        assert not {"name", "surname", "given_name"} & set(frame.columns)
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                values = set(frame[column].dropna().astype(str))
                assert not values & all_names, column


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    streets=st.integers(1, 2),
    per_street=st.integers(1, 3),
    buildings=st.integers(1, 4),
    households=st.integers(1, 12),
)
def test_city_invariants_hold_for_any_size(
    seed: int, streets: int, per_street: int, buildings: int, households: int
) -> None:
    city = make_city(
        seed=seed,
        streets=streets,
        communities_per_street=per_street,
        buildings_per_community=buildings,
        households_per_building=households,
    )
    assert len(city.buildings) == streets * per_street * buildings
    assert city.households["adults"].sum() == len(city.residents)
    assert city.residents["participant_id"].is_unique
    margins = make_population_margins(city)
    assert margins["count"].sum() == len(city.residents)
    meetings = make_meetings(city, seed=seed, per_community=1)
    attendance = make_attendance(city, meetings, seed=seed)
    invited = attendance.groupby("meeting_id").size()
    assert (
        invited.reindex(meetings["meeting_id"]).to_numpy() == meetings["members"].to_numpy()
    ).all()
    ballots = make_ballots(city, meetings, attendance, seed=seed)
    assert list(ballots.columns) == list(BALLOT_COLUMNS)


# --- margins ----------------------------------------------------------------------------------
def test_population_margins_and_the_shipped_file() -> None:
    city = make_city(seed=0)
    margins = make_population_margins(city)
    assert list(margins.columns) == [
        "street_id",
        "community_id",
        "age_band",
        "gender",
        "count",
        "share",
    ]
    assert len(margins) == len(city.communities) * 7 * 2
    np.testing.assert_allclose(margins.groupby("community_id")["share"].sum(), 1.0)
    counts = city.residents.groupby(["community_id", "age_band", "gender"]).size()
    assert (
        margins.set_index(["community_id", "age_band", "gender"])["count"]
        .loc[counts.index]
        .eq(counts)
        .all()
    )
    shipped = pd.read_csv(ROOT / "data" / "population_margins.csv", dtype={"count": "int64"})
    assert shipped["source"].str.startswith("synthetic").all()
    pd.testing.assert_frame_equal(
        shipped.drop(columns="source"), margins, check_dtype=False, check_exact=False, rtol=1e-12
    )


# --- meetings and attendance ------------------------------------------------------------------
def test_meetings_follow_hearing_coordination_evaluation() -> None:
    city, meetings, _, _ = small()
    assert meetings["meeting_id"].is_unique
    for _, issue in meetings.groupby("issue_id"):
        kinds = issue.sort_values("sequence")["kind"].tolist()
        assert kinds in (["hearing", "evaluation"], ["hearing", "coordination", "evaluation"])
        assert issue["date"].is_monotonic_increasing
        assert issue["members"].nunique() == 1
    evaluation = meetings["kind"] == "evaluation"
    assert meetings.loc[evaluation, "subjects"].map(len).ge(1).all()
    assert meetings.loc[~evaluation, "subjects"].map(len).eq(0).all()
    assert set().union(*meetings["subjects"]) <= set(SUBJECTS)
    assert meetings.loc[evaluation, "ballots_issued"].notna().all()
    assert meetings.loc[~evaluation, "ballots_issued"].isna().all()
    elevator = meetings["issue"] == "elevator"
    assert meetings.loc[elevator, "building_id"].isin(city.buildings["building_id"]).all()
    assert (meetings["project_elevator"] == (elevator & evaluation)).all()
    assert meetings["title"].str.contains("会").all()
    assert str(meetings["starts_at"].dt.tz) == "Asia/Shanghai"
    coordination = meetings["kind"] == "coordination"
    assert set(meetings.loc[coordination, "agreement"]) <= {"yes", "partial", "no"}


def test_meetings_issues_option() -> None:
    city = make_city(seed=1, streets=1, communities_per_street=2)
    meetings = make_meetings(city, per_community=2, issues=["parking", "waste"])
    assert set(meetings["issue"]) == {"parking", "waste"}
    with raises_code(ParameterError, "E_OPTION", argument="issues"):
        make_meetings(city, issues=["lift"])
    with pytest.raises(ParameterError, match="`start`"):
        make_meetings(city, start="soon")


def test_turnout_by_age_band_and_party_matches_the_shanghai_survey() -> None:
    """docs/domain.md: 13.8 % (18–29), 55.7 % (50–59), 77.7 % (70–79); party 65.1 %, others 48.4 %."""
    _, _, attendance = large_city()
    assert len(attendance) > 30_000
    by_band = attendance.groupby("age_band")
    by_party = attendance.groupby("party_member")
    survey_band = {"18-29": 0.138, "50-59": 0.557, "70-79": 0.777}
    survey_party = {True: 0.651, False: 0.484}
    # the calibrated model itself: expected turnout within 1.5 points
    for band, target in survey_band.items():
        assert by_band["propensity"].mean()[band] == pytest.approx(target, abs=0.015)
    for party, target in survey_party.items():
        assert by_party["propensity"].mean()[party] == pytest.approx(target, abs=0.015)
    # the draws: within a couple of points
    for band, target in survey_band.items():
        assert by_band["attended"].mean()[band] == pytest.approx(target, abs=0.025)
    for party, target in survey_party.items():
        assert by_party["attended"].mean()[party] == pytest.approx(target, abs=0.025)
    turnout = by_band["attended"].mean()
    assert turnout["18-29"] < turnout["30-39"] < turnout["40-49"] < turnout["50-59"]
    assert turnout["50-59"] < turnout["60-69"] < turnout["70-79"]


def test_repeat_participation_along_an_issue() -> None:
    _, _, attendance = large_city()
    later = attendance[attendance["sequence"] > 1]
    came_before = later.groupby("attended_before")["attended"].mean()
    assert came_before[True] > came_before[False] + 0.3
    # the chain is stationary: turnout at later meetings stays calibrated
    assert later["attended"].mean() == pytest.approx(later["propensity"].mean(), abs=0.015)
    assert not attendance.loc[attendance["sequence"] == 1, "attended_before"].any()


def test_attendance_first_time_and_roles() -> None:
    _, _, attendance = large_city()
    raters = attendance[attendance["attended"] & (attendance["kind"] == "evaluation")]
    assert 0.05 < raters["first_time"].mean() < 0.4
    by_role = attendance.groupby("role")["attended"].mean()
    assert by_role["building_head"] > by_role["resident"]
    assert attendance["invited"].all()


def test_attendance_rejects_foreign_meetings() -> None:
    city, meetings, _, _ = small()
    other = make_city(seed=99, streets=1, communities_per_street=1)
    with pytest.raises(DataError, match="not in the city"):
        make_attendance(other, meetings[meetings["community_id"] == "S02-C03"])
    with raises_code(DataError, "E_MISSING_COLUMN", argument="meetings"):
        make_attendance(city, meetings.drop(columns="members"))
    with pytest.raises(ParameterError, match="persistence"):
        make_attendance(city, meetings, persistence=1.0)


# --- ballots ----------------------------------------------------------------------------------
def test_ballot_columns_use_the_ids_of_the_ballot_document() -> None:
    ids = doc_ids()
    for subject in SUBJECTS:
        assert subject in ids
    for item in (*RATING_ITEMS, *ELEVATOR_ITEMS):
        assert item in ids
    for name in ANSWER_COLUMNS:
        if "__" in name:
            subject, item = name.split("__")
            assert subject in ids and item in ids
        else:
            assert name in ids, name
    assert {"satisfied", "basically_satisfied", "dissatisfied", "dont_know"} <= ids


def check_ballot_codes(ballots: pd.DataFrame, meetings: pd.DataFrame) -> None:
    ids = doc_ids()
    assert list(ballots.columns) == list(BALLOT_COLUMNS)
    ratings = {"satisfied", "basically_satisfied", "dissatisfied", "dont_know"}
    for column in rating_columns(ballots):
        assert set(ballots[column].dropna().unique()) <= ratings, column
        if column.endswith("__overall"):
            assert "dont_know" not in set(ballots[column].dropna())
    assert set(ballots["status"]) <= {"valid", "void"}
    assert set(ballots["project_elevator"]) <= {"yes", "no"}
    profile = {
        "role": {
            "resident_rep",
            "party_member",
            "deputy",
            "owners_committee",
            "building_head",
            "other",
        },
        "age_band": {"18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"},
        "gender": {"female", "male"},
        "floor_band": {"1-3", "4-6", "7+"},
        "tenure": {"owner", "renter"},
        "first_time": {"yes", "no"},
    }
    for column, allowed in profile.items():
        assert set(ballots[column].dropna()) <= allowed, column
        assert allowed <= ids | {"18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"}
    assert ballots["building"].dropna().between(1, 200).all()
    rectify_codes = [
        "attitude_issue",
        "slow_response",
        "transparency_issue",
        "fairness_issue",
        "quality_issue",
        "safety_issue",
        "environment_issue",
        "other",
    ]
    assert set(rectify_codes) <= ids
    for value in ballots["rectify"].dropna().unique():
        codes = str(value).split(";")
        assert codes == sorted(set(codes), key=rectify_codes.index), value
    other = ballots["rectify"].astype(str).str.contains("other")
    assert ballots.loc[~other, "rectify_other"].isna().all()
    # a subject's columns are filled only at meetings that evaluate it
    info = meetings.set_index("meeting_id")
    subjects = ballots["meeting_id"].map(info["subjects"])
    elevator = ballots["meeting_id"].map(info["project_elevator"]).astype(bool)
    for subject in SUBJECTS:
        asked = subjects.map(lambda s, subject=subject: subject in s).astype(bool)
        block = ballots[[f"{subject}__{item}" for item in RATING_ITEMS]]
        assert block[~asked].isna().all().all()
        assert block[asked].notna().mean().mean() > 0.9
    assert ballots.loc[~elevator, list(ELEVATOR_ITEMS)].isna().all().all()
    assert (ballots["project_elevator"].eq("yes") == elevator).all()
    assert ballots["submission_id"].is_unique
    assert all(uuid.UUID(s).version == 4 for s in ballots["submission_id"].head(200))
    assert (ballots["submitted_at"] > ballots["started_at"]).all()
    starts = ballots["meeting_id"].map(info["starts_at"])
    assert (ballots["started_at"] > starts).all()
    assert (ballots["started_at"] - starts < pd.Timedelta(hours=4)).all()
    assert "participant_id" not in ballots.columns


def test_ballots_use_only_valid_codes() -> None:
    _, meetings, attendance, ballots = small()
    check_ballot_codes(ballots, meetings)
    raters = attendance[attendance["attended"] & (attendance["kind"] == "evaluation")]
    assert ballots.groupby("meeting_id").size().sum() == len(raters)
    assert (
        ballots.groupby("meeting_id").size()
        <= meetings.set_index("meeting_id")["ballots_issued"].dropna()
    ).all()


def test_large_ballots_have_the_same_columns_and_codes() -> None:
    large = make_large(n_ballots=5000, seed=4)
    meetings = make_large_meetings(n_ballots=5000, seed=4)
    check_ballot_codes(large, meetings)
    _, _, _, ballots = small()
    pd.testing.assert_series_equal(large.dtypes, ballots.dtypes)
    sizes = large.groupby("meeting_id").size()
    assert len(sizes) == len(meetings)
    assert sizes.iloc[:-1].between(16, 50).all()
    empty = make_large(n_ballots=0)
    assert empty.empty and list(empty.columns) == list(BALLOT_COLUMNS)


def test_dont_know_blank_and_void_rates_are_near_the_requested() -> None:
    ballots = large_ballots()
    assert (ballots["status"] == "void").mean() == pytest.approx(0.04, abs=0.003)
    valid = ballots[ballots["status"] == "valid"]
    meetings = make_large_meetings(n_ballots=120_000, seed=2).set_index("meeting_id")
    subjects = valid["meeting_id"].map(meetings["subjects"])
    elevator = valid["meeting_id"].map(meetings["project_elevator"]).astype(bool)
    asked_cells = answered = dont_know = eligible = 0
    for subject in SUBJECTS:
        asked = subjects.map(lambda s, subject=subject: subject in s).astype(bool)
        for item in RATING_ITEMS:
            column = valid.loc[asked, f"{subject}__{item}"]
            asked_cells += len(column)
            answered += column.notna().sum()
            if item != "overall":
                eligible += column.notna().sum()
                dont_know += (column == "dont_know").sum()
    for item in ELEVATOR_ITEMS:
        column = valid.loc[elevator, item]
        asked_cells += len(column)
        answered += column.notna().sum()
        eligible += column.notna().sum()
        dont_know += (column == "dont_know").sum()
    assert 1 - answered / asked_cells == pytest.approx(0.05, abs=0.003)
    assert dont_know / eligible == pytest.approx(0.10, abs=0.005)


def test_dont_know_is_commoner_for_integrity_transparency_and_first_timers() -> None:
    ballots = large_ballots()
    share = {
        item: (ballots[f"juweihui__{item}"] == "dont_know").sum()
        / ballots[f"juweihui__{item}"].notna().sum()
        for item in ("attitude", "transparency", "integrity")
    }
    assert share["integrity"] > 2 * share["attitude"]
    assert share["transparency"] > 2 * share["attitude"]
    column = ballots["juweihui__integrity"]
    first = ballots["first_time"] == "yes"
    rest = ballots["first_time"] == "no"
    dk_first = (column[first] == "dont_know").sum() / column[first].notna().sum()
    dk_rest = (column[rest] == "dont_know").sum() / column[rest].notna().sum()
    assert dk_first > 1.8 * dk_rest


def test_requested_zero_rates_give_none() -> None:
    ballots = make_large(n_ballots=3000, seed=1, dont_know_rate=0, blank_rate=0, void_rate=0)
    assert (ballots["status"] == "valid").all()
    assert not (ballots[rating_columns(ballots)] == "dont_know").any().any()
    subjects = ballots["meeting_id"].map(
        make_large_meetings(n_ballots=3000, seed=1).set_index("meeting_id")["subjects"]
    )
    asked = subjects.map(lambda s: "juweihui" in s).astype(bool)
    assert asked.any() and ballots.loc[asked, "juweihui__overall"].notna().all()


def test_community_mean_satisfaction_follows_the_community_effects() -> None:
    city = make_city(seed=3, streets=3, communities_per_street=4)
    meetings = make_meetings(city, seed=3, per_community=4)
    ballots = make_ballots(city, meetings, make_attendance(city, meetings, seed=3), seed=3)
    valid = ballots[ballots["status"] == "valid"]
    columns = [f"{s}__{k}" for s in SUBJECTS for k in RATING_ITEMS]
    long = valid[["meeting_id", *columns]].melt(id_vars="meeting_id").dropna()
    long = long[long["value"] != "dont_know"]
    long["points"] = long["value"].astype(str).map(POINTS)
    long["community_id"] = long["meeting_id"].map(meetings.set_index("meeting_id")["community_id"])
    mean = long.groupby("community_id")["points"].mean()
    effect = city.communities.set_index("community_id")["satisfaction_effect"]
    assert mean.corr(effect.loc[mean.index], method="spearman") > 0.75
    ordered = effect.sort_values().index
    assert mean[ordered[:3]].mean() < mean[ordered[-3:]].mean() - 5


def test_satisfaction_is_high_as_in_practice_and_subjects_differ() -> None:
    ballots = large_ballots()
    broad = {
        s: ballots[f"{s}__overall"].isin(["satisfied", "basically_satisfied"]).sum()
        / ballots[f"{s}__overall"].notna().sum()
        for s in SUBJECTS
    }
    assert 0.8 < broad["wuye"] < broad["juweihui"] < 0.99
    floors = ballots[ballots["daylight"].notna()]
    low = floors["floor_band"] == "1-3"
    unhappy = floors["daylight"] == "dissatisfied"
    assert unhappy[low].mean() > unhappy[~low & floors["floor_band"].notna()].mean()


# --- answers ----------------------------------------------------------------------------------
def test_ballots_to_answers_gives_a_clean_flat_mapping() -> None:
    _, _, _, ballots = small()
    rows = ballots_answers(ballots)
    assert len(rows) == len(ballots)
    for i in (0, 1, 7, len(ballots) - 1):
        answers = ballots_to_answers(ballots.iloc[i])
        assert answers == rows[i]
        assert set(answers) <= set(ANSWER_COLUMNS)
        assert list(answers) == [c for c in ANSWER_COLUMNS if c in answers]
    for answers in rows:
        for key, value in answers.items():
            assert value is not None and value == value and value != "", key
            if key == "rectify":
                assert isinstance(value, list) and value
            elif key == "building":
                assert isinstance(value, int)
            else:
                assert isinstance(value, str)
    blank = ballots.iloc[0].copy()
    blank["juweihui__attitude"] = np.nan
    assert "juweihui__attitude" not in ballots_to_answers(blank)
    assert ballots_to_answers({"comments": "", "building": 3}) == {"building": 3}


# --- demo, large, parameters ------------------------------------------------------------------
def test_demo_bundle() -> None:
    demo = make_demo()
    assert len(demo.city.streets) == 1 and len(demo.city.communities) == 3
    assert 6 <= len(demo.meetings) <= 9
    per_meeting = demo.ballots.groupby("meeting_id").size()
    assert per_meeting.between(30, 45).all()
    assert set(demo.meetings["issue"]) == {"elevator", "property", "greening"}
    check_ballot_codes(demo.ballots, demo.meetings)
    assert demo.margins["count"].sum() == len(demo.city.residents)
    other = make_demo(seed=3)
    assert 6 <= len(other.meetings) <= 9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_city(seed=-1), "`seed` must be in"),
        (lambda: make_city(seed=1.5), "`seed` must be a non-negative integer"),
        (lambda: make_city(streets=0), "`streets` must be in"),
        (lambda: make_large(n_ballots=10, dont_know_rate=1.5), "`dont_know_rate` must be in"),
        (lambda: make_large(n_ballots=-1), "`n_ballots` must be in"),
        (lambda: make_large(n_ballots=10, void_rate="x"), "`void_rate` must be a number"),
    ],
)
def test_parameter_errors(call: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        call()  # type: ignore[operator]


def test_make_ballots_checks_its_inputs() -> None:
    city, meetings, attendance, _ = small()
    with raises_code(DataError, "E_MISSING_COLUMN", argument="attendance"):
        make_ballots(city, meetings, attendance.drop(columns="first_time"))
    stranger = make_city(seed=77, streets=1, communities_per_street=1)
    with pytest.raises(DataError, match="not a resident"):
        make_ballots(stranger, meetings, attendance)
