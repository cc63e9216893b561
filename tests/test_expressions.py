"""Tests of toolkit.instrument.expressions: grammar, XPath 1.0 coercions, errors, robustness.

The expected values of the coercion rules are those of the W3C XPath 1.0 recommendation (1999),
sections 3.4 (comparisons), 3.5 (numbers: div, mod) and 4 (string(), number(), boolean()), and of
the ODK XForms specification for selected(), count-selected(), if() and coalesce().
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import math
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.errors import InstrumentError, ParameterError, Problem, ToolkitError
from toolkit.instrument import expressions as ex
from toolkit.instrument.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Call,
    Current,
    Expression,
    Negate,
    Number,
    Operation,
    Reference,
    String,
    evaluate,
    is_true,
    parse,
    to_boolean,
    to_number,
    to_string,
)

NAN = math.nan


def same(a: object, b: object) -> bool:
    """Equality that treats NaN as equal to NaN and keeps bool apart from float."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def ev(text: str, values: dict[str, object] | None = None, current: object = None) -> object:
    return evaluate(parse(text), values or {}, current=current, today=dt.date(2026, 3, 1))


def problem_of(text: str, where: str = "", code: str = "E_EXPRESSION_SYNTAX") -> Problem:
    """The one problem ``parse`` reports for ``text``, located at ``where``, with ``code``.

    Beyond the code, tests match short fragments of the message where it holds what only it
    holds: the place inside the expression (``at character N``) and what was found there.
    """
    with pytest.raises(InstrumentError) as info:
        parse(text, where=where)
    (problem,) = info.value.problems
    assert (problem.code, problem.where) == (code, where), problem
    return problem


# ---------------------------------------------------------------------------------------------
# Literals, references, the syntax tree
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12.0),
        ("0", 0.0),
        ("007", 7.0),
        ("3.25", 3.25),
        (".5", 0.5),
        ("1.", 1.0),
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("'say \"hi\"'", 'say "hi"'),
        ('"it\'s"', "it's"),
        ("''", ""),
        ("'满意'", "满意"),
        ("'  spaced '", "  spaced "),
    ],
)
def test_literals(text: str, expected: object) -> None:
    assert same(ev(text), expected)


def test_number_literals_are_floats_and_have_no_exponent() -> None:
    assert isinstance(ev("12"), float)
    problem = problem_of("1e5")
    assert "`1e...` at character 1" in problem.message and "exponent" in problem.message
    assert problem.fix is not None  # says how to write the number instead
    assert "exponent" in problem_of("2 * 2.5E-3").message


def test_syntax_tree_shape() -> None:
    root = parse("1 + 2 * 3").root
    assert root == Operation(("+",), (Number(1.0), Operation(("*",), (Number(2.0), Number(3.0)))))
    assert parse("-${a}").root == Negate(Reference("a"))
    assert parse(".").root == Current()
    assert parse("selected(${q}, 'x')").root == Call("selected", (Reference("q"), String("x")))
    # one precedence level makes one flat, left-grouped node
    assert parse("10 - 3 + 2").root == Operation(
        ("-", "+"), (Number(10.0), Number(3.0), Number(2.0))
    )
    # positions are kept (0-based) but do not take part in equality
    assert parse("  ${a}").root.pos == 2  # type: ignore[union-attr]


def test_expression_metadata_and_cache() -> None:
    expr = parse("${a} = 'x' and (. > ${b} or selected(${a}, 'y'))")
    assert isinstance(expr, Expression)
    assert expr.references == frozenset({"a", "b"})
    assert expr.uses_current is True
    assert parse("${a} + 1").uses_current is False
    assert parse("1").references == frozenset()
    assert parse("${a} > 1") is parse("${a} > 1")
    assert str(expr) == expr.source
    assert expr.evaluate({"a": "x", "b": 1}, current=5) is True
    assert expr.evaluate({"a": "x"}, current=5) is False  # 5 > '' is false
    assert expr.is_true({"a": "z"}, current=5) is False
    hash(expr)  # immutable and hashable


