"""Tests of toolkit.instrument.answers_repeat: a repeat's answers checked once per instance."""

from __future__ import annotations

from toolkit.instrument.answers import check_answers
from toolkit.instrument.answers_repeat import (
    MAX_INSTANCES,
    check_repeat_answers,
    instance_survey,
    repeat_ids,
)
from toolkit.instrument.model import (
    Choice,
    ChoiceList,
    Group,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)


def household() -> Survey:
    """A household roster: one question outside, three inside the `member` repeat."""
    sex = ChoiceList("sex", (Choice("f", Text("女", "Female")), Choice("m", Text("男", "Male"))))
    page = Page(
        "p",
        Text("家庭", "Household"),
        (
            Question("size", "integer", Text("人数", "Size"), required=True),
            Question(
                "age",
                "integer",
                Text("年龄", "Age"),
                required=True,
                group="member",
                constraint=". < 130",
            ),
            Question("sex", "single", Text("性别", "Sex"), choices="sex", group="member"),
            Question("job", "text", Text("工作", "Job"), relevant="${age} >= 16", group="member"),
        ),
        groups=(Group("member", Text("成员", "Member"), repeat=True),),
    )
    return Survey(Settings("hh", "1", Text("家庭")), (page,), {"sex": sex})


def test_the_repeat_and_its_questions() -> None:
    survey = household()
    assert repeat_ids(survey) == ("member",)
    sub = instance_survey(survey, "member")
    assert [q.id for q in sub.questions] == ["age", "sex", "job"]
    assert [v.name for v in survey.variables()] == ["size"]


def test_each_instance_is_checked_on_its_own() -> None:
    survey = household()
    good = {"size": 2, "member": [{"age": 40, "job": "x"}, {"age": 3, "sex": "f"}]}
    assert check_answers(survey, good) == []
    # relevance within the instance: the job of a child is hidden, of an adult shown
    bad = {"size": 2, "member": [{"age": 3, "job": "x"}, {"sex": "q"}, {"age": 131}]}
    problems = check_answers(survey, bad)
    assert [p.field for p in problems] == [
        "member[1].job",
        "member[2].age",
        "member[2].sex",
        "member[3].age",
    ]
    assert problems[1].where == "answer `member[2].age`"
    assert [p.code for p in problems] == [
        "E_HIDDEN_ANSWER",
        "E_REQUIRED",
        "E_NOT_A_CHOICE",
        "E_CONSTRAINT",
    ]
    # paper ballots keep blanks: required is not checked, the rest is
    assert [p.field for p in check_answers(survey, bad, require=False)] == [
        "member[1].job",
        "member[2].sex",
        "member[3].age",
    ]


def test_the_shape_of_a_repeat_answer() -> None:
    survey = household()
    for wrong in ({"age": 3}, "x", [{"age": 3}, 4]):
        problems = check_repeat_answers(survey, {"member": wrong}, check=check_answers)
        assert [(p.field, p.code) for p in problems] == [("member", "E_NOT_A_LIST")]
    many = [{"age": 1}] * (MAX_INSTANCES + 1)
    problems = check_repeat_answers(survey, {"member": many}, check=check_answers)
    assert [(p.field, p.code) for p in problems] == [("member", "E_TOO_LARGE")]
    # an unknown key inside an instance is reported with its instance
    problems = check_answers(survey, {"size": 1, "member": [{"age": 1, "agee": 2}]})
    assert [(p.field, p.code) for p in problems] == [("member[1].agee", "E_UNKNOWN_VARIABLE")]
    # a repeat id is not an unknown variable, a misspelt one is
    assert [p.field for p in check_answers(survey, {"size": 1, "membr": []})] == ["membr"]
