"""Reading the rows of an XLSForm into the located mapping that the one builder validates.

The reader knows XLSForm as pyxform reads it: its types (with metadata rows such as ``start`` and
``deviceid`` kept as paradata), groups nested at any depth, repeats, the grid layout (see
:mod:`toolkit.instrument.xlsform_grid`), ``or_other``, choice filters, the 不了解 choice and the
settings sheet. It reports what only it can see (an unknown or unsupported type, a group without
an end) and leaves every other rule (ids, duplicates, references, defaults) to
:mod:`toolkit.instrument.builder`, so a workbook and a YAML file are held to the same rules.

``select_one_external`` questions take their list from the ``external_choices`` sheet. Geo and media
questions, choices from a file outside the workbook (``select_one_from_file``) and ``search()``
appearances are refused with one located message naming the feature; with ``drop_unsupported`` the
optional ones are left out and listed.
"""

from __future__ import annotations

import re
from typing import cast

from yaml.nodes import Node

from toolkit._checks import did_you_mean
from toolkit.instrument.checks import CrossChecks
from toolkit.instrument.located import FLOAT_TAG, Locations, mapping, scalar, sequence
from toolkit.instrument.model import DONT_KNOW
from toolkit.instrument.schema import SURVEY_ID_RE
from toolkit.instrument.xlsform_grid import Group
from toolkit.instrument.xlsform_groups import GroupReader
from toolkit.instrument.xlsform_workbook import (
    CHOICES_KNOWN,
    GROUP_WORDS,
    METADATA_WORDS,
    SELECT_WORDS,
    TYPE_WORDS,
    UNSUPPORTED_TYPES,
    Row,
    Sheet,
    SheetProblems,
    language_key,
)

__all__ = ["WorkbookReader"]

#: Columns each kind of row may fill (others are reported).
_PAGE_COLUMNS = {
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
    "calculation",
    "read_only",
    "parameters",
    "repeat_count",
}
_TEXT_COLUMNS = {"sanhui::min_length": "min_length", "sanhui::max_length": "max_length"}
_OR_OTHER = ("or_other", "or specify other")


