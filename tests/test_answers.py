"""Tests of toolkit.instrument.answers: relevance, answer checks and cleaning.

The instrument is the evaluation ballot of docs/evaluation-ballot.md, built directly in Python (so
these tests do not depend on the YAML loader), plus a small survey with every question type.
"""

from __future__ import annotations

import pytest

from tests.error_support import problem_codes, raises_code
from toolkit.errors import InstrumentError, ParameterError, Problem
from toolkit.instrument.answers import (
    DEFAULT_CONSTRAINT_MESSAGE,
    DEFAULT_REQUIRED_MESSAGE,
    check_answers,
    clean_answers,
    is_relevant,
    relevance,
    relevant_variables,
)
from toolkit.instrument.model import (
    DONT_KNOW,
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)

SUBJECTS = ("juweihui", "wuye")
RATING_ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
ELEVATOR_ITEMS = (
    "build_quality",
    "schedule",
    "noise_dust",
    "daylight",
    "cost_sharing",
    "maintenance",
)


def _choices(list_id: str, *codes: str, ordered: bool = False) -> ChoiceList:
    return ChoiceList(list_id, tuple(Choice(c, Text(c, c)) for c in codes), ordered=ordered)


def evaluation_ballot() -> Survey:
    """docs/evaluation-ballot.md as model objects."""
    satisfaction = ChoiceList(
        "satisfaction",
        (
            Choice("satisfied", Text("满意", "Satisfied"), 100),
            Choice("basically_satisfied", Text("基本满意", "Basically satisfied"), 60),
            Choice("dissatisfied", Text("不满意", "Dissatisfied"), 0),
        ),
        ordered=True,
    )
    lists = {
        "satisfaction": satisfaction,
        "yes_no": ChoiceList(
            "yes_no", (Choice("yes", Text("是", "Yes")), Choice("no", Text("否", "No")))
        ),
        "rectify": _choices(
            "rectify", "attitude_issue", "slow_response", "transparency_issue", "fairness_issue",
            "quality_issue", "safety_issue", "environment_issue", "other",
        ),
        "role": _choices(
            "role", "resident_rep", "party_member", "deputy", "owners_committee", "building_head",
            "other",
        ),
        "age_band": _choices(
            "age_band", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"
        ),
        "gender": _choices("gender", "female", "male"),
        "floor_band": _choices("floor_band", "1-3", "4-6", "7+"),
        "tenure": _choices("tenure", "owner", "renter"),
    }  # fmt: skip
    ratings = Question(
        "ratings",
        "grid",
        Text("请评价", "Please rate"),
        required=True,
        choices="satisfaction",
        per_subject=True,
        items=(
            *(GridItem(i, Text(i, i), allow_dont_know=True) for i in RATING_ITEMS),
            GridItem("overall", Text("总体评价", "Overall")),
        ),
    )
    elevator = Question(
        "elevator",
        "grid",
        Text("加装电梯项目", "Elevator project"),
        choices="satisfaction",
        relevant="${project_elevator} = 'yes'",
        items=tuple(GridItem(i, Text(i, i), allow_dont_know=True) for i in ELEVATOR_ITEMS),
    )
    pages = (
        Page("ratings", Text("评价", "Ratings"), (ratings,)),
        Page(
            "project",
            Text("项目", "Project"),
            (
                Question(
                    "project_elevator",
                    "single",
                    Text("本次评议是否包括加装电梯项目？"),
                    choices="yes_no",
                    default="no",
                ),
                elevator,
            ),
        ),
        Page(
            "rectify",
            Text("整改", "Rectification"),
            (
                Question("rectify", "multiple", Text("需要整改的问题"), choices="rectify"),
                Question(
                    "rectify_other",
                    "text",
                    Text("其他问题"),
                    relevant="selected(${rectify}, 'other')",
                ),
                Question("comments", "text", Text("意见和建议", "Comments")),
            ),
        ),
        Page(
            "profile",
            Text("关于您", "About you"),
            (
                Question("profile_note", "note", Text("以下问题可不答，匿名。")),
                Question("role", "single", Text("身份"), choices="role"),
                Question("age_band", "single", Text("年龄"), choices="age_band"),
                Question("gender", "single", Text("性别"), choices="gender"),
                Question("building", "integer", Text("楼号"), constraint=". >= 1 and . <= 200"),
                Question("floor_band", "single", Text("楼层"), choices="floor_band"),
                Question("tenure", "single", Text("业主/租户"), choices="tenure"),
                Question("first_time", "single", Text("第一次参加评议会"), choices="yes_no"),
            ),
        ),
    )
    return Survey(
        Settings("evaluation", "2026.1", Text("评议会测评表"), kind="evaluation"), pages, lists
    )


