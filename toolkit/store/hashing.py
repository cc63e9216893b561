"""Canonical answers and their hash; ballot-code hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    pass

__all__ = ["answers_hash"]


def _canonical(value: Any) -> Any:
    if isinstance(value, list | tuple):
        items = [_canonical(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def answers_hash(answers: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a ballot's answers (keys sorted, multiple choices sorted).

    Two sends of one ballot have the same hash whatever the key order or the order of the chosen
    options; this is what :meth:`Store.submit` compares when a UUID comes again.

    Parameters
    ----------
    answers : mapping
        Variable name → value.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> answers_hash({"a": "x", "m": ["p", "q"]}) == answers_hash({"m": ["q", "p"], "a": "x"})
    True
    """
    text = json.dumps(
        _canonical(answers),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
