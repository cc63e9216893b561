"""Tests of toolkit/instrument/loader.py: the YAML instrument format and its located errors."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.loader import (
    MAX_FILE_BYTES,
    check_id,
    load_survey,
    loads_survey,
    validate_files,
)
from toolkit.instrument.model import DONT_KNOW_LABEL_ZH, QUESTION_TYPES, Choice, GridItem, Text
from toolkit.instrument.schema import PAGE_FIELDS, QUESTION_FIELDS

ROOT = Path(__file__).resolve().parents[1]
SRC = "t.yaml"

HEAD = """\
settings:
  id: demo
  version: "1"
  title: {zh: 示例, en: Demo}
choices:
  sat:
    ordered: true
    choices:
      - {value: good, label: {zh: 好, en: Good}, points: 100}
      - {value: bad, label: 差, points: 0}
  yes_no:
    - {value: yes, label: 是}
    - {value: no, label: 否}
pages:
  - id: p1
    title: 第一页
    questions:
"""


def doc(questions: str, *, head: str = HEAD, tail: str = "") -> str:
    """A small instrument: ``questions`` (YAML, unindented) go on page `p1`."""
    body = textwrap.indent(textwrap.dedent(questions), " " * 6)
    return head + body + ("" if body.endswith("\n") else "\n") + tail


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def raised(text: str, source: str = SRC) -> list[Problem]:
    """The problems ``loads_survey`` reports for ``text`` (it must report at least one)."""
    with pytest.raises(InstrumentError) as info:
        loads_survey(text, source=source)
    assert info.value.problems, "an InstrumentError must carry at least one problem"
    return list(info.value.problems)


def codes(text: str) -> list[str | None]:
    """The stable codes of the problems (tests match codes, not wording)."""
    return [p.code for p in raised(text)]


def located(text: str, source: str = SRC) -> list[tuple[str | None, str]]:
    """``(code, where)`` of each problem: what went wrong and where, not how it is worded."""
    return [(p.code, p.where) for p in raised(text, source)]


def only(text: str) -> Problem:
    """The one problem reported for ``text``."""
    found = raised(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def only_located(text: str) -> tuple[str | None, str]:
    problem = only(text)
    return problem.code, problem.where


def only_problem(text: str) -> str:
    """The full text of the one problem: only for the few tests that pin a message's wording."""
    return str(only(text))


# --- every question type loads ------------------------------------------------------------------

ALL_TYPES = doc(
    """\
    - id: agree
      type: single
      choices: yes_no
      default: no
      required: true
      required_message: {zh: 请选择, en: Please choose}
      appearance: horizontal
      label: {zh: 同意吗？, en: "Agree?"}
      hint: 选一项
    - id: issues
      type: multiple
      choices:
        - {value: a, label: 甲}
        - {value: b, label: 乙}
      default: [a, b]
      label: 问题
    - id: rate
      type: grid
      choices: sat
      per_subject: true
      allow_dont_know: true
      required: true
      label: 评价
      items:
        - {id: attitude, label: {zh: 态度, en: Attitude}}
        - id: overall
          label: 总体
          hint: {zh: 总的来说, en: All in all}
          allow_dont_know: false
          required: false
    - id: plain
      type: grid
      choices: sat
      default: good
      label: 项目
      items:
        - {id: quality, label: 质量}
    - id: building
      type: integer
      relevant: ${agree} = 'yes'
      constraint: . >= 1 and . <= 200
      constraint_message: {zh: 1到200, en: 1 to 200}
      default: 3
      label: 楼号
    - id: share
      type: decimal
      default: 0.5
      constraint: . >= 0 and ${building} > 0
      label: 比例
    - id: comments
      type: text
      min_length: 2
      max_length: 300
      appearance: [multiline, large]
      label: 意见
    - id: when
      type: date
      default: 2026-03-01
      label: 日期
    - id: thanks
      type: note
      label: 谢谢
    """,
    tail="""\
  - id: p2
    title: {zh: 第二页, en: Page two}
    relevant: ${agree} = 'yes' and selected(${issues}, 'a') and ${quality} = 'good'
    questions:
      - {id: last, type: text, label: 最后}
""",
)


