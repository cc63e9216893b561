"""The syntax of the expression language: its syntax tree, tokenizer and Pratt parser.

Split from :mod:`toolkit.instrument.expressions` (which re-exports the public names and
documents the grammar): :func:`parse_tree` turns a text into a tree of immutable nodes, or raises
:class:`ParseFailure` with a message and a fix; nothing here hands the input to Python's own
evaluation or ``ast`` module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from toolkit._checks import did_you_mean
from toolkit.instrument.xpath_functions import EXTRA_FUNCTIONS, EXTRA_USAGE

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Call",
    "Current",
    "Negate",
    "Node",
    "Number",
    "Operation",
    "ParseFailure",
    "Path",
    "Reference",
    "String",
    "parse_tree",
    "walk_nodes",
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


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number string ref dot name op end
    text: str  # as written (for messages)
    pos: int  # 0-based offset
    value: str | float = ""


class ParseFailure(Exception):
    """Internal: a parse failure, with its message, fix and problem code (``E_EXPRESSION_SYNTAX``,
    or ``E_TOO_DEEP`` for nesting beyond :data:`MAX_DEPTH`)."""

    def __init__(
        self, message: str, fix: str | None = None, *, code: str = "E_EXPRESSION_SYNTAX"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code


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
                raise ParseFailure(
                    f"`$` {_at(i)} must start a reference `${{name}}`",
                    "Write references as ${question_id}.",
                )
            close = text.find("}", i + 2)
            if close < 0:
                raise ParseFailure(
                    f"the reference `${{` {_at(i)} has no closing `}}`", "Add the missing `}`."
                )
            name = text[i + 2 : close]
            if not name:
                raise ParseFailure(f"the reference `${{}}` {_at(i)} has no name")
            if not _REF_NAME.fullmatch(name):
                raise ParseFailure(
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
                raise ParseFailure(f"`{literal}` {_at(i)} is not a number")
            if end + 1 < n and text[end] in "eE" and text[end + 1] in _DIGITS | {"+", "-"}:
                raise ParseFailure(
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
                raise ParseFailure(
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
                raise ParseFailure(f"unexpected `{mistake}` {_at(i)}; {_MISTAKES[mistake]}")
        symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if symbol is not None:
            tokens.append(_Token("op", symbol, i, symbol))
            i += len(symbol)
            continue
        if ch in _MISTAKES:
            raise ParseFailure(f"unexpected `{ch}` {_at(i)}; {_MISTAKES[ch]}")
        if ch in _FULL_WIDTH:
            raise ParseFailure(
                f"unexpected full-width character `{ch}` {_at(i)}",
                f"Use the ASCII `{_FULL_WIDTH[ch]}` instead (switch the input method to English).",
            )
        raise ParseFailure(f"unexpected character `{ch}` {_at(i)}")
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
            raise ParseFailure("the expression is empty")
        root = self.expression(0)
        token = self.peek
        if token.kind != "end":
            if _starts_value(token):
                raise ParseFailure(
                    f"expected an operator before `{token.text}` {_at(token.pos)}",
                    "Join the two values with an operator such as `=`, `and` or `+`.",
                )
            raise ParseFailure(f"unexpected `{token.text}` {_at(token.pos)}")
        return root

    @staticmethod
    def binding(token: _Token) -> int:
        if token.kind == "op" or (token.kind == "name" and token.text in _KEYWORD_OPERATORS):
            return _BINDING.get(token.text, 0)
        return 0

    def expression(self, min_binding: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseFailure(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels) "
                f"{_at(self.peek.pos)}",
                "Split it into simpler conditions.",
                code="E_TOO_DEEP",
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
            raise ParseFailure(f"expected a value {context} but found {found}", _VALUE_HINT)

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
            raise ParseFailure("expected a value at the end", _VALUE_HINT)
        raise ParseFailure(
            f"expected a value {_at(token.pos)} but found `{token.text}`", _VALUE_HINT
        )

    def close(self, opening: _Token, what: str) -> None:
        token = self.advance()
        if token.kind == "op" and token.text == ")":
            return
        if token.kind == "end":
            raise ParseFailure(f"{what} {_at(opening.pos)} is never closed", "Add the missing `)`.")
        raise ParseFailure(
            f"expected `)` to close {what} {_at(opening.pos)} but found `{token.text}` "
            f"{_at(token.pos)}"
        )

    def name(self, token: _Token) -> Node:
        word = token.text
        is_call = self.peek.kind == "op" and self.peek.text == "("
        if not is_call:
            if word in _KEYWORD_OPERATORS:
                raise ParseFailure(
                    f"expected a value before `{word}` {_at(token.pos)}", _VALUE_HINT
                )
            if word in FUNCTIONS:
                raise ParseFailure(f"`{word}` {_at(token.pos)} is a function; write `{word}(...)`")
            if self.paths:
                return Path(word, token.pos)
            raise ParseFailure(
                f"unknown name `{word}` {_at(token.pos)}",
                f"Refer to an answer as ${{{word}}}, and write text in quotes: '{word}'.",
            )
        if word not in FUNCTIONS:
            supported = ", ".join(f"{f}()" for f in FUNCTIONS)
            hint = did_you_mean(word, FUNCTIONS).strip()
            raise ParseFailure(
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
            raise ParseFailure(
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


def parse_tree(text: str, paths: bool = False) -> tuple[Node, frozenset[str], bool]:
    """Parse ``text`` into its syntax tree, the variable names it references and whether it
    uses ``.``; raises :class:`ParseFailure` (without a location, which
    :func:`~toolkit.instrument.expressions.parse` adds)."""
    root = _Parser(text, paths).parse()
    if isinstance(root, Path) and root.name == "..":
        raise ParseFailure(f"`..` {_at(root.pos)} (the parent node) is only read in `position(..)`")
    references: set[str] = set()
    uses_current = False
    for node, depth in _walk(root):
        if isinstance(node, Call) and node.name != "position":
            for arg in node.args:
                if isinstance(arg, Path) and arg.name == "..":
                    raise ParseFailure(
                        f"`..` {_at(arg.pos)} (the parent node) is only read in `position(..)`",
                        "Refer to other answers as ${question_id}.",
                    )
        if depth > MAX_DEPTH:
            raise ParseFailure(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)",
                "Split it into simpler conditions.",
                code="E_TOO_DEEP",
            )
        if isinstance(node, Reference):
            references.add(node.name)
        elif isinstance(node, Current):
            uses_current = True
    return root, frozenset(references), uses_current
