"""The shipped instruments in surveys/: they validate, are fully bilingual, and the evaluation
ballot has exactly the ids of docs/evaluation-ballot.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from toolkit.instrument.expressions import parse
from toolkit.instrument.loader import load_survey, loads_survey, validate_files
from toolkit.instrument.model import Survey, Text

ROOT = Path(__file__).resolve().parents[1]
SURVEYS = ROOT / "surveys"
SHIPPED = ("evaluation", "hearing", "coordination")


def _load(name: str) -> Survey:
    return load_survey(SURVEYS / f"{name}.yaml")


def test_validate_shipped_instruments(capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = validate_files([f"surveys/{name}.yaml" for name in SHIPPED])
    finally:
        os.chdir(cwd)
    assert code == 0
    assert capsys.readouterr().out == (
        "surveys/evaluation.yaml: ok (evaluation 2026.1, 4 pages, 14 questions)\n"
        "surveys/hearing.yaml: ok (hearing 2026.1, 3 pages, 12 questions)\n"
        "surveys/coordination.yaml: ok (coordination 2026.1, 4 pages, 13 questions)\n"
    )


def _texts(survey: Survey) -> list[tuple[str, Text]]:
    out: list[tuple[str, Text]] = [("title", survey.settings.title)]
    if survey.settings.description:
        out.append(("description", survey.settings.description))
    for scale in survey.choice_lists.values():
        out.append((f"{scale.id}.dont_know_label", scale.dont_know_label))
        out += [(f"{scale.id}.{c.value}", c.label) for c in scale.choices]
    for page in survey.pages:
        out.append((f"page {page.id}", page.title))
        for q in page.questions:
            for name in ("label", "hint", "required_message", "constraint_message"):
                text = getattr(q, name)
                if text is not None:
                    out.append((f"{q.id}.{name}", text))
            for item in q.items:
                out.append((f"{q.id}.{item.id}", item.label))
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instruments_are_bilingual(name: str) -> None:
    survey = _load(name)
    assert survey.settings.kind == name and survey.settings.anonymous
    assert survey.version == "2026.1" and survey.settings.default_language == "zh"
    missing = [where for where, text in _texts(survey) if not text.en]
    assert missing == []
    # Chinese text is Chinese (at least one CJK character, or a number band such as 1～3层)
    assert all(re.search(r"[\u4e00-\u9fff]", text.zh) for _, text in _texts(survey))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instruments_use_skip_logic_and_constraints(name: str) -> None:
    survey = _load(name)
    relevant = [q for q in survey.questions if q.relevant]
    constrained = [q for q in survey.questions if q.constraint]
    assert relevant and constrained
    for q in constrained:
        assert parse(q.constraint or "").uses_current
        assert q.constraint_message is not None


def test_evaluation_ballot_ids_are_exactly_the_documented_ones() -> None:
    survey = _load("evaluation")
    assert survey.id == "evaluation" and survey.version == "2026.1"
    sat = survey.choice_lists["satisfaction"]
    assert sat.ordered
    assert [(c.value, c.label, c.points) for c in sat.choices] == [
        ("satisfied", Text("满意", "Satisfied"), 100.0),
        ("basically_satisfied", Text("基本满意", "Basically satisfied"), 60.0),
        ("dissatisfied", Text("不满意", "Dissatisfied"), 0.0),
    ]
    assert sat.dont_know_label == Text("不了解", "Don't know")
    assert [p.id for p in survey.pages] == ["ratings", "project", "rectify", "profile"]
    assert [[q.id for q in p.questions] for p in survey.pages] == [
        ["ratings"],
        ["project_elevator", "elevator"],
        ["rectify", "rectify_other", "comments"],
        [
            "profile_note",
            "role",
            "age_band",
            "gender",
            "building",
            "floor_band",
            "tenure",
            "first_time",
        ],
    ]
    ratings = survey.question("ratings")
    assert (ratings.type, ratings.per_subject, ratings.choices, ratings.required) == (
        "grid",
        True,
        "satisfaction",
        True,
    )
    assert [(i.id, i.label.zh, i.allow_dont_know) for i in ratings.items] == [
        ("attitude", "工作态度", True),
        ("efficiency", "办事效率", True),
        ("transparency", "公开透明", True),
        ("responsiveness", "听取和回应意见", True),
        ("integrity", "公道廉洁", True),
        ("results", "工作成效", True),
        ("overall", "总体评价", False),
    ]
    elevator = survey.question("elevator")
    assert (elevator.type, elevator.per_subject, elevator.required) == ("grid", False, False)
    assert elevator.relevant == "${project_elevator} = 'yes'"
    assert [(i.id, i.label.zh) for i in elevator.items] == [
        ("build_quality", "施工质量"),
        ("schedule", "工期进度"),
        ("noise_dust", "噪音与扬尘控制"),
        ("daylight", "采光影响的处理"),
        ("cost_sharing", "费用分摊公平"),
        ("maintenance", "后期维护安排"),
    ]
    assert all(i.allow_dont_know for i in elevator.items)
    project = survey.question("project_elevator")
    assert (project.type, project.default, project.label.zh) == (
        "single",
        "no",
        "本次评议是否包括加装电梯项目？",
    )
    assert survey.scale(project).values == ("yes", "no")
    assert [c.label.zh for c in survey.scale(project).choices] == ["是", "否"]
    rectify = survey.question("rectify")
    assert (rectify.type, rectify.label.zh) == ("multiple", "需要整改的问题（可多选）")
    assert survey.scale(rectify).values == (
        "attitude_issue",
        "slow_response",
        "transparency_issue",
        "fairness_issue",
        "quality_issue",
        "safety_issue",
        "environment_issue",
        "other",
    )
    assert survey.question("rectify_other").relevant == "selected(${rectify}, 'other')"
    comments = survey.question("comments")
    assert (comments.type, comments.required, comments.label.zh) == ("text", False, "意见和建议")
    assert survey.question("profile_note").type == "note"
    expected_values = {
        "role": (
            "resident_rep",
            "party_member",
            "deputy",
            "owners_committee",
            "building_head",
            "other",
        ),
        "age_band": ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"),
        "gender": ("female", "male"),
        "floor_band": ("1-3", "4-6", "7+"),
        "tenure": ("owner", "renter"),
        "first_time": ("yes", "no"),
    }
    for qid, values in expected_values.items():
        question = survey.question(qid)
        assert question.type == "single" and not question.required
        assert survey.scale(question).values == values, qid
    labels = {c.value: c.label.zh for c in survey.scale(survey.question("role")).choices}
    assert labels == {
        "resident_rep": "居民代表",
        "party_member": "党员",
        "deputy": "人大代表/政协委员",
        "owners_committee": "业委会成员",
        "building_head": "楼组长",
        "other": "其他",
    }
    building = survey.question("building")
    assert (building.type, building.constraint) == ("integer", ". >= 1 and . <= 200")
    names = [v.name for v in survey.variables(subjects=("juweihui", "wuye"))]
    assert names[:8] == [f"juweihui__{i.id}" for i in ratings.items] + ["wuye__attitude"]
    assert len(names) == 2 * 7 + 1 + 6 + 3 + 7


def test_hearing_and_coordination_shapes() -> None:
    hearing = _load("hearing")
    positions = hearing.question("positions")
    assert positions.type == "grid" and [i.id for i in positions.items] == [
        "option_1",
        "option_2",
        "option_3",
    ]
    assert hearing.scale(positions).values == ("support", "conditional", "oppose")
    assert hearing.scale(positions).dont_know_label == Text("还没想好", "Undecided")
    concerns = hearing.scale(hearing.question("concerns")).values
    assert {"daylight", "noise", "cost", "safety", "access"} <= set(concerns)
    assert {q.id for q in hearing.questions} >= {"affected", "floor_band", "role", "comments"}
    coordination = _load("coordination")
    assert coordination.scale(coordination.question("agreement")).values == (
        "yes",
        "partial",
        "no",
    )
    ratings = coordination.question("process_ratings")
    assert coordination.scale(ratings) == _load("evaluation").choice_lists["satisfaction"]
    assert [i.id for i in ratings.items] == ["process", "mediator", "information"]
    assert {q.id for q in coordination.questions} >= {
        "fairness",
        "accept_terms",
        "remaining_concerns",
        "party_role",
    }


def test_format_document_example_loads() -> None:
    text = (ROOT / "docs" / "instrument-format.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match is not None
    survey = loads_survey(match.group(1), source="docs/instrument-format.md")
    assert {q.type for q in survey.questions} == {
        "grid",
        "single",
        "integer",
        "multiple",
        "text",
        "date",
        "note",
    }


# --- the park instrument set (恳谈会 / 协商会 / 评议会 in office buildings and industrial parks) ------

PARK = {
    "park/park_consultation": "hearing",
    "park/park_negotiation": "coordination",
    "park/park_evaluation": "evaluation",
}
PARK_ROLES = {"企业代表", "白领（园区员工）", "园区管理方", "物业"}


def test_park_instruments_validate(capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = validate_files([f"surveys/{name}.yaml" for name in PARK])
    finally:
        os.chdir(cwd)
    assert code == 0
    assert capsys.readouterr().out.count(": ok (") == 3


@pytest.mark.parametrize("name", PARK)
def test_park_instruments_are_bilingual_with_enterprise_roles(name: str) -> None:
    survey = _load(name)
    assert survey.settings.kind == PARK[name] and survey.settings.anonymous
    assert survey.id == name.split("/")[1] and survey.version == "2026.1"
    missing = [where for where, text in _texts(survey) if not text.en]
    assert missing == []
    assert all(re.search(r"[\u4e00-\u9fff]", text.zh) for _, text in _texts(survey))
    roles = [q for q in survey.questions if q.id in ("role", "party_role")]
    assert len(roles) == 1
    labels = {c.label.zh for c in survey.choice_lists[roles[0].choices or ""].choices}
    assert labels >= PARK_ROLES
    relevant = [q for q in survey.questions if q.relevant]
    constrained = [q for q in survey.questions if q.constraint]
    assert relevant and constrained
    for q in constrained:
        assert parse(q.constraint or "").uses_current
        assert q.constraint_message is not None


def test_park_instruments_keep_the_ids_the_analysis_reads() -> None:
    """Park meetings are analysed like community ones: same option, agreement and rating ids."""
    consultation = {q.id: q for q in _load("park/park_consultation").questions}
    assert [i.id for i in consultation["positions"].items] == ["option_1", "option_2"]
    assert {"concerns", "affected", "floor_band"} <= set(consultation)
    negotiation = {q.id: q for q in _load("park/park_negotiation").questions}
    assert [i.id for i in negotiation["process_ratings"].items] == [
        "process",
        "mediator",
        "information",
    ]
    assert "agreement" in negotiation
    evaluation = {q.id: q for q in _load("park/park_evaluation").questions}
    assert evaluation["ratings"].per_subject
    assert evaluation["ratings"].items[-1].id == "overall"