def full_ballot() -> dict[str, object]:
    answers: dict[str, object] = {}
    for subject in SUBJECTS:
        for item in RATING_ITEMS:
            answers[f"{subject}__{item}"] = "satisfied"
        answers[f"{subject}__overall"] = "basically_satisfied"
    answers["juweihui__integrity"] = DONT_KNOW
    answers.update(
        {
            "project_elevator": "yes",
            **{item: "satisfied" for item in ELEVATOR_ITEMS},
            "daylight": DONT_KNOW,
            "rectify": ["slow_response", "other"],
            "rectify_other": "电梯噪音\n晚上施工",
            "comments": "总体不错",
            "role": "resident_rep",
            "age_band": "70-79",
            "gender": "female",
            "building": 12,
            "floor_band": "4-6",
            "tenure": "owner",
            "first_time": "no",
        }
    )
    return answers


def all_types() -> Survey:
    """One question of each type, with custom messages and lengths."""
    yes_no = ChoiceList(
        "yes_no", (Choice("yes", Text("是", "Yes")), Choice("no", Text("否", "No")))
    )
    questions = (
        Question("intro", "note", Text("说明")),
        Question(
            "agree",
            "single",
            Text("同意吗"),
            choices="yes_no",
            required=True,
            required_message=Text("请选择是或否", "Please choose yes or no"),
        ),
        Question("topics", "multiple", Text("话题"), choices="yes_no"),
        Question(
            "count",
            "integer",
            Text("人数"),
            constraint=". >= 0",
            constraint_message=Text("人数不能为负", "The count cannot be negative"),
        ),
        Question(
            "share",
            "decimal",
            Text("比例"),
            constraint=". <= 1",
            constraint_message=Text("比例不能超过1"),  # no English translation
        ),
        Question("note", "text", Text("备注"), min_length=2, max_length=10),
        Question("when", "date", Text("日期"), constraint=". <= today()"),
        Question(
            "grid",
            "grid",
            Text("评价"),
            choices="yes_no",
            required=True,
            items=(
                GridItem("g_dk", Text("可不了解"), allow_dont_know=True),
                GridItem("g_plain", Text("必须选")),
                GridItem("g_optional", Text("可不答"), required=False),
            ),
        ),
    )
    return Survey(
        Settings("types", "1", Text("类型")),
        (Page("p", Text("页"), questions),),
        {"yes_no": yes_no},
    )


def minimal(**extra: object) -> dict[str, object]:
    return {"agree": "yes", "g_dk": "yes", "g_plain": "no", **extra}


def fields(problems: list[Problem]) -> list[str | None]:
    return [p.field for p in problems]


# ---------------------------------------------------------------------------------------------
# The evaluation ballot
# ---------------------------------------------------------------------------------------------


def test_a_full_ballot_is_valid() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    assert check_answers(survey, answers, subjects=SUBJECTS) == []
    assert clean_answers(survey, answers, subjects=SUBJECTS) == answers


def test_a_minimal_ballot_needs_only_the_ratings() -> None:
    survey = evaluation_ballot()
    answers = {f"{s}__{i}": "dissatisfied" for s in SUBJECTS for i in (*RATING_ITEMS, "overall")}
    assert check_answers(survey, answers, subjects=SUBJECTS) == []


