"""The real XLSForms other people wrote: each is read as pyxform reads it, or refused naming an
unsupported feature; each form read is written back and pyxform accepts it with the same meaning."""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pyxform.xls2json import parse_file_to_json
from pyxform.xls2xform import convert as pyxform_convert

from tests.ci_support import in_ci
from toolkit.errors import InstrumentError
from toolkit.instrument.xlsform import read_xlsform, write_xlsform

REAL = Path(
    os.environ.get("SANHUI_REAL_XLSFORMS")
    or Path(__file__).resolve().parents[2] / "shared" / "xlsforms" / "real"
)
REAL_FILES = sorted(REAL.glob("*.xlsx")) if REAL.is_dir() else []

_GEO = "E_UNSUPPORTED_GEO"
#: Forms refused, and why: each uses a feature sanhui does not support in a REQUIRED question
#: (so --drop-unsupported cannot leave it out), or pyxform itself refuses the form.
REFUSED = {
    "legend__C_encontros_assoc.xlsx": {"E_UNSUPPORTED_MEDIA", _GEO},
    "legend__D_encontros_DRP.xlsx": {"E_UNSUPPORTED_MEDIA", _GEO},
    "onadata__grains.xlsx": {"E_UNSUPPORTED_MEDIA", _GEO},
    # also a `required` condition (`${health_id}='dead'`), which the model cannot hold yet
    "pyxform__UCL_Biomass_Plot_Form.xlsx": {
        "E_UNSUPPORTED_EXTERNAL",
        "E_UNSUPPORTED_MEDIA",
        _GEO,
        "E_UNSUPPORTED_CONDITION",
    },
    # pyxform refuses it too: choice names repeat within a list without allow_choice_duplicates
    "unhcr__demo.xlsx": {"E_DUPLICATE_CHOICE", "E_DUPLICATE_COLUMN"},
}
_FEATURES = {
    "E_UNSUPPORTED_EXTERNAL",
    "E_UNSUPPORTED_MEDIA",
    "E_UNSUPPORTED_GEO",
    "E_UNSUPPORTED_CONDITION",
}
_TYPES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "int": "integer",
    "string": "text",
    "datetime": "dateTime",
}


def _meaning(path: Path, skip: set[str]) -> dict[str, Any]:
    """What pyxform reads from a form: per question name, its type, list, labels (every
    language, as a set of texts), relevance and constraint; per list, its choices."""
    data = parse_file_to_json(str(path), warnings=[])
    out: dict[str, Any] = {}

    def texts(value: Any) -> frozenset[str]:
        if isinstance(value, dict):
            return frozenset(v for v in value.values() if v)
        return frozenset([value]) if value else frozenset()

    def walk(node: dict[str, Any]) -> None:
        for child in node.get("children", []) or []:
            kind = child.get("type", "")
            if kind in ("group", "repeat"):
                walk(child)
                continue
            name = child.get("name", "")
            appearance = (child.get("control", {}) or {}).get("appearance", "")
            if (
                name in skip
                or name in ("meta", "instanceID", "instanceName")
                or "label" in appearance.split()
            ):
                continue  # dropped, renamed, or the header row of a grid (it only shows labels)
            bind = child.get("bind", {}) or {}
            choices = child.get("choices") or ()
            out[f"{name}@{child.get('label')!s:.0}{len(out)}"] = (
                name,
                _TYPES.get(kind, kind).replace(" or specify other", " or_other"),
                texts(child.get("label")),
                bind.get("relevant"),
                bind.get("constraint"),
                bind.get("calculate"),
                tuple((c.get("name"), texts(c.get("label"))) for c in choices),
            )

    walk(data)
    return {"questions": sorted(out.values(), key=repr)}


@pytest.mark.slow
def test_real_forms_are_read_and_written_back_as_pyxform_reads_them(tmp_path: Path) -> None:
    if not REAL_FILES:
        if in_ci():
            pytest.fail(f"the real XLSForms are missing from {REAL}")
        pytest.skip("the real XLSForms are not available")
    assert len(REAL_FILES) == 37
    read: list[str] = []
    for path in REAL_FILES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                survey = read_xlsform(path, drop_unsupported=True)
            except InstrumentError as exc:
                codes = {p.code for p in exc.problems}
                assert codes == REFUSED.get(path.name), (path.name, codes)
                assert all(p.where.startswith(str(path)) for p in exc.problems), path.name
                if codes & _FEATURES:
                    assert "which sanhui does not support" in str(exc), path.name
                continue
        assert path.name not in REFUSED, path.name
        read.append(path.name)
        dropped = {
            part.split("`")[1]
            for w in caught
            if "W_DROPPED" in str(w.message) or "dropped" in str(w.message)
            for part in str(w.message).split("; ")
            if part.count("`") >= 2
        }
        out = tmp_path / path.name
        write_xlsform(survey, out)
        assert "<h:html" in pyxform_convert(xlsform=str(out), validate=False).xform, path.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            again = read_xlsform(out)
        assert again.to_dict() == survey.to_dict(), path.name
        # the meaning pyxform reads from the original and from the written file agree
        renamed = {q.name for q in survey.questions if q.name} | {f"{d}_other" for d in dropped}
        before = _meaning(path, dropped | renamed)
        after = _meaning(out, dropped | renamed)
        assert after == before, path.name
    # 32 of 37: the 4 refused forms use geo, media or external files in required questions, and
    # pyxform itself refuses unhcr__demo
    assert len(read) == 32


