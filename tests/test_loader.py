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

from toolkit.errors import InstrumentError
from toolkit.instrument.loader import (
    MAX_FILE_BYTES,
    check_id,
    load_survey,
    loads_survey,
    validate_files,
)
from toolkit.instrument.model import DONT_KNOW_LABEL_ZH, Choice, GridItem, Text

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


def problems(text: str, source: str = SRC) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        loads_survey(text, source=source)
    assert info.value.problems, "an InstrumentError must carry at least one problem"
    return [str(p) for p in info.value.problems]


def only_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


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
    assert only_problem("settings: [\n") == (
        "t.yaml, line 2, column 1: not valid YAML (while parsing a flow node: expected the node "
        "content, but found '<stream end>'). Check the indentation and quoting here: text needs "
        "quotes if it contains `: ` or ` #`, starts with a special character, or sits inside "
        "`{...}` and contains `,` `?` `[` `]` `{` `}`."
    )


def test_not_yaml_unquoted_question_mark_in_flow_mapping() -> None:
    text = doc("- {id: q, type: note, label: {zh: 好吗？, en: Is it?}}")
    found = only_problem(text)
    assert found.startswith(f"t.yaml, line {line_of(text, 'Is it?')}, column ")
    assert "expected ',' or '}', but got '?'" in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "t.yaml: the file is empty. An instrument needs `settings:` and `pages:`; see "
         "docs/instrument-format.md."),
        ("- a\n- b\n", "t.yaml, line 1: the top level must be a mapping with `settings`, "
         "`choices` and `pages`; got a list. See docs/instrument-format.md for a complete example."),
        ("just text\n", "t.yaml, line 1: the top level must be a mapping with `settings`, "
         "`choices` and `pages`; got `just text`. See docs/instrument-format.md for a complete "
         "example."),
    ],
)  # fmt: skip
def test_wrong_top_level(text: str, expected: str) -> None:
    assert only_problem(text) == expected


def test_missing_top_level_fields_and_unknown_top_key() -> None:
    assert problems("setings: {}\n") == [
        # `settings` is not also reported missing: the did-you-mean already says it
        "t.yaml, line 1, field `setings`: unknown field `setings`. Did you mean `settings`?",
        "t.yaml, line 1: missing required field `pages`. Add `pages: ...`.",
    ]


def test_missing_settings_fields() -> None:
    text = doc(
        "- {id: q, type: note, label: 注}", head=HEAD.replace('  id: demo\n  version: "1"\n', "")
    )
    assert problems(text) == [
        "t.yaml, line 2, settings: missing required field `id`. Add `id: ...`.",
        't.yaml, line 2, settings: missing required field `version`. Add `version: "..."`, e.g. '
        '`version: "2026.1"`.',
    ]


def codes(text: str) -> list[str | None]:
    """The stable codes of the problems (tests match codes, not wording)."""
    with pytest.raises(InstrumentError) as info:
        loads_survey(text, source=SRC)
    return [p.code for p in info.value.problems]


def test_any_language_set_is_read() -> None:
    survey = loads_survey(doc("- {id: q, type: note, label: {en: Note, fr: Remarque}}"))
    label = survey.question("q").label
    assert label.get("zh") == "Note" and label.get("fr") == "Remarque"
    assert codes(doc("- {id: q, type: note, label: {en: '', fr: ''}}")) == ["E_NO_TEXT"]


def test_missing_label_and_type() -> None:
    text = doc("- id: q\n  hint: 提示\n")
    line = line_of(text, "id: q")
    assert problems(text) == [
        f"t.yaml, line {line}, question `q`: missing required field `type`. Add `type: ...`.",
        f"t.yaml, line {line}, question `q`: missing required field `label`. Add `label: ...` "
        "(Chinese, or `{zh: ..., en: ...}`).",
    ]


def test_unknown_key_did_you_mean() -> None:
    text = doc("- id: q\n  type: note\n  label: 注\n  lable: 注\n")
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'lable')}, question `q`, field `lable`: unknown field "
        "`lable`. Did you mean `label`?"
    ]


def test_unknown_key_without_close_match_lists_fields() -> None:
    found = only_problem(doc("- {id: q, type: note, label: 注, zzz: 1}"))
    assert found.endswith(
        "unknown field `zzz`. The fields of a question are: id, type, label, hint, required, "
        "required_message, constraint, constraint_message, relevant, appearance, choices, items, "
        "per_subject, allow_dont_know, default, min_length, max_length, calculation, read_only, "
        "choice_filter, or_other, parameters, group, name."
    )


