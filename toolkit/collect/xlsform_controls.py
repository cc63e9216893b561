"""Tablet support for the question types XLSForms add: computed ``calculate`` values (never
shown), the options of a cascading ``choice_filter`` or an ``or_other`` question, and a time or
date-time typed as text (checked by :func:`toolkit.instrument.answers_xlsform.type_problem`).

>>> from toolkit.instrument.model import Choice, ChoiceList, Question, Text
>>> scale = ChoiceList("yn", (Choice("yes", Text("是", "Yes")),))
>>> options(scale, Question("q", "single", Text("问"), choices="yn", or_other=True), {}, "zh")
[('yes', '是'), ('other', '其他')]
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from toolkit.instrument.answers_xlsform import calculate, offered
from toolkit.instrument.model import ChoiceList, Question, Survey

__all__ = ["HIDDEN_TYPES", "PLACEHOLDERS", "options", "recalculate"]

#: Types the tablet never shows (their value is computed).
HIDDEN_TYPES = ("calculate",)
#: What a time or date-time box shows before anything is typed.
PLACEHOLDERS = {"time": "HH:MM", "datetime": "YYYY-MM-DDTHH:MM"}
_OTHER = {"zh": "其他", "en": "Other"}


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
