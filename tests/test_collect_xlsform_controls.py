"""The tablet form with XLSForm question types: hidden calculations, cascading choices,
or_other, range, read-only."""

from __future__ import annotations

import datetime as dt
import itertools

from tests.collect_support import MemoryBackend
from toolkit.collect.form import SurveyForm
from toolkit.collect.xlsform_controls import options, recalculate
from toolkit.instrument.model import Choice, ChoiceList, Page, Question, Settings, Survey, Text


def _survey() -> Survey:
    state = ChoiceList("state", (Choice("tx", Text("得州")), Choice("wa", Text("华州"))))
    county = ChoiceList(
        "county",
        (
            Choice("harris", Text("哈里斯"), filters=(("state", "tx"),)),
            Choice("king", Text("金"), filters=(("state", "wa"),)),
        ),
    )
    first = (
        Question("state", "single", Text("州"), choices="state", or_other=True),
        Question("n", "integer", Text("人数")),
        Question("twice", "calculate", Text(""), calculation="${n} * 2"),
        Question("note_ro", "text", Text("只读"), read_only=True),
    )
    second = (
        Question(
            "county", "single", Text("县"), choices="county", choice_filter="state = ${state}"
        ),
        Question("score", "range", Text("分"), parameters="start=0 end=10"),
    )
    return Survey(
        Settings("s", "1", Text("x")),
        (Page("p1", Text("一"), first), Page("p2", Text("二"), second)),
        {"state": state, "county": county},
    )


def _form(survey: Survey) -> SurveyForm:
    ticks = itertools.count()
    return SurveyForm(
        survey,
        store=MemoryBackend(),
        meeting="m1",
        device="A3",
        draft_key="tablet-a3",
        clock=lambda: dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC),
        timer=lambda: float(next(ticks)),
    )


def test_options_and_recalculate() -> None:
    s = _survey()
    assert options(s.choice_lists["county"], s.question("county"), {"state": "wa"}, "zh") == [
        ("king", "金")
    ]
    answers: dict[str, object] = {"n": 3}
    recalculate(s, answers)
    assert answers["twice"] == 6.0
    answers["n"] = 5
    recalculate(s, answers)
    assert answers["twice"] == 10.0


def test_the_form_hides_calculations_and_filters_choices() -> None:
    s = _survey()
    form = _form(s)
    form.set_answer("state", "wa")
    form.set_answer("n", 4)
    assert form.respondent.answers["twice"] == 8.0  # computed, never typed
    assert "twice" not in form.controls
    assert [c for c, _ in form.controls["state"].options] == ["tx", "wa", "other"]
    assert form.controls["note_ro"].disabled
    form.go_to(1)
    assert [c for c, _ in form.controls["county"].options] == ["king"]


def test_metadata_rows_are_submitted_as_paradata() -> None:
    import dataclasses

    s = _survey()
    s = dataclasses.replace(
        s,
        settings=dataclasses.replace(
            s.settings, metadata=(("start", "start"), ("today", "today"), ("phone", "phonenumber"))
        ),
    )
    backend = MemoryBackend()
    form = _form(s)
    form.store = backend
    form.set_answer("state", "tx")
    assert form.submit()
    (ballot,) = backend.ballots.values()
    assert ballot["paradata"]["metadata"] == {
        "start": "2026-11-27T09:00:00+00:00",
        "today": "2026-11-27",
    }  # the phone number is never collected


def test_a_cascade_on_one_page_follows_the_answers_and_clears_what_it_leaves_out() -> None:
    s = _survey()
    state, county = s.pages[0].questions[0], s.pages[1].questions[0]
    one_page = Page("p", Text("一"), (state, county))
    s = Survey(s.settings, (one_page,), s.choice_lists)
    backend = MemoryBackend()
    form = _form(s)
    form.store = backend
    assert form.controls["county"].options == ()  # no state yet: the filter keeps nothing
    form.set_answer("state", "tx")
    assert [c for c, _ in form.controls["county"].options] == ["harris"]
    form.set_answer("county", "harris")
    form.set_answer("state", "wa")  # harris is not in wa: the answer goes, king is offered
    assert [c for c, _ in form.controls["county"].options] == ["king"]
    assert "county" not in form.answers
    assert form.controls["county"] in form._question_boxes["county"][1].children
    form.set_answer("county", "king")
    assert form.submit()
    (ballot,) = backend.ballots.values()
    assert ballot["answers"]["county"] == "king"