def test_reference_names_follow_xlsform() -> None:
    assert parse("${q_1.a-b}").references == frozenset({"q_1.a-b"})
    assert parse("${_x}").references == frozenset({"_x"})
    assert parse("${wuye__attitude}").references == frozenset({"wuye__attitude"})


def test_references_and_current_read_answers() -> None:
    values = {"a": 3, "s": "yes", "m": ["a", "b"], "f": 2.5, "t": True}
    assert same(ev("${a}", values), 3.0)
    assert same(ev("${s}", values), "yes")
    assert same(ev("${m}", values), "a b")
    assert same(ev("${f}", values), 2.5)
    assert same(ev("${t}", values), True)
    assert same(ev("${missing}", values), "")
    assert same(ev(".", values, current=7), 7.0)
    assert same(ev(".", values), "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        (float("nan"), ""),  # a missing cell of a table
        (True, True),
        (False, False),
        (5, 5.0),
        (10**400, math.inf),
        (-(10**400), -math.inf),
        (Decimal("2.5"), 2.5),
        (Decimal("NaN"), ""),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (("x", "y"), "x y"),
        ({"b", "a"}, "a b"),
        ([1, "a"], "1 a"),
        ([], ""),
    ],
)
def test_how_answers_are_read(raw: object, expected: object) -> None:
    assert same(evaluate(parse("${v}"), {"v": raw}), expected)


def test_unreadable_answers_read_as_empty() -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __ne__(self, other: object) -> bool:
            raise RuntimeError("no")

    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert evaluate("${v}", {"v": Hostile()}) == ""
    assert evaluate("${v}", {"v": Odd()}) == "odd"
    assert evaluate("${v} + 1", {"v": 1 + 2j}) != evaluate("${v} + 1", {"v": 1 + 2j})  # NaN


# ---------------------------------------------------------------------------------------------
# Operators, precedence, functions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # comparisons
        ("1 = 1", True),
        ("1 != 1", False),
        ("1 < 2", True),
        ("2 < 1", False),
        ("2 <= 2", True),
        ("3 <= 2", False),
        ("3 > 2", True),
        ("2 > 3", False),
        ("2 >= 2", True),
        ("1 >= 2", False),
        ("'a' = 'a'", True),
        ("'a' != 'b'", True),
        # logic
        ("true() and false()", False),
        ("true() and true()", True),
        ("false() or true()", True),
        ("false() or false()", False),
        ("not(true())", False),
        ("not(false())", True),
        # arithmetic
        ("7 + 2", 9.0),
        ("7 - 2", 5.0),
        ("7 * 2", 14.0),
        ("7 div 2", 3.5),
        ("7 mod 2", 1.0),
        ("-7", -7.0),
        ("- -7", 7.0),
        ("--7", 7.0),
        ("2--1", 3.0),
        ("2-1", 1.0),
        ("7 mod 2.5", 2.0),
        ("0.5 * 4", 2.0),
    ],
)
def test_every_operator(text: str, expected: object) -> None:
    assert same(ev(text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("1 + 2 * 3 = 7", True),
        ("(1 + 2) * 3", 9.0),
        ("10 - 3 - 2", 5.0),  # left to right
        ("100 div 10 div 5", 2.0),
        ("2 * 3 mod 4", 2.0),  # (2 * 3) mod 4
        ("7 mod 4 * 2", 6.0),  # (7 mod 4) * 2
        ("-2 * 3", -6.0),
        ("- 2 + 3", 1.0),  # unary minus binds tighter than +
        ("1 + 1 > 1", True),  # arithmetic before comparison
        ("1 < 2 = 2 < 3", True),  # relational before equality
        ("1 < 2 < 3", True),  # (1 < 2) < 3: true() < 3 -> 1 < 3
        ("3 > 2 > 1", False),  # (3 > 2) > 1: 1 > 1
        ("1 = 1 = 1", True),
        ("true() or true() and false()", True),  # and before or
        ("(true() or true()) and false()", False),
        ("false() and true() or true()", True),
        ("1 = 2 or 2 = 2", True),
        ("1 = 1 and 2 = 3", False),
        ("-(2 + 3)", -5.0),
        ("2 * -3", -6.0),
    ],
)
def test_precedence(text: str, expected: object) -> None:
    assert same(ev(text), expected)


