"""plan_meeting / create_planned_meeting / edit_meeting beyond the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from tests.error_support import problem_codes, raises_problems
from tests.meeting_support import EVALUATION, filled_roster
from toolkit.errors import ConflictError, InstrumentError, MeetingSetupError
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import (
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)
from toolkit.store import Store
from toolkit.store.meeting_setup import (
    create_planned_meeting,
    edit_meeting,
    meeting_settings,
    plan_meeting,
)


def test_plan_from_objects_and_one_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    survey = load_survey(EVALUATION)
    roster = pd.DataFrame([{"name": "王芳", "room": "3-201", "role": "resident_rep"}])
    plan = plan_meeting(
        store,
        meeting_id="m1",
        kind="evaluation",
        title="评议会",
        instrument=survey,
        subjects=[{"id": "wuye", "label_zh": "物业公司"}],
        roster=roster,
        rule="plurality",
        codes=3,
    )
    meeting = create_planned_meeting(store, plan)
    assert meeting_settings(store, "m1") == {"rule": "plurality", "codes": 3}
    assert len(store.roster("m1")) == 1
    with pytest.raises(ConflictError, match="already exists; nothing was written"):
        create_planned_meeting(store, dataclasses.replace(plan, title="again"))
    assert store.meeting("m1") == meeting and len(store.roster("m1")) == 1
    changed = dataclasses.replace(
        survey.settings, title=dataclasses.replace(survey.settings.title, zh="改过的测评表")
    )
    with raises_problems(MeetingSetupError, "E_VERSION_CONFLICT"):
        plan_meeting(
            store,
            meeting_id="m2",
            kind="evaluation",
            title="评议会",
            instrument=dataclasses.replace(survey, settings=changed),
            subjects=["wuye=物业公司"],
        )
    with raises_problems(MeetingSetupError, "E_MISSING_MEMBERS"):
        plan_meeting(
            store,
            meeting_id="m2",
            kind="evaluation",
            title="评议会",
            instrument=survey,
            subjects=["wuye=物业"],
            rule="majority_of_members",
        )
    with raises_problems(MeetingSetupError, "E_OPTION_NOT_FOR_KIND"):
        plan_meeting(
            None,
            meeting_id="h1",
            kind="hearing",
            title="听证会",
            instrument=EVALUATION.parent / "hearing.yaml",
            rule="plurality",
        )
    with raises_problems(MeetingSetupError, "E_UNKNOWN_FIELD") as info:
        edit_meeting(store, "m1", status="open")
    assert info.value.problems[0].where == "field `status`"
    assert edit_meeting(store, "m1", codes=5).status == "closed"
    assert meeting_settings(store, "m1")["codes"] == 5
    store.close()


#: A valid meeting (the README's example), changed one option at a time below.
GOOD: dict[str, object] = {
    "meeting_id": "wlq-2026-03",
    "kind": "evaluation",
    "title": "2026年一季度评议会",
    "instrument": EVALUATION,
    "subjects": ["wuye=物业公司", "juweihui=居委会"],
    "date": "2026-03-15",
    "members": 5,
    "rule": "majority_of_members",
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"meeting_id": "wlq 2026"}, [("E_BAD_ID", "option --id")]),
        ({"kind": "evaluaton", "rule": None}, [("E_BAD_OPTION", "option --kind")]),
        ({"kind": "hearing", "rule": None}, [("E_WRONG_KIND", "option --instrument")]),
        ({"title": " "}, [("E_EMPTY_VALUE", "option --title")]),
        ({"date": "15/03/2026"}, [("E_NOT_A_DATE", "option --date")]),
        ({"instrument": Path("x.txt")}, [("E_FILE_TYPE", "x.txt")]),
        ({"subjects": ["Wuye=物业", "j=居委会"]}, [("E_BAD_ID", "option --subject, `Wuye=物业`")]),
        ({"subjects": ["wuye=", "j=居委会"]}, [("E_EMPTY_VALUE", "option --subject, `wuye=`")]),
        (
            {"subjects": ["wuye=物业", "wuye=物业公司"]},
            [("E_DUPLICATE_ID", "option --subject, `wuye=物业公司`")],
        ),
        ({"subjects": []}, [("E_MISSING_SUBJECT", "option --subject")]),
        ({"members": -1}, [("E_NOT_AN_INTEGER", "option --members")]),
        ({"ballots_issued": 1.5}, [("E_NOT_AN_INTEGER", "option --ballots-issued")]),
        ({"codes": 10_001}, [("E_RANGE", "option --codes")]),
        ({"rule": "majority"}, [("E_BAD_OPTION", "option --rule")]),
        ({"members": None}, [("E_MISSING_MEMBERS", "option --rule majority_of_members")]),
    ],
)
def test_each_bad_option_has_its_code_and_place(
    change: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(MeetingSetupError) as info:
        plan_meeting(None, **{**GOOD, **change})  # type: ignore[arg-type]
    assert [(p.code, p.where) for p in info.value.problems] == expected


def test_the_fix_names_the_closest_option() -> None:
    for change, closest in [
        ({"kind": "evaluaton", "rule": None}, "evaluation"),
        ({"rule": "majority"}, "majority_of_members"),
    ]:
        with pytest.raises(MeetingSetupError) as info:
            plan_meeting(None, **{**GOOD, **change})  # type: ignore[arg-type]
        (problem,) = info.value.problems
        assert f"Did you mean `{closest}`?" in problem.message


def test_a_subject_that_makes_a_variable_the_instrument_has() -> None:
    items = (GridItem("overall", Text("总体")),)
    grid = Question("ratings", "grid", Text("评价"), choices="yn", per_subject=True, items=items)
    taken = Question("x__overall", "text", Text("已有"))  # made in Python: YAML refuses the id
    yn = ChoiceList("yn", (Choice("y", Text("是")), Choice("n", Text("否"))))
    page = Page("p", Text("页"), (grid, taken))
    survey = Survey(Settings("s", "1", Text("示例")), (page,), {"yn": yn})
    with pytest.raises(MeetingSetupError) as info:
        plan_meeting(
            None, meeting_id="m", kind="evaluation", title="t", instrument=survey, subjects=["x=某"]
        )
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("E_DUPLICATE_VARIABLE", "option --subject x")
    ]


def test_subjects_for_an_instrument_without_a_rating_grid() -> None:
    hearing = {**GOOD, "kind": "hearing", "rule": None, "members": None}
    hearing["instrument"] = EVALUATION.parent / "hearing.yaml"
    with pytest.raises(MeetingSetupError) as info:
        plan_meeting(None, **hearing)  # type: ignore[arg-type]
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("E_UNEXPECTED_SUBJECT", "option --subject wuye"),
        ("E_UNEXPECTED_SUBJECT", "option --subject juweihui"),
    ]


def test_instrument_and_roster_problems_join_the_option_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("settings: {id: b, version: '1', title: 坏}\npages: []\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as loaded:
        load_survey(broken)
    rows = [
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
    ]
    with pytest.raises(MeetingSetupError) as info:
        plan_meeting(
            None,
            **{**GOOD, "instrument": broken, "rule": "best"},  # type: ignore[arg-type]
            roster=filled_roster(tmp_path / "bad.xlsx", rows),
        )
    # the instrument's own problems keep their codes; then the options, then the roster
    assert problem_codes(info) == [
        *problem_codes(loaded),
        "E_BAD_OPTION",
        "E_DUPLICATE_PERSON",
    ]
    with pytest.raises(MeetingSetupError) as info:
        plan_meeting(None, **GOOD, roster=tmp_path / "none.xlsx")  # type: ignore[arg-type]
    assert [(p.code, p.where) for p in info.value.problems] == [("E_UNREADABLE", "none.xlsx")]


def test_an_existing_meeting_id_is_a_problem(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        create_planned_meeting(store, plan_meeting(store, **GOOD))  # type: ignore[arg-type]
        with raises_problems(MeetingSetupError, "E_MEETING_EXISTS"):
            plan_meeting(store, **GOOD)  # type: ignore[arg-type]
        with pytest.raises(MeetingSetupError) as info:
            edit_meeting(
                store, "wlq-2026-03", title=" ", date="March", subjects=["x-y=坏", "wuye=物业"]
            )
        assert [(p.code, p.where) for p in info.value.problems] == [
            ("E_EMPTY_VALUE", "option --title"),
            ("E_NOT_A_DATE", "option --date"),
            ("E_BAD_ID", "option --subject, `x-y=坏`"),
        ]
