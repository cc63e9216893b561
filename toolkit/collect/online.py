"""``sanhui serve --online``: the ballot on residents' phones, behind a TLS reverse proxy.

:class:`ProxyGate` is the outermost ASGI middleware (around :class:`~toolkit.collect.guard.Guard`
and Solara's Starlette app):

- ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` are believed only from a
  configured proxy address (``--trusted-proxy``); from anyone else they are removed, so a phone
  cannot pose as another client to the per-client limits. The client is the right-most address of
  ``X-Forwarded-For`` that is not itself a trusted proxy.
- Every response carries ``Content-Security-Policy`` (the page's own files only: no outside script,
  font or frame), ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer`` and
  ``Strict-Transport-Security``; every cookie is made ``Secure``.

Uvicorn's own proxy-header handling is switched off by the server, so this is the one place that
decides whom to believe.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.collect.guard import ASGIApp, Message, Receive, Scope, Send
from toolkit.errors import ParameterError

__all__ = ["CONTENT_SECURITY_POLICY", "OnlineSettings", "ProxyGate", "check_base_url"]

#: What a served page may load: its own files only. Solara's front-end needs inline scripts and
#: styles and compiles Vue templates at run time ('unsafe-eval'); nothing comes from another host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_base_url(url: str) -> str:
    """The public address of the online ballot, ``https://host[:port][/path]`` without a slash at
    the end.

    >>> check_base_url("https://vote.example.org/")
    'https://vote.example.org'
    """
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ParameterError(
            f"`--base-url` must be the public https address of the ballot, such as "
            f"https://vote.example.org; got {url!r}. Phones reach the server only through the "
            f"TLS proxy."
        )
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def _networks(values: Iterable[str]) -> tuple[Network, ...]:
    found = []
    for value in values:
        try:
            found.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ParameterError(
                f"`--trusted-proxy` must be an IP address or network such as 127.0.0.1 or "
                f"10.0.0.0/24; got {value!r}."
            ) from None
    return tuple(found)


@dataclass(frozen=True)
class OnlineSettings:
    """The public address and the proxies whose ``X-Forwarded-*`` headers are believed."""

    base_url: str
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", check_base_url(self.base_url))
        _networks(self.trusted_proxies)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class ProxyGate:
    """ASGI middleware: proxy headers from trusted proxies only, and the security headers."""

    def __init__(self, app: ASGIApp, settings: OnlineSettings) -> None:
        self.app = app
        self.settings = settings
        self.networks = _networks(settings.trusted_proxies)
        self.hsts = b"max-age=31536000"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = self._forwarded(scope)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=self._headers(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, secured)

    def _forwarded(self, scope: Scope) -> Scope:
        peer = (scope.get("client") or ("", 0))[0]
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        plain = [(k, v) for k, v in headers if k.lower() not in _FORWARDED]
        scope = dict(scope, headers=plain)
        if not _trusted(peer, self.networks):
            return scope  # anyone else's X-Forwarded-* is dropped, never believed
        values: dict[bytes, str] = {}
        for key, value in headers:
            key = key.lower()
            if key in _FORWARDED:
                text = value.decode("latin-1")
                values[key] = f"{values[key]}, {text}" if key in values else text
        chain = [a.strip() for a in values.get(b"x-forwarded-for", "").split(",") if a.strip()]
        client = peer
        for address in reversed(chain):
            client = address
            if not _trusted(address, self.networks):
                break
        try:
            client = str(ipaddress.ip_address(client))
        except ValueError:
            client = peer
        scope["client"] = (client, 0)
        proto = values.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto
        host = values.get(b"x-forwarded-host", "").split(",")[-1].strip()
        if host:
            scope["headers"] = [(k, v) for k, v in plain if k.lower() != b"host"] + [
                (b"host", host.encode("latin-1"))
            ]
        return scope

    def _headers(self, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        replaced = {
            b"content-security-policy",
            b"x-frame-options",
            b"referrer-policy",
            b"strict-transport-security",
        }
        out: list[tuple[bytes, bytes]] = []
        for key, value in headers:
            lower = key.lower()
            if lower in replaced:
                continue
            if lower == b"set-cookie":
                value = _secure_cookie(value)
            out.append((key, value))
        out += [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"strict-transport-security", self.hsts),
        ]
        return out


def _secure_cookie(value: bytes) -> bytes:
    """The cookie with ``Secure`` (sent over https only).

    >>> _secure_cookie(b"a=1; Path=/; HttpOnly")
    b'a=1; Path=/; HttpOnly; Secure'
    """
    parts = [p.strip() for p in value.split(b";")]
    if any(p.lower() == b"secure" for p in parts):
        return value
    return value + b"; Secure"