def test_per_subject_required_items() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    del answers["wuye__overall"], answers["juweihui__attitude"]
    problems = check_answers(survey, answers, subjects=SUBJECTS)
    assert fields(problems) == ["juweihui__attitude", "wuye__overall"]
    assert problem_codes(problems) == ["E_REQUIRED", "E_REQUIRED"]
    assert all(p.message == DEFAULT_REQUIRED_MESSAGE.zh for p in problems)
    assert problems[0].where == "answer `juweihui__attitude`"
    # a third subject of the meeting needs its own answers
    problems = check_answers(survey, full_ballot(), subjects=(*SUBJECTS, "contractor"))
    assert fields(problems) == [f"contractor__{i}" for i in (*RATING_ITEMS, "overall")]


def test_dont_know_allowed_per_item() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    answers["wuye__attitude"] = DONT_KNOW
    assert check_answers(survey, answers, subjects=SUBJECTS) == []
    answers["wuye__overall"] = DONT_KNOW  # overall offers no 不了解
    (problem,) = check_answers(survey, answers, subjects=SUBJECTS)
    assert (problem.code, problem.field) == ("E_NOT_OFFERED", "wuye__overall")


def test_grid_codes_must_be_scale_codes() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    answers["wuye__attitude"] = "satisfed"
    answers["wuye__results"] = 1
    problems = check_answers(survey, answers, subjects=SUBJECTS)
    assert fields(problems) == ["wuye__attitude", "wuye__results"]
    assert problem_codes(problems) == ["E_NOT_A_CHOICE", "E_NOT_A_CHOICE"]
    # the message names the list and its codes, and the closest code
    assert "`satisfaction`" in problems[0].message and "'dont_know'" in problems[0].message
    assert "Did you mean `satisfied`?" in problems[0].message
    assert "got 1" in problems[1].message


def test_elevator_grid_only_when_the_project_includes_it() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    answers["project_elevator"] = "no"
    problems = check_answers(survey, answers, subjects=SUBJECTS)
    assert fields(problems) == list(ELEVATOR_ITEMS)
    assert set(problem_codes(problems)) == {"E_HIDDEN_ANSWER"}
    # the message names what hid the question
    assert "`elevator`: relevant `${project_elevator} = 'yes'`" in problems[0].message
    assert problems[0].fix is not None and "clean_answers()" in problems[0].fix
    cleaned = clean_answers(survey, answers, subjects=SUBJECTS)
    assert not set(ELEVATOR_ITEMS) & set(cleaned)
    assert check_answers(survey, cleaned, subjects=SUBJECTS) == []
    # the elevator grid is optional: relevant and unanswered is fine
    answers = {k: v for k, v in full_ballot().items() if k not in ELEVATOR_ITEMS}
    assert check_answers(survey, answers, subjects=SUBJECTS) == []
    # unanswered project_elevator reads '' (the default is the form's business)
    del answers["project_elevator"]
    assert is_relevant(survey, "elevator", answers) is False


def test_rectify_other_follows_selected() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    answers["rectify"] = ["slow_response"]
    (problem,) = check_answers(survey, answers, subjects=SUBJECTS)
    assert (problem.code, problem.field) == ("E_HIDDEN_ANSWER", "rectify_other")
    assert "selected(${rectify}, 'other')" in problem.message
    del answers["rectify"]  # selected() on an unanswered multiple is false
    assert is_relevant(survey, "rectify_other", answers) is False
    assert "rectify_other" not in clean_answers(survey, answers)


def test_building_constraint_uses_the_current_value() -> None:
    survey = evaluation_ballot()
    for building, ok in [(1, True), (200, True), (0, False), (201, False), (-5, False)]:
        answers = full_ballot()
        answers["building"] = building
        problems = check_answers(survey, answers, subjects=SUBJECTS)
        assert (problems == []) is ok, building
        if not ok:
            assert (problems[0].code, problems[0].field) == ("E_CONSTRAINT", "building")
            assert problems[0].message == DEFAULT_CONSTRAINT_MESSAGE.zh
            en = check_answers(survey, answers, subjects=SUBJECTS, language="en")
            assert en[0].message == DEFAULT_CONSTRAINT_MESSAGE.en


