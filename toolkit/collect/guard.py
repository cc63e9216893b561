"""The gate in front of Solara: what ``sanhui serve`` answers, and the limits on every browser.

:class:`Guard` wraps Solara's web application (an ASGI app) and

- answers only the served pages, their static files and the widget websocket: every other path
  (Jupyter's ``/api/kernels``, ``/lab``, ``/tree``, Voilà's ``/voila``, Solara's ``/resourcez``, ...)
  is a plain 404, and front-end files are served only from the copy installed on the laptop
  (``solara-assets``), never fetched from the internet;
- gives every browser a random token on its first page (cookie ``sanhui-tablet``: ``HttpOnly``,
  ``SameSite=Strict``, kept for a year), the key of that tablet's draft; a browser without the
  token gets a blank form, whatever device label it uses;
- tells the pages the client's address in the header ``x-sanhui-client`` (set here; one sent by the
  browser is dropped), for the attempt limits on codes;
- refuses a websocket from another site (``Origin`` must be this server) and one without the
  ``session_id`` every Solara page sends (Solara itself would fail on it with a traceback);
- caps the live sessions (Solara virtual kernels) per client address, closes a session idle for
  longer than ``idle_seconds``, closes a session that sends a message larger than
  ``message_bytes``, drops widget messages the pages never send (code execution, more than
  ``client_widgets`` widgets opened from the browser) and drops a message with invalid Unicode (a lone
  surrogate) instead of letting it crash the session's handler; each is logged with the client
  address, never with the message's content.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "CLIENT_HEADER",
    "PAGES",
    "TOKEN_COOKIE",
    "Guard",
    "Limits",
    "new_token",
    "valid_token",
]

log = logging.getLogger("toolkit.collect.guard")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The cookie holding a browser's random token (the key of its draft).
TOKEN_COOKIE = "sanhui-tablet"
#: The header through which the pages learn the client's address.
CLIENT_HEADER = "x-sanhui-client"
#: The pages (paths) the server answers; ``sanhui serve --keying`` adds :data:`KEYING_PAGE`.
PAGES = ("/", "/form", "/vote", "/signin", "/board", "/turns")
KEYING_PAGE = "/keying"
_STATIC = ("/static/", "/_solara/cdn/", "/jupyter/nbextensions/")
_WEBSOCKET = re.compile(r"^/jupyter/api/kernels/[A-Za-z0-9-]{8,64}/channels$")
_SESSION_ID = re.compile(r"[A-Za-z0-9-]{8,64}")  # Solara's pages send a UUID
_CLOSE = re.compile(r"^/_solara/api/close/[A-Za-z0-9-]{8,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: Jupyter messages a served page sends; any other type is dropped.
ALLOWED_MESSAGES = frozenset(
    {"kernel_info_request", "comm_info_request", "comm_open", "comm_msg", "comm_close"}
)
TOKEN_MAX_AGE = 365 * 24 * 3600


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe).

    >>> valid_token(new_token())
    True
    """
    return secrets.token_urlsafe(32)


def valid_token(token: str) -> bool:
    """Whether ``token`` has the form of a token this server hands out.

    >>> valid_token("C1"), valid_token("a" * 43)
    (False, True)
    """
    return bool(_TOKEN.match(token))


@dataclass(frozen=True)
class Limits:
    """The limits every browser gets (``sanhui serve`` options)."""

    #: live sessions (open pages, and pages closed less than ``idle_seconds`` ago) per address
    sessions_per_client: int = 12
    #: largest websocket message a page may send, in bytes
    message_bytes: int = 64 * 1024
    #: widgets a page may open from the browser (a served page opens one or two)
    client_widgets: int = 8
    #: a session with no message from its page for this long is closed (its memory freed)
    idle_seconds: float = 1800.0


@dataclass
class _Session:
    client: str
    connected: int = 0
    last: float = 0.0


