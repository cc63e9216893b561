"""Reading the rows of an XLSForm into the located mapping that the one builder validates.

The reader knows XLSForm: its types, groups, the grid layout (a ``field-list`` group of
``select_one`` rows of one list), the 不了解 choice and the settings sheet. It reports what only it
can see (an unknown type, a group without an end, a grid row of another list) and leaves every other
rule (ids, duplicates, references, defaults) to :mod:`toolkit.instrument.builder`, so a workbook and
a YAML file are held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from yaml.nodes import Node

from toolkit._checks import did_you_mean
from toolkit.instrument.checks import CrossChecks
from toolkit.instrument.located import FLOAT_TAG, CellMark, Locations, mapping, scalar, sequence
from toolkit.instrument.model import DONT_KNOW
from toolkit.instrument.xlsform_workbook import (
    DK_FILTER_RE,
    DONT_KNOW_FILTER,
    FALSE,
    GRID_GROUP_APPEARANCES,
    GRID_ROW_APPEARANCES,
    GROUP_WORDS,
    SELECT_WORDS,
    TRUE,
    TYPE_WORDS,
    UNSUPPORTED_TYPES,
    Row,
    Sheet,
    SheetProblems,
    language_key,
)

__all__ = ["WorkbookReader"]

#: Columns each kind of row may fill (others are reported).
_PAGE_COLUMNS = {"type", "name", "label", "relevant", "appearance", "sanhui::page", "required"}
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
_QUESTION_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "relevant",
    "default",
    "appearance",
}
_TEXT_COLUMNS = {"sanhui::min_length": "min_length", "sanhui::max_length": "max_length"}


@dataclass
class _Group:
    row: Row
    kind: str  # page, grid, page+grid, implicit, skip
    name: str
    questions: list[Node] = field(default_factory=list)
    grid_rows: list[tuple[Row, str, str | None]] = field(default_factory=list)
    depth: int = 0  # for skipped groups
    rows_seen: int = 0


class WorkbookReader:
    """Turns the parsed sheets into the located mapping of an instrument."""

    def __init__(self, problems: SheetProblems, sink: CrossChecks, locations: Locations) -> None:
        self.p = problems
        self.sink = sink  # the builder: its `broken` set silences follow-on reference problems
        self.locations = locations
        self.list_rows: dict[str, int] = {}
        self.list_has_dk: set[str] = set()
        self.grid_lists: set[str] = set()
        self.dk_uses: list[tuple[Sheet, Row, str, bool]] = []
        self.page_names: set[str] = set()
        self.lists: dict[str, list[tuple[Row, Node]]] = {}
        self.dk_label: dict[str, Node] = {}
        self.ordered: dict[str, set[bool]] = {}

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
        self.p.add(
            sheet.name,
            row.number,
            sheet.column(base) or base,
            f"`{value}` is not yes or no.",
            "Write `yes` or `no` (a condition here is not supported: use `relevant`).",
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

    # --- choices -----------------------------------------------------------------------------
    def read_choices(self, sheet: Sheet | None) -> Node | None:
        if sheet is None or not sheet.rows:
            return None
        for required in ("list_name", "name"):
            if sheet.column(required) is None:
                self.p.add(
                    sheet.name,
                    1,
                    None,
                    f"the choices sheet has no `{required}` column.",
                    code="E_MISSING_COLUMN",
                )
                return None
        for row in sheet.rows:
            list_name = row.cells.get("list_name")
            value = row.cells.get("name")
            if list_name is None or value is None:
                missing = "list_name" if list_name is None else "name"
                self.p.add(
                    sheet.name,
                    row.number,
                    sheet.column(missing),
                    f"missing `{missing}`.",
                    "Every choice needs a list_name and a name (the stored code).",
                    code="E_MISSING_FIELD",
                )
                continue
            self.list_rows.setdefault(list_name, row.number)
            flag = self.boolean(sheet, row, "sanhui_ordered")
            self.ordered.setdefault(list_name, set()).add(bool(flag))
            label = self.text(sheet, row, "label") or scalar(None, self.mark(sheet, row, "label"))
            if value == DONT_KNOW:
                self.dk_label[list_name] = label
                self.list_has_dk.add(list_name)
            points = self.value(sheet, row, "points")
            if points is not None:
                try:
                    float(row.cells["points"])
                    points.tag = FLOAT_TAG  # the builder checks it is finite
                except ValueError:
                    pass  # left as text: the builder reports "must be a number"
            choice = self.fields(
                sheet,
                row,
                {"value": self.value(sheet, row, "name"), "label": label, "points": points},
            )
            self.lists.setdefault(list_name, []).append((row, choice))
        return None

    def choices_node(self, sheet: Sheet | None) -> Node | None:
        if sheet is None or not self.lists:
            return None
        out: dict[str, Node] = {}
        for list_name, rows in self.lists.items():
            first = rows[0][0]
            mark = self.mark(sheet, first, "list_name")
            if len(self.ordered.get(list_name, {False})) > 1:
                self.p.add(
                    sheet.name,
                    first.number,
                    sheet.column("sanhui_ordered"),
                    f"list `{list_name}` is marked ordered on some rows only.",
                    "Write `yes` in `sanhui_ordered` on every row of an ordered list, or on none.",
                    code="E_MIXED_ORDERED",
                )
            grid_dk = list_name in self.grid_lists and list_name in self.list_has_dk
            entries = [
                node for row, node in rows if not (grid_dk and row.cells.get("name") == DONT_KNOW)
            ]
            pairs: dict[str, Node] = {
                "ordered": scalar(True in self.ordered.get(list_name, set()), mark),
                "choices": sequence(entries, mark),
            }
            if grid_dk:
                pairs["dont_know_label"] = self.dk_label[list_name]
            out[list_name] = mapping(pairs, mark)
        return mapping(out, self.mark(sheet, sheet.rows[0]))

    # --- settings ----------------------------------------------------------------------------
    def read_settings(self, sheet: Sheet | None, fallback_id: str, source_mark: Node) -> Node:
        """The settings; ``version`` defaults to ``1`` and ``form_id`` to the file name, as pyxform
        defaults them."""
        row = sheet.rows[0] if sheet is not None and sheet.rows else Row(2, {})
        if sheet is not None and len(sheet.rows) > 1:
            self.p.add(
                sheet.name,
                sheet.rows[1].number,
                None,
                "the settings sheet has more than one row of values.",
                "Keep the settings in row 2 only.",
                code="E_SETTINGS_ROWS",
            )
        at = source_mark.start_mark
        cells = row.cells

        def cell(base: str, default: str | None = None) -> Node | None:
            if sheet is not None and base in cells:
                return self.value(sheet, row, base)
            return None if default is None else scalar(default, at)

        title: Node | None = cell("form_title")
        if title is not None and cells.get("sanhui::title_en"):
            assert sheet is not None
            title = mapping(
                {"zh": title, "en": cast(Node, self.value(sheet, row, "sanhui::title_en"))},
                title.start_mark,
            )
        pairs: dict[str, Node | None] = {
            "id": cell("form_id", fallback_id),
            "version": cell("version", "1"),
            "title": title or scalar(cells.get("form_id") or fallback_id, at),
            "kind": cell("kind"),
        }
        if sheet is not None and "sanhui::description" in cells:
            pairs["description"] = mapping(
                {
                    k: v
                    for k, v in (
                        ("zh", self.value(sheet, row, "sanhui::description")),
                        ("en", self.value(sheet, row, "sanhui::description_en")),
                    )
                    if v is not None
                },
                at,
            )
        if sheet is not None and "default_language" in cells:
            pairs["default_language"] = scalar(
                language_key(cells["default_language"]), self.mark(sheet, row, "default_language")
            )
        if sheet is not None and "anonymous" in cells:
            flag = self.boolean(sheet, row, "anonymous")
            pairs["anonymous"] = (
                None if flag is None else scalar(flag, self.mark(sheet, row, "anonymous"))
            )
        return mapping({k: v for k, v in pairs.items() if v is not None}, at)

    # --- survey ------------------------------------------------------------------------------
    def read_survey(self, sheet: Sheet, title: Node) -> list[Node]:
        p = self.p
        if sheet.column("type") is None or sheet.column("name") is None:
            missing = [c for c in ("type", "name") if sheet.column(c) is None]
            p.add(
                sheet.name,
                1,
                None,
                f"the survey sheet has no {' or '.join(f'`{c}`' for c in missing)} column.",
                "Row 1 of the survey sheet names the columns: type, name, label, ...",
                code="E_MISSING_COLUMN",
            )
            return []
        self.title = title
        pages: list[Node] = []
        stack: list[_Group] = []
        implicit = 0
        for row in sheet.rows:
            raw_type = row.cells.get("type")
            if raw_type is None:
                if set(row.cells) - {"name"} or row.cells.get("name"):
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        "the row has no `type`.",
                        "Give it a type (e.g. `select_one satisfaction`, `text`), or clear the row.",
                        row.cells.get("name"),
                        code="E_MISSING_TYPE",
                    )
                continue
            kind, list_name = self.parse_type(sheet, row, raw_type)
            top = stack[-1] if stack else None
            if top is not None and kind not in ("end", "end_repeat"):
                top.rows_seen += 1
            if kind is None:
                if row.cells.get("name"):
                    self.sink.broken.add(row.cells["name"])
                continue
            if top is not None and top.kind == "skip":
                if kind in ("begin", "repeat"):
                    top.depth += 1
                elif kind in ("end", "end_repeat"):
                    top.depth -= 1
                    if top.depth < 0:
                        stack.pop()
                elif row.cells.get("name"):
                    self.sink.broken.add(row.cells["name"])
                continue
            if kind == "repeat":
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"`{raw_type.strip()}` (repeat groups) is not supported: a ballot has a fixed "
                    "set of questions.",
                    "Per-subject ratings use a grid with `sanhui::per_subject` = yes; otherwise "
                    "list the questions once.",
                    row.cells.get("name"),
                    code="E_UNSUPPORTED_REPEAT",
                )
                stack.append(_Group(row, "skip", row.cells.get("name", "?")))
                continue
            if kind == "end_repeat":
                p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"`{raw_type.strip()}` without a repeat.",
                    code="E_UNMATCHED_END",
                )
                continue
            if kind == "begin":
                self.begin_group(sheet, row, stack, pages)
                continue
            if kind == "end":
                if not stack or stack[-1].kind == "implicit":
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        "`end group` without a matching `begin group`.",
                        "Delete it, or add the `begin group` row.",
                        code="E_UNMATCHED_END",
                    )
                    continue
                self.end_group(sheet, stack, pages)
                continue
            if top is None:
                implicit += 1
                name = f"page_{implicit}"
                while name in self.page_names:
                    implicit += 1
                    name = f"page_{implicit}"
                self.page_names.add(name)
                stack.append(_Group(row, "implicit", name))
                top = stack[-1]
            if top.kind in ("grid", "page+grid"):
                top.grid_rows.append((row, kind, list_name))
                continue
            top.questions.append(self.question(sheet, row, kind, list_name))
        while stack:
            group = stack[-1]
            if group.kind in ("implicit", "page", "page+grid") and group.kind == "implicit":
                self.end_group(sheet, stack, pages)
                continue
            if group.kind != "skip":
                p.add(
                    sheet.name,
                    group.row.number,
                    sheet.column("type"),
                    f"`begin group` `{group.name}` has no matching `end group`.",
                    "Add an `end group` row after its last question.",
                    group.name,
                    code="E_UNCLOSED_GROUP",
                )
            stack.pop()
        return pages

    def parse_type(self, sheet: Sheet, row: Row, raw: str) -> tuple[str | None, str | None]:
        p = self.p
        text = " ".join(raw.split())
        lowered = text.lower()
        where = (sheet.name, row.number, sheet.column("type"))
        if lowered in GROUP_WORDS:
            return GROUP_WORDS[lowered], None
        if lowered.startswith("begin loop") or lowered.startswith("begin_loop"):
            return "repeat", None
        if lowered in ("end loop", "end_loop"):
            return "end_repeat", None
        if lowered in TYPE_WORDS:
            return TYPE_WORDS[lowered], None
        for prefix, kind in SELECT_WORDS.items():
            if lowered.startswith(prefix + " ") or lowered == prefix:
                rest = text[len(prefix) :].split()
                if rest and rest[0].lower() == "from":  # the older `select one from LIST`
                    rest = rest[1:]
                if len(rest) == 2 and rest[1].lower() == "or_other":
                    p.add(
                        *where,
                        "`or_other` is not supported.",
                        "Add an `other` choice and a text question relevant when it is selected.",
                        row.cells.get("name"),
                        code="E_UNSUPPORTED_OR_OTHER",
                    )
                    return None, None
                if len(rest) != 1:
                    p.add(
                        *where,
                        f"`{text}` must name one choice list, e.g. `{prefix} satisfaction`.",
                        None,
                        row.cells.get("name"),
                        code="E_BAD_TYPE",
                    )
                    return None, None
                return kind, rest[0]
        first = lowered.split()[0] if lowered.split() else lowered
        if first in UNSUPPORTED_TYPES:
            p.add(
                *where,
                f"type `{text}` is not supported: {UNSUPPORTED_TYPES[first]}.",
                None,
                row.cells.get("name"),
                code="E_UNSUPPORTED_TYPE",
            )
            return None, None
        known = [*TYPE_WORDS, *SELECT_WORDS, "begin group", "end group"]
        hint = did_you_mean(first, known).strip()
        p.add(
            *where,
            f"unknown type `{text}`.",
            hint
            or "Use select_one LIST, select_multiple LIST, integer, decimal, text, date, note, "
            "begin group or end group.",
            row.cells.get("name"),
            code="E_UNKNOWN_TYPE",
        )
        return None, None

    def begin_group(self, sheet: Sheet, row: Row, stack: list[_Group], pages: list[Node]) -> None:
        name = row.cells.get("name")
        if name is None:
            self.p.add(
                sheet.name,
                row.number,
                sheet.column("name"),
                "`begin group` has no name.",
                "Give the group a name (it becomes the page or grid id).",
                code="E_MISSING_NAME",
            )
            name = f"group_row_{row.number}"
        if stack and stack[-1].kind == "implicit":
            self.end_group(sheet, stack, pages)
        appearance = set((row.cells.get("appearance") or "").split())
        if not stack:
            page_id = row.cells.get("sanhui::page") or name
            self.page_names.add(page_id)
            kind = "page+grid" if "table-list" in appearance else "page"
            stack.append(_Group(row, kind, page_id))
            return
        if stack[-1].kind == "page" and appearance & GRID_GROUP_APPEARANCES:
            stack.append(_Group(row, "grid", name))
            return
        fix = (
            "A group inside a page is read as a grid only with appearance `field-list` and rows "
            "`select_one` of one list; otherwise move its questions into the page."
            if stack[-1].kind == "page"
            else "Grids cannot hold groups; move the inner group out."
        )
        self.p.add(
            sheet.name,
            row.number,
            sheet.column("type"),
            f"group `{name}` is nested inside group `{stack[-1].name}`; nested groups are "
            "not supported (a page is a top-level group).",
            fix,
            name,
            code="E_UNSUPPORTED_NESTED_GROUP",
        )
        stack.append(_Group(row, "skip", name))

    def end_group(self, sheet: Sheet, stack: list[_Group], pages: list[Node]) -> None:
        group = stack.pop()
        if group.kind == "grid":
            grid = self.grid(sheet, group)
            if grid is not None and stack:
                stack[-1].questions.append(grid)
            return
        if group.kind == "page+grid":
            grid = self.grid(sheet, group)
            group.questions = [grid] if grid is not None else []
        row = group.row
        if group.kind == "implicit":
            mark = self.mark(sheet, row)
            title: Node | None = self.title
            relevant = None
        else:
            mark = self.mark(sheet, row, "name")
            title = self.text(sheet, row, "label") or scalar(group.name, mark)
            relevant = self.value(sheet, row, "relevant")
            self.unused(sheet, row, _PAGE_COLUMNS, "the `begin group` row of a page")
        if not group.questions:
            if group.rows_seen == 0:
                self.p.add(
                    sheet.name,
                    row.number,
                    sheet.column("type"),
                    f"group `{group.name}` has no questions.",
                    "Add questions to the group, or delete it.",
                    group.name,
                    code="E_EMPTY_PAGE",
                )
            return
        pairs = {
            "id": scalar(group.name, mark),
            "title": title,
            "relevant": relevant,
            "questions": sequence(group.questions, mark),
        }
        pages.append(mapping({k: v for k, v in pairs.items() if v is not None}, mark))

    def choice_filter(self, sheet: Sheet, row: Row, list_name: str | None) -> bool:
        """True when the row excludes 不了解; reports any other filter."""
        text = row.cells.get("choice_filter")
        if text is None:
            return False
        if DK_FILTER_RE.fullmatch(text) and list_name in self.list_has_dk:
            return True
        self.p.add(
            sheet.name,
            row.number,
            sheet.column("choice_filter"),
            f"choice_filter `{text}` is not supported: the instrument model has no cascading "
            f"choices; the only filter read is `{DONT_KNOW_FILTER}` on a row whose list has a "
            f"`{DONT_KNOW}` choice.",
            "Split the list into one list per case, or remove the filter.",
            row.cells.get("name"),
            code="E_UNSUPPORTED_CHOICE_FILTER",
        )
        return False

    def question(self, sheet: Sheet, row: Row, qtype: str, list_name: str | None) -> Node:
        allowed = set(_QUESTION_COLUMNS)
        if qtype in ("single", "multiple"):
            allowed.add("choice_filter")
        if qtype == "text":
            allowed |= set(_TEXT_COLUMNS)
        self.unused(sheet, row, allowed, f"{qtype} questions")
        excluded = self.choice_filter(sheet, row, list_name)
        if list_name in self.list_has_dk:
            self.dk_uses.append((sheet, row, list_name, excluded))
        mark = self.mark(sheet, row, "name")
        required = self.boolean(sheet, row, "required")
        pairs: dict[str, Node | None] = {
            "id": self.value(sheet, row, "name") or scalar(None, mark),
            "type": scalar(qtype, self.mark(sheet, row, "type")),
            "label": self.text(sheet, row, "label"),
            "hint": self.text(sheet, row, "hint"),
            "required": scalar(True, self.mark(sheet, row, "required")) if required else None,
            "required_message": self.text(sheet, row, "required_message"),
            "constraint": self.value(sheet, row, "constraint"),
            "constraint_message": self.text(sheet, row, "constraint_message"),
            "relevant": self.value(sheet, row, "relevant"),
            "appearance": self.value(sheet, row, "appearance"),
            "choices": scalar(list_name, self.mark(sheet, row, "type")) if list_name else None,
            "default": self.value(sheet, row, "default"),
        }
        if qtype == "note":
            pairs["required_message"] = pairs["required"] = pairs["default"] = None
        for column, name in _TEXT_COLUMNS.items():
            value = row.cells.get(column)
            if value is not None:
                node = scalar(value, self.mark(sheet, row, column))
                node.tag = (
                    "tag:yaml.org,2002:int" if value.strip().lstrip("+-").isdigit() else node.tag
                )
                pairs[name] = node
        if list_name is not None and list_name not in self.list_rows:
            pairs["choices"] = None
            self.unknown_list(sheet, row, list_name)
        return self.fields(sheet, row, pairs)

    def unknown_list(self, sheet: Sheet, row: Row, list_name: str) -> None:
        hint = did_you_mean(list_name, self.list_rows).strip()
        self.p.add(
            sheet.name,
            row.number,
            sheet.column("type"),
            f"choice list `{list_name}` is not on the choices sheet.",
            hint or f"Add the list `{list_name}` to the choices sheet.",
            row.cells.get("name"),
            code="E_UNKNOWN_CHOICE_LIST",
        )
        if row.cells.get("name"):
            self.sink.broken.add(row.cells["name"])

    def grid(self, sheet: Sheet, group: _Group) -> Node | None:
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
