"""The expression language of instruments: an XLSForm-compatible subset of XPath 1.0.

``relevant`` and ``constraint`` fields of a question are expressions such as
``${project_elevator} = 'yes'`` or ``. >= 1 and . <= 200``. They are parsed by a hand-written
tokenizer and a Pratt (precedence-climbing) parser into a small immutable syntax tree, and evaluated
by walking that tree. Nothing here hands the input to ``eval``, ``exec``, ``compile`` or Python's
``ast`` module, and hostile input is bounded (:data:`MAX_LENGTH` characters, :data:`MAX_DEPTH`
levels of nesting), so an instrument file cannot run code or hang the tablet.

Grammar
-------
======================  ==========================================================================
``${name}``             the answer to variable ``name`` ('' when unanswered)
``.``                   the current value (the answer a ``constraint`` is checking)
``12``, ``3.5``         numbers (no exponents, as in XPath)
``'text'``, ``"text"``  strings (no escapes, as in XPath)
``or``                  lowest precedence
``and``
``=`` ``!=``
``<`` ``<=`` ``>`` ``>=``
``+`` ``-``
``*`` ``div`` ``mod``
``-x``                  unary minus, highest precedence
``( ... )``             grouping
functions               ``not(x)``, ``selected(${q}, 'code')``, ``count-selected(${q})``,
                        ``if(c, a, b)``, ``string-length(x)``, ``true()``, ``false()``, ``today()``,
                        ``number(x)``, ``coalesce(a, b)``
======================  ==========================================================================

Operators of one precedence level group to the left (``10 - 3 - 2`` is 5).

Values and coercions (XPath 1.0, section 3.4 and 4)
---------------------------------------------------
Values are strings, numbers (floats) and booleans. Answers are read as: unanswered (absent,
``None`` or a missing table cell) → ``''``; ``int``/``float`` → number; ``bool`` → boolean;
``str`` → string; a list (a multiple-choice answer) → its codes joined by spaces, as ODK stores it.

- ``boolean()``: a number is true unless 0 or NaN; a string is true unless empty.
- ``number()``: a string that is an XPath number (``-12.5``, ``' 3 '``) is that number; an ISO date
  ``YYYY-MM-DD`` is its day count since 1970-01-01 (as ODK/JavaRosa does, so dates compare and
  subtract); anything else, including ``''``, is NaN.
- ``string()``: integral numbers print without a decimal point (``3``), NaN as ``NaN``,
  infinities as ``Infinity``/``-Infinity``; booleans as ``true``/``false``.
- ``=``/``!=``: if either side is a boolean both are compared as booleans, else if either is a
  number both are compared as numbers (so ``${n} = '3'`` is true for the answer 3), else as strings.
- ``<``, ``<=``, ``>``, ``>=``: both sides as numbers; NaN (e.g. an unanswered ``''``) makes the
  comparison false.
- arithmetic is on numbers (so ``'' + 1`` is NaN); ``div`` by zero gives ±Infinity or NaN and
  ``mod`` is the truncated remainder (its sign follows the dividend), as in XPath.

References
----------
W3C, *XML Path Language (XPath) Version 1.0* (1999), sections 3.4 (booleans), 3.5 (numbers) and 4
(core functions). ODK, *ODK XForms Specification*, "XPath functions" (``selected``,
``count-selected``, ``if``, ``coalesce``, ``today``). XLSForm documentation, "Formulas".

Examples
--------
>>> expr = parse("${project_elevator} = 'yes'")
>>> sorted(expr.references)
['project_elevator']
>>> is_true(expr, {"project_elevator": "yes"}), is_true(expr, {})
(True, False)
>>> evaluate(parse(". >= 1 and . <= 200"), {}, current=12)
True
>>> evaluate("1 + 2 * 3", {})
7.0
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.errors import InstrumentError, ParameterError, Problem
from toolkit.instrument.expression_syntax import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Call,
    Current,
    Negate,
    Node,
    Number,
    Operation,
    ParseFailure,
    Path,
    Reference,
    String,
    parse_tree,
)
from toolkit.instrument.expression_syntax import walk_nodes as walk_nodes
from toolkit.instrument.xpath_functions import EXTRA_FUNCTIONS, call_extra
from toolkit.instrument.xpath_values import (
    XPATH_SPACE,
    Value,
    read_answer,
    to_boolean,
    to_number,
    to_string,
)

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Call",
    "Current",
    "Expression",
    "Negate",
    "Node",
    "Number",
    "Operation",
    "Reference",
    "String",
    "Value",
    "evaluate",
    "is_true",
    "parse",
    "to_boolean",
    "to_number",
    "to_string",
]


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its ``source`` text, the syntax tree ``root``, the variable names it
    ``references`` and whether it ``uses_current`` (``.``). Build one with :func:`parse`."""

    source: str
    root: Node
    references: frozenset[str]
    uses_current: bool

    def __str__(self) -> str:
        return self.source

    def evaluate(self, values: Mapping[str, object], *, current: object = None) -> Value:
        """Shorthand for :func:`evaluate`."""
        return evaluate(self, values, current=current)

    def is_true(self, values: Mapping[str, object], *, current: object = None) -> bool:
        """Shorthand for :func:`is_true`."""
        return is_true(self, values, current=current)


