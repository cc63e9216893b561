"""The three served apps, one call each from the notebooks ``sanhui serve`` serves.

Each reads the meeting and the store from the environment that ``sanhui serve`` sets (``SANHUI_DB``,
``SANHUI_MEETING``, ``SANHUI_ACCESS_CODE``) and the page's query string (``?device=A3``, ``?code=…``),
displays its widget, then locks the kernel so the browser cannot run code
(:func:`toolkit.collect.lockdown.lock_kernel`). Opened in JupyterLab (not under Voilà) they work the
same, with the query string taken from ``SANHUI_QUERY`` (for previews and notebook tests).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl

from toolkit.collect.backend import StoreBackend
from toolkit.collect.board import LiveBoard
from toolkit.collect.form import Subject, SurveyForm
from toolkit.collect.gate import AccessGate
from toolkit.collect.lockdown import lock_kernel
from toolkit.collect.signin import SignInPage
from toolkit.errors import StoreError
from toolkit.instrument.model import Text
from toolkit.store import Store

__all__ = ["board_app", "form_app", "request_params", "signin_app"]

_DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def request_params() -> dict[str, str]:
    """The page's query parameters. Under a preheated Voilà kernel this waits for the request."""
    if "VOILA_BASE_URL" in os.environ or "VOILA_PREHEAT" in os.environ:
        from voila.utils import wait_for_request

        wait_for_request()
        query = os.environ.get("QUERY_STRING", "")
    else:
        query = os.environ.get("SANHUI_QUERY", "")
    return {k: v for k, v in parse_qsl(query, keep_blank_values=False)[:20]}


def _store() -> Store:
    """The served store; outside ``sanhui serve`` (a preview in JupyterLab, a notebook test) a fresh
    copy of the deterministic demo database, so a preview never touches real ballots."""
    url = os.environ.get("SANHUI_DB")
    if url:
        return Store.open(url)
    from toolkit.demo import demo_store

    return demo_store()


def _meeting(store: Store) -> str:
    meeting = os.environ.get("SANHUI_MEETING")
    if meeting:
        return meeting
    if not os.environ.get("SANHUI_DB"):
        from toolkit.demo import LIVE_MEETING

        return LIVE_MEETING
    frame = store.meetings()
    open_evaluations = frame[(frame["status"] == "open") & (frame["kind"] == "evaluation")]
    if open_evaluations.empty:
        raise StoreError(
            "no meeting to serve: start the server with `sanhui serve --meeting ID` "
            "(list meetings with `sanhui demo`)."
        )
    return str(open_evaluations.iloc[-1]["meeting_id"])


def _display(widget: Any) -> None:
    from IPython.display import display

    display(widget)


def form_app(*, display: bool = True) -> SurveyForm:
    """The tablet form for the served meeting; the device label comes from ``?device=``.

    The form is built and displayed *before* waiting for the request: in a preheated Voilà kernel
    that happens while the kernel sits in the pool, so when a tablet opens the page only the device
    label is set (and its saved draft restored, if any) and the page is sent at once.
    """
    store = _store()
    meeting = _meeting(store)
    record = store.meeting(meeting)
    survey = store.instrument(record.instrument_id, record.instrument_version)
    subjects = [Subject(s.id, Text(s.label_zh, s.label_en)) for s in record.subjects]
    form = SurveyForm(
        survey,
        store=StoreBackend(store),
        meeting=meeting,
        subjects=subjects,
        language="zh",
        device=None,
        ballot_codes=store.meeting_uses_ballot_codes(meeting),
    )
    if display:
        _display(form.root)
    params = request_params()
    device = params.get("device", "")
    if params.get("lang") == "en":
        form.set_language("en")
    form.set_device(device if _DEVICE.match(device) else None)
    lock_kernel()
    return form


def _gated(build: Any, *, title: str, display: bool) -> AccessGate:
    expected = os.environ.get("SANHUI_ACCESS_CODE", "")
    holder: dict[str, Any] = {}

    def open_page() -> None:
        page = build()
        holder["page"] = page
        gate.children = [page]

    gate = AccessGate(expected, on_open=open_page, title=title)
    code = request_params().get("code")
    if code:
        gate.try_code(code)
    if display:
        _display(gate)
    lock_kernel()
    return gate


def signin_app(*, display: bool = True) -> AccessGate:
    """The staff sign-in page behind the access code."""
    store = _store()
    meeting = _meeting(store)
    return _gated(lambda: SignInPage(store, meeting), title="签到", display=display)


def board_app(*, display: bool = True, interval: float = 3.0) -> AccessGate:
    """The live board behind the access code, refreshing every ``interval`` seconds."""
    store = _store()
    meeting = _meeting(store)

    def build() -> LiveBoard:
        board = LiveBoard(store, meeting, interval=interval)
        board.start()
        return board

    return _gated(build, title="结果大屏", display=display)