class Guard:
    """ASGI middleware in front of Solara's app; see the module's description."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits | None = None,
        cdn_dir: Path | None = None,
        live_kernels: Callable[[], set[str]] | None = None,
        pages: tuple[str, ...] = PAGES,
    ) -> None:
        self.app = app
        self.pages = pages
        self.limits = limits or Limits()
        self.cdn_dir = cdn_dir
        self._live_kernels = live_kernels or (lambda: set())
        self._sessions: dict[str, _Session] = {}
        self._static: dict[tuple[str, bytes, bool], tuple[Message, bytes]] = {}
        self._lock = threading.Lock()
        #: what was refused, by reason (tests, logs)
        self.refused: dict[str, int] = {}

    # ------------------------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)

    def _refuse(self, reason: str, client: str, detail: str = "") -> None:
        with self._lock:
            self.refused[reason] = self.refused.get(reason, 0) + 1
        log.warning("sanhui: refused %s from %s %s", reason, client, detail)

    # ------------------------------------------------------------------------------------ HTTP
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        page = path in self.pages and method in ("GET", "HEAD")
        allowed = (
            page
            or (path == "/readyz" and method == "GET")
            or (path.startswith(_STATIC) and method in ("GET", "HEAD") and self._static_ok(path))
            or (method == "POST" and bool(_CLOSE.match(path)))
        )
        if not allowed:
            await _plain(send, 404, b"Not Found")
            return
        static = path.startswith(_STATIC)
        cookie = _cookies(scope).get(TOKEN_COOKIE, "")
        fresh = None if (not page or valid_token(cookie)) else new_token()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if page:
                    headers.append((b"x-frame-options", b"DENY"))
                    headers.append((b"cache-control", b"no-store"))
                elif static and message.get("status") == 200:
                    # a tablet fetches the front-end (several MB) once, not on every page: the
                    # files are versioned by path or query, others are kept for an hour
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", _static_cache(path, scope)))
                if page and fresh is not None:
                    headers.append(
                        (
                            b"set-cookie",
                            f"{TOKEN_COOKIE}={fresh}; Path=/; Max-Age={TOKEN_MAX_AGE}; "
                            "HttpOnly; SameSite=Strict".encode("ascii"),
                        )
                    )
                message = dict(message, headers=headers)
            await send(message)

        if static and method == "GET":
            await self._cached(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _cached(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Front-end files are read and compressed once, then served from memory: compressing
        the 3 MB of JavaScript for every tablet would cost more CPU than the tablet's page."""
        gzip = "gzip" in (_header(scope, b"accept-encoding") or "")
        key = (scope.get("path", ""), scope.get("query_string", b""), gzip)
        with self._lock:
            hit = self._static.get(key)
        if hit is None:
            parts: list[Message] = []

            async def keep(message: Message) -> None:
                parts.append(message)

            await self.app(scope, receive, keep)
            start = next((m for m in parts if m["type"] == "http.response.start"), None)
            body = b"".join(m.get("body", b"") for m in parts if m["type"] == "http.response.body")
            if start is None:
                return
            hit = (dict(start), body)
            if start.get("status") == 200 and len(body) < 8 * 2**20:
                with self._lock:
                    self._static[key] = hit
        start, body = hit
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send(dict(start, headers=headers))
        await send({"type": "http.response.body", "body": body})

    def _static_ok(self, path: str) -> bool:
        """Front-end files: Solara's own, or the laptop's copy of the CDN files (a file that is
        not there is a 404 here, never a download from the internet)."""
        if not path.startswith("/_solara/cdn/"):
            return True
        if self.cdn_dir is None:
            return False
        root = self.cdn_dir.resolve()
        relative = path.removeprefix("/_solara/cdn/")
        candidate = (root / relative).resolve()
        if root not in candidate.parents:
            return False
        if candidate.is_file():
            return True
        return "/" not in relative.strip("/") and (candidate / "__main.js").is_file()

    # ------------------------------------------------------------------------------- websocket
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        path = scope.get("path", "")
        if not _WEBSOCKET.match(path):
            await _deny(send)
            return
        if not _same_origin(scope):
            self._refuse("websocket from another site", client)
            await _deny(send)
            return
        if not _SESSION_ID.fullmatch(_query(scope).get("session_id", "")):
            self._refuse("websocket without a session id", client)  # Solara would answer 500
            await _deny(send)
            return
        kernel_id = path.split("/")[4]
        with self._lock:
            session = self._sessions.get(kernel_id)
            if session is not None and session.client != client:
                session = None
                foreign = True
            else:
                foreign = False
            if session is None and not foreign:
                live = self._live_kernels()
                for known in [k for k, s in self._sessions.items() if s.connected == 0]:
                    if known not in live:
                        del self._sessions[known]
                used = sum(1 for s in self._sessions.values() if s.client == client)
                if used < self.limits.sessions_per_client:
                    session = _Session(client)
                    self._sessions[kernel_id] = session
            if session is not None:
                session.connected += 1
                session.last = time.monotonic()
        if session is None:
            reason = "session of another client" if foreign else "too many sessions"
            self._refuse(reason, client)
            await _deny(send)
            return
        headers = [
            (k, v) for k, v in scope.get("headers", []) if k.lower() != CLIENT_HEADER.encode()
        ]
        headers.append((CLIENT_HEADER.encode(), client.encode("ascii", "replace")))
        scope = dict(scope, headers=headers)
        try:
            await self.app(scope, self._receiver(receive, send, session), send)
        finally:
            with self._lock:
                session.connected -= 1

    def _receiver(self, receive: Receive, send: Send, session: _Session) -> Receive:
        limits = self.limits
        state = {"widgets": 0, "closed": False}

        async def close(code: int) -> Message:
            if not state["closed"]:
                state["closed"] = True
                with contextlib.suppress(Exception):  # the socket may already be gone
                    await send({"type": "websocket.close", "code": code})
            return {"type": "websocket.disconnect", "code": code}

        async def guarded() -> Message:
            while True:
                if state["closed"]:
                    return {"type": "websocket.disconnect", "code": 1000}
                try:
                    message = await asyncio.wait_for(receive(), timeout=limits.idle_seconds)
                except TimeoutError:
                    self._refuse("idle session", session.client, "(closed)")
                    return await close(4000)
                if message.get("type") != "websocket.receive":
                    return message
                session.last = time.monotonic()
                text = message.get("text")
                data = message.get("bytes")
                size = len(text.encode("utf-8", "surrogatepass")) if text is not None else 0
                size = size or len(data or b"")
                if size > limits.message_bytes:
                    self._refuse("oversized message", session.client, f"({size} bytes)")
                    return await close(1009)
                if text is None:
                    # the served pages send text only; binary widget buffers are not used
                    self._refuse("binary message", session.client)
                    continue
                verdict = self._check(text, state)
                if verdict is None:
                    return message
                self._refuse(verdict, session.client)

        return guarded

    def _check(self, text: str, state: dict[str, Any]) -> str | None:
        """Why a page's message is dropped, or ``None`` to pass it on."""
        try:
            msg = json.loads(text)
        except ValueError:
            return "message that is not JSON"
        if not isinstance(msg, dict) or not isinstance(msg.get("header"), dict):
            return "message without a header"
        msg_type = msg["header"].get("msg_type")
        if msg_type not in ALLOWED_MESSAGES:
            return f"message of type {str(msg_type)[:40]!r}"
        if not _clean_unicode(msg):
            return "message with invalid Unicode"
        if msg_type == "comm_open":
            state["widgets"] += 1
            if state["widgets"] > self.limits.client_widgets:
                return "widget beyond the per-session cap"
        return None


