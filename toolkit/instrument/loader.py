"""Instruments as YAML files: read one into a :class:`~toolkit.instrument.model.Survey`, or explain
every problem at once.

The format is described in ``docs/instrument-format.md``. The file is composed with PyYAML's safe
composer (never constructed into Python objects), so that every node keeps its line and every
problem is located::

    surveys/evaluation.yaml, line 42, question `overall`, field `relevant`: unknown question
    `${atitude}`. Did you mean `attitude`?

All problems of a file are collected before one :class:`~toolkit.errors.InstrumentError` is raised.
Instrument files are treated as untrusted input: only the safe composer is used, files are bounded
(:data:`MAX_FILE_BYTES`), YAML aliases are refused (no "billion laughs") and nesting is bounded.

>>> survey = loads_survey('''
... settings: {id: demo, version: "1", title: 示例}
... pages:
...   - id: p1
...     title: 第一页
...     questions:
...       - {id: age, type: integer, label: 年龄, constraint: ". >= 18"}
... ''')
>>> survey.question("age").constraint
'. >= 18'
>>> loads_survey("settings: {id: demo, version: '1', title: 示例}\\npages: []")
Traceback (most recent call last):
...
toolkit.errors.InstrumentError: <string>: 1 problem found (...):
  - <string>, line 2, field `pages`: the instrument has no pages. Add at least one page ...
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.model import (
    DONT_KNOW,
    DONT_KNOW_LABEL_EN,
    DONT_KNOW_LABEL_ZH,
    LANGUAGES,
    QUESTION_TYPES,
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    QuestionType,
    Settings,
    Survey,
    Text,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "check_id",
    "load_survey",
    "loads_survey",
    "validate_files",
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

_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SURVEY_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_VALUE_RE = re.compile(r"\S{1,64}")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

_KINDS = ("evaluation", "hearing", "coordination", "other")

# --- the schema: which fields each part of the file may have -------------------------------------
_TOP_FIELDS = ("settings", "choices", "pages")
_SETTINGS_FIELDS = (
    "id",
    "version",
    "title",
    "description",
    "default_language",
    "anonymous",
    "kind",
)
_LIST_FIELDS = ("ordered", "dont_know_label", "choices")
_CHOICE_FIELDS = ("value", "label", "points")
_PAGE_FIELDS = ("id", "title", "relevant", "questions")
_ITEM_FIELDS = ("id", "label", "hint", "allow_dont_know", "required")
_TEXT_FIELDS = ("zh", "en")
_QUESTION_FIELDS = (
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
_COMMON = frozenset({"id", "type", "label", "hint", "relevant", "appearance"})
_ANSWERED = _COMMON | {"required", "required_message", "default"}
_CHECKED = _ANSWERED | {"constraint", "constraint_message"}
#: The fields each question type accepts.
TYPE_FIELDS: dict[str, frozenset[str]] = {
    "single": _CHECKED | {"choices"},
    "multiple": _CHECKED | {"choices"},
    "grid": _ANSWERED | {"choices", "items", "per_subject", "allow_dont_know"},
    "integer": _CHECKED,
    "decimal": _CHECKED,
    "text": _CHECKED | {"min_length", "max_length"},
    "date": _CHECKED,
    "note": _COMMON,
}
# Which types a field belongs to, for "field `items` is only for grid questions".
_FIELD_TYPES: dict[str, tuple[str, ...]] = {
    name: tuple(t for t in QUESTION_TYPES if name in TYPE_FIELDS[t]) for name in _QUESTION_FIELDS
}

_CONSTRUCTOR = SafeConstructor()


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
    if not _ID_RE.fullmatch(value):
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


class _Refused(Exception):
    """Raised inside the composer to stop at an alias or at excessive nesting."""

    def __init__(self, mark: yaml.Mark | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.fix = fix


class _Composer(yaml.SafeLoader):
    """PyYAML's safe composer (nodes only, nothing is constructed), refusing aliases and deep
    nesting. The pure-Python parser is used on purpose, not libyaml's: libyaml accepts some
    text the Python parser rejects (``{en: Is it?}``), and a file must load the same everywhere."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                event.start_mark,
                f"YAML aliases (`*{getattr(event, 'anchor', '')}`) are not allowed in instruments.",
                "Write the value out in full; shared answer scales go under `choices:`.",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"the YAML is nested more than {MAX_DEPTH} levels deep.",
                    "An instrument needs only a few levels; check the indentation.",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return "nothing"
    value = str(node.value)
    return f"`{value[:40]}{'...' if len(value) > 40 else ''}`"


