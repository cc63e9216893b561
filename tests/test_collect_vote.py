"""The phone ballot (toolkit/collect/vote.py): the online window, channel ``online``, one ballot per
one-time code, and a used code that says so."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from toolkit.collect.app import reset_shared_store
from toolkit.collect.guard import new_token
from toolkit.collect.vote import vote_app
from toolkit.demo import LIVE_MEETING, demo_store

ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
OPENS = datetime(2026, 3, 1, tzinfo=UTC)
CLOSES = datetime(2026, 3, 8, tzinfo=UTC)


@pytest.fixture
def store():
    store = demo_store()
    reset_shared_store()
    store.set_online_window(LIVE_MEETING, OPENS, CLOSES)
    yield store
    reset_shared_store()
    store.close()


def phone(store, now=OPENS + timedelta(days=1)):
    return vote_app(store=store, meeting=LIVE_MEETING, token=new_token(), now=now)


def answer(form):
    for subject in ("juweihui", "wuye"):
        for item in (*ITEMS, "overall"):
            form.controls[f"{subject}__{item}"].buttons[0].click()
        assert form.next()
    while form.screen == "page":
        assert form.next()
    form.buttons["submit"].click()


def channels(store):
    with store.engine.connect() as connection:
        return [
            r[0]
            for r in connection.exec_driver_sql(
                "SELECT mode FROM submissions WHERE meeting_id = ?", (LIVE_MEETING,)
            )
        ]


def test_outside_the_window_the_link_says_when(store):
    before = phone(store, OPENS - timedelta(minutes=1))
    assert "尚未开始，将于 2026年3月1日 08:00 开始" in before.value
    assert "已于 2026年3月8日 08:00 结束" in phone(store, CLOSES).value
    store.close()


def test_without_a_window_the_meeting_is_not_online():
    store = demo_store()
    try:
        assert "不在网上投票" in vote_app(store=store, meeting=LIVE_MEETING).value
    finally:
        store.close()


def test_an_online_ballot_is_stored_with_channel_online(store):
    form = phone(store)
    assert type(form).__name__ == "SurveyForm"
    answer(form)
    assert form.screen == "thanks"
    assert channels(store) == ["online"]


def test_a_page_left_open_cannot_submit_after_the_closing(store):
    late = vote_app(store=store, meeting=LIVE_MEETING, token=new_token(), now=CLOSES - timedelta(1))
    late.store._now = lambda: CLOSES  # the resident finishes after the closing
    answer(late)
    assert late.screen != "thanks"
    assert channels(store) == []


def test_one_ballot_per_code_and_a_used_code_says_so(store):
    code, other = store.issue_ballot_codes(LIVE_MEETING, 2)
    first = phone(store)
    assert first.screen == "code"
    assert first.enter_code(code)
    answer(first)
    assert first.screen == "thanks"
    again = phone(store)
    assert not again.enter_code(code)
    assert "已经投过票" in again.notice
    assert not again.enter_code("99999999")
    assert "不正确" in again.notice
    assert again.enter_code(other)
    assert channels(store) == ["online"]


def test_a_hearing_online_shows_the_plan_before_the_positions():
    from pathlib import Path

    from toolkit.instrument.loader import load_survey

    store = demo_store()
    try:
        hearing = load_survey(Path(__file__).resolve().parents[1] / "surveys" / "hearing.yaml")
        store.create_meeting("h-online", kind="hearing", title="加装电梯听证会", instrument=hearing)
        store.set_online_window("h-online", OPENS, CLOSES)
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
        store.set_online_plan("h-online", "方案一：<b>东侧</b>加装电梯\n方案二：西侧", [png])
        page = vote_app(store=store, meeting="h-online", token=new_token(), now=OPENS)
        plan = page.children[0].value
        assert "&lt;b&gt;东侧&lt;/b&gt;" in plan  # shown as typed, never as HTML
        assert plan.count("<p>") == 2 and 'src="data:image/png;base64,' in plan
        assert page.form.screen == "page" and page.form.root not in page.children
        page.children[1].click()  # 我已阅读，开始表态
        assert page.children == (page.form.root,)
        assert {"option_1", "option_2"} <= set(page.form.controls)  # the positions follow
    finally:
        store.close()


def test_codes_are_rate_limited_per_phone(store):
    """The shared attempt limiter, keyed by the phone's address (behind the proxy: the address
    ProxyGate took from X-Forwarded-For)."""
    code = store.issue_ballot_codes(LIVE_MEETING, 1)[0]
    client = f"203.0.113.{uuid.uuid4().int % 200 + 20}"
    guesser = vote_app(store=store, meeting=LIVE_MEETING, client=client, now=OPENS)
    for guess in range(5):
        assert not guesser.enter_code(f"1000000{guess}")
    assert "输入错误次数过多" in guesser.notice
    assert not guesser.enter_code(code)  # locked: even the right code is refused
    other = vote_app(store=store, meeting=LIVE_MEETING, client="198.51.100.77", now=OPENS)
    assert other.enter_code(code)
