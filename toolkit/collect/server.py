"""``sanhui serve``: Voilà on the form, sign-in and board notebooks, for tablets on the local network.

Only the three app notebooks are served (copied into a private runtime folder, so no analysis notebook
and no JupyterLab is reachable). Sources are stripped, tracebacks hidden, a kernel pool is preheated so
a tablet gets its form at once, idle kernels are culled, every kernel locks itself against code from
the browser (:mod:`toolkit.collect.lockdown`), and the page template loads nothing from the internet.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from toolkit.errors import ParameterError, StoreError

__all__ = [
    "APP_NOTEBOOKS",
    "FILL_DELAY_SECONDS",
    "ServePlan",
    "local_addresses",
    "plan_serve",
    "run_serve",
]

#: The notebooks ``sanhui serve`` serves, by URL name, and the file in ``notebooks/`` each comes from.
APP_NOTEBOOKS = {
    "form.ipynb": "30_tablet_form.ipynb",
    "signin.ipynb": "31_sign_in.ipynb",
    "board.ipynb": "32_live_board.ipynb",
}

SHARE = Path(str(resources.files("toolkit.collect") / "share"))

#: Seconds Voilà waits before it starts a kernel to refill the pool after a tablet took one. Starting
#: a kernel costs about two seconds of CPU; at once (0 s) it competes with the page that is opening,
#: on a laptop with two cores, and delays its first tappable button by about a second.
FILL_DELAY_SECONDS = 4.0


@dataclass(frozen=True)
class ServePlan:
    """Everything needed to start the server: the command, its environment and the URLs to print."""

    command: tuple[str, ...]
    env: dict[str, str]
    runtime_dir: Path
    urls: dict[str, str]
    access_code: str
    #: the folder Voilà serves (``runtime_dir/apps``): the three app notebooks and nothing else
    served_dir: Path


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
    notebooks_dir: Path,
    runtime_dir: Path,
    host: str = "0.0.0.0",
    port: int = 8866,
    access_code: str | None = None,
    pool_size: int = 4,
    cull_idle_seconds: int = 1800,
) -> ServePlan:
    """Prepare the runtime folder and the Voilà command line (nothing is started)."""
    if not 1 <= port <= 65535:
        raise ParameterError(f"`port` must be in [1, 65535]; got {port!r}.")
    if not _port_free(host, port):
        raise StoreError(
            f"port {port} on {host} is already in use, and the tablets expect a fixed address. "
            f"Stop the other program (perhaps an earlier `sanhui serve`) or choose a port with "
            f"`--port`, then print new slips."
        )
    served_dir = runtime_dir / "apps"
    if served_dir.exists():
        shutil.rmtree(served_dir)  # only what this run copies is served
    served_dir.mkdir(parents=True)
    for served, source in APP_NOTEBOOKS.items():
        path = notebooks_dir / source
        if not path.exists():
            raise StoreError(
                f"{path} is missing; it is part of the repository. Restore it with git."
            )
        shutil.copyfile(path, served_dir / served)
    code = access_code or f"{secrets.randbelow(10**6):06d}"
    # the served kernel (toolkit.collect.kernel: no pyarrow, no debugger) under the name the
    # notebooks ask for, visible only to this server through its Jupyter path
    from toolkit.collect.kernel import kernel_spec

    kernels = runtime_dir / "share" / "kernels" / "python3"
    kernels.mkdir(parents=True, exist_ok=True)
    (kernels / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "SANHUI_DB": database,
            "SANHUI_MEETING": meeting,
            "SANHUI_ACCESS_CODE": code,
            # our page template (no CDN) and kernelspec are found through the Jupyter data path
            "JUPYTER_PATH": os.pathsep.join(
                [str(runtime_dir / "share"), str(SHARE), env.get("JUPYTER_PATH", "")]
            ).rstrip(os.pathsep),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    pools = {
        "default": {"pool_size": 1},
        str(served_dir / "form.ipynb"): {"pool_size": pool_size},
        "form.ipynb": {"pool_size": pool_size},
    }
    command = (
        sys.executable,
        "-m",
        "voila",
        str(served_dir),
        "--no-browser",
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",  # never move silently to another port
        "--template=sanhui",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.preheat_kernel=True",
        f"--VoilaConfiguration.default_pool_size={pool_size}",
        f"--VoilaKernelManager.kernel_pools_config={json.dumps(pools)}",
        f"--VoilaKernelManager.fill_delay={FILL_DELAY_SECONDS}",
        # syntax highlighting of code cells: sources are stripped, so one script less per page
        '--VoilaConfiguration.extension_denylist=["jupyterlab_pygments"]',
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_seconds}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
    )
    shown = local_addresses() if host in ("0.0.0.0", "") else [host]
    base = f"http://{shown[0]}:{port}"
    urls = {
        "form": f"{base}/voila/render/form.ipynb?device=A1",
        "signin": f"{base}/voila/render/signin.ipynb?code={code}",
        "board": f"{base}/voila/render/board.ipynb?code={code}",
    }
    return ServePlan(command, env, runtime_dir, urls, code, served_dir)


def terminal_qr(text: str) -> str:
    """A QR code of ``text`` drawn with block characters, for phones and tablets to scan."""
    try:
        import qrcode
    except ImportError:  # pragma: no cover - qrcode is a dependency
        return ""
    qr = qrcode.QRCode(border=1)
    qr.add_data(text)
    qr.make(fit=True)
    rows = qr.get_matrix()
    lines = []
    for top, bottom in zip(rows[0::2], [*rows[1::2], [False] * len(rows[0])], strict=False):
        line = ""
        for a, b in zip(top, bottom, strict=False):
            line += "█" if a and b else "▀" if a else "▄" if b else " "
        lines.append(line)
    return "\n".join(lines)


def run_serve(plan: ServePlan, *, echo: bool = True, extra_args: Sequence[str] = ()) -> int:
    """Start Voilà in the foreground and return its exit code (Ctrl+C stops it)."""
    if echo:
        print("三会 sanhui: the meeting server is starting (no internet needed).")
        print(f"  tablets (平板):      {plan.urls['form']}   (change A1 to each tablet's label)")
        print(f"  sign-in (签到):      {plan.urls['signin']}")
        print(f"  live board (大屏):   {plan.urls['board']}")
        print(f"  staff access code:  {plan.access_code}")
        qr = terminal_qr(plan.urls["form"])
        if qr:
            print(qr)
        print("Stop with Ctrl+C.", flush=True)
    process = subprocess.Popen([*plan.command, *extra_args], env=plan.env)

    def stop(_signum: int, _frame: object) -> None:
        # a service manager (or a test) stopping `sanhui serve` stops Voilà and its kernels too
        process.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
