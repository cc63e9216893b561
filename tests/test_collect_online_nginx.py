"""The nginx configuration of docs/online.md, run: two ``sanhui serve --online`` workers on one
PostgreSQL store behind Debian's nginx on loopback.

The ``upstream`` and ``location`` of the documented configuration are used as written; the test
only swaps the TLS ``listen``/certificate lines for a loopback port, points the log into the test
directory and logs which worker answered (``$upstream_addr``), so the test knows which worker a
phone sticks to. That worker is then killed (SIGKILL) and the phone, reconnecting through nginx
with its own cookies, must reach the other worker and get its draft back.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.ci_support import skip_or_fail
from tests.serve_support import CODE, ROOT, WidgetClient, free_port, page_cookies
from tests.store_support import PG_URL, require_postgres
from toolkit.demo import LIVE_MEETING, build_demo
from toolkit.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DOCS = ROOT / "docs" / "online.md"


def documented_nginx() -> str:
    """The first ``nginx`` block of docs/online.md (the two-worker configuration)."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    return blocks[0]


def loopback_config(documented: str, *, tmp: Path, listen: int, workers: tuple[int, int]) -> str:
    """The documented block on a loopback port (no TLS), inside a minimal main configuration."""
    block = documented.replace("127.0.0.1:8701", f"127.0.0.1:{workers[0]}")
    block = block.replace("127.0.0.1:8702", f"127.0.0.1:{workers[1]}")
    block, tls = re.subn(r"    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{listen};\n", block)
    block, certs = re.subn(r"    ssl_certificate(_key)? [^\n]*\n", "", block)
    block, logs = re.subn(
        r"access_log /var/log/nginx/sanhui.log;", f"access_log {tmp}/access.log upstream;", block
    )
    assert (tls, certs, logs) == (1, 2, 1), "docs/online.md's nginx block changed: update the test"
    temp = "\n".join(
        f"    {name}_temp_path {tmp}/{name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"{temp}\n"
        "    log_format upstream '$request_uri $status $upstream_addr';\n"
        f"{block}}}\n"
    )


def start_worker(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SANHUI_ACCESS_CODE=CODE, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    command = [
        *(sys.executable, "-m", "toolkit.cli", "serve", "--database", url),
        *("--host", "127.0.0.1", "--port", str(port), "--meeting", LIVE_MEETING),
        *("--online", "--base-url", "https://vote.example.org", "--trusted-proxy", "127.0.0.1"),
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{base} stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not answer:\n{log.read_text()}")


@pytest.fixture
def database() -> Iterator[str]:
    require_postgres()
    schema = f"sanhui_nginx_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        with Store.open(url) as store:
            build_demo(store)
            now = datetime.now(UTC)
            store.set_online_window(
                LIVE_MEETING, now - timedelta(hours=1), now + timedelta(hours=1)
            )
        yield url
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def behind_nginx(database: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        skip_or_fail("nginx is not installed", "install Debian's nginx to run this test.")
    ports = (free_port(), free_port())
    workers: dict[int, subprocess.Popen[bytes]] = {}
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for port in ports:
            log = tmp_path / f"worker{port}.log"
            workers[port] = start_worker(database, port, log)
        for port in ports:
            wait_ready(f"http://127.0.0.1:{port}", workers[port], tmp_path / f"worker{port}.log")
        listen = free_port()
        config = tmp_path / "nginx.conf"
        config.write_text(
            loopback_config(documented_nginx(), tmp=tmp_path, listen=listen, workers=ports)
        )
        assert nginx is not None
        check = subprocess.run(
            [nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        proxy = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{listen}"
        wait_ready(base, proxy, tmp_path / "error.log")
        yield {"base": base, "workers": workers, "tmp": tmp_path}
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=30)
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_two_workers_behind_nginx_sticky_secure_and_failover(behind_nginx: dict[str, Any]) -> None:
    base, workers, tmp = behind_nginx["base"], behind_nginx["workers"], behind_nginx["tmp"]
    # a page through the proxy, with the security headers
    with urllib.request.urlopen(base + "/vote", timeout=30) as response:
        assert response.status == 200
        headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"

    # a phone answers one rating through the proxy: its draft is saved
    cookies = page_cookies(base, "/vote")
    phone = WidgetClient(base, "/vote", cookies=cookies)
    assert phone.wait(lambda: phone.find("Button", description="满意"), timeout=60)
    phone.click(phone.find("Button", description="满意")[0])
    assert phone.wait(lambda: "已保存" in phone.text(), timeout=30)
    assert phone.selected() == phone.find("Button", description="满意")[:1]

    # the worker nginx keeps this phone on (every /vote request went to the same one: sticky)
    lines = (tmp / "access.log").read_text().splitlines()
    pages = [line.split()[-1] for line in lines if line.startswith("/vote ")]
    assert len(pages) >= 2 and len(set(pages)) == 1, lines
    sticky = int(pages[0].rsplit(":", 1)[1])
    other = next(port for port in workers if port != sticky)

    # kill that worker; the phone reconnects through nginx to the other one and gets its draft back
    workers[sticky].send_signal(signal.SIGKILL)
    workers[sticky].wait(timeout=30)
    phone.close()
    again = WidgetClient(base, "/vote", cookies=phone.cookies)
    try:
        assert again.wait(lambda: "已恢复" in again.text() and again.selected(), timeout=60)
        # the same answer: the first item's 满意, and nothing else
        assert again.selected() == again.find("Button", description="满意")[:1]
    finally:
        again.close()

    def page_lines() -> list[str]:
        lines = (tmp / "access.log").read_text().splitlines()
        return [line for line in lines if line.startswith("/vote ")]

    before = len(page_lines())
    with urllib.request.urlopen(base + "/vote", timeout=30) as response:
        assert response.status == 200
    # the page request just made: nginx writes its log line after the response, so wait for it
    deadline = time.monotonic() + 10
    while len(page_lines()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(page_lines()) > before, (tmp / "access.log").read_text()
    assert page_lines()[-1].split()[-1].endswith(f":{other}"), page_lines()
    assert workers[other].poll() is None
