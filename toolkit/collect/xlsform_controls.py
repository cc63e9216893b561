"""Tablet support for the question types XLSForms add: computed ``calculate`` values (never
shown), the options of a cascading ``choice_filter`` or an ``or_other`` question, and a time or
date-time typed as text (checked by :func:`toolkit.instrument.answers_xlsform.type_problem`).

>>> from toolkit.instrument.model import Choice, ChoiceList, Question, Text
>>> scale = ChoiceList("yn", (Choice("yes", Text("是", "Yes")),))
>>> options(scale, Question("q", "single", Text("问"), choices="yn", or_other=True), {}, "zh")
[('yes', '是'), ('other', '其他')]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from typing import Any

from toolkit.instrument.answers_xlsform import calculate, offered
from toolkit.instrument.model import ChoiceList, Question, Survey
from toolkit.labels import TABLET_WORDS

__all__ = ["HIDDEN_TYPES", "PLACEHOLDERS", "metadata_paradata", "options", "recalculate"]

#: Types the tablet never shows (their value is computed).
HIDDEN_TYPES = ("calculate",)
#: What a time or date-time box shows before anything is typed.
PLACEHOLDERS = {"time": "HH:MM", "datetime": "YYYY-MM-DDTHH:MM"}
_OTHER = TABLET_WORDS["other_choice"]


def options(
    scale: ChoiceList, question: Question, answers: Mapping[str, object], language: str
) -> list[tuple[str, str]]:
    """``(code, label)`` of the choices offered now (filtered, with "other" when asked)."""
    labels = {c.value: c.label.get(language) for c in reversed(scale.choices)}
    labels["other"] = labels.get("other", _OTHER.get(language, _OTHER["en"]))
    return [(code, labels[code]) for code in offered(scale, question, answers)]


def recalculate(survey: Survey, answers: MutableMapping[str, Any]) -> None:
    """Recompute every calculate question's value in place (after each answer)."""
    if not any(q.type in HIDDEN_TYPES for q in survey.questions):
        return
    computed = calculate(survey, answers)
    for q in survey.questions:
        if q.type in HIDDEN_TYPES:
            answers.pop(q.id, None)
            if q.id in computed:
                answers[q.id] = computed[q.id]


def metadata_paradata(
    survey: Survey, started: dt.datetime, submitted: dt.datetime, device: str | None
) -> dict[str, Any]:
    """The XLSForm metadata rows (``start``, ``end``, ``today``, ``deviceid``) as paradata,
    ``{"metadata": {name: value}}``, recorded by the tablet. Rows naming a person (username,
    phonenumber, email, subscriberid, simserial) stay empty: ballots are anonymous; ``audit``
    is the per-page timing the form records anyway.

    >>> from toolkit.instrument.model import Page, Question, Settings, Text
    >>> s = Survey(Settings("s", "1", Text("x"), metadata=(("begun", "start"), ("d", "deviceid"))),
    ...            (Page("p", Text("页"), (Question("n", "note", Text("注")),)),), {})
    >>> t = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    >>> metadata_paradata(s, t, t, "A3")
    {'metadata': {'begun': '2026-03-01T09:30:00+00:00', 'd': 'A3'}}
    """
    values: dict[str, Any] = {}
    for name, kind in survey.settings.metadata:
        kind = kind.removeprefix("uri:").replace("imei", "deviceid")
        if kind == "start":
            values[name] = started.isoformat()
        elif kind == "end":
            values[name] = submitted.isoformat()
        elif kind == "today":
            values[name] = submitted.date().isoformat()
        elif kind == "deviceid" and device:
            values[name] = device
    return {"metadata": values} if values else {}