@functools.lru_cache(maxsize=4096)
def _parse_source(text: str, paths: bool = False) -> Expression:
    root, references, uses_current = parse_tree(text, paths)
    return Expression(text, root, references, uses_current)


def _shown(text: str) -> str:
    flat = "".join(" " if c in "\r\n\t" else c for c in text)
    return flat if len(flat) <= 80 else flat[:77] + "..."


def parse(text: str, *, where: str = "", paths: bool = False) -> Expression:
    """Parse an expression (cached: the same text gives the same :class:`Expression`).

    Parameters
    ----------
    text : str
        The expression, e.g. ``"${q1} = 'yes' and . > 3"``; at most :data:`MAX_LENGTH` characters
        and :data:`MAX_DEPTH` levels of nesting.
    where : str, optional
        The location prefix of the error, e.g. ``"surveys/x.yaml, line 12, question `q1`, field
        `relevant`"``.
    paths : bool, optional
        Read bare names (``state = ${state}``) as the columns of a choice, as a ``choice_filter``
        does; elsewhere a bare name is a mistake for ``${name}`` or ``'text'``.

    Returns
    -------
    Expression
        The syntax tree with the variables it references and whether it uses ``.``.

    Raises
    ------
    InstrumentError
        With one :class:`~toolkit.errors.Problem` saying what is wrong at which character
        (counted from 1). Its code is ``E_EXPRESSION_SYNTAX``, ``E_TOO_LONG`` (more than
        :data:`MAX_LENGTH` characters), ``E_TOO_DEEP`` (more than :data:`MAX_DEPTH` levels) or
        ``E_NOT_TEXT`` (``text`` is not a str).

    Notes
    -----
    A hand-written tokenizer and Pratt parser (precedence climbing); binding powers, lowest
    first: ``or`` < ``and`` < ``= !=`` < ``< <= > >=`` < ``+ -`` < ``* div mod`` < unary ``-``.

    References
    ----------
    W3C, *XML Path Language (XPath) Version 1.0* (1999), section 3 (expression grammar).
    V. R. Pratt, "Top down operator precedence", POPL 1973.

    Examples
    --------
    >>> parse("selected(${rectify}, 'other')").references
    frozenset({'rectify'})
    >>> parse("${a} >")
    Traceback (most recent call last):
    ...
    toolkit.errors.InstrumentError: 1 problem found (...):
      - cannot parse `${a} >`: expected a value after `>` at character 6 but found the end. ...
    """
    if not isinstance(text, str):
        problem = Problem(
            where,
            f"an expression must be text; got {type(text).__name__}.",
            "Pass it as text (str).",
            code="E_NOT_TEXT",
        )
        raise InstrumentError([problem])
    if len(text) > MAX_LENGTH:
        problem = Problem(
            where,
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            "Split it into simpler conditions.",
            code="E_TOO_LONG",
        )
        raise InstrumentError([problem])
    try:
        return _parse_source(text, paths)
    except ParseFailure as failure:
        message = f"cannot parse `{_shown(text)}`: {failure.message}."
        problem = Problem(where, message, failure.fix, code=failure.code)
        raise InstrumentError([problem]) from None


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return to_boolean(left) == to_boolean(right)
    if isinstance(left, float) or isinstance(right, float):
        return to_number(left) == to_number(right)
    return left == right


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def _modulo(left: float, right: float) -> float:
    if right == 0 or math.isnan(right) or math.isnan(left) or math.isinf(left):
        return math.nan
    if math.isinf(right):
        return left
    return math.fmod(left, right)


def _binary(operator: str, left: Value, right: Value) -> Value:
    if operator == "=":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)
    a, b = to_number(left), to_number(right)
    if operator == "<":
        return a < b
    if operator == "<=":
        return a <= b
    if operator == ">":
        return a > b
    if operator == ">=":
        return a >= b
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if operator == "div":
        return _divide(a, b)
    return _modulo(a, b)  # mod


