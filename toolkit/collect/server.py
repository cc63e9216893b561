"""``sanhui serve``: the tablet form, sign-in page and live board from one Python process.

Solara (on Starlette and uvicorn) serves the ipywidgets pages of :mod:`toolkit.collect.pages`: each
browser page gets a light virtual kernel inside this process, not a Python process of its own, and
all of them share one :class:`~toolkit.store.Store`. :class:`~toolkit.collect.guard.Guard` sits in
front: only the served pages, their static files and the widget websocket are answered, front-end
files come from the laptop (``solara-assets``), and every browser is held to the limits of
:class:`~toolkit.collect.guard.Limits`. No Jupyter server, no notebook, no code from the browser: a
Solara page runs no code it is sent, only widget messages.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.collect.guard import KEYING_PAGE, PAGES, Guard, Limits
from toolkit.collect.online import OnlineSettings, ProxyGate
from toolkit.errors import ParameterError, StoreError

__all__ = [
    "ACCESS_CODE_ENV",
    "ServePlan",
    "build_app",
    "hide_tracebacks",
    "local_addresses",
    "plan_serve",
    "run_serve",
    "solara_environment",
    "terminal_qr",
]

#: The environment variable ``sanhui serve`` reads the staff access code from (not visible in ``ps``).
ACCESS_CODE_ENV = "SANHUI_ACCESS_CODE"

log = logging.getLogger("toolkit.collect.server")


@dataclass(frozen=True)
class ServePlan:
    """Everything needed to start the server: where, what, the URLs to print and the limits."""

    meeting: str
    database: str
    host: str
    port: int
    access_code: str
    urls: dict[str, str]
    limits: Limits = field(default_factory=Limits)
    #: also serve the paper-ballot keying page (staff, behind the access code)
    keying: bool = False
    #: set for ``sanhui serve --online`` (phones over the internet, behind a TLS proxy)
    online: OnlineSettings | None = None


def local_addresses() -> list[str]:
    """The machine's IPv4 addresses on the local network (for the URLs tablets type or scan)."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for a UDP connect
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = str(info[4][0])
            if address not in found and not address.startswith("127."):
                found.append(address)
    except OSError:
        pass
    return found or ["127.0.0.1"]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def plan_serve(
    *,
    meeting: str,
    database: str,
    host: str = "0.0.0.0",
    port: int = 8866,
    access_code: str | None = None,
    limits: Limits | None = None,
    keying: bool = False,
    online: OnlineSettings | None = None,
) -> ServePlan:
    """Check the port and settle the access code and URLs (nothing is started)."""
    if not 1 <= port <= 65535:
        raise ParameterError(f"`port` must be in [1, 65535]; got {port!r}.")
    if not _port_free(host, port):
        raise StoreError(
            f"port {port} on {host} is already in use, and the tablets expect a fixed address. "
            f"Stop the other program (perhaps an earlier `sanhui serve`) or choose a port with "
            f"`--port`, then print new slips."
        )
    code = access_code or f"{secrets.randbelow(10**6):06d}"
    shown = local_addresses() if host in ("0.0.0.0", "") else [host]
    base = f"http://{shown[0]}:{port}"
    urls = {
        "form": f"{base}/form?device=A1",
        "signin": f"{base}/signin?code={code}",
        "board": f"{base}/board?code={code}",
        "turns": f"{base}/turns?code={code}",
    }
    if keying:
        urls["keying"] = f"{base}{KEYING_PAGE}?code={code}"
    if online is not None:
        base = online.base_url
        urls = {
            "form": f"{base}/vote",
            "signin": f"{base}/signin",
            "board": f"{base}/board",
        }
    return ServePlan(meeting, database, host, port, code, urls, limits or Limits(), keying, online)


def solara_environment(plan: ServePlan) -> dict[str, str]:
    """The settings Solara reads from the environment when it is imported."""
    return {
        "SOLARA_APP": "toolkit.collect.pages",
        "SOLARA_MODE": "production",  # no reloader, no dev tools, no check against solara.dev
        "SOLARA_THEME_LOADER": "plain",
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_THEME_TITLE": "三会 sanhui",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        # front-end files from the laptop's solara-assets copy; a missing one is never downloaded
        # (the guard answers 404, and the CDN address below goes nowhere)
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",
        "SOLARA_ASSETS_FONTAWESOME_ENABLED": "False",
        # a closed page's session is freed after the idle time
        "SOLARA_KERNEL_CULL_TIMEOUT": f"{max(1, int(plan.limits.idle_seconds))}s",
        "SOLARA_KERNEL_MAX_PER_SESSION": str(plan.limits.sessions_per_client),
        "SANHUI_DB": plan.database,
        "SANHUI_MEETING": plan.meeting,
        "SANHUI_ACCESS_CODE": plan.access_code,
        "SANHUI_KEYING": "1" if plan.keying else "0",
        "SANHUI_ONLINE": "1" if plan.online is not None else "0",
    }