@pytest.mark.parametrize(
    ("a", "b", "c", "a_or_b_and_c", "not_a_and_b"),
    [
        (x, y, z, x or (y and z), (not x) and y)
        for x in (True, False)
        for y in (True, False)
        for z in (True, False)
    ],
)
def test_logic_precedence_truth_table(
    a: bool, b: bool, c: bool, a_or_b_and_c: bool, not_a_and_b: bool
) -> None:
    values = {"a": "y" if a else "", "b": "y" if b else "", "c": "y" if c else ""}
    assert is_true("${a} or ${b} and ${c}", values) is a_or_b_and_c
    assert is_true("not(${a}) and ${b}", values) is not_a_and_b


def test_and_or_short_circuit() -> None:
    # the right side would be NaN-based nonsense but must not even be needed
    assert ev("false() and (1 div 0 > 0)") is False
    assert ev("true() or ${x} > 0") is True
    assert parse("${a} and ${b} and ${c}").root == Operation(
        ("and", "and"), (Reference("a"), Reference("b"), Reference("c"))
    )


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("selected(${m}, 'a')", {"m": ["a", "b"]}, True),
        ("selected(${m}, 'c')", {"m": ["a", "b"]}, False),
        ("selected(${m}, 'a')", {}, False),  # unanswered multiple
        ("selected(${m}, '')", {"m": ["a"]}, False),
        ("selected(${m}, ' a ')", {"m": ["a"]}, True),
        ("selected(${m}, 'a')", {"m": "a b"}, True),  # the ODK space-separated form
        ("selected(${s}, 'ab')", {"s": "a"}, False),  # whole codes only
        ("selected(., 'x')", {}, False),
        ("count-selected(${m})", {"m": ["a", "b", "c"]}, 3.0),
        ("count-selected(${m})", {}, 0.0),
        ("if(${n} > 1, 'big', 'small')", {"n": 2}, "big"),
        ("if(${n} > 1, 'big', 'small')", {"n": 1}, "small"),
        ("if(${n}, 1, 2)", {}, 2.0),
        ("string-length(${t})", {"t": "满意度"}, 3.0),
        ("string-length(${t})", {}, 0.0),
        ("string-length(12.50)", {}, 4.0),  # string(12.5) = '12.5'
        ("true()", {}, True),
        ("false()", {}, False),
        ("number('12.5')", {}, 12.5),
        ("number(' -3 ')", {}, -3.0),
        ("number('abc')", {}, NAN),
        ("number('')", {}, NAN),
        ("number('1e3')", {}, NAN),  # no exponents in XPath
        ("number('+3')", {}, NAN),
        ("number(true())", {}, 1.0),
        ("number(${d})", {"d": "1970-01-11"}, 10.0),
        ("coalesce(${a}, 'fallback')", {}, "fallback"),
        ("coalesce(${a}, 'fallback')", {"a": "x"}, "x"),
        ("coalesce(${a}, ${b})", {"b": 4}, 4.0),
        ("coalesce(${a}, 0)", {"a": 0}, 0.0),
        ("today()", {}, "2026-03-01"),
        ("today() > '2026-02-28'", {}, True),
        ("${d} < today()", {"d": "2026-02-28"}, True),
        ("today() - ${d}", {"d": "2026-02-01"}, 28.0),
        ("not(${x})", {}, True),
        ("not('0')", {}, False),  # a non-empty string is true
        ("not(0)", {}, True),
    ],
)
def test_functions(text: str, values: dict[str, object], expected: object) -> None:
    assert same(ev(text, values), expected)


def test_if_is_lazy() -> None:
    assert ev("if(true(), 1, 1 div 0)") == 1.0


def test_today_defaults_to_the_system_date() -> None:
    assert evaluate("today()", {}) == dt.date.today().isoformat()


