"""The pages ``sanhui serve`` shows (``/form``, ``/signin``, ``/board``, ``/turns``), as Solara routes.

Each page is a thin Solara component around the unchanged ipywidgets classes of this package
(:class:`~toolkit.collect.form.SurveyForm`, :class:`~toolkit.collect.signin.SignInPage`,
:class:`~toolkit.collect.board.LiveBoard`, behind :class:`~toolkit.collect.gate.AccessGate`): the
widget is built once per browser page (one Solara virtual kernel, no Python process per tablet) and
shown with ``solara.display``. Every page uses the one shared :class:`~toolkit.store.Store` of the
server (:func:`toolkit.collect.app.shared_store`).

What a page knows of its browser comes from :mod:`toolkit.collect.guard`, which sits in front of
Solara: the client address (header ``x-sanhui-client``, set by the server, never by the browser)
and the tablet's random token (cookie ``sanhui-tablet``), the key of its draft.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import parse_qsl

import solara
from solara.lab.utils.cookies import cookies as solara_cookies
from solara.lab.utils.headers import headers as solara_headers

from toolkit.collect.app import board_app, form_app, keying_app, signin_app, turns_app
from toolkit.collect.guard import CLIENT_HEADER, TOKEN_COOKIE, valid_token
from toolkit.collect.i18n import t

__all__ = ["Board", "Form", "Keying", "Layout", "Page", "SignIn", "Turns", "Vote", "routes"]

log = logging.getLogger("toolkit.collect.pages")


def _params() -> dict[str, str]:
    router = solara.use_router()
    return dict(parse_qsl(router.search or "", keep_blank_values=False)[:20])


def _client() -> str | None:
    headers = solara_headers.value or {}
    values = headers.get(CLIENT_HEADER) or []
    return values[0] if values else None


def _token() -> str | None:
    cookies = solara_cookies.value or {}
    token = cookies.get(TOKEN_COOKIE)
    return token if token and valid_token(token) else None


def _show(build: Any, language: str = "zh") -> Any:
    """Build the page's widget once for this browser page and display it; on a failure the page
    shows one short sentence and the server log keeps the details."""

    def make() -> Any:
        try:
            return build()
        except Exception:
            log.exception("sanhui: a page could not be built")
            return None

    widget = solara.use_memo(make, dependencies=[])
    if widget is None:
        solara.HTML(tag="div", unsafe_innerHTML=t("page_failed", language))
        return None
    solara.display(getattr(widget, "root", widget))
    return widget


@solara.component_vue("fragment.vue")
def FragmentCode(event_code: Any = None) -> None:
    """Reads ``#code=...`` of a one-time link in the browser and passes it on (no server log, no
    proxy log ever holds the code)."""


@solara.component
def Form() -> None:
    if _online():
        Vote()
        return
    params = _params()
    language = "en" if params.get("lang") == "en" else "zh"
    _show(
        lambda: form_app(
            device=params.get("device"),
            token=_token(),
            language=language,
            client=_client(),
            display=False,
        ),
        language,
    )


@solara.component
def Vote() -> None:
    """``/vote`` (and ``/``, ``/form`` under ``sanhui serve --online``): the ballot on a phone,
    while the meeting's online window is open."""
    from toolkit.collect.vote import vote_app

    params = _params()
    language = "en" if params.get("lang") == "en" else "zh"
    widget = _show(lambda: vote_app(token=_token(), client=_client(), language=language), language)

    def take_code(code: Any) -> None:
        form = getattr(widget, "form", widget)  # a hearing's plan page holds the form
        screen = getattr(getattr(form, "respondent", None), "screen", None)
        if screen == "code" and isinstance(code, str) and len(code) <= 32:
            form.enter_code(code)

    FragmentCode(event_code=take_code)


def _online() -> bool:
    return os.environ.get("SANHUI_ONLINE") == "1"


@solara.component
def SignIn() -> None:
    params = _params()
    _show(lambda: signin_app(code=params.get("code"), client=_client(), display=False))


@solara.component
def Board() -> None:
    params = _params()
    _show(lambda: board_app(code=params.get("code"), client=_client(), display=False))


@solara.component
def Keying() -> None:
    """``/keying`` (only with ``sanhui serve --keying``; the guard answers 404 otherwise)."""
    if os.environ.get("SANHUI_KEYING") != "1":
        solara.HTML(tag="div", unsafe_innerHTML=t("page_failed", "zh"))
        return
    params = _params()
    _show(lambda: keying_app(code=params.get("code"), client=_client(), display=False))


@solara.component
def Turns() -> None:
    """``/turns?code=…``: the secretary's speaking-turn recorder behind the access code."""
    params = _params()
    _show(lambda: turns_app(code=params.get("code"), client=_client(), display=False))


@solara.component
def Page() -> None:
    """``/``: the tablet form (the address the QR code carries); online, the phone ballot."""
    if _online():
        Vote()
    else:
        Form()


@solara.component
def Layout(children: list[Any] | None = None) -> None:
    """No app bar, no side bar: the page is the widget."""
    solara.Column(children=children or [], style={"padding": "0", "gap": "0"})


routes = [
    solara.Route(path="/", component=Page, layout=Layout),
    solara.Route(path="form", component=Form, layout=Layout),
    solara.Route(path="vote", component=Vote, layout=Layout),
    solara.Route(path="signin", component=SignIn, layout=Layout),
    solara.Route(path="board", component=Board, layout=Layout),
    solara.Route(path="keying", component=Keying, layout=Layout),
    solara.Route(path="turns", component=Turns, layout=Layout),
]