def _peek_id(node: Node) -> str | None:
    """The ``id`` written in a mapping node, if any (to name it in messages before checks)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                text = str(value.value).strip()
                if text and value.tag != _NULL and len(text) <= 64 and "`" not in text:
                    return text
                return None
    return None


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


@dataclass
class _Place:
    """Where we are in the file: the parts after the line ("question `q`", "item `i`")."""

    parts: tuple[str, ...] = ()
    question: str | None = None  # the question/variable id, for Problem.field

    def sub(self, part: str) -> _Place:
        return _Place((*self.parts, part), self.question)


@dataclass
class _QInfo:
    """What the cross checks need to know about one question."""

    question: Question
    index: int
    place: _Place
    lines: dict[str, int] = field(default_factory=dict)
    choices_inline: bool = False


Fields = dict[str, tuple[ScalarNode, Node]]


class _Reader:
    """Walks the composed node tree, building model objects and collecting problems."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, Problem]] = []
        self.suggested: set[tuple[int, str]] = set()  # (mapping node id, field suggested)

    # --- problems -------------------------------------------------------------------------------
    def where(self, line: int | None, place: _Place, name: str | None = None) -> str:
        text = self.source
        if line is not None:
            text += f", line {line}"
        for part in place.parts:
            text += f", {part}"
        if name is not None:
            text += f", field `{name}`"
        return text

    def add(
        self,
        line: int | None,
        place: _Place,
        message: str,
        fix: str | None = None,
        name: str | None = None,
    ) -> None:
        where = self.where(line, place, name)
        self.problems.append((line or 0, Problem(where, message, fix or None, place.question)))

    def error(self) -> InstrumentError:
        ordered = [p for _, p in sorted(self.problems, key=lambda lp: lp[0])]
        if len(ordered) > MAX_PROBLEMS:
            rest = len(ordered) - MAX_PROBLEMS
            ordered = ordered[:MAX_PROBLEMS]
            ordered.append(Problem(self.source, f"... and {rest} more problems not listed."))
        return InstrumentError(ordered, source=self.source)

    # --- generic readers ------------------------------------------------------------------------
    def mapping(
        self,
        node: Node,
        place: _Place,
        known: Sequence[str],
        *,
        what: str,
        name: str | None = None,
    ) -> Fields | None:
        """The fields of a mapping node; reports non-mappings, unknown and repeated keys."""
        if not isinstance(node, MappingNode):
            self.add(
                _line(node),
                place,
                f"{what} must be a mapping of `field: value` lines; got {_describe(node)}.",
                f"Its fields are: {', '.join(known)}.",
                name,
            )
            return None
        out: Fields = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or _is_null(key):
                self.add(
                    _line(key),
                    place,
                    f"a field name must be a plain word; got {_describe(key)}.",
                    f"Use one of: {', '.join(known)}.",
                )
                continue
            key_name = str(key.value)
            if key_name in out:
                self.add(
                    _line(key),
                    place,
                    f"field `{key_name}` is given twice (first on line {_line(out[key_name][0])}).",
                    "Keep only one.",
                    key_name,
                )
                continue
            if key_name not in known:
                hint = did_you_mean(key_name, known).strip()
                if hint:  # `lable` -> `label`: do not also report `label` as missing
                    self.suggested.add((id(node), hint.split("`")[1]))
                self.add(
                    _line(key),
                    place,
                    f"unknown field `{key_name}`.",
                    hint or f"The fields of {what} are: {', '.join(known)}.",
                    key_name,
                )
                continue
            out[key_name] = (key, value)
        return out

    def require(self, fields: Fields, names: Iterable[str], node: Node, place: _Place) -> bool:
        ok = True
        for name in names:
            if name not in fields and (id(node), name) in self.suggested:
                ok = False
                continue
            if name not in fields or _is_null(fields[name][1]):
                hint = {
                    "label": "Add `label: ...` (Chinese, or `{zh: ..., en: ...}`).",
                    "title": "Add `title: ...` (Chinese, or `{zh: ..., en: ...}`).",
                    "version": 'Add `version: "..."`, e.g. `version: "2026.1"`.',
                }.get(name, f"Add `{name}: ...`.")
                self.add(_line(node), place, f"missing required field `{name}`.", hint)
                ok = False
        return ok

    def string(self, node: Node, place: _Place, name: str, *, empty: bool = False) -> str | None:
        """A text value; plain scalars are taken as written (so ``yes`` stays ``"yes"``)."""
        if _is_null(node):
            return None
        if not isinstance(node, ScalarNode):
            self.add(
                _line(node), place, f"`{name}` must be text; got {_describe(node)}.", None, name
            )
            return None
        value = str(node.value)
        if not empty and not value.strip():
            self.add(
                _line(node),
                place,
                f"`{name}` is empty.",
                "Write a value or remove the field.",
                name,
            )
            return None
        return value

    def boolean(self, node: Node, place: _Place, name: str) -> bool | None:
        if _is_null(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        self.add(
            _line(node),
            place,
            f"`{name}` must be true or false; got {_describe(node)}.",
            None,
            name,
        )
        return None

    def integer(self, node: Node, place: _Place, name: str, low: int, high: int) -> int | None:
        if _is_null(node):
            return None
        value: int | None = None
        if isinstance(node, ScalarNode) and node.tag == _INT:
            try:
                value = int(_CONSTRUCTOR.construct_yaml_int(node))
            except ValueError:
                value = None
        if value is None or not low <= value <= high:
            self.add(
                _line(node),
                place,
                f"`{name}` must be a whole number from {low} to {high}; got {_describe(node)}.",
                None,
                name,
            )
            return None
        return value

    def number(self, node: Node, place: _Place, name: str) -> float | None:
        if _is_null(node):
            return None
        value: float | None = None
        if isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT):
            try:
                construct = (
                    _CONSTRUCTOR.construct_yaml_int
                    if node.tag == _INT
                    else _CONSTRUCTOR.construct_yaml_float
                )
                value = float(construct(node))
            except (ValueError, OverflowError):
                value = None
        if value is None or not math.isfinite(value):
            self.add(
                _line(node), place, f"`{name}` must be a number; got {_describe(node)}.", None, name
            )
            return None
        return value

    def text(self, node: Node, place: _Place, name: str) -> Text | None:
        """A label: plain text (Chinese) or ``{zh: ..., en: ...}``."""
        if _is_null(node):
            return None
        if isinstance(node, ScalarNode):
            value = str(node.value)
            if not value.strip():
                self.add(
                    _line(node),
                    place,
                    f"`{name}` is empty.",
                    f"Write the Chinese text, e.g. `{name}: ...`.",
                    name,
                )
                return None
            return Text(value)
        if isinstance(node, MappingNode):
            fields = self.mapping(node, place, _TEXT_FIELDS, what=f"`{name}`", name=name)
            if fields is None:
                return None
            zh = self.string(fields["zh"][1], place, name) if "zh" in fields else None
            en = self.string(fields["en"][1], place, name, empty=True) if "en" in fields else None
            if zh is None:
                if "zh" not in fields or _is_null(fields["zh"][1]):
                    self.add(
                        _line(node),
                        place,
                        f"`{name}` has no Chinese text (`zh`).",
                        "Add `zh: ...`: Chinese is required, English (`en`) optional.",
                        name,
                    )
                return None
            return Text(zh, en)
        self.add(
            _line(node),
            place,
            f"`{name}` must be text or `{{zh: ..., en: ...}}`; got {_describe(node)}.",
            None,
            name,
        )
        return None

    def ident(self, node: Node, place: _Place, name: str = "id") -> str | None:
        value = self.string(node, place, name)
        if value is None:
            return None
        why = check_id(value)
        if why is not None:
            self.add(_line(node), place, why, None, name)
            return None
        return value

    def option(self, node: Node, place: _Place, name: str, allowed: Sequence[str]) -> str | None:
        value = self.string(node, place, name)
        if value is None:
            return None
        if value not in allowed:
            hint = did_you_mean(value, allowed).strip()
            options = ", ".join(f"`{a}`" for a in allowed)
            self.add(
                _line(node),
                place,
                f"`{name}` must be one of {options}; got `{value}`.",
                hint or None,
                name,
            )
            return None
        return value

    def sequence(self, node: Node, place: _Place, name: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.add(
                _line(node),
                place,
                f"`{name}` must be a list (lines starting with `- `); got {_describe(node)}.",
                None,
                name,
            )
            return None
        return list(node.value)

    # --- the parts of an instrument -------------------------------------------------------------
    def settings(self, node: Node) -> Settings | None:
        place = _Place(("settings",))
        fields = self.mapping(node, place, _SETTINGS_FIELDS, what="`settings`")
        if fields is None:
            return None
        self.require(fields, ("id", "version", "title"), node, place)
        values: dict[str, Any] = {}
        if "id" in fields:
            survey_id = self.string(fields["id"][1], place, "id")
            if survey_id is not None and not _SURVEY_ID_RE.fullmatch(survey_id):
                self.add(
                    _line(fields["id"][1]),
                    place,
                    f"`{survey_id}` is not a valid instrument id: use letters, digits, `_` and `-`,"
                    " starting with a letter or `_`, at most 64 characters.",
                    None,
                    "id",
                )
                survey_id = None
            values["id"] = survey_id
        if "version" in fields:
            version = self.string(fields["version"][1], place, "version")
            if version is not None and not re.fullmatch(r"\S{1,32}", version):
                self.add(
                    _line(fields["version"][1]),
                    place,
                    f"`version` must be at most 32 characters without spaces; got `{version}`.",
                    'Use e.g. `version: "2026.1"`.',
                    "version",
                )
                version = None
            values["version"] = version
        if "title" in fields:
            values["title"] = self.text(fields["title"][1], place, "title")
        if "description" in fields:
            values["description"] = self.text(fields["description"][1], place, "description")
        if "default_language" in fields:
            values["default_language"] = self.option(
                fields["default_language"][1], place, "default_language", LANGUAGES
            )
        if "anonymous" in fields:
            values["anonymous"] = self.boolean(fields["anonymous"][1], place, "anonymous")
        if "kind" in fields:
            values["kind"] = self.option(fields["kind"][1], place, "kind", _KINDS)
        if any(values.get(k) is None for k in ("id", "version", "title")):
            return None
        return Settings(**{k: v for k, v in values.items() if v is not None})

    def choice_list(self, list_id: str, node: Node, place: _Place, name: str) -> ChoiceList | None:
        """A named (or inline) choice list: a list of choices, or a mapping with options."""
        ordered = False
        dont_know = Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)
        entries_node: Node = node
        if isinstance(node, MappingNode):
            fields = self.mapping(node, place, _LIST_FIELDS, what="a choice list", name=name)
            if fields is None:
                return None
            if "ordered" in fields:
                ordered = bool(self.boolean(fields["ordered"][1], place, "ordered"))
            if "dont_know_label" in fields:
                dont_know = (
                    self.text(fields["dont_know_label"][1], place, "dont_know_label") or dont_know
                )
            if "choices" not in fields:
                self.add(
                    _line(node),
                    place,
                    "missing required field `choices`.",
                    "List the choices under `choices:`, each with a `value` and a `label`.",
                )
                return None
            entries_node = fields["choices"][1]
        elif not isinstance(node, SequenceNode):
            self.add(
                _line(node),
                place,
                f"a choice list must be a list of choices; got {_describe(node)}.",
                "Write `- {value: code, label: {zh: ..., en: ...}}` lines.",
                name,
            )
            return None
        if _is_null(entries_node) or (
            isinstance(entries_node, SequenceNode) and not entries_node.value
        ):
            self.add(
                _line(entries_node),
                place,
                f"choice list `{list_id}` is empty.",
                "Give it at least one choice, each with a `value` and a `label`.",
                name,
            )
            return None
        entries = self.sequence(entries_node, place, "choices")
        if entries is None:
            return None
        choices: list[Choice] = []
        seen: dict[str, int] = {}
        ok = True
        for number, entry in enumerate(entries, 1):
            choice = self.choice(entry, place.sub(f"choice {number}"), seen)
            if choice is None:
                ok = False
            else:
                choices.append(choice)
        if not ok:
            return None
        return ChoiceList(list_id, tuple(choices), ordered=ordered, dont_know_label=dont_know)

    def choice(self, node: Node, place: _Place, seen: dict[str, int]) -> Choice | None:
        fields = self.mapping(node, place, _CHOICE_FIELDS, what="a choice")
        if fields is None:
            return None
        if not self.require(fields, ("value", "label"), node, place):
            return None
        value = self.string(fields["value"][1], place, "value")
        if value is not None:
            place = _Place((*place.parts[:-1], f"choice `{value}`"), place.question)
            if not _VALUE_RE.fullmatch(value):
                self.add(
                    _line(fields["value"][1]),
                    place,
                    f"choice value `{value}` must be at most 64 characters without spaces "
                    "(multiple-choice answers are stored as a space-separated list).",
                    "Use a short code such as `satisfied` or `18-29`.",
                    "value",
                )
                value = None
            elif value in seen:
                self.add(
                    _line(fields["value"][1]),
                    place,
                    f"duplicate choice value `{value}`: also on line {seen[value]}.",
                    "Give each choice of a list its own value.",
                    "value",
                )
                value = None
            else:
                seen[value] = _line(fields["value"][1])
        label = self.text(fields["label"][1], place, "label")
        points = self.number(fields["points"][1], place, "points") if "points" in fields else None
        if value is None or label is None:
            return None
        if "points" in fields and points is None and not _is_null(fields["points"][1]):
            return None
        return Choice(value, label, points)


