"""The meeting server: ``sanhui serve`` (Solara, one process) against Voilà serving the same form.

``python -m bench.bench_serve [--loads 5] [--hold 20] [--many 100] [--burst 10]``

Both servers run on a private copy of the demo database, on this machine, in the same run. The peer
is Voilà 0.5 (the ``bench`` extra) serving a temporary notebook that displays the same
:class:`~toolkit.collect.form.SurveyForm` (one Python kernel per page, a pool of 4 preheated kernels:
how ``sanhui serve`` ran before). Pages are opened in Debian's Chromium (1024 × 768, touch); every
request off the laptop is blocked and counted.

1. **Open → first tappable choice** (median of ``--loads``, after one load that fills the browser
   cache): from navigation start to the moment the first choice button is visible and hit-testable
   (``elementFromPoint``), measured in the page.
2. **Server CPU per tablet that opens the form**: CPU time (user + system) of the server and every
   process under it (Voilà's kernels, also those already ended) over those loads, divided by their
   number; for Voilà after its pool has refilled (a refill is part of what each tablet costs).
3. **Memory per connected tablet**: resident memory of the server and its processes with
   ``--hold`` pages connected, minus before, per page; and the whole server with ``--many``
   connected pages. Solara's pages here are protocol clients (a script speaking the widget
   websocket as the browser does: the server holds exactly what it holds for a browser); Voilà's
   are browser pages (each holds a kernel; 5 of them, as 100 would not fit).
4. **``--burst`` tablets opening at once**, browsers included: that many browser pages opened at the
   same moment; each one's time to its first tappable choice (median and slowest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CODE = "246810"
TARGETS = {"cpu": 0.3, "mb": 10.0, "many_mb": 1024.0, "open": 1.5, "burst": 15.0}
TAPPABLE = """
window.__tappable = null;
(function loop() {
  const b = document.querySelector('button.sh-choice');
  if (b) {
    const r = b.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) {
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      if (hit && (hit === b || b.contains(hit))) { window.__tappable = performance.now(); return; }
    }
  }
  requestAnimationFrame(loop);
})();
"""
PEER_NOTEBOOK = """\
import os
from toolkit.collect.app import form_app
from toolkit.store import Store

form = form_app(store=Store.open(os.environ["SANHUI_DB"]), meeting=os.environ["SANHUI_MEETING"],
                device="A1")
