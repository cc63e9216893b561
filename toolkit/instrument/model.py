"""The instrument model: a survey is data, loaded into immutable objects.

A :class:`Survey` has :class:`Settings`, named :class:`ChoiceList` scales, and :class:`Page` groups of
:class:`Question` objects. Everything is frozen; build instruments with :func:`toolkit.instrument.load_survey`
(YAML) or :func:`toolkit.instrument.read_xlsform`, or directly in Python for tests.

Answers
-------
A submission's answers are a flat mapping of **variable name → value** (what the store keeps, what
expressions see, what an export calls a column):

=============  ===================================================================================
type           variables and values
=============  ===================================================================================
``single``     ``{question.id: "code"}`` (a choice value)
``multiple``   ``{question.id: ["code", ...]}`` (a list of distinct choice values)
``grid``       one variable per item, ``{item.id: "code"}``; for a grid with ``per_subject=True`` the
               grid repeats for each evaluated subject of the meeting (meeting data, not instrument
               data) and the variables are ``f"{subject}__{item.id}"``, see :meth:`Survey.variables`
``integer``    ``{question.id: int}``
``decimal``    ``{question.id: float}``
``text``       ``{question.id: str}``
``date``       ``{question.id: "YYYY-MM-DD"}``
``note``       no variable
=============  ===================================================================================

A grid item with ``allow_dont_know`` also accepts :data:`DONT_KNOW` (不了解). An unanswered question is
simply absent from the mapping (never ``None`` or ``""``).

>>> scale = ChoiceList("sat", (Choice("satisfied", Text("满意", "Satisfied")),
...                            Choice("dissatisfied", Text("不满意", "Dissatisfied"))), ordered=True)
>>> grid = Question("rate", "grid", Text("评价"), choices="sat", per_subject=True,
...                 items=(GridItem("attitude", Text("工作态度", "Attitude"), allow_dont_know=True),))
>>> survey = Survey(Settings("demo", "1", Text("示例")), (Page("p1", Text("第一页"), (grid,)),),
...                 {"sat": scale})
>>> [v.name for v in survey.variables(subjects=("wuye", "juweihui"))]
['wuye__attitude', 'juweihui__attitude']
>>> survey.question("rate").items[0].label.get("en")
'Attitude'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "DONT_KNOW",
    "LANGUAGES",
    "METADATA_TYPES",
    "QUESTION_TYPES",
    "Choice",
    "ChoiceList",
    "GridItem",
    "Group",
    "Language",
    "Page",
    "Question",
    "QuestionType",
    "Settings",
    "Survey",
    "Text",
    "Variable",
]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

QuestionType = Literal[
    "single",
    "multiple",
    "grid",
    "integer",
    "decimal",
    "text",
    "date",
    "note",
    "calculate",
    "time",
    "datetime",
    "range",
]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "single",
    "multiple",
    "grid",
    "integer",
    "decimal",
    "text",
    "date",
    "note",
    "calculate",
    "time",
    "datetime",
    "range",
)

#: XLSForm metadata types: recorded by the tablet itself and stored as paradata, not answers.
METADATA_TYPES = (
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "phonenumber",
    "email",
    "subscriberid",
    "simserial",
    "audit",
)

#: The stored code of the "don't know" (不了解) answer of a rating-grid item.
DONT_KNOW = "dont_know"
DONT_KNOW_LABEL_ZH = "不了解"
DONT_KNOW_LABEL_EN = "Don't know"


#: Fields added to the model after instruments were first stored, with their defaults: left out
#: of :meth:`Survey.to_dict` when they hold the default, so that the content hash of an existing
#: instrument does not change.
_ADDED_FIELDS: dict[str, Any] = {
    "other": (),
    "filters": (),
    "calculation": None,
    "read_only": False,
    "choice_filter": None,
    "or_other": False,
    "parameters": None,
    "group": None,
    "name": None,
    "groups": (),
    "repeat": False,
    "repeat_count": None,
    "metadata": (),
    "allow_choice_duplicates": False,
    "xlsform_names": False,
}


@dataclass(frozen=True)
class Text:
    """A text in one or more languages: Chinese (``zh``, the default), English (``en``) and any
    other languages as ``(language, text)`` pairs in ``other`` (``(("fr", "Bonjour"),)``).

    An instrument written in other languages only (an English or Swahili XLSForm) leaves ``zh``
    empty; :meth:`get` then falls back to the first language that has a text.

    >>> Text("满意", "Satisfied").get("en")
    'Satisfied'
    >>> Text("", "Yes", (("fr", "Oui"),)).get("zh"), Text("", "Yes", (("fr", "Oui"),)).get("fr")
    ('Yes', 'Oui')
    """

    zh: str
    en: str | None = None
    other: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # an empty English text is no English text: one spelling, so a dump and reload agree
        if self.en is not None and not self.en.strip():  # blank is absent, as a file reads it
            object.__setattr__(self, "en", None)

    def get(self, language: str = "zh") -> str:
        """The text in ``language``, falling back to Chinese, then English, then the first other
        language when there is no translation."""
        if language == "zh" and self.zh:
            return self.zh
        if language == "en" and self.en:
            return self.en
        for code, text in self.other:
            if code == language and text:
                return text
        return self.zh or self.en or next((t for _, t in self.other if t), "")

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages that have a text, Chinese and English first."""
        found = [code for code, text in (("zh", self.zh), ("en", self.en)) if text]
        return (*found, *(code for code, text in self.other if text))

    def translations(self) -> dict[str, str]:
        """Every language's text: ``{"zh": ..., "en": ..., "fr": ...}`` (empty ones left out)."""
        out = {"zh": self.zh, "en": self.en or "", **dict(self.other)}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Choice:
    """One answer option: the stored ``value`` (a code), its label, and optional points."""

    value: str
    label: Text
    points: float | None = None
    #: other columns of the choice row, ``(column, value)``, that a ``choice_filter`` reads
    #: (``(("state", "texas"),)``)
    filters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ChoiceList:
    """A named list of choices (a scale). ``ordered`` scales go from most to least favourable
    in the order written (满意, 基本满意, 不满意), which is also the display order.

    ``external`` lists come from an XLSForm's ``external_choices`` sheet (long lists, such as
    every community of a district, that ODK loads as a separate file); they behave as any other
    list and are written back to that sheet, for ``select_one_external`` questions."""

    id: str
    choices: tuple[Choice, ...]
    ordered: bool = False
    dont_know_label: Text = field(
        default_factory=lambda: Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)
    )
    external: bool = False

    @property
    def values(self) -> tuple[str, ...]:
        """The stored codes in order."""
        return tuple(c.value for c in self.choices)

    def choice(self, value: str) -> Choice:
        """The choice with this code (KeyError if none)."""
        for c in self.choices:
            if c.value == value:
                return c
        raise KeyError(value)


