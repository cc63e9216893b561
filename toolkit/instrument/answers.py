"""Checking a submission's answers against its instrument.

A submission is the flat mapping **variable name → value** documented in
:mod:`toolkit.instrument.model`. Before a ballot is stored, :func:`check_answers` lists every
problem with it, each a :class:`~toolkit.errors.Problem` whose ``field`` names the variable (so a
form can show the message beside the right question) and whose ``code`` says which kind it is:

- an unknown variable, with a did-you-mean (``E_UNKNOWN_VARIABLE``; ``E_UNKNOWN_SUBJECT`` for a
  subject the meeting does not evaluate, ``E_ANSWER_TO_NOTE``/``E_ANSWER_TO_GRID``);
- a value of the wrong type for its question: a code that is not a choice (``E_NOT_A_CHOICE``) or
  is not offered there (``E_NOT_OFFERED``), a float for an integer (``E_NOT_AN_INTEGER``), a text
  with control characters (``E_BAD_CHARACTER``), a date that is not ``YYYY-MM-DD``
  (``E_NOT_A_DATE``), an empty value (``E_EMPTY_VALUE``)...;
- a required question (or grid item) that is relevant and unanswered (``E_REQUIRED``): the
  instrument's ``required_message`` in the resident's language, else 此题必答 / "This question is
  required";
- a ``constraint`` that is false (``E_CONSTRAINT``): the ``constraint_message``, else
  答案不符合要求 / "This answer is not valid";
- an answer to a question that is not relevant (hidden, ``E_HIDDEN_ANSWER``): the form must clear
  it, with :func:`clean_answers`.

Relevance
---------
A question is relevant when its page's ``relevant`` and its own ``relevant`` are both true (an
absent expression is true). Relevance cascades, as in ODK: while deciding a question's relevance,
the answers to questions that are themselves irrelevant read as ``''``. Questions are decided in
dependency order (a question after the questions its expressions refer to), so the result does not
depend on where the questions sit in the instrument; a dependency cycle (which the loader rejects)
is broken in instrument order.

References
----------
ODK, *ODK XForms Specification*, "Bindings" (``relevant``: "if a group or question is non-relevant,
its descendants are non-relevant", and non-relevant values are excluded from the submission).

Examples
--------
>>> from toolkit.instrument.model import Choice, ChoiceList, Page, Question, Settings, Survey, Text
>>> yes_no = ChoiceList("yes_no", (Choice("yes", Text("是")), Choice("no", Text("否"))))
>>> survey = Survey(
...     Settings("demo", "1", Text("示例")),
...     (Page("p1", Text("第一页"), (
...         Question("first_time", "single", Text("第一次参加？"), choices="yes_no", required=True),
...         Question("why", "text", Text("为什么？"), relevant="${first_time} = 'yes'"),
...         Question("building", "integer", Text("楼号"), constraint=". >= 1 and . <= 200"),
...     )),),
...     {"yes_no": yes_no},
... )
>>> check_answers(survey, {"first_time": "no"})
[]
>>> for problem in check_answers(survey, {"building": 300}, language="en"):
...     print(problem.field, "|", problem.message)
first_time | This question is required
building | This answer is not valid
>>> clean_answers(survey, {"first_time": "no", "why": "朋友邀请"})
{'first_time': 'no'}
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence

from toolkit._checks import check_option, did_you_mean
from toolkit.errors import InstrumentError, ParameterError, Problem
from toolkit.instrument.expressions import Expression, is_true, parse
from toolkit.instrument.model import (
    DONT_KNOW,
    LANGUAGES,
    ChoiceList,
    Page,
    Question,
    Survey,
    Text,
    Variable,
)

__all__ = [
    "DEFAULT_CONSTRAINT_MESSAGE",
    "DEFAULT_REQUIRED_MESSAGE",
    "check_answers",
    "clean_answers",
    "is_relevant",
    "relevance",
    "relevant_variables",
]

#: Shown for a required, unanswered question when the instrument gives no ``required_message``.
DEFAULT_REQUIRED_MESSAGE = Text("此题必答", "This question is required")
#: Shown for a false constraint when the instrument gives no ``constraint_message``.
DEFAULT_CONSTRAINT_MESSAGE = Text("答案不符合要求", "This answer is not valid")

_INT64 = 2**63 - 1
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_CLEAN_FIX = "The form must clear hidden answers: call clean_answers() before submitting."

# --------------------------------------------------------------------------------------------
# Locations, expressions and variable owners
# --------------------------------------------------------------------------------------------


def _location(survey: Survey, owner: Page | Question, field: str) -> str:
    parts = [survey.source or f"survey `{survey.id}`"]
    if owner.line is not None:
        parts.append(f"line {owner.line}")
    kind = "page" if isinstance(owner, Page) else "question"
    parts.append(f"{kind} `{owner.id}`")
    parts.append(f"field `{field}`")
    return ", ".join(parts)


def _expression(survey: Survey, owner: Page | Question, field: str) -> Expression | None:
    text = getattr(owner, field)
    if text is None or not str(text).strip():
        return None
    return parse(text, where=_location(survey, owner, field))


def _scale(survey: Survey, question: Question) -> ChoiceList:
    try:
        return survey.scale(question)
    except KeyError:
        where = _location(survey, question, "choices")
        problem = Problem(
            where,
            f"the choice list `{question.choices}` does not exist.",
            "Add it under `choices:`, or name an existing list.",
            code="E_UNKNOWN_CHOICE_LIST",
        )
        raise InstrumentError([problem]) from None


class _Owners:
    """Which question a variable name belongs to (per-subject grids by their ``__item`` suffix)."""

    def __init__(self, survey: Survey) -> None:
        self.exact: dict[str, Question] = {}
        self.per_subject: list[tuple[str, Question]] = []
        for question in survey.questions:
            if question.type == "note":
                continue
            if question.type != "grid":
                self.exact.setdefault(question.id, question)
            elif question.per_subject:
                self.per_subject += [(f"__{item.id}", question) for item in question.items]
            else:
                for item in question.items:
                    self.exact.setdefault(item.id, question)

    def owner(self, name: object) -> Question | None:
        if not isinstance(name, str):
            return None
        found = self.exact.get(name)
        if found is not None:
            return found
        for suffix, question in self.per_subject:
            if name.endswith(suffix) and len(name) > len(suffix):
                return question
        return None


class _Visible(Mapping[str, object]):
    """The answers as expressions see them: answers to irrelevant questions read as ''."""

    def __init__(
        self, answers: Mapping[str, object], owners: _Owners, decided: Mapping[str, bool]
    ) -> None:
        self.answers = answers
        self.owners = owners
        self.decided = decided

    def _shown(self, key: object) -> bool:
        owner = self.owners.owner(key)
        return owner is not None and self.decided.get(owner.id, True)

    def __getitem__(self, key: str) -> object:
        if not self._shown(key):
            raise KeyError(key)
        return self.answers[key]

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.answers if self._shown(key))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _check_answers_mapping(answers: object) -> Mapping[str, object]:
    if not isinstance(answers, Mapping):
        raise ParameterError(
            f"`answers` must be a mapping of variable name to answer; got {type(answers).__name__}."
        )
    return answers


def _check_subjects(subjects: object) -> tuple[str, ...]:
    if isinstance(subjects, str) or not isinstance(subjects, Sequence | set | frozenset):
        raise ParameterError(
            "`subjects` must be a sequence of subject ids such as ('juweihui', 'wuye'); "
            f"got {subjects!r}."
        )
    bad = [s for s in subjects if not isinstance(s, str) or not s]
    if bad:
        raise ParameterError(f"`subjects` must hold non-empty strings; got {bad[0]!r}.")
    return tuple(subjects)


# --------------------------------------------------------------------------------------------
# Relevance
# --------------------------------------------------------------------------------------------


def _decide(
    survey: Survey, answers: Mapping[str, object], owners: _Owners
) -> tuple[dict[str, bool], dict[str, Page | Question]]:
    """Relevance by question id, and for each hidden question what hid it."""
    pages = {q.id: page for page in survey.pages for q in page.questions}
    expressions: dict[str, tuple[Expression | None, Expression | None]] = {}
    needs: dict[str, set[str]] = {}
    for question in survey.questions:
        page_expr = _expression(survey, pages[question.id], "relevant")
        # the relevance of the nested groups holding the question counts as the page's
        by_id = {g.id: g for g in pages[question.id].groups}
        group = by_id.get(question.group or "")
        while group is not None:
            if group.relevant is not None:
                inner = parse(group.relevant)
                page_expr = (
                    inner
                    if page_expr is None
                    else parse(f"({page_expr.source}) and ({inner.source})")
                )
            group = by_id.get(group.parent or "")
        own_expr = _expression(survey, question, "relevant")
        expressions[question.id] = (page_expr, own_expr)
        names = set().union(*(e.references for e in (page_expr, own_expr) if e is not None))
        needs[question.id] = {
            owner.id
            for owner in (owners.owner(name) for name in names)
            if owner is not None and owner.id != question.id
        }

    decided: dict[str, bool] = {}
    hidden_by: dict[str, Page | Question] = {}
    visible = _Visible(answers, owners, decided)
    remaining = list(survey.questions)
    while remaining:
        # the first question whose dependencies are decided; a cycle is broken in order
        index = next(
            (i for i, q in enumerate(remaining) if needs[q.id].issubset(decided)),
            0,
        )
        question = remaining.pop(index)
        page_expr, own_expr = expressions[question.id]
        shown = True
        if page_expr is not None and not is_true(page_expr, visible):
            shown = False
            hidden_by[question.id] = pages[question.id]
        elif own_expr is not None and not is_true(own_expr, visible):
            shown = False
            hidden_by[question.id] = question
        decided[question.id] = shown
    return decided, hidden_by


def relevance(survey: Survey, answers: Mapping[str, object]) -> dict[str, bool]:
    """Whether each question is relevant (shown), by question id, in instrument order.

    Parameters
    ----------
    survey : Survey
        The instrument.
    answers : Mapping[str, object]
        The flat answers mapping (variable name → value) given so far.

    Returns
    -------
    dict[str, bool]
        Question id → relevant. A form calls this once per change to show or hide questions.

    Notes
    -----
    relevant(q) = relevant(page of q) ∧ relevant(q), each expression evaluated on the answers with
    the answers of irrelevant questions read as ``''`` (cascading), in dependency order.

    References
    ----------
    ODK, *ODK XForms Specification*, "Bindings", attribute ``relevant``.

    Examples
    --------
    >>> from toolkit.instrument.model import Page, Question, Settings, Survey, Text
    >>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("页"), (
    ...     Question("a", "integer", Text("A")),
    ...     Question("b", "integer", Text("B"), relevant="${a} > 1"),
    ...     Question("c", "text", Text("C"), relevant="${b} > 1"),
    ... )),), {})
    >>> relevance(survey, {"a": 0, "b": 5})
    {'a': True, 'b': False, 'c': False}
    """
    answers = _check_answers_mapping(answers)
    decided, _ = _decide(survey, answers, _Owners(survey))
    return {q.id: decided[q.id] for q in survey.questions}


def is_relevant(survey: Survey, question: Question | str, answers: Mapping[str, object]) -> bool:
    """Whether one question (or its id) is relevant given the answers.

    Parameters
    ----------
    survey : Survey
        The instrument.
    question : Question or str
        The question or its id.
    answers : Mapping[str, object]
        The flat answers mapping.

    Returns
    -------
    bool
        True when its page and its own ``relevant`` are true, with cascading (see
        :func:`relevance`).

    References
    ----------
    ODK, *ODK XForms Specification*, "Bindings", attribute ``relevant``.

    Examples
    --------
    >>> from toolkit.instrument.model import Page, Question, Settings, Survey, Text
    >>> survey = Survey(Settings("s", "1", Text("示例")), (
    ...     Page("p1", Text("页一"), (Question("a", "integer", Text("A")),)),
    ...     Page("p2", Text("页二"), (Question("b", "text", Text("B")),), relevant="${a} = 1"),
    ... ), {})
    >>> is_relevant(survey, "b", {"a": 1}), is_relevant(survey, "b", {"a": 2})
    (True, False)
    """
    question_id = question.id if isinstance(question, Question) else question
    shown = relevance(survey, answers)
    if question_id not in shown:
        known = [q.id for q in survey.questions]
        raise ParameterError(
            f"`question` must be a question of survey `{survey.id}`; got {question_id!r}."
            + did_you_mean(str(question_id), known)
        )
    return shown[question_id]


def relevant_variables(
    survey: Survey, answers: Mapping[str, object], *, subjects: Sequence[str] = ()
) -> tuple[Variable, ...]:
    """The answer variables of the relevant questions, in instrument order.

    Parameters
    ----------
    survey : Survey
        The instrument.
    answers : Mapping[str, object]
        The flat answers mapping.
    subjects : sequence of str, optional
        The evaluated subjects of the meeting, which expand ``per_subject`` grids into
        ``f"{subject}__{item}"`` variables.

    Returns
    -------
    tuple of Variable
        The variables of :meth:`Survey.variables` whose question is relevant.

    References
    ----------
    ODK, *ODK XForms Specification*, "Bindings", attribute ``relevant``.

    Examples
    --------
    >>> from toolkit.instrument.model import Page, Question, Settings, Survey, Text
    >>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("页"), (
    ...     Question("a", "integer", Text("A")),
    ...     Question("b", "text", Text("B"), relevant="${a} > 1"),
    ... )),), {})
    >>> [v.name for v in relevant_variables(survey, {"a": 0})]
    ['a']
    """
    subjects = _check_subjects(subjects)
    shown = relevance(survey, answers)
    return tuple(v for v in survey.variables(subjects=subjects) if shown[v.question.id])


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _message(custom: Text | None, default: Text, language: str) -> str:
    if custom is not None:
        if language == "zh":
            return custom.zh
        if language == "en" and custom.en:
            return custom.en
    return default.get(language)


def _codes(values: Sequence[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:12])
    return shown + (", ..." if len(values) > 12 else "")


def _empty(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and value == "")
        or (isinstance(value, list | tuple) and len(value) == 0)
    )


def _bad_characters(text: str) -> list[str]:
    bad = []
    for ch in text:
        if ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            bad.append(f"U+{ord(ch):04X}")
    return sorted(set(bad))


def _type_problem(survey: Survey, variable: Variable, value: object) -> tuple[str, str] | None:
    """What is wrong with the type or form of an answer, as ``(code, message)`` (technical,
    English), or None."""
    question = variable.question
    kind = question.type
    if _empty(value):
        return (
            "E_EMPTY_VALUE",
            f"an empty answer ({value!r}) is not stored; leave the variable out when unanswered",
        )
    if kind in ("time", "datetime", "range", "calculate"):
        from toolkit.instrument.answers_xlsform import type_problem

        return type_problem(question, value)
    if kind in ("single", "grid"):
        scale = _scale(survey, question)
        codes = list(scale.values)
        if question.or_other:
            codes.append("other")
        allow_dont_know = variable.item is not None and variable.item.allow_dont_know
        if allow_dont_know:
            codes.append(DONT_KNOW)
        if isinstance(value, str) and value in codes:
            return None
        if value == DONT_KNOW:
            return (
                "E_NOT_OFFERED",
                f"`{DONT_KNOW}` (不了解, don't know) is not offered for this item",
            )
        hint = did_you_mean(value, codes) if isinstance(value, str) else ""
        return (
            "E_NOT_A_CHOICE",
            f"must be one of the codes of `{scale.id}` ({_codes(codes)}); got {value!r}.{hint}",
        )
    if kind == "multiple":
        scale = _scale(survey, question)
        if not isinstance(value, list | tuple):
            hint = (
                " Send a list such as ['a', 'b'], not a space-separated string."
                if isinstance(value, str)
                else ""
            )
            return "E_NOT_A_LIST", f"must be a list of codes of `{scale.id}`; got {value!r}.{hint}"
        allowed = (*scale.values, "other") if question.or_other else scale.values
        unknown = [v for v in value if not isinstance(v, str) or v not in allowed]
        if unknown:
            hints = "".join(did_you_mean(v, scale.values) for v in unknown if isinstance(v, str))
            return (
                "E_NOT_A_CHOICE",
                f"holds {_codes(unknown)}, not codes of `{scale.id}` "
                f"({_codes(list(scale.values))}).{hints}",
            )
        if len(set(value)) != len(value):
            repeated = sorted({v for v in value if value.count(v) > 1})
            return (
                "E_DUPLICATE_CHOICE",
                f"repeats {_codes(repeated)}; each choice may be selected once",
            )
        return None
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "E_NOT_AN_INTEGER", f"must be a whole number (int); got {value!r}"
        if abs(value) > _INT64:
            return "E_RANGE", f"is too large to store (more than {_INT64:,} in size); got {value!r}"
        return None
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "E_NOT_A_NUMBER", f"must be a number; got {value!r}"
        try:
            finite = math.isfinite(value)
        except OverflowError:
            finite = False
        return None if finite else ("E_NOT_A_NUMBER", f"must be a finite number; got {value!r}")
    if kind == "text":
        if not isinstance(value, str):
            return "E_NOT_TEXT", f"must be text (str); got {value!r}"
        bad = _bad_characters(value)
        if bad:
            return (
                "E_BAD_CHARACTER",
                f"holds control characters ({', '.join(bad[:5])}); only newlines and tabs are "
                "allowed",
            )
        if question.max_length is not None and len(value) > question.max_length:
            return (
                "E_TOO_LONG",
                f"is {len(value):,} characters long; at most {question.max_length:,} are allowed",
            )
        return None
    if kind == "date":
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            return "E_NOT_A_DATE", f"must be a date written YYYY-MM-DD; got {value!r}"
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            return "E_NOT_A_DATE", f"is not a valid date; got {value!r}"
        return None
    return "E_ANSWER_TO_NOTE", f"questions of type `{kind}` take no answer"  # pragma: no cover


_TOO_SHORT = Text("请至少写 {n} 个字", "Please write at least {n} characters")


def _unknown_problem(
    survey: Survey, key: object, known: Sequence[str], subjects: Sequence[str]
) -> Problem:
    if not isinstance(key, str):
        return Problem(
            f"answer {key!r}",
            f"variable names must be text; got {type(key).__name__} {key!r}",
            "Remove it; the form must only send the survey's variables.",
            code="E_NOT_TEXT",
        )
    where = f"answer `{key}`"
    fix = "Remove it; the form must only send the survey's variables."
    for question in survey.questions:
        if question.id != key:
            continue
        if question.type == "note":
            return Problem(
                where,
                f"question `{key}` is a note and takes no answer",
                fix,
                key,
                code="E_ANSWER_TO_NOTE",
            )
        if question.type == "grid":
            names = [v.name for v in survey.variables(subjects=subjects) if v.question.id == key]
            if not names and question.items:
                first = question.items[0].id
                names = [f"<subject>__{first}" if question.per_subject else first]
            example = f" (e.g. `{names[0]}`)" if names else ""
            return Problem(
                where,
                f"`{key}` is a grid; each of its items is answered as its own variable{example}",
                None,
                key,
                code="E_ANSWER_TO_GRID",
            )
    for question in survey.questions:
        if question.type != "grid" or not question.per_subject:
            continue
        for item in question.items:
            suffix = f"__{item.id}"
            if key.endswith(suffix) and len(key) > len(suffix):
                subject = key[: -len(suffix)]
                listed = ", ".join(f"`{s}`" for s in subjects) if subjects else "none were given"
                return Problem(
                    where,
                    f"`{subject}` is not an evaluated subject of this meeting (subjects: {listed})",
                    "Pass the meeting's subjects to the check, or remove the answer.",
                    key,
                    code="E_UNKNOWN_SUBJECT",
                )
    hint = did_you_mean(key, known)
    return Problem(
        where,
        f"unknown variable `{key}`",
        (hint.strip() + " " + fix).strip(),
        key,
        code="E_UNKNOWN_VARIABLE",
    )


def check_answers(
    survey: Survey,
    answers: Mapping[str, object],
    *,
    subjects: Sequence[str] = (),
    language: str = "zh",
    require: bool = True,
) -> list[Problem]:
    """Every problem with a submission's answers, in instrument order (unknown variables last).

    Parameters
    ----------
    survey : Survey
        The instrument.
    answers : Mapping[str, object]
        The flat answers mapping (see :mod:`toolkit.instrument.model`): an unanswered variable is
        absent.
    subjects : sequence of str, optional
        The meeting's evaluated subjects; ``per_subject`` grids have one variable
        ``f"{subject}__{item}"`` per subject and item.
    language : {'zh', 'en'}
        The language of the resident-facing messages (required, constraint, too short). Technical
        problems (types, unknown or hidden variables) are in English and name the variable.
    require : bool
        Check ``required`` (default). ``False`` for paper ballots keyed in afterwards, where a blank
        is what the resident left and must be kept as a blank; every other check still applies.

    Returns
    -------
    list of Problem
        Empty when the answers can be stored. Each problem has ``where="answer `name`"``, a
        ``message``, a ``fix`` when there is an obvious one, and ``field`` = the variable name.

    Notes
    -----
    For each variable of a relevant question: absent and required → the required message; present
    → the type check, then (if the type is right) the ``constraint`` with ``.`` bound to the
    answer. For a variable of an irrelevant question: present → an error (hidden answers must be
    cleared). Grid items inherit the grid's ``required`` unless they set their own.

    References
    ----------
    ODK, *ODK XForms Specification*, "Bindings" (``required``, ``constraint``, ``relevant``).

    Examples
    --------
    >>> from toolkit.instrument.model import Choice, ChoiceList, Page, Question, Settings
    >>> from toolkit.instrument.model import GridItem, Survey, Text
    >>> sat = ChoiceList("sat", (Choice("satisfied", Text("满意")),
    ...                          Choice("dissatisfied", Text("不满意"))))
    >>> grid = Question("ratings", "grid", Text("评价"), choices="sat", per_subject=True,
    ...                 required=True, items=(GridItem("attitude", Text("工作态度"),
    ...                                                allow_dont_know=True),))
    >>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("页"), (grid,)),),
    ...                 {"sat": sat})
    >>> answers = {"wuye__attitude": "dont_know", "juweihui__atitude": "satisfied"}
    >>> for p in check_answers(survey, answers, subjects=("wuye", "juweihui")):
    ...     print(p)
    answer `juweihui__attitude`: 此题必答
    answer `juweihui__atitude`: unknown variable `juweihui__atitude` Did you mean
    `juweihui__attitude`? Remove it; the form must only send the survey's variables.
    """
    check_option("language", language, LANGUAGES)
    answers = _check_answers_mapping(answers)
    subjects = _check_subjects(subjects)
    owners = _Owners(survey)
    decided, hidden_by = _decide(survey, answers, owners)
    visible = _Visible(answers, owners, decided)
    variables = survey.variables(subjects=subjects)
    problems: list[Problem] = []
    constraints: dict[str, Expression | None] = {}
    for variable in variables:
        name, question = variable.name, variable.question
        where = f"answer `{name}`"
        present = name in answers
        if not decided[question.id]:
            if present:
                cause = hidden_by[question.id]
                kind = "page" if isinstance(cause, Page) else "question"
                problems.append(
                    Problem(
                        where,
                        f"`{name}` is answered but question `{question.id}` is not relevant "
                        f"(hidden by the {kind} `{cause.id}`: relevant `{cause.relevant}`)",
                        _CLEAN_FIX,
                        name,
                        code="E_HIDDEN_ANSWER",
                    )
                )
            continue
        if not present:
            required = question.required
            if variable.item is not None and variable.item.required is not None:
                required = variable.item.required
            if required and require:
                message = _message(question.required_message, DEFAULT_REQUIRED_MESSAGE, language)
                problems.append(Problem(where, message, None, name, code="E_REQUIRED"))
            continue
        value = answers[name]
        wrong = _type_problem(survey, variable, value)
        if wrong is not None:
            fix = _CLEAN_FIX if _empty(value) else None
            code, text = wrong
            problems.append(Problem(where, text, fix, name, code=code))
            continue
        if (
            question.type == "text"
            and question.min_length is not None
            and isinstance(value, str)
            and len(value) < question.min_length
        ):
            message = _TOO_SHORT.get(language).format(n=question.min_length)
            problems.append(Problem(where, message, None, name, code="E_TOO_SHORT"))
            continue
        if question.id not in constraints:
            constraints[question.id] = _expression(survey, question, "constraint")
        constraint = constraints[question.id]
        if question.choice_filter is not None and question.type in ("single", "multiple"):
            from toolkit.instrument.answers_xlsform import offered

            codes = offered(_scale(survey, question), question, visible)
            chosen = value if isinstance(value, list | tuple) else [value]
            if any(c not in codes for c in chosen):
                shown = _codes(list(codes))
                message = f"{value!r} is not offered here (choices: {shown})"
                problems.append(Problem(where, message, None, name, code="E_NOT_OFFERED"))
                continue
        if constraint is not None and not is_true(constraint, visible, current=value):
            message = _message(question.constraint_message, DEFAULT_CONSTRAINT_MESSAGE, language)
            problems.append(Problem(where, message, None, name, code="E_CONSTRAINT"))
    from toolkit.instrument.answers_repeat import check_repeat_answers, repeat_ids

    problems += check_repeat_answers(
        survey, answers, check=check_answers, language=language, require=require
    )
    known = {v.name for v in variables}
    problems += [
        _unknown_problem(survey, key, sorted(known), subjects)
        for key in answers
        if key not in known and key not in repeat_ids(survey)
    ]
    return problems


def clean_answers(
    survey: Survey, answers: Mapping[str, object], *, subjects: Sequence[str] = ()
) -> dict[str, object]:
    """The answers without those of irrelevant questions, and without empty values.

    Parameters
    ----------
    survey : Survey
        The instrument.
    answers : Mapping[str, object]
        The flat answers mapping as the form holds it.
    subjects : sequence of str, optional
        The meeting's evaluated subjects (checked like :func:`check_answers` does; variables of
        ``per_subject`` grids are recognised by their ``__item`` suffix).

    Returns
    -------
    dict
        A new mapping, in the original order, without (1) answers to questions that are not
        relevant (relevance cascades, see :func:`relevance`) and (2) empty values (``None``,
        ``''``, an empty list), which mean "unanswered" and are never stored. Unknown variables
        are kept, so that :func:`check_answers` still reports them.

    References
    ----------
    ODK, *ODK XForms Specification*, "Bindings": non-relevant values are not submitted.

    Examples
    --------
    >>> from toolkit.instrument.model import Page, Question, Settings, Survey, Text
    >>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("页"), (
    ...     Question("a", "integer", Text("A")),
    ...     Question("b", "integer", Text("B"), relevant="${a} > 1"),
    ...     Question("c", "text", Text("C"), relevant="${b} > 1"),
    ... )),), {})
    >>> clean_answers(survey, {"a": 0, "b": 5, "c": "x", "d": ""})
    {'a': 0}
    >>> clean_answers(survey, {"a": 2, "b": 5, "c": "x", "extra": 1})
    {'a': 2, 'b': 5, 'c': 'x', 'extra': 1}
    """
    answers = _check_answers_mapping(answers)
    _check_subjects(subjects)
    owners = _Owners(survey)
    decided, _ = _decide(survey, answers, owners)
    cleaned: dict[str, object] = {}
    for key, value in answers.items():
        if _empty(value):
            continue
        owner = owners.owner(key)
        if owner is not None and not decided[owner.id]:
            continue
        cleaned[key] = value
    return cleaned
