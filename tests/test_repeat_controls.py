"""Tests of toolkit.collect.repeat_controls: a repeat group on the tablet, from taps to the
store's child rows (SQLite and PostgreSQL, the `store` fixture)."""

from __future__ import annotations

import datetime as dt
import itertools

from tests.store_support import store_fixture  # noqa: F401  (the `store` fixture)
from tests.test_answers_repeat import household
from toolkit.collect.backend import StoreBackend
from toolkit.collect.form import SurveyForm
from toolkit.collect.repeat_controls import RepeatControl
from toolkit.store import Store


def test_add_remove_and_relevance_within_an_instance() -> None:
    sent: list = []
    control = RepeatControl(household(), "member", on_change=sent.append, language="en")
    assert control.inputs == [] and control.add.description == "Add one"
    control.add.click()
    control.add.click()
    first, second = control.inputs
    first["age"].value = "40"
    first["sex"].buttons[0].click()
    assert control._boxes[0]["job"].layout.display is None  # an adult: the job is asked
    first["job"].value = "teacher"
    second["age"].value = "abc"  # kept as typed, for the check to report
    assert sent[-1] == [{"age": 40, "sex": "f", "job": "teacher"}, {"age": "abc"}]
    first["age"].value = "9"  # a child: the job is hidden and its answer dropped
    assert control._boxes[0]["job"].layout.display == "none"
    assert sent[-1][0] == {"age": 9, "sex": "f"}
    control.removes[0].click()
    assert sent[-1] == [{"age": "abc"}] and len(control.inputs) == 1


def test_labels_are_shown_as_text_not_markup() -> None:
    survey = household()
    page = survey.pages[0]
    age = page.questions[1]
    evil = type(age)(
        age.id, age.type, type(age.label)("<img src=x onerror=alert(1)>"), group="member"
    )
    page = type(page)(page.id, page.title, (page.questions[0], evil), groups=page.groups)
    control = RepeatControl(type(survey)(survey.settings, (page,), survey.choice_lists), "member")
    control.add.click()
    shown = control.children[0].children[1].children[0].value
    assert "<img" not in shown and "&lt;img" in shown


def test_the_form_sends_the_instances_to_the_store(store: Store) -> None:
    store.create_meeting("hh1", kind="evaluation", title="评议会", instrument=household())
    ticks = itertools.count()
    form = SurveyForm(
        household(),
        store=StoreBackend(store),
        meeting="hh1",
        clock=lambda: dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC),
        timer=lambda: float(next(ticks)),
    )
    form.controls["size"].key("2")
    control = form.controls["member"]
    assert isinstance(control, RepeatControl)
    control.add.click()
    control.inputs[0]["age"].value = "200"  # the constraint (. < 130) holds the page back
    assert form.next() is False and form.screen == "page"
    # the message stands inside the repeat, at the instance's question
    control = form.controls["member"]
    box = control._boxes[0]["age"]
    (error,) = [c for c in box.children if "sh-error" in getattr(c, "value", "")]
    assert set(form.messages) == {"member[1].age"}
    assert control._boxes[0]["sex"].children[2:] == ()
    # submitting is held back as well
    assert form.submit() is False
    assert store.repeat_rows("hh1").empty
    form.go_to(0)
    form.controls["member"].inputs[0]["age"].value = "67"
    assert error not in form.controls["member"]._boxes[0]["age"].children  # fixed: it goes
    assert form.messages == {}
    form.controls["member"].add.click()
    form.controls["member"].inputs[1]["age"].value = "5"
    assert form.next() is True and form.submit() is True
    rows = store.repeat_rows("hh1")
    assert rows[["instance", "variable", "value"]].values.tolist() == [
        [1, "age", 67],
        [2, "age", 5],
    ]
