"""The tablet control of a repeat group: its questions once per instance, with buttons to add an
instance and to remove one.

The answers go to the form as one value, ``answers[repeat] = [{...}, {...}]`` (see
:mod:`toolkit.instrument.answers_repeat`); within an instance, a question whose ``relevant`` does
not hold is hidden and its answer dropped.

>>> from toolkit.instrument.model import Group, Page, Question, Settings, Survey, Text
>>> page = Page("p", Text("页"), (
...     Question("age", "integer", Text("年龄"), group="member"),
...     Question("job", "text", Text("工作"), relevant="${age} >= 16", group="member"),
... ), groups=(Group("member", Text("成员"), repeat=True),))
>>> survey = Survey(Settings("s", "1", Text("示例")), (page,), {})
>>> sent = []
>>> control = RepeatControl(survey, "member", on_change=sent.append)
>>> control.add.click()
>>> control.inputs[0]["age"].value = "40"
>>> control.inputs[0]["job"].value = "教师"
>>> control.add.click()
>>> control.inputs[1]["age"].value = "8"
>>> sent[-1]
[{'age': 40, 'job': '教师'}, {'age': 8}]
>>> control.removes[0].click()
>>> sent[-1]
[{'age': 8}]
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from toolkit.collect.controls import ChoiceGroup, MultiChoice, SharedLooks
from toolkit.instrument.answers import is_relevant
from toolkit.instrument.answers_repeat import instance_survey
from toolkit.instrument.model import Page, Question, Survey
from toolkit.labels import REPEAT_WORDS

__all__ = ["RepeatControl", "repeat_widgets"]

_TEXTS = REPEAT_WORDS


def _number(text: str, decimal: bool) -> Any:
    """A typed number as a number; text that is not one is kept, for the check to report."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text) if decimal else int(text)
    except ValueError:
        return text


class RepeatControl(w.VBox):
    """Instances of one repeat group; ``on_change`` receives the list of instances after every
    change."""

    def __init__(
        self,
        survey: Survey,
        repeat: str,
        *,
        value: Sequence[dict[str, Any]] | None = None,
        on_change: Callable[[list[dict[str, Any]]], None] | None = None,
        language: str = "zh",
        looks: SharedLooks | None = None,
        messages: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.add_class("sh-repeat")
        self.repeat = repeat
        self.survey = instance_survey(survey, repeat)
        self.language = language
        self._looks = looks
        self._on_change = on_change
        #: problems to show at their question, keyed ``repeat[n].question`` (n from 1)
        self.messages = dict(messages or {})
        self.value: list[dict[str, Any]] = [dict(i) for i in value or ()]
        self.add = w.Button(description=_TEXTS["add"].get(language, _TEXTS["add"]["en"]))
        self.add.add_class("sh-nav")
        self.add.on_click(lambda _b: self._add())
        self.inputs: list[dict[str, Any]] = []
        self.removes: list[w.Button] = []
        self._boxes: list[dict[str, w.Box]] = []
        self._draw()

    def _add(self) -> None:
        self.value.append({})
        self._draw()
        self._changed()

    def _remove(self, index: int) -> None:
        del self.value[index]
        self.messages = {}  # they name instances by number, which just changed
        self._draw()
        self._changed()

    def _set(self, index: int, name: str, value: Any) -> None:
        instance = self.value[index]
        if self.messages.pop(f"{self.repeat}[{index + 1}].{name}", None) is not None:
            box = self._boxes[index][name]
            box.children = box.children[:2]  # the answer changed: its message goes
        if value is None or value == "" or value == []:
            instance.pop(name, None)
        else:
            instance[name] = value
        # relevance within the instance: hide (and drop the answers of) what no longer applies
        for q in self.survey.questions:
            shown = is_relevant(self.survey, q, instance)
            self._boxes[index][q.id].layout.display = None if shown else "none"
            if not shown:
                instance.pop(q.id, None)
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change([dict(i) for i in self.value])

    def _draw(self) -> None:
        lang = self.language
        self.inputs, self.removes, self._boxes = [], [], []
        rows: list[w.Widget] = []
        for index, instance in enumerate(self.value):
            inputs: dict[str, Any] = {}
            boxes: dict[str, w.Box] = {}
            parts: list[w.Widget] = [w.HTML(f"<b>{index + 1}</b>")]
            for q in self.survey.questions:
                control = self._control(q, index, instance.get(q.id))
                inputs[q.id] = control
                label = w.HTML(f'<div class="sh-label">{html.escape(q.label.get(lang))}</div>')
                box = w.VBox([label, control])
                message = self.messages.get(f"{self.repeat}[{index + 1}].{q.id}")
                if message:
                    box.children = (*box.children, w.HTML(self._error(message)))
                box.layout.display = None if is_relevant(self.survey, q, instance) else "none"
                boxes[q.id] = box
                parts.append(box)
            remove = w.Button(description=_TEXTS["remove"].get(lang, _TEXTS["remove"]["en"]))
            remove.on_click(lambda _b, index=index: self._remove(index))
            parts.append(remove)
            self.inputs.append(inputs)
            self.removes.append(remove)
            self._boxes.append(boxes)
            instance_box = w.VBox(parts)
            instance_box.add_class("sh-question")
            rows.append(instance_box)
        self.children = [*rows, self.add]

    @staticmethod
    def _error(message: str) -> str:
        return f'<div class="sh-error">{html.escape(message)}</div>'

    def _control(self, q: Question, index: int, value: Any) -> w.Widget:
        def send(v: Any) -> None:
            self._set(index, q.id, v)

        if q.type in ("single", "multiple") and q.choices is not None:
            scale = self.survey.scale(q)
            options = [(c.value, c.label.get(self.language)) for c in scale.choices]
            if q.type == "single":
                return ChoiceGroup(options, value=value, on_change=send, looks=self._looks)
            return MultiChoice(options, value=value or (), on_change=send, looks=self._looks)
        text = w.Text(value="" if value is None else str(value), continuous_update=False)
        if q.type in ("integer", "decimal", "range"):
            decimal = q.type != "integer"
            text.observe(lambda c: send(_number(c["new"], decimal)), names="value")
        else:
            text.observe(lambda c: send(c["new"].strip() or None), names="value")
        return text


def repeat_widgets(form: Any, form_page: Any) -> list[w.Widget]:
    """The widgets of a form page's questions (``form`` a :class:`~toolkit.collect.form.SurveyForm`,
    ``form_page`` its :class:`~toolkit.collect.form.FormPage`): the form's own rendering for each
    question outside a repeat, one :class:`RepeatControl` in place of each repeat group's
    questions."""
    out: list[w.Widget] = []
    done: set[str] = set()
    page: Page = form_page.page
    for q in form_page.questions:
        repeat = page.repeat_of(q)
        if repeat is None:
            out.append(form._render_question(q, form_page))
        elif repeat not in done:
            done.add(repeat)
            control = RepeatControl(
                form.survey,
                repeat,
                value=form.respondent.answers.get(repeat),
                on_change=form._setter(repeat),
                language=form.language,
                looks=form._looks,
                messages={k: v for k, v in form.messages.items() if k.startswith(f"{repeat}[")},
            )
            form.controls[repeat] = control
            out.append(control)
    return out
