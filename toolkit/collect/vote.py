"""The online ballot (``sanhui serve --online``): the served meeting's form on a resident's phone,
shown only while the meeting's online window is open.

Before the window the page says when it opens, after it that it has closed (times in Shanghai
time, the residents' clock); a meeting without a window is not served online at all.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import ipywidgets as w

from toolkit.collect.app import _meeting, form_app, shared_store
from toolkit.collect.backend import StoreBackend
from toolkit.collect.form import SurveyForm
from toolkit.errors import StoreError
from toolkit.store import Store
from toolkit.store.online import OnlineWindow

__all__ = ["SHANGHAI", "OnlineBackend", "PlanFirst", "vote_app", "window_message"]

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _when(moment: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def window_message(window: OnlineWindow | None, now: datetime | None = None) -> str | None:
    """What the link shows instead of the ballot, or ``None`` while the window is open.

    >>> from datetime import UTC
    >>> win = OnlineWindow("m", datetime(2026, 3, 1, 0, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC))
    >>> window_message(win, datetime(2026, 2, 1, tzinfo=UTC))
    '网上投票尚未开始，将于 2026年3月1日 08:00 开始（北京时间）。'
    >>> window_message(win, datetime(2026, 3, 2, tzinfo=UTC)) is None
    True
    >>> window_message(win, datetime(2026, 3, 9, tzinfo=UTC))
    '网上投票已于 2026年3月8日 08:00 结束，感谢关注。'
    """
    if window is None:
        return "这次会议不在网上投票，请到会场参加。"
    state = window.state(now)
    if state == "before":
        return f"网上投票尚未开始，将于 {_when(window.opens_at)} 开始（北京时间）。"
    if state == "closed":
        return f"网上投票已于 {_when(window.closes_at)} 结束，感谢关注。"
    return None


class OnlineBackend(StoreBackend):
    """Ballots from phones: stored with channel ``online``, and only while the window is open (a
    page opened before the closing cannot submit after it)."""

    def __init__(self, store: Store, *, now: Any = None) -> None:
        super().__init__(store, channel="online")
        self._now = now  # a clock for tests; None: the real time

    def submit_ballot(self, **ballot: Any) -> str:
        meeting = ballot["meeting_id"]
        state = self.store.online_state(meeting, self._now() if self._now else None)
        if state != "open":
            raise StoreError(
                f"meeting `{meeting}`: the online window is {state}; the ballot was not stored."
            )
        return super().submit_ballot(**ballot)


class PlanFirst(w.VBox):
    """A hearing online (云听证): the plan's text and pictures first, then, after one tap on
    "我已阅读", the form with the positions. ``form`` is the :class:`SurveyForm` behind."""

    def __init__(self, form: SurveyForm, window: OnlineWindow) -> None:
        paragraphs = "".join(
            f"<p>{html.escape(line)}</p>" for line in (window.plan_text or "").splitlines() if line
        )
        pictures = "".join(
            f'<img src="data:{kind};base64,{data}" alt="方案图 {n}" '
            'style="max-width:100%;height:auto;margin:8px 0">'
            for n, (kind, data) in enumerate(window.plan_images, start=1)
        )
        plan = w.HTML(
            '<div class="sh-plan" style="font-size:19px;line-height:1.6;padding:12px">'
            f'<div class="sh-title">方案介绍</div>{paragraphs}{pictures}</div>'
        )
        read = w.Button(
            description="我已阅读，开始表态", layout=w.Layout(width="100%", height="64px")
        )
        read.add_class("sh-primary")
        read.add_class("sh-read-plan")
        read.on_click(lambda _b: self.show_form())
        self.form = form
        super().__init__(children=[plan, read])

    def show_form(self) -> None:
        self.children = [self.form.root]


def vote_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    token: str | None = None,
    client: str | None = None,
    language: str = "zh",
    now: datetime | None = None,
) -> Any:
    """The served meeting's ballot for a phone while its online window is open, else one
    sentence saying when it opens or that it has closed. A meeting with a plan (a hearing online)
    shows the plan first (:class:`PlanFirst`)."""
    store = store or shared_store()
    meeting = _meeting(store, meeting)
    message = window_message(store.online_window(meeting), now)
    if message is not None:
        return w.HTML(f'<div class="sh-window" style="font-size:20px;padding:24px">{message}</div>')
    form = form_app(
        store=store,
        meeting=meeting,
        token=token,
        client=client,
        language=language,
        display=False,
        backend=OnlineBackend(store, now=(lambda: now) if now else None),
    )
    window = store.online_window(meeting)
    if window is not None and window.plan_text:
        return PlanFirst(form, window)
    return form