def test_unknown_question_type_did_you_mean() -> None:
    text = doc("- {id: q, type: singel, label: 问, choices: yes_no}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `type`: unknown question "
        "type `singel`. Did you mean `single`?"
    )


def test_unknown_question_type_without_close_match() -> None:
    assert only_problem(doc("- {id: q, type: slider, label: 问}")).endswith(
        "unknown question type `slider`. Use one of: single, multiple, grid, integer, decimal, "
        "text, date, note, calculate, time, datetime, range."
    )


def test_duplicate_question_ids_name_both_lines() -> None:
    text = doc("- {id: q, type: note, label: 一}\n- {id: q, type: note, label: 二}\n")
    first, second = line_of(text, "id: q"), line_of(text, "id: q", 2)
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
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'id: attitude', 2)}, question `g`, item `attitude`, field "
        f"`id`: duplicate id `attitude`: also used on line {line_of(text, 'id: attitude')} "
        "(question `attitude`). Questions and grid items become variables, so each needs its own "
        "id.",
        f"t.yaml, line {line_of(text, 'id: speed', 2)}, question `g`, item `speed`, field `id`: "
        f"duplicate id `speed`: also used on line {line_of(text, 'id: speed')} (item of grid "
        "`g`). Questions and grid items become variables, so each needs its own id.",
    ]


def test_duplicate_page_ids() -> None:
    text = doc(
        "- {id: q, type: note, label: 注}",
        tail="  - id: p1\n    title: 又一页\n    questions:\n      - {id: r, type: note, label: 注}\n",
    )
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: p1', 2)}, page `p1`, field `id`: duplicate page id "
        f"`p1`: also on line {line_of(text, 'id: p1')}. Give each page its own id."
    )


def test_duplicate_choice_values_and_lists() -> None:
    head = HEAD.replace("  yes_no:\n", "  sat: [{value: x, label: x}]\n  yes_no:\n").replace(
        "    - {value: no, label: 否}",
        "    - {value: no, label: 否}\n    - {value: yes, label: 对}",
    )
    text = doc("- {id: q, type: note, label: 注}", head=head)
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'sat: [')}, choice list `sat`: duplicate choice list `sat`: "
        f"also on line {line_of(text, 'sat:')}. Give each choice list its own name.",
        f"t.yaml, line {line_of(text, 'label: 对')}, choice list `yes_no`, choice `yes`, field "
        f"`value`: duplicate choice value `yes`: also on line {line_of(text, 'value: yes')}. "
        "Give each choice of a list its own value.",
    ]


@pytest.mark.parametrize(
    ("qid", "message"),
    [
        ("2nd", "`2nd` is not a valid id: use letters, digits and `_`, starting with a letter or "
         "`_`."),
        ("q-1", "`q-1` is not a valid id: use letters, digits and `_`, starting with a letter or "
         "`_`."),
        ("问题", "`问题` is not a valid id: use letters, digits and `_`, starting with a letter or "
         "`_`."),
        ("a" * 33, f"`{'a' * 33}` is 33 characters long; ids are at most 32 characters (Stata's "
         "limit on variable names)."),
        ("wuye__attitude", "`wuye__attitude` contains `__`, which is reserved for per-subject "
         "variables (`subject__item`). Use a single `_`."),
    ],
)  # fmt: skip
def test_invalid_ids(qid: str, message: str) -> None:
    text = doc(f"- {{id: '{qid}', type: note, label: 注}}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'type: note')}, question `{qid}`, field `id`: {message}"
    )
    assert check_id(qid) == message
    assert check_id("a" * 32) is None and check_id("_x1") is None


def test_invalid_ids_of_pages_items_and_lists() -> None:
    head = HEAD.replace("  yes_no:\n", "  Yes-No:\n")
    text = doc(
        "- {id: g, type: grid, choices: sat, label: 评, items: [{id: 1a, label: 一}]}",
        head=head.replace("  - id: p1\n", "  - id: p__1\n"),
    )
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'Yes-No')}, choice list `Yes-No`: `Yes-No` is not a valid "
        "id: use letters, digits and `_`, starting with a letter or `_`.",
        f"t.yaml, line {line_of(text, 'p__1')}, page `p__1`, field `id`: `p__1` contains `__`, "
        "which is reserved for per-subject variables (`subject__item`). Use a single `_`.",
        f"t.yaml, line {line_of(text, '1a')}, question `g`, item `1a`, field `id`: `1a` is not a "
        "valid id: use letters, digits and `_`, starting with a letter or `_`.",
    ]


