"""The tablet form: any instrument as a touch-first ipywidgets form, one page per group.

:class:`SurveyForm` walks a resident through the pages of a :class:`~toolkit.instrument.model.Survey`
(per-subject rating grids repeat once per evaluated subject), evaluates skip logic live, checks required
answers and constraints on *Next* and *Submit* (messages from the instrument, in the current language,
shown at the question), shows a review page, stores the ballot once however often *Submit* is tapped,
thanks the resident, and then resets completely for the next one (kiosk use).

Every screen is rebuilt from the respondent's state, so after a reset no widget of the previous
respondent survives: the old widgets are closed and nothing of their answers remains in the tree.

Drafts are saved on every answer under the form's ``draft_key`` (the tablet's random token under
``sanhui serve``, never its label) and restored when the same browser comes back ("已保存 ✓").

The form talks to the store through the small :class:`FormBackend` protocol, so tests can also use an
in-memory backend. It never imports scipy, statsmodels or matplotlib.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import ipywidgets as w

from toolkit.collect.attempts import AttemptLimiter, shared_limiter
from toolkit.collect.controls import ChoiceGroup, MultiChoice, NumberPad, SharedLooks
from toolkit.collect.form_state import FormBackend, FormPage, FormState, Subject, form_pages
from toolkit.collect.i18n import t
from toolkit.collect.repeat_controls import repeat_widgets
from toolkit.collect.style import CSS
from toolkit.collect.xlsform_controls import HIDDEN_TYPES, PLACEHOLDERS, recalculate
from toolkit.collect.xlsform_controls import options as choice_options
from toolkit.instrument.answers import clean_answers

# Page and Text: SurveyForm's doctest builds a survey with them, as before the split.
from toolkit.instrument.model import DONT_KNOW, Page, Question, Survey, Text  # noqa: F401

__all__ = ["FormBackend", "FormPage", "Subject", "SurveyForm"]


class SurveyForm(FormState):
    """A touch-first form for any instrument, with skip logic, validation, review and reset.

    Parameters
    ----------
    survey : Survey
        The instrument.
    store : FormBackend, optional
        Where ballots and drafts go (a :class:`toolkit.store.Store`); without one the form only
        collects (useful in a notebook preview).
    meeting : str, optional
        The meeting id the ballots belong to.
    subjects : sequence of Subject
        The evaluated subjects (meeting data) for per-subject grids.
    language : {"zh", "en"}
        Starting language; residents can switch.
    device : str, optional
        The tablet's label (from the URL, ``?device=A3``), recorded as paradata; a label for staff,
        never a key to anything.
    draft_key : str, optional
        The key the respondent's draft is saved under and restored from (``sanhui serve`` derives
        it from the tablet's random token, see :func:`toolkit.collect.app.draft_key`); without one
        no draft is kept.
    ballot_codes : bool
        Ask for a one-time ballot code before the first page.
    client : str, optional
        The client's network address (``sanhui serve`` passes it) for the limits on ballot-code
        attempts (:mod:`toolkit.collect.attempts`); ``None``: one bucket for every client.
    attempts : AttemptLimiter, optional
        The attempt limiter; default the process's shared one.
    clock, timer : callables
        Injected for tests: wall-clock ``datetime`` and a monotonic seconds counter.

    Examples
    --------
    >>> from toolkit.instrument.model import Choice, ChoiceList, Settings
    >>> yes_no = ChoiceList("yn", (Choice("yes", Text("是", "Yes")), Choice("no", Text("否", "No"))))
    >>> q = Question("agree", "single", Text("您同意吗？", "Do you agree?"), choices="yn", required=True)
    >>> survey = Survey(Settings("s", "1", Text("示例")), (Page("p", Text("第一页"), (q,)),), {"yn": yes_no})
    >>> form = SurveyForm(survey)
    >>> form.next()                       # required and unanswered: the page does not advance
    False
    >>> form.messages["agree"]
    '此题必答'
    >>> form.set_answer("agree", "yes")
    >>> form.next(), form.screen          # the last page leads to the review page
    (True, 'review')
    """

    def __init__(
        self,
        survey: Survey,
        *,
        store: FormBackend | None = None,
        meeting: str | None = None,
        subjects: Sequence[Subject] = (),
        language: str = "zh",
        device: str | None = None,
        draft_key: str | None = None,
        ballot_codes: bool = False,
        client: str | None = None,
        attempts: AttemptLimiter | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.survey = survey
        self.store = store
        self.meeting = meeting
        self.subjects = tuple(subjects)
        self.language = language
        self.device = device
        self.draft_key = draft_key
        self.client = client
        self.ballot_codes = ballot_codes
        self._attempts = attempts or shared_limiter()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._timer = timer
        self.pages = form_pages(survey, self.subjects)
        self.large_text = False
        self.messages: dict[str, str] = {}
        self.status = ""
        self.status_failed = False
        self.notice = ""
        self.root = w.VBox(layout=w.Layout(width="100%"))
        self.root.add_class("sh-root")
        self._looks = SharedLooks()
        self._style = self._looks.html(CSS)
        self._body: list[w.Widget] = []
        self.controls: dict[str, w.Widget] = {}
        self.buttons: dict[str, w.Button] = {}
        self._question_boxes: dict[str, tuple[Question, w.Box]] = {}
        self.respondent = self._new_respondent()
        self._restore_draft()
        self.render()

    def toggle_large_text(self) -> None:
        """The 大字 toggle."""
        self.large_text = not self.large_text
        if self.large_text:
            self.root.add_class("sh-large")
        else:
            self.root.remove_class("sh-large")

    # ----------------------------------------------------------------------------- rendering
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.root)

    def render(self) -> None:
        """Rebuild the current screen from the respondent's state (old widgets are closed)."""
        old = self._body
        self.controls, self.buttons, self._question_boxes = {}, {}, {}
        screen = self.respondent.screen
        if screen == "code":
            body = self._render_code()
        elif screen == "review":
            body = self._render_review()
        elif screen == "thanks":
            body = self._render_thanks()
        else:
            body = self._render_page()
        self._body = [self._render_toolbar(), *body]
        self.root.children = [self._style, *self._body]
        keep = {id(model) for model in self._looks.models()}
        for widget in old:
            _close_tree(widget, keep)

    def _render_toolbar(self) -> w.Widget:
        looks = self._looks
        lang = self._button(t("language", self.language), "sh-small-button")
        lang.on_click(lambda _b: self.set_language("en" if self.language == "zh" else "zh"))
        large = self._button(t("large_text", self.language), "sh-small-button")
        large.on_click(lambda _b: self.toggle_large_text())
        self.buttons["language"], self.buttons["large_text"] = lang, large
        self._status_widget = looks.html()
        self._update_status()
        title = looks.html(
            f'<div class="sh-title">{_escape(self.survey.settings.title.get(self.language))}</div>'
        )
        bar = w.HBox(
            [title, self._status_widget, large, lang],
            layout=w.Layout(
                justify_content="space-between", align_items="center", flex_flow="row wrap"
            ),
        )
        return bar

    def _update_status(self) -> None:
        widget = getattr(self, "_status_widget", None)
        if widget is None:
            return
        cls = "sh-status sh-failed" if self.status_failed else "sh-status"
        widget.value = f'<span class="{cls}">{_escape(self.status)}</span>' if self.status else ""

    def _notice_widget(self) -> list[w.Widget]:
        if not self.notice:
            return []
        return [self._looks.html(f'<div class="sh-error">{_escape(self.notice)}</div>')]

    def _render_code(self) -> list[w.Widget]:
        heading = self._looks.html(
            f'<div class="sh-title">{_escape(t("code_title", self.language))}</div>'
        )
        pad = NumberPad(
            clear_label=t("clear", self.language),
            delete_label=t("delete", self.language),
            looks=self._looks,
        )
        start = self._button(t("code_start", self.language), "sh-primary", "sh-nav")
        start.on_click(lambda _b: self.enter_code(pad.text))
        self.controls["ballot_code"], self.buttons["start"] = pad, start
        return [heading, *self._notice_widget(), pad, start]

    def _render_page(self) -> list[w.Widget]:
        r = self.respondent
        visible = self.visible_pages()
        if r.page_index not in visible and visible:
            later = [i for i in visible if i >= r.page_index]
            r.page_index = later[0] if later else visible[-1]
        form_page = self.pages[r.page_index]
        position = visible.index(r.page_index) + 1 if r.page_index in visible else 1
        title = form_page.page.title.get(self.language)
        if form_page.subject is not None:
            title = t(
                "subject_page",
                self.language,
                title=title,
                subject=form_page.subject.label.get(self.language),
            )
        header = self._looks.html(
            f'<div class="sh-title">{_escape(title)}</div>'
            f'<div class="sh-progress">{_escape(t("progress", self.language, page=position, pages=len(visible)))}</div>'
        )
        questions = repeat_widgets(self, form_page)  # a repeat: one control per repeat group
        back = self._button(t("back", self.language), "sh-nav")
        back.disabled = position == 1
        back.on_click(lambda _b: self.back())
        is_last = position == len(visible)
        forward = self._button(
            t("review" if is_last else "next", self.language), "sh-nav", "sh-primary"
        )
        forward.on_click(lambda _b: self.next())
        self.buttons["back"], self.buttons["next"] = back, forward
        nav = w.HBox([back, forward], layout=self._looks.between_layout)
        return [header, *self._notice_widget(), *questions, nav]

    def _refresh_relevance(self) -> None:
        self._refresh_choices()
        for question, box in getattr(self, "_question_boxes", {}).values():
            box.layout.display = None if self.relevant(question) else "none"

    def _refresh_choices(self) -> None:
        """Filtered lists on the page follow the answers they name (a cascade: governorate →
        district → community on one page); an answer the new filter leaves out is cleared, as
        ODK Collect clears it, and the lists after it follow in turn."""
        answers = self.respondent.answers
        changed = False
        for question, box in list(getattr(self, "_question_boxes", {}).values()):
            control = self.controls.get(question.id)
            if not question.choice_filter or not isinstance(control, ChoiceGroup | MultiChoice):
                continue
            scale = self.survey.scale(question)
            options = tuple(choice_options(scale, question, answers, self.language))
            if options == control.options:
                continue
            codes = {code for code, _ in options}
            value = answers.get(question.id)
            if isinstance(value, str) and value not in codes:
                answers.pop(question.id)
                changed = True
            elif isinstance(value, list) and not set(value) <= codes:
                kept = [v for v in value if v in codes]
                answers[question.id] = kept
                if not kept:
                    answers.pop(question.id)
                changed = True
            replacement = self._control(question)
            box.children = tuple(replacement if c is control else c for c in box.children)
            _close_tree(control, {id(model) for model in self._looks.models()})
        if changed:
            recalculate(self.survey, answers)
            self._save_draft()

    def _render_question(self, q: Question, form_page: FormPage) -> w.Widget:
        lang = self.language
        mark = " *" if q.required and q.type != "note" else ""
        looks = self._looks
        parts: list[w.Widget] = [
            looks.html(f'<div class="sh-label">{_escape(q.label.get(lang))}{mark}</div>')
        ]
        if q.hint is not None:
            parts.append(looks.html(f'<div class="sh-hint">{_escape(q.hint.get(lang))}</div>'))
        answers = self.respondent.answers
        if q.type == "grid":
            prefix = f"{form_page.subject.id}__" if q.per_subject and form_page.subject else ""
            scale = self.survey.scale(q)
            for item in q.items:
                name = prefix + item.id
                options = [(c.value, c.label.get(lang)) for c in scale.choices]
                if item.allow_dont_know:
                    options.append((DONT_KNOW, scale.dont_know_label.get(lang)))
                group = ChoiceGroup(
                    options, value=answers.get(name), on_change=self._setter(name), looks=looks
                )
                self.controls[name] = group
                label = looks.html(
                    f'<div class="sh-grid-item">{_escape(item.label.get(lang))}</div>'
                )
                label.add_class("sh-grid-item")
                row = w.HBox([label, group], layout=looks.box_layout)
                row.add_class("sh-grid-row")
                parts.append(row)
                parts.extend(self._message(name))
        elif q.type in ("note", *HIDDEN_TYPES):
            pass
        else:
            parts.append(self._control(q))
            parts.extend(self._message(q.id))
        box = w.VBox(parts)
        box.add_class("sh-question")
        self._question_boxes[q.id if not q.per_subject else f"{q.id}@{form_page.key}"] = (q, box)
        box.layout.display = None if self.relevant(q) else "none"
        return box

    def _setter(self, name: str) -> Callable[[Any], None]:
        return lambda value: self.set_answer(name, value)

    def _message(self, name: str) -> list[w.Widget]:
        """The message at a question, if there is one (no empty widget: every widget costs the
        page a model to fetch)."""
        text = self.messages.get(name, "")
        return [self._looks.html(f'<div class="sh-error">{_escape(text)}</div>')] if text else []

    def _button(self, label: str, *classes: str) -> w.Button:
        button = w.Button(
            description=label, layout=self._looks.button_layout, style=self._looks.button_style
        )
        for cls in classes:
            button.add_class(cls)
        return button

    def _control(self, q: Question) -> w.Widget:
        lang = self.language
        value = self.respondent.answers.get(q.id)
        control: w.Widget
        if q.type == "single":
            options = choice_options(self.survey.scale(q), q, self.respondent.answers, lang)
            control = ChoiceGroup(
                options,
                value=value,
                on_change=lambda v: self.set_answer(q.id, v),
                looks=self._looks,
            )
        elif q.type == "multiple":
            options = choice_options(self.survey.scale(q), q, self.respondent.answers, lang)
            control = MultiChoice(
                options,
                value=value or (),
                on_change=lambda v: self.set_answer(q.id, v),
                looks=self._looks,
            )
        elif q.type in ("integer", "decimal", "range"):
            control = NumberPad(
                text="" if value is None else str(value),
                decimal=q.type != "integer",
                clear_label=t("clear", lang),
                delete_label=t("delete", lang),
                on_change=lambda text: self._number_typed(q, text),
                looks=self._looks,
            )
        elif q.type == "date":
            control = w.DatePicker(
                value=dt.date.fromisoformat(value) if value else None, description=""
            )
            control.observe(
                lambda change: self.set_answer(
                    q.id, change["new"].isoformat() if change["new"] else None
                ),
                names="value",
            )
        else:  # text
            control = w.Textarea(
                value=value or "", layout=w.Layout(width="95%"), continuous_update=False
            )
            if q.max_length:
                control.placeholder = PLACEHOLDERS.get(q.type, "")
            control.observe(
                lambda change: self.set_answer(q.id, change["new"].strip() or None), names="value"
            )
        if q.read_only and hasattr(control, "disabled"):
            control.disabled = True
        self.controls[q.id] = control
        return control

    def _number_typed(self, q: Question, text: str) -> None:
        if text in ("", "."):
            self.set_answer(q.id, None)
            return
        try:
            value: Any = int(text) if q.type == "integer" else float(text)
        except ValueError:
            self.messages[q.id] = t(
                "integer_invalid" if q.type == "integer" else "number_invalid", self.language
            )
            return
        self.set_answer(q.id, value)

    def _render_review(self) -> list[w.Widget]:
        lang = self.language
        rows: list[w.Widget] = [
            self._looks.html(
                f'<div class="sh-title">{_escape(t("review_title", lang))}</div>'
                f'<div class="sh-hint">{_escape(t("review_hint", lang))}</div>'
            ),
            *self._notice_widget(),
        ]
        answers = clean_answers(self.survey, self.respondent.answers, subjects=self.subject_ids)
        for index in self.visible_pages():
            form_page = self.pages[index]
            title = form_page.page.title.get(lang)
            if form_page.subject is not None:
                title = t(
                    "subject_page", lang, title=title, subject=form_page.subject.label.get(lang)
                )
            lines = []
            for q in form_page.questions:
                if q.type == "note" or not self.relevant(q):
                    continue
                for name, label in self._question_variables(q, form_page):
                    lines.append(
                        f"<tr><td>{_escape(label)}</td><td><b>"
                        f"{_escape(self._answer_text(q, answers.get(name)))}</b></td></tr>"
                    )
            change = self._button(t("change", lang), "sh-small-button")
            change.on_click(lambda _b, index=index: self.go_to(index))
            self.buttons[f"change_{form_page.key}"] = change
            rows.append(
                w.HBox(
                    [self._looks.html(f'<div class="sh-label">{_escape(title)}</div>'), change],
                    layout=self._looks.between_layout,
                )
            )
            rows.append(self._looks.html(f'<table class="sh-review">{"".join(lines)}</table>'))
        back = self._button(t("back", lang), "sh-nav")
        back.on_click(lambda _b: self.back())
        submit = self._button(t("submit", lang), "sh-nav", "sh-primary")
        submit.on_click(lambda _b: self._submit_clicked(submit))
        self.buttons["back"], self.buttons["submit"] = back, submit
        rows.append(w.HBox([back, submit], layout=self._looks.between_layout))
        return rows

    def _submit_clicked(self, button: w.Button) -> None:
        button.disabled = True
        button.description = t("submitting", self.language)
        if not self.submit():
            button.disabled = False
            button.description = t("submit", self.language)

    def _question_variables(self, q: Question, form_page: FormPage) -> list[tuple[str, str]]:
        lang = self.language
        if q.type != "grid":
            return [(q.id, q.label.get(lang))]
        prefix = f"{form_page.subject.id}__" if q.per_subject and form_page.subject else ""
        return [(prefix + item.id, item.label.get(lang)) for item in q.items]

    def _answer_text(self, q: Question, value: Any) -> str:
        lang = self.language
        if value is None:
            return t("not_answered", lang)
        if q.type in ("single", "grid"):
            if value == DONT_KNOW:
                return self.survey.scale(q).dont_know_label.get(lang)
            return self.survey.scale(q).choice(str(value)).label.get(lang)
        if q.type == "multiple":
            scale = self.survey.scale(q)
            return "、".join(scale.choice(v).label.get(lang) for v in value)
        return str(value)

    def _render_thanks(self) -> list[w.Widget]:
        lang = self.language
        again = self._button(t("next_respondent", lang), "sh-nav", "sh-primary")
        again.on_click(lambda _b: self.reset())
        self.buttons["next_respondent"] = again
        return [
            self._looks.html(
                f'<div class="sh-title">{_escape(t("thanks_title", lang))}</div>'
                f'<div class="sh-hint">{_escape(t("thanks_hint", lang))}</div>'
            ),
            again,
        ]


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _close_tree(widget: w.Widget, keep: AbstractSet[int] = frozenset()) -> None:
    """Close a widget and everything inside it, so no old value stays in the kernel or page.

    A widget's own ``layout`` and ``style`` models are closed with it (``Widget.close`` leaves them
    open, and a kiosk renders hundreds of screens a meeting); models whose ``id`` is in ``keep``
    are shared and stay.
    """
    for child in getattr(widget, "children", ()):
        _close_tree(child, keep)
    for name in ("layout", "style"):
        model = getattr(widget, name, None)
        if isinstance(model, w.Widget) and id(model) not in keep:
            model.close()
    widget.close()
