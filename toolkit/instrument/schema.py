"""The instrument schema: which fields each part of an instrument may have, and the limits.

Shared by the YAML reader, the XLSForm reader and the builder, so that both formats accept the
same instruments.
"""

from __future__ import annotations

import re

from toolkit.instrument.model import QUESTION_TYPES

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "TYPE_FIELDS",
    "check_id",
]

#: Largest instrument file accepted (bytes of UTF-8). Real instruments are a few kilobytes.
MAX_FILE_BYTES = 1_000_000
#: Longest question, item, page or choice-list id (Stata's limit on variable names).
MAX_ID_LENGTH = 32
#: Deepest nesting of YAML collections accepted (an instrument needs about 8).
MAX_DEPTH = 40
#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 100
#: Bounds of ``max_length`` for text questions.
MAX_TEXT_LENGTH = 100_000

ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SURVEY_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
VALUE_RE = re.compile(r"\S{1,64}")
INT_RE = re.compile(r"[+-]?[0-9]+")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


KINDS = ("evaluation", "hearing", "coordination", "other")

# --- the schema: which fields each part of the file may have -------------------------------------
TOP_FIELDS = ("settings", "choices", "pages")
SETTINGS_FIELDS = (
    "id",
    "version",
    "title",
    "description",
    "default_language",
    "anonymous",
    "kind",
)
LIST_FIELDS = ("ordered", "dont_know_label", "choices")
CHOICE_FIELDS = ("value", "label", "points")
PAGE_FIELDS = ("id", "title", "relevant", "questions")
ITEM_FIELDS = ("id", "label", "hint", "allow_dont_know", "required")
TEXT_FIELDS = ("zh", "en")
QUESTION_FIELDS = (
    "id",
    "type",
    "label",
    "hint",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "relevant",
    "appearance",
    "choices",
    "items",
    "per_subject",
    "allow_dont_know",
    "default",
    "min_length",
    "max_length",
)
COMMON = frozenset({"id", "type", "label", "hint", "relevant", "appearance"})
ANSWERED = COMMON | {"required", "required_message", "default"}
CHECKED = ANSWERED | {"constraint", "constraint_message"}
#: The fields each question type accepts.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "single": CHECKED | {"choices"},
    "multiple": CHECKED | {"choices"},
    "grid": ANSWERED | {"choices", "items", "per_subject", "allow_dont_know"},
    "integer": CHECKED,
    "decimal": CHECKED,
    "text": CHECKED | {"min_length", "max_length"},
    "date": CHECKED,
    "note": COMMON,
}
# Which types a field belongs to, for "field `items` is only for grid questions".
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    name: tuple(t for t in QUESTION_TYPES if name in TYPE_FIELDS[t]) for name in QUESTION_FIELDS
}


def check_id(value: str) -> str | None:
    """Return why ``value`` is not a valid question/item/page/choice-list id, or ``None``.

    Ids become variable names (columns in Stata, R, pandas): ``[A-Za-z_][A-Za-z0-9_]*``, at most
    32 characters, and without ``__``, which is reserved for per-subject variables
    (``subject__item``).

    >>> check_id("attitude") is None
    True
    >>> check_id("2nd")
    '`2nd` is not a valid id: use letters, digits and `_`, starting with a letter or `_`.'
    """
    if not ID_RE.fullmatch(value):
        return (
            f"`{value}` is not a valid id: use letters, digits and `_`, "
            "starting with a letter or `_`."
        )
    if len(value) > MAX_ID_LENGTH:
        return (
            f"`{value}` is {len(value)} characters long; ids are at most {MAX_ID_LENGTH} "
            "characters (Stata's limit on variable names)."
        )
    if "__" in value:
        return (
            f"`{value}` contains `__`, which is reserved for per-subject variables "
            "(`subject__item`). Use a single `_`."
        )
    return None