def test_per_subject_answers_need_the_subjects() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    problems = check_answers(survey, answers, subjects=("juweihui",))
    assert {p.field for p in problems} == {f"wuye__{i}" for i in (*RATING_ITEMS, "overall")}
    assert set(problem_codes(problems)) == {"E_UNKNOWN_SUBJECT"}
    assert "`juweihui`" in problems[0].message  # the meeting's subjects
    problems = check_answers(survey, answers)
    assert problem_codes(problems) == ["E_UNKNOWN_SUBJECT"] * 14
    assert [v.name for v in relevant_variables(survey, answers)][:1] == ["project_elevator"]


def test_unknown_variables_with_did_you_mean() -> None:
    survey = evaluation_ballot()
    answers = full_ballot()
    answers["biulding"] = 3
    answers["juweihui__atitude"] = "satisfied"
    answers["zzz"] = 1
    problems = check_answers(survey, answers, subjects=SUBJECTS)
    by_field = {p.field: p for p in problems}
    assert problem_codes(problems) == ["E_UNKNOWN_VARIABLE"] * 3
    assert by_field["biulding"].fix is not None
    assert by_field["biulding"].fix.startswith("Did you mean `building`?")
    assert by_field["juweihui__atitude"].fix is not None
    assert "Did you mean `juweihui__attitude`?" in by_field["juweihui__atitude"].fix
    assert by_field["zzz"].fix is not None and "Did you mean" not in by_field["zzz"].fix
    # unknown variables come after the survey's, in the order given
    assert fields(problems) == ["biulding", "juweihui__atitude", "zzz"]


def test_notes_grids_and_non_text_names_are_not_variables() -> None:
    survey = evaluation_ballot()
    answers: dict[object, object] = {}
    answers.update(full_ballot())
    answers["profile_note"] = "x"
    answers["ratings"] = {"attitude": "satisfied"}
    answers["elevator"] = "satisfied"
    answers[7] = "x"
    problems = check_answers(survey, answers, subjects=SUBJECTS)  # type: ignore[arg-type]
    assert [(p.code, p.where) for p in problems] == [
        ("E_ANSWER_TO_NOTE", "answer `profile_note`"),
        ("E_ANSWER_TO_GRID", "answer `ratings`"),
        ("E_ANSWER_TO_GRID", "answer `elevator`"),
        ("E_NOT_TEXT", "answer 7"),
    ]
    # a grid's message names one of its variables, as an example
    assert problems[1].message.endswith("(e.g. `juweihui__attitude`)")
    assert problems[2].message.endswith("(e.g. `build_quality`)")
    no_subjects = check_answers(survey, {"ratings": "x"})
    assert "(e.g. `<subject>__attitude`)" in no_subjects[0].message


# ---------------------------------------------------------------------------------------------
# Every type, accepted and rejected
# ---------------------------------------------------------------------------------------------

ACCEPTED = [
    ("agree", "no"),
    ("topics", ["yes"]),
    ("topics", ["yes", "no"]),
    ("topics", ("no",)),
    ("count", 0),
    ("count", 12),
    ("count", 2**63 - 1),
    ("share", 0.5),
    ("share", 1),
    ("share", -3.25),
    ("note", "好的"),
    ("note", "第一行\n第二行\t尾"),
    ("note", "x" * 10),
    ("when", "2024-02-29"),
    ("when", "1999-12-31"),
    ("g_dk", DONT_KNOW),
    ("g_optional", "yes"),
]

