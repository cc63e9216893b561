"""The answers of repeat groups (XLSForm ``begin repeat``): checked once per instance.

A repeat's answers travel in the submission under the repeat's id, as a list with one mapping per
instance: ``answers["household"] = [{"age": 34}, {"age": 8}]``. Each instance is checked like a
small ballot of the repeat's questions (type, ``required``, ``constraint``, and ``relevant``
evaluated within the instance); the repeat's questions never appear among the ballot's flat
variables (:meth:`~toolkit.instrument.model.Survey.variables`).

Examples
--------
>>> from toolkit.instrument.model import Group, Page, Question, Settings, Survey, Text
>>> page = Page("p", Text("页"), (
...     Question("age", "integer", Text("年龄"), required=True, group="member"),
...     Question("job", "text", Text("工作"), relevant="${age} >= 16", group="member"),
... ), groups=(Group("member", Text("成员"), repeat=True),))
>>> survey = Survey(Settings("s", "1", Text("示例")), (page,), {})
>>> from toolkit.instrument.answers import check_answers
>>> answers = {"member": [{"age": 34}, {"job": "x"}]}
>>> problems = check_repeat_answers(survey, answers, check=check_answers)
>>> [p.field for p in problems]
['member[2].age', 'member[2].job']
>>> str(problems[0])
'answer `member[2].age`: 此题必答'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from toolkit.errors import Problem
from toolkit.instrument.model import Page, Settings, Survey

__all__ = ["MAX_INSTANCES", "check_repeat_answers", "instance_survey", "repeat_ids"]

#: instances of one repeat a ballot may hold (a household roster, a list of issues: a few dozen)
MAX_INSTANCES = 200


def repeat_ids(survey: Survey) -> tuple[str, ...]:
    """The ids of the survey's repeat groups that hold questions, in form order."""
    return tuple(survey.repeat_questions())


def instance_survey(survey: Survey, repeat: str) -> Survey:
    """The questions of one repeat as a survey of their own (one page, no groups), to check or show
    one instance; the choice lists are the survey's."""
    questions = tuple(
        dataclasses.replace(q, group=None) for q in survey.repeat_questions().get(repeat, ())
    )
    title = next(
        (g.label for p in survey.pages for g in p.groups if g.id == repeat and g.label), None
    )
    if title is None:
        title = next((p.title for p in survey.pages if p.id == repeat), survey.settings.title)
    settings: Settings = survey.settings
    return Survey(settings, (Page(repeat, title, questions),), survey.choice_lists)


def check_repeat_answers(
    survey: Survey,
    answers: Mapping[str, object],
    *,
    check: Callable[..., list[Problem]],
    language: str = "zh",
    require: bool = True,
) -> list[Problem]:
    """Every problem with the repeat groups' answers in ``answers`` (other keys are ignored).

    Each problem's ``where`` and ``field`` name the instance: ``answer `member[2].age```
    (instances count from 1). ``check`` checks one instance: it is
    :func:`toolkit.instrument.answers.check_answers` (passed in, as that module calls this one).
    """
    problems: list[Problem] = []
    for repeat in repeat_ids(survey):
        if repeat not in answers:
            continue
        where = f"answer `{repeat}`"
        instances = answers[repeat]
        if not isinstance(instances, list | tuple) or not all(
            isinstance(i, Mapping) for i in instances
        ):
            problems.append(
                Problem(
                    where,
                    f"`{repeat}` is a repeat group; its answers must be a list with one mapping per "
                    f"instance; got {type(instances).__name__}",
                    f'Send e.g. {{"{repeat}": [{{...}}, {{...}}]}}.',
                    repeat,
                    code="E_NOT_A_LIST",
                )
            )
            continue
        if len(instances) > MAX_INSTANCES:
            problems.append(
                Problem(
                    where,
                    f"{len(instances)} instances; at most {MAX_INSTANCES}",
                    "Remove instances.",
                    repeat,
                    code="E_TOO_LARGE",
                )
            )
            continue
        sub = instance_survey(survey, repeat)
        for number, instance in enumerate(instances, start=1):
            prefix = f"{repeat}[{number}]"
            for p in check(sub, instance, language=language, require=require):
                field = f"{prefix}.{p.field}" if p.field else prefix
                problems.append(
                    dataclasses.replace(
                        p, where=p.where.replace("answer `", f"answer `{prefix}.", 1), field=field
                    )
                )
    return problems
