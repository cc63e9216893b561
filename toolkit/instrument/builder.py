"""The one builder: validates a located mapping (from a YAML file or an XLSForm workbook) into a
:class:`~toolkit.instrument.model.Survey`, collecting every problem with its place and code.

>>> from toolkit.instrument.located import Locations, mapping, scalar, sequence
>>> at = Locations("form.xlsx").cell("survey", 2, "name", 1)
>>> question = mapping({"id": scalar("age", at), "type": scalar("integer", at),
...                     "label": scalar("年龄", at)}, at)
>>> page = mapping({"id": scalar("p1", at), "title": scalar("第一页", at),
...                 "questions": sequence([question], at)}, at)
>>> settings = mapping({"id": scalar("demo", at), "version": scalar("1", at),
...                     "title": scalar("示例", at)}, at)
>>> survey = build(mapping({"settings": settings, "pages": sequence([page], at)}, at), "form.xlsx")
>>> [q.id for q in survey.questions]
['age']
"""

from __future__ import annotations

from typing import Any, cast

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from toolkit._checks import did_you_mean
from toolkit.instrument.checks import CrossChecks
from toolkit.instrument.located import Locations, Place, QInfo, describe, is_null, line_of, peek_id
from toolkit.instrument.model import (
    QUESTION_TYPES,
    ChoiceList,
    GridItem,
    Group,
    Page,
    Question,
    QuestionType,
    Survey,
    Text,
)
from toolkit.instrument.schema import (
    FIELD_TYPES,
    GROUP_FIELDS,
    ITEM_FIELDS,
    MAX_TEXT_LENGTH,
    PAGE_FIELDS,
    QUESTION_FIELDS,
    TOP_FIELDS,
    TYPE_FIELDS,
    check_id,
    check_xml_name,
)

__all__ = ["Builder", "build"]


