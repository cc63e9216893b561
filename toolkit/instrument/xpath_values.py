"""XPath 1.0 values and their coercions (``string()``, ``number()``, ``boolean()``).

Split from :mod:`toolkit.instrument.expressions` (which re-exports them) so that the evaluator and
:mod:`toolkit.instrument.xpath_functions` share them without importing each other.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import TypeAlias

__all__ = ["XPATH_SPACE", "Value", "read_answer", "to_boolean", "to_number", "to_string"]

#: A value of the language: a string, a number (always a float) or a boolean.
Value: TypeAlias = str | float | bool


# Coercions (XPath 1.0 string(), number(), boolean())
# --------------------------------------------------------------------------------------------

_XPATH_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_EPOCH = _dt.date(1970, 1, 1)
XPATH_SPACE = " \t\r\n"


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
    text = value.strip(XPATH_SPACE)
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


def read_answer(raw: object) -> Value:
    """Read one answer value (see the docstring of :mod:`toolkit.instrument.expressions`)."""
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
        parts = [
            to_string(read_answer(item)) if not isinstance(item, str) else item for item in raw
        ]
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
