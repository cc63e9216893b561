"""``sanhui serve``: a fixed port, the URLs and code it prints, Solara's settings (offline, production),
the access code kept out of ``ps``, nothing but the served pages reachable, and a clean stop.
(The pages in a browser: test_collect_browser.py; attacks on the protocol: test_collect_guard.py.)"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

import toolkit.collect.server as server_module
from tests.serve_support import ROOT, Server, free_port
from toolkit.cli import app
from toolkit.collect.guard import Limits
from toolkit.collect.server import plan_serve, solara_environment
from toolkit.errors import ParameterError, StoreError


def plan(**kwargs):
    kwargs.setdefault("port", free_port())
    return plan_serve(meeting="M1", database="sqlite:////tmp/x.db", host="127.0.0.1", **kwargs)


def test_fixed_port_and_the_printed_addresses():
    port = free_port()
    planned = plan(port=port, access_code="246810")
    assert planned.port == port
    assert planned.urls["form"] == f"http://127.0.0.1:{port}/form?device=A1"
    assert planned.urls["signin"].endswith("/signin?code=246810")
    assert planned.urls["board"].endswith("/board?code=246810")
    assert planned.urls["turns"].endswith("/turns?code=246810")


def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StoreError, match=rf"port {port} .*already in use.*--port"):
            plan(port=port)


def test_port_out_of_range():
    with pytest.raises(ParameterError, match="port"):
        plan(port=70000)


def test_random_access_code_has_six_digits():
    codes = {plan().access_code for _ in range(3)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)


def test_solara_runs_offline_in_production_with_our_pages():
    env = solara_environment(plan(limits=Limits(idle_seconds=120, sessions_per_client=5)))
    assert env["SOLARA_APP"] == "toolkit.collect.pages"
    assert env["SOLARA_MODE"] == "production"  # no reloader, no check against solara.dev
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_PROXY"] == "True"  # front-end files from solara-assets
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")  # a miss goes nowhere
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "120s"
    assert env["SANHUI_MEETING"] == "M1"


def test_serve_reads_the_access_code_from_the_environment_or_a_prompt(monkeypatch, tmp_path):
    """The code need not be on the command line, where every account sees it in ``ps``."""
    seen = []
    monkeypatch.setattr(server_module, "run_serve", lambda planned: seen.append(planned) or 0)
    from toolkit.demo import demo_store

    store = demo_store()
    db = store.url
    store.close()
    runner = CliRunner()
    args = ["serve", "--database", db, "--host", "127.0.0.1", "--port", str(free_port())]
    result = runner.invoke(app, args, env={"SANHUI_ACCESS_CODE": "975310"})
    assert result.exit_code == 0, result.output
    assert seen[-1].access_code == "975310"
    result = runner.invoke(app, [*args, "--ask-access-code"], input="864200\n", env={})
    assert result.exit_code == 0, result.output
    assert seen[-1].access_code == "864200" and "864200\n" not in result.output.split(":")[0]
    result = runner.invoke(app, [*args, "--access-code", "12ab"])
    assert result.exit_code == 1 and "4 to 12 digits" in result.output


def test_an_error_escaping_a_page_shows_one_sentence_and_is_logged(caplog):
    import solara.server.app as solara_app

    from toolkit.collect.server import hide_tracebacks

    hide_tracebacks()
    try:
        raise RuntimeError("/srv/secret/sanhui.db is locked")
    except RuntimeError as error:
        text = "".join(solara_app.traceback.format_exception(None, error, error.__traceback__))
    assert text.startswith("页面暂时无法打开")
    assert "secret" not in text and "Traceback" not in text and ".py" not in text
    assert "/srv/secret/sanhui.db is locked" in caplog.text  # the log keeps the details


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("paths"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize(
    "path", ["/", "/form?device=A1", "/signin", "/board?code=1", "/turns", "/readyz"]
)
def test_the_pages_are_served(served, path):
    with urllib.request.urlopen(served.base + path, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"  # ?code= never leaks


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/lab"),
        ("GET", "/tree"),
        ("GET", "/voila"),
        ("GET", "/voila/render/form.ipynb"),
        ("GET", "/api/contents"),
        ("GET", "/api/kernels"),
        ("POST", "/api/kernels"),
        ("GET", "/api/sessions"),
        ("GET", "/api/kernelspecs"),
        ("GET", "/jupyter/api/kernels/abc"),
        ("GET", "/files/README.md"),
        ("GET", "/resourcez"),
        ("POST", "/_solara/api/evict/0123456789"),
        ("GET", "/_solara/cdn/not-installed@1.0.0/x.js"),
        ("GET", "/_solara/cdn/../../../etc/passwd"),
        ("GET", "/static/public/../../pyproject.toml"),
        ("POST", "/form"),
        ("GET", "/keying"),  # only with `sanhui serve --keying`
    ],
)
def test_nothing_else_is_reachable(served, method, path):
    """No JupyterLab, no Jupyter or Voilà endpoint, no Solara internals, no file outside the
    front-end, and no download from the internet for a file the laptop does not have."""
    request = urllib.request.Request(
        served.base + path, method=method, data=b"" if method == "POST" else None
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404


def test_sigterm_stops_the_server(tmp_path):
    server = Server(tmp_path)
    try:
        server.wait_ready()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) is not None
        assert time.monotonic() - started < 20
        assert not server.alive()
    finally:
        server.stop()


def test_the_server_never_loads_the_analysis_stack_at_start():
    code = (
        "import sys, toolkit.collect.pages, toolkit.collect.server\n"
        "heavy = [m for m in ('scipy', 'statsmodels', 'matplotlib', 'voila') if m in sys.modules]\n"
        "print(heavy); sys.exit(1 if heavy else 0)\n"
    )
    env = dict(os.environ, SOLARA_APP="toolkit.collect.pages")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
