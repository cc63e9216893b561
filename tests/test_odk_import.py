"""Imports of ODK Central and KoboToolbox CSV submissions into our answers and table layout."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import DataError, ParameterError
from toolkit.instrument.answers import check_answers
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import Survey
from toolkit.instrument.odk_import import read_odk_csv

ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey("surveys/evaluation.yaml")


def _ratings(subject: str, value: str) -> dict[str, str]:
    out = {f"{subject}__{item}": value for item in ITEMS}
    out[f"{subject}__overall"] = "satisfied"
    return out


def _central_csv(rows: list[dict[str, str]]) -> str:
    """An ODK Central export: `-` between groups, its metadata columns, UUIDs with `uuid:`."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "SubmissionDate", "2026-03-01T08:10:00.000Z")
    frame.insert(1, "start", "2026-03-01T16:00:00.000+08:00")
    frame.insert(2, "end", "2026-03-01T16:04:30.000+08:00")
    frame["meta-instanceID"] = [
        f"uuid:0000000{i}-aaaa-bbbb-cccc-dddddddddddd" for i in range(len(rows))
    ]
    frame["KEY"] = frame["meta-instanceID"]
    frame["SubmitterID"] = "5"
    frame["SubmitterName"] = "collector-1"
    frame["AttachmentsPresent"] = "0"
    frame["ReviewState"] = ["", "rejected"][: len(rows)] + [""] * max(0, len(rows) - 2)
    return frame.to_csv(index=False)


def test_odk_central_export(survey: Survey, tmp_path: Path) -> None:
    first = {
        **{f"ratings-{k}": v for k, v in _ratings("wuye", "satisfied").items()},
        **{f"ratings-{k}": v for k, v in _ratings("juweihui", "dont_know").items()},
        "project-project_elevator": "no",
        "rectify-rectify": "slow_response other",
        "rectify-rectify_other": "=HYPERLINK(1)",
        "rectify-comments": "电梯噪音太大",
        "profile-gender": "female",
        "profile-building": "12",
        "profile-age_band": "70-79",
    }
    second = {k: "" for k in first} | {"ratings-wuye__overall": "dissatisfied"}
    path = tmp_path / "central.csv"
    path.write_text(_central_csv([first, second]), encoding="utf-8-sig")
    result = read_odk_csv(path, survey, meeting_id="m1")
    a0, a1 = result.answers
    assert a0["rectify"] == ["slow_response", "other"]
    assert a0["building"] == 12 and a0["comments"] == "电梯噪音太大"
    assert a0["juweihui__attitude"] == "dont_know"
    assert a1 == {"wuye__overall": "dissatisfied"}
    assert result.subjects == ("wuye", "juweihui")
    assert result.unknown_columns == ()
    subjects = result.subjects
    assert check_answers(survey, a0, subjects=subjects) == []
    frame = result.frame
    assert frame["submission_id"].tolist()[0] == "00000000-aaaa-bbbb-cccc-dddddddddddd"
    assert frame["status"].tolist() == ["valid", "void"]
    assert frame["meeting_id"].tolist() == ["m1", "m1"]
    assert str(frame["submitted_at"].iloc[0]) == "2026-03-01 08:04:30+00:00"
    assert frame["rectify__other"].iloc[0] == 1 and frame["rectify__other"].isna().tolist() == [
        False,
        True,
    ]
    assert isinstance(frame["wuye__overall"].dtype, pd.CategoricalDtype)
    assert frame["wuye__overall"].astype(str).tolist() == ["satisfied", "dissatisfied"]
    assert "SubmitterName" not in frame.columns and "collector-1" not in frame.to_csv()


