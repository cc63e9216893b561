"""The state of the tablet form: its screens, the respondent's answers, navigation, checks,
submission and drafts, without widgets.

Split from :mod:`toolkit.collect.form`, whose :class:`~toolkit.collect.form.SurveyForm` draws this
state as ipywidgets (it implements the display hooks :meth:`FormState.render`,
:meth:`FormState._refresh_relevance` and :meth:`FormState._update_status`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.collect.attempts import AttemptLimiter, Locked, locked_message
from toolkit.collect.i18n import t
from toolkit.collect.xlsform_controls import metadata_paradata, recalculate
from toolkit.errors import AnswerError, ConflictError, Problem, ToolkitError
from toolkit.instrument.answers import check_answers, clean_answers, is_relevant
from toolkit.instrument.model import Page, Question, Survey, Text

__all__ = ["FormBackend", "FormPage", "FormState", "Subject", "form_pages"]


@dataclass(frozen=True)
class Subject:
    """An evaluated party of a meeting (居委会, 物业, ...): meeting data, not instrument data."""

    id: str
    label: Text


class FormBackend(Protocol):
    """What the form needs from a store (:class:`toolkit.store.Store` provides it).

    In the draft methods ``device`` is the draft's key: the form passes its ``draft_key`` (the
    store's drafts table calls the column ``device``), never the device label.
    """

    def submit_ballot(
        self,
        *,
        submission_id: str,
        meeting_id: str,
        answers: Mapping[str, Any],
        device: str | None,
        started_at: dt.datetime,
        submitted_at: dt.datetime,
        paradata: Mapping[str, Any],
        ballot_code: str | None,
    ) -> str: ...

    def save_draft(
        self, *, device: str, submission_id: str, meeting_id: str, state: Mapping[str, Any]
    ) -> None: ...

    def load_draft(self, *, device: str, meeting_id: str) -> dict[str, Any] | None: ...

    def discard_draft(self, *, device: str, meeting_id: str) -> None: ...

    def ballot_code_usable(self, *, meeting_id: str, code: str) -> bool: ...


@dataclass(frozen=True)
class FormPage:
    """One screen of questions: an instrument page, or one subject's copy of a per-subject page."""

    page: Page
    questions: tuple[Question, ...]
    subject: Subject | None = None

    @property
    def key(self) -> str:
        return self.page.id if self.subject is None else f"{self.page.id}__{self.subject.id}"


def form_pages(survey: Survey, subjects: Sequence[Subject]) -> tuple[FormPage, ...]:
    """The screens of a survey: a page holding a per-subject grid repeats for every subject
    (its other questions are asked once, on the first copy)."""
    pages: list[FormPage] = []
    for page in survey.pages:
        if not any(q.per_subject for q in page.questions):
            pages.append(FormPage(page, page.questions))
            continue
        for index, subject in enumerate(subjects):
            questions = tuple(q for q in page.questions if q.per_subject or index == 0)
            pages.append(FormPage(page, questions, subject))
    return tuple(pages)


@dataclass
class _Respondent:
    """Everything about the resident now holding the tablet; replaced whole on reset."""

    submission_id: str
    started_at: dt.datetime
    answers: dict[str, Any] = field(default_factory=dict)
    screen: str = "page"  # "code", "page", "review", "thanks"
    page_index: int = 0
    page_seconds: dict[str, float] = field(default_factory=dict)
    entered: float = 0.0
    ballot_code: str | None = None
    stored: bool = False


