"""``sanhui serve --online``: proxy headers believed only from the trusted proxy, the security
headers and secure cookies (in process and on loopback)."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid

import pytest

from toolkit.collect.online import CONTENT_SECURITY_POLICY, OnlineSettings, ProxyGate
from toolkit.errors import ParameterError


class Recorder:
    """An ASGI app that keeps the scope it was called with and answers with a cookie."""

    def __init__(self) -> None:
        self.scope: dict = {}

    async def __call__(self, scope, receive, send):
        self.scope = scope
        if scope["type"] == "http":
            headers = [
                (b"set-cookie", b"t=1; Path=/; HttpOnly"),
                (b"x-frame-options", b"SAMEORIGIN"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})


def call(peer: str, headers: dict[str, str], *, kind: str = "http", trusted=("10.0.0.5",)):
    inner = Recorder()
    gate = ProxyGate(inner, OnlineSettings("https://vote.example.org/", tuple(trusted)))
    scope = {
        "type": kind,
        "path": "/vote",
        "scheme": "ws" if kind == "websocket" else "http",
        "client": (peer, 40000),
        "headers": [(b"host", b"127.0.0.1:9000")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    asyncio.run(gate(scope, receive, send))
    response = {k.decode(): v.decode() for k, v in sent[0]["headers"]} if sent else {}
    return inner.scope, response


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "vote.example.org",
}


def test_forwarded_headers_are_believed_from_the_trusted_proxy():
    scope, _ = call("10.0.0.5", FORWARDED)
    assert scope["client"][0] == "203.0.113.7"
    assert scope["scheme"] == "https"
    assert dict(scope["headers"])[b"host"] == b"vote.example.org"
    assert b"x-forwarded-for" not in dict(scope["headers"])  # nothing further down re-reads them


def test_forwarded_headers_from_anyone_else_are_dropped():
    scope, _ = call("198.51.100.9", FORWARDED)
    assert scope["client"][0] == "198.51.100.9"
    assert scope["scheme"] == "http"
    assert dict(scope["headers"])[b"host"] == b"127.0.0.1:9000"
    assert not any(k.startswith(b"x-forwarded") for k, _ in scope["headers"])


def test_a_phone_cannot_prepend_a_forged_address():
    """The proxy appends the real peer; a forged address the phone sent stays on the left."""
    scope, _ = call("10.0.0.5", {"X-Forwarded-For": "1.2.3.4, 203.0.113.7, 10.0.0.5"})
    assert scope["client"][0] == "203.0.113.7"
    scope, _ = call("10.0.0.5", {"X-Forwarded-For": "not-an-address"})
    assert scope["client"][0] == "10.0.0.5"


def test_websocket_scheme_follows_the_proxy():
    scope, _ = call("10.0.0.5", FORWARDED, kind="websocket")
    assert scope["scheme"] == "wss" and scope["client"][0] == "203.0.113.7"


def test_security_headers_and_secure_cookies():
    _, response = call("198.51.100.9", {})
    assert response["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY  # no outside host may serve anything
    assert response["x-frame-options"] == "DENY"  # replaces what the app sent
    assert response["referrer-policy"] == "no-referrer"
    assert response["strict-transport-security"].startswith("max-age=")
    assert response["set-cookie"].endswith("; Secure")


@pytest.mark.parametrize(
    "url", ["http://vote.example.org", "vote.example.org", "https://", "https://a.org/?x=1"]
)
def test_base_url_must_be_https(url):
    with pytest.raises(ParameterError, match="--base-url"):
        OnlineSettings(url)


def test_trusted_proxy_must_be_an_address():
    with pytest.raises(ParameterError, match="--trusted-proxy"):
        OnlineSettings("https://vote.example.org", ("proxy.local",))
    assert OnlineSettings("https://a.org", ("10.0.0.0/24",)).trusted_proxies == ("10.0.0.0/24",)


# ----------------------------------------------------------------------------------- loopback
@pytest.fixture(scope="module")
def online_server(tmp_path_factory):
    from tests.serve_support import Server

    server = Server(
        tmp_path_factory.mktemp("online"),
        "--online",
        "--base-url",
        "https://vote.example.org",
        "--trusted-proxy",
        "127.0.0.1",
        "--sessions-per-client",
        "1",
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_served_page_has_the_security_headers(online_server):
    request = urllib.request.Request(online_server.base + "/vote")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        cookies = response.headers.get_all("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies)


def _socket(server, forwarded_for: str, origin: str = "https://vote.example.org"):
    """A phone's widget websocket as the proxy passes it on."""
    from websockets.sync.client import connect

    from tests.serve_support import page_cookies

    cookies = page_cookies(server.base, "/vote")
    headers = {
        "Origin": origin,
        "X-Forwarded-Host": "vote.example.org",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": forwarded_for,
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }
    url = (
        server.base.replace("http://", "ws://")
        + f"/jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
    )
    return connect(url, additional_headers=headers, open_timeout=30, legacy=True)


def test_proxy_headers_are_honoured_from_the_trusted_address(online_server):
    """One session per client (``--sessions-per-client 1``): two phones behind the proxy are two
    clients, a second page of the first phone is refused; the Origin check sees the public host."""
    from websockets.exceptions import InvalidStatus

    first = _socket(online_server, "203.0.113.7")
    second = _socket(online_server, "198.51.100.20, 203.0.113.8")
    try:
        with pytest.raises(InvalidStatus):
            _socket(online_server, "203.0.113.7")
        with pytest.raises(InvalidStatus):  # another site's page may not open a socket
            _socket(online_server, "203.0.113.9", origin="https://evil.example.com")
    finally:
        first.close()
        second.close()
