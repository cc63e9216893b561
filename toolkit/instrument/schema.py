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
#: A choice value as pyxform accepts it: any text (ODK warns about spaces in select_multiple).
XML_VALUE_RE = re.compile(r"\S(?:.{0,253}\S)?", re.DOTALL)
# pyxform's XML name (NCName, pyxform/parsing/expression.py, from the XML Namespaces spec)
_NAME_START = (
    "A-Z_a-z\xc0-\xd6\xd8-\xf6\xf8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
XML_NAME_RE = re.compile(f"[{_NAME_START}][{_NAME_START}\\-.0-9\xb7\u0300-\u036f\u203f-\u2040]*")
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
    "metadata",
    "allow_choice_duplicates",
    "xlsform_names",
)
LIST_FIELDS = ("ordered", "dont_know_label", "external", "choices")
CHOICE_FIELDS = ("value", "label", "points", "filters")
PAGE_FIELDS = ("id", "title", "relevant", "questions", "groups", "repeat", "repeat_count")
GROUP_FIELDS = ("id", "label", "relevant", "appearance", "parent", "repeat", "repeat_count")
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
    "calculation",
    "read_only",
    "choice_filter",
    "or_other",
    "parameters",
    "group",
    "name",
)
COMMON = frozenset({"id", "type", "label", "hint", "relevant", "appearance", "group", "name"})
ANSWERED = COMMON | {"required", "required_message", "default", "read_only", "calculation"}
CHECKED = ANSWERED | {"constraint", "constraint_message"}
#: The fields each question type accepts.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "single": CHECKED | {"choices", "choice_filter", "or_other"},
    "multiple": CHECKED | {"choices", "choice_filter", "or_other"},
    "grid": ANSWERED | {"choices", "items", "per_subject", "allow_dont_know"},
    "integer": CHECKED,
    "decimal": CHECKED,
    "text": CHECKED | {"min_length", "max_length"},
    "date": CHECKED,
    "note": COMMON | {"read_only"},
    "calculate": CHECKED,
    "time": CHECKED,
    "datetime": CHECKED,
    "range": CHECKED | {"parameters"},
}
# Which types a field belongs to, for "field `items` is only for grid questions".
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    name: tuple(t for t in QUESTION_TYPES if name in TYPE_FIELDS[t]) for name in QUESTION_FIELDS
}


def check_xml_name(value: str) -> str | None:
    """Why ``value`` is not a name pyxform accepts (an XML name: letters, digits, ``_``, ``-``,
    ``.``, starting with a letter or ``_``), or ``None``.

    >>> check_xml_name("tel.office") is None, check_xml_name("no-calendar_date") is None
    (True, True)
    >>> check_xml_name("2nd")
    '`2nd` is not a valid name: use letters, digits, `_`, `-` and `.`, starting with a letter or `_`.'
    """
    if XML_NAME_RE.fullmatch(value) and len(value) <= 255:
        return None
    return (
        f"`{value}` is not a valid name: use letters, digits, `_`, `-` and `.`, "
        "starting with a letter or `_`."
    )


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
