"""A real ``sanhui serve`` on a private demo database, and a client that speaks the served pages'
widget protocol directly (what a script on the meeting's network could send, without a browser)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.store import Store

ROOT = Path(__file__).resolve().parents[1]
CODE = "246810"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``sanhui serve`` in a subprocess, on a private copy of the demo database."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        source = demo_store()
        self.db = tmp / "demo.db"
        with source.engine.connect() as connection:  # a file copy of the demo database
            raw = connection.connection.driver_connection
            target = __import__("sqlite3").connect(self.db)
            raw.backup(target)  # type: ignore[union-attr]
            target.close()
        source.close()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "serve.log"
        self.log = self.log_path.open("w")
        env = dict(os.environ, SANHUI_ACCESS_CODE=CODE, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "toolkit.cli",
                "serve",
                "--database",
                str(self.db),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("sanhui serve stopped:\n" + self.log_path.read_text())
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("sanhui serve did not answer:\n" + self.log_path.read_text())

    def alive(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/readyz", timeout=5) as response:
                return response.status == 200 and self.process.poll() is None
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def ballots(self) -> int:
        with Store.open(self.db) as store:
            return len(store.responses(LIVE_MEETING, include_void=True))

    def drafts(self) -> list[dict[str, Any]]:
        with Store.open(self.db) as store, store.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT device, answers FROM drafts").fetchall()
        return [{"key": r[0], "answers": r[1]} for r in rows]


def page_cookies(base: str, path: str, cookies: dict[str, str] | None = None) -> dict[str, str]:
    """Open a page as a browser would and return its cookies (the server's new ones added)."""
    jar = dict(cookies or {})
    request = urllib.request.Request(base + path)
    if jar:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
    with urllib.request.urlopen(request, timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(header)
            for key, morsel in parsed.items():
                jar[key] = morsel.value
    return jar


def _message(
    msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "username": "",
            "session": uuid.uuid4().hex,
            "date": "",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": metadata or {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


class WidgetClient:
    """One page over the widget websocket, as the Solara front-end speaks it: it asks for the
    page, keeps the state of every widget the server sends, and can click and change widgets."""

    def __init__(
        self,
        base: str,
        path: str = "/form",
        *,
        cookies: dict[str, str] | None = None,
        run: bool = True,
        origin: str | None = None,
        session_id: str | None = "new",
    ) -> None:
        self.base = base
        self.path = path
        self.cookies = cookies if cookies is not None else page_cookies(base, path)
        self.kernel_id = str(uuid.uuid4())
        url = base.replace("http://", "ws://") + f"/jupyter/api/kernels/{self.kernel_id}/channels"
        if session_id is not None:  # None: leave it out, as no Solara page does
            url += f"?session_id={uuid.uuid4() if session_id == 'new' else session_id}"
        headers = {"Origin": origin or base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = connect(
            url,
            additional_headers=headers,
            max_size=None,
            open_timeout=30,
            ping_interval=None,  # a held page is not read from: no keepalive of its own
            max_queue=None,  # and frames keep being taken in, so the server's pings are answered
            legacy=True,
        )
        self.widgets: dict[str, dict[str, Any]] = {}
        self.closed_code: int | None = None
        self.control = str(uuid.uuid4())
        if run:
            self.send("kernel_info_request", {})
            self.send(
                "comm_open", {"comm_id": self.control, "target_name": "solara.control", "data": {}}
            )
            args = {"path": path, "dark": False, "themes": {}, "appName": None}
            self.send(
                "comm_msg", {"comm_id": self.control, "data": {"method": "run", "args": args}}
            )

    # --------------------------------------------------------------------------------- sending
    def send(
        self, msg_type: str, content: dict[str, Any], metadata: dict[str, Any] | None = None
    ) -> None:
        self.send_raw(json.dumps(_message(msg_type, content, metadata)))

    def send_raw(self, text: str) -> None:
        self.ws.send(text)

    def click(self, comm_id: str) -> None:
        data = {"method": "custom", "content": {"event": "click"}}
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def update(self, comm_id: str, **state: Any) -> None:
        data = {"method": "update", "state": state, "buffer_paths": []}
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    # ------------------------------------------------------------------------------- receiving
    def pump(self, seconds: float = 0.2) -> None:
        """Read what the server sent for ``seconds`` (or until the socket closes)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                raw = self.ws.recv(timeout=left)
            except TimeoutError:
                return
            except Exception as error:  # closed by the server
                code = getattr(getattr(error, "rcvd", None), "code", None)
                self.closed_code = code if code is not None else -1
                return
            if isinstance(raw, bytes):
                continue
            self._take(json.loads(raw))

    def _take(self, msg: dict[str, Any]) -> None:
        kind = msg.get("header", {}).get("msg_type")
        content = msg.get("content", {})
        comm_id = content.get("comm_id")
        data = content.get("data", {})
        if kind == "comm_open" and comm_id:
            self.widgets[comm_id] = dict(data.get("state", {}))
        elif kind == "comm_msg" and comm_id and data.get("method") == "update":
            self.widgets.setdefault(comm_id, {}).update(data.get("state", {}))
        elif kind == "comm_close" and comm_id:
            self.widgets.pop(comm_id, None)

    def wait(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            if self.closed_code is not None:
                break
            self.pump(0.1)
        return predicate()

    def find(self, model: str, **state: Any) -> list[str]:
        """Ids of the live widgets of a model (``Button``, ``Text``, ``HTML``) with this state."""
        return [
            comm_id
            for comm_id, s in self.widgets.items()
            if s.get("_model_name") == f"{model}Model"
            and all(s.get(k) == v for k, v in state.items())
        ]

    def text(self) -> str:
        """Everything the page shows as text (HTML values and button labels)."""
        parts = []
        for s in self.widgets.values():
            if s.get("_model_name") in ("HTMLModel", "LabelModel"):
                parts.append(str(s.get("value", "")))
            if s.get("_model_name") == "ButtonModel":
                parts.append(str(s.get("description", "")))
        return "\n".join(parts)

    def selected(self) -> list[str]:
        return [
            c
            for c, s in self.widgets.items()
            if s.get("_model_name") == "ButtonModel" and "sh-selected" in s.get("_dom_classes", [])
        ]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