class FormState:
    """The form without its widgets: what :class:`~toolkit.collect.form.SurveyForm` shows.

    The subclass sets the attributes below in its ``__init__`` and implements the display hooks.
    """

    survey: Survey
    store: FormBackend | None
    meeting: str | None
    subjects: tuple[Subject, ...]
    language: str
    device: str | None
    draft_key: str | None
    client: str | None
    ballot_codes: bool
    pages: tuple[FormPage, ...]
    messages: dict[str, str]
    status: str
    status_failed: bool
    notice: str
    respondent: _Respondent
    _attempts: AttemptLimiter
    _clock: Callable[[], dt.datetime]
    _timer: Callable[[], float]

    # ----------------------------------------------------------------------------- display hooks
    def render(self) -> None:
        """Show the current screen (the subclass draws it)."""
        raise NotImplementedError

    def _refresh_relevance(self) -> None:
        """Show or hide questions after an answer changed relevance (the subclass draws it)."""
        raise NotImplementedError

    def _update_status(self) -> None:
        """Show :attr:`status` (the subclass draws it)."""
        raise NotImplementedError

    # ----------------------------------------------------------------------------- state
    def _new_respondent(self) -> _Respondent:
        return _Respondent(
            submission_id=str(uuidlib.uuid4()),
            started_at=self._clock(),
            screen="code" if self.ballot_codes else "page",
            entered=self._timer(),
        )

    @property
    def screen(self) -> str:
        """The current screen: ``"code"``, ``"page"``, ``"review"`` or ``"thanks"``."""
        return self.respondent.screen

    @property
    def answers(self) -> dict[str, Any]:
        """The current respondent's answers (a copy), as the store will receive them."""
        return dict(self.respondent.answers)

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.subjects)

    def visible_pages(self) -> list[int]:
        """Indices of the pages whose page-level relevance holds now."""
        visible = []
        for index, form_page in enumerate(self.pages):
            page = form_page.page
            if page.relevant is None or self._relevant_page(page):
                visible.append(index)
        return visible

    def _relevant_page(self, page: Page) -> bool:
        questions = [q for q in page.questions if q.type != "note"] or list(page.questions)
        if not questions:
            return True
        return any(is_relevant(self.survey, q, self.respondent.answers) for q in questions)

    def relevant(self, question: Question) -> bool:
        """Whether a question is shown now (its own and its page's relevance)."""
        return is_relevant(self.survey, question, self.respondent.answers)

    def set_answer(self, variable: str, value: Any) -> None:
        """Record one answer (``None``, ``""`` or ``[]`` clears it), save the draft, re-render
        what skip logic changes."""
        answers = self.respondent.answers
        if value is None or value == "" or value == []:
            answers.pop(variable, None)
        else:
            answers[variable] = value
        self.messages.pop(variable, None)
        for name in [m for m in self.messages if m.startswith(f"{variable}[")]:
            del self.messages[name]  # a repeat's messages, per instance
        recalculate(self.survey, answers)
        self._save_draft()
        self._refresh_relevance()

    # ----------------------------------------------------------------------------- navigation
    def _leave_page(self) -> None:
        r = self.respondent
        if r.screen == "page":
            key = self.pages[r.page_index].key
            r.page_seconds[key] = r.page_seconds.get(key, 0.0) + self._timer() - r.entered
        r.entered = self._timer()

    def _page_problems(self, index: int) -> list[Problem]:
        form_page = self.pages[index]
        names = self._page_variables(form_page)
        problems = check_answers(
            self.survey,
            clean_answers(self.survey, self.respondent.answers, subjects=self.subject_ids),
            subjects=self.subject_ids,
            language=self.language,
        )
        # a repeat's problems name the instance: `member[2].age`
        return [p for p in problems if p.field in names or (p.field or "").split("[")[0] in names]

    def _page_variables(self, form_page: FormPage) -> set[str]:
        names: set[str] = set()
        for q in form_page.questions:
            repeat = form_page.page.repeat_of(q)
            if repeat is not None:
                names.add(repeat)  # the repeat's answers travel under its id
            elif q.type == "grid":
                prefix = f"{form_page.subject.id}__" if q.per_subject and form_page.subject else ""
                names |= {prefix + item.id for item in q.items}
            elif q.type != "note":
                names.add(q.id)
        return names

    def _show_problems(self, problems: Sequence[Problem]) -> None:
        self.messages = {}
        for p in problems:
            if p.field and p.field not in self.messages:
                self.messages[p.field] = p.message

    def next(self) -> bool:
        """Check the current page; advance (to the review page after the last) if it passes."""
        r = self.respondent
        if r.screen != "page":
            return False
        problems = self._page_problems(r.page_index)
        if problems:
            self._show_problems(problems)
            self.render()
            return False
        self.messages = {}
        self._leave_page()
        later = [i for i in self.visible_pages() if i > r.page_index]
        if later:
            r.page_index = later[0]
        else:
            r.screen = "review"
        self._save_draft()
        self.render()
        return True

    def back(self) -> None:
        """Go to the previous shown page (from the review page, to the last page)."""
        r = self.respondent
        self._leave_page()
        visible = self.visible_pages()
        if r.screen == "review":
            r.screen = "page"
            r.page_index = visible[-1] if visible else 0
        elif r.screen == "page":
            earlier = [i for i in visible if i < r.page_index]
            if earlier:
                r.page_index = earlier[-1]
        self.messages = {}
        self.render()

    def go_to(self, index: int) -> None:
        """Jump to a page (the review page's "修改" buttons)."""
        self._leave_page()
        self.respondent.screen = "page"
        self.respondent.page_index = index
        self.messages = {}
        self.render()

    def enter_code(self, code: str) -> bool:
        """Check a one-time ballot code and start the ballot if it can be used.

        Attempts are limited per client: after 5 wrong or used codes every code is refused for a
        growing wait (:mod:`toolkit.collect.attempts`), and the page says so."""
        code = code.strip().upper()
        wait = 0.0
        if not code:
            usable = False
        else:
            try:
                self._attempts.begin("ballot", self.client)
            except Locked as locked:
                self.notice = locked_message(locked.wait, self.language)
                self.render()
                return False
            usable = (
                self.store is None
                or self.meeting is None
                or self.store.ballot_code_usable(meeting_id=self.meeting, code=code)
            )
            if usable:
                self._attempts.succeeded("ballot", self.client)
            else:
                wait = self._attempts.failed("ballot", self.client)
        if not usable:
            status = getattr(self.store, "ballot_code_status", None)
            used = (
                not wait
                and bool(code)
                and callable(status)
                and self.meeting is not None
                and status(meeting_id=self.meeting, code=code) == "used"
            )
            self.notice = (
                locked_message(wait, self.language)
                if wait
                else t("code_used" if used else "code_invalid", self.language)
            )
            self.render()
            return False
        self.respondent.ballot_code = code
        self.respondent.screen = "page"
        self.respondent.entered = self._timer()
        self.notice = ""
        self.render()
        return True

    def submit(self) -> bool:
        """Check every page and store the ballot once; a second tap changes nothing."""
        r = self.respondent
        if r.stored:
            return True
        if r.screen not in ("review", "page"):
            return False
        self._leave_page()
        answers = clean_answers(self.survey, r.answers, subjects=self.subject_ids)
        problems = check_answers(
            self.survey, answers, subjects=self.subject_ids, language=self.language
        )
        if problems:
            first = self._first_page_with(problems)
            self._show_problems(problems)
            r.screen, r.page_index = "page", first
            self.notice = t("rejected", self.language)
            self.render()
            return False
        if self.store is not None and self.meeting is not None:
            try:
                self.store.submit_ballot(
                    submission_id=r.submission_id,
                    meeting_id=self.meeting,
                    answers=answers,
                    device=self.device,
                    started_at=r.started_at,
                    submitted_at=(now := self._clock()),
                    paradata={
                        "page_seconds": dict(r.page_seconds),
                        "language": self.language,
                        **metadata_paradata(self.survey, r.started_at, now, self.device),
                    },
                    ballot_code=r.ballot_code,
                )
            except AnswerError as error:
                self._show_problems(error.problems)
                self.notice = t("rejected", self.language)
                self.render()
                return False
            except ConflictError:
                # same UUID, other answers: never overwrite; start a fresh ballot id for a retry
                r.submission_id = str(uuidlib.uuid4())
                self.notice = t("submit_failed", self.language)
                self.render()
                return False
            except (ToolkitError, OSError, Exception):  # database locked, disk full, ...
                self.notice = t("submit_failed", self.language)
                self.status, self.status_failed = t("save_failed", self.language), True
                self.render()
                return False
            self._discard_draft()
        r.stored = True
        r.screen = "thanks"
        self.notice = ""
        self.render()
        return True

    def _first_page_with(self, problems: Sequence[Problem]) -> int:
        fields = {p.field for p in problems}
        for index in self.visible_pages():
            if self._page_variables(self.pages[index]) & fields:
                return index
        return self.respondent.page_index

    def reset(self) -> None:
        """Forget the respondent entirely and show a fresh first page (kiosk use)."""
        self.respondent = self._new_respondent()
        self.messages, self.notice, self.status = {}, "", ""
        self.status_failed = False
        self.render()

    def set_device(self, device: str | None) -> None:
        """Change the device label recorded with the next ballot (a label only: drafts are keyed
        by ``draft_key``)."""
        self.device = device

    def set_language(self, language: str) -> None:
        """Switch between Chinese and English; answers stay."""
        self.language = language
        self.render()

    # ----------------------------------------------------------------------------- drafts
    def _draft_state(self) -> dict[str, Any]:
        r = self.respondent
        return {
            "answers": r.answers,
            "screen": r.screen,
            "page_index": r.page_index,
            "page_seconds": r.page_seconds,
            "started_at": r.started_at.isoformat(),
            "ballot_code": r.ballot_code,
        }

    def _save_draft(self) -> None:
        if self.store is None or self.draft_key is None or self.meeting is None:
            return
        try:
            self.store.save_draft(
                device=self.draft_key,
                submission_id=self.respondent.submission_id,
                meeting_id=self.meeting,
                state=self._draft_state(),
            )
        except Exception:  # a failed draft save must not lose the answer on screen
            self.status, self.status_failed = t("save_failed", self.language), True
        else:
            self.status, self.status_failed = t("saved", self.language), False
        self._update_status()

    def _restore_draft(self) -> None:
        if self.store is None or self.draft_key is None or self.meeting is None:
            return
        draft = self.store.load_draft(device=self.draft_key, meeting_id=self.meeting)
        if not draft:
            return
        state = draft.get("state", {})
        r = self.respondent
        r.submission_id = str(draft.get("submission_id", r.submission_id))
        r.answers = dict(state.get("answers", {}))
        r.page_seconds = dict(state.get("page_seconds", {}))
        r.ballot_code = state.get("ballot_code")
        screen = state.get("screen", "page")
        r.screen = screen if screen in ("page", "review") else "page"
        if r.ballot_code is None and self.ballot_codes:
            r.screen = "code"
        index = int(state.get("page_index", 0))
        r.page_index = index if 0 <= index < len(self.pages) else 0
        started = state.get("started_at")
        if started:
            r.started_at = dt.datetime.fromisoformat(started)
        self.notice = t("restored", self.language)

    def _discard_draft(self) -> None:
        if self.store is None or self.draft_key is None or self.meeting is None:
            return
        # the ballot is stored; a stale draft is harmless and replaced by the next respondent's
        with contextlib.suppress(Exception):
            self.store.discard_draft(device=self.draft_key, meeting_id=self.meeting)