# ---------------------------------------------------------------------------------------------
# XPath coercions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        # unanswered is '' and '' is not a number
        ("${x} < 1", {}, False),
        ("${x} > 1", {}, False),
        ("${x} <= 1", {}, False),
        ("${x} >= 1", {}, False),
        ("${x} = 0", {}, False),
        ("${x} != 0", {}, True),
        ("${x} = ''", {}, True),
        ("${x} != ''", {}, False),
        ("${x} + 1", {}, NAN),
        ("-${x}", {}, NAN),
        ("${x} * 0", {}, NAN),
        # = between a number and a numeric string compares numerically
        ("${n} = '3'", {"n": 3}, True),
        ("${s} = 3", {"s": "3.0"}, True),
        ("${s} = 3", {"s": " 3 "}, True),
        ("'3.0' = '3'", {}, False),  # two strings compare as strings
        ("${s} != 3", {"s": "abc"}, True),
        # booleans win over numbers and strings in =
        ("true() = 'x'", {}, True),
        ("true() = ''", {}, False),
        ("false() = 0", {}, True),
        ("true() = 2", {}, True),
        ("true() != 0", {}, True),
        # relational operators compare numbers
        ("'10' > '9'", {}, True),
        ("'b' > 'a'", {}, False),  # NaN
        ("true() > false()", {}, True),
        ("${s} > 2", {"s": "2.5"}, True),
        # arithmetic converts to numbers
        ("'2' + '3'", {}, 5.0),
        ("true() + 1", {}, 2.0),
        ("'a' + 1", {}, NAN),
        # multiple answers read as space-separated strings
        ("${m} = 'a b'", {"m": ["a", "b"]}, True),
        ("${m} = ''", {"m": []}, True),
        # division and remainder as in XPath
        ("1 div 0", {}, math.inf),
        ("-1 div 0", {}, -math.inf),
        ("0 div 0", {}, NAN),
        ("${x} div 0", {}, NAN),
        ("5 mod 2", {}, 1.0),
        ("5 mod -2", {}, 1.0),
        ("-5 mod 2", {}, -1.0),
        ("-5 mod -2", {}, -1.0),
        ("5 mod 0", {}, NAN),
        ("(1 div 0) mod 2", {}, NAN),
        ("5 mod (1 div 0)", {}, 5.0),
        ("(1 div 0) - (1 div 0)", {}, NAN),
        ("(0 div 0) = (0 div 0)", {}, False),
        ("(0 div 0) != (0 div 0)", {}, True),
        ("1 div 0 > 1000000", {}, True),
        # booleans of values
        ("if(0, 1, 2)", {}, 2.0),
        ("if(0 div 0, 1, 2)", {}, 2.0),
        ("if(0.1, 1, 2)", {}, 1.0),
        ("if('false', 1, 2)", {}, 1.0),  # non-empty string
        ("if('', 1, 2)", {}, 2.0),
    ],
)
def test_coercions(text: str, values: dict[str, object], expected: object) -> None:
    assert same(ev(text, values), expected)


def test_huge_numbers_do_not_overflow() -> None:
    big = "9" * 400
    assert ev(f"{big} * {big}") == math.inf
    assert ev(f"{big} - {big}") != ev(f"{big} - {big}")  # inf - inf is NaN
    assert ev("${n} + 1", {"n": 10**500}) == math.inf
    assert to_string(ev(f"{big} * {big}")) == "Infinity"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (-3.0, "-3"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (1e20, "100000000000000000000"),
        (123.456, "123.456"),
        (NAN, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (True, "true"),
        (False, "false"),
        ("x", "x"),
    ],
)
def test_to_string(value: ex.Value, text: str) -> None:
    assert to_string(value) == text


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("12", 12.0),
        (" 12 ", 12.0),
        ("\t-0.5\n", -0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("", NAN),
        (" ", NAN),
        ("1,000", NAN),
        ("0x10", NAN),
        ("inf", NAN),
        ("NaN", NAN),
        ("１２", NAN),  # full-width digits are not XPath digits
        ("2024-02-30", NAN),  # not a date
        ("1970-01-02", 1.0),
        ("1969-12-31", -1.0),
        (True, 1.0),
        (False, 0.0),
        (2.5, 2.5),
    ],
)
def test_to_number(value: ex.Value, number: float) -> None:
    assert same(to_number(value), number)


