"""Attacks on the served pages at the protocol level: a script on the meeting's network speaking the
widget websocket directly (no browser). Each test shows the attack fails and nothing is stored.

The server is a real ``sanhui serve`` on a private copy of the demo database
(:mod:`tests.serve_support`).
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus

from tests.serve_support import CODE, Server, WidgetClient, page_cookies
from toolkit.collect.app import draft_key
from toolkit.collect.guard import TOKEN_COOKIE, Limits, _clean_unicode, valid_token

LOCKED_OUT = "输入错误次数过多"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(
        tmp_path_factory.mktemp("guard"), "--max-message-kb", "16", "--sessions-per-client", "100"
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def open_form(server: Server, **kwargs) -> WidgetClient:
    client = WidgetClient(server.base, "/form?device=C1", **kwargs)
    assert client.wait(lambda: client.find("Button", description="满意")), client.text()[:500]
    return client


def first_row_click(client: WidgetClient) -> None:
    (first, *_) = client.find("Button", description="满意")
    client.click(first)
    assert client.wait(client.selected), "the tap never came back"
    assert client.wait(lambda: "已保存" in client.text())


# ------------------------------------------------------------------------------------ drafts
def test_another_browser_with_the_same_device_label_gets_no_draft(server):
    ballots = server.ballots()
    tablet = open_form(server)
    token = tablet.cookies[TOKEN_COOKIE]
    assert valid_token(token)
    first_row_click(tablet)
    tablet.close()
    keys = [d["key"] for d in server.drafts()]
    assert draft_key(token) in keys
    assert "C1" not in keys and token not in keys  # neither the label nor the token is stored

    # the attacker knows the label (it is on the tablet's sticker) but not the token
    other = open_form(server)
    assert other.cookies[TOKEN_COOKIE] != token
    other.pump(1.0)
    assert other.selected() == []
    assert "已恢复" not in other.text()
    # a forged token of the right form is just another blank tablet
    forged = dict(other.cookies, **{TOKEN_COOKIE: "A" * 43})
    other.close()
    guess = open_form(server, cookies=forged)
    guess.pump(1.0)
    assert guess.selected() == [] and "已恢复" not in guess.text()
    guess.close()
    # the label as a token (the old key) is not even a token: the server hands out a new one
    label = page_cookies(server.base, "/form?device=C1", {TOKEN_COOKIE: "C1"})
    assert label[TOKEN_COOKIE] != "C1" and valid_token(label[TOKEN_COOKIE])

    # the tablet itself gets its answers back after a reload
    again = open_form(server, cookies=tablet.cookies)
    assert again.wait(lambda: "已恢复" in again.text())
    assert len(again.selected()) == 1
    again.close()
    assert server.ballots() == ballots  # nothing submitted by any of this
    assert len([d for d in server.drafts() if d["key"] == draft_key(token)]) == 1


# ------------------------------------------------------------------------------ access code
def test_forged_keypad_updates_and_clicks_on_the_gate_are_refused_and_limited(server):
    gate = WidgetClient(server.base, "/signin")
    assert gate.wait(lambda: gate.find("Button", description="进入 Enter"))
    (display,) = gate.find("Text")
    (enter,) = gate.find("Button", description="进入 Enter")
    texts = []
    for guess in range(20):
        gate.update(display, value=f"{guess:06d}")  # the disabled display, changed by hand
        gate.click(enter)
        gate.pump(0.05)
        texts.append(gate.text())
    gate.pump(1.0)
    page = gate.text()
    assert "签到 Sign-in" not in page  # never opened
    assert CODE not in json.dumps(gate.widgets, ensure_ascii=False)
    assert LOCKED_OUT in page  # after 5 wrong codes: locked out, with the wait
    # the right code during the lockout does not open the page either
    gate.update(display, value=CODE)
    gate.click(enter)
    gate.pump(1.0)
    assert "签到 Sign-in" not in gate.text()
    gate.close()


def test_wrong_codes_never_open_the_gate(server):
    gate = WidgetClient(server.base, "/board")
    assert gate.wait(lambda: gate.find("Button", description="进入 Enter"))
    (display,) = gate.find("Text")
    (enter,) = gate.find("Button", description="进入 Enter")
    for guess in ("000000", "123456", "246811", CODE + "0", " " + CODE[:-1]):
        gate.update(display, value=guess)
        gate.click(enter)
    gate.pump(1.0)
    assert 'class="sh-board"' not in gate.text()
    assert CODE not in json.dumps(gate.widgets, ensure_ascii=False)
    gate.close()


# ----------------------------------------------------------------------------- message limits
@pytest.mark.parametrize("size", [20 * 1024, 1024 * 1024])
def test_an_oversized_widget_message_closes_that_session_and_nothing_is_stored(server, size):
    """Over the limit (16 KB here): the guard closes the session; far over it (1 MB): the
    websocket layer refuses the frame before reading it whole. Either way: 1009, nothing kept."""
    client = open_form(server)
    before = server.drafts()
    (first, *_) = client.find("Button", description="满意")
    client.update(first, description="x" * size)
    client.pump(2.0)
    assert client.closed_code == 1009  # "message too big"
    assert server.alive()
    assert server.drafts() == before
    if size < 4 * 16 * 1024:
        assert "oversized message" in server.log_path.read_text()
    client.close()
    open_form(server).close()  # everyone else is served as before


def test_widgets_opened_from_the_browser_are_capped(server):
    client = open_form(server)
    answered = 0
    for _ in range(3 * Limits().client_widgets):
        comm_id = f"forged-{answered}-{time.monotonic_ns()}"
        state = {
            "_model_name": "TextModel",
            "_model_module": "@jupyter-widgets/controls",
            "_model_module_version": "2.0.0",
            "_view_name": "TextView",
            "_view_module": "@jupyter-widgets/controls",
            "_view_module_version": "2.0.0",
        }
        client.send(
            "comm_open",
            {
                "comm_id": comm_id,
                "target_name": "jupyter.widget",
                "data": {"state": {**state, "value": "y" * 8000}, "buffer_paths": []},
            },
            {"version": "2.1.0"},  # the widget protocol's version, as the front-end sends it
        )
        client.send("comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}})
        client.pump(0.1)
        answered = sum(1 for c in client.widgets if c.startswith("forged-"))
    client.pump(1.0)
    answered = sum(1 for c in client.widgets if c.startswith("forged-"))
    assert 0 < answered < Limits().client_widgets  # the solara.control comm counts too
    assert "widget beyond the per-session cap" in server.log_path.read_text()
    assert server.alive()
    client.close()


def test_a_lone_surrogate_is_refused_and_the_session_goes_on(server):
    client = WidgetClient(server.base, "/signin")
    assert client.wait(lambda: client.find("Button", description="进入 Enter"))
    (display,) = client.find("Text")
    (seven,) = client.find("Button", description="7")  # a key of the number pad
    raw = json.dumps(
        {
            "header": {"msg_id": "x1", "msg_type": "comm_msg", "session": "s", "version": "5.3"},
            "parent_header": {},
            "metadata": {},
            "content": {
                "comm_id": display,
                "data": {"method": "update", "state": {"value": "\ud800"}, "buffer_paths": []},
            },
            "channel": "shell",
            "buffers": [],
        }
    )
    assert "\\ud800" in raw
    client.send_raw(raw)
    client.click(seven)  # the pad appends to what the display holds
    assert client.wait(lambda: client.widgets[display].get("value") == "7")
    assert client.closed_code is None  # the session still answers, without the bad value
    assert server.alive()
    assert "invalid Unicode" in server.log_path.read_text()
    client.close()


def test_clean_unicode_check():
    assert _clean_unicode({"a": ["好", "ok"]})
    assert not _clean_unicode({"a": {"b": "x\udfff"}})


# ------------------------------------------------------------------------- sessions per client
@pytest.mark.slow
def test_sessions_per_client_are_capped_and_idle_ones_closed(tmp_path):
    server = Server(tmp_path, "--sessions-per-client", "3", "--idle-minutes", "0.05")
    try:
        server.wait_ready()
        ballots = server.ballots()
        clients = [open_form(server) for _ in range(3)]
        with pytest.raises(InvalidStatus) as refused:
            WidgetClient(server.base, "/form?device=C9")
        assert refused.value.response.status_code == 403
        assert "too many sessions" in server.log_path.read_text()
        # idle sessions are closed (3 s without a message) and freed, then a new one is allowed
        time.sleep(4.0)
        for client in clients:
            client.pump(0.5)
            assert client.closed_code is not None
            client.close()
        deadline = time.monotonic() + 20
        while True:
            try:
                fresh = open_form(server)
                break
            except InvalidStatus:
                assert time.monotonic() < deadline, "closed sessions were never freed"
                time.sleep(0.5)
        fresh.close()
        assert server.ballots() == ballots
        assert server.drafts() == []
    finally:
        server.stop()


def test_a_websocket_without_a_session_id_is_refused_without_a_traceback(server):
    for session_id in (None, "", "x" * 200, "a%20b"):
        with pytest.raises(InvalidStatus) as refused:
            WidgetClient(server.base, "/form", run=False, session_id=session_id)
        assert refused.value.response.status_code == 403
    time.sleep(0.5)
    log = server.log_path.read_text()
    assert "Traceback" not in log and "websocket without a session id" in log


def test_a_websocket_from_another_site_is_refused(server):
    with pytest.raises(InvalidStatus) as refused:
        WidgetClient(server.base, "/form", run=False, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    WidgetClient(server.base, "/form", run=False).close()  # the same site is let in
    request = urllib.request.Request(server.base + "/form")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