def test_choice_list_not_defined() -> None:
    text = doc("- {id: q, type: single, label: 问, choices: yesno}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`: choice list "
        "`yesno` is not defined. Did you mean `yes_no`?"
    )


def test_choice_list_missing_on_a_choice_question() -> None:
    text = doc("- {id: q, type: multiple, label: 问}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`: a multiple "
        "question needs `choices`. Name a list defined under `choices:` at the top, or list the "
        "choices inline."
    )


def test_empty_choice_lists() -> None:
    head = HEAD.replace(
        "  yes_no:\n", "  empty: []\n  nothing:\n    ordered: true\n    choices:\n  yes_no:\n"
    )
    text = doc("- {id: q, type: single, label: 问, choices: []}", head=head)
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'empty: []')}, choice list `empty`, field `choices`: choice "
        "list `empty` is empty. Give it at least one choice, each with a `value` and a `label`.",
        f"t.yaml, line {line_of(text, '    choices:', 2)}, choice list `nothing`, field "
        "`choices`: choice list `nothing` is empty. Give it at least one choice, each with a "
        "`value` and a `label`.",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `choices`: choice list `q` "
        "is empty. Give it at least one choice, each with a `value` and a `label`.",
    ]


def test_grid_without_items() -> None:
    text = doc(
        "- {id: g, type: grid, label: 评, choices: sat}\n- {id: h, type: grid, label: 评, choices: sat, items: []}\n"
    )
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'id: g')}, question `g`, field `items`: the grid has no "
        "items. List its rows under `items:`, each with an `id` and a `label`.",
        f"t.yaml, line {line_of(text, 'id: h')}, question `h`, field `items`: the grid has no "
        "items. List its rows under `items:`, each with an `id` and a `label`.",
    ]


def test_per_subject_on_a_non_grid() -> None:
    text = doc("- {id: q, type: single, label: 问, choices: yes_no, per_subject: true}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `per_subject`: field "
        "`per_subject` does not apply to single questions; it is only for grid questions. Only "
        "grid questions repeat per subject; remove `per_subject`."
    )


def test_field_of_another_type() -> None:
    text = doc("- {id: q, type: integer, label: 问, items: [], max_length: 3}")
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `items`: field `items` does "
        "not apply to integer questions; it is only for grid questions. Remove it, or change "
        "`type` to `grid`.",
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `max_length`: field "
        "`max_length` does not apply to integer questions; it is only for text questions. Remove "
        "it, or change `type` to `text`.",
    ]


def test_expression_that_does_not_parse() -> None:
    text = doc("- {id: q, type: integer, label: 问, constraint: '. >'}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `constraint`: cannot parse "
        "`. >`: expected a value after `>` at character 3 but found the end. Write a value "
        "there: a number, a 'string', ${question}, `.` or a function call."
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
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'relevant')}, question `overall`, field `relevant`: unknown "
        "question `${atitude}`. Did you mean `attitude`?"
    )


def test_reference_to_a_later_question() -> None:
    text = doc(
        """\
        - {id: first, type: text, label: 一, relevant: "${second} = 'x'"}
        - {id: second, type: text, label: 二}
        """
    )
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: first')}, question `first`, field `relevant`: "
        f"`${{second}}` comes later in the instrument (line {line_of(text, 'id: second')}); "
        "relevance can only look back at earlier questions. Move `second` before this question, "
        "or drop the reference."
    )


def test_constraint_may_use_the_question_itself_but_not_later_ones() -> None:
    ok = doc("- {id: n, type: integer, label: 数, constraint: '. > 0 and ${n} < 10'}")
    assert loads_survey(ok).question("n").constraint == ". > 0 and ${n} < 10"
    text = doc(
        """\
        - {id: low, type: integer, label: 下限, constraint: ". < ${high}"}
        - {id: high, type: integer, label: 上限, constraint: ". > ${low}"}
        """
    )
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: low')}, question `low`, field `constraint`: "
        f"`${{high}}` comes later in the instrument (line {line_of(text, 'id: high')}); a "
        "constraint can only look back at earlier questions. Move `high` before this question, "
        "or drop the reference."
    )


