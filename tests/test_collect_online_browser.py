"""The phone ballot in Debian's Chromium with a phone's user agent, served by ``sanhui serve
--online`` (with its Content-Security-Policy): a one-time link opens the ballot without typing the
code, the code leaves the address bar, a draft on every tap comes back after a reload in the same
browser, the ballot is stored once with channel ``online``, and the link then says it was used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.serve_support import Server
from tests.test_collect_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Page,
    check_page_is_clean,
    check_touch_sizes,
    tap_button,
    tap_rows,
    wait_progress,
)
from toolkit.demo import LIVE_MEETING
from toolkit.store import Store

pytestmark = pytest.mark.browser

import playwright.sync_api as sync_api  # noqa: E402

#: WeChat's in-app browser on Android (its user agent, as residents' phones send it)
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 "
    "XWEB/5023 MMWEBSDK/20230405 MMWEBID/2585 MicroMessenger/8.0.35.2360(0x28002337) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "user_agent": WECHAT_UA,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(
        tmp_path_factory.mktemp("online-browser"),
        "--online",
        "--base-url",
        "https://vote.example.org",
    )
    now = datetime.now(UTC)
    with Store.open(server.db) as store:
        store.set_online_window(LIVE_MEETING, now - timedelta(hours=1), now + timedelta(days=1))
        server.codes = store.issue_ballot_codes(LIVE_MEETING, 3)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_one_time_link_on_a_phone_votes_once(browser, server):
    code = server.codes[0]
    context = browser.new_context(**PHONE, locale="zh-CN")
    violations: list[str] = []
    context.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page = Page(browser, server, f"/vote#code={code}", PHONE, context)
    p = page.page
    try:
        p.locator("button.sh-choice").first.wait_for(state="visible", timeout=60_000)
        wait_progress(p, "第 1 / 5 页")  # the code screen was passed with the link's code
        assert code not in p.evaluate("location.href")  # the code left the address bar
        check_touch_sizes(p)
        assert p.evaluate("document.documentElement.scrollWidth") <= 391
        p.screenshot(path="artifacts/vote-phone.png", full_page=True)

        p.locator(".sh-grid-row").first.locator('button.sh-choice:text-is("不满意")').tap()
        p.get_by_text("已保存").wait_for(timeout=20_000)
        p.reload(wait_until="commit")  # a dropped connection: the same browser comes back
        p.get_by_text("已恢复您上次未提交的回答").wait_for(timeout=60_000)
        assert p.locator("button.sh-selected").count() == 1

        assert tap_rows(p, "满意") == 7
        tap_button(p, "下一页")
        wait_progress(p, "第 2 / 5 页")
        assert tap_rows(p, "基本满意") == 7
        for page_number in (3, 4, 5):
            tap_button(p, "下一页")
            wait_progress(p, f"第 {page_number} / 5 页")
        tap_button(p, "检查答案")
        p.get_by_text("请检查您的回答").wait_for(timeout=20_000)
        tap_button(p, "提交")
        p.get_by_text("提交成功").wait_for(timeout=30_000)
        check_page_is_clean(page)
        assert violations == []
    finally:
        context.close()
    with Store.open(server.db) as store, store.engine.connect() as connection:
        modes = [r[0] for r in connection.exec_driver_sql("SELECT mode FROM submissions")]
        assert store.ballot_code_status(LIVE_MEETING, code) == "used"
    assert modes.count("online") == 1

    again = Page(browser, server, f"/vote#code={code}", PHONE)  # the link, opened again
    try:
        again.page.get_by_text("这个验证码已经投过票了").wait_for(timeout=60_000)
        assert again.page.locator(".sh-grid-row").count() == 0
    finally:
        again.close()