class _Builder(_Reader):
    """Reads a whole instrument and runs the cross checks."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.lists: dict[str, ChoiceList] = {}
        self.list_lines: dict[str, int] = {}
        self.questions: list[_QInfo] = []
        # variable-namespace ids (questions and grid items) -> (line, description)
        self.ids: dict[str, tuple[int, str]] = {}
        self.page_ids: dict[str, int] = {}
        # page relevance is checked once every question is known: (text, line, place, first index)
        self.pending_pages: list[tuple[str, int, _Place, int]] = []
        self.broken: set[str] = set()  # question ids whose type could not be read

    def build(self, root: Node | None) -> Survey | None:
        top = _Place()
        if root is None or _is_null(root):
            self.add(
                None,
                top,
                "the file is empty.",
                "An instrument needs `settings:` and `pages:`; see docs/instrument-format.md.",
            )
            return None
        if not isinstance(root, MappingNode):
            self.add(
                _line(root),
                top,
                "the top level must be a mapping with `settings`, `choices` and `pages`; "
                f"got {_describe(root)}.",
                "See docs/instrument-format.md for a complete example.",
            )
            return None
        fields = self.mapping(root, top, _TOP_FIELDS, what="the top level") or {}
        self.require(fields, ("settings", "pages"), root, top)
        settings = self.settings(fields["settings"][1]) if "settings" in fields else None
        if "choices" in fields:
            self.named_lists(fields["choices"][1])
        pages: list[Page] = []
        pages_ok = True
        if "pages" in fields:
            node = fields["pages"][1]
            entries = self.sequence(node, top, "pages")
            if entries is not None and not entries:
                self.add(
                    _line(node),
                    top,
                    "the instrument has no pages.",
                    "Add at least one page with `id`, `title` and `questions`.",
                    "pages",
                )
            for number, entry in enumerate(entries or (), 1):
                page = self.page(entry, number)
                if page is None:
                    pages_ok = False
                else:
                    pages.append(page)
        self.cross_checks()
        if not self.problems and (settings is None or not pages_ok):  # pragma: no cover
            self.add(
                None, top, "internal error: the instrument could not be read.", "Please report."
            )
        if self.problems or settings is None:
            return None
        return Survey(settings, tuple(pages), dict(self.lists))

    def named_lists(self, node: Node) -> None:
        top = _Place()
        if _is_null(node):
            return
        if not isinstance(node, MappingNode):
            self.add(
                _line(node),
                top,
                f"`choices` must map list names to choice lists; got {_describe(node)}.",
                "Write `choices:` then `  list_id:` and its choices.",
                "choices",
            )
            return
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or _is_null(key):
                self.add(_line(key), top, "a choice list name must be a plain word.", None)
                continue
            list_id = str(key.value)
            place = _Place((f"choice list `{list_id}`",))
            why = check_id(list_id)
            if why is not None:
                self.add(_line(key), place, why)
                continue
            if list_id in self.list_lines:
                self.add(
                    _line(key),
                    place,
                    f"duplicate choice list `{list_id}`: also on line {self.list_lines[list_id]}.",
                    "Give each choice list its own name.",
                )
                continue
            self.list_lines[list_id] = _line(key)
            scale = self.choice_list(list_id, value, place, "choices")
            if scale is not None:
                self.lists[list_id] = scale

    def page(self, node: Node, number: int) -> Page | None:
        peeked = _peek_id(node)
        place = _Place((f"page `{peeked}`" if peeked else f"page {number}",))
        fields = self.mapping(node, place, _PAGE_FIELDS, what="a page")
        if fields is None:
            return None
        page_id = self.ident(fields["id"][1], place) if "id" in fields else None
        if page_id is not None:
            place = _Place((f"page `{page_id}`",))
            if page_id in self.page_ids:
                self.add(
                    _line(fields["id"][1]),
                    place,
                    f"duplicate page id `{page_id}`: also on line {self.page_ids[page_id]}.",
                    "Give each page its own id.",
                    "id",
                )
                page_id = None
            else:
                self.page_ids[page_id] = _line(fields["id"][1])
        self.require(fields, ("id", "title", "questions"), node, place)
        title = self.text(fields["title"][1], place, "title") if "title" in fields else None
        relevant = None
        if "relevant" in fields:
            relevant = self.string(fields["relevant"][1], place, "relevant")
        questions: list[Question] = []
        ok = True
        first_index = len(self.questions)
        if "questions" in fields:
            qnode = fields["questions"][1]
            entries = self.sequence(qnode, place, "questions")
            if entries is not None and not entries:
                self.add(
                    _line(qnode),
                    place,
                    "the page has no questions.",
                    "Add questions under `questions:`, or remove the page.",
                    "questions",
                )
            for qnumber, entry in enumerate(entries or (), 1):
                question = self.question(entry, qnumber, page_id or str(number))
                if question is None:
                    ok = False
                else:
                    questions.append(question)
        if relevant is not None:
            self.pending_pages.append((relevant, _line(fields["relevant"][1]), place, first_index))
        if page_id is None or title is None or not ok or not questions:
            return None
        return Page(page_id, title, tuple(questions), relevant, line=_line(node))

    def question(self, node: Node, number: int, page: str) -> Question | None:
        peeked = _peek_id(node)
        if peeked:
            place = _Place((f"question `{peeked}`",), peeked)
        else:
            place = _Place((f"question {number} of page `{page}`",))
        fields = self.mapping(node, place, _QUESTION_FIELDS, what="a question")
        if fields is None:
            return None
        qid = self.ident(fields["id"][1], place) if "id" in fields else None
        if qid is not None:
            place = _Place((f"question `{qid}`",), qid)
            self.claim(qid, _line(fields["id"][1]), place, f"question `{qid}`")
        self.require(fields, ("id", "type", "label"), node, place)
        qtype: str | None = None
        if "type" in fields:
            qtype = self.string(fields["type"][1], place, "type")
            if qtype is not None and qtype not in QUESTION_TYPES:
                hint = did_you_mean(qtype, QUESTION_TYPES).strip()
                self.add(
                    _line(fields["type"][1]),
                    place,
                    f"unknown question type `{qtype}`.",
                    hint or f"Use one of: {', '.join(QUESTION_TYPES)}.",
                    "type",
                )
                qtype = None
        lines = {name: _line(value) for name, (_, value) in fields.items()}
        if qtype is not None:
            allowed = TYPE_FIELDS[qtype]
            for name, (key, _) in fields.items():
                if name not in allowed:
                    owners = _FIELD_TYPES[name]
                    message = f"field `{name}` does not apply to {qtype} questions"
                    fix = "Remove it."
                    if len(owners) <= 2:
                        message += f"; it is only for {' and '.join(owners)} questions"
                        types = " or ".join(f"`{t}`" for t in owners)
                        fix = f"Remove it, or change `type` to {types}."
                    if name == "per_subject":
                        fix = "Only grid questions repeat per subject; remove `per_subject`."
                    self.add(_line(key), place, message + ".", fix, name)
        values: dict[str, Any] = {}
        label = self.text(fields["label"][1], place, "label") if "label" in fields else None
        for name in ("hint", "required_message", "constraint_message"):
            if name in fields:
                values[name] = self.text(fields[name][1], place, name)
        for name in ("required", "per_subject"):
            if name in fields:
                values[name] = self.boolean(fields[name][1], place, name)
        for name in ("constraint", "relevant"):
            if name in fields:
                values[name] = self.string(fields[name][1], place, name)
        if "appearance" in fields:
            values["appearance"] = self.appearance(fields["appearance"][1], place)
        if "min_length" in fields:
            values["min_length"] = self.integer(
                fields["min_length"][1], place, "min_length", 0, MAX_TEXT_LENGTH
            )
        if "max_length" in fields:
            values["max_length"] = self.integer(
                fields["max_length"][1], place, "max_length", 1, MAX_TEXT_LENGTH
            )
        if "default" in fields:
            values["default"] = self.default(fields["default"][1], place)
        inline = False
        if "choices" in fields:
            cnode = fields["choices"][1]
            if isinstance(cnode, ScalarNode) and not _is_null(cnode):
                values["choices"] = self.string(cnode, place, "choices")
            elif qid is not None and not _is_null(cnode):
                inline = True
                if qid in self.list_lines:
                    self.add(
                        _line(cnode),
                        place,
                        f"the inline choices would be named `{qid}`, but a choice list `{qid}` "
                        f"is already defined on line {self.list_lines[qid]}.",
                        f"Use `choices: {qid}`, or rename one of them.",
                        "choices",
                    )
                else:
                    self.list_lines[qid] = _line(cnode)
                    values["choices"] = qid
                    scale = self.choice_list(qid, cnode, place, "choices")
                    if scale is not None:
                        self.lists[qid] = scale
        grid_dont_know: bool | None = None
        if "allow_dont_know" in fields:
            grid_dont_know = self.boolean(fields["allow_dont_know"][1], place, "allow_dont_know")
        items: list[GridItem] = []
        items_ok = True
        if qtype == "grid":
            if (
                "items" not in fields
                or _is_null(fields["items"][1])
                or (isinstance(fields["items"][1], SequenceNode) and not fields["items"][1].value)
            ):
                self.add(
                    _line(fields["items"][1]) if "items" in fields else _line(node),
                    place,
                    "the grid has no items.",
                    "List its rows under `items:`, each with an `id` and a `label`.",
                    "items",
                )
                items_ok = False
            else:
                entries = self.sequence(fields["items"][1], place, "items")
                for inumber, entry in enumerate(entries or (), 1):
                    item = self.item(entry, inumber, place, bool(grid_dont_know))
                    if item is None:
                        items_ok = False
                    else:
                        items.append(item)
                items_ok = items_ok and entries is not None
        if (
            qtype in ("single", "multiple", "grid")
            and values.get("choices") is None
            and ("choices" not in fields or _is_null(fields["choices"][1]))
        ):
            self.add(
                _line(node),
                place,
                f"a {qtype} question needs `choices`.",
                "Name a list defined under `choices:` at the top, or list the choices inline.",
                "choices",
            )
        qid = qid or peeked  # an invalid id is reported; keep checking the rest of the question
        if qid is None:
            return None
        if qtype is None:
            self.broken.add(qid)  # its type is unknown: do not cascade into its references
            return None
        question = Question(
            qid,
            cast(QuestionType, qtype),
            label or Text("?"),  # a missing label is already reported
            items=tuple(items) if items_ok else (),
            line=_line(node),
            **{k: v for k, v in values.items() if v is not None},
        )
        self.questions.append(
            _QInfo(question, len(self.questions), place, lines, choices_inline=inline)
        )
        return question

    def item(self, node: Node, number: int, grid: _Place, dont_know: bool) -> GridItem | None:
        peeked = _peek_id(node)
        place = grid.sub(f"item `{peeked}`" if peeked else f"item {number}")
        fields = self.mapping(node, place, _ITEM_FIELDS, what="a grid item")
        if fields is None:
            return None
        item_id = self.ident(fields["id"][1], place) if "id" in fields else None
        if item_id is not None:
            place = grid.sub(f"item `{item_id}`")
            grid_id = grid.question or "?"
            self.claim(item_id, _line(fields["id"][1]), place, f"item of grid `{grid_id}`")
        self.require(fields, ("id", "label"), node, place)
        label = self.text(fields["label"][1], place, "label") if "label" in fields else None
        hint = self.text(fields["hint"][1], place, "hint") if "hint" in fields else None
        if "allow_dont_know" in fields:
            own = self.boolean(fields["allow_dont_know"][1], place, "allow_dont_know")
            dont_know = dont_know if own is None else own
        required = (
            self.boolean(fields["required"][1], place, "required") if "required" in fields else None
        )
        if item_id is None or label is None:
            return None
        return GridItem(item_id, label, hint, dont_know, required)

    def claim(self, name: str, line: int, place: _Place, what: str) -> None:
        """Register a variable id (questions and grid items share one namespace)."""
        if name in self.ids:
            other_line, other = self.ids[name]
            self.add(
                line,
                place,
                f"duplicate id `{name}`: also used on line {other_line} ({other}).",
                "Questions and grid items become variables, so each needs its own id.",
                "id",
            )
        else:
            self.ids[name] = (line, what)

    def appearance(self, node: Node, place: _Place) -> tuple[str, ...] | None:
        if isinstance(node, ScalarNode) and not _is_null(node):
            return tuple(str(node.value).split())
        if isinstance(node, SequenceNode):
            words: list[str] = []
            for entry in node.value:
                word = self.string(entry, place, "appearance")
                if word is None:
                    return None
                if len(word.split()) != 1:
                    self.add(
                        _line(entry),
                        place,
                        f"appearance `{word}` contains a space.",
                        "Write each appearance as its own list entry.",
                        "appearance",
                    )
                    return None
                words.append(word.strip())
            return tuple(words)
        if _is_null(node):
            return ()
        self.add(
            _line(node),
            place,
            f"`appearance` must be a word or a list of words; got {_describe(node)}.",
            None,
            "appearance",
        )
        return None

    def default(self, node: Node, place: _Place) -> str | None:
        """A default answer: text as written; a list (multiple choice) is joined with spaces."""
        if isinstance(node, SequenceNode):
            words = [self.string(entry, place, "default") for entry in node.value]
            if any(w is None for w in words):
                return None
            return " ".join(cast(list[str], words))
        return self.string(node, place, "default", empty=True)

    # --- cross checks ---------------------------------------------------------------------------
    def cross_checks(self) -> None:
        for info in self.questions:
            self.check_question(info)
        self.check_expressions()

    def check_question(self, info: _QInfo) -> None:
        q, place, lines = info.question, info.place, info.lines
        scale: ChoiceList | None = None
        if q.choices is not None and not info.choices_inline:
            scale = self.lists.get(q.choices)
            if scale is None and q.choices not in self.list_lines:
                hint = did_you_mean(q.choices, self.list_lines).strip()
                self.add(
                    lines.get("choices"),
                    place,
                    f"choice list `{q.choices}` is not defined.",
                    hint or "Define it under `choices:` at the top of the file.",
                    "choices",
                )
        elif q.choices is not None:
            scale = self.lists.get(q.choices)
        dont_know = any(it.allow_dont_know for it in q.items)
        if scale is not None and q.type == "grid" and dont_know and DONT_KNOW in scale.values:
            self.add(
                lines.get("choices"),
                place,
                f"choice list `{scale.id}` has a choice `{DONT_KNOW}`, which is reserved for "
                "the grid's 不了解 answer.",
                "Remove that choice and use `allow_dont_know: true`, or rename it.",
                "choices",
            )
        if q.default is not None:
            self.check_default(q, scale, place, lines.get("default"))
        if q.min_length is not None and q.max_length is not None and q.min_length > q.max_length:
            self.add(
                lines.get("min_length"),
                place,
                f"`min_length` ({q.min_length}) is larger than `max_length` ({q.max_length}).",
                "Lower `min_length` or raise `max_length`.",
                "min_length",
            )
        if q.constraint_message is not None and q.constraint is None:
            self.add(
                lines.get("constraint_message"),
                place,
                "`constraint_message` is given but there is no `constraint`.",
                "Add the `constraint`, or remove the message.",
                "constraint_message",
            )
        required = q.required or any(it.required for it in q.items)
        if q.required_message is not None and not required:
            self.add(
                lines.get("required_message"),
                place,
                "`required_message` is given but the question is not required.",
                "Add `required: true`, or remove the message.",
                "required_message",
            )

    def check_default(
        self, q: Question, scale: ChoiceList | None, place: _Place, line: int | None
    ) -> None:
        default = cast(str, q.default)
        problem: str | None = None
        fix: str | None = None
        if q.type in ("single", "grid", "multiple"):
            if scale is None:
                return
            wanted = default.split() if q.type == "multiple" else [default]
            if not wanted:
                problem = "the default is empty."
                fix = "Remove `default`, or give a choice value."
            for value in wanted:
                if value not in scale.values:
                    problem = f"default `{value}` is not a choice of list `{scale.id}`."
                    hint = did_you_mean(value, scale.values).strip()
                    fix = hint or f"Use one of: {', '.join(f'`{v}`' for v in scale.values)}."
                    break
            if problem is None and len(set(wanted)) != len(wanted):
                problem = "the default repeats a choice."
                fix = "List each choice once."
        elif q.type == "integer":
            if not _INT_RE.fullmatch(default.strip()):
                problem, fix = f"default `{default}` is not a whole number.", "Write e.g. `0`."
        elif q.type == "decimal":
            try:
                ok = math.isfinite(float(default))
            except ValueError:
                ok = False
            if not ok:
                problem, fix = f"default `{default}` is not a number.", "Write e.g. `1.5`."
        elif q.type == "date":
            try:
                ok = bool(_DATE_RE.fullmatch(default)) and bool(_dt.date.fromisoformat(default))
            except ValueError:
                ok = False
            if not ok:
                problem = f"default `{default}` is not a date."
                fix = "Write it as YYYY-MM-DD, e.g. `2026-03-01`."
        elif q.type == "text" and q.max_length is not None and len(default) > q.max_length:
            problem = f"the default is longer than `max_length` ({q.max_length})."
            fix = "Shorten it or raise `max_length`."
        if problem is not None:
            self.add(line, place, problem, fix, "default")

    def check_expressions(self) -> None:
        """Parse `relevant` and `constraint` and check what they refer to."""
        names: dict[str, tuple[str, _QInfo]] = {}
        for info in self.questions:
            q = info.question
            if q.type == "grid":
                names.setdefault(q.id, ("grid", info))
                kind = "subject_item" if q.per_subject else "item"
                for it in q.items:
                    names.setdefault(it.id, (kind, info))
            else:
                names.setdefault(q.id, ("note" if q.type == "note" else "question", info))
        for info in self.questions:
            q = info.question
            for name in ("relevant", "constraint"):
                text = q.relevant if name == "relevant" else q.constraint
                if text is not None:
                    line = info.lines.get(name)
                    self.expression(text, line, info.place, name, names, info.index, info)
        for text, line, place, first in self.pending_pages:
            self.expression(text, line, place, "relevant", names, first, None)

    def expression(
        self,
        text: str,
        line: int | None,
        place: _Place,
        name: str,
        names: dict[str, tuple[str, _QInfo]],
        before: int,
        current: _QInfo | None,
    ) -> None:
        """Check one expression of the question ``current`` (``None``: of a page whose first
        question has index ``before``)."""
        from toolkit.instrument.expressions import parse

        where = self.where(line, place, name)
        try:
            parsed = parse(text, where=where)
        except InstrumentError as exc:
            for problem in exc.problems:
                fixed = Problem(
                    problem.where or where, problem.message, problem.fix, place.question
                )
                self.problems.append((line or 0, fixed))
            return
        constraint = name == "constraint"
        if parsed.uses_current and not constraint:
            self.add(
                line,
                place,
                "`.` (this question's answer) can only be used in `constraint`.",
                "Refer to earlier questions by name, e.g. `${other_question}`.",
                name,
            )
        usable = [n for n, (kind, _) in names.items() if kind in ("question", "item")]
        for ref in sorted(parsed.references):
            if ref in self.broken:
                continue
            found = names.get(ref)
            if found is None:
                hint = (did_you_mean(ref, usable) or did_you_mean(ref, names)).strip()
                self.add(
                    line,
                    place,
                    f"unknown question `${{{ref}}}`.",
                    hint or "Expressions can refer to questions and grid items by their `id`.",
                    name,
                )
                continue
            kind, target = found
            tq = target.question
            if kind == "note":
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` is a note, which has no answer.",
                    "Refer to a question instead.",
                    name,
                )
            elif kind == "grid":
                example = tq.items[0].id if tq.items else "item"
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` is a grid, which has no answer of its own.",
                    f"Refer to one of its items, e.g. `${{{example}}}`.",
                    name,
                )
            elif kind == "subject_item":
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` is an item of the per-subject grid `{tq.id}`: its answers are "
                    f"stored once per subject (`subject__{ref}`), so it cannot be referenced.",
                    "Refer to a question that is not per subject.",
                    name,
                )
            elif target is current and not constraint:
                self.add(
                    line,
                    place,
                    f"`relevant` cannot depend on the question's own answer `${{{ref}}}`.",
                    "Use `constraint` to check the answer itself.",
                    name,
                )
            elif target is not current and target.index >= before:
                what = "a constraint" if constraint else "relevance"
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` comes later in the instrument (line {tq.line}); "
                    f"{what} can only look back at earlier questions.",
                    f"Move `{ref}` before this {'question' if current else 'page'}, "
                    "or drop the reference.",
                    name,
                )


def loads_survey(text: str, *, source: str = "<string>") -> Survey:
    """Read an instrument from YAML text.

    Parameters
    ----------
    text : str
        The YAML document (format: ``docs/instrument-format.md``).
    source : str
        The name used in located messages, usually the file path.

    Returns
    -------
    Survey
        The instrument; ``survey.source`` is ``source``.

    Raises
    ------
    InstrumentError
        Listing every problem found, each located by file, line, question and field.

    Examples
    --------
    >>> s = loads_survey('''
    ... settings: {id: demo, version: "1", title: {zh: 示例, en: Demo}}
    ... choices:
    ...   yes_no: [{value: "yes", label: 是}, {value: "no", label: 否}]
    ... pages:
    ...   - id: p1
    ...     title: 第一页
    ...     questions:
    ...       - {id: q1, type: single, label: 同意吗？, choices: yes_no, default: "no"}
    ... ''')
    >>> s.scale(s.question("q1")).values
    ('yes', 'no')
    """
    if not isinstance(text, str):
        raise InstrumentError(
            [Problem(source, f"expected YAML text (str); got {type(text).__name__}.")],
            source=source,
        )
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise InstrumentError(
            [
                Problem(
                    source,
                    f"the file is {size:,} bytes; instruments are limited to {MAX_FILE_BYTES:,}.",
                    "Split it, or check that this is really an instrument.",
                )
            ],
            source=source,
        )
    builder = _Builder(source)
    try:
        loader = _Composer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except _Refused as refused:
        line = refused.mark.line + 1 if refused.mark is not None else None
        builder.add(line, _Place(), refused.message, refused.fix)
        raise builder.error() from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = source
        if mark is not None:
            where += f", line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None)
        context = getattr(exc, "context", None)
        detail = f"{context}: {problem}" if context and problem else (problem or str(exc))
        raise InstrumentError(
            [
                Problem(
                    where,
                    f"not valid YAML ({detail}).",
                    "Check the indentation and quoting here: text needs quotes if it contains "
                    "`: ` or ` #`, starts with a special character, or sits inside `{...}` and "
                    "contains `,` `?` `[` `]` `{` `}`.",
                )
            ],
            source=source,
        ) from None
    survey = builder.build(root)
    if survey is None:
        raise builder.error()
    return Survey(survey.settings, survey.pages, survey.choice_lists, source=source)


def load_survey(path: str | Path) -> Survey:
    """Read an instrument from a YAML file (UTF-8, at most :data:`MAX_FILE_BYTES`).

    Parameters
    ----------
    path : str or Path
        The file; it is named as given in located messages.

    Returns
    -------
    Survey

    Raises
    ------
    InstrumentError
        If the file cannot be read or the instrument has problems (all of them are listed).

    Examples
    --------
    >>> survey = load_survey("surveys/evaluation.yaml")
    >>> survey.id, survey.version, len(survey.pages)
    ('evaluation', '2026.1', 4)
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InstrumentError(
            [Problem(source, f"cannot read the file ({reason}).", "Check the path.")],
            source=source,
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise InstrumentError(
            [
                Problem(
                    source,
                    f"the file is larger than {MAX_FILE_BYTES:,} bytes, the limit for instruments.",
                    "Split it, or check that this is really an instrument.",
                )
            ],
            source=source,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InstrumentError(
            [
                Problem(
                    f"{source}, line {line}",
                    "the file is not UTF-8 text.",
                    "Save it as UTF-8 (in an editor: encoding UTF-8).",
                )
            ],
            source=source,
        ) from None
    return loads_survey(text, source=source)


def validate_files(paths: Sequence[str | Path]) -> int:
    """Validate instrument files; print one result per file; return the exit code (0 ok, 1 not).

    This is the body of ``sanhui validate FILE...``. A valid file prints
    ``surveys/evaluation.yaml: ok (evaluation 2026.1, 4 pages, 14 questions)``; an invalid one
    prints the full :class:`~toolkit.errors.InstrumentError` listing (to standard error).

    Examples
    --------
    >>> validate_files(["surveys/evaluation.yaml"])
    surveys/evaluation.yaml: ok (evaluation 2026.1, 4 pages, 14 questions)
    0
    """
    code = 0
    for path in paths:
        try:
            survey = load_survey(path)
        except InstrumentError as exc:
            sys.stdout.flush()
            print(str(exc), file=sys.stderr, flush=True)
            code = 1
            continue
        pages = len(survey.pages)
        count = len(survey.questions)
        print(
            f"{path}: ok ({survey.id} {survey.version}, {pages} page{'s' * (pages != 1)}, "
            f"{count} question{'s' * (count != 1)})"
        )
    return code
