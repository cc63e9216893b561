"""XLSForm read/write: lossless round trips, acceptance by pyxform (the reference converter),
and located errors for bad workbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.errors import InstrumentError, ParameterError
from toolkit.instrument.dumper import dump_survey
from toolkit.instrument.loader import load_survey, loads_survey
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
from toolkit.instrument.xlsform import DONT_KNOW_FILTER, convert, read_xlsform, write_xlsform

SHIPPED = ("evaluation", "hearing", "coordination")


def _pyxform_accepts(path: Path) -> list[str]:
    """Convert with pyxform (the XLSForm reference implementation); return its warnings."""
    from pyxform.xls2xform import convert as pyxform_convert

    warnings: list[str] = []
    result = pyxform_convert(xlsform=str(path), warnings=warnings)
    assert "<h:html" in result.xform
    return warnings


def make_xlsform(
    path: Path,
    survey: list[tuple[Any, ...]] | None,
    choices: list[tuple[Any, ...]] | None = None,
    settings_rows: list[tuple[Any, ...]] | None = None,
) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    if settings_rows is None:
        settings_rows = [("form_id", "version", "form_title"), ("t", "1", "测试")]
    for title, rows in (("survey", survey), ("choices", choices), ("settings", settings_rows)):
        if rows is None:
            continue
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


YES_NO = [("list_name", "name", "label"), ("yn", "yes", "是"), ("yn", "no", "否")]
HEADER = ("type", "name", "label", "relevant", "required")


def _problems(path: Path) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        read_xlsform(path)
    return [str(p) for p in info.value.problems]


def _codes(path: Path) -> list[tuple[str | None, str]]:
    """(code, place) of each problem: tests match codes, never the wording."""
    with pytest.raises(InstrumentError) as info:
        read_xlsform(path)
    return [(p.code, p.where) for p in info.value.problems]


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instruments_round_trip_and_pyxform_accepts(name: str, tmp_path: Path) -> None:
    survey = load_survey(f"surveys/{name}.yaml")
    path = tmp_path / f"{name}.xlsx"
    write_xlsform(survey, path)
    back = read_xlsform(path)
    assert back == survey
    assert back.content_hash == survey.content_hash
    assert _pyxform_accepts(path) == []


def test_convert_yaml_xlsx_yaml(tmp_path: Path) -> None:
    convert("surveys/evaluation.yaml", tmp_path / "e.xlsx")
    convert(tmp_path / "e.xlsx", tmp_path / "e.yaml")
    assert load_survey(tmp_path / "e.yaml") == load_survey("surveys/evaluation.yaml")
    with pytest.raises(ParameterError, match="xlsx"):
        convert("surveys/evaluation.yaml", tmp_path / "e.xls")


def test_written_layout(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    write_xlsform(load_survey("surveys/evaluation.yaml"), path)
    book = openpyxl.load_workbook(path)
    rows = list(book["survey"].iter_rows(values_only=True))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    by_name: dict[str, Any] = {}
    for r in rows[1:]:
        if r[col["name"]] and r[col["type"]] != "end group":
            by_name.setdefault(r[col["name"]], r)
    # the page `rectify` holds the question `rectify`: the group is renamed, the id kept
    assert by_name["rectify_page"][col["sanhui::page"]] == "rectify"
    assert by_name["overall"][col["choice_filter"]] == DONT_KNOW_FILTER
    assert by_name["attitude"][col["choice_filter"]] is None
    assert by_name["attitude"][col["appearance"]] == "likert"
    assert by_name["attitude"][col["label::中文 (zh)"]] == "工作态度"
    settings_rows = list(book["settings"].iter_rows(values_only=True))
    assert dict(zip(settings_rows[0], settings_rows[1], strict=True))["form_id"] == "evaluation"
    choices = [r for r in book["choices"].iter_rows(values_only=True) if r[0] == "satisfaction"]
    assert [r[1] for r in choices][-1] == "dont_know"


def test_text_that_looks_like_a_formula_is_stored_as_text(tmp_path: Path) -> None:
    survey = Survey(
        Settings("f", "1", Text("=HYPERLINK(1)")),
        (Page("p", Text("页"), (Question("q", "text", Text("=1+1", "@SUM(1)")),)),),
        {},
    )
    path = tmp_path / "f.xlsx"
    write_xlsform(survey, path)
    sheet = openpyxl.load_workbook(path)["survey"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == "=1+1"]
    assert cells and all(c.data_type == "s" for c in cells)
    assert read_xlsform(path) == survey


# --- hypothesis: generated instruments ---------------------------------------------------------

_CHARS = st.sampled_from(list("评议会满意度工作态度好差是否abcXYZ0189 ,.?:#'\"=-+@（）！"))
_TEXT = st.text(_CHARS, min_size=1, max_size=10).filter(lambda s: s.strip() == s and s != "")
_CODES = ("a", "b", "yes", "no", "18-29", "80+", "1", "x_y")


@st.composite
def _texts(draw: Any) -> Text:
    return Text(draw(_TEXT), draw(st.none() | _TEXT))


@st.composite
def surveys(draw: Any) -> Survey:
    lists: dict[str, ChoiceList] = {}
    for i in range(draw(st.integers(1, 3))):
        codes = draw(st.lists(st.sampled_from(_CODES), min_size=1, max_size=4, unique=True))
        choices = tuple(
            Choice(c, draw(_texts()), draw(st.none() | st.integers(0, 100).map(float)))
            for c in codes
        )
        lists[f"list{i}"] = ChoiceList(f"list{i}", choices, ordered=draw(st.booleans()))
    pages: list[Page] = []
    refs: list[tuple[str, str, str]] = []  # (id, type, list)
    n = 0
    grid_lists: set[str] = set()
    for p in range(draw(st.integers(1, 3))):
        questions: list[Question] = []
        page_relevant = None
        if refs and draw(st.booleans()):
            rid, rtype, rlist = draw(st.sampled_from(refs))
            page_relevant = f"${{{rid}}} != ''"
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            qid = f"q{n}"
            qtype = draw(
                st.sampled_from(
                    ["single", "multiple", "grid", "integer", "decimal", "text", "date", "note"]
                )
            )
            options: dict[str, Any] = {}
            if qtype != "note":
                options["required"] = draw(st.booleans())
                if options["required"] and draw(st.booleans()):
                    options["required_message"] = draw(_texts())
                if draw(st.booleans()):
                    options["hint"] = draw(_texts())
            if refs and draw(st.booleans()):
                rid, rtype, rlist = draw(st.sampled_from(refs))
                code = lists[rlist].values[0] if rlist else ""
                options["relevant"] = (
                    f"selected(${{{rid}}}, '{code}')"
                    if rtype == "multiple"
                    else f"${{{rid}}} = '{code}'"
                    if rtype == "single"
                    else f"${{{rid}}} > 1"
                )
            list_id = draw(st.sampled_from(sorted(lists)))
            if qtype in ("single", "multiple"):
                options["choices"] = list_id
                if draw(st.booleans()):
                    options["default"] = lists[list_id].values[0]
                options["appearance"] = draw(st.sampled_from([(), ("horizontal",)]))
            if qtype == "integer" and draw(st.booleans()):
                options["constraint"] = ". >= 0"
                if draw(st.booleans()):
                    options["constraint_message"] = draw(_texts())
            if qtype == "text":
                options["max_length"] = draw(st.sampled_from([2000, 500]))
                options["min_length"] = draw(st.sampled_from([None, 1]))
            if qtype == "date" and draw(st.booleans()):
                options["default"] = "2026-03-01"
            if qtype == "grid":
                grid_lists.add(list_id)
                options["choices"] = list_id
                options["per_subject"] = draw(st.booleans())
                required = options["required"]
                items = []
                for k in range(draw(st.integers(1, 3))):
                    items.append(
                        GridItem(
                            f"i{n}_{k}",
                            draw(_texts()),
                            draw(st.none() | _texts()),
                            draw(st.booleans()),
                            draw(st.sampled_from([None, not required])),
                        )
                    )
                options["items"] = tuple(items)
                if draw(st.booleans()):
                    options["default"] = lists[list_id].values[0]
            questions.append(Question(qid, qtype, draw(_texts()), **options))
            if qtype in ("single", "multiple", "integer"):
                refs.append((qid, qtype, options.get("choices") or ""))
        pages.append(Page(f"page{p}", draw(_texts()), tuple(questions), page_relevant))
    for list_id in grid_lists:  # a custom 不了解 label on lists used by grids
        if draw(st.booleans()):
            scale = lists[list_id]
            lists[list_id] = ChoiceList(list_id, scale.choices, scale.ordered, draw(_texts()))
    settings_ = Settings(
        "gen",
        "1.0",
        draw(_texts()),
        default_language=draw(st.sampled_from(["zh", "en"])),
        anonymous=draw(st.booleans()),
        kind=draw(st.sampled_from(["evaluation", "hearing", "coordination", "other"])),
        description=draw(st.none() | _texts()),
    )
    return Survey(settings_, tuple(pages), lists)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survey=surveys())
def test_generated_instruments_round_trip(survey: Survey, tmp_path_factory: Any) -> None:
    # the generated instrument is a valid one (what the YAML loader reads back unchanged)
    assert loads_survey(dump_survey(survey)) == survey
    path = tmp_path_factory.mktemp("gen") / "gen.xlsx"
    write_xlsform(survey, path)
    assert read_xlsform(path) == survey


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(survey=surveys())
def test_generated_instruments_accepted_by_pyxform(survey: Survey, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("gen") / "gen.xlsx"
    write_xlsform(survey, path)
    _pyxform_accepts(path)


# --- reading forms made elsewhere --------------------------------------------------------------


def test_third_party_form(tmp_path: Path) -> None:
    """An ODK-style form: plain and `Chinese (zh)` labels, a table-list grid with 不了解,
    questions outside groups, `string`/`int` aliases, deployment settings."""
    survey_rows = [
        ("type", "name", "label::Chinese (zh)", "label::English (en)", "appearance", "required"),
        ("int", "age", "年龄", "Age", None, "TRUE"),
        ("begin_group", "rate", "评价", "Rate", "table-list", None),
        ("select_one sat", "attitude", "态度", "Attitude", "likert", "yes"),
        ("select_one sat", "overall", "总体", "Overall", "likert", "yes"),
        ("end_group", None, None, None, None, None),
        ("string", "note_text", "意见", None, None, None),
    ]
    choices = [
        ("list name", "name", "label::Chinese (zh)", "label::English (en)"),
        ("sat", "good", "满意", "Satisfied"),
        ("sat", "bad", "不满意", "Dissatisfied"),
        ("sat", "dont_know", "说不清", "Not sure"),
    ]
    settings_rows = [
        ("form_id", "version", "form_title", "default_language", "instance_name"),
        ("odk_form", 202603, "测评", "English (en)", "concat(${age})"),
    ]
    path = make_xlsform(tmp_path / "odk.xlsx", survey_rows, choices, settings_rows)
    survey = read_xlsform(path)
    assert [p.id for p in survey.pages] == ["page_1", "rate", "page_2"]
    assert survey.version == "202603"
    assert survey.settings.default_language == "en"
    grid = survey.question("rate")
    assert grid.type == "grid" and grid.required
    assert [it.allow_dont_know for it in grid.items] == [True, True]
    assert survey.choice_lists["sat"].values == ("good", "bad")
    assert survey.choice_lists["sat"].dont_know_label == Text("说不清", "Not sure")
    assert survey.question("age").label == Text("年龄", "Age")
    assert survey.question("note_text").type == "text"
    assert survey.pages[0].title == Text("测评")


# --- located errors ----------------------------------------------------------------------------


def test_missing_survey_sheet(tmp_path: Path) -> None:
    path = make_xlsform(tmp_path / "x.xlsx", None, YES_NO)
    (problem,) = _problems(path)
    assert "no `survey` sheet" in problem and "`choices`" in problem


def test_misspelled_sheet_name(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "survy"
    book.save(tmp_path / "x.xlsx")
    (problem,) = _problems(tmp_path / "x.xlsx")
    assert "Rename the sheet `survy` to `survey`." in problem


def test_unknown_and_unsupported_types(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ("begin group", "p", "页"),
        ("selekt_one yn", "q", "问"),
        ("geopoint", "where", "位置"),
        ("calculate", "c", "算"),
        ("start", "s", None),
        ("select_one yn", "ok", "好"),
        ("end group",),
    ]
    problems = _problems(make_xlsform(tmp_path / "x.xlsx", rows, YES_NO))
    assert len(problems) == 3  # every problem is collected before raising
    assert "sheet `survey`, row 3, column `type` (A): unknown type `selekt_one yn`" in problems[0]
    assert "Did you mean `select_one`?" in problems[0]
    assert "row 4" in problems[1] and "uses geo" in problems[1]
    assert "row 5" in problems[2] and "calculation" in problems[2]


def test_bad_expressions(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ("begin group", "p", "页"),
        ("select_one yn", "q", "问"),
        ("text", "t", "文", "${q} == 'yes'"),
        ("text", "u", "文", "${qq} = 'yes'"),
        ("text", "v", "文", "${w} = 'yes'"),
        ("text", "w", "文"),
        ("end group",),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    codes = _codes(path)
    # a forward reference works in ODK and pyxform accepts it: read with a warning
    assert [c for c, _ in codes] == ["E_EXPRESSION_SYNTAX", "E_UNKNOWN_REFERENCE"]
    assert "row 4, column `relevant` (D)" in codes[0][1]
    assert "row 5, column `relevant` (D)" in codes[1][1]
    problems = _problems(path)
    assert "Did you mean `q`?" in problems[1]
    with (
        pytest.warns(UserWarning, match=r"row 6, column `relevant` \(D\).*comes later"),
        pytest.raises(InstrumentError),
    ):
        read_xlsform(path)


def test_syntax_error_and_unknown_name_are_both_reported(tmp_path: Path) -> None:
    rows = [HEADER, ("select_one yn", "q", "问"), ("text", "t", "文", "${nope} == 'yes'")]
    codes = [c for c, _ in _codes(make_xlsform(tmp_path / "x.xlsx", rows, YES_NO))]
    assert sorted(codes) == ["E_EXPRESSION_SYNTAX", "E_UNKNOWN_REFERENCE"]


def test_duplicate_names_name_both_rows(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ("begin group", "p", "页"),
        ("select_one yn", "q", "问"),
        ("text", "q", "文"),
        ("end group",),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    ((code, where),) = _codes(path)
    assert code == "E_DUPLICATE_ID" and "row 4, column `name` (B)" in where
    assert "also used on sheet `survey`, row 3" in _problems(path)[0]
    choices = [*YES_NO, ("yn", "yes", "是的")]
    rows = [HEADER, ("select_one yn", "q", "问")]
    ((code, where),) = _codes(make_xlsform(tmp_path / "y.xlsx", rows, choices))
    assert code == "E_DUPLICATE_CHOICE" and "sheet `choices`, row 4" in where


def test_unknown_columns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "lable", "label", "filter"),
        ("integer", "n", "数", "数", "x"),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    with pytest.warns(UserWarning, match=r"column `lable` \(C\): unknown column `lable`"):
        survey = read_xlsform(path)
    assert survey.question("n").label.zh == "数"


def test_unsupported_features_are_named(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label", "media::image", "appearance", "required"),
        ("begin group", "p", "页"),
        ("text", "t", "文"),
        ("select_one_from_file places.csv", "place", "地点"),
        ("select_one yn", "s", "选", "a.png", "search('things')"),
        ("image", "photo", "照片", None, None, "yes"),
        ("geopoint", "where", "位置"),
        ("end group",),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    found = _codes(path)
    assert ("E_UNSUPPORTED_MEDIA", "column `media::image` (D)") in [
        (c, w.split(", sheet `survey`, row 1, ")[-1]) for c, w in found
    ]
    assert [c for c, w in found if "row 4, column `type` (A)" in w] == ["E_UNSUPPORTED_EXTERNAL"]
    assert [c for c, w in found if "row 5, column `appearance`" in w] == ["E_UNSUPPORTED_SEARCH"]
    assert [c for c, w in found if "row 7, column `type` (A)" in w] == ["E_UNSUPPORTED_GEO"]
    problems = "\n".join(_problems(path))
    assert (
        "uses choices from a file outside the workbook" in problems
        and "uses `search()`" in problems
    )
    assert "--drop-unsupported" in problems
    # dropping: the required photo cannot be dropped, the optional ones are listed
    with pytest.raises(InstrumentError) as info:
        read_xlsform(path, drop_unsupported=True)
    assert [p.code for p in info.value.problems] == ["E_UNSUPPORTED_MEDIA"]
    assert "it is required, so it cannot be dropped" in str(info.value)
    rows = [r for r in rows if r[:2] != ("image", "photo")]
    path = make_xlsform(tmp_path / "y.xlsx", rows, YES_NO)
    with pytest.warns(
        UserWarning, match=r"dropped 4 .*`place` \(choices from a file.*`where` \(geo"
    ):
        survey = read_xlsform(path, drop_unsupported=True)
    assert [q.id for q in survey.questions] == ["t"]


def test_features_real_forms_use_are_read(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label", "calculation", "choice_filter", "read_only", "repeat_count"),
        ("start", "start"),
        ("deviceid", "deviceid"),
        ("begin group", "p", "页"),
        ("integer", "n", "人数"),
        ("calculate", "twice", None, "${n} * 2"),
        ("select_one state", "state", "州"),
        ("select_one county", "county", "县", None, "state = ${state}"),
        ("select_one yn or_other", "yn_q", "是否"),
        ("time", "t", "时间", None, None, "yes"),
        ("dateTime", "dt", "日期时间"),
        ("begin group", "inner", "内"),
        ("begin repeat", "member", "成员", None, None, None, "${n}"),
        ("text", "name", "姓名"),
        ("end repeat",),
        ("end group",),
        ("end group",),
        ("begin group", "q", "页二"),
        ("text", "name", "名称"),
        ("end group",),
    ]
    choices = [
        ("list_name", "name", "label", "state"),
        *YES_NO[1:],
        ("state", "tx", "Texas"),
        ("state", "wa", "Washington"),
        ("county", "harris", "Harris", "tx"),
        ("county", "king", "King", "wa"),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, choices)
    survey = read_xlsform(path)
    assert survey.settings.metadata == (("start", "start"), ("deviceid", "deviceid"))
    assert survey.question("twice").type == "calculate"
    assert survey.question("twice").calculation == "${n} * 2"
    county = survey.question("county")
    assert county.choice_filter == "state = ${state}"
    assert survey.choice_lists["county"].choice("king").filters == (("state", "wa"),)
    assert survey.question("yn_q").or_other
    assert survey.question("t").type == "time" and survey.question("t").read_only
    assert survey.question("dt").type == "datetime"
    page = survey.pages[0]
    assert [(g.id, g.parent, g.repeat, g.repeat_count) for g in page.groups] == [
        ("inner", None, False, None),
        ("member", "inner", True, "${n}"),
    ]
    assert survey.question("name").group == "member"
    assert page.repeat_of(survey.question("name")) == "member"
    # a name repeating in another group is read (pyxform allows it) under a unique id
    assert survey.question("q_name").name == "name"
    assert "name" not in [v.name for v in survey.variables()]  # answered per repetition
    assert [q.id for q in survey.repeat_questions()["member"]] == ["name"]
    out = tmp_path / "back.xlsx"
    write_xlsform(survey, out)
    assert read_xlsform(out).to_dict() == survey.to_dict()
    from pyxform.xls2xform import convert as pyxform_convert

    assert "<instance>" in pyxform_convert(xlsform=str(out), validate=False).xform
    from toolkit.instrument.dumper import dump_survey
    from toolkit.instrument.loader import loads_survey

    assert loads_survey(dump_survey(survey)).to_dict() == survey.to_dict()  # YAML holds it too


def test_cli_convert_and_validate_drop_unsupported(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from toolkit.cli import app

    rows = [HEADER, ("text", "t", "文"), ("geopoint", "where", "位置")]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", str(path)])
    assert refused.exit_code == 1 and "E_UNSUPPORTED_GEO" not in refused.output  # codes stay out
    assert "uses geo" in refused.output
    with pytest.warns(UserWarning, match=r"dropped 1 .*`where` \(geo"):
        result = runner.invoke(
            app, ["convert", "--drop-unsupported", str(path), str(tmp_path / "y.yaml")]
        )
    assert result.exit_code == 0, result.output
    assert [q.id for q in read_xlsform(tmp_path / "x.xlsx", drop_unsupported=True).questions] == [
        "t"
    ]


def test_field_list_that_is_not_a_grid_is_a_group(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label", "appearance", "relevant"),
        ("begin group", "p", "页"),
        ("begin group", "g", "网格", "field-list"),
        ("select_one yn", "a", "甲", "likert", "1 = 1"),
        ("select_one other", "b", "乙", "likert"),
        ("text", "c", "丙"),
        ("end group",),
        ("end group",),
    ]
    choices = [*YES_NO, ("other", "x", "叉")]
    survey = read_xlsform(make_xlsform(tmp_path / "x.xlsx", rows, choices))
    assert [(q.id, q.type, q.group) for q in survey.questions] == [
        ("a", "single", "g"),
        ("b", "single", "g"),
        ("c", "text", "g"),
    ]
    assert survey.pages[0].groups[0].appearance == "field-list"


def test_unclosed_group_and_version_default(tmp_path: Path) -> None:
    rows = [HEADER, ("begin group", "p", "页"), ("text", "t", "文")]
    settings_rows = [("form_id",), ("x",)]
    codes = _codes(make_xlsform(tmp_path / "x.xlsx", rows, YES_NO, settings_rows))
    assert [c for c, _ in codes] == ["E_UNCLOSED_GROUP"]
    rows = [HEADER, ("text", "t", "文"), (), ("text", "u", "文")]
    survey = read_xlsform(make_xlsform(tmp_path / "y.xlsx", rows, YES_NO, settings_rows))
    assert survey.version == "1" and [q.id for q in survey.questions] == ["t", "u"]


def test_languages_and_old_syntax_are_read(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label:English", "label:French", "bind:relevant"),
        ("select one from yn", "q", "Agree?", "D'accord ?"),
        ("text", "t", "Why?", "Pourquoi ?", "${q} = 'no'"),
    ]
    choices = [("list_name", "name", "label::English"), ("yn", "yes", "Yes"), ("yn", "no", "No")]
    survey = read_xlsform(make_xlsform(tmp_path / "x.xlsx", rows, choices))
    q = survey.question("t")
    assert q.relevant == "${q} = 'no'" and q.label.get("en") == "Why?"
    assert q.label.get("French") == "Pourquoi ?" and q.label.get("zh") == "Why?"
    assert survey.question("q").choices == "yn"
    out = tmp_path / "back.xlsx"
    write_xlsform(survey, out)
    assert read_xlsform(out) == survey


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("type,name\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert "not an .xlsx workbook" in problem


def test_regex_constraints_are_read_and_bad_patterns_refused(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label", "constraint"),
        ("text", "code", "编号", "regex(., '^[0-9]{3}$')"),
        ("text", "bad", "坏", "regex(., '([a-z]')"),
    ]
    found = _codes(make_xlsform(tmp_path / "x.xlsx", rows, YES_NO))
    assert [c for c, _ in found] == ["E_BAD_REGEX"] and "row 3" in found[0][1]
    survey = read_xlsform(make_xlsform(tmp_path / "y.xlsx", rows[:2], YES_NO))
    from toolkit.instrument.answers import check_answers

    assert check_answers(survey, {"code": "123"}) == []
    assert len(check_answers(survey, {"code": "12a"})) == 1
    # a catastrophic pattern is bounded by the timeout: no match, quickly
    import time

    from toolkit.instrument.expressions import evaluate

    started = time.perf_counter()
    assert evaluate("regex(${t}, '^(a+)+$')", {"t": "a" * 5000 + "!"}) is False
    assert time.perf_counter() - started < 2


def test_an_unknown_list_is_reported_once(tmp_path: Path) -> None:
    rows = [HEADER, ("select_one yesno", "q", "问")]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    # the list is named where the type names it; no follow-on "needs `choices`"
    assert _codes(path) == [
        ("E_UNKNOWN_CHOICE_LIST", f"{path}, sheet `survey`, row 2, column `type` (A)")
    ]


def test_a_condition_in_required_is_named_as_unsupported(tmp_path: Path) -> None:
    rows = [
        ("type", "name", "label", "required", "read_only"),
        ("text", "a", "甲", "${b} = 'dead'"),
        ("text", "b", "乙", "maybe"),
        ("text", "c", "丙", None, "not(${a})"),
    ]
    path = make_xlsform(tmp_path / "x.xlsx", rows, YES_NO)
    assert _codes(path) == [
        ("E_UNSUPPORTED_CONDITION", f"{path}, sheet `survey`, row 2, column `required` (D)"),
        ("E_NOT_A_BOOLEAN", f"{path}, sheet `survey`, row 3, column `required` (D)"),
        ("E_UNSUPPORTED_CONDITION", f"{path}, sheet `survey`, row 4, column `read_only` (E)"),
    ]