REJECTED = [  # (variable, value, code, what the message must show, if anything)
    ("agree", "Yes", "E_NOT_A_CHOICE", "got 'Yes'"),
    ("agree", 1, "E_NOT_A_CHOICE", "got 1"),
    ("agree", ["yes"], "E_NOT_A_CHOICE", "got ['yes']"),
    ("agree", DONT_KNOW, "E_NOT_OFFERED", None),
    ("agree", None, "E_EMPTY_VALUE", None),
    ("agree", "", "E_EMPTY_VALUE", None),
    ("topics", "yes", "E_NOT_A_LIST", "['a', 'b']"),  # how to send a list
    ("topics", "yes no", "E_NOT_A_LIST", "['a', 'b']"),
    ("topics", ["yes", "maybe"], "E_NOT_A_CHOICE", "holds 'maybe'"),
    ("topics", [1], "E_NOT_A_CHOICE", "holds 1"),
    ("topics", ["yes", "yes"], "E_DUPLICATE_CHOICE", "'yes'"),
    ("topics", [], "E_EMPTY_VALUE", None),
    ("topics", {"yes"}, "E_NOT_A_LIST", None),
    ("count", True, "E_NOT_AN_INTEGER", "got True"),
    ("count", 3.0, "E_NOT_AN_INTEGER", "got 3.0"),
    ("count", "3", "E_NOT_AN_INTEGER", "got '3'"),
    ("count", 2**63, "E_RANGE", None),
    ("share", "0.5", "E_NOT_A_NUMBER", "got '0.5'"),
    ("share", False, "E_NOT_A_NUMBER", "got False"),
    ("share", float("nan"), "E_NOT_A_NUMBER", "got nan"),
    ("share", float("inf"), "E_NOT_A_NUMBER", "got inf"),
    ("share", 10**400, "E_NOT_A_NUMBER", None),
    ("note", 12, "E_NOT_TEXT", "got 12"),
    ("note", "a\x00b", "E_BAD_CHARACTER", "(U+0000)"),
    ("note", "a\rb", "E_BAD_CHARACTER", "(U+000D)"),
    ("note", "a\x1bb\x7f", "E_BAD_CHARACTER", "(U+001B, U+007F)"),
    ("note", "x\ud800", "E_BAD_CHARACTER", "(U+D800)"),  # a lone surrogate
    ("note", "x" * 11, "E_TOO_LONG", "11"),
    ("when", "2023-02-29", "E_NOT_A_DATE", "got '2023-02-29'"),
    ("when", "2024-2-1", "E_NOT_A_DATE", "YYYY-MM-DD; got '2024-2-1'"),
    ("when", "20240101", "E_NOT_A_DATE", "YYYY-MM-DD"),
    ("when", "2024-01-01T00:00", "E_NOT_A_DATE", "YYYY-MM-DD"),
    ("when", "２０２４-01-01", "E_NOT_A_DATE", "YYYY-MM-DD"),
    ("when", 20240101, "E_NOT_A_DATE", "YYYY-MM-DD"),
    ("g_plain", DONT_KNOW, "E_NOT_OFFERED", None),
    ("g_plain", "maybe", "E_NOT_A_CHOICE", "('yes', 'no'); got 'maybe'."),
    ("g_dk", "dontknow", "E_NOT_A_CHOICE", "Did you mean `dont_know`?"),
]


@pytest.mark.parametrize(("name", "value"), ACCEPTED)
def test_types_accepted(name: str, value: object) -> None:
    assert check_answers(all_types(), minimal(**{name: value})) == []


@pytest.mark.parametrize(("name", "value", "code", "shown"), REJECTED)
def test_types_rejected(name: str, value: object, code: str, shown: str | None) -> None:
    problems = check_answers(all_types(), minimal(**{name: value}))
    # one problem: a wrong type is not also checked against the constraint or reported as required
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.code, problem.field, problem.where) == (code, name, f"answer `{name}`")
    if shown is not None:
        assert shown in problem.message


