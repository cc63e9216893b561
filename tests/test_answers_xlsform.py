"""Answers to time, datetime, range and calculate questions, cascading choices and or_other."""

from __future__ import annotations

import pytest

from tests.store_support import (
    new_uuid,
    setup_meeting,
    store_fixture,  # noqa: F401  (the `store` fixture)
)
from toolkit.errors import AnswerError
from toolkit.exports.tables import load_responses
from toolkit.instrument.answers import check_answers
from toolkit.instrument.answers_xlsform import (
    calculate,
    offered,
    range_bounds,
    type_problem,
)
from toolkit.instrument.model import Choice, ChoiceList, Page, Question, Settings, Survey, Text
from toolkit.store import Store, Submission


def _survey() -> Survey:
    state = ChoiceList("state", (Choice("tx", Text("Texas")), Choice("wa", Text("Washington"))))
    county = ChoiceList(
        "county",
        (
            Choice("harris", Text("Harris"), filters=(("state", "tx"),)),
            Choice("king", Text("King"), filters=(("state", "wa"),)),
        ),
    )
    questions = (
        Question("state", "single", Text("州"), choices="state", or_other=True),
        Question(
            "county", "single", Text("县"), choices="county", choice_filter="state = ${state}"
        ),
        Question("n", "integer", Text("人数")),
        Question("twice", "calculate", Text(""), calculation="${n} * 2"),
        Question("score", "range", Text("分"), parameters="start=0 end=10 step=2"),
        Question("at", "time", Text("时间")),
        Question("when", "datetime", Text("日期时间")),
    )
    return Survey(
        Settings("s", "1", Text("x")),
        (Page("p", Text("页"), questions),),
        {"state": state, "county": county},
    )


def test_types_of_the_new_questions() -> None:
    s = _survey()

    def code(name: str, value: object) -> str | None:
        found = type_problem(s.question(name), value)
        return None if found is None else found[0]

    assert code("at", "09:30") is None and code("at", "09:30:59") is None
    assert code("at", "9.30") == "E_NOT_A_TIME"
    assert code("when", "2026-03-01T09:30") is None
    assert code("when", "2026-03-01") == "E_NOT_A_DATETIME"
    assert range_bounds(s.question("score")) == (0.0, 10.0, 2.0)
    assert code("score", 4) is None
    assert code("score", 3) == "E_NOT_ON_STEP"
    assert code("score", 12) == "E_RANGE"
    assert code("score", True) == "E_NOT_A_NUMBER"
    assert code("twice", [1]) == "E_NOT_TEXT_OR_NUMBER" and code("twice", "x") is None
    assert type_problem(s.question("score"), 12) == ("E_RANGE", "must be from 0 to 10; got 12")


def test_cascading_choices_and_other() -> None:
    s = _survey()
    county = s.question("county")
    assert offered(s.choice_lists["county"], county, {"state": "tx"}) == ("harris",)
    assert offered(s.choice_lists["county"], county, {}) == ()
    assert offered(s.choice_lists["state"], s.question("state"), {}) == ("tx", "wa", "other")
    assert check_answers(s, {"state": "other"}) == []
    assert check_answers(s, {"state": "tx", "county": "harris"}) == []
    problems = check_answers(s, {"state": "tx", "county": "king"})
    assert [(p.field, p.code) for p in problems] == [("county", "E_NOT_OFFERED")]


def test_calculations_follow_the_answers() -> None:
    s = _survey()
    assert calculate(s, {"n": 4})["twice"] == 8.0
    assert "twice" not in calculate(s, {})  # NaN: no value
    assert check_answers(s, calculate(s, {"n": 4, "score": 6, "at": "08:00"})) == []
    problems = check_answers(s, {"twice": [1]})
    assert [(p.field, p.code) for p in problems] == [("twice", "E_NOT_TEXT_OR_NUMBER")]


def test_an_xlsform_ballot_is_stored_and_exported(store: Store) -> None:
    survey = _survey()
    setup_meeting(store, survey=survey)
    answers = calculate(
        survey,
        {
            "state": "wa",
            "county": "king",
            "n": 2,
            "score": 8,
            "at": "09:30",
            "when": "2026-03-01T09:30",
        },
    )
    assert store.submit(Submission(new_uuid(), "m1", answers, device="t1")).status == "stored"
    other = {"state": "other", "n": 1}
    assert store.submit(Submission(new_uuid(), "m1", other, device="t2")).status == "stored"
    wrong = dict(answers, county="harris")  # not offered for Washington
    with pytest.raises(AnswerError) as info:
        store.submit(Submission(new_uuid(), "m1", wrong, device="t1"))
    assert [(p.field, p.code) for p in info.value.problems] == [("county", "E_NOT_OFFERED")]
    table, _, _ = load_responses(store, "m1")
    assert sorted(table["state"].astype(str)) == ["other", "wa"]
    row = table[table["state"] == "wa"].iloc[0]
    # a calculation is kept as text, as ODK keeps it; a range value is a number
    assert (row["county"], row["twice"], row["score"], row["at"]) == ("king", "4.0", 8.0, "09:30")


def test_names_pyxform_allows_survive_the_store(store: Store) -> None:
    dotted = Question("tel.office", "text", Text("电话"))
    survey = Survey(
        Settings("s", "1", Text("x"), xlsform_names=True), (Page("p", Text("页"), (dotted,)),), {}
    )
    setup_meeting(store, survey=survey)
    assert store.submit(Submission(new_uuid(), "m1", {"tel.office": "1"})).status == "stored"


def test_a_nested_group_hides_its_questions() -> None:
    from toolkit.instrument.answers import relevance
    from toolkit.instrument.model import Group

    questions = (
        Question("has_kids", "single", Text("有孩子吗"), choices="yn"),
        Question("kids", "integer", Text("几个"), required=True, group="kids_group"),
    )
    page = Page(
        "p",
        Text("页"),
        questions,
        groups=(Group("kids_group", Text("孩子"), relevant="${has_kids} = 'yes'"),),
    )
    yn = ChoiceList("yn", (Choice("yes", Text("是")), Choice("no", Text("否"))))
    survey = Survey(Settings("s", "1", Text("x")), (page,), {"yn": yn})
    assert relevance(survey, {"has_kids": "no"})["kids"] is False
    assert check_answers(survey, {"has_kids": "no"}) == []
    assert [p.field for p in check_answers(survey, {"has_kids": "yes"})] == ["kids"]
