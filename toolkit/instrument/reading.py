"""Reading the parts of a located mapping (:mod:`toolkit.instrument.located`): text, numbers,
labels, settings and choice lists, each problem located and given a stable code."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, cast

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.located import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    Fields,
    Locations,
    Place,
    describe,
    is_null,
    line_of,
)
from toolkit.instrument.model import (
    DONT_KNOW_LABEL_EN,
    DONT_KNOW_LABEL_ZH,
    Choice,
    ChoiceList,
    Settings,
    Text,
)
from toolkit.instrument.schema import (
    CHOICE_FIELDS,
    KINDS,
    LIST_FIELDS,
    MAX_PROBLEMS,
    SETTINGS_FIELDS,
    SURVEY_ID_RE,
    VALUE_RE,
    XML_VALUE_RE,
    check_id,
    check_xml_name,
)

__all__ = ["LANGUAGE_RE", "NodeReader"]

#: A language key of a text: a code (``fr``, ``zh-Hant``) or a name as an XLSForm column gives it
#: (``Swahili``, ``English (en)``, ``العربية``).
#: Rules of sanhui's YAML instruments that pyxform does not have: an XLSForm breaking them is read
#: with a warning (forward references in relevance work in ODK; a message without its rule and
#: a default that is not a choice are ignored by ODK; a note has a value, '' unless a default).
PYXFORM_ACCEPTS = frozenset(
    {
        "E_MESSAGE_WITHOUT_RULE",
        "E_FORWARD_REFERENCE",
        "E_BAD_DEFAULT",
        "E_REFERENCE_TO_NOTE",
        "E_DOT_OUTSIDE_CONSTRAINT",
        "E_BARE_NAME",
    }
)
LANGUAGE_RE = re.compile(r"[^\s:`{}\[\],][^:`{}\[\],]{0,39}")
CONSTRUCTOR = SafeConstructor()


class NodeReader:
    """Walks the composed node tree, building model objects and collecting problems."""

    def __init__(self, source: str, locations: Locations | None = None) -> None:
        self.source = source
        self.locations = locations  # cells of a workbook; None for a YAML file
        self.problems: list[tuple[int, Problem]] = []
        self.suggested: set[tuple[int, str]] = set()  # (mapping node id, field suggested)
        #: XLSForm names follow pyxform (XML names: `-`, `.`, any length); YAML ids stay Stata-safe
        self.pyxform_names = False
        self.allow_choice_duplicates = False
        self.lenient: list[Problem] = []  # our rules that pyxform does not have, as warnings

    # --- problems -------------------------------------------------------------------------------
    def at(self, line: int | None) -> str:
        """Where a line (YAML) or cell (XLSForm) is, for "also on ..." messages."""
        if line is None:
            return "?"
        if self.locations is not None:
            return self.locations.describe(line, column=False)
        return f"line {line}"

    def where(self, line: int | None, place: Place, name: str | None = None) -> str:
        text = self.source
        cell = self.locations is not None and line is not None and line in self.locations.marks
        if cell:
            text += ", " + cast(Locations, self.locations).describe(cast(int, line))
        elif line is not None and self.locations is None:
            text += f", line {line}"
        for part in place.parts:
            text += f", {part}"
        if name is not None and not cell:
            text += f", field `{name}`"
        return text

    def add(
        self,
        line: int | None,
        place: Place,
        message: str,
        fix: str | None = None,
        name: str | None = None,
        *,
        code: str,
    ) -> None:
        where = self.where(line, place, name)
        if self.pyxform_names and code in PYXFORM_ACCEPTS:
            # pyxform (and ODK) accept it: read the form and warn
            code = "W_" + code[2:]
            self.lenient.append(Problem(where, message, fix or None, place.question, code))
            return
        problem = Problem(where, message, fix or None, place.question, code)
        self.problems.append((line or 0, problem))

    def error(self) -> InstrumentError:
        ordered = [p for _, p in sorted(self.problems, key=lambda lp: lp[0])]
        if len(ordered) > MAX_PROBLEMS:
            rest = len(ordered) - MAX_PROBLEMS
            ordered = ordered[:MAX_PROBLEMS]
            ordered.append(
                Problem(self.source, f"... and {rest} more problems not listed.", code="E_MORE")
            )
        return InstrumentError(ordered, source=self.source)

    # --- generic readers ------------------------------------------------------------------------
    def mapping(
        self,
        node: Node,
        place: Place,
        known: Sequence[str],
        *,
        what: str,
        name: str | None = None,
    ) -> Fields | None:
        """The fields of a mapping node; reports non-mappings, unknown and repeated keys."""
        if not isinstance(node, MappingNode):
            self.add(
                line_of(node),
                place,
                f"{what} must be a mapping of `field: value` lines; got {describe(node)}.",
                f"Its fields are: {', '.join(known)}.",
                name,
                code="E_NOT_A_MAPPING",
            )
            return None
        out: Fields = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or is_null(key):
                self.add(
                    line_of(key),
                    place,
                    f"a field name must be a plain word; got {describe(key)}.",
                    f"Use one of: {', '.join(known)}.",
                    code="E_BAD_FIELD_NAME",
                )
                continue
            key_name = str(key.value)
            if key_name in out:
                self.add(
                    line_of(key),
                    place,
                    f"field `{key_name}` is given twice (first on {self.at(line_of(out[key_name][0]))}).",
                    "Keep only one.",
                    key_name,
                    code="E_DUPLICATE_FIELD",
                )
                continue
            if key_name not in known:
                hint = did_you_mean(key_name, known).strip()
                if hint:  # `lable` -> `label`: do not also report `label` as missing
                    self.suggested.add((id(node), hint.split("`")[1]))
                self.add(
                    line_of(key),
                    place,
                    f"unknown field `{key_name}`.",
                    hint or f"The fields of {what} are: {', '.join(known)}.",
                    key_name,
                    code="E_UNKNOWN_FIELD",
                )
                continue
            out[key_name] = (key, value)
        return out

    def require(self, fields: Fields, names: Iterable[str], node: Node, place: Place) -> bool:
        ok = True
        for name in names:
            if name not in fields and (id(node), name) in self.suggested:
                ok = False
                continue
            if name not in fields or is_null(fields[name][1]):
                hint = {
                    "label": "Add `label: ...` (Chinese, or `{zh: ..., en: ...}`).",
                    "title": "Add `title: ...` (Chinese, or `{zh: ..., en: ...}`).",
                    "version": 'Add `version: "..."`, e.g. `version: "2026.1"`.',
                }.get(name, f"Add `{name}: ...`.")
                self.add(
                    line_of(node),
                    place,
                    f"missing required field `{name}`.",
                    hint,
                    code="E_MISSING_FIELD",
                )
                ok = False
        return ok

    def string(self, node: Node, place: Place, name: str, *, empty: bool = False) -> str | None:
        """A text value; plain scalars are taken as written (so ``yes`` stays ``"yes"``)."""
        if is_null(node):
            return None
        if not isinstance(node, ScalarNode):
            self.add(
                line_of(node),
                place,
                f"`{name}` must be text; got {describe(node)}.",
                None,
                name,
                code="E_NOT_TEXT",
            )
            return None
        value = str(node.value)
        if not empty and not value.strip():
            self.add(
                line_of(node),
                place,
                f"`{name}` is empty.",
                "Write a value or remove the field.",
                name,
                code="E_EMPTY_VALUE",
            )
            return None
        return value

    def boolean(self, node: Node, place: Place, name: str) -> bool | None:
        if is_null(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            return bool(CONSTRUCTOR.construct_yaml_bool(node))
        self.add(
            line_of(node),
            place,
            f"`{name}` must be true or false; got {describe(node)}.",
            None,
            name,
            code="E_NOT_A_BOOLEAN",
        )
        return None

    def integer(self, node: Node, place: Place, name: str, low: int, high: int) -> int | None:
        if is_null(node):
            return None
        value: int | None = None
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:
            try:
                value = int(CONSTRUCTOR.construct_yaml_int(node))
            except ValueError:
                value = None
        if value is None or not low <= value <= high:
            self.add(
                line_of(node),
                place,
                f"`{name}` must be a whole number from {low} to {high}; got {describe(node)}.",
                None,
                name,
                code="E_NOT_AN_INTEGER",
            )
            return None
        return value

    def number(self, node: Node, place: Place, name: str) -> float | None:
        if is_null(node):
            return None
        value: float | None = None
        if isinstance(node, ScalarNode) and node.tag in (INT_TAG, FLOAT_TAG):
            try:
                construct = (
                    CONSTRUCTOR.construct_yaml_int
                    if node.tag == INT_TAG
                    else CONSTRUCTOR.construct_yaml_float
                )
                value = float(construct(node))
            except (ValueError, OverflowError):
                value = None
        if value is None or not math.isfinite(value):
            self.add(
                line_of(node),
                place,
                f"`{name}` must be a number; got {describe(node)}.",
                None,
                name,
                code="E_NOT_A_NUMBER",
            )
            return None
        return value

    def text(self, node: Node, place: Place, name: str) -> Text | None:
        """A label: plain text (the default language, Chinese) or ``{zh: ..., en: ..., fr: ...}``
        (any languages, at least one)."""
        if is_null(node):
            return None
        if isinstance(node, ScalarNode):
            value = str(node.value)
            if not value.strip():
                self.add(
                    line_of(node),
                    place,
                    f"`{name}` is empty.",
                    f"Write the text, e.g. `{name}: ...`.",
                    name,
                    code="E_EMPTY_VALUE",
                )
                return None
            return Text(value)
        if isinstance(node, MappingNode):
            texts: dict[str, str] = {}
            for key, value_node in node.value:
                language = str(key.value) if isinstance(key, ScalarNode) else ""
                if not LANGUAGE_RE.fullmatch(language):
                    self.add(
                        line_of(key),
                        place,
                        f"`{language[:40]}` is not a language name.",
                        "Use a language code such as `zh`, `en` or `fr`.",
                        name,
                        code="E_BAD_LANGUAGE",
                    )
                    return None
                if language in texts:
                    self.add(
                        line_of(key),
                        place,
                        f"language `{language}` is given twice.",
                        "Keep only one.",
                        name,
                        code="E_DUPLICATE_FIELD",
                    )
                    return None
                text = self.string(value_node, place, name, empty=True)
                if text is not None and text.strip():
                    texts[language] = text
            if not texts and self.pyxform_names and not node.value:
                return Text("")  # an XLSForm choice without a label: pyxform warns only
            if not texts:
                self.add(
                    line_of(node),
                    place,
                    f"`{name}` has no text in any language.",
                    "Write the text, e.g. `{zh: ..., en: ...}`.",
                    name,
                    code="E_NO_TEXT",
                )
                return None
            other = tuple((k, v) for k, v in texts.items() if k not in ("zh", "en"))
            return Text(texts.get("zh", ""), texts.get("en"), other)
        self.add(
            line_of(node),
            place,
            f"`{name}` must be text or `{{zh: ..., en: ...}}`; got {describe(node)}.",
            None,
            name,
            code="E_NOT_TEXT",
        )
        return None

    def ident(self, node: Node, place: Place, name: str = "id") -> str | None:
        value = self.string(node, place, name)
        if value is None:
            return None
        why = check_xml_name(value) if self.pyxform_names else check_id(value)
        if why is not None:
            self.add(line_of(node), place, why, None, name, code="E_BAD_ID")
            return None
        return value

    def option(self, node: Node, place: Place, name: str, allowed: Sequence[str]) -> str | None:
        value = self.string(node, place, name)
        if value is None:
            return None
        if value not in allowed:
            hint = did_you_mean(value, allowed).strip()
            options = ", ".join(f"`{a}`" for a in allowed)
            self.add(
                line_of(node),
                place,
                f"`{name}` must be one of {options}; got `{value}`.",
                hint or None,
                name,
                code="E_BAD_OPTION",
            )
            return None
        return value

    def sequence(self, node: Node, place: Place, name: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.add(
                line_of(node),
                place,
                f"`{name}` must be a list (lines starting with `- `); got {describe(node)}.",
                None,
                name,
                code="E_NOT_A_LIST",
            )
            return None
        return list(node.value)

    # --- the parts of an instrument -------------------------------------------------------------
    def settings(self, node: Node) -> Settings | None:
        place = Place(("settings",))
        fields = self.mapping(node, place, SETTINGS_FIELDS, what="`settings`")
        if fields is None:
            return None
        self.require(fields, ("id", "version", "title"), node, place)
        values: dict[str, Any] = {}
        if "id" in fields:
            survey_id = self.string(fields["id"][1], place, "id")
            if survey_id is not None and not SURVEY_ID_RE.fullmatch(survey_id):
                self.add(
                    line_of(fields["id"][1]),
                    place,
                    f"`{survey_id}` is not a valid instrument id: use letters, digits, `_` and `-`,"
                    " starting with a letter or `_`, at most 64 characters.",
                    None,
                    "id",
                    code="E_BAD_SURVEY_ID",
                )
                survey_id = None
            values["id"] = survey_id
        if "version" in fields:
            version = self.string(fields["version"][1], place, "version")
            if version is not None and not re.fullmatch(r"\S{1,32}", version):
                self.add(
                    line_of(fields["version"][1]),
                    place,
                    f"`version` must be at most 32 characters without spaces; got `{version}`.",
                    'Use e.g. `version: "2026.1"`.',
                    "version",
                    code="E_BAD_VERSION",
                )
                version = None
            values["version"] = version
        if "title" in fields:
            values["title"] = self.text(fields["title"][1], place, "title")
        if "description" in fields:
            values["description"] = self.text(fields["description"][1], place, "description")
        if "default_language" in fields:
            language = self.string(fields["default_language"][1], place, "default_language")
            if language is not None and not LANGUAGE_RE.fullmatch(language):
                self.add(
                    line_of(fields["default_language"][1]),
                    place,
                    f"`{language[:40]}` is not a language name.",
                    "Use a language code such as `zh`, `en` or `fr`.",
                    "default_language",
                    code="E_BAD_LANGUAGE",
                )
                language = None
            values["default_language"] = language
        if "anonymous" in fields:
            values["anonymous"] = self.boolean(fields["anonymous"][1], place, "anonymous")
        if "kind" in fields:
            values["kind"] = self.option(fields["kind"][1], place, "kind", KINDS)
        if "xlsform_names" in fields:
            flag = self.boolean(fields["xlsform_names"][1], place, "xlsform_names")
            values["xlsform_names"] = flag
            self.pyxform_names = self.pyxform_names or bool(flag)
        if "allow_choice_duplicates" in fields:
            flag = self.boolean(
                fields["allow_choice_duplicates"][1], place, "allow_choice_duplicates"
            )
            values["allow_choice_duplicates"] = flag
            self.allow_choice_duplicates = bool(flag)
        if "metadata" in fields and isinstance(fields["metadata"][1], MappingNode):
            values["metadata"] = tuple(
                (str(k.value), str(v.value)) for k, v in fields["metadata"][1].value
            )
        if any(values.get(k) is None for k in ("id", "version", "title")):
            return None
        return Settings(**{k: v for k, v in values.items() if v is not None})

    def choice_list(self, list_id: str, node: Node, place: Place, name: str) -> ChoiceList | None:
        """A named (or inline) choice list: a list of choices, or a mapping with options."""
        ordered = external = False
        dont_know = Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)
        entries_node: Node = node
        if isinstance(node, MappingNode):
            fields = self.mapping(node, place, LIST_FIELDS, what="a choice list", name=name)
            if fields is None:
                return None
            if "ordered" in fields:
                ordered = bool(self.boolean(fields["ordered"][1], place, "ordered"))
            if "external" in fields:
                external = bool(self.boolean(fields["external"][1], place, "external"))
            if "dont_know_label" in fields:
                dont_know = (
                    self.text(fields["dont_know_label"][1], place, "dont_know_label") or dont_know
                )
            if "choices" not in fields:
                self.add(
                    line_of(node),
                    place,
                    "missing required field `choices`.",
                    "List the choices under `choices:`, each with a `value` and a `label`.",
                    code="E_MISSING_FIELD",
                )
                return None
            entries_node = fields["choices"][1]
        elif not isinstance(node, SequenceNode):
            self.add(
                line_of(node),
                place,
                f"a choice list must be a list of choices; got {describe(node)}.",
                "Write `- {value: code, label: {zh: ..., en: ...}}` lines.",
                name,
                code="E_NOT_A_LIST",
            )
            return None
        if is_null(entries_node) or (
            isinstance(entries_node, SequenceNode) and not entries_node.value
        ):
            self.add(
                line_of(entries_node),
                place,
                f"choice list `{list_id}` is empty.",
                "Give it at least one choice, each with a `value` and a `label`.",
                name,
                code="E_EMPTY_CHOICE_LIST",
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
        return ChoiceList(
            list_id, tuple(choices), ordered=ordered, dont_know_label=dont_know, external=external
        )

    def choice(self, node: Node, place: Place, seen: dict[str, int]) -> Choice | None:
        fields = self.mapping(node, place, CHOICE_FIELDS, what="a choice")
        if fields is None:
            return None
        if not self.require(fields, ("value", "label"), node, place):
            return None
        value = self.string(fields["value"][1], place, "value")
        if value is not None:
            place = Place((*place.parts[:-1], f"choice `{value}`"), place.question)
            if not (XML_VALUE_RE if self.pyxform_names else VALUE_RE).fullmatch(value):
                self.add(
                    line_of(fields["value"][1]),
                    place,
                    f"choice value `{value}` must be at most 64 characters without spaces "
                    "(multiple-choice answers are stored as a space-separated list).",
                    "Use a short code such as `satisfied` or `18-29`.",
                    "value",
                    code="E_BAD_CHOICE_VALUE",
                )
                value = None
            elif value in seen and not self.allow_choice_duplicates:
                self.add(
                    line_of(fields["value"][1]),
                    place,
                    f"duplicate choice value `{value}`: also on {self.at(seen[value])}.",
                    "Give each choice of a list its own value.",
                    "value",
                    code="E_DUPLICATE_CHOICE",
                )
                value = None
            else:
                seen[value] = line_of(fields["value"][1])
        label = self.text(fields["label"][1], place, "label")
        points = self.number(fields["points"][1], place, "points") if "points" in fields else None
        if value is None or label is None:
            return None
        if "points" in fields and points is None and not is_null(fields["points"][1]):
            return None
        filters: tuple[tuple[str, str], ...] = ()
        if "filters" in fields and isinstance(fields["filters"][1], MappingNode):
            filters = tuple((str(k.value), str(v.value)) for k, v in fields["filters"][1].value)
        return Choice(value, label, points, filters)
