"""The cross checks of an instrument, once every part is read: choice lists that exist, defaults
that fit, and expressions that parse and look back only at earlier questions."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from typing import Any, cast

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError
from toolkit.instrument.located import Place, QInfo
from toolkit.instrument.model import DONT_KNOW, ChoiceList, Question
from toolkit.instrument.reading import NodeReader
from toolkit.instrument.schema import DATE_RE, INT_RE

__all__ = ["CrossChecks"]


class CrossChecks(NodeReader):
    """The checks that need the whole instrument (run by the builder after reading)."""

    lists: dict[str, ChoiceList]
    list_lines: dict[str, int]
    questions: list[QInfo]
    pending_pages: list[tuple[str, int, Place, int]]
    broken: set[str]

    def cross_checks(self) -> None:
        for info in self.questions:
            self.check_question(info)
        self.check_expressions()

    def check_question(self, info: QInfo) -> None:
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
                    code="E_UNKNOWN_CHOICE_LIST",
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
                code="E_RESERVED_CHOICE",
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
                code="E_BAD_LENGTHS",
            )
        if q.constraint_message is not None and q.constraint is None:
            self.add(
                lines.get("constraint_message"),
                place,
                "`constraint_message` is given but there is no `constraint`.",
                "Add the `constraint`, or remove the message.",
                "constraint_message",
                code="E_MESSAGE_WITHOUT_RULE",
            )
        required = q.required or any(it.required for it in q.items)
        if q.required_message is not None and not required:
            self.add(
                lines.get("required_message"),
                place,
                "`required_message` is given but the question is not required.",
                "Add `required: true`, or remove the message.",
                "required_message",
                code="E_MESSAGE_WITHOUT_RULE",
            )

    def check_default(
        self, q: Question, scale: ChoiceList | None, place: Place, line: int | None
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
            if not INT_RE.fullmatch(default.strip()):
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
                ok = bool(DATE_RE.fullmatch(default)) and bool(_dt.date.fromisoformat(default))
            except ValueError:
                ok = False
            if not ok:
                problem = f"default `{default}` is not a date."
                fix = "Write it as YYYY-MM-DD, e.g. `2026-03-01`."
        elif q.type == "text" and q.max_length is not None and len(default) > q.max_length:
            problem = f"the default is longer than `max_length` ({q.max_length})."
            fix = "Shorten it or raise `max_length`."
        if problem is not None:
            self.add(line, place, problem, fix, "default", code="E_BAD_DEFAULT")

    def check_expressions(self) -> None:
        """Parse `relevant` and `constraint` and check what they refer to."""
        names: dict[str, tuple[str, QInfo]] = {}
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
            for name in ("relevant", "constraint", "calculation", "choice_filter"):
                text = getattr(q, name)
                if text is not None:
                    line = info.lines.get(name)
                    self.expression(text, line, info.place, name, names, info.index, info)
        for text, line, place, first in self.pending_pages:
            self.expression(text, line, place, "relevant", names, first, None)

    def check_patterns(self, parsed: Any, line: int | None, place: Place, name: str) -> None:
        """A regex() pattern written in the form must compile and be at most MAX_PATTERN long."""
        from toolkit.instrument.expressions import Call, String, walk_nodes
        from toolkit.instrument.xpath_functions import MAX_PATTERN, pattern_problem

        for node in walk_nodes(parsed.root):
            if isinstance(node, Call) and node.name == "regex" and isinstance(node.args[1], String):
                why = pattern_problem(node.args[1].value)
                if why is not None:
                    self.add(
                        line,
                        place,
                        f"the regex() pattern `{node.args[1].value[:60]}` {why}.",
                        f"Write a valid pattern of at most {MAX_PATTERN} characters.",
                        name,
                        code="E_BAD_REGEX",
                    )

    def expression(
        self,
        text: str,
        line: int | None,
        place: Place,
        name: str,
        names: dict[str, tuple[str, QInfo]],
        before: int,
        current: QInfo | None,
    ) -> None:
        """Check one expression of the question ``current`` (``None``: of a page whose first
        question has index ``before``)."""
        from toolkit.instrument.expressions import parse

        where = self.where(line, place, name)
        try:
            try:
                parsed = parse(text, where=where, paths=name == "choice_filter")
            except InstrumentError:
                if not self.pyxform_names:
                    raise
                # pyxform takes a bare name as an XPath path (it reads as empty): warn
                parsed = parse(text, where=where, paths=True)
                self.add(
                    line,
                    place,
                    f"`{text}` holds a bare name, which XPath reads as an empty path.",
                    "Write text in quotes ('text') and answers as ${name}.",
                    name,
                    code="E_BARE_NAME",
                )
        except InstrumentError as exc:
            for problem in exc.problems:  # E_EXPRESSION_SYNTAX, E_TOO_LONG, E_TOO_DEEP...
                fixed = dataclasses.replace(
                    problem, where=problem.where or where, field=place.question
                )
                self.problems.append((line or 0, fixed))
            # the names it refers to are still checked: both problems are reported, each with its fix
            for ref in sorted(set(re.findall(r"\$\{([^}]+)\}", text))):
                if ref not in names and ref not in self.broken:
                    usable = [n for n, (kind, _) in names.items() if kind in ("question", "item")]
                    hint = did_you_mean(ref, usable).strip()
                    self.add(
                        line,
                        place,
                        f"unknown question `${{{ref}}}`.",
                        hint or "Expressions can refer to questions and grid items by their `id`.",
                        name,
                        code="E_UNKNOWN_REFERENCE",
                    )
            return
        self.check_patterns(parsed, line, place, name)
        constraint = name == "constraint"
        if parsed.uses_current and not constraint:
            self.add(
                line,
                place,
                "`.` (this question's answer) can only be used in `constraint`.",
                "Refer to earlier questions by name, e.g. `${other_question}`.",
                name,
                code="E_DOT_OUTSIDE_CONSTRAINT",
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
                    code="E_UNKNOWN_REFERENCE",
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
                    code="E_REFERENCE_TO_NOTE",
                )
            elif kind == "grid":
                example = tq.items[0].id if tq.items else "item"
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` is a grid, which has no answer of its own.",
                    f"Refer to one of its items, e.g. `${{{example}}}`.",
                    name,
                    code="E_REFERENCE_TO_GRID",
                )
            elif kind == "subject_item":
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` is an item of the per-subject grid `{tq.id}`: its answers are "
                    f"stored once per subject (`subject__{ref}`), so it cannot be referenced.",
                    "Refer to a question that is not per subject.",
                    name,
                    code="E_REFERENCE_TO_SUBJECT_ITEM",
                )
            elif target is current and not constraint:
                self.add(
                    line,
                    place,
                    f"`relevant` cannot depend on the question's own answer `${{{ref}}}`.",
                    "Use `constraint` to check the answer itself.",
                    name,
                    code="E_SELF_REFERENCE",
                )
            elif target is not current and target.index >= before:
                what = "a constraint" if constraint else "relevance"
                self.add(
                    line,
                    place,
                    f"`${{{ref}}}` comes later in the instrument ({self.at(tq.line)}); "
                    f"{what} can only look back at earlier questions.",
                    f"Move `{ref}` before this {'question' if current else 'page'}, "
                    "or drop the reference.",
                    name,
                    code="E_FORWARD_REFERENCE",
                )
