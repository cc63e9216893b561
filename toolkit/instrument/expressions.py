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
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeAlias

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, ParameterError, Problem
from toolkit.instrument.xpath_functions import EXTRA_FUNCTIONS, EXTRA_USAGE, call_extra

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

#: The longest expression accepted, in characters.
MAX_LENGTH = 2000
#: The deepest nesting accepted (parentheses, function calls, operator levels, unary minus).
MAX_DEPTH = 50

#: Supported functions and their (minimum, maximum) number of arguments.
FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "if": (3, 3),
    "string-length": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "today": (0, 0),
    "number": (1, 1),
    "coalesce": (2, 2),
    **EXTRA_FUNCTIONS,
}

#: A value of the language: a string, a number (always a float) or a boolean.
Value: TypeAlias = str | float | bool

# --------------------------------------------------------------------------------------------
# Syntax tree
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Number:
    """A number literal (always a float, as in XPath)."""

    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class String:
    """A string literal, without its quotes."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Reference:
    """``${name}``: the answer to a variable."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Current:
    """``.``: the current value."""

    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Path:
    """A bare name (``state``: a column of the choice a ``choice_filter`` tests) or ``..`` (the
    enclosing repeat, as the argument of ``position(..)``)."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Operation:
    """Operands joined by binary operators of one precedence level, grouped to the left:
    ``Operation(("+", "-"), (a, b, c))`` is ``(a + b) - c``. ``and``/``or`` chains short-circuit."""

    operators: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call, e.g. ``selected(${q}, 'code')``."""

    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node: TypeAlias = Number | String | Reference | Current | Path | Negate | Operation | Call


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Operation):
        return node.operands
    if isinstance(node, Call):
        return node.args
    return ()


def walk_nodes(root: Node) -> Iterator[Node]:
    """Every node of a syntax tree."""
    return (node for node, _ in _walk(root))


def _walk(root: Node) -> Iterator[tuple[Node, int]]:
    """Every node with its depth (root = 1), without recursion."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in _children(node))


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


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number string ref dot name op end
    text: str  # as written (for messages)
    pos: int  # 0-based offset
    value: str | float = ""


class _Failure(Exception):
    """Internal: a parse failure at a 0-based position (None: no position)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_DIGITS = frozenset("0123456789")
_NAME_CHARS = _NAME_START | _DIGITS | frozenset("-")
_REF_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*", re.ASCII)
_NUMBER_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
_KEYWORD_OPERATORS = frozenset({"and", "or", "div", "mod"})
_FULL_WIDTH = {
    "（": "(",
    "）": ")",
    "，": ",",
    "＝": "=",
    "＞": ">",
    "＜": "<",
    "＋": "+",
    "－": "-",
    "＊": "*",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "＄": "$",
    "｛": "{",
    "｝": "}",
    "。": ".",
    "！": "!",
}
_MISTAKES = {
    "==": "use `=` to compare",
    "&&": "use `and`",
    "&": "use `and`",
    "||": "use `or`",
    "|": "use `or`",
    "!": "use `!=` or `not(...)`",
    "/": "use `div` to divide",
    "%": "use `mod` for the remainder",
}