def test_empty_values_are_cleaned_not_stored() -> None:
    survey = all_types()
    answers = minimal(note="", topics=[], count=None)
    problems = check_answers(survey, answers)
    assert fields(problems) == ["topics", "count", "note"]
    assert problem_codes(problems) == ["E_EMPTY_VALUE"] * 3
    assert all(p.fix is not None and "clean_answers()" in p.fix for p in problems)
    assert clean_answers(survey, answers) == minimal()


# ---------------------------------------------------------------------------------------------
# Required, constraints and messages in zh and en
# ---------------------------------------------------------------------------------------------


def test_required_messages_custom_and_default() -> None:
    survey = all_types()
    zh = check_answers(survey, {})
    assert problem_codes(zh) == ["E_REQUIRED"] * 3
    assert [(p.field, p.message) for p in zh] == [
        ("agree", "请选择是或否"),
        ("g_dk", "此题必答"),
        ("g_plain", "此题必答"),
    ]
    en = check_answers(survey, {}, language="en")
    assert [p.message for p in en] == [
        "Please choose yes or no",
        "This question is required",
        "This question is required",
    ]
    assert all(p.fix is None for p in zh + en)
    assert DEFAULT_REQUIRED_MESSAGE.zh == "此题必答"


def test_constraint_messages_custom_default_and_missing_translation() -> None:
    survey = all_types()
    answers = minimal(count=-1, share=1.5, when="2999-01-01")
    zh = check_answers(survey, answers)
    assert problem_codes(zh) == ["E_CONSTRAINT"] * 3
    assert [(p.field, p.message) for p in zh] == [
        ("count", "人数不能为负"),
        ("share", "比例不能超过1"),
        ("when", "答案不符合要求"),
    ]
    en = check_answers(survey, answers, language="en")
    assert [p.message for p in en] == [
        "The count cannot be negative",
        "This answer is not valid",  # no English constraint_message: the English default
        "This answer is not valid",
    ]
    assert DEFAULT_CONSTRAINT_MESSAGE.en == "This answer is not valid"


def test_text_min_length_is_a_resident_message() -> None:
    survey = all_types()
    (short,) = check_answers(survey, minimal(note="a"))
    assert (short.code, short.message) == ("E_TOO_SHORT", "请至少写 2 个字")
    en = check_answers(survey, minimal(note="a"), language="en")
    assert en[0].message == "Please write at least 2 characters"


def test_required_only_when_relevant() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p1",
                Text("页一"),
                (
                    Question("a", "integer", Text("A")),
                    Question("b", "text", Text("B"), required=True, relevant="${a} > 1"),
                ),
            ),
            Page(
                "p2",
                Text("页二"),
                (Question("c", "text", Text("C"), required=True),),
                relevant="${a} = 5",
            ),
        ),
        {},
    )
    assert check_answers(survey, {"a": 0}) == []
    assert fields(check_answers(survey, {"a": 2})) == ["b"]
    assert fields(check_answers(survey, {"a": 5})) == ["b", "c"]
    assert fields(check_answers(survey, {})) == []
    (hidden,) = check_answers(survey, {"a": 1, "c": "x"})
    assert (hidden.code, hidden.field) == ("E_HIDDEN_ANSWER", "c")
    assert "page `p2`: relevant `${a} = 5`" in hidden.message  # what hid it


def test_constraint_sees_other_answers_and_hidden_ones_as_empty() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p",
                Text("页"),
                (
                    Question("total", "integer", Text("总数")),
                    Question("show", "single", Text("显示"), choices="yn"),
                    Question("hidden", "integer", Text("隐藏"), relevant="${show} = 'y'"),
                    Question(
                        "part",
                        "integer",
                        Text("部分"),
                        constraint=". <= ${total} and coalesce(${hidden}, 0) = 0",
                    ),
                ),
            ),
        ),
        {"yn": _choices("yn", "y", "n")},
    )
    assert check_answers(survey, {"total": 10, "part": 3}) == []
    assert fields(check_answers(survey, {"total": 2, "part": 3})) == ["part"]
    assert fields(check_answers(survey, {"part": 3})) == ["part"]  # '' total: NaN comparison
    # `hidden` is irrelevant: reported, and the constraint reads it as ''
    problems = check_answers(survey, {"total": 10, "part": 3, "hidden": 4, "show": "n"})
    assert fields(problems) == ["hidden"]
    problems = check_answers(survey, {"total": 10, "part": 3, "hidden": 4, "show": "y"})
    assert fields(problems) == ["part"]


