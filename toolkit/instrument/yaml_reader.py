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

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node

from toolkit.errors import InstrumentError, Problem
from toolkit.instrument.builder import build
from toolkit.instrument.model import Survey
from toolkit.instrument.schema import MAX_DEPTH, MAX_FILE_BYTES, MAX_ID_LENGTH, check_id

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ID_LENGTH",
    "check_id",
    "load_survey",
    "loads_survey",
]


class _Refused(Exception):
    """Raised inside the composer to stop at an alias or at excessive nesting."""

    def __init__(self, mark: yaml.Mark | None, message: str, fix: str, code: str) -> None:
        super().__init__(message)
        self.code = code
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
                "E_YAML_ALIAS",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,
                    f"the YAML is nested more than {MAX_DEPTH} levels deep.",
                    "An instrument needs only a few levels; check the indentation.",
                    "E_TOO_DEEP",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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
            [
                Problem(
                    source,
                    f"expected YAML text (str); got {type(text).__name__}.",
                    code="E_NOT_TEXT",
                )
            ],
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
                    code="E_TOO_LARGE",
                )
            ],
            source=source,
        )
    try:
        loader = _Composer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except _Refused as refused:
        where = source
        if refused.mark is not None:
            where += f", line {refused.mark.line + 1}"
        problem = Problem(where, refused.message, refused.fix, code=refused.code)
        raise InstrumentError([problem], source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = source
        if mark is not None:
            where += f", line {mark.line + 1}, column {mark.column + 1}"
        what = getattr(exc, "problem", None)
        context = getattr(exc, "context", None)
        detail = f"{context}: {what}" if context and what else (what or str(exc))
        raise InstrumentError(
            [
                Problem(
                    where,
                    f"not valid YAML ({detail}).",
                    "Check the indentation and quoting here: text needs quotes if it contains "
                    "`: ` or ` #`, starts with a special character, or sits inside `{...}` and "
                    "contains `,` `?` `[` `]` `{` `}`.",
                    code="E_YAML_SYNTAX",
                )
            ],
            source=source,
        ) from None
    return build(root, source)


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
            [
                Problem(
                    source,
                    f"cannot read the file ({reason}).",
                    "Check the path.",
                    code="E_UNREADABLE",
                )
            ],
            source=source,
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise InstrumentError(
            [
                Problem(
                    source,
                    f"the file is larger than {MAX_FILE_BYTES:,} bytes, the limit for instruments.",
                    "Split it, or check that this is really an instrument.",
                    code="E_TOO_LARGE",
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
                    code="E_NOT_UTF8",
                )
            ],
            source=source,
        ) from None
    return loads_survey(text, source=source)