@pytest.mark.parametrize(
    ("value", "truth"),
    [("", False), ("0", True), ("false", True), (0.0, False), (-0.0, False), (NAN, False),
     (0.001, True), (math.inf, True), (True, True), (False, False)],
)  # fmt: skip
def test_to_boolean(value: ex.Value, truth: bool) -> None:
    assert to_boolean(value) is truth


def test_is_true_and_evaluate_accept_text() -> None:
    assert is_true("${a} = 'x'", {"a": "x"}) is True
    assert is_true(parse("${a}"), {"a": 0}) is False  # boolean(0)
    assert is_true("${a}", {"a": "0"}) is True
    assert is_true("count-selected(${m})", {"m": ["a"]}) is True


def test_evaluate_rejects_wrong_arguments() -> None:
    with pytest.raises(ParameterError, match="`values` must be a mapping"):
        evaluate("1", None)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="`expr` must be an Expression"):
        evaluate(12, {})  # type: ignore[arg-type]
    with pytest.raises(InstrumentError) as info:
        evaluate("1 +", {})
    assert [p.code for p in info.value.problems] == ["E_EXPRESSION_SYNTAX"]


# ---------------------------------------------------------------------------------------------
# Errors: exact messages and positions (characters counted from 1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${a} >", "cannot parse `${a} >`: expected a value after `>` at character 6"),
        ("1 + )", "expected a value after `+` at character 3 but found `)` at character 5"),
        ("1 +* 2", "expected a value after `+` at character 3 but found `*` at character 4"),
        ("(1 + 2", "`(` at character 1 is never closed"),
        ("(1 + 2 3", "expected `)` to close `(` at character 1 but found `3` at character 8"),
        ("1 + 2)", "unexpected `)` at character 6"),
        ("${a} ${b}", "expected an operator before `${b}` at character 6"),
        ("1 2", "expected an operator before `2` at character 3"),
        ("", "the expression is empty"),
        ("  \n ", "the expression is empty"),
        ("'abc", "the string starting at character 1 is not closed"),
        ('${a} = "x', "the string starting at character 8 is not closed"),
        ("${a", "the reference `${` at character 1 has no closing `}`"),
        ("1 + ${}", "the reference `${}` at character 5 has no name"),
        ("${a b}", "`${a b}` at character 1 is not a valid reference"),
        ("${1a}", "`${1a}` at character 1 is not a valid reference"),
        ("$a", "`$` at character 1 must start a reference `${name}`"),
        ("foo", "unknown name `foo` at character 1"),
        ("${a} = yes", "unknown name `yes` at character 8"),
        ("foo(1)", "unknown function `foo()` at character 1"),
        ("1 + count_selected(${a})", "unknown function `count_selected()` at character 5"),
        ("pulldata('a', 'b', 'c', 'd')", "unknown function `pulldata()` at character 1"),
        ("selected(${a})", "`selected()` at character 1 takes 2 arguments, got 1"),
        ("not()", "`not()` at character 1 takes 1 argument, got 0"),
        ("true(1)", "`true()` at character 1 takes 0 arguments, got 1"),
        ("if(1, 2", "the `(` of `if()` at character 3 is never closed"),
        ("selected(${a},)", "expected a value as argument 2 of `selected()` at character 1"),
        ("not", "`not` at character 1 is a function; write `not(...)`"),
        ("and 1", "expected a value before `and` at character 1"),
        ("1 and", "expected a value after `and` at character 3 but found the end"),
        ("-", "expected a value after `-` at character 1 but found the end"),
        ("()", "expected a value after `(` at character 1 but found `)` at character 2"),
        (")", "expected a value at character 1 but found `)`"),
        (",", "expected a value at character 1 but found `,`"),
        ("1 == 2", "unexpected `==` at character 3; use `=` to compare"),
        ("1 && 2", "unexpected `&&` at character 3; use `and`"),
        ("1 || 2", "unexpected `||` at character 3; use `or`"),
        ("1 | 2", "unexpected `|` at character 3; use `or`"),
        ("!${a}", "unexpected `!` at character 1; use `!=` or `not(...)`"),
        ("4 / 2", "unexpected `/` at character 3; use `div` to divide"),
        ("4 % 2", "unexpected `%` at character 3; use `mod` for the remainder"),
        ("${a} ＝ 'x'", "unexpected full-width character `＝` at character 6"),
        ("selected（${a}, 'x')", "unexpected full-width character `（` at character 9"),
        ("..", "`..` at character 1 (the parent node) is only read in `position(..)`"),
        ("count(..)", "`..` at character 7 (the parent node) is only read in `position(..)`"),
        ("1..2", "`1..2` at character 1 is not a number"),
        ("1 # 2", "unexpected character `#` at character 3"),
        ("/data/a", "unexpected `/` at character 1"),
        ("${a}[1]", "unexpected character `[` at character 5"),
        ("jr:x(${a}, 'x')", "unknown function `jr:x()` at character 1"),
    ],
)
def test_parse_errors_say_what_and_where(text: str, message: str) -> None:
    got = problem_of(text, where="surveys/x.yaml, line 3, question `q`, field `relevant`").message
    assert f"`{text.replace(chr(10), ' ')}`" in got  # the message quotes the expression
    assert message in got


