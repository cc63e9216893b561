"""The three served apps, built on the server's one shared store.

``sanhui serve`` sets the store and the meeting through the environment (``SANHUI_DB``,
``SANHUI_MEETING``, ``SANHUI_ACCESS_CODE``); every page of every tablet then uses the same
:class:`~toolkit.store.Store` (one engine, one connection pool: :func:`shared_store`). The Solara pages
(:mod:`toolkit.collect.pages`) pass in what they know of the browser: the device label from the
address, the tablet's random token (the key of its draft) and the client address (for the attempt
limits of codes). Opened in JupyterLab the same calls preview the apps on a private copy of the demo
database (the notebook passes the store and the meeting in), so a preview never touches real
ballots.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from toolkit.collect.backend import StoreBackend
from toolkit.collect.board import LiveBoard
from toolkit.collect.form import Subject, SurveyForm
from toolkit.collect.gate import AccessGate
from toolkit.collect.signin import SignInPage
from toolkit.errors import StoreError
from toolkit.instrument.model import Survey, Text
from toolkit.store import Store

__all__ = [
    "board_app",
    "draft_key",
    "form_app",
    "keying_app",
    "reset_shared_store",
    "shared_store",
    "signin_app",
    "turns_app",
    "valid_device",
]

_DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_lock = threading.Lock()
_shared: Store | None = None
_meetings: dict[tuple[int, str], _MeetingSetup] = {}


@dataclass(frozen=True)
class _MeetingSetup:
    survey: Survey
    subjects: tuple[Subject, ...]
    ballot_codes: bool


def valid_device(label: str | None) -> str | None:
    """The device label if it is a plain short label (``A1``, ``tablet-07``), else ``None``.

    >>> valid_device("C1"), valid_device("<b>"), valid_device(None)
    ('C1', None, None)
    """
    return label if label and _DEVICE.match(label) else None


def draft_key(token: str) -> str:
    """The key a tablet's draft is stored under: a hash of its random token, so the database never
    holds a token a browser could present.

    >>> draft_key("x" * 43)[:7], len(draft_key("x" * 43))
    ('tablet-', 71)
    """
    return "tablet-" + hashlib.sha256(token.encode("ascii")).hexdigest()


def shared_store() -> Store:
    """The one store of this process, opened on first use from ``SANHUI_DB`` (set by
    ``sanhui serve``)."""
    global _shared
    with _lock:
        if _shared is None:
            url = os.environ.get("SANHUI_DB")
            if not url:
                raise StoreError(
                    "no store to serve: `sanhui serve` sets SANHUI_DB; in a notebook pass "
                    "`store=` (for a preview, `toolkit.demo.demo_store()`)."
                )
            _shared = Store.open(url)
        return _shared


def reset_shared_store() -> None:
    """Close the shared store (tests, and the server when it stops)."""
    global _shared
    with _lock:
        if _shared is not None:
            _shared.close()
        _shared = None
        _meetings.clear()


def _meeting(store: Store, meeting: str | None) -> str:
    meeting = meeting or os.environ.get("SANHUI_MEETING")
    if meeting:
        return meeting
    frame = store.meetings()
    open_evaluations = frame[(frame["status"] == "open") & (frame["kind"] == "evaluation")]
    if open_evaluations.empty:
        raise StoreError(
            "no meeting to serve: start the server with `sanhui serve --meeting ID` "
            "(list meetings with `sanhui demo`)."
        )
    return str(open_evaluations.iloc[-1]["meeting_id"])


def _setup(store: Store, meeting: str) -> _MeetingSetup:
    """The instrument, subjects and code rule of a meeting, read once per process."""
    with _lock:
        found = _meetings.get((id(store), meeting))
    if found is not None:
        return found
    record = store.meeting(meeting)
    setup = _MeetingSetup(
        store.instrument(record.instrument_id, record.instrument_version),
        tuple(Subject(s.id, Text(s.label_zh, s.label_en)) for s in record.subjects),
        store.meeting_uses_ballot_codes(meeting),
    )
    with _lock:
        _meetings[(id(store), meeting)] = setup
    return setup


def _display(widget: Any) -> None:
    from IPython.display import display

    display(widget)


def form_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    device: str | None = None,
    token: str | None = None,
    language: str = "zh",
    client: str | None = None,
    display: bool = True,
    backend: StoreBackend | None = None,
) -> SurveyForm:
    """The tablet form of the served meeting.

    ``device`` (``?device=A3``) is a label for paradata and staff only. ``token`` is the tablet's
    random token (kept by its browser): the draft is saved under it and restored only for it, so
    another browser using the same label starts with a blank form. Without a token no draft is kept.
    ``backend``: how ballots reach the store (default :class:`StoreBackend`, channel ``tablet``).
    ``store`` and ``meeting`` default to the served ones (:func:`shared_store`, ``SANHUI_MEETING``).
    """
    store = store or shared_store()
    meeting = _meeting(store, meeting)
    setup = _setup(store, meeting)
    form = SurveyForm(
        setup.survey,
        store=backend or StoreBackend(store),
        meeting=meeting,
        subjects=setup.subjects,
        language="en" if language == "en" else "zh",
        device=valid_device(device),
        draft_key=draft_key(token) if token else None,
        ballot_codes=setup.ballot_codes,
        client=client,
    )
    if display:
        _display(form.root)
    return form


def _gated(
    build: Any,
    *,
    title: str,
    code: str | None,
    access_code: str | None,
    client: str | None,
    display: bool,
) -> AccessGate:
    expected = access_code or os.environ.get("SANHUI_ACCESS_CODE", "")

    def open_page() -> None:
        gate.children = [build()]

    gate = AccessGate(expected, on_open=open_page, title=title, client=client)
    if code:
        gate.try_code(code)
    if display:
        _display(gate)
    return gate


def signin_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    code: str | None = None,
    access_code: str | None = None,
    client: str | None = None,
    display: bool = True,
) -> AccessGate:
    """The staff sign-in page behind the access code (``access_code``, default
    ``SANHUI_ACCESS_CODE``; without one the gate never opens). ``code``: from ``?code=``."""
    store = store or shared_store()
    meeting = _meeting(store, meeting)
    return _gated(
        lambda: SignInPage(store, meeting, client=client),
        title="签到",
        code=code,
        access_code=access_code,
        client=client,
        display=display,
    )


def keying_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    code: str | None = None,
    access_code: str | None = None,
    client: str | None = None,
    display: bool = True,
) -> AccessGate:
    """Double entry of paper ballots (:class:`~toolkit.collect.keying.KeyingApp`) behind the
    access code; served by ``sanhui serve --keying``."""
    from toolkit.collect.keying import KeyingApp

    store = store or shared_store()
    meeting = _meeting(store, meeting)
    return _gated(
        lambda: KeyingApp(store, meeting).widget,
        title="纸质选票录入",
        code=code,
        access_code=access_code,
        client=client,
        display=display,
    )


def board_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    code: str | None = None,
    access_code: str | None = None,
    client: str | None = None,
    display: bool = True,
    interval: float = 3.0,
) -> AccessGate:
    """The live board behind the access code, refreshing every ``interval`` seconds."""
    store = store or shared_store()
    meeting = _meeting(store, meeting)

    def build() -> LiveBoard:
        board = LiveBoard(store, meeting, interval=interval)
        board.start()
        return board

    return _gated(
        build,
        title="结果大屏",
        code=code,
        access_code=access_code,
        client=client,
        display=display,
    )


def turns_app(
    *,
    store: Store | None = None,
    meeting: str | None = None,
    code: str | None = None,
    access_code: str | None = None,
    client: str | None = None,
    display: bool = True,
) -> AccessGate:
    """The secretary's speaking-turn recorder behind the access code (``?code=``); seat buttons
    for the people checked in (:func:`toolkit.collect.turns.seats_from_roster`)."""
    from toolkit.collect.turns import TurnRecorder, seats_from_roster

    store = store or shared_store()
    meeting = _meeting(store, meeting)
    return _gated(
        lambda: TurnRecorder(
            store, meeting, seats=seats_from_roster(store, meeting), device="secretary"
        ),
        title="发言记录",
        code=code,
        access_code=access_code,
        client=client,
        display=display,
    )