@dataclass(frozen=True)
class GridItem:
    """One row of a rating grid: its own variable id, label, and whether 不了解 is offered."""

    id: str
    label: Text
    hint: Text | None = None
    allow_dont_know: bool = False
    required: bool | None = None  # None: inherit the grid's ``required``


@dataclass(frozen=True)
class Question:
    """One question. Expressions (``relevant``, ``constraint``) are kept as source text; the
    parsed form is cached by :mod:`toolkit.instrument.expressions`. ``line`` is the source line in
    the instrument file (for located errors), when known."""

    id: str
    type: QuestionType
    label: Text
    hint: Text | None = None
    required: bool = False
    required_message: Text | None = None
    constraint: str | None = None
    constraint_message: Text | None = None
    relevant: str | None = None
    appearance: tuple[str, ...] = ()
    choices: str | None = None  # ChoiceList id, for single / multiple / grid
    items: tuple[GridItem, ...] = ()  # grid only
    per_subject: bool = False  # grid only: repeat for each evaluated subject of the meeting
    default: str | None = None
    min_length: int | None = None  # text only
    max_length: int | None = 2000  # text only: a bound on what a tablet may send
    #: calculate only: the expression whose value is stored
    calculation: str | None = None
    #: shown but not editable (XLSForm ``read_only``)
    read_only: bool = False
    #: single / multiple: an expression over the choice's columns (``name``, ``state``, ...)
    #: and the answers, selecting which choices are offered (cascading selects)
    choice_filter: str | None = None
    #: single / multiple: an "other" choice (value ``other``) with a text box (``{id}_other``)
    or_other: bool = False
    #: range only: XLSForm ``parameters`` such as ``start=1 end=10 step=1``
    parameters: str | None = None
    #: the nested group (of :attr:`Page.groups`) holding the question, ``None`` at page level
    group: str | None = None
    #: the XLSForm name when it repeats another group's (the id is then made unique)
    name: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Group:
    """A group nested inside a page (XLSForm ``begin group`` / ``begin repeat`` inside another
    group). ``parent`` is the enclosing nested group, ``None`` for the page itself; a ``repeat``
    group's questions are answered once per repetition (child rows keyed by the ballot)."""

    id: str
    label: Text | None = None
    relevant: str | None = None
    appearance: str | None = None
    parent: str | None = None
    repeat: bool = False
    repeat_count: str | None = None