def test_relevance_on_the_question_itself_and_dot_in_relevant() -> None:
    text = doc("- {id: q, type: integer, label: 数, relevant: '. > 1 or ${q} > 2'}")
    line = line_of(text, "id: q")
    assert problems(text) == [
        f"t.yaml, line {line}, question `q`, field `relevant`: `.` (this question's answer) can "
        "only be used in `constraint`. Refer to earlier questions by name, e.g. "
        "`${other_question}`.",
        f"t.yaml, line {line}, question `q`, field `relevant`: `relevant` cannot depend on the "
        "question's own answer `${q}`. Use `constraint` to check the answer itself.",
    ]


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
    line = line_of(text, "relevant")
    where = f"t.yaml, line {line}, question `q`, field `relevant`: "
    assert problems(text) == [
        where + "`${attitude}` is an item of the per-subject grid `rate`: its answers are stored "
        "once per subject (`subject__attitude`), so it cannot be referenced. Refer to a question "
        "that is not per subject.",
        where + "`${hello}` is a note, which has no answer. Refer to a question instead.",
        where + "`${rate}` is a grid, which has no answer of its own. Refer to one of its items, "
        "e.g. `${attitude}`.",
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
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'relevant')}, page `p2`, field `relevant`: `${{b}}` comes "
        f"later in the instrument (line {line_of(text, 'id: b')}); relevance can only look back "
        "at earlier questions. Move `b` before this page, or drop the reference."
    )


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("{id: q, type: single, label: 问, choices: yes_no, default: maybe}",
         "default `maybe` is not a choice of list `yes_no`. Use one of: `yes`, `no`."),
        ("{id: q, type: single, label: 问, choices: sat, default: goood}",
         "default `goood` is not a choice of list `sat`. Did you mean `good`?"),
        ("{id: q, type: multiple, label: 问, choices: yes_no, default: [yes, nope]}",
         "default `nope` is not a choice of list `yes_no`. Did you mean `no`?"),
        ("{id: q, type: multiple, label: 问, choices: yes_no, default: yes yes}",
         "the default repeats a choice. List each choice once."),
        ("{id: q, type: grid, label: 问, choices: sat, default: dont_know, items: [{id: i, label: 一}]}",
         "default `dont_know` is not a choice of list `sat`. Use one of: `good`, `bad`."),
        ("{id: q, type: integer, label: 问, default: 1.5}",
         "default `1.5` is not a whole number. Write e.g. `0`."),
        ("{id: q, type: decimal, label: 问, default: many}",
         "default `many` is not a number. Write e.g. `1.5`."),
        ("{id: q, type: date, label: 问, default: 2026-02-30}",
         "default `2026-02-30` is not a date. Write it as YYYY-MM-DD, e.g. `2026-03-01`."),
        ("{id: q, type: text, label: 问, max_length: 3, default: toolong}",
         "the default is longer than `max_length` (3). Shorten it or raise `max_length`."),
    ],
)  # fmt: skip
def test_invalid_defaults(question: str, message: str) -> None:
    text = doc(f"- {question}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `default`: {message}"
    )


@pytest.mark.parametrize(
    ("question", "field", "message"),
    [
        ("{id: q, type: text, label: 问, required: maybe}", "required",
         "`required` must be true or false; got `maybe`."),
        ("{id: q, type: text, label: 问, max_length: 0}", "max_length",
         "`max_length` must be a whole number from 1 to 100000; got `0`."),
        ("{id: q, type: text, label: 问, min_length: 5, max_length: 4}", "min_length",
         "`min_length` (5) is larger than `max_length` (4). Lower `min_length` or raise "
         "`max_length`."),
        ("{id: q, type: text, label: [问]}", "label",
         "`label` must be text or `{zh: ..., en: ...}`; got a list."),
        ("{id: q, type: text, label: {zh: 问, 'a:b': Question}}", "label",
         "`a:b` is not a language name. Use a language code such as `zh`, `en` or `fr`."),
        ("{id: q, type: text, label: '  '}", "label",
         "`label` is empty. Write the text, e.g. `label: ...`."),
        ("{id: q, type: text, label: 问, constraint_message: 错}", "constraint_message",
         "`constraint_message` is given but there is no `constraint`. Add the `constraint`, or "
         "remove the message."),
        ("{id: q, type: text, label: 问, required_message: 必填}", "required_message",
         "`required_message` is given but the question is not required. Add `required: true`, or "
         "remove the message."),
        ("{id: q, type: text, label: 问, appearance: {big: true}}", "appearance",
         "`appearance` must be a word or a list of words; got a mapping."),
        ("{id: q, type: text, label: 问, relevant: [a]}", "relevant",
         "`relevant` must be text; got a list."),
    ],
)  # fmt: skip
def test_wrong_field_values(question: str, field: str, message: str) -> None:
    text = doc(f"- {question}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: q')}, question `q`, field `{field}`: {message}"
    )


