"""The tablet form without a browser: set values, tap buttons, check what the store receives."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
from pathlib import Path

import ipywidgets as w
import pytest

from tests.collect_support import MemoryBackend
from toolkit.collect.form import Subject, SurveyForm, form_pages
from toolkit.instrument.loader import load_survey, loads_survey
from toolkit.instrument.model import Text

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = (
    Subject("juweihui", Text("居委会", "Residents' committee")),
    Subject("wuye", Text("物业", "Property company")),
)
ITEMS = (
    "attitude",
    "efficiency",
    "transparency",
    "responsiveness",
    "integrity",
    "results",
    "overall",
)


@pytest.fixture(scope="module")
def evaluation():
    return load_survey(ROOT / "surveys" / "evaluation.yaml")


def make_form(survey, backend=None, **kwargs):
    ticks = itertools.count()
    kwargs.setdefault("subjects", SUBJECTS)
    return SurveyForm(
        survey,
        store=backend,
        meeting=kwargs.pop("meeting", "m1"),
        device=kwargs.pop("device", "A3"),
        draft_key=kwargs.pop("draft_key", "tablet-a3"),
        clock=lambda: dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC),
        timer=lambda: float(next(ticks)),
        **kwargs,
    )


def tap(form, variable, code):
    """Tap the button for ``code`` in the control of ``variable``, as a resident would."""
    control = form.controls[variable]
    index = [c for c, _ in control.options].index(code)
    control.buttons[index].click()


def fill_ratings(form, subject, code="satisfied"):
    for item in ITEMS:
        tap(form, f"{subject}__{item}", code)


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def fill_whole_ballot(form):
    fill_ratings(form, "juweihui")
    assert form.next()
    fill_ratings(form, "wuye", "basically_satisfied")
    tap(form, "wuye__integrity", "dont_know")
    assert form.next()
    assert form.next()  # project page: elevator question defaults to no
    tap(form, "rectify", "slow_response")
    tap(form, "rectify", "other")
    form.controls["rectify_other"].value = "楼道灯坏了"
    assert form.next()
    tap(form, "role", "resident_rep")
    tap(form, "age_band", "70-79")
    for key in "12":
        form.controls["building"].key(key)
    assert form.next()
    assert form.screen == "review"


def test_pages_repeat_per_subject(evaluation):
    pages = form_pages(evaluation, SUBJECTS)
    assert [p.key for p in pages][:2] == ["ratings__juweihui", "ratings__wuye"]
    assert len(pages) == len(evaluation.pages) + len(SUBJECTS) - 1


def test_whole_ballot_reaches_the_store(evaluation):
    backend = MemoryBackend()
    form = make_form(evaluation, backend)
    fill_whole_ballot(form)
    form.buttons["submit"].click()
    assert form.screen == "thanks"
    (ballot,) = backend.ballots.values()
    answers = ballot["answers"]
    assert answers["juweihui__overall"] == "satisfied"
    assert answers["wuye__integrity"] == "dont_know"
    assert answers["rectify"] == ["slow_response", "other"]
    assert answers["rectify_other"] == "楼道灯坏了"
    assert answers["building"] == 12
    assert "elevator" not in " ".join(answers)  # irrelevant grid left out
    assert ballot["device"] == "A3"
    assert set(ballot["paradata"]["page_seconds"]) >= {"ratings__juweihui", "ratings__wuye"}
    assert backend.drafts == {}  # draft discarded once the ballot is stored


def test_required_message_at_the_question_and_page_stays(evaluation):
    form = make_form(evaluation, MemoryBackend())
    tap(form, "juweihui__attitude", "satisfied")
    assert form.next() is False
    assert form.screen == "page" and form.respondent.page_index == 0
    message = evaluation.question("ratings").required_message
    assert form.messages["juweihui__overall"] == message.get("zh")
    shown = [c.value for c in walk(form.root) if isinstance(c, w.HTML)]
    assert any(message.get("zh") in v for v in shown)
    form.set_language("en")
    assert form.next() is False
    assert form.messages["juweihui__overall"] == message.get("en")


def test_constraint_message_in_current_language(evaluation):
    form = make_form(evaluation, MemoryBackend())
    fill_ratings(form, "juweihui")
    form.next()
    fill_ratings(form, "wuye")
    form.next()
    form.next()
    form.next()
    for key in "999":
        form.controls["building"].key(key)
    assert form.next() is False
    question = evaluation.question("building")
    assert form.messages["building"] == question.constraint_message.get("zh")


def test_skip_logic_shows_and_hides_live(evaluation):
    form = make_form(evaluation, MemoryBackend())
    fill_ratings(form, "juweihui")
    form.next()
    fill_ratings(form, "wuye")
    form.next()
    boxes = form._question_boxes
    assert boxes["elevator"][1].layout.display == "none"
    tap(form, "project_elevator", "yes")
    assert boxes["elevator"][1].layout.display is None
    tap(form, "project_elevator", "no")
    assert boxes["elevator"][1].layout.display == "none"


def test_double_submit_stores_one_ballot(evaluation):
    backend = MemoryBackend()
    form = make_form(evaluation, backend)
    fill_whole_ballot(form)
    submit = form.buttons["submit"]
    submit.click()
    submit.click()
    assert form.submit() is True
    assert len(backend.ballots) == 1
    assert backend.submit_calls == 1


def test_reset_leaves_nothing_of_the_previous_respondent(evaluation):
    backend = MemoryBackend()
    form = make_form(evaluation, backend)
    fill_whole_ballot(form)
    first_id = form.respondent.submission_id
    form.buttons["submit"].click()
    old_widgets = list(walk(form.root))
    form.buttons["next_respondent"].click()
    assert form.screen == "page" and form.respondent.page_index == 0
    assert form.answers == {}
    assert form.respondent.submission_id != first_id
    texts = " ".join(str(getattr(c, "value", "")) for c in walk(form.root))
    assert "楼道灯坏了" not in texts
    assert not any("sh-selected" in c._dom_classes for c in walk(form.root))
    assert all(c.comm is None for c in old_widgets if c not in set(walk(form.root)))


def test_review_lists_answers_and_change_jumps_back(evaluation):
    form = make_form(evaluation, MemoryBackend())
    fill_whole_ballot(form)
    html = " ".join(c.value for c in walk(form.root) if isinstance(c, w.HTML))
    assert "满意" in html and "不了解" in html and "楼道灯坏了" in html
    form.buttons["change_ratings__wuye"].click()
    assert form.screen == "page" and form.pages[form.respondent.page_index].key == "ratings__wuye"
    assert form.controls["wuye__integrity"].value == "dont_know"


def test_draft_saved_and_restored_on_reconnect(evaluation):
    backend = MemoryBackend()
    form = make_form(evaluation, backend)
    tap(form, "juweihui__attitude", "dissatisfied")
    assert "已保存" in form.status
    again = make_form(evaluation, backend)  # the tablet reloads the page: same browser, same key
    assert again.respondent.submission_id == form.respondent.submission_id
    assert again.controls["juweihui__attitude"].value == "dissatisfied"
    assert list(backend.drafts) == [("tablet-a3", "m1")]  # keyed by the draft key, not the label
    same_label = make_form(evaluation, backend, draft_key="tablet-other")  # device "A3" too
    assert same_label.answers == {} and same_label.notice == ""
    no_key = make_form(evaluation, backend, draft_key=None)  # a preview: no draft at all
    assert no_key.answers == {}
    tap(no_key, "juweihui__attitude", "satisfied")
    assert list(backend.drafts) == [("tablet-a3", "m1")]


def test_store_failure_keeps_answers_for_a_retry(evaluation):
    backend = MemoryBackend()
    form = make_form(evaluation, backend)
    fill_whole_ballot(form)
    backend.fail_submit = True
    form.buttons["submit"].click()
    assert form.screen == "review"
    assert "保存失败，请联系工作人员" in form.notice
    assert form.answers["building"] == 12
    backend.fail_submit = False
    form.buttons["submit"].click()
    assert form.screen == "thanks" and len(backend.ballots) == 1


def test_draft_failure_is_shown_not_raised(evaluation):
    backend = MemoryBackend()
    backend.fail_draft = True
    form = make_form(evaluation, backend)
    tap(form, "juweihui__attitude", "satisfied")
    assert form.status == "保存失败，请联系工作人员" and form.status_failed
    assert form.answers["juweihui__attitude"] == "satisfied"


def test_ballot_codes(evaluation):
    backend = MemoryBackend(codes=("123456",))
    form = make_form(evaluation, backend, ballot_codes=True)
    assert form.screen == "code"
    for key in "999999":
        form.controls["ballot_code"].key(key)
    form.buttons["start"].click()
    assert form.screen == "code" and "验证码不正确" in form.notice
    form.controls["ballot_code"]._set("")
    for key in "123456":
        form.controls["ballot_code"].key(key)
    form.buttons["start"].click()
    assert form.screen == "page"
    fill_whole_ballot(form)
    form.buttons["submit"].click()
    assert backend.codes["123456"] is True
    form.reset()
    assert form.screen == "code"


@pytest.mark.parametrize("name", ["hearing.yaml", "coordination.yaml"])
def test_every_shipped_instrument_renders(name):
    survey = load_survey(ROOT / "surveys" / name)
    form = make_form(survey, MemoryBackend(), subjects=())
    for _ in range(len(form.pages) + 1):
        form.next()
    assert form.screen in ("page", "review")


def test_every_question_type_has_a_touch_control():
    survey = loads_survey(
        """
