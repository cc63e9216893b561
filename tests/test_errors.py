"""toolkit.errors: one family, each error with a stable code that programs and tests match on."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

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

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"
#: The form of every code: ``E_`` for an error, ``W_`` for a warning, then capitals, digits and _.
CODE = re.compile(r"^[EW]_[A-Z0-9_]+$")

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


# --- every located problem has a code --------------------------------------------------------------


def _is_problem(call: ast.Call) -> bool:
    """Whether ``call`` is ``Problem(...)`` or ``errors.Problem(...)``."""
    func = call.func
    return (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) == "Problem"


def _problem_calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_problem(n))


def _code_argument(call: ast.Call) -> ast.expr | None:
    """The ``code`` a ``Problem(...)`` call passes (5th positional argument or ``code=``); None
    if it passes none, passes ``None``, or may not (``*args``, ``**kwargs``: name the code)."""
    given = [k.value for k in call.keywords if k.arg == "code"]
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    given += positional[4:5]
    if not given or (isinstance(given[0], ast.Constant) and given[0].value is None):
        return None
    return given[0]


def _literal_codes(value: ast.expr) -> list[str]:
    """The codes written as text in ``value``: ``"E_X"``, or both sides of ``"E_X" if c else
    "E_Y"``; a name or attribute (``code=refused.code``) is checked where it is made."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    if isinstance(value, ast.IfExp):
        return _literal_codes(value.body) + _literal_codes(value.orelse)
    return []


def _sources() -> dict[str, ast.AST]:
    return {
        str(path.relative_to(PACKAGE.parent)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _missing_codes(trees: dict[str, ast.AST]) -> list[str]:
    return [
        f"{name}:{call.lineno}"
        for name, tree in trees.items()
        for call in _problem_calls(tree)
        if _code_argument(call) is None
    ]


def test_the_check_for_codes_finds_a_problem_without_one() -> None:
    source = ast.parse(
        "Problem('w', 'm')\n"
        "errors.Problem('w', 'm', 'fix', 'q')\n"
        "Problem(*parts)\n"
        "Problem('w', 'm', code=None)\n"
        "Problem('w', 'm', None, None, 'E_X')\n"
        "Problem('w', 'm', code='E_Y')\n"
        "Problem('w', 'm', code=found.code)\n"
    )
    assert _missing_codes({"x.py": source}) == ["x.py:1", "x.py:2", "x.py:3", "x.py:4"]


def test_every_problem_in_the_package_has_a_code() -> None:
    """Programs and tests match a problem on its code, so every ``Problem(...)`` gives one: the
    5th argument or ``code=``, an ``E_...`` error or a ``W_...`` warning."""
    trees = _sources()
    calls = [call for tree in trees.values() for call in _problem_calls(tree)]
    assert len(calls) > 50  # the walk sees the package's problems
    missing = _missing_codes(trees)
    assert not missing, "Problem(...) without a code (5th argument or code=): " + ", ".join(missing)
    for name, tree in trees.items():  # an alias would hide a call from the walk
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert all(a.name != "Problem" or a.asname is None for a in node.names), name


def test_problem_codes_are_well_formed() -> None:
    """Every code written in the package, given to a ``Problem`` or as ``code=`` to any call (an
    error, a reader's ``add``), reads ``E_...`` or ``W_...`` in capitals."""
    codes: dict[str, str] = {}
    for name, tree in _sources().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            values = [k.value for k in node.keywords if k.arg == "code"]
            found = _code_argument(node) if _is_problem(node) else None
            values += [found] if found is not None else []
            for value in values:
                for code in _literal_codes(value):
                    codes.setdefault(code, f"{name}:{node.lineno}")
    assert len(codes) > 50
    bad = {code: place for code, place in codes.items() if not CODE.fullmatch(code)}
    assert not bad, bad
    assert CODE.fullmatch("E_UNKNOWN_CHOICE_LIST") and not CODE.fullmatch("E_unknown")
    assert not CODE.fullmatch("UNKNOWN") and not CODE.fullmatch("X_UNKNOWN")