def test_settings_values() -> None:
    head = HEAD.replace('version: "1"', 'version: "1 0"\n  kind: evalution\n  anonymous: 1')
    text = doc("- {id: q, type: note, label: 注}", head=head)
    assert problems(text) == [
        "t.yaml, line 3, settings, field `version`: `version` must be at most 32 characters "
        'without spaces; got `1 0`. Use e.g. `version: "2026.1"`.',
        "t.yaml, line 4, settings, field `kind`: `kind` must be one of `evaluation`, `hearing`, "
        "`coordination`, `other`; got `evalution`. Did you mean `evaluation`?",
        "t.yaml, line 5, settings, field `anonymous`: `anonymous` must be true or false; got `1`.",
    ]


def test_choice_values_and_points() -> None:
    head = HEAD.replace("points: 0}", "points: lots}").replace("value: no,", "value: 'n o',")
    text = doc("- {id: q, type: note, label: 注}", head=head)
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'lots')}, choice list `sat`, choice `bad`, field `points`: "
        "`points` must be a number; got `lots`.",
        f"t.yaml, line {line_of(text, 'n o')}, choice list `yes_no`, choice `n o`, field `value`: "
        "choice value `n o` must be at most 64 characters without spaces (multiple-choice "
        "answers are stored as a space-separated list). Use a short code such as `satisfied` or "
        "`18-29`.",
    ]


def test_dont_know_is_reserved_in_grids_that_offer_it() -> None:
    head = HEAD.replace("    - {value: no, label: 否}", "    - {value: dont_know, label: 不知道}")
    text = doc(
        "- {id: g, type: grid, choices: yes_no, allow_dont_know: true, label: 评, "
        "items: [{id: i, label: 一}]}",
        head=head,
    )
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: g')}, question `g`, field `choices`: choice list "
        "`yes_no` has a choice `dont_know`, which is reserved for the grid's 不了解 answer. "
        "Remove that choice and use `allow_dont_know: true`, or rename it."
    )


def test_repeated_yaml_key() -> None:
    text = doc("- id: q\n  type: note\n  label: 一\n  label: 二\n")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'label: 二')}, question `q`, field `label`: field `label` "
        f"is given twice (first on line {line_of(text, 'label: 一')}). Keep only one."
    )


def test_inline_choices_clash_with_a_named_list() -> None:
    text = doc("- {id: sat, type: single, label: 问, choices: [{value: a, label: 甲}]}")
    assert only_problem(text) == (
        f"t.yaml, line {line_of(text, 'id: sat')}, question `sat`, field `choices`: the inline "
        "choices would be named `sat`, but a choice list `sat` is already defined on line "
        f"{line_of(text, 'sat:')}. Use `choices: sat`, or rename one of them."
    )


