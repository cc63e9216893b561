"""The speaking-turn recorder served by ``sanhui serve`` (``/turns``), in Debian's Chromium: the
secretary records turns, the page is reloaded mid-turn, and the store holds exactly what was tapped.

Required in CI (``CI=true``); elsewhere skipped only when Chromium is missing."""

from __future__ import annotations

import shutil

import pytest

from tests.ci_support import in_ci
from tests.serve_support import CODE, Server
from toolkit.demo import LIVE_MEETING
from toolkit.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}

if CHROMIUM is None:
    if in_ci():
        raise RuntimeError(
            "CI needs Debian's Chromium for the browser tests (apt-get install chromium)."
        )
    pytest.skip("Chromium is missing (Debian: `apt-get install chromium`)", allow_module_level=True)

import playwright.sync_api as sync_api  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    server = Server(tmp_path_factory.mktemp("serve-turns"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_recorder_records_turns_across_a_reload(server: Server) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(**TABLET, locale="zh-CN")
        outside: list[str] = []
        context.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith((server.base, "data:", "blob:"))
                else None
            ),
        )
        page = context.new_page()
        # without the access code the recorder is not shown
        page.goto(server.base + "/turns", wait_until="commit", timeout=60_000)
        page.locator("input").first.wait_for(timeout=60_000)
        assert page.locator("button.sh-speaker").count() == 0

        page.goto(server.base + f"/turns?code={CODE}", wait_until="commit", timeout=60_000)
        page.locator("button.sh-speaker").first.wait_for(state="visible", timeout=60_000)
        now = page.locator(".sh-now")
        page.locator('button.sh-speaker:text-is("居委会")').tap()
        now.filter(has_text="正在发言：居委会").wait_for(timeout=20_000)
        page.locator('button.sh-speaker:text-is("居民")').tap()
        now.filter(has_text="正在发言：居民").wait_for(timeout=20_000)
        page.locator('button:text-is("提问")').tap()
        page.locator('button.sh-selected:text-is("提问")').wait_for(timeout=20_000)

        page.reload(wait_until="commit")  # mid-turn: the open turn comes back
        page.locator(".sh-now", has_text="正在发言：居民").wait_for(timeout=60_000)
        page.locator('button.sh-selected:text-is("提问")').wait_for(timeout=20_000)
        page.locator('button.sh-speaker:text-is("居民")').tap()
        page.locator(".sh-now", has_text="无人发言").wait_for(timeout=20_000)
        page.locator('button.sh-speaker:text-is("物业")').tap()
        page.locator(".sh-now", has_text="正在发言：物业").wait_for(timeout=20_000)
        page.locator('button:text-is("↶ 撤销 Undo")').tap()  # the tap on 物业 was a mistake
        page.locator(".sh-now", has_text="无人发言").wait_for(timeout=20_000)
        # the log below the buttons is a widget of its own, updated after the status line
        page.get_by_text("已记录 2 次发言").wait_for(timeout=20_000)
        text = page.inner_text("body")
        context.close()
        browser.close()
    assert outside == []
    assert "Traceback" not in text and "已记录 2 次发言" in text
    with Store.open(server.db) as store:
        turns = store.turns(LIVE_MEETING)
        everything = store.turns(LIVE_MEETING, include_undone=True)
    assert turns["category"].tolist() == ["residents_committee", "resident"]
    assert turns["codes"].tolist() == [[], ["question"]]
    assert turns["seconds"].notna().all() and (turns["seconds"] > 0).all()
    assert everything["undone"].tolist() == [False, False, True]
