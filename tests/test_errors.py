"""toolkit.errors: one family, each error with a stable code that programs and tests match on."""

from __future__ import annotations

import pandas as pd
import pytest

import toolkit.errors as errors
from toolkit._checks import check_columns, check_option, check_range
from toolkit.errors import (
    AnswerError,
    BrowserError,
    ConflictError,
    DataError,
    FontError,
    InstrumentError,
    ParameterError,
    Problem,
    StoreError,
    ToolkitError,
)

#: The codes are part of the API: changing one breaks programs that match on it.
CODES = {
    "ToolkitError": "E_TOOLKIT",
    "ParameterError": "E_PARAMETER",
    "DataError": "E_DATA",
    "ConvergenceError": "E_CONVERGENCE",
    "InstrumentError": "E_INSTRUMENT",
    "AnswerError": "E_ANSWER",
    "StoreError": "E_STORE",
    "ConflictError": "E_CONFLICT",
    "FontError": "E_FONT",
    "BrowserError": "E_BROWSER",
    "MeetingSetupError": "E_MEETING_SETUP",
}


def test_every_error_class_has_its_stable_code() -> None:
    classes = {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, ToolkitError) and not name.startswith("_")
    }
    assert set(classes) == set(CODES)
    for name, cls in classes.items():
        assert cls.default_code == CODES[name], name
    assert len(set(CODES.values())) == len(CODES)


def test_a_raise_can_give_a_finer_code_and_keeps_the_class() -> None:
    error = ParameterError("`x` is wrong.", code="E_OPTION")
    assert error.code == "E_OPTION" and isinstance(error, ValueError)
    assert str(error) == "`x` is wrong."
    assert StoreError("no meeting").code == "E_STORE"
    assert ConflictError("taken").code == "E_CONFLICT"
    problems = [Problem("here", "bad", code="E_DUPLICATE_ID")]
    assert InstrumentError(problems).code == "E_INSTRUMENT"
    assert AnswerError(problems, code="E_BALLOT_CODE").code == "E_BALLOT_CODE"


def test_the_checks_raise_their_codes() -> None:
    with pytest.raises(ParameterError) as option:
        check_option("method", "wilsen", ("wilson",))
    with pytest.raises(ParameterError) as bounds:
        check_range("confidence", 2, low=0, high=1)
    with pytest.raises(DataError) as columns:
        check_columns(pd.DataFrame({"a": [1]}), ["b"])
    assert (option.value.code, bounds.value.code, columns.value.code) == (
        "E_OPTION",
        "E_RANGE",
        "E_MISSING_COLUMN",
    )


def test_font_and_browser_errors_are_in_the_family() -> None:
    from toolkit.report.fonts import FontError as FromFonts

    assert FromFonts is FontError and issubclass(FontError, ToolkitError)
    assert not issubclass(BrowserError, StoreError)


def test_a_missing_chromium_is_a_browser_error(tmp_path, monkeypatch) -> None:
    from toolkit.report import render

    monkeypatch.setattr(render, "find_chromium", lambda: None)
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(BrowserError) as info:
        render.html_to_pdf(page, tmp_path / "r.pdf")
    assert info.value.code == "E_BROWSER_MISSING"
