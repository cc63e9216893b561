"""``sanhui serve`` planning: a fixed port, only the app notebooks, no sources, no tracebacks, no CDN,
the slim served kernel, and a clean stop. (The served pages themselves: test_collect_browser.py.)"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.collect.kernel import LAUNCHER, LEFT_OUT
from toolkit.collect.server import APP_NOTEBOOKS, SHARE, plan_serve
from toolkit.errors import StoreError

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = SHARE / "voila" / "templates" / "sanhui"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plan(tmp_path: Path, **kwargs):
    kwargs.setdefault("port", free_port())
    return plan_serve(
        meeting="M1",
        database="sqlite:////tmp/x.db",
        notebooks_dir=ROOT / "notebooks",
        runtime_dir=tmp_path / "serve",
        host="127.0.0.1",
        **kwargs,
    )


def option(command, name: str) -> str:
    (value,) = [a.split("=", 1)[1] for a in command if a.startswith(f"--{name}=")]
    return value


def test_fixed_port_and_never_a_silent_move(tmp_path):
    port = free_port()
    planned = plan(tmp_path, port=port)
    assert option(planned.command, "port") == str(port)
    assert option(planned.command, "Voila.port_retries") == "0"
    assert all(f":{port}/" in url for url in planned.urls.values())


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StoreError, match=rf"port {port} .*already in use.*--port"):
            plan(tmp_path, port=port)


def test_port_out_of_range(tmp_path):
    with pytest.raises(Exception, match="port"):
        plan(tmp_path, port=70000)


def test_only_the_three_app_notebooks_are_served(tmp_path):
    first = plan(tmp_path)
    (first.served_dir / "99_analysis.ipynb").write_text("{}")  # left from somewhere
    planned = plan(tmp_path)
    assert planned.command[3] == str(planned.served_dir)
    assert sorted(p.name for p in planned.served_dir.iterdir()) == sorted(APP_NOTEBOOKS)
    for served, source in APP_NOTEBOOKS.items():
        assert (planned.served_dir / served).read_bytes() == (
            ROOT / "notebooks" / source
        ).read_bytes()
    # the kernelspec lives beside the served folder, not in it
    assert not (planned.served_dir / "share").exists()


def test_missing_app_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="missing"):
        plan_serve(
            meeting="M1",
            database="sqlite:////tmp/x.db",
            notebooks_dir=tmp_path,
            runtime_dir=tmp_path / "serve",
            host="127.0.0.1",
            port=free_port(),
        )


def test_sources_stripped_tracebacks_hidden_and_our_template(tmp_path):
    command = plan(tmp_path).command
    assert option(command, "VoilaConfiguration.strip_sources") == "True"
    assert option(command, "VoilaConfiguration.show_tracebacks") == "False"
    assert option(command, "VoilaConfiguration.preheat_kernel") == "True"
    assert option(command, "template") == "sanhui"
    assert "jupyterlab_pygments" in option(command, "VoilaConfiguration.extension_denylist")
    assert float(option(command, "VoilaKernelManager.fill_delay")) > 0


def test_environment_names_store_meeting_and_code(tmp_path):
    planned = plan(tmp_path, access_code="246810")
    env = planned.env
    assert env["SANHUI_DB"] == "sqlite:////tmp/x.db" and env["SANHUI_MEETING"] == "M1"
    assert env["SANHUI_ACCESS_CODE"] == "246810" == planned.access_code
    paths = env["JUPYTER_PATH"].split(":")
    assert paths[:2] == [str(planned.runtime_dir / "share"), str(SHARE)]
    assert planned.urls["form"].endswith("/voila/render/form.ipynb?device=A1")
    assert planned.urls["board"].endswith("code=246810")


def test_random_access_code_has_six_digits(tmp_path):
    codes = {plan(tmp_path).access_code for _ in range(3)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)


def test_served_kernel_leaves_out_pyarrow_and_the_debugger(tmp_path):
    planned = plan(tmp_path)
    spec = json.loads(
        (planned.runtime_dir / "share" / "kernels" / "python3" / "kernel.json").read_text()
    )
    assert spec["argv"][:3] == [sys.executable, "-c", LAUNCHER]
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]
    prelude = LAUNCHER.split("from ipykernel")[0]
    code = (
        prelude + "import toolkit.collect.app, pandas\n"
        "pandas.DataFrame({'a': ['x']}).astype(str)\n"
        "loaded = [m for m in " + repr(LEFT_OUT) + " if sys.modules.get(m) is not None]\n"
        "heavy = [m for m in ('scipy', 'statsmodels', 'matplotlib') if m in sys.modules]\n"
        "print(loaded, heavy); sys.exit(1 if loaded or heavy else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_loads_nothing_from_the_internet():
    """Every link and script the template itself writes is local (the page as served is checked in
    the browser test, request by request)."""
    text = (TEMPLATE / "index.html.j2").read_text(encoding="utf-8")
    assert "{%- extends 'voila/templates/lab/index.html.j2' -%}" in text
    tags = re.findall(r"<(?:link|script|img|iframe)\b[^>]*>", text, flags=re.I)
    assert not [t for t in tags if re.search(r"https?://|//[a-z]", t, flags=re.I)]
    assert not re.search(r"@import\s+url\(\s*['\"]?https?:", text)
    # the lab template's Font Awesome CDN link lives in the block we replace
    assert "{%- block notebook_css -%}" in text
    assert json.loads((TEMPLATE / "conf.json").read_text())["base_template"] == "lab"


def test_run_serve_stops_voila_when_it_is_stopped(tmp_path):
    """SIGTERM to ``sanhui serve`` (a service manager, a test) must not leave Voilà and its kernels
    running without it."""
    marker = tmp_path / "child.pid"
    child = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    code = (
        "from pathlib import Path\n"
        "from toolkit.collect.server import ServePlan, run_serve\n"
        f"plan = ServePlan(({sys.executable!r}, '-c', {child!r}), {{}}, Path('.'), {{}}, '1', "
        "Path('.'))\n"
        "raise SystemExit(run_serve(plan, echo=False))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        pid = int(marker.read_text())
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=20)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            status = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if status == "Z":
                break
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists() or status == "Z"
    finally:
        if parent.poll() is None:
            parent.kill()