@dataclass(frozen=True)
class Page:
    """A page (group) of questions shown together on the tablet. A ``repeat`` page is a
    top-level repeat group."""

    id: str
    title: Text
    questions: tuple[Question, ...]
    relevant: str | None = None
    groups: tuple[Group, ...] = ()
    repeat: bool = False
    repeat_count: str | None = None
    line: int | None = field(default=None, compare=False)

    def repeat_of(self, question: Question) -> str | None:
        """The id of the innermost repeat holding ``question`` (the page's when it repeats)."""
        by_id = {g.id: g for g in self.groups}
        group = by_id.get(question.group or "")
        while group is not None:
            if group.repeat:
                return group.id
            group = by_id.get(group.parent or "")
        return self.id if self.repeat else None


@dataclass(frozen=True)
class Settings:
    """Instrument settings: identity, version, languages, anonymity and the meeting kind."""

    id: str
    version: str
    title: Text
    default_language: str = "zh"
    anonymous: bool = True
    kind: Literal["evaluation", "hearing", "coordination", "other"] = "other"
    description: Text | None = None
    #: XLSForm metadata rows ``(name, type)`` (``("start", "start")``): paradata, not answers
    metadata: tuple[tuple[str, str], ...] = ()
    #: XLSForm ``allow_choice_duplicates``: a list may repeat a value (for choice filters)
    allow_choice_duplicates: bool = False
    #: names follow XLSForm's rule (``tel.office``, ``no-calendar``, longer than 32 characters)
    xlsform_names: bool = False


@dataclass(frozen=True)
class Variable:
    """One answer variable (a column of the wide response table)."""

    name: str
    question: Question
    item: GridItem | None = None
    subject: str | None = None

    @property
    def label(self) -> Text:
        """The item label for grid variables, else the question label."""
        return self.item.label if self.item is not None else self.question.label


@dataclass(frozen=True)
class Survey:
    """A whole instrument. Build one with :func:`toolkit.instrument.load_survey`."""

    settings: Settings
    pages: tuple[Page, ...]
    choice_lists: Mapping[str, ChoiceList]
    source: str | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.settings.id

    @property
    def version(self) -> str:
        return self.settings.version

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question in page order."""
        return tuple(q for page in self.pages for q in page.questions)

    def question(self, question_id: str) -> Question:
        """The question with this id (KeyError if none)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def page_of(self, question_id: str) -> Page:
        """The page holding a question."""
        for page in self.pages:
            if any(q.id == question_id for q in page.questions):
                return page
        raise KeyError(question_id)

    def scale(self, question: Question) -> ChoiceList:
        """The choice list of a single, multiple or grid question."""
        if question.choices is None:
            raise KeyError(f"question {question.id} has no choice list")
        return self.choice_lists[question.choices]

    def variables(self, *, subjects: Sequence[str] = ()) -> tuple[Variable, ...]:
        """Every answer variable of the ballot (one row each) in order; ``subjects`` expands
        per-subject grids. Questions inside a repeat group are not here: they are answered once
        per repetition (:meth:`repeat_questions`)."""
        out: list[Variable] = []
        repeated = {q.id for qs in self.repeat_questions().values() for q in qs}
        for q in self.questions:
            if q.type == "note" or q.id in repeated:
                continue
            if q.type != "grid":
                out.append(Variable(q.id, q))
            elif q.per_subject:
                for subject in subjects:
                    out += [Variable(f"{subject}__{it.id}", q, it, subject) for it in q.items]
            else:
                out += [Variable(it.id, q, it) for it in q.items]
        return tuple(out)

    def repeat_questions(self) -> dict[str, tuple[Question, ...]]:
        """The questions of each repeat group (innermost repeat), by repeat id, in order."""
        out: dict[str, list[Question]] = {}
        for page in self.pages:
            for q in page.questions:
                repeat = page.repeat_of(q)
                if repeat is not None:
                    out.setdefault(repeat, []).append(q)
        return {k: tuple(v) for k, v in out.items()}

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dictionary of the whole instrument (no source lines)."""

        def strip(value: Any) -> Any:
            if isinstance(value, dict):
                return {
                    k: strip(v)
                    for k, v in value.items()
                    if k != "line" and not (k in _ADDED_FIELDS and v == _ADDED_FIELDS[k])
                }
            if isinstance(value, list | tuple):
                return [strip(v) for v in value]
            return value

        return {
            "settings": strip(asdict(self.settings)),
            "choice_lists": {k: strip(asdict(v)) for k, v in self.choice_lists.items()},
            "pages": [strip(asdict(p)) for p in self.pages],
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`: the same instrument, the same hash."""
        canonical = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
