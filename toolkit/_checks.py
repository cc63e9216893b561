"""Argument checks with one wording for every public function (as scikit-learn does).

>>> check_option("method", "wilson", ("wilson", "exact"))
'wilson'
>>> check_option("method", "wilsen", ("wilson", "exact"))
Traceback (most recent call last):
...
toolkit.errors.ParameterError: `method` must be one of 'wilson', 'exact'; got 'wilsen'.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from toolkit.errors import DataError, ParameterError

T = TypeVar("T")

__all__ = [
    "check_columns",
    "check_option",
    "check_range",
    "column_list",
    "deprecated",
    "did_you_mean",
]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return " Did you mean `x`?" for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def column_list(name: str, value: str | Sequence[str] | None) -> list[str]:
    """``value`` (one column name, several, or ``None``) as a list of column names.

    >>> column_list("by", "age"), column_list("by", None), column_list("items", ["a", "b"])
    (['age'], [], ['a', 'b'])
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        out = list(value)
    except TypeError:
        raise ParameterError(
            f"`{name}` must be a column name or a list of column names; got {value!r}."
        ) from None
    if len(set(out)) != len(out):
        raise ParameterError(f"`{name}` names a column twice: {out!r}.")
    return out


def check_option(name: str, value: T, allowed: Sequence[T]) -> T:
    """Return ``value`` if it is one of ``allowed``, else raise :class:`ParameterError`."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"`{name}` must be one of {options}; got {value!r}.", code="E_OPTION")
    return value


def check_range(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> Any:
    """Return ``value`` if it lies in the range, else raise :class:`ParameterError`.

    >>> check_range("confidence", 1.5, low=0, high=1, low_inclusive=False, high_inclusive=False)
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: `confidence` must be in (0, 1); got 1.5.
    """
    ok = True
    if low is not None:
        ok = ok and (value >= low if low_inclusive else value > low)
    if high is not None:
        ok = ok and (value <= high if high_inclusive else value < high)
    if not ok:
        left = ("[" if low_inclusive else "(") + ("-inf" if low is None else f"{low:g}")
        right = ("inf" if high is None else f"{high:g}") + ("]" if high_inclusive else ")")
        raise ParameterError(f"`{name}` must be in {left}, {right}; got {value!r}.", code="E_RANGE")
    return value


def check_columns(data: Any, columns: Iterable[str], *, argument: str = "data") -> None:
    """Raise :class:`DataError` naming every column of ``columns`` missing from ``data``."""
    present = [str(c) for c in data.columns]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        hints = "".join(did_you_mean(str(m), present) for m in missing)
        names = ", ".join(f"`{m}`" for m in missing)
        raise DataError(
            f"`{argument}` has no column {names}; its columns are "
            f"{', '.join(present[:20])}{' ...' if len(present) > 20 else ''}.{hints}",
            code="E_MISSING_COLUMN",
        )


def deprecated(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (``FutureWarning``, shown in notebooks) that ``old`` is renamed ``new``.

    ``old`` and ``new`` are argument or function names as a caller writes them, e.g.
    ``"krippendorff_alpha(level=)"`` and ``"krippendorff_alpha(metric=)"``.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     deprecated("f(a=)", "f(b=)")
    >>> str(caught[0].message)
    'f(a=) is deprecated and will be removed in a future release; use f(b=).'
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in a future release; use {new}.",
        FutureWarning,
        stacklevel=stacklevel,
    )