def test_kobo_export_with_split_multiples_and_labels(survey: Survey) -> None:
    """KoboToolbox: `/` paths, `_uuid`, split select_multiple columns, labels instead of codes."""
    text = (
        "start,end,ratings/attitude,rectify/rectify/slow_response,rectify/rectify/other,"
        "profile/gender,profile/age_band,_id,_uuid,_submission_time,_validation_status,__version__\n"
        "2026-03-01T16:00:00+08:00,2026-03-01T16:03:00+08:00,基本满意,1,1,男,80+,17,"
        "4f2a,2026-03-01T08:03:05,,vX\n"
        ",,不了解,0,0,Female,,18,5b3c,2026-03-01T08:04:00,validation_status_not_approved,vX\n"
    )
    result = read_odk_csv(io.StringIO(text), survey, subject="wuye")
    assert result.answers[0] == {
        "wuye__attitude": "basically_satisfied",
        "rectify": ["slow_response", "other"],
        "gender": "male",
        "age_band": "80+",
    }
    assert result.answers[1] == {"wuye__attitude": "dont_know", "gender": "female"}
    assert result.frame["status"].tolist() == ["valid", "void"]
    assert result.frame["submission_id"].tolist() == ["4f2a", "5b3c"]
    assert result.columns["rectify/rectify/other"] == "rectify/other"
    for answers in result.answers:
        problems = check_answers(survey, answers, subjects=("wuye",))
        assert all(
            p.field
            in (
                "wuye__efficiency",
                "wuye__overall",
                "wuye__transparency",
                "wuye__responsiveness",
                "wuye__integrity",
                "wuye__results",
            )
            for p in problems
        )  # only the required ratings this short form did not ask


def test_bad_values_are_located(survey: Survey) -> None:
    text = (
        "_uuid,ratings/wuye__overall,profile/building,rectify/rectify\n"
        "a1,satisified,3.5,slow_response nonsense\n"
    )
    with pytest.raises(DataError) as info:
        read_odk_csv(io.StringIO(text), survey)
    message = str(info.value)
    assert "3 value(s)" in message
    assert "row 2, column `ratings/wuye__overall`: `satisified` is not a choice of list " in message
    assert "Did you mean `satisfied`?" in message
    assert "column `profile/building`: `3.5` is not a whole number." in message
    assert "`nonsense` is not a choice of list `rectify_issues`." in message


def test_unknown_columns(survey: Survey) -> None:
    text = "_uuid,profile/gendr,profile/age_band,ratings/attitude,extra\nx,female,80+,satisfied,1\n"
    with pytest.raises(DataError) as info:
        read_odk_csv(io.StringIO(text), survey)
    message = str(info.value)
    assert (
        "column `profile/gendr`: matches no question of `evaluation`. Did you mean `gender`?"
        in message
    )
    assert "`attitude` is an item of a per-subject grid: pass `subject=`" in message
    assert "column `extra`" in message
    with pytest.warns(UserWarning, match="gendr"):
        result = read_odk_csv(io.StringIO(text), survey, unknown="warn")
    assert result.unknown_columns == ("profile/gendr", "ratings/attitude", "extra")
    assert result.answers[0] == {"age_band": "80+"}


def test_round_trip_through_an_export(survey: Survey, tmp_path: Path) -> None:
    """Answers → ODK-style CSV → import gives the same answers and a table like the store's."""
    from toolkit.exports import responses_from_answers

    answers = [
        {
            **_ratings("wuye", "basically_satisfied"),
            "rectify": ["other"],
            "rectify_other": "漏水",
            "building": 7,
            "first_time": "yes",
        },
        {**_ratings("wuye", "dont_know"), "comments": "好"},
    ]
    rows = []
    for i, a in enumerate(answers):
        row = {"meta-instanceID": f"uuid:{i}"}
        for key, value in a.items():
            row[f"g-{key}"] = " ".join(value) if isinstance(value, list) else str(value)
        rows.append(row)
    pd.DataFrame(rows).fillna("").to_csv(tmp_path / "x.csv", index=False)
    result = read_odk_csv(tmp_path / "x.csv", survey)
    assert list(result.answers) == answers
    expected = responses_from_answers(survey, answers, subjects=("wuye",))
    for column in expected.columns[9:]:
        assert result.frame[column].astype(object).where(
            result.frame[column].notna(), None
        ).tolist() == (
            expected[column].astype(object).where(expected[column].notna(), None).tolist()
        ), column


def test_arguments(survey: Survey) -> None:
    with pytest.raises(ParameterError, match="unknown"):
        read_odk_csv(io.StringIO("_uuid\nx\n"), survey, unknown="skip")
    with pytest.raises(DataError, match="submission id"):
        read_odk_csv(io.StringIO("profile/gender\nfemale\n"), survey)
    with pytest.raises(ParameterError, match="subject"):
        read_odk_csv(io.StringIO("_uuid\nx\n"), survey, subject="物业")