def _clean_unicode(value: Any) -> bool:
    """False when a string anywhere in ``value`` holds a lone surrogate (not encodable as UTF-8).

    >>> _clean_unicode({"a": ["ok", "好"]}), _clean_unicode({"a": "\\ud800"})
    (True, False)
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _static_cache(path: str, scope: Scope) -> bytes:
    """How long a browser keeps a front-end file: a day when its version is in the address
    (``@1.2.3/`` or ``?v=hash``), an hour otherwise.

    >>> _static_cache("/_solara/cdn/requirejs@2.3.6/require.js", {})
    b'public, max-age=86400'
    >>> _static_cache("/jupyter/nbextensions/jupyter-vue/nodeps.js", {})
    b'public, max-age=3600'
    """
    versioned = "@" in path or b"v=" in scope.get("query_string", b"")
    return b"public, max-age=86400" if versioned else b"public, max-age=3600"


def _cookies(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        if key.lower() == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, content = part.strip().partition("=")
                if name and name not in found:
                    found[name] = content
    return found


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query(scope: Scope) -> dict[str, str]:
    """The query string's parameters (the first value of each)."""
    raw = scope.get("query_string", b"").decode("latin-1")
    return {k: v[0] for k, v in parse_qs(raw).items()}


def _same_origin(scope: Scope) -> bool:
    """A websocket must come from a page of this server (no other site may open one)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True  # not a browser (a script on the network has no page to abuse)
    host = _header(scope, b"host")
    return bool(host) and urlsplit(origin).netloc.lower() == str(host).lower()


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _deny(send: Send) -> None:
    """Refuse a websocket before it opens (the browser sees HTTP 403)."""
    await send({"type": "websocket.close", "code": 1008})
