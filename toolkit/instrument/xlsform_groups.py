"""Groups of an XLSForm survey sheet: pages (top-level groups and repeats), groups nested in
them at any depth (:class:`~toolkit.instrument.model.Group`), and ``field-list`` groups that are
read as grids when their rows allow it and as nested groups otherwise."""

from __future__ import annotations

from yaml.nodes import Node

from toolkit.instrument.located import mapping, scalar, sequence
from toolkit.instrument.xlsform_grid import GridReader, Group
from toolkit.instrument.xlsform_workbook import GRID_GROUP_APPEARANCES, Row, Sheet

__all__ = ["GroupReader"]

#: Columns a page's `begin group` row may fill (others are reported).
PAGE_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "relevant",
    "appearance",
    "sanhui::page",
    "required",
    "repeat_count",
    "read_only",
}


class GroupReader(GridReader):
    """Opens and closes the groups of the survey sheet."""

    title: Node | None
    page_names: set[str]
    page_name: str
    current_group: str | None

    def question(
        self, sheet: Sheet, row: Row, qtype: str, list_name: str | None, or_other: bool = False
    ) -> Node | None:  # pragma: no cover - the workbook reader defines it
        raise NotImplementedError

    def begin_group(
        self, sheet: Sheet, row: Row, stack: list[Group], pages: list[Node], repeat: bool
    ) -> None:
        name = row.cells.get("name")
        if name is None:
            self.p.add(
                sheet.name,
                row.number,
                sheet.column("name"),
                f"`begin {'repeat' if repeat else 'group'}` has no name.",
                "Give the group a name (it becomes the page or grid id).",
                code="E_MISSING_NAME",
            )
            name = f"group_row_{row.number}"
        if stack and stack[-1].kind == "implicit":
            self.end_group(sheet, stack, pages)
        self.sink.broken.add(name)  # a group is no question: `${group}` (count) is not checked
        appearance = set((row.cells.get("appearance") or "").split())
        if not stack:
            page_id = row.cells.get("sanhui::page") or name
            self.page_names.add(page_id)
            self.page_name = page_id
            kind = "page+grid" if "table-list" in appearance and not repeat else "page"
            stack.append(Group(row, kind, page_id, repeat=repeat))
            return
        if stack[-1].kind in ("grid", "page+grid"):
            self.demote(sheet, stack)  # a group inside: not a grid
        if appearance & GRID_GROUP_APPEARANCES and not repeat:
            stack.append(Group(row, "grid", name))
            return
        self.open_nested(sheet, row, stack, name, repeat)

    def open_nested(
        self, sheet: Sheet, row: Row, stack: list[Group], name: str, repeat: bool
    ) -> None:
        page = stack[0]
        group_id, n = name, 2
        while group_id in page.group_ids or group_id == page.name:
            group_id, n = f"{name}_{n}", n + 1
        page.group_ids.add(group_id)
        mark = self.mark(sheet, row, "name")
        pairs: dict[str, Node | None] = {
            "id": scalar(group_id, mark),
            "label": self.text(sheet, row, "label"),
            "relevant": self.value(sheet, row, "relevant"),
            "appearance": self.value(sheet, row, "appearance"),
            "parent": scalar(self.current_group, mark) if self.current_group else None,
            "repeat": scalar(True, mark) if repeat else None,
            "repeat_count": self.value(sheet, row, "repeat_count") if repeat else None,
        }
        page.groups.append(self.fields(sheet, row, pairs))
        group = Group(row, "nested", group_id, repeat=repeat)
        group.depth = 0
        stack.append(group)
        self.current_group = group_id

    def demote(self, sheet: Sheet, stack: list[Group]) -> None:
        """The open grid candidate is not a grid: read its rows as questions."""
        group = stack[-1]
        rows = group.grid_rows
        group.grid_rows = []
        if group.kind == "page+grid":
            group.kind = "page"
        else:
            stack.pop()
            self.open_nested(sheet, group.row, stack, group.name, False)
        for row, kind, list_name in rows:
            or_other = kind.endswith("+other")
            node = self.question(sheet, row, kind.removesuffix("+other"), list_name, or_other)
            if node is not None:
                stack[0].questions.append(node)

    def end_group(self, sheet: Sheet, stack: list[Group], pages: list[Node]) -> None:
        if stack[-1].kind in ("grid", "page+grid") and not self.grid_ok(stack[-1]):
            self.demote(sheet, stack)
        group = stack.pop()
        if group.kind == "nested":
            self.current_group = next((g.name for g in reversed(stack) if g.kind == "nested"), None)
            return
        if group.kind == "grid":
            grid = self.grid(sheet, group)
            if grid is not None and stack:
                if self.current_group:
                    grid.value.append(
                        (
                            scalar("group", grid.start_mark),
                            scalar(self.current_group, grid.start_mark),
                        )
                    )
                stack[0].questions.append(grid)
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
            self.unused(sheet, row, PAGE_COLUMNS, "the `begin group` row of a page")
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
            "groups": sequence(group.groups, mark) if group.groups else None,
            "repeat": scalar(True, mark) if group.repeat else None,
            "repeat_count": self.value(sheet, row, "repeat_count") if group.repeat else None,
        }
        pages.append(mapping({k: v for k, v in pairs.items() if v is not None}, mark))