def _at(pos: int) -> str:
    return f"at character {pos + 1}"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "$":
            if i + 1 >= n or text[i + 1] != "{":
                raise _Failure(
                    f"`$` {_at(i)} must start a reference `${{name}}`",
                    "Write references as ${question_id}.",
                )
            close = text.find("}", i + 2)
            if close < 0:
                raise _Failure(
                    f"the reference `${{` {_at(i)} has no closing `}}`", "Add the missing `}`."
                )
            name = text[i + 2 : close]
            if not name:
                raise _Failure(f"the reference `${{}}` {_at(i)} has no name")
            if not _REF_NAME.fullmatch(name):
                raise _Failure(
                    f"`${{{name}}}` {_at(i)} is not a valid reference: a name starts with a letter "
                    "or `_` and holds only letters, digits, `_`, `-` and `.`"
                )
            tokens.append(_Token("ref", text[i : close + 1], i, name))
            i = close + 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            end = i + 1
            while end < n and (text[end] in _DIGITS or text[end] == "."):
                end += 1
            literal = text[i:end]
            if not _NUMBER_TOKEN.fullmatch(literal):
                raise _Failure(f"`{literal}` {_at(i)} is not a number")
            if end + 1 < n and text[end] in "eE" and text[end + 1] in _DIGITS | {"+", "-"}:
                raise _Failure(
                    f"`{literal}{text[end]}...` {_at(i)}: numbers cannot have an exponent",
                    "Write the number out in full, e.g. 100000 rather than 1e5.",
                )
            tokens.append(_Token("number", literal, i, float(literal)))
            i = end
            continue
        if ch == ".":
            if i + 1 < n and text[i + 1] == ".":
                tokens.append(_Token("parent", "..", i))
                i += 2
                continue
            tokens.append(_Token("dot", ".", i))
            i += 1
            continue
        if ch in "'\"":
            close = text.find(ch, i + 1)
            if close < 0:
                raise _Failure(
                    f"the string starting {_at(i)} is not closed", f"Add the closing `{ch}`."
                )
            tokens.append(_Token("string", text[i : close + 1], i, text[i + 1 : close]))
            i = close + 1
            continue
        if ch in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            if j + 1 < n and text[j] == ":" and text[j + 1] in _NAME_START:  # jr:choice-name
                j += 1
                while j < n and text[j] in _NAME_CHARS:
                    j += 1
            word = text[i:j]
            tokens.append(_Token("name", word, i, word))
            i = j
            continue
        for mistake in ("==", "&&", "||"):
            if text.startswith(mistake, i):
                raise _Failure(f"unexpected `{mistake}` {_at(i)}; {_MISTAKES[mistake]}")
        symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if symbol is not None:
            tokens.append(_Token("op", symbol, i, symbol))
            i += len(symbol)
            continue
        if ch in _MISTAKES:
            raise _Failure(f"unexpected `{ch}` {_at(i)}; {_MISTAKES[ch]}")
        if ch in _FULL_WIDTH:
            raise _Failure(
                f"unexpected full-width character `{ch}` {_at(i)}",
                f"Use the ASCII `{_FULL_WIDTH[ch]}` instead (switch the input method to English).",
            )
        raise _Failure(f"unexpected character `{ch}` {_at(i)}")
    tokens.append(_Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------

_BINDING = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}
_UNARY = 7
_VALUE_HINT = "Write a value there: a number, a 'string', ${question}, `.` or a function call."