def test_every_question_type_loads() -> None:
    survey = loads_survey(ALL_TYPES, source=SRC)
    assert survey.source == SRC
    assert survey.settings.title == Text("示例", "Demo")
    assert [q.type for q in survey.questions] == [
        "single", "multiple", "grid", "grid", "integer", "decimal", "text", "date", "note", "text",
    ]  # fmt: skip
    agree = survey.question("agree")
    assert agree.default == "no" and agree.required and agree.appearance == ("horizontal",)
    assert agree.required_message == Text("请选择", "Please choose")
    assert agree.hint == Text("选一项") and agree.label == Text("同意吗？", "Agree?")
    assert agree.line == line_of(ALL_TYPES, "- id: agree")
    assert survey.scale(agree).values == ("yes", "no")  # `yes` stays text, not a boolean
    issues = survey.question("issues")
    assert issues.choices == "issues" and issues.default == "a b"
    assert survey.choice_lists["issues"].choices == (
        Choice("a", Text("甲")),
        Choice("b", Text("乙")),
    )
    rate = survey.question("rate")
    assert rate.per_subject and rate.required
    assert rate.items == (
        GridItem("attitude", Text("态度", "Attitude"), allow_dont_know=True),
        GridItem("overall", Text("总体"), Text("总的来说", "All in all"), False, False),
    )
    assert survey.question("plain").items[0].allow_dont_know is False
    scale = survey.choice_lists["sat"]
    assert scale.ordered and scale.values == ("good", "bad") and scale.choices[0].points == 100.0
    assert scale.dont_know_label.zh == DONT_KNOW_LABEL_ZH
    assert survey.question("building").constraint == ". >= 1 and . <= 200"
    assert survey.question("building").default == "3"
    assert survey.question("comments").appearance == ("multiline", "large")
    assert (survey.question("comments").min_length, survey.question("comments").max_length) == (
        2,
        300,
    )
    assert survey.question("when").default == "2026-03-01"
    assert survey.pages[1].relevant is not None and survey.pages[1].line == line_of(
        ALL_TYPES, "- id: p2"
    )
    names = [v.name for v in survey.variables(subjects=("wuye",))]
    assert names[:4] == ["agree", "issues", "wuye__attitude", "wuye__overall"]


def test_scalars_are_read_as_written() -> None:
    text = (
        HEAD.replace('version: "1"', "version: 2026.10") + "      - {id: q, type: note, label: 1}\n"
    )
    survey = loads_survey(text)
    assert survey.version == "2026.10"
    assert survey.question("q").label == Text("1")


def test_defaults_of_settings() -> None:
    survey = loads_survey(doc("- {id: q, type: note, label: 注}"))
    assert (survey.settings.kind, survey.settings.anonymous, survey.settings.default_language) == (
        "other",
        True,
        "zh",
    )
    assert survey.question("q").max_length == 2000


# --- located errors, one kind at a time ---------------------------------------------------------


def test_not_yaml() -> None:
    assert only_located("settings: [\n") == ("E_YAML_SYNTAX", "t.yaml, line 2, column 1")


def test_not_yaml_unquoted_question_mark_in_flow_mapping() -> None:
    text = doc("- {id: q, type: note, label: {zh: 好吗？, en: Is it?}}")
    line = line_of(text, "Is it?")
    column = text.splitlines()[line - 1].index("?") + 1
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_YAML_SYNTAX",
        f"t.yaml, line {line}, column {column}",
    )
    assert problem.fix is not None and "`?`" in problem.fix  # the fix names the culprit


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("", "E_EMPTY_FILE", "t.yaml"),
        ("- a\n- b\n", "E_NOT_A_MAPPING", "t.yaml, line 1"),
        ("just text\n", "E_NOT_A_MAPPING", "t.yaml, line 1"),
    ],
)
def test_wrong_top_level(text: str, code: str, where: str) -> None:
    assert only_located(text) == (code, where)


def test_missing_top_level_fields_and_unknown_top_key() -> None:
    found = raised("setings: {}\n")
    # `settings` is not also reported missing: the did-you-mean already says it
    assert [(p.code, p.where) for p in found] == [
        ("E_UNKNOWN_FIELD", "t.yaml, line 1, field `setings`"),
        ("E_MISSING_FIELD", "t.yaml, line 1"),
    ]
    assert found[0].fix is not None and "`settings`" in found[0].fix
    assert found[1].fix is not None and "`pages:" in found[1].fix


def test_missing_settings_fields() -> None:
    text = doc(
        "- {id: q, type: note, label: 注}", head=HEAD.replace('  id: demo\n  version: "1"\n', "")
    )
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        ("E_MISSING_FIELD", "t.yaml, line 2, settings")
    ] * 2
    # each fix says what to add
    assert "`id:" in (found[0].fix or "") and "`version:" in (found[1].fix or "")


