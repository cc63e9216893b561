"""The real XLSForms other people wrote: each is read as pyxform reads it, or refused naming an
unsupported feature; each form read is written back and pyxform accepts it with the same meaning."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

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
    "legend__C_encontros_assoc.xlsx": {"E_UNSUPPORTED_EXTERNAL", "E_UNSUPPORTED_MEDIA", _GEO},
    "legend__D_encontros_DRP.xlsx": {"E_UNSUPPORTED_EXTERNAL", "E_UNSUPPORTED_MEDIA", _GEO},
    "onadata__grains.xlsx": {"E_UNSUPPORTED_MEDIA", _GEO},
    "onadata__subdistrict_profiling_tool.xlsx": {"E_UNSUPPORTED_EXTERNAL"},
    # also a `required` condition (`${health_id}='dead'`), which the model cannot hold yet
    "pyxform__UCL_Biomass_Plot_Form.xlsx": {
        "E_UNSUPPORTED_EXTERNAL",
        "E_UNSUPPORTED_MEDIA",
        _GEO,
        "E_NOT_A_BOOLEAN",
    },
    # pyxform refuses it too: choice names repeat within a list without allow_choice_duplicates
    "unhcr__demo.xlsx": {"E_DUPLICATE_CHOICE", "E_DUPLICATE_COLUMN"},
}
_FEATURES = {"E_UNSUPPORTED_EXTERNAL", "E_UNSUPPORTED_MEDIA", "E_UNSUPPORTED_GEO"}
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
    # 31 of 37: the 5 refused forms use geo, media or external choices in required questions,
    # and pyxform itself refuses unhcr__demo
    assert len(read) == 31