class _Parser:
    def __init__(self, text: str, paths: bool = False) -> None:
        self.paths = paths  # bare names are choice columns (a choice_filter)
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise _Failure("the expression is empty")
        root = self.expression(0)
        token = self.peek
        if token.kind != "end":
            if _starts_value(token):
                raise _Failure(
                    f"expected an operator before `{token.text}` {_at(token.pos)}",
                    "Join the two values with an operator such as `=`, `and` or `+`.",
                )
            raise _Failure(f"unexpected `{token.text}` {_at(token.pos)}")
        return root

    @staticmethod
    def binding(token: _Token) -> int:
        if token.kind == "op" or (token.kind == "name" and token.text in _KEYWORD_OPERATORS):
            return _BINDING.get(token.text, 0)
        return 0

    def expression(self, min_binding: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Failure(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels) "
                f"{_at(self.peek.pos)}",
                "Split it into simpler conditions.",
            )
        left = self.prefix()
        operators: list[str] = []
        operands: list[Node] = [left]
        chain_binding = 0
        while True:
            operator = self.peek
            binding = self.binding(operator)
            if binding <= min_binding:
                break
            self.advance()
            if operators and binding != chain_binding:
                operands = [Operation(tuple(operators), tuple(operands))]
                operators = []
            chain_binding = binding
            self.expect_value(f"after `{operator.text}` {_at(operator.pos)}")
            operators.append(operator.text)
            operands.append(self.expression(binding))
        self.depth -= 1
        if operators:
            return Operation(tuple(operators), tuple(operands))
        return left

    def expect_value(self, context: str) -> None:
        token = self.peek
        if not _starts_value(token):
            found = "the end" if token.kind == "end" else f"`{token.text}` {_at(token.pos)}"
            raise _Failure(f"expected a value {context} but found {found}", _VALUE_HINT)

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Number(float(token.value), token.pos)
        if token.kind == "string":
            return String(str(token.value), token.pos)
        if token.kind == "ref":
            return Reference(str(token.value), token.pos)
        if token.kind == "dot":
            return Current(token.pos)
        if token.kind == "parent":
            return Path("..", token.pos)
        if token.kind == "op" and token.text == "-":
            self.expect_value(f"after `-` {_at(token.pos)}")
            return Negate(self.expression(_UNARY), token.pos)
        if token.kind == "op" and token.text == "(":
            self.expect_value(f"after `(` {_at(token.pos)}")
            inner = self.expression(0)
            self.close(token, "`(`")
            return inner
        if token.kind == "name":
            return self.name(token)
        if token.kind == "end":
            raise _Failure("expected a value at the end", _VALUE_HINT)
        raise _Failure(f"expected a value {_at(token.pos)} but found `{token.text}`", _VALUE_HINT)

    def close(self, opening: _Token, what: str) -> None:
        token = self.advance()
        if token.kind == "op" and token.text == ")":
            return
        if token.kind == "end":
            raise _Failure(f"{what} {_at(opening.pos)} is never closed", "Add the missing `)`.")
        raise _Failure(
            f"expected `)` to close {what} {_at(opening.pos)} but found `{token.text}` "
            f"{_at(token.pos)}"
        )

    def name(self, token: _Token) -> Node:
        word = token.text
        is_call = self.peek.kind == "op" and self.peek.text == "("
        if not is_call:
            if word in _KEYWORD_OPERATORS:
                raise _Failure(f"expected a value before `{word}` {_at(token.pos)}", _VALUE_HINT)
            if word in FUNCTIONS:
                raise _Failure(f"`{word}` {_at(token.pos)} is a function; write `{word}(...)`")
            if self.paths:
                return Path(word, token.pos)
            raise _Failure(
                f"unknown name `{word}` {_at(token.pos)}",
                f"Refer to an answer as ${{{word}}}, and write text in quotes: '{word}'.",
            )
        if word not in FUNCTIONS:
            supported = ", ".join(f"{f}()" for f in FUNCTIONS)
            hint = did_you_mean(word, FUNCTIONS).strip()
            raise _Failure(
                f"unknown function `{word}()` {_at(token.pos)}",
                f"{hint} Supported functions: {supported}.".strip(),
            )
        opening = self.advance()
        args: list[Node] = []
        if self.peek.kind == "op" and self.peek.text == ")":
            self.advance()
        else:
            while True:
                self.expect_value(f"as argument {len(args) + 1} of `{word}()` {_at(token.pos)}")
                args.append(self.expression(0))
                separator = self.peek
                if separator.kind == "op" and separator.text == ",":
                    self.advance()
                    continue
                self.close(opening, f"the `(` of `{word}()`")
                break
        low, high = FUNCTIONS[word]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            noun = "argument" if wanted == "1" else "arguments"
            raise _Failure(
                f"`{word}()` {_at(token.pos)} takes {wanted} {noun}, got {len(args)}",
                f"Write it as {_USAGE[word]}.",
            )
        return Call(word, tuple(args), token.pos)


_USAGE = {
    "not": "not(condition)",
    "selected": "selected(${question}, 'code')",
    "count-selected": "count-selected(${question})",
    "if": "if(condition, value_if_true, value_if_false)",
    "string-length": "string-length(value)",
    "true": "true()",
    "false": "false()",
    "today": "today()",
    "number": "number(value)",
    "coalesce": "coalesce(value, fallback)",
    **EXTRA_USAGE,
}


def _starts_value(token: _Token) -> bool:
    if token.kind in ("number", "string", "ref", "dot", "parent"):
        return True
    if token.kind == "name":
        return token.text not in _KEYWORD_OPERATORS
    return token.kind == "op" and token.text in ("(", "-")