def test_any_language_set_is_read() -> None:
    survey = loads_survey(doc("- {id: q, type: note, label: {en: Note, fr: Remarque}}"))
    label = survey.question("q").label
    assert label.get("zh") == "Note" and label.get("fr") == "Remarque"
    assert codes(doc("- {id: q, type: note, label: {en: '', fr: ''}}")) == ["E_NO_TEXT"]


def test_missing_label_and_type() -> None:
    text = doc("- id: q\n  hint: 提示\n")
    where = f"t.yaml, line {line_of(text, 'id: q')}, question `q`"
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [("E_MISSING_FIELD", where)] * 2
    assert "`type:" in (found[0].fix or "") and "`label:" in (found[1].fix or "")


def test_unknown_key_did_you_mean() -> None:
    text = doc("- id: q\n  type: note\n  label: 注\n  lable: 注\n")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_FIELD",
        f"t.yaml, line {line_of(text, 'lable')}, question `q`, field `lable`",
    )
    assert problem.fix is not None and "`label`" in problem.fix


def test_unknown_key_without_close_match_lists_fields() -> None:
    text = doc("- {id: q, type: note, label: 注, zzz: 1}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_FIELD",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `zzz`",
    )
    assert problem.fix is not None and ", ".join(QUESTION_FIELDS) in problem.fix


def test_unknown_question_type_did_you_mean() -> None:
    text = doc("- {id: q, type: singel, label: 问, choices: yes_no}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_TYPE",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `type`",
    )
    assert problem.fix is not None and "`single`" in problem.fix


def test_unknown_question_type_without_close_match() -> None:
    text = doc("- {id: q, type: slider, label: 问}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_TYPE",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `type`",
    )
    assert problem.fix is not None and ", ".join(QUESTION_TYPES) in problem.fix


def test_duplicate_question_ids_name_both_lines() -> None:
    text = doc("- {id: q, type: note, label: 一}\n- {id: q, type: note, label: 二}\n")
    first, second = line_of(text, "id: q"), line_of(text, "id: q", 2)
    # Pins the wording of one located message (place, problem, fix): most tests match codes, a
    # few, like this one, check that a message reads as the project's standard says it should.
    assert only_problem(text) == (
        f"t.yaml, line {second}, question `q`, field `id`: duplicate id `q`: also used on line "
        f"{first} (question `q`). Questions and grid items become variables, so each needs its "
        "own id."
    )


def test_duplicate_item_ids_and_item_clashing_with_question() -> None:
    text = doc(
        """\
        - {id: attitude, type: note, label: 注}
        - id: g
          type: grid
          choices: sat
          label: 评价
          items:
            - {id: attitude, label: 态度}
            - {id: speed, label: 效率}
            - {id: speed, label: 效率二}
        """
    )
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        (
            "E_DUPLICATE_ID",
            f"t.yaml, line {line_of(text, 'id: attitude', 2)}, question `g`, item `attitude`, "
            "field `id`",
        ),
        (
            "E_DUPLICATE_ID",
            f"t.yaml, line {line_of(text, 'id: speed', 2)}, question `g`, item `speed`, field `id`",
        ),
    ]
    # each names the line of the first use
    assert f"line {line_of(text, 'id: attitude')}" in found[0].message
    assert f"line {line_of(text, 'id: speed')}" in found[1].message


def test_duplicate_page_ids() -> None:
    text = doc(
        "- {id: q, type: note, label: 注}",
        tail="  - id: p1\n    title: 又一页\n    questions:\n      - {id: r, type: note, label: 注}\n",
    )
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_DUPLICATE_PAGE",
        f"t.yaml, line {line_of(text, 'id: p1', 2)}, page `p1`, field `id`",
    )
    assert f"line {line_of(text, 'id: p1')}" in problem.message


def test_duplicate_choice_values_and_lists() -> None:
    head = HEAD.replace("  yes_no:\n", "  sat: [{value: x, label: x}]\n  yes_no:\n").replace(
        "    - {value: no, label: 否}",
        "    - {value: no, label: 否}\n    - {value: yes, label: 对}",
    )
    text = doc("- {id: q, type: note, label: 注}", head=head)
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        ("E_DUPLICATE_CHOICE_LIST", f"t.yaml, line {line_of(text, 'sat: [')}, choice list `sat`"),
        (
            "E_DUPLICATE_CHOICE",
            f"t.yaml, line {line_of(text, 'label: 对')}, choice list `yes_no`, choice `yes`, "
            "field `value`",
        ),
    ]
    assert f"line {line_of(text, 'sat:')}" in found[0].message
    assert f"line {line_of(text, 'value: yes')}" in found[1].message