def test_error_carries_where_and_fix() -> None:
    where = "surveys/x.yaml, line 12, question `q1`, field `relevant`"
    with pytest.raises(InstrumentError) as info:
        parse("${a} >", where=where)
    problem = info.value.problems[0]
    assert (problem.code, problem.where) == ("E_EXPRESSION_SYNTAX", where)
    # one exact message, on purpose: the place, the problem and the fix, in that order
    assert problem.message == (
        "cannot parse `${a} >`: expected a value after `>` at character 6 but found the end."
    )
    assert problem.fix is not None and "Write a value" in problem.fix
    assert str(info.value).startswith("1 problem found")
    assert where in str(info.value)


def test_did_you_mean_for_functions() -> None:
    with pytest.raises(InstrumentError) as info:
        parse("count_selected(${a})")
    assert info.value.problems[0].fix is not None
    assert info.value.problems[0].fix.startswith("Did you mean `count-selected`?")


def test_errors_are_raised_again_for_the_same_text_with_a_new_where() -> None:
    for where in ("first", "second"):
        with pytest.raises(InstrumentError) as info:
            parse("1 +", where=where)
        assert info.value.problems[0].where == where


def test_non_text_is_an_instrument_error() -> None:
    with pytest.raises(InstrumentError) as info:
        parse(12, where="here")  # type: ignore[arg-type]
    (problem,) = info.value.problems
    assert (problem.code, problem.where) == ("E_NOT_TEXT", "here")
    assert "int" in problem.message  # what it got


def test_long_expressions_are_shortened_in_messages() -> None:
    text = "1 + " * 100 + ")"
    message = problem_of(text).message
    assert "... " not in message[:20]
    assert len(message) < 250
    assert "at character 401" in message


# ---------------------------------------------------------------------------------------------
# Limits: hostile input cannot hang or overflow the stack
# ---------------------------------------------------------------------------------------------


def test_length_limit() -> None:
    assert parse("1" * MAX_LENGTH).root == Number(float("1" * MAX_LENGTH))
    problem = problem_of("1" * (MAX_LENGTH + 1), code="E_TOO_LONG")
    assert "2,001" in problem.message and f"{MAX_LENGTH:,}" in problem.message  # length, limit
    assert problem.fix is not None


@pytest.mark.parametrize(
    "text",
    [
        "(" * 60 + "1" + ")" * 60,
        "(" * 1000,
        "-" * 1999 + "1",
        "not(" * 300 + "1" + ")" * 300,
        "if(" * 400,
        "selected(" * 200,
    ],
)
def test_depth_limit(text: str) -> None:
    assert f"{MAX_DEPTH}" in problem_of(text, code="E_TOO_DEEP").message  # the limit


def test_reasonable_nesting_is_accepted() -> None:
    depth = 20
    text = "(" * depth + "1" + ")" * depth
    assert ev(text) == 1.0
    nested = "if(${a} > 1, " * 10 + "'x'" + ", 'y')" * 10
    assert ev(nested, {"a": 5}) == "x"


