"""The located mapping: the one shape every instrument reader produces.

An instrument, whatever it was written in, is first read into a tree of PyYAML nodes (mappings,
lists and text scalars). Each node carries a *mark* that says where its value was written: a line
of a YAML file (PyYAML's own marks), or a cell of an XLSForm workbook (:class:`CellMark`). One
builder (:mod:`toolkit.instrument.builder`) then validates that tree into the model, so a YAML file
and a workbook are held to the same rules and their problems are located the same way.

For a cell, the mark's ``line`` is a sort key (sheet, row, column): problems are listed in the
order they appear in the workbook. :class:`Locations` turns such a key back into words.

>>> marks = Locations("form.xlsx")
>>> node = scalar("yes", marks.cell("survey", 4, "required", 5))
>>> marks.describe(line_of(node))
'sheet `survey`, row 4, column `required` (F)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from toolkit.instrument.model import Question

__all__ = [
    "BOOL_TAG",
    "FLOAT_TAG",
    "INT_TAG",
    "NULL_TAG",
    "STR_TAG",
    "CellMark",
    "Fields",
    "Locations",
    "Place",
    "QInfo",
    "describe",
    "is_null",
    "line_of",
    "mapping",
    "peek_id",
    "scalar",
    "sequence",
]

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"

_SHEET_ORDER = {"settings": 0, "survey": 1, "choices": 2}
_ROW_SPAN = 1_000  # columns per row in a sort key
_SHEET_SPAN = 10_000_000  # rows per sheet in a sort key


class CellMark(yaml.Mark):
    """Where a value was written in a workbook: sheet, row (1-based) and column."""

    def __init__(self, sheet: str, row: int, header: str | None, index: int | None) -> None:
        order = _SHEET_ORDER.get(sheet.strip().lower(), 3)
        key = order * _SHEET_SPAN + row * _ROW_SPAN + (0 if index is None else index + 1)
        super().__init__(sheet, key, key - 1, 0, None, None)  # type: ignore[arg-type]
        self.sheet, self.row, self.header = sheet, row, header
        self.column_index = index

    def describe(self, *, column: bool = True) -> str:
        text = f"sheet `{self.sheet}`, row {self.row}"
        if column and self.header is not None:
            text += f", column `{self.header}`"
            if self.column_index is not None:
                # openpyxl (and with it numpy) loads only when a workbook cell is named
                from openpyxl.utils import get_column_letter

                text += f" ({get_column_letter(self.column_index + 1)})"
        return text


class Locations:
    """The cell marks handed out for one workbook, to say where a sort key points."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.marks: dict[int, CellMark] = {}

    def cell(self, sheet: str, row: int, header: str | None, index: int | None) -> CellMark:
        mark = CellMark(sheet, row, header, index)
        self.marks.setdefault(mark.line + 1, mark)
        return mark

    def describe(self, line: int, *, column: bool = True) -> str:
        mark = self.marks.get(line)
        return mark.describe(column=column) if mark is not None else f"line {line}"


def scalar(value: str | bool | int | None, mark: yaml.Mark) -> ScalarNode:
    """A located scalar: text as written, ``True``/``False`` as a boolean, ``None`` as null."""
    if value is None:
        return ScalarNode(NULL_TAG, "", mark, mark)
    if isinstance(value, bool):
        return ScalarNode(BOOL_TAG, "true" if value else "false", mark, mark)
    if isinstance(value, int):
        return ScalarNode(INT_TAG, str(value), mark, mark)
    return ScalarNode(STR_TAG, value, mark, mark)


def mapping(pairs: dict[str, Node], mark: yaml.Mark) -> MappingNode:
    """A located mapping of field names to nodes (the key nodes share the value's mark)."""
    return MappingNode(
        MAP_TAG, [(scalar(k, v.start_mark), v) for k, v in pairs.items()], mark, mark
    )


def sequence(items: list[Node], mark: yaml.Mark) -> SequenceNode:
    """A located list."""
    return SequenceNode(SEQ_TAG, list(items), mark, mark)


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode) and node.tag == NULL_TAG:
        return "nothing"
    value = str(node.value)
    return f"`{value[:40]}{'...' if len(value) > 40 else ''}`"


def peek_id(node: Node) -> str | None:
    """The ``id`` written in a mapping node, if any (to name it in messages before checks)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                text = str(value.value).strip()
                if text and value.tag != NULL_TAG and len(text) <= 64 and "`" not in text:
                    return text
                return None
    return None


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


@dataclass
class Place:
    """Where we are in the file: the parts after the line ("question `q`", "item `i`")."""

    parts: tuple[str, ...] = ()
    question: str | None = None  # the question/variable id, for Problem.field

    def sub(self, part: str) -> Place:
        return Place((*self.parts, part), self.question)


@dataclass
class QInfo:
    """What the cross checks need to know about one question."""

    question: Question
    index: int
    place: Place
    lines: dict[str, int] = field(default_factory=dict)
    choices_inline: bool = False


Fields = dict[str, tuple[ScalarNode, Node]]