@pytest.mark.parametrize(
    ("qid", "reason"),
    [
        ("2nd", "not a valid id"),
        ("q-1", "not a valid id"),
        ("问题", "not a valid id"),
        ("a" * 33, "32 characters"),
        ("wuye__attitude", "`__`"),
    ],
)
def test_invalid_ids(qid: str, reason: str) -> None:
    text = doc(f"- {{id: '{qid}', type: note, label: 注}}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_BAD_ID",
        f"t.yaml, line {line_of(text, 'type: note')}, question `{qid}`, field `id`",
    )
    # the loader reports what check_id says, and check_id says which rule the id breaks
    message = check_id(qid)
    assert message is not None and reason in message
    assert problem.message == message
    assert check_id("a" * 32) is None and check_id("_x1") is None


def test_invalid_ids_of_pages_items_and_lists() -> None:
    head = HEAD.replace("  yes_no:\n", "  Yes-No:\n")
    text = doc(
        "- {id: g, type: grid, choices: sat, label: 评, items: [{id: 1a, label: 一}]}",
        head=head.replace("  - id: p1\n", "  - id: p__1\n"),
    )
    assert located(text) == [
        ("E_BAD_ID", f"t.yaml, line {line_of(text, 'Yes-No')}, choice list `Yes-No`"),
        ("E_BAD_ID", f"t.yaml, line {line_of(text, 'p__1')}, page `p__1`, field `id`"),
        ("E_BAD_ID", f"t.yaml, line {line_of(text, '1a')}, question `g`, item `1a`, field `id`"),
    ]


def test_choice_list_not_defined() -> None:
    text = doc("- {id: q, type: single, label: 问, choices: yesno}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_UNKNOWN_CHOICE_LIST",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`",
    )
    assert problem.fix is not None and "`yes_no`" in problem.fix


def test_choice_list_missing_on_a_choice_question() -> None:
    text = doc("- {id: q, type: multiple, label: 问}")
    assert only_located(text) == (
        "E_MISSING_CHOICES",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`",
    )