class Builder(CrossChecks):
    """Reads a whole instrument and runs the cross checks."""

    def __init__(self, source: str, locations: Locations | None = None) -> None:
        super().__init__(source, locations)
        self.lists: dict[str, ChoiceList] = {}
        self.list_lines: dict[str, int] = {}
        self.questions: list[QInfo] = []
        # variable-namespace ids (questions and grid items) -> (line, description)
        self.ids: dict[str, tuple[int, str]] = {}
        self.page_ids: dict[str, int] = {}
        # page relevance is checked once every question is known: (text, line, place, first index)
        self.pending_pages: list[tuple[str, int, Place, int]] = []
        self.broken: set[str] = set()  # question ids whose type could not be read

    def build(self, root: Node | None) -> Survey | None:
        top = Place()
        if root is None or is_null(root):
            self.add(
                None,
                top,
                "the file is empty.",
                "An instrument needs `settings:` and `pages:`; see docs/instrument-format.md.",
                code="E_EMPTY_FILE",
            )
            return None
        if not isinstance(root, MappingNode):
            self.add(
                line_of(root),
                top,
                "the top level must be a mapping with `settings`, `choices` and `pages`; "
                f"got {describe(root)}.",
                "See docs/instrument-format.md for a complete example.",
                code="E_NOT_A_MAPPING",
            )
            return None
        fields = self.mapping(root, top, TOP_FIELDS, what="the top level") or {}
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
                    line_of(node),
                    top,
                    "the instrument has no pages.",
                    "Add at least one page with `id`, `title` and `questions`.",
                    "pages",
                    code="E_NO_PAGES",
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
                None,
                top,
                "internal error: the instrument could not be read.",
                "Please report.",
                code="E_INTERNAL",
            )
        if self.problems or settings is None:
            return None
        return Survey(settings, tuple(pages), dict(self.lists))

    def named_lists(self, node: Node) -> None:
        top = Place()
        if is_null(node):
            return
        if not isinstance(node, MappingNode):
            self.add(
                line_of(node),
                top,
                f"`choices` must map list names to choice lists; got {describe(node)}.",
                "Write `choices:` then `  list_id:` and its choices.",
                "choices",
                code="E_NOT_A_MAPPING",
            )
            return
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or is_null(key):
                self.add(
                    line_of(key),
                    top,
                    "a choice list name must be a plain word.",
                    None,
                    code="E_BAD_FIELD_NAME",
                )
                continue
            list_id = str(key.value)
            place = Place((f"choice list `{list_id}`",))
            why = check_xml_name(list_id) if self.pyxform_names else check_id(list_id)
            if why is not None:
                self.add(line_of(key), place, why, code="E_BAD_ID")
                continue
            if list_id in self.list_lines:
                self.add(
                    line_of(key),
                    place,
                    f"duplicate choice list `{list_id}`: also on {self.at(self.list_lines[list_id])}.",
                    "Give each choice list its own name.",
                    code="E_DUPLICATE_CHOICE_LIST",
                )
                continue
            self.list_lines[list_id] = line_of(key)
            scale = self.choice_list(list_id, value, place, "choices")
            if scale is not None:
                self.lists[list_id] = scale

    def page(self, node: Node, number: int) -> Page | None:
        peeked = peek_id(node)
        place = Place((f"page `{peeked}`" if peeked else f"page {number}",))
        fields = self.mapping(node, place, PAGE_FIELDS, what="a page")
        if fields is None:
            return None
        page_id = self.ident(fields["id"][1], place) if "id" in fields else None
        if page_id is not None:
            place = Place((f"page `{page_id}`",))
            if page_id in self.page_ids:
                self.add(
                    line_of(fields["id"][1]),
                    place,
                    f"duplicate page id `{page_id}`: also on {self.at(self.page_ids[page_id])}.",
                    "Give each page its own id.",
                    "id",
                    code="E_DUPLICATE_PAGE",
                )
                page_id = None
            else:
                self.page_ids[page_id] = line_of(fields["id"][1])
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
                    line_of(qnode),
                    place,
                    "the page has no questions.",
                    "Add questions under `questions:`, or remove the page.",
                    "questions",
                    code="E_EMPTY_PAGE",
                )
            for qnumber, entry in enumerate(entries or (), 1):
                question = self.question(entry, qnumber, page_id or str(number))
                if question is None:
                    ok = False
                else:
                    questions.append(question)
        if relevant is not None:
            self.pending_pages.append(
                (relevant, line_of(fields["relevant"][1]), place, first_index)
            )
        groups = self.groups(fields["groups"][1], place, first_index) if "groups" in fields else ()
        repeat = (
            bool(self.boolean(fields["repeat"][1], place, "repeat"))
            if "repeat" in fields
            else False
        )
        repeat_count = (
            self.string(fields["repeat_count"][1], place, "repeat_count")
            if "repeat_count" in fields
            else None
        )
        if page_id is None or title is None or not ok or not questions:
            return None
        return Page(
            page_id,
            title,
            tuple(questions),
            relevant,
            groups,
            repeat,
            repeat_count,
            line=line_of(node),
        )

    def groups(self, node: Node, page: Place, first_index: int) -> tuple[Group, ...]:
        """The nested groups of a page (read from XLSForm; their relevance is checked)."""
        out: list[Group] = []
        for entry in self.sequence(node, page, "groups") or ():
            fields = self.mapping(entry, page, GROUP_FIELDS, what="a group")
            if fields is None or "id" not in fields:
                continue
            values: dict[str, Any] = {}
            for name in ("id", "relevant", "appearance", "parent", "repeat_count"):
                if name in fields:
                    values[name] = self.string(fields[name][1], page, name)
            if "label" in fields:
                values["label"] = self.text(fields["label"][1], page, "label")
            if "repeat" in fields:
                values["repeat"] = bool(self.boolean(fields["repeat"][1], page, "repeat"))
            if values.get("id") is None:
                continue
            place = page.sub(f"group `{values['id']}`")
            if values.get("relevant") is not None:
                line = line_of(fields["relevant"][1])
                self.pending_pages.append((values["relevant"], line, place, first_index))
            out.append(Group(**{k: v for k, v in values.items() if v is not None}))
        return tuple(out)

    def question(self, node: Node, number: int, page: str) -> Question | None:
        peeked = peek_id(node)
        place = (
            Place((f"question `{peeked}`",), peeked)
            if peeked
            else Place((f"question {number} of page `{page}`",))
        )
        fields = self.mapping(node, place, QUESTION_FIELDS, what="a question")
        if fields is None:
            return None
        qid = self.ident(fields["id"][1], place) if "id" in fields else None
        if qid is not None:
            place = Place((f"question `{qid}`",), qid)
            self.claim(qid, line_of(fields["id"][1]), place, f"question `{qid}`")
        # pyxform reads a question without a label (it warns; calculate rows have none)
        optional_label = self.pyxform_names or peek_type(node) == "calculate"
        self.require(
            fields, ("id", "type") if optional_label else ("id", "type", "label"), node, place
        )
        qtype: str | None = None
        if "type" in fields:
            qtype = self.string(fields["type"][1], place, "type")
            if qtype is not None and qtype not in QUESTION_TYPES:
                hint = did_you_mean(qtype, QUESTION_TYPES).strip()
                self.add(
                    line_of(fields["type"][1]),
                    place,
                    f"unknown question type `{qtype}`.",
                    hint or f"Use one of: {', '.join(QUESTION_TYPES)}.",
                    "type",
                    code="E_UNKNOWN_TYPE",
                )
                qtype = None
        lines = {name: line_of(value) for name, (_, value) in fields.items()}
        if qtype is not None:
            allowed = TYPE_FIELDS[qtype]
            for name, (key, _) in fields.items():
                if name not in allowed:
                    owners = FIELD_TYPES[name]
                    message = f"field `{name}` does not apply to {qtype} questions"
                    fix = "Remove it."
                    if len(owners) <= 2:
                        message += f"; it is only for {' and '.join(owners)} questions"
                        types = " or ".join(f"`{t}`" for t in owners)
                        fix = f"Remove it, or change `type` to {types}."
                    if name == "per_subject":
                        fix = "Only grid questions repeat per subject; remove `per_subject`."
                    self.add(
                        line_of(key), place, message + ".", fix, name, code="E_FIELD_NOT_FOR_TYPE"
                    )
        values: dict[str, Any] = {}
        label = self.text(fields["label"][1], place, "label") if "label" in fields else None
        for name in ("hint", "required_message", "constraint_message"):
            if name in fields:
                values[name] = self.text(fields[name][1], place, name)
        for name in ("required", "per_subject", "read_only", "or_other"):
            if name in fields:
                values[name] = self.boolean(fields[name][1], place, name)
        for name in ("constraint", "relevant", "calculation", "choice_filter", "parameters"):
            if name in fields:
                values[name] = self.string(fields[name][1], place, name)
        for name in ("group", "name"):
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
            if isinstance(cnode, ScalarNode) and not is_null(cnode):
                values["choices"] = self.string(cnode, place, "choices")
            elif qid is not None and not is_null(cnode):
                inline = True
                if qid in self.list_lines:
                    self.add(
                        line_of(cnode),
                        place,
                        f"the inline choices would be named `{qid}`, but a choice list `{qid}` "
                        f"is already defined on {self.at(self.list_lines[qid])}.",
                        f"Use `choices: {qid}`, or rename one of them.",
                        "choices",
                        code="E_DUPLICATE_CHOICE_LIST",
                    )
                else:
                    self.list_lines[qid] = line_of(cnode)
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
                or is_null(fields["items"][1])
                or (isinstance(fields["items"][1], SequenceNode) and not fields["items"][1].value)
            ):
                self.add(
                    line_of(fields["items"][1]) if "items" in fields else line_of(node),
                    place,
                    "the grid has no items.",
                    "List its rows under `items:`, each with an `id` and a `label`.",
                    "items",
                    code="E_EMPTY_GRID",
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
            and ("choices" not in fields or is_null(fields["choices"][1]))
            and (qid or peeked) not in self.broken  # its list was reported where it was named
        ):
            self.add(
                line_of(node),
                place,
                f"a {qtype} question needs `choices`.",
                "Name a list defined under `choices:` at the top, or list the choices inline.",
                "choices",
                code="E_MISSING_CHOICES",
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
            label or Text(""),  # a missing label is reported (YAML) or allowed (XLSForm)
            items=tuple(items) if items_ok else (),
            line=line_of(node),
            **{k: v for k, v in values.items() if v is not None},
        )
        self.questions.append(
            QInfo(question, len(self.questions), place, lines, choices_inline=inline)
        )
        return question

    def item(self, node: Node, number: int, grid: Place, dont_know: bool) -> GridItem | None:
        peeked = peek_id(node)
        place = grid.sub(f"item `{peeked}`" if peeked else f"item {number}")
        fields = self.mapping(node, place, ITEM_FIELDS, what="a grid item")
        if fields is None:
            return None
        item_id = self.ident(fields["id"][1], place) if "id" in fields else None
        if item_id is not None:
            place = grid.sub(f"item `{item_id}`")
            grid_id = grid.question or "?"
            self.claim(item_id, line_of(fields["id"][1]), place, f"item of grid `{grid_id}`")
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

    def claim(self, name: str, line: int, place: Place, what: str) -> None:
        """Register a variable id (questions and grid items share one namespace)."""
        if name in self.ids:
            other_line, other = self.ids[name]
            self.add(
                line,
                place,
                f"duplicate id `{name}`: also used on {self.at(other_line)} ({other}).",
                "Questions and grid items become variables, so each needs its own id.",
                "id",
                code="E_DUPLICATE_ID",
            )
        else:
            self.ids[name] = (line, what)

    def appearance(self, node: Node, place: Place) -> tuple[str, ...] | None:
        if isinstance(node, ScalarNode) and not is_null(node):
            return tuple(str(node.value).split())
        if isinstance(node, SequenceNode):
            words: list[str] = []
            for entry in node.value:
                word = self.string(entry, place, "appearance")
                if word is None:
                    return None
                if len(word.split()) != 1:
                    self.add(
                        line_of(entry),
                        place,
                        f"appearance `{word}` contains a space.",
                        "Write each appearance as its own list entry.",
                        "appearance",
                        code="E_BAD_APPEARANCE",
                    )
                    return None
                words.append(word.strip())
            return tuple(words)
        if is_null(node):
            return ()
        self.add(
            line_of(node),
            place,
            f"`appearance` must be a word or a list of words; got {describe(node)}.",
            None,
            "appearance",
            code="E_BAD_APPEARANCE",
        )
        return None

    def default(self, node: Node, place: Place) -> str | None:
        """A default answer: text as written; a list (multiple choice) is joined with spaces."""
        if isinstance(node, SequenceNode):
            words = [self.string(entry, place, "default") for entry in node.value]
            if any(w is None for w in words):
                return None
            return " ".join(cast(list[str], words))
        return self.string(node, place, "default", empty=True)

    # --- cross checks ---------------------------------------------------------------------------


def peek_type(node: Node) -> str | None:
    """The `type` of a question mapping, before it is read (a calculate needs no label)."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, ScalarNode)
                and key.value == "type"
                and isinstance(value, ScalarNode)
            ):
                return str(value.value)
    return None


def build(root: Node | None, source: str, locations: Locations | None = None) -> Survey:
    """Validate a located mapping into an instrument, or raise every problem at once.

    Raises
    ------
    InstrumentError
        Listing each problem, located by line (YAML) or cell (XLSForm), with a stable ``code``.
    """
    builder = Builder(source, locations)
    survey = builder.build(root)
    if survey is None:
        raise builder.error()
    return Survey(survey.settings, survey.pages, survey.choice_lists, source=source)