@functools.lru_cache(maxsize=4096)
def _parse_source(text: str, paths: bool = False) -> Expression:
    root = _Parser(text, paths).parse()
    if isinstance(root, Path) and root.name == "..":
        raise _Failure(f"`..` {_at(root.pos)} (the parent node) is only read in `position(..)`")
    references: set[str] = set()
    uses_current = False
    for node, depth in _walk(root):
        if isinstance(node, Call) and node.name != "position":
            for arg in node.args:
                if isinstance(arg, Path) and arg.name == "..":
                    raise _Failure(
                        f"`..` {_at(arg.pos)} (the parent node) is only read in `position(..)`",
                        "Refer to other answers as ${question_id}.",
                    )
        if depth > MAX_DEPTH:
            raise _Failure(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                "Split it into simpler conditions.",
            )
        if isinstance(node, Reference):
            references.add(node.name)
        elif isinstance(node, Current):
            uses_current = True
    return Expression(text, root, frozenset(references), uses_current)


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
        (counted from 1).

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
        problem = Problem(where, f"an expression must be text; got {type(text).__name__}")
        raise InstrumentError([problem])
    if len(text) > MAX_LENGTH:
        problem = Problem(
            where,
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}.",
            "Split it into simpler conditions.",
        )
        raise InstrumentError([problem])
    try:
        return _parse_source(text, paths)
    except _Failure as failure:
        message = f"cannot parse `{_shown(text)}`: {failure.message}."
        raise InstrumentError([Problem(where, message, failure.fix)]) from None


# --------------------------------------------------------------------------------------------
# Coercions (XPath 1.0 string(), number(), boolean())
# --------------------------------------------------------------------------------------------

_XPATH_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_EPOCH = _dt.date(1970, 1, 1)
_XPATH_SPACE = " \t\r\n"


def to_number(value: Value) -> float:
    """XPath ``number()``: booleans are 1/0, strings parse as XPath numbers or ISO dates (days
    since 1970-01-01), anything else is NaN.

    >>> to_number(" 12.5 "), to_number(""), to_number("1970-01-11"), to_number(True)
    (12.5, nan, 10.0, 1.0)
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = value.strip(_XPATH_SPACE)
    if _XPATH_NUMBER.fullmatch(text):
        return float(text)
    if _ISO_DATE.fullmatch(text):
        try:
            return float((_dt.date.fromisoformat(text) - _EPOCH).days)
        except ValueError:
            return math.nan
    return math.nan


def _number_to_string(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer():
        return str(int(number))
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_string(value: Value) -> str:
    """XPath ``string()``.

    >>> to_string(3.0), to_string(0.1), to_string(float("nan")), to_string(False)
    ('3', '0.1', 'NaN', 'false')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_to_string(value)
    return value


def to_boolean(value: Value) -> bool:
    """XPath ``boolean()``: numbers are true unless 0 or NaN, strings unless empty.

    >>> to_boolean(""), to_boolean("0"), to_boolean(0.0), to_boolean(float("nan"))
    (False, True, False, False)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value != ""


def _scalar(raw: object) -> Value:
    """Read one answer value (see the module docstring)."""
    if raw is None:
        return ""
    if isinstance(raw, bool | str):
        return raw
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            return math.inf if raw > 0 else -math.inf
    if isinstance(raw, float):
        return "" if math.isnan(raw) else raw
    if isinstance(raw, list | tuple | set | frozenset):
        parts = [to_string(_scalar(item)) if not isinstance(item, str) else item for item in raw]
        if isinstance(raw, set | frozenset):
            parts.sort()
        return " ".join(parts)
    if isinstance(raw, _dt.date):
        return raw.isoformat()
    try:
        if raw != raw:  # NaN-like missing values of tables (NaT, Decimal NaN)
            return ""
    except Exception:  # e.g. pandas.NA, whose comparisons cannot be made boolean
        return ""
    try:
        if isinstance(raw, Decimal):
            return float(raw)
        number = getattr(raw, "__float__", None)
        if number is not None and not isinstance(raw, complex):
            return float(raw)  # type: ignore[arg-type]
        return str(raw)
    except Exception:
        return ""


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
            return _scalar(self.values.get(node.name))
        if isinstance(node, Current):
            return _scalar(self.current)
        if isinstance(node, Path):
            return _scalar(self.values.get("@" + node.name))  # a choice column, '' if none
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
            code = to_string(self.run(args[1])).strip(_XPATH_SPACE)
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
            "", f"cannot evaluate `{_shown(expr.source)}`: {type(exc).__name__}: {exc}"
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
