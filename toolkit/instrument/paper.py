"""The paper ballot of an instrument: which answers it asks for, in order, and the digit of each box.

The printed ballot (``sanhui print ballots``) and double-entry keying
(:mod:`toolkit.collect.keying`) both use :func:`paper_fields`, so the digit printed beside a box is
the digit the keyer types. Questions the staff set (those with a ``default``, such as whether an
elevator project is evaluated) are not printed: they keep their default, and questions shown only
under another default value are left out.

Examples
--------
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> fields = paper_fields(survey, [("wuye", "物业公司")])
>>> first = fields[0]
>>> first.name, first.section, first.label, [(o.key, o.label) for o in first.options]
('wuye__attitude', '物业公司', '工作态度', [('1', '满意'), ('2', '基本满意'), ('3', '不满意'), ('4', '不了解')])
>>> [f.name for f in fields if f.kind != "choice"]
['rectify', 'rectify_other', 'comments', 'building']
>>> answers_from_keys(survey, fields, {"wuye__attitude": "2", "rectify": "31", "building": "7"},
...                   subjects=["wuye"])["rectify"]
['transparency_issue', 'attitude_issue']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from toolkit.instrument.model import DONT_KNOW, Question, Survey

__all__ = ["PaperField", "PaperOption", "answers_from_keys", "paper_defaults", "paper_fields"]

FieldKind = Literal["choice", "multiple", "integer", "text"]
_REFERENCE = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class PaperOption:
    """A box on paper: the digit typed when keying, the stored code and the printed label."""

    key: str
    value: str
    label: str


@dataclass(frozen=True)
class PaperField:
    """One answer on the paper ballot (a grid row, a question)."""

    name: str
    question: str
    kind: FieldKind
    section: str
    label: str
    options: tuple[PaperOption, ...] = ()

    @property
    def one_key(self) -> bool:
        """A single digit answers it (a choice of at most 9 boxes)."""
        return self.kind == "choice" and len(self.options) <= 9


def paper_defaults(survey: Survey) -> dict[str, Any]:
    """The answers the staff set (questions with a ``default``), kept on every paper ballot."""
    return {q.id: q.default for q in survey.questions if q.default is not None}


def _skipped(survey: Survey, question: Question, defaults: Mapping[str, Any]) -> bool:
    if question.type == "note" or question.id in defaults:
        return True
    refs = set(_REFERENCE.findall(question.relevant or ""))
    if refs and refs <= set(defaults):
        from toolkit.instrument.answers import is_relevant

        return not is_relevant(survey, question, defaults)
    return False


def paper_fields(
    survey: Survey, subjects: Sequence[tuple[str, str]] = ()
) -> tuple[PaperField, ...]:
    """The answers of the paper ballot in printed order.

    Parameters
    ----------
    survey : Survey
    subjects : sequence of (id, label)
        The meeting's evaluated subjects, for per-subject grids.

    Returns
    -------
    tuple of PaperField
    """
    defaults = paper_defaults(survey)
    out: list[PaperField] = []
    for page in survey.pages:
        for question in page.questions:
            if _skipped(survey, question, defaults):
                continue
            label = question.label.zh
            if question.type == "grid":
                scale = survey.scale(question)
                sections = subjects if question.per_subject else [("", page.title.zh)]
                for subject_id, subject_label in sections:
                    for item in question.items:
                        options = [
                            PaperOption(str(i), c.value, c.label.zh)
                            for i, c in enumerate(scale.choices, start=1)
                        ]
                        if item.allow_dont_know:
                            key = str(len(options) + 1)
                            options.append(PaperOption(key, DONT_KNOW, scale.dont_know_label.zh))
                        name = f"{subject_id}__{item.id}" if subject_id else item.id
                        out.append(
                            PaperField(
                                name,
                                question.id,
                                "choice",
                                subject_label,
                                item.label.zh,
                                tuple(options),
                            )
                        )
            elif question.type in ("single", "multiple"):
                scale = survey.scale(question)
                boxes = tuple(
                    PaperOption(str(i), c.value, c.label.zh)
                    for i, c in enumerate(scale.choices, start=1)
                )
                kind: FieldKind = "choice" if question.type == "single" else "multiple"
                out.append(PaperField(question.id, question.id, kind, page.title.zh, label, boxes))
            elif question.type in ("integer", "decimal"):
                out.append(PaperField(question.id, question.id, "integer", page.title.zh, label))
            else:
                out.append(PaperField(question.id, question.id, "text", page.title.zh, label))
    return tuple(out)


def answers_from_keys(
    survey: Survey,
    fields: Sequence[PaperField],
    keyed: Mapping[str, str],
    *,
    subjects: Sequence[str] = (),
) -> dict[str, Any]:
    """The ballot's answers from what was keyed (``""`` or missing: left blank on paper).

    Staff-set defaults are added, and answers to questions not shown are dropped
    (:func:`toolkit.instrument.answers.clean_answers`), so a blank stays a blank.
    """
    from toolkit.instrument.answers import clean_answers

    answers: dict[str, Any] = dict(paper_defaults(survey))
    for field in fields:
        text = (keyed.get(field.name) or "").strip()
        if not text:
            continue
        by_key = {o.key: o.value for o in field.options}
        if field.kind == "choice":
            answers[field.name] = by_key.get(text, text)
        elif field.kind == "multiple":
            keys = text.replace(",", " ").split() if len(field.options) > 9 else list(text)
            answers[field.name] = [by_key.get(k, k) for k in dict.fromkeys(keys)]
        elif field.kind == "integer":
            try:
                number = float(text)
                answers[field.name] = int(number) if number.is_integer() else number
            except ValueError:
                answers[field.name] = text
        else:
            answers[field.name] = text
    return clean_answers(survey, answers, subjects=subjects)