def test_structure_errors() -> None:
    text = doc(
        "- just a string\n- {id: q, type: note, label: 注}",
        tail="  - 5\n  - {id: p3, title: 三, questions: []}\n",
    )
    assert problems(text) == [
        f"t.yaml, line {line_of(text, 'just a string')}, question 1 of page `p1`: a question must "
        "be a mapping of `field: value` lines; got `just a string`. Its fields are: id, type, "
        "label, hint, required, required_message, constraint, constraint_message, relevant, "
        "appearance, choices, items, per_subject, allow_dont_know, default, min_length, "
        "max_length, calculation, read_only, choice_filter, or_other, parameters, group, name.",
        f"t.yaml, line {line_of(text, '  - 5')}, page 2: a page must be a mapping of `field: "
        "value` lines; got `5`. Its fields are: id, title, relevant, questions, groups, repeat, "
        "repeat_count.",
        f"t.yaml, line {line_of(text, 'p3')}, page `p3`, field `questions`: the page has no "
        "questions. Add questions under `questions:`, or remove the page.",
    ]


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
    at = "surveys/bad.yaml, line {}, question `{}`"
    line = {q: line_of(text, f"id: {q},") for q in ("overall", "q3", "q5")}
    second_q3 = line_of(text, "id: q3,", 2)
    expected = [
        at.format(line["overall"], "overall") + ", field `lable`: unknown field `lable`. Did you "
        "mean `label`?",
        at.format(line["overall"], "overall") + ", field `type`: unknown question type `singel`. "
        "Did you mean `single`?",
        at.format(line["q3"], "q3") + ", field `choices`: choice list `satt` is not defined. Did "
        "you mean `sat`?",
        at.format(line["q3"], "q3") + ", field `relevant`: unknown question `${atitude}`. Did you "
        "mean `attitude`?",
        at.format(second_q3, "q3") + f", field `id`: duplicate id `q3`: also used on line "
        f"{line['q3']} (question `q3`). Questions and grid items become variables, so each needs "
        "its own id.",
        at.format(second_q3, "q3") + ", field `per_subject`: field `per_subject` does not apply "
        "to text questions; it is only for grid questions. Only grid questions repeat per "
        "subject; remove `per_subject`.",
        at.format(line["q5"], "q5") + ", field `default`: default `abc` is not a whole number. "
        "Write e.g. `0`.",
        at.format(line["q5"], "q5") + ", field `constraint`: cannot parse `. >`: expected a value "
        "after `>` at character 3 but found the end. Write a value there: a number, a 'string', "
        "${question}, `.` or a function call.",
    ]
    assert [str(p) for p in info.value.problems] == expected
    assert [p.field for p in info.value.problems] == ["overall"] * 2 + ["q3"] * 4 + ["q5"] * 2
    assert all(p.code and p.code.startswith("E_") for p in info.value.problems)
    assert str(info.value) == (
        "surveys/bad.yaml: 8 problems found (the instrument cannot be used until each is "
        "fixed):\n" + "\n".join(f"  - {e}" for e in expected)
    )


def test_problem_listing_is_bounded() -> None:
    questions = "".join(f"- {{id: q{i}, type: nope, label: 问}}\n" for i in range(150))
    found = problems(doc(questions))
    assert len(found) == 101
    assert found[-1] == "t.yaml: ... and 50 more problems not listed."


# --- untrusted input ----------------------------------------------------------------------------


def test_billion_laughs_is_refused() -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 10):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    assert only_problem(bomb) == (
        "t.yaml, line 2: YAML aliases (`*a`) are not allowed in instruments. Write the value out "
        "in full; shared answer scales go under `choices:`."
    )


def test_deep_nesting_is_refused() -> None:
    assert only_problem("a: " + "[" * 5000 + "]" * 5000) == (
        "t.yaml, line 1: the YAML is nested more than 40 levels deep. An instrument needs only a "
        "few levels; check the indentation."
    )


def test_size_is_bounded(tmp_path: Path) -> None:
    big = "# " + "x" * MAX_FILE_BYTES + "\n"
    assert only_problem(big) == (
        f"t.yaml: the file is {len(big.encode()):,} bytes; instruments are limited to "
        f"{MAX_FILE_BYTES:,}. Split it, or check that this is really an instrument."
    )
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(InstrumentError, match="larger than 1,000,000 bytes"):
        load_survey(path)


def test_python_tags_are_never_constructed() -> None:
    text = doc("- {id: q, type: note, label: !!python/object/apply:os.system ['echo hi']}")
    with pytest.raises(InstrumentError, match="`label` must be text"):
        loads_survey(text)


def test_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(InstrumentError) as info:
        load_survey(missing)
    assert str(info.value.problems[0]) == (
        f"{missing}: cannot read the file (No such file or directory). Check the path."
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"settings:\n  title: caf\xe9\n")
    with pytest.raises(InstrumentError) as info:
        load_survey(latin)
    assert str(info.value.problems[0]) == (
        f"{latin}, line 2: the file is not UTF-8 text. Save it as UTF-8 (in an editor: encoding "
        "UTF-8)."
    )
    bom = tmp_path / "bom.yaml"
    bom.write_bytes("\ufeff".encode() + ALL_TYPES.encode())
    assert load_survey(bom).source == str(bom)
    with pytest.raises(InstrumentError, match="expected YAML text"):
        loads_survey(b"settings:")  # type: ignore[arg-type]


def test_validate_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(ALL_TYPES, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(doc("- {id: q, type: nope, label: 问}"), encoding="utf-8")
    assert validate_files([good]) == 0
    assert capsys.readouterr().out == f"{good}: ok (demo 1, 2 pages, 10 questions)\n"
    assert validate_files([good, bad]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{good}: ok (demo 1, 2 pages, 10 questions)\n"
    assert captured.err.startswith(f"{bad}: 1 problem found")
    assert "unknown question type `nope`." in captured.err


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