def _book(path: Path, sheets: dict[str, list[tuple[Any, ...]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


_EXTERNAL = [
    ("list_name", "name", "label", "district"),
    ("communities", "c1", "一村", "d1"),
    ("communities", "c2", "二村", "d1"),
    ("communities", "c3", "三村", "d2"),
    ("unused", "u", "无"),
]
_DISTRICTS = [
    ("list_name", "name", "label"),
    ("districts", "d1", "一区"),
    ("districts", "d2", "二区"),
]


def test_select_one_external_reads_the_external_choices_sheet(tmp_path: Path) -> None:
    survey_rows = [
        ("type", "name", "label", "choice_filter", "required"),
        ("select_one districts", "district", "区"),
        ("select_one_external communities", "community", "村", "district=${district}", "yes"),
    ]
    path = _book(
        tmp_path / "ext.xlsx",
        {"survey": survey_rows, "choices": _DISTRICTS, "external_choices": _EXTERNAL},
    )
    with pytest.warns(UserWarning, match=r"sheet `external_choices`: not read: .*`unused`"):
        survey = read_xlsform(path)
    communities = survey.choice_lists["communities"]
    assert communities.external and not survey.choice_lists["districts"].external
    assert [(c.value, dict(c.filters)) for c in communities.choices] == [
        ("c1", {"district": "d1"}),
        ("c2", {"district": "d1"}),
        ("c3", {"district": "d2"}),
    ]
    assert survey.question("community").choice_filter == "district=${district}"
    assert "unused" not in survey.choice_lists
    # written back to the external_choices sheet, read back equal, and pyxform reads the same
    out = tmp_path / "out.xlsx"
    write_xlsform(survey, out)
    assert openpyxl.load_workbook(out).sheetnames == [
        "survey",
        "choices",
        "external_choices",
        "settings",
    ]
    assert read_xlsform(out).to_dict() == survey.to_dict()
    assert _meaning(out, set()) == _meaning(path, set())
    assert "select one external" in repr(_meaning(out, set()))
    assert "<h:html" in pyxform_convert(xlsform=str(out), validate=False).xform


def test_external_lists_are_named_on_the_right_sheet(tmp_path: Path) -> None:
    def codes(survey_rows: list[tuple[Any, ...]], **sheets: list[tuple[Any, ...]]) -> list[str]:
        path = _book(tmp_path / "x.xlsx", {"survey": survey_rows, **sheets})
        with pytest.raises(InstrumentError) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_xlsform(path)
        return [f"{p.code} {p.where.split(', ', 1)[1]} {p.fix}" for p in info.value.problems]

    head = ("type", "name", "label")
    # a select_one_external whose list is only on the choices sheet, and the reverse
    found = codes(
        [head, ("select_one_external districts", "d", "区")],
        choices=_DISTRICTS,
        external_choices=_EXTERNAL,
    )
    assert found == [
        "E_UNKNOWN_CHOICE_LIST sheet `survey`, row 2, column `type` (A) "
        "It is on the choices sheet: use `select_one districts`."
    ]
    found = codes([head, ("select_one communities", "c", "村")], external_choices=_EXTERNAL)
    assert found == [
        "E_UNKNOWN_CHOICE_LIST sheet `survey`, row 2, column `type` (A) "
        "It is on the external_choices sheet: use `select_one_external communities`."
    ]
    # a list on both sheets that a select_one_external uses: sanhui has one namespace of lists
    both = [*_DISTRICTS, ("communities", "x", "某")]
    found = codes(
        [head, ("select_one_external communities", "c", "村")],
        choices=both,
        external_choices=_EXTERNAL,
    )
    assert [f.split(" (")[0] for f in found] == [
        "E_DUPLICATE_LIST sheet `choices`, row 4, column `list_name`"
    ]


@pytest.mark.slow
def test_a_real_external_cascade_works_on_the_tablet() -> None:
    """onadata's profiling form: governorate → district → subdistrict → community on one page,
    the last three from its external_choices sheet (5,320 communities)."""
    path = REAL / "onadata__subdistrict_profiling_tool.xlsx"
    if not path.exists():
        if in_ci():
            pytest.fail(f"{path} is missing")
        pytest.skip("the real XLSForms are not available")
    import datetime as dt

    from tests.collect_support import MemoryBackend
    from toolkit.collect.form import SurveyForm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = read_xlsform(path)
    form = SurveyForm(
        survey,
        store=MemoryBackend(),
        meeting="m1",
        device="A1",
        draft_key="t",
        clock=lambda: dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC),
    )
    chain = ["governorate", "district", "subdistrict", "community"]
    assert all(name in form.controls for name in chain)  # one page
    # nothing chosen: only choices whose filter columns are empty match (XPath '' = '')
    assert [len(form.controls[name].options) for name in chain[1:3]] == [0, 0]
    lists = survey.choice_lists
    for upper, lower in itertools.pairwise(chain):
        code = form.controls[upper].options[0][0]
        form.set_answer(upper, code)
        offered = {c for c, _ in form.controls[lower].options}
        expected = {
            c.value
            for c in lists[survey.question(lower).choices or ""].choices
            if dict(c.filters).get(upper) == code
            and all(dict(c.filters).get(u) == form.answers[u] for u in chain[: chain.index(upper)])
        }
        assert offered == expected and offered, (upper, lower)
    first = form.answers["district"]
    other = next(c for c, _ in form.controls["district"].options if c != first)
    form.set_answer("district", other)  # the subdistrict and community chosen go with it
    assert "subdistrict" not in form.answers and "community" not in form.answers
