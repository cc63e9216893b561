"""Tests of toolkit/instrument/dumper.py: dump_survey writes text that loads back equal."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.errors import InstrumentError
from toolkit.instrument.dumper import dump_survey, survey_to_document
from toolkit.instrument.loader import load_survey, loads_survey
from toolkit.instrument.model import (
    QUESTION_TYPES,
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["evaluation", "hearing", "coordination"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instruments_round_trip(name: str) -> None:
    survey = load_survey(ROOT / "surveys" / f"{name}.yaml")
    text = dump_survey(survey)
    again = loads_survey(text)
    assert again == survey
    assert again.content_hash == survey.content_hash
    assert dump_survey(again) == text  # stable: dumping twice gives the same text


def test_dump_is_readable_yaml() -> None:
    text = dump_survey(load_survey(ROOT / "surveys" / "evaluation.yaml"))
    assert text.startswith("# sanhui instrument (format: docs/instrument-format.md)\nsettings:\n")
    assert "  - {value: satisfied, label: {zh: 满意, en: Satisfied}, points: 100}\n" in text
    assert "    relevant: ${project_elevator} = 'yes'\n" in text
    assert "&" not in text and "*" not in text  # no anchors or aliases
    assert "\\u" not in text  # Chinese written as is


def test_inline_choice_lists_stay_inline() -> None:
    text = """\
settings: {id: s, version: "1", title: 标题}
pages:
  - id: p
    title: 页
    questions:
      - {id: pick, type: multiple, label: 选, choices: {ordered: true, choices: [{value: a, label: 甲}]}}
