"""Answers to the question types that real XLSForms add: time, datetime, range, calculate, and
the choices a cascading ``choice_filter`` or ``or_other`` allows.

=============  ===================================================================================
type           value
=============  ===================================================================================
``time``       ``"HH:MM"`` or ``"HH:MM:SS"``
``datetime``   ``"YYYY-MM-DDTHH:MM"`` or with seconds (ISO 8601, no time zone)
``range``      a number from ``start`` to ``end`` of ``parameters`` (defaults 1 to 10), on a
               multiple of ``step`` from ``start`` (default 1)
``calculate``  what :func:`calculate` computes from the other answers (a string or number)
=============  ===================================================================================

A single or multiple question with ``or_other`` also takes the code ``other``. With a
``choice_filter`` only the choices for which the filter is true, given the other answers, are
valid (:func:`offered`).

Examples
--------
>>> from toolkit.instrument.model import Question, Text
>>> type_problem(Question("t", "time", Text("时间")), "25:00")
('E_NOT_A_TIME', "must be a time written HH:MM or HH:MM:SS; got '25:00'")
>>> range_bounds(Question("r", "range", Text("分"), parameters="start=0 end=5 step=0.5"))
(0.0, 5.0, 0.5)
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping

from toolkit.instrument.expressions import evaluate, is_true, parse, to_string
from toolkit.instrument.model import Choice, ChoiceList, Question, Survey

__all__ = ["calculate", "offered", "range_bounds", "type_problem"]

_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
_PARAM = re.compile(r"(start|end|step)\s*=\s*(-?[0-9]+(?:\.[0-9]+)?)")


def range_bounds(question: Question) -> tuple[float, float, float]:
    """``(start, end, step)`` of a range question (XLSForm defaults 1, 10, 1)."""
    found = {k: float(v) for k, v in _PARAM.findall(question.parameters or "")}
    return found.get("start", 1.0), found.get("end", 10.0), found.get("step", 1.0)


def type_problem(question: Question, value: object) -> tuple[str, str] | None:
    """What is wrong with an answer to a time, datetime, range or calculate question, as
    ``(code, message)`` (the code of its :class:`~toolkit.errors.Problem`), or None.

    >>> from toolkit.instrument.model import Text
    >>> type_problem(Question("r", "range", Text("分"), parameters="start=0 end=5"), 7)
    ('E_RANGE', 'must be from 0 to 5; got 7')
    """
    kind = question.type
    if kind == "time":
        if isinstance(value, str) and _TIME.fullmatch(value):
            return None
        return "E_NOT_A_TIME", f"must be a time written HH:MM or HH:MM:SS; got {value!r}"
    if kind == "datetime":
        try:
            ok = isinstance(value, str) and "T" in value and bool(_dt.datetime.fromisoformat(value))
        except ValueError:
            ok = False
        if ok:
            return None
        return (
            "E_NOT_A_DATETIME",
            f"must be a date and time written YYYY-MM-DDTHH:MM; got {value!r}",
        )
    if kind == "range":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "E_NOT_A_NUMBER", f"must be a number; got {value!r}"
        start, end, step = range_bounds(question)
        low, high = min(start, end), max(start, end)
        if not (math.isfinite(value) and low <= value <= high):
            return "E_RANGE", f"must be from {start:g} to {end:g}; got {value!r}"
        steps = (value - start) / step if step else 0.0
        if abs(steps - round(steps)) > 1e-9:
            return "E_NOT_ON_STEP", f"must be {start:g} plus a multiple of {step:g}; got {value!r}"
        return None
    if kind == "calculate":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return "E_NOT_TEXT_OR_NUMBER", f"a calculated value is text or a number; got {value!r}"
        return None
    return "E_ANSWER_TO_NOTE", f"questions of type `{kind}` take no answer"  # pragma: no cover


def _columns(choice: Choice) -> dict[str, object]:
    return {"@name": choice.value, **{f"@{k}": v for k, v in choice.filters}}


def offered(
    scale: ChoiceList, question: Question, answers: Mapping[str, object]
) -> tuple[str, ...]:
    """The codes a single or multiple question offers given the other answers: its list,
    filtered by ``choice_filter`` (each choice's columns read as bare names), plus ``other``
    when it has ``or_other``.

    >>> from toolkit.instrument.model import Text
    >>> scale = ChoiceList("county", (Choice("harris", Text("H"), filters=(("state", "tx"),)),
    ...                               Choice("king", Text("K"), filters=(("state", "wa"),))))
    >>> q = Question("county", "single", Text("县"), choices="county",
    ...              choice_filter="state = ${state}")
    >>> offered(scale, q, {"state": "wa"})
    ('king',)
    """
    codes = list(scale.values)
    if question.choice_filter is not None:
        expr = parse(question.choice_filter, paths=True)
        codes = [c.value for c in scale.choices if is_true(expr, {**answers, **_columns(c)})]
    if question.or_other and "other" not in codes:
        codes.append("other")
    return tuple(dict.fromkeys(codes))


def calculate(survey: Survey, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers with every ``calculate`` question's value computed, in survey order (a
    calculation sees the answers and the calculations before it). An empty result is left out.

    >>> from toolkit.instrument.model import Page, Settings, Text
    >>> n = Question("n", "integer", Text("人数"))
    >>> twice = Question("twice", "calculate", Text(""), calculation="${n} * 2")
    >>> survey = Survey(Settings("s", "1", Text("x")), (Page("p", Text("页"), (n, twice)),), {})
    >>> calculate(survey, {"n": 3})
    {'n': 3, 'twice': 6.0}
    """
    out = dict(answers)
    for q in survey.questions:
        if q.type != "calculate" or q.calculation is None:
            continue
        value = evaluate(q.calculation, out)
        out.pop(q.id, None)
        if isinstance(value, float) and not math.isnan(value):
            out[q.id] = value
        elif to_string(value) != "" and not isinstance(value, float):
            out[q.id] = to_string(value)
    return out