class _Evaluator:
    def __init__(
        self, values: Mapping[str, object], current: object, today: _dt.date | None
    ) -> None:
        self.values = values
        self.current = current
        self.today = today

    def run(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, String):
            return node.value
        if isinstance(node, Reference):
            return read_answer(self.values.get(node.name))
        if isinstance(node, Current):
            return read_answer(self.current)
        if isinstance(node, Path):
            return read_answer(self.values.get("@" + node.name))  # a choice column, '' if none
        if isinstance(node, Negate):
            return -to_number(self.run(node.operand))
        if isinstance(node, Operation):
            return self.operation(node)
        return self.call(node)

    def operation(self, node: Operation) -> Value:
        first = node.operators[0]
        if first == "and":
            return all(to_boolean(self.run(operand)) for operand in node.operands)
        if first == "or":
            return any(to_boolean(self.run(operand)) for operand in node.operands)
        value = self.run(node.operands[0])
        for operator, operand in zip(node.operators, node.operands[1:], strict=True):
            value = _binary(operator, value, self.run(operand))
        return value

    def call(self, node: Call) -> Value:
        name, args = node.name, node.args
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "not":
            return not to_boolean(self.run(args[0]))
        if name == "if":
            branch = args[1] if to_boolean(self.run(args[0])) else args[2]
            return self.run(branch)
        if name == "selected":
            code = to_string(self.run(args[1])).strip(XPATH_SPACE)
            return bool(code) and code in to_string(self.run(args[0])).split()
        if name == "count-selected":
            return float(len(to_string(self.run(args[0])).split()))
        if name == "string-length":
            return float(len(to_string(self.run(args[0]))))
        if name == "number":
            return to_number(self.run(args[0]))
        if name == "coalesce":
            first = self.run(args[0])
            return first if to_string(first) != "" else self.run(args[1])
        if name == "today":
            return (self.today or _dt.date.today()).isoformat()
        if name in EXTRA_FUNCTIONS:
            return call_extra(self, name, args)
        raise AssertionError(f"unhandled function {name}")  # pragma: no cover - parse rejects


def evaluate(
    expr: Expression | str,
    values: Mapping[str, object],
    *,
    current: object = None,
    today: _dt.date | None = None,
) -> Value:
    """Evaluate an expression on a flat answers mapping.

    Parameters
    ----------
    expr : Expression or str
        A parsed expression, or its text (parsed with :func:`parse`, cached).
    values : Mapping[str, object]
        Variable name → answer, as in :mod:`toolkit.instrument.model`; a missing name reads as
        ``''``.
    current : object, optional
        The value of ``.`` (the answer a constraint checks); ``None`` reads as ``''``.
    today : datetime.date, optional
        The date ``today()`` returns (default: the system date), for reproducible checks.

    Returns
    -------
    str, float or bool
        The XPath value. Numbers are always floats.

    Notes
    -----
    Coercions follow XPath 1.0 (see the module docstring): ``boolean(x)``, ``number(x)`` and
    ``string(x)``; ``a div 0`` is ±Infinity (NaN for ``0 div 0``); ``a mod b`` is
    ``a - b * trunc(a / b)``. Evaluation never raises anything but a
    :class:`~toolkit.errors.ToolkitError`.

    References
    ----------
    W3C, *XML Path Language (XPath) Version 1.0* (1999), sections 3.4, 3.5 and 4.

    Examples
    --------
    >>> evaluate("${n} + 1", {"n": 2})
    3.0
    >>> evaluate("${missing} + 1", {})
    nan
    >>> evaluate("count-selected(${rectify})", {"rectify": ["slow_response", "other"]})
    2.0
    >>> evaluate("if(${age} >= 60, 'senior', 'adult')", {"age": 72})
    'senior'
    """
    if isinstance(expr, str):
        expr = parse(expr)
    if not isinstance(expr, Expression):
        raise ParameterError(
            f"`expr` must be an Expression or its text; got {type(expr).__name__}."
        )
    if not hasattr(values, "get"):
        raise ParameterError(
            f"`values` must be a mapping of variable name to answer; got {type(values).__name__}."
        )
    try:
        return _Evaluator(values, current, today).run(expr.root)
    except (ArithmeticError, RecursionError, ValueError, TypeError) as exc:  # pragma: no cover
        problem = Problem(
            "",
            f"cannot evaluate `{_shown(expr.source)}`: {type(exc).__name__}: {exc}",
            code="E_EXPRESSION_EVALUATION",
        )
        raise InstrumentError([problem]) from exc


def is_true(
    expr: Expression | str,
    values: Mapping[str, object],
    *,
    current: object = None,
    today: _dt.date | None = None,
) -> bool:
    """Evaluate an expression and convert the result with XPath ``boolean()``.

    Parameters
    ----------
    expr : Expression or str
        A parsed expression, or its text.
    values : Mapping[str, object]
        Variable name → answer; a missing name reads as ``''``.
    current : object, optional
        The value of ``.``.
    today : datetime.date, optional
        The date ``today()`` returns.

    Returns
    -------
    bool
        ``boolean(value)``: a number is true unless 0 or NaN, a string unless empty.

    References
    ----------
    W3C, *XML Path Language (XPath) Version 1.0* (1999), section 4.3 (``boolean()``).

    Examples
    --------
    >>> is_true("selected(${rectify}, 'other')", {"rectify": ["other"]})
    True
    >>> is_true("${comments}", {}), is_true("${comments}", {"comments": "好"})
    (False, True)
    """
    return to_boolean(evaluate(expr, values, current=current, today=today))