def build_app(plan: ServePlan) -> Guard | ProxyGate:
    """Solara's web app for the plan, behind the guard. Sets the environment first (Solara reads
    its settings when it is imported), so call it before anything imports ``solara.server``."""
    os.environ.update(solara_environment(plan))
    warnings.filterwarnings("ignore", message=r"Cookies with samesite=none require https")
    import solara.server.settings as solara_settings
    import solara.server.starlette as solara_starlette
    from solara.server import kernel_context

    def live_kernels() -> set[str]:
        return set(kernel_context.contexts)

    guard = Guard(
        solara_starlette.app,
        limits=plan.limits,
        cdn_dir=Path(solara_settings.assets.proxy_cache_dir),
        live_kernels=live_kernels,
        pages=(*PAGES, KEYING_PAGE) if plan.keying else PAGES,
    )
    return guard if plan.online is None else ProxyGate(guard, plan.online)


def terminal_qr(text: str) -> str:
    """A QR code of ``text`` drawn with block characters (qrcode's ``print_ascii``), to scan."""
    try:
        import qrcode
    except ImportError:  # pragma: no cover - qrcode is a dependency
        return ""
    qr = qrcode.QRCode(border=1)
    qr.add_data(text)
    qr.make(fit=True)
    drawn = io.StringIO()
    qr.print_ascii(out=drawn)  # qrcode's own half-block drawing, two rows of modules per line
    return drawn.getvalue().rstrip("\n")


class _QuietTraceback:
    """Stands in for :mod:`traceback` inside ``solara.server.app``, which would put the text of an
    error that escapes a page into the browser: the log gets the details, the page one sentence."""

    @staticmethod
    def format_exception(exc_type: Any, value: Any = None, tb: Any = None, **_: Any) -> list[str]:
        from toolkit.collect.i18n import t

        error = value if isinstance(value, BaseException) else None
        if error is not None:
            log.error("sanhui: a page failed", exc_info=(type(error), error, tb))
        return [f"{t('page_failed', 'zh')} {t('page_failed', 'en')}"]


def hide_tracebacks() -> None:
    """No error text reaches a browser (see :class:`_QuietTraceback`)."""
    import solara.server.app as solara_app

    solara_app.traceback = _QuietTraceback  # type: ignore[assignment]


def run_serve(plan: ServePlan, *, echo: bool = True) -> int:
    """Serve until stopped (Ctrl+C or SIGTERM); returns the exit code."""
    import uvicorn

    if echo and plan.online is not None:
        print("三会 sanhui: the online ballot server is starting (behind the TLS proxy).")
        print(f"  phones (手机):       {plan.urls['form']}   (one-time links: sanhui print links)")
        print(f"  listening on:       http://{plan.host}:{plan.port} (the proxy's upstream)")
        print(f"  trusted proxies:    {', '.join(plan.online.trusted_proxies)}")
        print(f"  staff access code:  {plan.access_code}")
        print("Stop with Ctrl+C.", flush=True)
    elif echo:
        print("三会 sanhui: the meeting server is starting (no internet needed).")
        print(f"  tablets (平板):      {plan.urls['form']}   (change A1 to each tablet's label)")
        print(f"  sign-in (签到):      {plan.urls['signin']}")
        print(f"  live board (大屏):   {plan.urls['board']}")
        print(f"  speaking turns (发言记录): {plan.urls['turns']}")
        if plan.keying:
            print(f"  paper keying (录入): {plan.urls['keying']}")
        print(f"  staff access code:  {plan.access_code}")
        qr = terminal_qr(plan.urls["form"])
        if qr:
            print(qr)
        print("Stop with Ctrl+C.", flush=True)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    app = build_app(plan)
    hide_tracebacks()
    config = uvicorn.Config(
        app,
        host=plan.host,
        port=plan.port,
        access_log=False,
        server_header=False,
        # X-Forwarded-* are believed only by ProxyGate, from the configured proxies (online)
        proxy_headers=False,
        loop="asyncio",
        ws="websockets-sansio",
        # frames beyond 4× the limit are refused by uvicorn before they are read whole; the guard
        # refuses (and logs) anything over the limit itself
        ws_max_size=4 * plan.limits.message_bytes,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        from toolkit.collect.app import reset_shared_store

        reset_shared_store()
    return 0 if server.started else 1