settings: {id: all, version: "1", title: 全部题型}
choices:
  yn: [{value: "yes", label: 是}, {value: "no", label: 否}]
pages:
  - id: p
    title: 第一页
    questions:
      - {id: q_single, type: single, label: 单选, choices: yn}
      - {id: q_multi, type: multiple, label: 多选, choices: yn}
      - {id: q_int, type: integer, label: 整数}
      - {id: q_dec, type: decimal, label: 小数}
      - {id: q_text, type: text, label: 文本}
      - {id: q_date, type: date, label: 日期}
      - {id: q_note, type: note, label: 说明}
"""
    )
    form = make_form(survey, MemoryBackend(), subjects=())
    tap(form, "q_single", "yes")
    tap(form, "q_multi", "no")
    form.controls["q_int"].key("7")
    for key in "2.5":
        form.controls["q_dec"].key(key)
    form.controls["q_text"].value = "好"
    form.controls["q_date"].value = dt.date(2026, 11, 27)
    assert form.answers == {
        "q_single": "yes",
        "q_multi": ["no"],
        "q_int": 7,
        "q_dec": 2.5,
        "q_text": "好",
        "q_date": "2026-11-27",
    }
    kinds = {type(c).__name__ for c in walk(form.root)}
    assert not kinds & {"Dropdown", "IntSlider", "FloatSlider", "SelectionSlider", "Select"}


def test_large_text_and_language_toggles(evaluation):
    form = make_form(evaluation, MemoryBackend())
    form.buttons["large_text"].click()
    assert "sh-large" in form.root._dom_classes
    form.buttons["language"].click()
    assert form.language == "en"
    labels = [b.description for b in walk(form.root) if isinstance(b, w.Button)]
    assert "Satisfied" in labels and "Next" in labels


def test_collect_does_not_import_the_analysis_stack():
    code = (
        "import sys, toolkit.collect, toolkit.collect.form, toolkit.collect.app;"
        "bad = [m for m in ('scipy', 'statsmodels', 'matplotlib') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    # the form and its store backend, what every tablet kernel holds, do not load pandas either
    # (~45 MB per kernel); app.py may, lazily, where the board needs it
    code = (
        "import sys, toolkit.collect.form, toolkit.collect.backend;"
        "bad = [m for m in ('pandas',) if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