def test_constraint_on_multiple_and_grid_items() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p",
                Text("页"),
                (
                    Question(
                        "pick",
                        "multiple",
                        Text("最多两项"),
                        choices="abc",
                        constraint="count-selected(.) <= 2 and not(selected(., 'c'))",
                    ),
                    Question(
                        "g",
                        "grid",
                        Text("评价"),
                        choices="abc",
                        constraint=". != 'c'",
                        per_subject=True,
                        items=(GridItem("x", Text("X"), allow_dont_know=True),),
                    ),
                ),
            ),
        ),
        {"abc": _choices("abc", "a", "b", "c")},
    )
    assert check_answers(survey, {"pick": ["a", "b"]}) == []
    assert fields(check_answers(survey, {"pick": ["a", "b", "c"]})) == ["pick"]
    assert fields(check_answers(survey, {"pick": ["c"]})) == ["pick"]
    answers = {"s1__x": "a", "s2__x": "c", "s3__x": DONT_KNOW}
    assert fields(check_answers(survey, answers, subjects=("s1", "s2", "s3"))) == ["s2__x"]


# ---------------------------------------------------------------------------------------------
# Relevance: pages, cascading, order
# ---------------------------------------------------------------------------------------------


def cascade() -> Survey:
    return Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p1",
                Text("页一"),
                (
                    Question("a", "integer", Text("A")),
                    Question("b", "integer", Text("B"), relevant="${a} > 1"),
                ),
            ),
            Page(
                "p2",
                Text("页二"),
                (
                    Question("c", "integer", Text("C"), relevant="${b} > 1 or ${b} = ''"),
                    Question("d", "text", Text("D"), relevant="${c} = 3"),
                ),
                relevant="${a} != 9",
            ),
        ),
        {},
    )


def test_cascading_relevance() -> None:
    survey = cascade()
    # b is hidden (a <= 1), so c sees '' for b even though b = 5 was answered
    assert relevance(survey, {"a": 0, "b": 5, "c": 3, "d": "x"}) == {
        "a": True,
        "b": False,
        "c": True,
        "d": True,
    }
    assert relevance(survey, {"a": 2, "b": 0, "c": 3}) == {
        "a": True,
        "b": True,
        "c": False,
        "d": False,  # c is hidden, so d sees '' for it
    }
    # the page hides everything on it, whatever the questions' own relevance
    assert relevance(survey, {"a": 9, "b": 5, "c": 3}) == {
        "a": True,
        "b": True,
        "c": False,
        "d": False,
    }
    assert clean_answers(survey, {"a": 2, "b": 0, "c": 3, "d": "x"}) == {"a": 2, "b": 0}
    assert is_relevant(survey, survey.question("d"), {"a": 0, "c": 3}) is True
    problems = check_answers(survey, {"a": 2, "b": 0, "c": 3, "d": "x"})
    assert fields(problems) == ["c", "d"]


def test_relevance_does_not_depend_on_question_order() -> None:
    # `first` looks at a later question: it is decided after it
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p",
                Text("页"),
                (
                    Question("first", "text", Text("1"), relevant="${second} = 'y'"),
                    Question("second", "text", Text("2"), relevant="${third} = 'y'"),
                    Question("third", "text", Text("3")),
                ),
            ),
        ),
        {},
    )
    assert relevance(survey, {"first": "x", "second": "y", "third": "n"}) == {
        "first": False,
        "second": False,
        "third": True,
    }
    assert relevance(survey, {"second": "y", "third": "y"})["first"] is True


