"""The XPath and ODK functions real XLSForms use beyond the core of :mod:`expressions`.

Each function is evaluated here on XPath values (strings, float numbers, booleans), without
``eval``: a table of arities for the parser and one small Python function each.

``regex(value, pattern)`` matches with the :mod:`regex` module under a time limit
(:data:`REGEX_TIMEOUT` seconds) and size limits on the pattern (:data:`MAX_PATTERN`) and the
text (:data:`MAX_SUBJECT`), so a catastrophic pattern cannot hang a tablet: a match that runs out
of time counts as no match. As in JavaRosa, the pattern is searched for anywhere in the text
(anchor it with ``^...$`` for a full match).

Functions that need data the flat answer mapping does not hold read it from reserved keys:
``position(..)`` reads ``#position`` (the repetition number, from 1), ``jr:choice-name(v, q)``
reads ``#label:q:v`` when given and otherwise returns the code. ``indexed-repeat()`` reads
``#repeat:name`` (a list of the repetitions' values).

References
----------
W3C, *XPath 1.0*, section 4 (core functions); ODK, *ODK XForms Specification*, "XPath functions".

Examples
--------
>>> from toolkit.instrument.expressions import evaluate
>>> evaluate("concat('a', ${n}, 'c')", {"n": 2})
'a2c'
>>> evaluate("regex(${code}, '^[0-9]{3}$')", {"code": "123"})
True
>>> evaluate("round(2.567, 2)", {}), evaluate("int(-3.7)", {})
(2.57, -3.0)
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import uuid as _uuid
from collections.abc import Callable, Mapping
from typing import Any

import regex as _regex

from toolkit.instrument.xpath_values import to_boolean, to_number, to_string

__all__ = [
    "EXTRA_FUNCTIONS",
    "EXTRA_USAGE",
    "MAX_PATTERN",
    "MAX_SUBJECT",
    "REGEX_TIMEOUT",
    "call_extra",
]

#: Seconds one regex() match may take before it counts as no match.
REGEX_TIMEOUT = 0.05
#: Longest regex() pattern accepted, in characters.
MAX_PATTERN = 500
#: Longest text regex() looks at, in characters (longer text does not match).
MAX_SUBJECT = 10_000

_MANY = 50
#: function → (minimum, maximum) number of arguments
EXTRA_FUNCTIONS: Mapping[str, tuple[int, int]] = {
    "concat": (0, _MANY),
    "join": (1, _MANY),
    "int": (1, 1),
    "round": (1, 2),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "abs": (1, 1),
    "pow": (2, 2),
    "sqrt": (1, 1),
    "sum": (1, 1),
    "count": (1, 1),
    "max": (1, _MANY),
    "min": (1, _MANY),
    "string": (0, 1),
    "boolean": (1, 1),
    "boolean-from-string": (1, 1),
    "substr": (2, 3),
    "substring": (2, 3),
    "substring-before": (2, 2),
    "substring-after": (2, 2),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "normalize-space": (0, 1),
    "translate": (3, 3),
    "selected-at": (2, 2),
    "jr:choice-name": (2, 2),
    "position": (0, 1),
    "indexed-repeat": (3, 7),
    "now": (0, 0),
    "date": (1, 1),
    "date-time": (1, 1),
    "decimal-date-time": (1, 1),
    "format-date": (2, 2),
    "format-date-time": (2, 2),
    "once": (1, 1),
    "uuid": (0, 1),
    "regex": (2, 2),
    **{f: (1, 1) for f in ("sin", "cos", "tan", "asin", "acos", "atan", "log", "log10", "exp")},
    "exp10": (1, 1),
    "atan2": (2, 2),
    "pi": (0, 0),
}
_MATH = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "exp10": lambda x: math.pow(10.0, x),
}
EXTRA_USAGE: Mapping[str, str] = {
    name: f"{name}({', '.join('x' * 1 for _ in range(low))})"
    for name, (low, _high) in EXTRA_FUNCTIONS.items()
}


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return _regex.compile(pattern, _regex.VERSION0)


def pattern_problem(pattern: str) -> str | None:
    """Why a regex() pattern cannot be used, or None.

    >>> pattern_problem("^[0-9]{3}$") is None, pattern_problem("([a-z]")
    (True, 'is not a valid pattern (missing ) at position 6)')
    """
    if len(pattern) > MAX_PATTERN:
        return f"is {len(pattern)} characters long"
    try:
        _compiled(pattern)
    except _regex.error as exc:
        return f"is not a valid pattern ({exc})"
    return None


def regex_match(text: str, pattern: str) -> bool:
    """Whether ``pattern`` occurs in ``text``, bounded in size and time (see the module).

    >>> regex_match("a" * 30 + "!", "^(a+)+$")
    False
    """
    if len(pattern) > MAX_PATTERN or len(text) > MAX_SUBJECT:
        return False
    try:
        return _compiled(pattern).search(text, timeout=REGEX_TIMEOUT) is not None
    except (_regex.error, TimeoutError):
        return False


def _fmt_date(value: str, fmt: str) -> str:
    try:
        moment = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    codes = {
        "%Y": f"{moment.year:04d}",
        "%y": f"{moment.year % 100:02d}",
        "%m": f"{moment.month:02d}",
        "%n": str(moment.month),
        "%b": moment.strftime("%b"),
        "%d": f"{moment.day:02d}",
        "%e": str(moment.day),
        "%H": f"{moment.hour:02d}",
        "%h": str(moment.hour),
        "%M": f"{moment.minute:02d}",
        "%S": f"{moment.second:02d}",
        "%a": moment.strftime("%a"),
    }
    out, i = [], 0
    while i < len(fmt):
        code = fmt[i : i + 2]
        if code in codes:
            out.append(codes[code])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def call_extra(ev: Any, name: str, args: tuple[Any, ...]) -> str | float | bool:
    """Evaluate ``name(args)`` with the evaluator ``ev`` (its ``run``, ``values``, ``today``)."""

    def s(i: int) -> str:
        return to_string(ev.run(args[i]))

    def n(i: int) -> float:
        return to_number(ev.run(args[i]))

    simple: dict[str, Callable[[], str | float | bool]] = {
        "concat": lambda: "".join(s(i) for i in range(len(args))),
        "join": lambda: s(0).join(s(i) for i in range(1, len(args))),
        "int": lambda: float(math.trunc(n(0))) if math.isfinite(n(0)) else n(0),
        "floor": lambda: float(math.floor(n(0))) if math.isfinite(n(0)) else n(0),
        "ceiling": lambda: float(math.ceil(n(0))) if math.isfinite(n(0)) else n(0),
        "abs": lambda: abs(n(0)),
        "sqrt": lambda: math.sqrt(n(0)) if n(0) >= 0 else math.nan,
        "sum": lambda: n(0),
        "count": lambda: 0.0 if s(0) == "" else 1.0,
        "max": lambda: max(n(i) for i in range(len(args))),
        "min": lambda: min(n(i) for i in range(len(args))),
        "string": lambda: s(0) if args else to_string(ev.current or ""),
        "boolean": lambda: to_boolean(ev.run(args[0])),
        "boolean-from-string": lambda: s(0).strip().lower() in ("true", "1"),
        "substring-before": lambda: s(0).partition(s(1))[0] if s(1) in s(0) else "",
        "substring-after": lambda: s(0).partition(s(1))[2] if s(1) in s(0) else "",
        "contains": lambda: s(1) in s(0),
        "starts-with": lambda: s(0).startswith(s(1)),
        "ends-with": lambda: s(0).endswith(s(1)),
        "normalize-space": lambda: " ".join((s(0) if args else "").split()),
        "translate": lambda: s(0).translate(
            {ord(a): (s(2)[k] if k < len(s(2)) else None) for k, a in enumerate(s(1))}
        ),
        "now": lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "date": lambda: s(0)[:10],
        "date-time": lambda: s(0),
        "format-date": lambda: _fmt_date(s(0), s(1)),
        "format-date-time": lambda: _fmt_date(s(0), s(1)),
        "once": lambda: ev.run(args[0]),
        "uuid": lambda: str(_uuid.uuid4()),
        "regex": lambda: regex_match(s(0), s(1)),
        "position": lambda: to_number(ev.values.get("#position", "")),
    }
    if name in simple:
        return simple[name]()
    if name in _MATH:
        try:
            return float(_MATH[name](n(0)))
        except (ValueError, OverflowError):
            return math.nan
    if name == "atan2":
        return math.atan2(n(0), n(1))
    if name == "pi":
        return math.pi
    if name == "round":
        digits = int(n(1)) if len(args) > 1 and math.isfinite(n(1)) else 0
        value = n(0)
        if not math.isfinite(value):
            return value
        scale = 10.0**digits
        return math.floor(value * scale + 0.5) / scale  # XPath rounds halves up
    if name == "pow":
        try:
            return math.pow(n(0), n(1))
        except (OverflowError, ValueError):
            return math.nan
    if name in ("substr", "substring"):
        text, start = s(0), n(1)
        if not math.isfinite(start):
            return ""
        # substr() counts from 0 (ODK), substring() from 1 (XPath)
        begin = int(start) - (1 if name == "substring" else 0)
        end = len(text) if len(args) < 3 else begin + int(n(2))
        return text[max(begin, 0) : max(end, 0)]
    if name == "selected-at":
        parts = s(0).split()
        index = n(1)
        return parts[int(index)] if math.isfinite(index) and 0 <= index < len(parts) else ""
    if name == "jr:choice-name":
        code = s(0)
        return to_string(ev.values.get(f"#label:{s(1)}:{code}", code))
    if name == "decimal-date-time":
        try:
            moment = _dt.datetime.fromisoformat(s(0).replace("Z", "+00:00"))
        except ValueError:
            return math.nan
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.UTC)
        return (moment - _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)).total_seconds() / 86400
    if name == "indexed-repeat":
        values = ev.values.get("#repeat:" + getattr(args[0], "name", ""), ())
        index = n(2)
        ok = isinstance(values, list | tuple) and math.isfinite(index)
        if ok and 1 <= index <= len(values):
            return to_string(values[int(index) - 1])
        return ""
    raise AssertionError(f"unhandled function {name}")  # pragma: no cover - parse rejects
