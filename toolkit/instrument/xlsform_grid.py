"""The rows of an XLSForm as located values, and the rating grid (a ``field-list`` group of
``select_one`` rows of one list, with an optional ``label`` / ``list-nolabel`` header row).

A group is read as a grid only when every row can be a grid item (``select_one`` of one list,
no relevance, constraint or calculation of its own); otherwise it is a nested group of
questions, as ODK shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yaml.nodes import Node

from toolkit._checks import did_you_mean
from toolkit.instrument.checks import CrossChecks
from toolkit.instrument.located import CellMark, Locations, mapping, scalar, sequence
from toolkit.instrument.model import DONT_KNOW
from toolkit.instrument.xlsform_workbook import (
    DK_FILTER_RE,
    DONT_KNOW_FILTER,
    FALSE,
    GRID_GROUP_APPEARANCES,
    GRID_ROW_APPEARANCES,
    TRUE,
    Row,
    Sheet,
    SheetProblems,
)

__all__ = ["GridReader", "Group"]

#: A cell that holds an XPath condition rather than yes/no (`${a} = 'x'`, `not(...)`).
_CONDITION_RE = re.compile(r"\$\{|[=<>()]|\b(and|or)\b")

_GRID_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "relevant",
    "appearance",
    "required",
    "required_message",
    "sanhui::per_subject",
}
_ITEM_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "default",
    "appearance",
    "choice_filter",
}


@dataclass
class Group:
    """A group of the survey sheet while it is read."""

    row: Row
    kind: str  # page, grid, page+grid, implicit, nested, skip
    name: str
    questions: list[Node] = field(default_factory=list)
    grid_rows: list[tuple[Row, str, str | None]] = field(default_factory=list)
    depth: int = 0  # for skipped groups
    rows_seen: int = 0
    repeat: bool = False
    groups: list[Node] = field(default_factory=list)  # a page's nested groups
    group_ids: set[str] = field(default_factory=set)


class GridReader:
    """Located values of rows, and grids."""

    def __init__(self, problems: SheetProblems, sink: CrossChecks, locations: Locations) -> None:
        self.p = problems
        self.sink = sink  # the builder: its `broken` set silences follow-on reference problems
        self.locations = locations
        self.list_rows: dict[str, int] = {}
        self.list_has_dk: set[str] = set()
        self.grid_lists: set[str] = set()
        self.dk_uses: list[tuple[Sheet, Row, str, bool]] = []

    # --- located values ----------------------------------------------------------------------
    def mark(
        self, sheet: Sheet, row: Row, base: str | None = None, language: str | None = None
    ) -> CellMark:
        column = sheet.column(base, language) if base is not None else None
        if column is None:
            column = sheet.column("type") or sheet.column("list_name")
        header = column.header if column is not None else base
        return self.locations.cell(sheet.name, row.number, header, column.index if column else None)

    def value(self, sheet: Sheet, row: Row, base: str) -> Node | None:
        text = row.cells.get(base)
        return None if text is None else scalar(text, self.mark(sheet, row, base))

    def text(self, sheet: Sheet, row: Row, base: str) -> Node | None:
        pairs: dict[str, Node] = {}
        for column in sheet.columns:
            if column.base == base and column.language is not None:
                text = row.cells.get(f"{base}@{column.language}")
                if text is not None and text.strip():
                    pairs[column.language] = scalar(
                        text, self.mark(sheet, row, base, column.language)
                    )
        if not pairs:
            return None
        first = next(iter(pairs.values()))
        return mapping(
            dict(sorted(pairs.items(), key=lambda kv: kv[0] not in ("zh", "en"))), first.start_mark
        )

    def boolean(self, sheet: Sheet, row: Row, base: str) -> bool | None:
        value = row.cells.get(base)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        if _CONDITION_RE.search(value):  # XLSForm allows `${dead} = 'yes'` here; sanhui does not
            self.p.add(
                sheet.name,
                row.number,
                sheet.column(base) or base,
                f"`{base}` holds a condition (`{value}`), which sanhui does not support.",
                "Write `yes` or `no`; to ask the question only in some cases, put the condition "
                "in `relevant`.",
                row.cells.get("name"),
                code="E_UNSUPPORTED_CONDITION",
            )
            return None
        self.p.add(
            sheet.name,
            row.number,
            sheet.column(base) or base,
            f"`{value}` is not yes or no.",
            "Write `yes` or `no`.",
            code="E_NOT_A_BOOLEAN",
        )
        return None

    def fields(self, sheet: Sheet, row: Row, pairs: dict[str, Node | None]) -> Node:
        return mapping({k: v for k, v in pairs.items() if v is not None}, self.mark(sheet, row))

    def unused(self, sheet: Sheet, row: Row, allowed: set[str], what: str) -> None:
        for key in row.cells:
            base = key.split("@")[0]
            if base in allowed or (base == "required" and row.cells[key].lower() in FALSE):
                continue
            fix = (
                "Put `relevant` on the grid's `begin group` row."
                if base == "relevant" and what == "the rows of a grid"
                else "Remove the value."
            )
            self.p.add(
                sheet.name,
                row.number,
                sheet.column(base) or base,
                f"column `{base}` is not used on {what}.",
                fix,
                row.cells.get("name"),
                code="E_COLUMN_NOT_FOR_TYPE",
            )

    def unknown_list(
        self,
        sheet: Sheet,
        row: Row,
        list_name: str,
        *,
        external: bool = False,
        other_sheet: bool = False,
    ) -> None:
        """Report a list that is not on the sheet the row's type reads (``external``: the
        external_choices sheet); ``other_sheet``: the list is on the other one."""
        where = "external_choices" if external else "choices"
        if other_sheet:
            hint = (
                f"It is on the choices sheet: use `select_one {list_name}`."
                if external
                else f"It is on the external_choices sheet: use `select_one_external {list_name}`."
            )
        else:
            hint = did_you_mean(list_name, self.list_rows).strip() if not external else ""
        self.p.add(
            sheet.name,
            row.number,
            sheet.column("type"),
            f"choice list `{list_name}` is not on the {where} sheet.",
            hint or f"Add the list `{list_name}` to the {where} sheet.",
            row.cells.get("name"),
            code="E_UNKNOWN_CHOICE_LIST",
        )
        if row.cells.get("name"):
            self.sink.broken.add(row.cells["name"])

    def choice_filter(self, sheet: Sheet, row: Row, list_name: str | None) -> bool:
        """True when the row's ``choice_filter`` only excludes a grid list's 不了解."""
        text = row.cells.get("choice_filter")
        return bool(
            text is not None and DK_FILTER_RE.fullmatch(text) and list_name in self.list_has_dk
        )

    def grid(self, sheet: Sheet, group: Group) -> Node | None:
        p = self.p
        head = group.row
        name = head.cells.get("name", group.name)
        self.unused(sheet, head, _GRID_COLUMNS, "the `begin group` row of a grid")
        rows = [
            r
            for r in group.grid_rows
            # the header row of a label / list-nolabel matrix only shows the scale's labels
            if "label" not in (r[0].cells.get("appearance") or "").split()
        ]
        if not rows:
            p.add(
                sheet.name,
                head.number,
                sheet.column("type"),
                f"grid `{name}` has no rows.",
                "Add `select_one LIST` rows, one per item.",
                name,
                code="E_EMPTY_GRID",
            )
            return None
        lists: dict[str, int] = {}
        items: list[Node] = []
        row_required: list[bool] = []
        messages: dict[str, Node] = {}
        defaults: set[str | None] = set()
        for row, kind, list_name in rows:
            item_name = row.cells.get("name")
            if kind != "single" or list_name is None:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"the rows of grid `{name}` must be `select_one` of one list; this row is "
                    f"`{row.cells['type']}`.",
                    "Move the row out of the grid's group.",
                    item_name,
                    code="E_GRID_ROW_TYPE",
                )
                continue
            lists.setdefault(list_name, row.number)
            self.unused(sheet, row, _ITEM_COLUMNS, "the rows of a grid")
            words = set((row.cells.get("appearance") or "").split())
            if words - GRID_ROW_APPEARANCES:
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("appearance"),
                    f"appearance `{' '.join(sorted(words - GRID_ROW_APPEARANCES))}` is not "
                    "used on grid rows.",
                    "Use `likert` (or `table-list`).",
                    item_name,
                    code="E_GRID_ROW_APPEARANCE",
                )
            excluded = self.choice_filter(sheet, row, list_name)
            required = bool(self.boolean(sheet, row, "required"))
            row_required.append(required)
            message = self.text(sheet, row, "required_message")
            if required and message is not None:
                messages[repr(sorted((k.value, v.value) for k, v in message.value))] = message
            defaults.add(row.cells.get("default"))
            mark = self.mark(sheet, row, "name")
            items.append(
                mapping(
                    {
                        k: v
                        for k, v in {
                            "id": self.value(sheet, row, "name") or scalar(None, mark),
                            "label": self.text(sheet, row, "label"),
                            "hint": self.text(sheet, row, "hint"),
                            "allow_dont_know": scalar(
                                list_name in self.list_has_dk and not excluded, mark
                            ),
                            "required": scalar(required, self.mark(sheet, row, "required")),
                        }.items()
                        if v is not None
                    },
                    mark,
                )
            )
        if len(lists) > 1:
            listed = ", ".join(f"`{k}` (row {v})" for k, v in lists.items())
            p.add(
                sheet.name,
                head.number,
                sheet.column("type"),
                f"the rows of grid `{name}` use several choice lists: {listed}.",
                "A grid's rows share one scale: use one list, or make separate grids.",
                name,
                code="E_GRID_LISTS",
            )
            return None
        if not lists:
            return None
        list_name = next(iter(lists))
        self.grid_lists.add(list_name)
        head_required = self.boolean(sheet, head, "required")
        grid_required = all(row_required) if head_required is None else head_required
        for item, required in zip(items, row_required, strict=True):
            if required == grid_required:  # the same as the grid's: inherit it
                item.value = [(k, v) for k, v in item.value if k.value != "required"]
        grid_message = self.text(sheet, head, "required_message")
        if grid_message is None and messages:
            if len(messages) > 1:
                p.add(
                    sheet.name,
                    head.number,
                    sheet.column("required_message", "zh") or "required_message",
                    f"the rows of grid `{name}` have different required messages.",
                    "Give one `required_message` on the grid's `begin group` row.",
                    name,
                    code="E_GRID_MESSAGES",
                )
            else:
                grid_message = next(iter(messages.values()))
        if len(defaults) > 1:
            p.add(
                sheet.name,
                head.number,
                sheet.column("default") or "default",
                f"the rows of grid `{name}` have different defaults.",
                "A grid has one default for all its rows: give every row the same, or none.",
                name,
                code="E_GRID_DEFAULTS",
            )
        per_subject = self.boolean(sheet, head, "sanhui::per_subject")
        appearance = " ".join(
            w
            for w in (head.cells.get("appearance") or "").split()
            if w not in GRID_GROUP_APPEARANCES
        )
        mark = self.mark(sheet, head, "name")
        if list_name not in self.list_rows:
            self.unknown_list(sheet, rows[0][0], list_name)
        pairs: dict[str, Node | None] = {
            "id": scalar(name, mark),
            "type": scalar("grid", self.mark(sheet, head, "type")),
            "label": self.text(sheet, head, "label"),
            "hint": self.text(sheet, head, "hint"),
            "required": scalar(bool(grid_required), mark),
            "required_message": grid_message if grid_required or any(row_required) else None,
            "relevant": self.value(sheet, head, "relevant"),
            "appearance": scalar(appearance, mark) if appearance else None,
            "choices": scalar(list_name, mark) if list_name in self.list_rows else None,
            "items": sequence(items, mark),
            "per_subject": scalar(True, mark) if per_subject else None,
            "default": self.value(sheet, rows[0][0], "default") if len(defaults) == 1 else None,
        }
        return self.fields(sheet, head, pairs)

    def check_dont_know_use(self) -> None:
        for sheet, row, list_name, excluded in self.dk_uses:
            if excluded and list_name not in self.grid_lists:
                self.p.add(
                    sheet.name,
                    row.number,
                    sheet.column("choice_filter"),
                    f"choice_filter `{DONT_KNOW_FILTER}` is only read on questions whose list "
                    "is also a grid's list (where `dont_know` is the grid's 不了解 answer).",
                    "Remove the `dont_know` choice from the list, or the filter.",
                    row.cells.get("name"),
                    code="E_DONT_KNOW_FILTER",
                )
            elif not excluded and list_name in self.grid_lists:
                self.p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"list `{list_name}` has a `{DONT_KNOW}` choice, which is a grid's 不了解 "
                    f"answer, but this question is not a grid row.",
                    f"Add the choice_filter `{DONT_KNOW_FILTER}` to this row, or give it a list "
                    "of its own.",
                    row.cells.get("name"),
                    code="E_DONT_KNOW_FILTER",
                )

    def grid_ok(self, group: Group) -> bool:
        """Whether the rows of a ``field-list`` group can be read as a grid."""
        rows = [
            r
            for r in group.grid_rows
            if "label" not in (r[0].cells.get("appearance") or "").split()
        ]
        lists = {list_name for _, _, list_name in rows}
        if not rows or len(lists) != 1 or any(kind != "single" for _, kind, _ in rows):
            return False
        for row, _, list_name in rows:
            if {k.split("@")[0] for k in row.cells} - _ITEM_COLUMNS - {"required"}:
                return False
            if set((row.cells.get("appearance") or "").split()) - GRID_ROW_APPEARANCES:
                return False
            text = row.cells.get("choice_filter")
            if text is not None and not (
                DK_FILTER_RE.fullmatch(text) and list_name in self.list_has_dk
            ):
                return False
        head = group.row
        return not ({k.split("@")[0] for k in head.cells} - _GRID_COLUMNS)
