"""Codebooks for residents' comments: codes with Chinese and English labels, definitions, examples
and a keyboard shortcut, written in YAML and loaded with located errors.

A codebook file (``surveys/codebooks/comment_codes.yaml``)::

    codebook:
      id: comment_codes
      version: "1"
      title: {zh: 评议会意见编码表, en: Codes of evaluation-meeting comments}
    codes:
      - code: noise_dust
        label: {zh: 噪音扬尘, en: Noise and dust}
        definition: 施工或日常管理带来的噪音、灰尘、扰民。
        examples: [晚上还在施工，吵得睡不着]
        key: "1"

Every problem is reported at once, each with file, line and field, as instruments are.

>>> book = load_codebook("surveys/codebooks/comment_codes.yaml")
>>> book.ref, book.codes[0].code, book.codes[0].label_zh, book.codes[0].key
('comment_codes@1', 'noise_dust', '噪音扬尘', '1')
>>> from toolkit.errors import InstrumentError
>>> try:
...     loads_codebook("codebook: {id: x, version: '1'}\\ncodes:\\n  - code: Bad Code\\n",
...                    source="c.yaml")
... except InstrumentError as error:
...     for problem in error.problems:
...         print(problem.where)
c.yaml, line 3, code 1, field `code`
c.yaml, line 3, code 1, field `label`
c.yaml, line 3, code 1, field `definition`
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from toolkit._checks import did_you_mean
from toolkit.errors import InstrumentError, Problem

__all__ = [
    "DEFAULT_CODEBOOK",
    "Code",
    "Codebook",
    "default_codebook",
    "load_codebook",
    "loads_codebook",
]

#: The codebook shipped for evaluation-meeting comments.
DEFAULT_CODEBOOK = (
    Path(__file__).resolve().parents[2] / "surveys" / "codebooks" / "comment_codes.yaml"
)

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_CODE_FIELDS = ("code", "label", "definition", "examples", "key")
_RESERVED_KEYS = frozenset(" \n\t")


@dataclass(frozen=True)
class Code:
    """One code: id, labels, definition, examples and its keyboard shortcut (one character)."""

    code: str
    label_zh: str
    label_en: str | None
    definition: str
    examples: tuple[str, ...]
    key: str | None

    def label(self, language: str = "zh") -> str:
        return self.label_en if language == "en" and self.label_en else self.label_zh


@dataclass(frozen=True)
class Codebook:
    """A codebook: ``id``, ``version``, titles and the codes in order."""

    id: str
    version: str
    title_zh: str
    title_en: str | None
    codes: tuple[Code, ...]

    @property
    def ref(self) -> str:
        """``id@version``, stored with every coding."""
        return f"{self.id}@{self.version}"

    @property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    def by_key(self) -> dict[str, str]:
        """Keyboard shortcut -> code."""
        return {c.key: c.code for c in self.codes if c.key}

    def get(self, code: str) -> Code:
        for c in self.codes:
            if c.code == code:
                return c
        raise KeyError(code)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def where(self, node: Node | None, *parts: str) -> str:
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return f"{self.source}{line}" + "".join(f", {p}" for p in parts)

    def problem(
        self, node: Node | None, parts: tuple[str, ...], message: str, fix: str, *, code: str
    ) -> None:
        self.problems.append(Problem(self.where(node, *parts), message, fix, code=code))


def _mapping(node: Node | None) -> dict[str, tuple[Node, Node]]:
    if not isinstance(node, MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, ScalarNode)}


def _text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        value = str(node.value).strip()
        return value or None
    return None


def _label(
    reader: _Reader, node: Node | None, parts: tuple[str, ...]
) -> tuple[str | None, str | None]:
    if isinstance(node, ScalarNode):
        return _text(node), None
    fields = _mapping(node)
    zh = _text(fields["zh"][1]) if "zh" in fields else None
    en = _text(fields["en"][1]) if "en" in fields else None
    if node is not None and zh is None:
        reader.problem(
            node,
            parts,
            "the Chinese label `zh` is missing.",
            "Add `zh: 中文标签`.",
            code="E_MISSING_FIELD",
        )
    return zh, en


def loads_codebook(text: str, *, source: str = "<codebook>") -> Codebook:
    """Read a codebook from YAML text; :class:`InstrumentError` lists every problem with its line."""
    reader = _Reader(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise InstrumentError(
            [
                Problem(
                    f"{source}{line}",
                    f"not valid YAML: {getattr(error, 'problem', error)}.",
                    code="E_YAML_SYNTAX",
                )
            ],
            source=source,
        ) from None
    top = _mapping(root)
    head = _mapping(top["codebook"][1]) if "codebook" in top else {}
    if "codebook" not in top:
        reader.problem(
            root,
            (),
            "the `codebook:` header is missing.",
            "Add `codebook: {id: ..., version: '1'}`.",
            code="E_MISSING_FIELD",
        )
    book_id = _text(head["id"][1]) if "id" in head else None
    version = _text(head["version"][1]) if "version" in head else None
    if "codebook" in top and (book_id is None or not re.match(r"^[A-Za-z0-9_.-]{1,60}$", book_id)):
        reader.problem(
            top["codebook"][1],
            ("field `id`",),
            "the codebook needs an `id` of letters, digits, `_`, `-` or `.`.",
            "Add `id: comment_codes`.",
            code="E_BAD_ID",
        )
    if "codebook" in top and version is None:
        reader.problem(
            top["codebook"][1],
            ("field `version`",),
            "the codebook needs a `version`.",
            'Add `version: "1"` and raise it when codes change.',
            code="E_MISSING_FIELD",
        )
    title_zh, title_en = (
        _label(reader, head["title"][1], ("field `title`",)) if "title" in head else (None, None)
    )
    codes_node = top["codes"][1] if "codes" in top else None
    if not isinstance(codes_node, SequenceNode) or not codes_node.value:
        reader.problem(
            codes_node or root,
            ("field `codes`",),
            "the codebook has no codes.",
            "List them under `codes:`, one `- code: ...` each.",
            code="E_EMPTY_VALUE",
        )
    codes: list[Code] = []
    seen: dict[str, int] = {}
    keys: dict[str, str] = {}
    items = codes_node.value if isinstance(codes_node, SequenceNode) else []
    for number, item in enumerate(items, start=1):
        fields = _mapping(item)
        here = f"code {number}"
        if not isinstance(item, MappingNode):
            reader.problem(
                item,
                (here,),
                "each code must be a mapping.",
                "Write `- code: name` and its fields.",
                code="E_NOT_A_MAPPING",
            )
            continue
        for name, (key_node, _value) in fields.items():
            if name not in _CODE_FIELDS:
                reader.problem(
                    key_node,
                    (here, f"field `{name}`"),
                    f"unknown field `{name}`.",
                    f"Fields are {', '.join(_CODE_FIELDS)}.{did_you_mean(name, _CODE_FIELDS)}",
                    code="E_UNKNOWN_FIELD",
                )
        code = _text(fields["code"][1]) if "code" in fields else None
        if code is None or not _CODE.match(code):
            reader.problem(
                item,
                (here, "field `code`"),
                f"`{code or ''}` is not a code name.",
                "Use lower-case letters, digits and `_`, starting with a letter (noise_dust).",
                code="E_BAD_ID",
            )
        elif code in seen:
            reader.problem(
                item,
                (here, "field `code`"),
                f"code `{code}` is listed twice (also code {seen[code]}).",
                "Give each code its own name.",
                code="E_DUPLICATE_ID",
            )
        else:
            seen[code] = number
        if "label" in fields:
            zh, en = _label(reader, fields["label"][1], (here, "field `label`"))
        else:
            zh, en = None, None
            reader.problem(
                item,
                (here, "field `label`"),
                "the label is missing.",
                "Add `label: {zh: 中文标签, en: English label}`.",
                code="E_MISSING_FIELD",
            )
        definition = _text(fields["definition"][1]) if "definition" in fields else None
        if definition is None:
            reader.problem(
                item,
                (here, "field `definition`"),
                "the definition is missing.",
                "Say in a sentence what the code covers, so two coders apply it alike.",
                code="E_MISSING_FIELD",
            )
        examples: list[str] = []
        if "examples" in fields:
            node = fields["examples"][1]
            if isinstance(node, SequenceNode):
                examples = [t for t in (_text(n) for n in node.value) if t]
            else:
                reader.problem(
                    node,
                    (here, "field `examples`"),
                    "`examples` must be a list.",
                    "Write `examples: [一条意见, 另一条]`.",
                    code="E_NOT_A_LIST",
                )
        shortcut = _text(fields["key"][1]) if "key" in fields else None
        if shortcut is not None:
            if len(shortcut) != 1 or shortcut in _RESERVED_KEYS:
                reader.problem(
                    fields["key"][1],
                    (here, "field `key`"),
                    f"the shortcut `{shortcut}` is not one character.",
                    'Use one letter or digit, e.g. `key: "1"`.',
                    code="E_BAD_SHORTCUT",
                )
            elif shortcut in keys:
                reader.problem(
                    fields["key"][1],
                    (here, "field `key`"),
                    f"the shortcut `{shortcut}` is taken by `{keys[shortcut]}`.",
                    "Give each code its own key.",
                    code="E_DUPLICATE_SHORTCUT",
                )
            else:
                keys[shortcut] = code or ""
        if code and zh and definition:
            codes.append(Code(code, zh, en, definition, tuple(examples), shortcut))
    if reader.problems:
        raise InstrumentError(reader.problems, source=source)
    return Codebook(book_id or "", version or "", title_zh or book_id or "", title_en, tuple(codes))


def load_codebook(path: str | Path) -> Codebook:
    """Read a codebook YAML file (see :func:`loads_codebook`)."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as error:
        raise InstrumentError(
            [
                Problem(
                    str(target),
                    f"cannot read the codebook: {error.strerror}.",
                    "Check the path.",
                    code="E_UNREADABLE",
                )
            ],
            source=str(target),
        ) from None
    return loads_codebook(text, source=str(target))


def default_codebook() -> Codebook:
    """The shipped codebook of evaluation-meeting comments (:data:`DEFAULT_CODEBOOK`)."""
    return load_codebook(DEFAULT_CODEBOOK)