def test_empty_choice_lists() -> None:
    head = HEAD.replace(
        "  yes_no:\n", "  empty: []\n  nothing:\n    ordered: true\n    choices:\n  yes_no:\n"
    )
    text = doc("- {id: q, type: single, label: 问, choices: []}", head=head)
    assert located(text) == [
        (
            "E_EMPTY_CHOICE_LIST",
            f"t.yaml, line {line_of(text, 'empty: []')}, choice list `empty`, field `choices`",
        ),
        (
            "E_EMPTY_CHOICE_LIST",
            f"t.yaml, line {line_of(text, '    choices:', 2)}, choice list `nothing`, field "
            "`choices`",
        ),
        (
            "E_EMPTY_CHOICE_LIST",
            f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`",
        ),
    ]


def test_grid_without_items() -> None:
    text = doc(
        "- {id: g, type: grid, label: 评, choices: sat}\n- {id: h, type: grid, label: 评, choices: sat, items: []}\n"
    )
    assert located(text) == [
        ("E_EMPTY_GRID", f"t.yaml, line {line_of(text, 'id: g')}, question `g`, field `items`"),
        ("E_EMPTY_GRID", f"t.yaml, line {line_of(text, 'id: h')}, question `h`, field `items`"),
    ]


def test_per_subject_on_a_non_grid() -> None:
    text = doc("- {id: q, type: single, label: 问, choices: yes_no, per_subject: true}")
    assert only_located(text) == (
        "E_FIELD_NOT_FOR_TYPE",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `per_subject`",
    )


def test_field_of_another_type() -> None:
    text = doc("- {id: q, type: integer, label: 问, items: [], max_length: 3}")
    where = f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field "
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        ("E_FIELD_NOT_FOR_TYPE", where + "`items`"),
        ("E_FIELD_NOT_FOR_TYPE", where + "`max_length`"),
    ]
    # the fix names the type the field is for
    assert found[0].fix is not None and "`grid`" in found[0].fix
    assert found[1].fix is not None and "`text`" in found[1].fix


def test_expression_that_does_not_parse() -> None:
    text = doc("- {id: q, type: integer, label: 问, constraint: '. >'}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_EXPRESSION_SYNTAX",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `constraint`",
    )
    assert "at character 3" in problem.message  # the place inside the expression


@pytest.mark.parametrize(
    ("expression", "code"),
    [("1" * 2001, "E_TOO_LONG"), ("(" * 60 + "1" + ")" * 60, "E_TOO_DEEP")],
)
def test_expression_beyond_the_parser_limits(expression: str, code: str) -> None:
    """The loader keeps the parser's code, and puts the problem at the field."""
    text = doc(f"- {{id: q, type: integer, label: 问, constraint: '{expression}'}}")
    problem = only(text)
    assert (problem.code, problem.where, problem.field) == (
        code,
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `constraint`",
        "q",
    )


def test_unknown_reference_did_you_mean() -> None:
    text = doc(
        """\
        - {id: attitude, type: single, label: 态度, choices: sat}
        - id: overall
          type: single
          label: 总体
          choices: sat
          relevant: ${atitude} = 'good'
        """
    )
    # Pins the wording of one located message (place, problem, fix), the example of
    # toolkit/errors.py: most tests match codes, a few check how a message reads.
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'relevant')}, question `overall`, field `relevant`: unknown "
        "question `${atitude}`. Did you mean `attitude`?"
    )
    assert codes(text) == ["E_UNKNOWN_REFERENCE"]


def test_reference_to_a_later_question() -> None:
    text = doc(
        """\
        - {id: first, type: text, label: 一, relevant: "${second} = 'x'"}
        - {id: second, type: text, label: 二}
        """
    )
    # Pins the wording of one located message (place, problem, fix): most tests match codes, a
    # few, like this one, check that a message names the other place and says what to do.
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: first')}, question `first`, field `relevant`: "
        f"`${{second}}` comes later in the instrument (line {line_of(text, 'id: second')}); "
        "relevance can only look back at earlier questions. Move `second` before this question, "
        "or drop the reference."
    )
    assert codes(text) == ["E_FORWARD_REFERENCE"]


def test_constraint_may_use_the_question_itself_but_not_later_ones() -> None:
    ok = doc("- {id: n, type: integer, label: 数, constraint: '. > 0 and ${n} < 10'}")
    assert loads_survey(ok).question("n").constraint == ". > 0 and ${n} < 10"
    text = doc(
        """\
        - {id: low, type: integer, label: 下限, constraint: ". < ${high}"}
        - {id: high, type: integer, label: 上限, constraint: ". > ${low}"}
        """
    )
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_FORWARD_REFERENCE",
        f"t.yaml, line {line_of(text, 'id: low')}, question `low`, field `constraint`",
    )
    assert f"line {line_of(text, 'id: high')}" in problem.message


def test_relevance_on_the_question_itself_and_dot_in_relevant() -> None:
    text = doc("- {id: q, type: integer, label: 数, relevant: '. > 1 or ${q} > 2'}")
    where = f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `relevant`"
    assert located(text) == [("E_DOT_OUTSIDE_CONSTRAINT", where), ("E_SELF_REFERENCE", where)]


def test_references_to_per_subject_items_grids_and_notes() -> None:
    text = doc(
        """\
        - {id: hello, type: note, label: 你好}
        - id: rate
          type: grid
          choices: sat
          per_subject: true
          label: 评价
          items: [{id: attitude, label: 态度}]
        - id: plain
          type: grid
          choices: sat
          label: 项目
          items: [{id: quality, label: 质量}]
        - id: q
          type: text
          label: 问
          relevant: ${attitude} = 'bad' or ${rate} = 'bad' or ${hello} = 1 or ${quality} = 'bad'
        """
    )
    where = f"t.yaml, line {line_of(text, 'relevant')}, question `q`, field `relevant`"
    # `${quality}`, an item of a grid that is not per subject, is fine
    assert located(text) == [
        ("E_REFERENCE_TO_SUBJECT_ITEM", where),
        ("E_REFERENCE_TO_NOTE", where),
        ("E_REFERENCE_TO_GRID", where),
    ]


def test_page_relevance_looks_back_only() -> None:
    text = doc(
        "- {id: a, type: text, label: 一}",
        tail="""\
  - id: p2
    title: 二
    relevant: ${a} = 'x' and ${b} = 'y'
    questions:
      - {id: b, type: text, label: 二}
""",
    )
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_FORWARD_REFERENCE",
        f"t.yaml, line {line_of(text, 'relevant')}, page `p2`, field `relevant`",
    )
    assert "`${b}`" in problem.message and f"line {line_of(text, 'id: b')}" in problem.message


@pytest.mark.parametrize(
    "question",
    [
        "{id: q, type: single, label: 问, choices: yes_no, default: maybe}",
        "{id: q, type: single, label: 问, choices: sat, default: goood}",
        "{id: q, type: multiple, label: 问, choices: yes_no, default: [yes, nope]}",
        "{id: q, type: multiple, label: 问, choices: yes_no, default: yes yes}",
        "{id: q, type: grid, label: 问, choices: sat, default: dont_know, items: [{id: i, label: 一}]}",
        "{id: q, type: integer, label: 问, default: 1.5}",
        "{id: q, type: decimal, label: 问, default: many}",
        "{id: q, type: date, label: 问, default: 2026-02-30}",
        "{id: q, type: text, label: 问, max_length: 3, default: toolong}",
    ],
)  # fmt: skip
def test_invalid_defaults(question: str) -> None:
    text = doc(f"- {question}")
    assert only_located(text) == (
        "E_BAD_DEFAULT",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `default`",
    )


@pytest.mark.parametrize(
    ("question", "field", "code"),
    [
        ("{id: q, type: text, label: 问, required: maybe}", "required", "E_NOT_A_BOOLEAN"),
        ("{id: q, type: text, label: 问, max_length: 0}", "max_length", "E_NOT_AN_INTEGER"),
        ("{id: q, type: text, label: 问, min_length: 5, max_length: 4}", "min_length",
         "E_BAD_LENGTHS"),
        ("{id: q, type: text, label: [问]}", "label", "E_NOT_TEXT"),
        ("{id: q, type: text, label: {zh: 问, 'a:b': Question}}", "label", "E_BAD_LANGUAGE"),
        ("{id: q, type: text, label: '  '}", "label", "E_EMPTY_VALUE"),
        ("{id: q, type: text, label: 问, constraint_message: 错}", "constraint_message",
         "E_MESSAGE_WITHOUT_RULE"),
        ("{id: q, type: text, label: 问, required_message: 必填}", "required_message",
         "E_MESSAGE_WITHOUT_RULE"),
        ("{id: q, type: text, label: 问, appearance: {big: true}}", "appearance",
         "E_BAD_APPEARANCE"),
        ("{id: q, type: text, label: 问, relevant: [a]}", "relevant", "E_NOT_TEXT"),
    ],
)  # fmt: skip
def test_wrong_field_values(question: str, field: str, code: str) -> None:
    text = doc(f"- {question}")
    assert only_located(text) == (
        code,
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `{field}`",
    )


def test_settings_values() -> None:
    head = HEAD.replace('version: "1"', 'version: "1 0"\n  kind: evalution\n  anonymous: 1')
    text = doc("- {id: q, type: note, label: 注}", head=head)
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        ("E_BAD_VERSION", "t.yaml, line 3, settings, field `version`"),
        ("E_BAD_OPTION", "t.yaml, line 4, settings, field `kind`"),
        ("E_NOT_A_BOOLEAN", "t.yaml, line 5, settings, field `anonymous`"),
    ]
    assert found[1].fix is not None and "`evaluation`" in found[1].fix


def test_choice_values_and_points() -> None:
    head = HEAD.replace("points: 0}", "points: lots}").replace("value: no,", "value: 'n o',")
    text = doc("- {id: q, type: note, label: 注}", head=head)
    assert located(text) == [
        (
            "E_NOT_A_NUMBER",
            f"t.yaml, line {line_of(text, 'lots')}, choice list `sat`, choice `bad`, field `points`",
        ),
        (
            "E_BAD_CHOICE_VALUE",
            f"t.yaml, line {line_of(text, 'n o')}, choice list `yes_no`, choice `n o`, field "
            "`value`",
        ),
    ]


def test_dont_know_is_reserved_in_grids_that_offer_it() -> None:
    head = HEAD.replace("    - {value: no, label: 否}", "    - {value: dont_know, label: 不知道}")
    text = doc(
        "- {id: g, type: grid, choices: yes_no, allow_dont_know: true, label: 评, "
        "items: [{id: i, label: 一}]}",
        head=head,
    )
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_RESERVED_CHOICE",
        f"t.yaml, line {line_of(text, 'id: g')}, question `g`, field `choices`",
    )
    assert problem.fix is not None and "`allow_dont_know: true`" in problem.fix


def test_repeated_yaml_key() -> None:
    text = doc("- id: q\n  type: note\n  label: 一\n  label: 二\n")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_DUPLICATE_FIELD",
        f"t.yaml, line {line_of(text, 'label: 二')}, question `q`, field `label`",
    )
    assert f"line {line_of(text, 'label: 一')}" in problem.message


def test_inline_choices_clash_with_a_named_list() -> None:
    text = doc("- {id: sat, type: single, label: 问, choices: [{value: a, label: 甲}]}")
    problem = only(text)
    assert (problem.code, problem.where) == (
        "E_DUPLICATE_CHOICE_LIST",
        f"t.yaml, line {line_of(text, 'id: sat')}, question `sat`, field `choices`",
    )
    assert f"line {line_of(text, 'sat:')}" in problem.message


def test_structure_errors() -> None:
    text = doc(
        "- just a string\n- {id: q, type: note, label: 注}",
        tail="  - 5\n  - {id: p3, title: 三, questions: []}\n",
    )
    found = raised(text)
    assert [(p.code, p.where) for p in found] == [
        (
            "E_NOT_A_MAPPING",
            f"t.yaml, line {line_of(text, 'just a string')}, question 1 of page `p1`",
        ),
        ("E_NOT_A_MAPPING", f"t.yaml, line {line_of(text, '  - 5')}, page 2"),
        ("E_EMPTY_PAGE", f"t.yaml, line {line_of(text, 'p3')}, page `p3`, field `questions`"),
    ]
    # a mapping of the wrong shape lists the fields it may have
    assert found[0].fix is not None and ", ".join(QUESTION_FIELDS) in found[0].fix
    assert found[1].fix is not None and ", ".join(PAGE_FIELDS) in found[1].fix


# --- many problems at once ----------------------------------------------------------------------


def test_many_problems_reported_together() -> None:
    text = doc(
        """\
        - {id: attitude, type: single, label: 态度, choices: sat}
        - {id: overall, type: singel, lable: 总体}
        - {id: q3, type: single, label: 三, choices: satt, relevant: "${atitude} = 'good'"}
        - {id: q3, type: text, label: {en: Four}, per_subject: true}
        - {id: q5, type: integer, label: 五, default: abc, constraint: ". >"}
        """
    )
    with pytest.raises(InstrumentError) as info:
        loads_survey(text, source="surveys/bad.yaml")
    at = "surveys/bad.yaml, line {}, question `{}`, field `{}`"
    line = {q: line_of(text, f"id: {q},") for q in ("overall", "q3", "q5")}
    second_q3 = line_of(text, "id: q3,", 2)
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("E_UNKNOWN_FIELD", at.format(line["overall"], "overall", "lable")),
        ("E_UNKNOWN_TYPE", at.format(line["overall"], "overall", "type")),
        ("E_UNKNOWN_CHOICE_LIST", at.format(line["q3"], "q3", "choices")),
        ("E_UNKNOWN_REFERENCE", at.format(line["q3"], "q3", "relevant")),
        ("E_DUPLICATE_ID", at.format(second_q3, "q3", "id")),
        ("E_FIELD_NOT_FOR_TYPE", at.format(second_q3, "q3", "per_subject")),
        ("E_BAD_DEFAULT", at.format(line["q5"], "q5", "default")),
        ("E_EXPRESSION_SYNTAX", at.format(line["q5"], "q5", "constraint")),
    ]
    assert [p.field for p in info.value.problems] == ["overall"] * 2 + ["q3"] * 4 + ["q5"] * 2
    # the error lists every problem, one a line, under a head line naming the file and the count
    head, *lines = str(info.value).splitlines()
    assert head.startswith("surveys/bad.yaml: 8 problems found")
    assert lines == [f"  - {p}" for p in info.value.problems]


def test_problem_listing_is_bounded() -> None:
    questions = "".join(f"- {{id: q{i}, type: nope, label: 问}}\n" for i in range(150))
    found = raised(doc(questions))
    assert len(found) == 101
    assert {p.code for p in found[:100]} == {"E_UNKNOWN_TYPE"}
    assert (found[-1].code, found[-1].where) == ("E_MORE", "t.yaml")
    assert "50" in found[-1].message  # how many more


# --- untrusted input ----------------------------------------------------------------------------


def test_billion_laughs_is_refused() -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 10):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    # Pins the wording of one located message (place, problem, fix): most tests match codes, a
    # few, like this one, check that a refusal says why and what to write instead.
    assert only_problem(bomb) == (
        "t.yaml, line 2: YAML aliases (`*a`) are not allowed in instruments. Write the value out "
        "in full; shared answer scales go under `choices:`."
    )
    assert codes(bomb) == ["E_YAML_ALIAS"]


def test_deep_nesting_is_refused() -> None:
    assert only_located("a: " + "[" * 5000 + "]" * 5000) == ("E_TOO_DEEP", "t.yaml, line 1")


def test_size_is_bounded(tmp_path: Path) -> None:
    big = "# " + "x" * MAX_FILE_BYTES + "\n"
    problem = only(big)
    assert (problem.code, problem.where) == ("E_TOO_LARGE", "t.yaml")
    assert f"{len(big.encode()):,}" in problem.message and f"{MAX_FILE_BYTES:,}" in problem.message
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_survey(path)
    assert [(p.code, p.where) for p in info.value.problems] == [("E_TOO_LARGE", str(path))]


def test_python_tags_are_never_constructed() -> None:
    text = doc("- {id: q, type: note, label: !!python/object/apply:os.system ['echo hi']}")
    assert only_located(text) == (
        "E_NOT_TEXT",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `label`",
    )


def test_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(InstrumentError) as info:
        load_survey(missing)
    assert [(p.code, p.where) for p in info.value.problems] == [("E_UNREADABLE", str(missing))]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"settings:\n  title: caf\xe9\n")
    with pytest.raises(InstrumentError) as info:
        load_survey(latin)
    assert [(p.code, p.where) for p in info.value.problems] == [("E_NOT_UTF8", f"{latin}, line 2")]
    bom = tmp_path / "bom.yaml"
    bom.write_bytes("\ufeff".encode() + ALL_TYPES.encode())
    assert load_survey(bom).source == str(bom)
    with pytest.raises(InstrumentError) as info:
        loads_survey(b"settings:")  # type: ignore[arg-type]
    assert [p.code for p in info.value.problems] == ["E_NOT_TEXT"]


def test_validate_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(ALL_TYPES, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad_text = doc("- {id: q, type: nope, label: 问}")
    bad.write_text(bad_text, encoding="utf-8")
    assert validate_files([good]) == 0
    assert capsys.readouterr().out == f"{good}: ok (demo 1, 2 pages, 10 questions)\n"
    assert validate_files([good, bad]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{good}: ok (demo 1, 2 pages, 10 questions)\n"
    assert captured.err.startswith(f"{bad}: 1 problem found")
    # the listing shows the problem itself, as the loader reports it
    (problem,) = raised(bad_text, source=str(bad))
    assert problem.code == "E_UNKNOWN_TYPE"
    assert f"  - {problem}\n" in captured.err


# --- hypothesis: hostile input raises only InstrumentError --------------------------------------

EVALUATION_TREE = yaml.safe_load((ROOT / "surveys" / "evaluation.yaml").read_text(encoding="utf-8"))
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["id", "type", "grid", "label", "zh", "choices", "items", "${x}", ".", "yes"])
)
_keys = st.sampled_from(
    ["settings", "pages", "choices", "id", "type", "label", "questions", "items", "value", "zh"]
) | st.text(max_size=8)
_trees = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=25,
)


def _accepts_or_explains(text: str) -> None:
    try:
        loads_survey(text, source="fuzz.yaml")
    except InstrumentError as exc:
        assert exc.problems
        assert all(str(p) for p in exc.problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_random_yaml_documents_raise_only_instrument_errors(tree: Any) -> None:
    _accepts_or_explains(yaml.safe_dump(tree, allow_unicode=True))


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-{}[]&*!|>'\"#\n ?,.${}测%@`")), max_size=80))
def test_random_text_raises_only_instrument_errors(text: str) -> None:
    _accepts_or_explains(text)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(tree: Any, data: st.DataObject) -> Any:
    paths = _paths(tree)[1:]
    path = data.draw(st.sampled_from(paths))
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    action = data.draw(st.sampled_from(["delete", "replace", "rename", "duplicate"]))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = data.draw(_trees)
    elif action == "rename" and isinstance(parent, dict):
        new = data.draw(_keys | st.just(str(last)[:-1] or "x") | st.just(f"{last}s"))
        parent[new] = parent.pop(last)
    elif isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = [parent[last], parent[last]]
    return tree


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutations_of_a_valid_instrument_raise_only_instrument_errors(data: st.DataObject) -> None:
    tree = copy.deepcopy(EVALUATION_TREE)
    for _ in range(data.draw(st.integers(1, 3))):
        tree = _mutate(tree, data)
    _accepts_or_explains(yaml.dump(tree, Dumper=_DUMPER, allow_unicode=True, sort_keys=False))