class WorkbookReader(GroupReader):
    """Turns the parsed sheets into the located mapping of an instrument."""

    def __init__(self, problems: SheetProblems, sink: CrossChecks, locations: Locations) -> None:
        super().__init__(problems, sink, locations)
        self.page_names: set[str] = set()
        self.lists: dict[str, list[tuple[Row, Node]]] = {}
        self.list_sheet: dict[str, Sheet] = {}  # the sheet each list is on
        # the external_choices sheet: its lists, those select_one_external rows use, those rows
        self.external: dict[str, list[tuple[Row, Node]]] = {}
        self.external_sheet: Sheet | None = None
        self.external_used: dict[str, Row] = {}
        self.external_lists: set[str] = set()
        self.external_rows: set[int] = set()
        self.dk_label: dict[str, Node] = {}
        self.ordered: dict[str, set[bool]] = {}
        self.metadata: list[tuple[str, str, Row]] = []
        self.names: dict[str, str] = {}  # question name -> the group it was first seen in
        self.current_group: str | None = None
        self.settings_pairs: dict[str, Node | None] = {}
        self.dropped_names: set[str] = set()
        self.page_name = ""

    def unique_name(self, name: str) -> str:
        """A name repeating in another group (pyxform allows it) gets the group as prefix."""
        where = self.current_group or self.page_name
        first = self.names.setdefault(name, where)
        if first == where:
            return name
        unique, n = f"{where}_{name}", 2
        while unique in self.names:
            unique, n = f"{where}_{name}_{n}", n + 1
        self.names[unique] = where
        return unique

    # --- choices -----------------------------------------------------------------------------
    def read_choices(self, sheet: Sheet | None, *, external: bool = False) -> Node | None:
        """Collect the lists of the ``choices`` sheet, or (``external``) of the
        ``external_choices`` sheet, whose lists ``select_one_external`` questions use."""
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
            if list_name is None:
                continue  # pyxform groups choices by list_name: a row without one is not read
            if external:
                self.external_sheet = sheet
            else:
                self.list_sheet[list_name] = sheet
            if value is None:
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
            if not external:
                self.list_rows.setdefault(list_name, row.number)
            flag = self.boolean(sheet, row, "sanhui_ordered")
            self.ordered.setdefault(list_name, set()).add(bool(flag))
            # pyxform warns about a choice without a label (ODK shows its name)
            label = self.text(sheet, row, "label") or mapping({}, self.mark(sheet, row, "name"))
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
            extra: dict[str, Node] = {
                k: scalar(v, self.mark(sheet, row, k))
                for k, v in row.cells.items()
                if "@" not in k and k not in CHOICES_KNOWN
            }
            choice = self.fields(
                sheet,
                row,
                {
                    "value": self.value(sheet, row, "name"),
                    "label": label,
                    "points": points,
                    "filters": mapping(extra, self.mark(sheet, row)) if extra else None,
                },
            )
            target = self.external if external else self.lists
            target.setdefault(list_name, []).append((row, choice))
        return None

    def merge_external(self) -> None:
        """The external lists that select_one_external questions use join the others; pyxform
        keeps the two sheets apart, so a list on both that such a question uses is refused, and
        lists no question uses are left out with a warning."""
        for list_name, row in self.external_used.items():
            if list_name in self.lists:
                sheet = self.list_sheet[list_name]
                self.p.add(
                    sheet.name,
                    self.list_rows[list_name],
                    sheet.column("list_name"),
                    f"list `{list_name}` is on both the choices and the external_choices sheet, "
                    f"and `select_one_external {list_name}` (survey row {row.number}) uses it.",
                    "Rename one of the two lists (sanhui keeps one namespace of lists).",
                    code="E_DUPLICATE_LIST",
                )
                continue
            assert self.external_sheet is not None
            self.lists[list_name] = self.external[list_name]
            self.list_sheet[list_name] = self.external_sheet
            self.external_lists.add(list_name)
        unused = sorted(set(self.external) - set(self.external_used))
        if unused and self.external_sheet is not None:
            self.p.add(
                self.external_sheet.name,
                None,
                None,
                f"not read: the list(s) {', '.join(f'`{n}`' for n in unused)}, which no "
                "select_one_external question uses.",
                "Delete them, or name them in a select_one_external question.",
                code="W_UNUSED_EXTERNAL",
            )

    def choices_node(self, sheet: Sheet | None) -> Node | None:
        """The lists of both choice sheets; ``sheet`` (the first one present) marks the whole."""
        if sheet is None or not self.lists:
            return None
        out: dict[str, Node] = {}
        for list_name, rows in self.lists.items():
            first = rows[0][0]
            mark = self.mark(self.list_sheet[list_name], first, "list_name")
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
            if list_name in self.external_lists:
                pairs["external"] = scalar(True, mark)
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
        form_id = cell("form_id", fallback_id)
        if form_id is not None and not SURVEY_ID_RE.fullmatch(str(form_id.value)):
            # pyxform takes any form_id; ours names files and tables, so it is made safe
            safe = re.sub(r"[^A-Za-z0-9_-]", "_", str(form_id.value))[:64]
            safe = safe if safe[:1].isalpha() or safe[:1] == "_" else f"_{safe}"[:64]
            self.p.add(
                sheet.name if sheet is not None else "settings",
                row.number,
                sheet.column("form_id") if sheet is not None else None,
                f"form_id `{form_id.value}` is read as `{safe}` (letters, digits, `_`, `-`).",
                None,
                code="W_FORM_ID",
            )
            form_id = scalar(safe, form_id.start_mark)
        pairs: dict[str, Node | None] = {
            "id": form_id,
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
        if sheet is not None and "allow_choice_duplicates" in cells:
            flag = self.boolean(sheet, row, "allow_choice_duplicates")
            pairs["allow_choice_duplicates"] = scalar(bool(flag), at)
        self.settings_pairs = pairs
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
        self.page_name = ""
        pages: list[Node] = []
        stack: list[Group] = []
        implicit = 0
        for row in sheet.rows:
            raw_type = row.cells.get("type")
            if raw_type is None:
                if not any(k.split("@")[0] in ("name", "label") for k in row.cells):
                    continue  # pyxform skips a row without type, name or label
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
            if kind is None or kind == "metadata":
                if kind is None and row.cells.get("name"):
                    self.sink.broken.add(row.cells["name"])
                continue
            if top is not None and top.kind == "skip":
                if kind in ("begin", "repeat", "loop"):
                    top.depth += 1
                elif kind in ("end", "end_repeat"):
                    top.depth -= 1
                    if top.depth < 0:
                        stack.pop()
                elif row.cells.get("name"):
                    self.sink.broken.add(row.cells["name"])
                    if self.p.drop_unsupported:
                        self.p.dropped.append(
                            f"row {row.number} `{row.cells['name']}` (in a dropped loop)"
                        )
                continue
            if kind == "loop":  # refused or dropped (reported): skip its rows
                stack.append(Group(row, "skip", row.cells.get("name", "?")))
                continue
            if kind in ("begin", "repeat"):
                self.begin_group(sheet, row, stack, pages, repeat=kind == "repeat")
                continue
            if kind in ("end", "end_repeat"):
                word = "repeat" if kind == "end_repeat" else "group"
                if not stack or stack[-1].kind == "implicit":
                    p.add(
                        sheet.name,
                        row.number,
                        sheet.column("type"),
                        f"`end {word}` without a matching `begin {word}`.",
                        f"Delete it, or add the `begin {word}` row.",
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
                self.page_name = name
                stack.append(Group(row, "implicit", name))
                top = stack[-1]
            if top.kind in ("grid", "page+grid"):
                top.grid_rows.append((row, kind, list_name))
                continue
            or_other = kind.endswith("+other")
            kind = kind.removesuffix("+other")
            node = self.question(sheet, row, kind, list_name, or_other)
            if node is not None:
                stack[0].questions.append(node)
        while stack:
            group = stack[-1]
            if group.kind == "implicit":
                self.end_group(sheet, stack, pages)
                continue
            if group.kind != "skip":
                p.add(
                    sheet.name,
                    group.row.number,
                    sheet.column("type"),
                    f"`begin {'repeat' if group.repeat else 'group'}` `{group.name}` has no "
                    f"matching `end {'repeat' if group.repeat else 'group'}`.",
                    "Add an `end group` row after its last question.",
                    group.name,
                    code="E_UNCLOSED_GROUP",
                )
            stack.pop()
        return pages

    def unsupported(self, sheet: Sheet, row: Row, text: str, feature: str, code: str) -> None:
        """Refuse a row using an unsupported feature, or drop it when asked and optional."""
        name = row.cells.get("name")
        required = (row.cells.get("required") or "").strip().lower() in ("yes", "true", "true()")
        if self.p.drop_unsupported and not required:
            self.p.dropped.append(f"row {row.number} `{name or '?'}` ({feature}: `{text}`)")
            if name:
                self.dropped_names.add(name)
            return
        fix = (
            "Make it optional and read with --drop-unsupported to leave it out, or delete it."
            if not required
            else "Delete the row (it is required, so it cannot be dropped)."
        )
        self.p.add(
            sheet.name,
            row.number,
            sheet.column("type") if code != "E_UNSUPPORTED_SEARCH" else sheet.column("appearance"),
            f"`{text}` uses {feature}, which sanhui does not support.",
            fix,
            name,
            code=code,
        )

    def parse_type(self, sheet: Sheet, row: Row, raw: str) -> tuple[str | None, str | None]:
        p = self.p
        text = " ".join(raw.split())
        lowered = text.lower()
        where = (sheet.name, row.number, sheet.column("type"))
        if lowered in GROUP_WORDS:
            return GROUP_WORDS[lowered], None
        if lowered.startswith("begin loop") or lowered.startswith("begin_loop"):
            self.unsupported(sheet, row, text, "a loop over a choice list", "E_UNSUPPORTED_LOOP")
            return "loop", None
        if lowered in ("end loop", "end_loop"):
            return "end_repeat", None
        if lowered in METADATA_WORDS:
            name = row.cells.get("name") or METADATA_WORDS[lowered]
            self.metadata.append((name, lowered, row))  # as written (uri:deviceid)
            return "metadata", None
        appearance = row.cells.get("appearance") or ""
        if lowered.startswith("select_one_external "):  # its list is on external_choices
            words = text.split()
            if len(words) == 2:
                self.external_rows.add(row.number)
                return "single", words[1]
        if "search(" in appearance.replace(" ", ""):
            self.unsupported(sheet, row, appearance, "`search()`", "E_UNSUPPORTED_SEARCH")
            return None, None
        for prefix in sorted(UNSUPPORTED_TYPES, key=len, reverse=True):
            if lowered == prefix or lowered.startswith(prefix + " "):
                feature, code = UNSUPPORTED_TYPES[prefix]
                self.unsupported(sheet, row, text, feature, code)
                return None, None
        if lowered in TYPE_WORDS:
            return TYPE_WORDS[lowered], None
        for prefix, kind in SELECT_WORDS.items():
            if lowered.startswith(prefix + " ") or lowered == prefix:
                rest = text[len(prefix) :].strip()
                other = next((o for o in _OR_OTHER if rest.lower().endswith(" " + o)), None)
                if other is not None:
                    rest = rest[: -len(other)].strip()
                words = rest.split()
                if words and words[0].lower() == "from":  # the older `select one from LIST`
                    words = words[1:]
                if len(words) != 1:
                    p.add(
                        *where,
                        f"`{text}` must name one choice list, e.g. `{prefix} satisfaction`.",
                        None,
                        row.cells.get("name"),
                        code="E_BAD_TYPE",
                    )
                    return None, None
                return kind + ("+other" if other else ""), words[0]
        known = [*TYPE_WORDS, *SELECT_WORDS, "begin group", "end group", "begin repeat"]
        first = lowered.split()[0] if lowered.split() else lowered
        hint = did_you_mean(first, known).strip()
        p.add(
            *where,
            f"unknown type `{text}`.",
            hint
            or "Use select_one LIST, select_multiple LIST, integer, decimal, text, date, note, "
            "calculate, begin group or end group.",
            row.cells.get("name"),
            code="E_UNKNOWN_TYPE",
        )
        return None, None

    def metadata_node(self, sheet: Sheet) -> Node | None:
        if not self.metadata:
            return None
        first = self.metadata[0][2]
        return mapping(
            {
                name: scalar(kind, self.mark(sheet, row, "type"))
                for name, kind, row in self.metadata
            },
            self.mark(sheet, first, "type"),
        )

    def question(
        self, sheet: Sheet, row: Row, qtype: str, list_name: str | None, or_other: bool = False
    ) -> Node | None:
        allowed = set(_QUESTION_COLUMNS)
        if qtype in ("single", "multiple"):
            allowed.add("choice_filter")
        if qtype == "text":
            allowed |= set(_TEXT_COLUMNS)
        allowed.add("choice_filter")  # pyxform ignores it on other types
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
            "calculation": self.value(sheet, row, "calculation"),
            "read_only": scalar(True, self.mark(sheet, row, "read_only"))
            if self.boolean(sheet, row, "read_only")
            else None,
            "choice_filter": self.value(sheet, row, "choice_filter")
            if qtype in ("single", "multiple") and not excluded
            else None,
            "or_other": scalar(True, self.mark(sheet, row, "type")) if or_other else None,
            "parameters": self.value(sheet, row, "parameters") if qtype == "range" else None,
            "group": scalar(self.current_group, mark) if self.current_group else None,
        }
        name = row.cells.get("name")
        if (
            qtype == "note"
            and self.p.drop_unsupported
            and pairs["label"] is None
            and pairs["hint"] is None
        ):  # a note that only showed media (its media column is dropped)
            self.p.dropped.append(
                f"row {row.number} `{row.cells.get('name', '?')}` (media: a note showing media)"
            )
            return None
        if qtype == "calculate" and pairs["calculation"] is None:
            self.p.add(
                sheet.name,
                row.number,
                sheet.column("calculation") or "calculation",
                "a `calculate` row has no `calculation`.",
                "Write the expression in the `calculation` column, e.g. `${a} + ${b}`.",
                row.cells.get("name"),
                code="E_MISSING_CALCULATION",
            )
        if name is None and qtype == "note":  # pyxform reads a note without a name
            name = f"generated_note_name_{row.number}"  # as pyxform names it
            pairs["id"] = scalar(name, mark)
        if name is not None:
            unique = self.unique_name(name)
            if unique != name:
                pairs["id"] = scalar(unique, mark)
                pairs["name"] = scalar(name, mark)
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
        if list_name is not None and row.number in self.external_rows:
            if list_name in self.external:
                self.external_used.setdefault(list_name, row)
            else:
                pairs["choices"] = None
                other = list_name in self.list_rows
                self.unknown_list(sheet, row, list_name, external=True, other_sheet=other)
        elif list_name is not None and list_name not in self.list_rows:
            pairs["choices"] = None
            other = list_name in self.external
            self.unknown_list(sheet, row, list_name, other_sheet=other)
        return self.fields(sheet, row, pairs)