"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # every host but this machine fails at once (no route: Playwright's routing would also turn
    # the browser cache off); the requests are still seen and counted
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A server process (ours or the peer) and the measurements of its process tree."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], base: str, path: str):
        self.name, self.base, self.path = name, base, path
        #: seconds before the server starts work left for after a page (Voilà's pool refill)
        self.refill_delay = 0.0
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            "w", prefix=f"bench-{name}-", suffix=".log"
        )
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, probe: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} stopped: {Path(self.log.name).read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(self.base + probe, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer")

    def _tree(self) -> list[Any]:
        import psutil

        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def cpu(self) -> float:
        """CPU seconds of the server and its processes, including ended children."""
        total = 0.0
        for index, proc in enumerate(self._tree()):
            with contextlib.suppress(Exception):
                times = proc.cpu_times()
                total += times.user + times.system
                if index == 0:
                    total += times.children_user + times.children_system
        return total

    def rss_mb(self) -> float:
        total = 0
        for proc in self._tree():
            with contextlib.suppress(Exception):
                total += proc.memory_info().rss
        return total / 2**20

    def settle(self, quiet: float = 0.05, timeout: float = 90.0) -> None:
        """Until the tree uses (almost) no CPU for a second (Voilà's pool has refilled)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu()
            time.sleep(1.0)
            if self.cpu() - before < quiet:
                return

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def demo_copy(tmp: Path) -> Path:
    from toolkit.demo import demo_store

    store = demo_store()
    target = tmp / "demo.db"
    with (
        sqlite3.connect(store.url.removeprefix("sqlite:///")) as src,
        sqlite3.connect(target) as dst,
    ):
        src.backup(dst)
    store.close()
    return target


def start_ours(db: Path, tmp: Path, meeting: str) -> Served:
    port = free_port()
    env = dict(os.environ, SANHUI_ACCESS_CODE=CODE, PYTHONPATH=str(ROOT))
    command = [
        *(sys.executable, "-m", "toolkit.cli", "serve", "--database", str(db)),
        *("--host", "127.0.0.1", "--port", str(port), "--sessions-per-client", "1000"),
        *("--meeting", meeting),
    ]
    served = Served("solara", command, env, f"http://127.0.0.1:{port}", "/form?device=A1")
    served.wait_ready("/readyz")
    return served


def start_peer(db: Path, tmp: Path, meeting: str, pool: int = 4) -> Served:
    import nbformat

    folder = tmp / "voila"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PEER_NOTEBOOK)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, folder / "form.ipynb")
    port = free_port()
    env = dict(
        os.environ,
        SANHUI_DB=f"sqlite:///{db}",
        SANHUI_MEETING=meeting,
        PYTHONPATH=str(ROOT),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    command = [
        *(sys.executable, "-m", "voila", str(folder), "--no-browser", "--Voila.ip=127.0.0.1"),
        *(f"--port={port}", "--VoilaConfiguration.show_tracebacks=False"),
        *(
            "--VoilaConfiguration.preheat_kernel=True",
            f"--VoilaConfiguration.default_pool_size={pool}",
        ),
        "--VoilaKernelManager.fill_delay=4",
    ]
    served = Served("voila", command, env, f"http://127.0.0.1:{port}", "/voila/render/form.ipynb")
    served.refill_delay = 6.0  # fill_delay 4 s, then the kernel starts
    served.wait_ready("/voila/render/form.ipynb")  # the first render also warms the pool
    return served


async def _context(browser: Any, blocked: list[str]) -> Any:
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    await context.add_init_script(TAPPABLE)

    def watch(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob") and parts.hostname != "127.0.0.1":
            blocked.append(request.url)

    context.on("request", watch)
    return context


async def _open(context: Any, url: str, timeout: float = 180.0) -> tuple[float, Any]:
    page = await context.new_page()
    await page.goto(url, wait_until="commit", timeout=timeout * 1000)
    await page.wait_for_function("window.__tappable !== null", timeout=timeout * 1000, polling=50)
    return (await page.evaluate("window.__tappable")) / 1000, page


async def loads_and_cpu(served: Served, loads: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    blocked: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        context = await _context(browser, blocked)
        _, page = await _open(context, served.base + served.path)  # fills the cache
        await page.close(run_before_unload=True)
        served.settle()
        times = []
        cpu0 = served.cpu()
        for _ in range(loads):
            seconds, page = await _open(context, served.base + served.path)
            times.append(seconds)
            await asyncio.sleep(0.5)
            await page.close(run_before_unload=True)
        await asyncio.sleep(served.refill_delay)
        served.settle()
        cpu = (served.cpu() - cpu0) / loads
        await browser.close()
    return {"open": statistics.median(times), "opens": times, "cpu": cpu, "blocked": blocked}


async def burst(served: Served, n: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    blocked: list[str] = []
    served.settle()
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        contexts = [await _context(browser, blocked) for _ in range(n)]
        started = time.monotonic()

        async def one(context: Any) -> float:
            try:
                seconds, _page = await _open(context, served.base + served.path)
            except Exception:
                return float("inf")
            return seconds

        times = await asyncio.gather(*(one(c) for c in contexts))
        wall = time.monotonic() - started
        await browser.close()
    return {
        "median": statistics.median(times),
        "slowest": max(times),
        "wall": wall,
        "blocked": blocked,
    }


async def held_browsers(served: Served, n: int) -> float:
    """Resident memory per connected page with ``n`` browser pages held open (the peer)."""
    from playwright.async_api import async_playwright

    blocked: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
        )
        served.settle()
        before = served.rss_mb()
        pages = []
        for _ in range(n):
            context = await _context(browser, blocked)
            pages.append(await _open(context, served.base + served.path))
        served.settle()
        after = served.rss_mb()
        await browser.close()
    return (after - before) / n


def held_clients(served: Served, n: int, clients: list[Any]) -> float:
    """Open ``n`` more protocol-level pages (kept connected); resident MB per page."""
    sys.path.insert(0, str(ROOT))
    from tests.serve_support import WidgetClient

    before = served.rss_mb()
    for _ in range(n):
        client = WidgetClient(served.base, served.path)
        if not client.wait(lambda c=client: c.find("Button", description="满意"), timeout=60):
            raise RuntimeError("a page never arrived")
        clients.append(client)
    time.sleep(1.0)
    return (served.rss_mb() - before) / n


def burst_clients(served: Served, n: int) -> float:
    """Seconds until all of ``n`` protocol-level pages opened at once have their form: the server's
    share of a burst, without browsers competing for the same cores."""
    import threading

    sys.path.insert(0, str(ROOT))
    from tests.serve_support import WidgetClient

    served.settle()
    done: list[float] = []
    clients: list[Any] = []
    start = threading.Barrier(n + 1)

    def one() -> None:
        start.wait()
        t0 = time.monotonic()
        client = WidgetClient(served.base, served.path)
        client.wait(lambda: client.find("Button", description="满意"), timeout=120)
        done.append(time.monotonic() - t0)
        clients.append(client)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return max(done)


def ratio(ours: float, peer: float) -> str:
    return (
        f"{peer / ours:.0f}× less" if ours > 0 and peer > ours else f"{ours / peer:.2f}× of Voilà"
    )


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_serve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--hold", type=int, default=20, help="pages held for memory per page")
    parser.add_argument("--many", type=int, default=100, help="pages held for the whole server")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--peer-hold", type=int, default=5, help="Voilà pages held (kernels)")
    args = parser.parse_args(argv)

    from toolkit.demo import LIVE_MEETING

    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="sanhui-bench-serve-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in ("solara", "voila"):
            (tmp / name).mkdir()
            db = demo_copy(tmp / name)
            start = start_ours if name == "solara" else start_peer
            served = start(db, tmp / name, LIVE_MEETING)
            try:
                r = asyncio.run(loads_and_cpu(served, args.loads))
                b = asyncio.run(burst(served, args.burst))
                r.update(burst=b["median"], burst_slowest=b["slowest"])
                r["blocked"] = len(r["blocked"]) + len(b["blocked"])
                if name == "solara":
                    r["burst_server"] = burst_clients(served, args.burst)
                    clients: list[Any] = []
                    served.settle()
                    base_rss = served.rss_mb()
                    r["mb"] = held_clients(served, args.hold, clients)
                    held_clients(served, args.many - args.hold, clients)
                    r["many_mb"] = served.rss_mb()
                    r["base_mb"] = base_rss
                    for client in clients:
                        client.close()
                else:
                    # the burst's pages were closed with their browser, so Voilà never got their
                    # kernels' shutdown requests; they linger and starve the pool. The memory
                    # stage gets a fresh server, as a meeting laptop would have.
                    served.stop()
                    (tmp / name / "again").mkdir()
                    served = start(db, tmp / name / "again", LIVE_MEETING)
                    r["mb"] = asyncio.run(held_browsers(served, args.peer_hold))
                results[name] = r
                shown = {k: v for k, v in r.items() if k != "opens"}
                print(f"  measured {name}: {json.dumps(shown, default=str)}", flush=True)
            finally:
                served.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ours, peer = results["solara"], results["voila"]
    print(
        f"1 tablet, open → first tappable choice (median of {args.loads}, cached browser): "
        f"Solara {ours['open']:.2f}s, Voilà (pool of 4 preheated kernels) {peer['open']:.2f}s, "
        f"ratio {peer['open'] / ours['open']:.1f}× faster; target ≤ {TARGETS['open']}s: "
        f"{verdict(ours['open'], TARGETS['open'])}"
    )
    print(
        f"server CPU per tablet that opens the form: Solara {ours['cpu']:.2f}s, Voilà "
        f"{peer['cpu']:.2f}s (kernels included), {ratio(ours['cpu'], peer['cpu'])}; "
        f"target ≤ {TARGETS['cpu']}s: {verdict(ours['cpu'], TARGETS['cpu'])}"
    )
    print(
        f"memory per connected tablet: Solara {ours['mb']:.1f} MB ({args.hold} pages), Voilà "
        f"{peer['mb']:.0f} MB ({args.peer_hold} pages, a kernel each), "
        f"{ratio(ours['mb'], peer['mb'])}; target ≤ {TARGETS['mb']:.0f} MB: "
        f"{verdict(ours['mb'], TARGETS['mb'])}"
    )
    print(
        f"{args.many} connected tablets: Solara whole server {ours['many_mb']:.0f} MB (idle "
        f"{ours['base_mb']:.0f} MB); Voilà would need about "
        f"{peer['mb'] * args.many / 1024:.1f} GB at its per-page figure; target ≤ 1 GB: "
        f"{verdict(ours['many_mb'], TARGETS['many_mb'])}"
    )
    print(
        f"{args.burst} tablets opening at once (browsers on the same 2 cores): Solara median "
        f"{ours['burst']:.1f}s, slowest {ours['burst_slowest']:.1f}s; Voilà median "
        f"{peer['burst']:.1f}s, slowest {peer['burst_slowest']:.1f}s; ratio slowest "
        f"{peer['burst_slowest'] / ours['burst_slowest']:.1f}×; target all ≤ {TARGETS['burst']:.0f}s: "
        f"{verdict(ours['burst_slowest'], TARGETS['burst'])}; the server's share (the same "
        f"{args.burst} opened at once by protocol clients, no browsers): all served in "
        f"{ours['burst_server']:.1f}s"
    )
    print(
        f"requests off the laptop (blocked): Solara {ours['blocked']}, Voilà {peer['blocked']}",
    )
    print(
        f"machine: {os.cpu_count()} cores, load average {load_start[0]:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end (other work on the machine slows both servers)",
        flush=True,
    )


if __name__ == "__main__":
    main()