def test_relevance_cycles_do_not_hang() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p",
                Text("页"),
                (
                    Question("a", "text", Text("A"), relevant="${b} = ''"),
                    Question("b", "text", Text("B"), relevant="${a} = ''"),
                ),
            ),
        ),
        {},
    )
    # broken in instrument order: `a` sees b's raw answer
    assert relevance(survey, {"b": "x"}) == {"a": False, "b": True}
    assert relevance(survey, {}) == {"a": True, "b": True}


def test_relevant_variables_expand_subjects() -> None:
    survey = evaluation_ballot()
    names = [
        v.name for v in relevant_variables(survey, {"project_elevator": "no"}, subjects=SUBJECTS)
    ]
    assert names[:2] == ["juweihui__attitude", "juweihui__efficiency"]
    assert "build_quality" not in names
    assert "profile_note" not in names
    names = [
        v.name for v in relevant_variables(survey, {"project_elevator": "yes"}, subjects=SUBJECTS)
    ]
    assert "build_quality" in names
    assert len(names) == 2 * 7 + 1 + 6 + 2 + 7  # rectify_other hidden


def test_per_subject_answers_are_visible_to_expressions() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (
            Page(
                "p",
                Text("页"),
                (
                    Question("gate", "text", Text("门")),
                    Question(
                        "g",
                        "grid",
                        Text("G"),
                        choices="abc",
                        per_subject=True,
                        relevant="${gate} = 'open'",
                        items=(GridItem("x", Text("X")),),
                    ),
                    Question("why", "text", Text("为什么"), relevant="${wuye__x} = 'c'"),
                ),
            ),
        ),
        {"abc": _choices("abc", "a", "b", "c")},
    )
    assert relevance(survey, {"gate": "open", "wuye__x": "c"})["why"] is True
    # the grid is hidden, so its per-subject answers read as '' for `why`
    assert relevance(survey, {"wuye__x": "c"})["why"] is False
    assert clean_answers(survey, {"wuye__x": "c", "why": "x"}, subjects=("wuye",)) == {}


# ---------------------------------------------------------------------------------------------
# Arguments and instrument errors
# ---------------------------------------------------------------------------------------------


def test_argument_errors() -> None:
    survey = evaluation_ballot()
    with raises_code(ParameterError, "E_OPTION", argument="language"):
        check_answers(survey, {}, language="fr")
    with pytest.raises(ParameterError, match="`subjects` must be a sequence"):
        check_answers(survey, {}, subjects="wuye")
    with pytest.raises(ParameterError, match="`subjects` must hold non-empty strings"):
        relevant_variables(survey, {}, subjects=("wuye", ""))
    with pytest.raises(ParameterError, match="`answers` must be a mapping"):
        check_answers(survey, [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="`answers` must be a mapping"):
        clean_answers(survey, None)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"Did you mean `rectify_other`\?"):
        is_relevant(survey, "rectify_otter", {})


def test_broken_instrument_expressions_are_located() -> None:
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (Page("p", Text("页"), (Question("a", "text", Text("A"), relevant="${x} >", line=7),)),),
        {},
        source="surveys/s.yaml",
    )
    with pytest.raises(InstrumentError) as info:
        check_answers(survey, {})
    problem = info.value.problems[0]
    assert (problem.code, problem.where) == (
        "E_EXPRESSION_SYNTAX",
        "surveys/s.yaml, line 7, question `a`, field `relevant`",
    )
    assert "at character 6" in problem.message  # the place inside the expression
    survey = Survey(
        Settings("s", "1", Text("示例")),
        (Page("p", Text("页"), (Question("a", "single", Text("A"), choices="nope"),)),),
        {},
    )
    with pytest.raises(InstrumentError) as info:
        check_answers(survey, {"a": "x"})
    (problem,) = info.value.problems
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_CHOICE_LIST",
        "survey `s`, question `a`, field `choices`",
    )
    assert "`nope`" in problem.message