"""
    survey = loads_survey(text)
    document = survey_to_document(survey)
    assert "choices" not in document
    assert document["pages"][0]["questions"][0]["choices"] == {
        "ordered": True,
        "choices": [{"value": "a", "label": "甲"}],
    }
    assert loads_survey(dump_survey(survey)) == survey


def test_multiline_text_and_special_characters() -> None:
    label = Text("第一行\n第二行：冒号 # 井号", "Line one\nline two: a colon, a ? and a 'quote'")
    hint = Text("  leading spaces", "NEL\x85, CR\r\n and LS\u2028 are YAML line breaks")
    question = Question("q", "text", label, hint=hint, default="yes")
    survey = Survey(
        Settings("s", "2026.10", Text("标题")), (Page("p", Text("页"), (question,)),), {}
    )
    text = dump_survey(survey)
    assert "version: '2026.10'" in text
    assert loads_survey(text) == survey


def refusal(survey: Survey) -> tuple[str | None, str]:
    """The code of the one problem ``dump_survey`` refuses ``survey`` for, and its place in the
    dump without the line number (which depends on the layout of the dump)."""
    with pytest.raises(InstrumentError) as info:
        dump_survey(survey)
    (problem,) = info.value.problems
    dump, line, place = problem.where.split(", ", 2)
    assert dump == "<dump of s 1>" and line.startswith("line "), problem.where
    return problem.code, place


def test_unrepresentable_survey_is_refused() -> None:
    bad = Question("bad id", "text", Text("问"))
    survey = Survey(Settings("s", "1", Text("标题")), (Page("p", Text("页"), (bad,)),), {})
    assert refusal(survey) == ("E_BAD_ID", "question `bad id`, field `id`")
    assert "id: bad id" in dump_survey(survey, check=False)
    odd = Question("n", "integer", Text("数"), max_length=10)  # a text bound on an integer
    survey = Survey(Settings("s", "1", Text("标题")), (Page("p", Text("页"), (odd,)),), {})
    assert refusal(survey) == ("E_FIELD_NOT_FOR_TYPE", "question `n`, field `max_length`")
    hidden = Choice("a", Text("甲"), points=float("nan"))  # loads as a problem, not silently
    scale = ChoiceList("l", (hidden,))
    single = Question("s", "single", Text("单"), choices="l")
    survey = Survey(
        Settings("s", "1", Text("标题")), (Page("p", Text("页"), (single,)),), {"l": scale}
    )
    assert refusal(survey) == ("E_NOT_A_NUMBER", "choice list `l`, choice `a`, field `points`")
    # loads without a problem, but not as the same survey: an empty appearance word is dropped
    blank = Question("q", "text", Text("问"), appearance=("",))
    survey = Survey(Settings("s", "1", Text("标题")), (Page("p", Text("页"), (blank,)),), {})
    with pytest.raises(InstrumentError) as info:
        dump_survey(survey)
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("E_UNREPRESENTABLE", "<dump of s 1>")
    ]


# --- hypothesis: any valid survey round-trips ----------------------------------------------------

_ids = st.from_regex(r"[a-z](?:_?[a-z0-9]){0,9}", fullmatch=True)
_values = st.from_regex(r"[a-z0-9][a-z0-9+-]{0,5}", fullmatch=True)
_chars = st.characters(exclude_categories=("Cs",))
_zh = st.text(_chars, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_texts = st.builds(Text, _zh, st.none() | st.text(_chars, max_size=12))
_words = st.lists(st.sampled_from(["horizontal", "multiline", "minimal", "big"]), max_size=2)


@st.composite
def surveys(draw: st.DrawFn) -> Survey:
    lists: dict[str, ChoiceList] = {}
    for list_id in draw(st.lists(_ids, min_size=1, max_size=3, unique=True)):
        values = draw(st.lists(_values, min_size=1, max_size=4, unique=True))
        points = st.none() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 100)
        choices = tuple(Choice(v, draw(_texts), draw(points)) for v in values)
        dont_know = draw(st.sampled_from([ChoiceList("x", ()).dont_know_label, Text("没想好")]))
        lists[list_id] = ChoiceList(list_id, choices, draw(st.booleans()), dont_know)
    count = draw(st.integers(1, 8))
    pool = iter(draw(st.lists(_ids, min_size=4 * count, max_size=4 * count, unique=True)))
    usable: list[str] = []  # variables earlier questions may refer to
    questions: list[Question] = []
    for _ in range(count):
        qid = next(pool)
        qtype = draw(st.sampled_from(QUESTION_TYPES))
        fields: dict = {"hint": draw(st.none() | _texts), "appearance": tuple(draw(_words))}
        if usable and draw(st.booleans()):
            fields["relevant"] = f"${{{draw(st.sampled_from(usable))}}} = 'x'"
        if qtype != "note":
            fields["required"] = draw(st.booleans())
            if fields["required"]:
                fields["required_message"] = draw(st.none() | _texts)
        if qtype not in ("note", "grid") and draw(st.booleans()):
            fields["constraint"] = f". != '' or ${{{qid}}} = 1"
            fields["constraint_message"] = draw(st.none() | _texts)
        items: tuple[GridItem, ...] = ()
        if qtype in ("single", "multiple", "grid"):
            if qtype != "grid" and draw(st.booleans()):  # an inline list named after the question
                lists[qid] = ChoiceList(qid, (Choice("a", Text("甲")), Choice("b", Text("乙"))))
                fields["choices"] = qid
            else:
                fields["choices"] = draw(st.sampled_from(sorted(lists)))
            values = lists[fields["choices"]].values
            if qtype == "multiple":
                chosen = draw(st.lists(st.sampled_from(values), unique=True, max_size=2))
                fields["default"] = " ".join(chosen) if chosen else None
            else:
                fields["default"] = draw(st.none() | st.sampled_from(values))
        if qtype == "grid":
            fields["per_subject"] = draw(st.booleans())
            items = tuple(
                GridItem(
                    next(pool),
                    draw(_texts),
                    draw(st.none() | _texts),
                    draw(st.booleans()),
                    draw(st.sampled_from([None, True, False])),
                )
                for _ in range(draw(st.integers(1, 3)))
            )
            if not fields["per_subject"]:
                usable += [item.id for item in items]
        elif qtype == "integer":
            fields["default"] = draw(st.none() | st.integers(-5, 5).map(str))
        elif qtype == "decimal":
            fields["default"] = draw(st.sampled_from([None, "1.5", "-2", "0.25"]))
        elif qtype == "date":
            fields["default"] = draw(st.sampled_from([None, "2026-01-31", "1999-12-31"]))
        elif qtype == "text":
            fields["min_length"] = draw(st.none() | st.integers(0, 3))
            fields["max_length"] = draw(st.integers(3, 3000))
            fields["default"] = draw(st.none() | st.text(_chars, max_size=3))
        if qtype != "note" and qtype != "grid":
            usable.append(qid)
        questions.append(Question(qid, qtype, draw(_texts), items=items, **fields))
    pages: list[Page] = []
    cuts = sorted(draw(st.sets(st.integers(1, count - 1), max_size=2))) if count > 1 else []
    bounds = [0, *cuts, count]
    for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
        earlier = [q.id for q in questions[:start] if q.type not in ("note", "grid")]
        relevant = f"${{{earlier[0]}}} != ''" if earlier and draw(st.booleans()) else None
        page_id = f"page{number}"
        pages.append(Page(page_id, draw(_texts), tuple(questions[start:stop]), relevant))
    meta = Settings(
        draw(_ids),
        draw(st.from_regex(r"[0-9A-Za-z.+-]{1,12}", fullmatch=True)),
        draw(_texts),
        draw(st.sampled_from(["zh", "en"])),
        draw(st.booleans()),
        draw(st.sampled_from(["evaluation", "hearing", "coordination", "other"])),
        draw(st.none() | _texts),
    )
    return Survey(meta, tuple(pages), lists)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surveys())
def test_generated_surveys_round_trip(survey: Survey) -> None:
    text = dump_survey(survey, check=False)
    assert loads_survey(text) == survey