def test_long_flat_chains_are_not_deep() -> None:
    # 500 operands at one precedence level make one flat node: no recursion in evaluation
    text = " + ".join(["1"] * 500)
    assert len(text) < MAX_LENGTH
    assert ev(text) == 500.0
    text = " or ".join(["${a}"] * 200)
    assert is_true(text, {"a": "y"}) is True
    mixed = "1" + "-1+1" * 399
    assert ev(mixed) == 1.0


def test_deep_trees_built_by_precedence_levels_are_limited() -> None:
    # each level closes a node on the left: a*b+c<d=e and f or g, nested in parentheses
    unit = "{} * 2 + 3 < 4 = 5 and 6 or 7"
    text = "1"
    for _ in range(12):
        text = unit.format(f"({text})")
    assert len(text) < MAX_LENGTH
    problem_of(text, code="E_TOO_DEEP")


def _calls(text: str) -> int:
    """Python and C function calls made while parsing ``text``: a count of the work, the same
    on any machine and under any load (a clock is neither)."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        with contextlib.suppress(InstrumentError):
            parse(text)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "${" * (n // 2),
        lambda n: "'" * n,
        lambda n: "(" * n,
        lambda n: "-" * n,
        lambda n: "1 +" * (n // 3),
        lambda n: "selected(" * (n // 9),
        lambda n: " " * (n - 1) + "1",
        lambda n: "${a} = '" + "x" * (n - 10),
        lambda n: "." * n,
        lambda n: "$" * n,
    ],
)
def test_worst_case_inputs_take_linear_work(make: Any) -> None:
    """Doubling a pathological input at most doubles the parser's work (plus a constant):
    no quadratic or exponential path, up to the longest expression allowed."""
    half, full = _calls(make(MAX_LENGTH // 2)), _calls(make(MAX_LENGTH))
    assert len(make(MAX_LENGTH)) <= MAX_LENGTH
    assert full <= 2.2 * half + 200, (half, full)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

TOKENS = [
    "${a}", "${b}", "${m}", "${n}", ".", "1", "0", "2.5", ".5", "-3", "'x'", '"y"', "''", "'a b'",
    "=", "!=", "<", "<=", ">", ">=", "and", "or", "not(", "+", "-", "*", "div", "mod", "(", ")",
    ",", "selected(", "count-selected(", "if(", "string-length(", "true()", "false()", "today()",
    "number(", "coalesce(", "${", "}", "'", '"', "$", "..", "==", "!", "（", "foo", "foo(",
]  # fmt: skip

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["", "0", "1", "-2.5", " 3 ", "2024-02-29", "a", "x y"]),
    st.lists(st.sampled_from(["a", "b", "x", "y"]), max_size=3),
)
VALUE_MAPS = st.dictionaries(st.sampled_from(["a", "b", "m", "n"]), VALUES, max_size=4)


def _leaf() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ["${a}", "${b}", "${m}", "${n}", ".", "1", "0", "2.5", "'x'", "''", "true()", "false()",
         "today()", "'2024-02-29'"]
    )  # fmt: skip


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(
        ["=", "!=", "<", "<=", ">", ">=", "and", "or", "+", "-", "*", "div", "mod"]
    )
    return st.one_of(
        st.tuples(children, ops, children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"not({c})"),
        children.map(lambda c: f"count-selected({c})"),
        children.map(lambda c: f"string-length({c})"),
        children.map(lambda c: f"number({c})"),
        st.tuples(children, children).map(lambda t: f"selected({t[0]}, {t[1]})"),
        st.tuples(children, children).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
    )


VALID = st.recursive(_leaf(), _combine, max_leaves=25)
FAST = settings(
    max_examples=150,
    deadline=dt.timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
)


def _parse_or_none(text: str) -> Expression | None:
    try:
        return parse(text)
    except InstrumentError as exc:
        codes = {"E_EXPRESSION_SYNTAX", "E_TOO_DEEP"}
        assert exc.problems and all(p.code in codes for p in exc.problems)
        return None


@FAST
@given(text=st.text(max_size=120))
def test_random_text_parses_or_raises_instrument_error(text: str) -> None:
    _parse_or_none(text)


@FAST
@given(text=st.text(alphabet="${}()'\".,=!<>+-*/ abdmnoirvt0123456789_", max_size=80))
def test_random_ascii_parses_or_raises_instrument_error(text: str) -> None:
    _parse_or_none(text)


@FAST
@given(
    tokens=st.lists(st.sampled_from(TOKENS), max_size=30),
    glue=st.sampled_from(["", " "]),
    values=VALUE_MAPS,
    current=VALUES,
)
def test_token_soup_parses_or_raises_and_evaluates(
    tokens: list[str], glue: str, values: dict[str, object], current: object
) -> None:
    expr = _parse_or_none(glue.join(tokens))
    if expr is not None:
        result = evaluate(expr, values, current=current)
        assert isinstance(result, str | float | bool)
        assert isinstance(is_true(expr, values, current=current), bool)


def _render(node: ex.Node) -> str:
    """The tree written back with every operation parenthesised."""
    if isinstance(node, Number):
        return repr(node.value) if node.value >= 0 else f"({node.value!r})"
    if isinstance(node, String):
        return f"'{node.value}'"
    if isinstance(node, Reference):
        return f"${{{node.name}}}"
    if isinstance(node, Current):
        return "."
    if isinstance(node, Negate):
        return f"(-{_render(node.operand)})"
    if isinstance(node, Operation):
        text = _render(node.operands[0])
        for op, operand in zip(node.operators, node.operands[1:], strict=True):
            text = f"({text} {op} {_render(operand)})"
        return text
    return f"{node.name}({', '.join(_render(a) for a in node.args)})"


@FAST
@given(text=VALID, values=VALUE_MAPS, current=VALUES)
def test_valid_expressions_evaluate_and_round_trip(
    text: str, values: dict[str, object], current: object
) -> None:
    expr = _parse_or_none(text)  # may only fail on the depth limit
    if expr is None:
        return
    result = evaluate(expr, values, current=current, today=dt.date(2026, 3, 1))
    assert isinstance(result, str | float | bool)
    # writing the tree back with explicit parentheses gives an expression with the same value
    again = _parse_or_none(_render(expr.root))
    if again is not None:
        assert same(evaluate(again, values, current=current, today=dt.date(2026, 3, 1)), result)
        assert again.references == expr.references


# ---------------------------------------------------------------------------------------------
# No eval, exec or compile
# ---------------------------------------------------------------------------------------------


def test_never_calls_eval_exec_or_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec/compile called")

    texts = [
        "1 + 2 * 3",
        "${a} = 'x' and not(${b}) or selected(${m}, 'a')",
        "if(count-selected(${m}) > 1, string-length(${a}), number('3'))",
        "coalesce(${a}, today()) != . and -${n} div 0 < 1 mod 2",
        "__import__('os').system('echo hacked')",
        "${a}.__class__",
        "exec('1')",
        "eval('1')",
        "compile('1', 'x', 'eval')",
        "[x for x in ()]",
        "lambda: 1",
    ]
    ex._parse_source.cache_clear()
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", forbidden)
    parsed = 0
    for text in texts:
        try:
            expr = parse(text)
        except InstrumentError:
            continue
        parsed += 1
        evaluate(expr, {"a": "x", "b": "", "m": ["a", "b"], "n": 2}, current=1)
    assert parsed == 4


def test_module_sources_do_not_mention_eval_exec_compile_or_ast() -> None:
    root = Path(ex.__file__).parent
    forbidden = re.compile(
        r"(?<![.\w])(eval|exec|compile|__import__)\s*\(|\bimport\s+ast\b|\bfrom\s+ast\b|literal_eval"
    )
    for name in (
        "expressions.py",
        "expression_syntax.py",
        "xpath_values.py",
        "xpath_functions.py",
        "answers.py",
    ):
        source = (root / name).read_text(encoding="utf-8")
        assert not forbidden.search(source), name


def test_light_imports() -> None:
    import subprocess
    import sys

    code = (
        "import sys, toolkit.instrument.expressions, toolkit.instrument.answers;"
        "heavy = {'pandas', 'numpy', 'scipy', 'sqlalchemy'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_are_toolkit_errors() -> None:
    assert issubclass(InstrumentError, ToolkitError)
