"""The served pages in a real browser: ``sanhui serve`` on a private demo database, driven by Debian's
Chromium through Playwright at a tablet and a phone viewport. Every request a page makes is watched:
none may leave the laptop.

Required in CI (``CI`` set, not ``0``/``false``: a missing browser fails the run); elsewhere
skipped only when Chromium is missing. Screenshots go to ``artifacts/`` (git-ignored), never into
the repository; to refresh the README's picture, copy ``artifacts/form-tablet.png`` to
``docs/images/`` by hand.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ci_support import in_ci
from tests.serve_support import CODE, Server
from toolkit.demo import LIVE_MEETING
from toolkit.store import Store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
REQUIRED = "请对每一项作出选择。"  # the ratings grid's required message (surveys/evaluation.yaml)
CJK_FAMILY = re.compile(r"CJK|Source Han|WenQuanYi|Droid Sans Fallback|PingFang|YaHei", re.I)

IN_CI = in_ci()

if CHROMIUM is None:
    if IN_CI:  # never skip in CI: a missing browser fails the run
        raise RuntimeError(
            "CI needs Debian's Chromium for the browser tests: `apt-get install chromium` "
            "(.ci/run installs it)."
        )
    pytest.skip(
        "Chromium is missing (Debian: `apt-get install chromium fonts-noto-cjk`)",
        allow_module_level=True,
    )

import playwright.sync_api as sync_api  # noqa: E402  (the `test` extra installs it)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("serve"))
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


@pytest.fixture(scope="module", autouse=True)
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Page:
    """A page with every request of its browser context recorded."""

    def __init__(self, browser, server: Server, path: str, device: dict, context=None) -> None:
        self.context = context or browser.new_context(**device, locale="zh-CN")
        self.own_context = context is None
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(server.base + path, wait_until="commit", timeout=60_000)

    def close(self) -> None:
        if self.own_context:
            self.context.close()
        else:
            self.page.close()

    def outside_requests(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob")
            and urlsplit(u).hostname not in ("127.0.0.1",)
        ]


def open_form(browser, server: Server, device: dict, label: str, context=None) -> Page:
    page = Page(browser, server, f"/form?device={label}", device, context)
    page.page.locator("button.sh-choice").first.wait_for(state="visible", timeout=60_000)
    return page


def progress(page) -> str:
    return page.locator(".sh-progress").inner_text()


def wait_progress(page, text: str) -> None:
    page.locator(".sh-progress", has_text=text).wait_for(timeout=20_000)


def tap_rows(page, choice: str) -> int:
    """Tap ``choice`` in every rating row shown; return the number of rows."""
    rows = page.locator(".sh-grid-row:visible")
    count = rows.count()
    for index in range(count):
        rows.nth(index).locator(f'button.sh-choice:text-is("{choice}")').tap()
    for index in range(count):  # every tap came back from the kernel
        rows.nth(index).locator("button.sh-selected").wait_for(timeout=20_000)
    return count


def tap_button(page, text: str) -> None:
    page.locator(f'button:text-is("{text}"):visible').first.tap()


def check_page_is_clean(page: Page) -> None:
    html = page.page.content()
    assert page.outside_requests() == [], "requests outside the laptop"
    text = page.page.locator("body").inner_text()
    for leak in ("Traceback", "form_app", "import ", "toolkit", "Error", "site-packages"):
        assert leak not in text, f"{leak!r} on the page"
    assert "site-packages" not in html and "Traceback (most recent call last)" not in html


def check_touch_sizes(page) -> None:
    sizes = page.eval_on_selector_all(
        "button.sh-choice",
        "els => els.filter(e => e.offsetParent).map(e => "
        "[e.getBoundingClientRect().width, e.getBoundingClientRect().height, e.innerText])",
    )
    assert sizes
    small = [s for s in sizes if s[0] < 48 or s[1] < 48]
    assert small == [], f"touch targets under 48 × 48 px: {small[:5]}"
    fonts = page.eval_on_selector_all(
        ".sh-grid-item, .sh-label, button.sh-choice",
        "els => els.filter(e => e.offsetParent).map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert fonts and min(fonts) >= 18


def check_chinese_glyphs(page) -> None:
    """The label's text is drawn with a CJK font actually present (no missing-glyph boxes)."""
    assert page.evaluate("document.fonts.check('20px \"Noto Sans CJK SC\"', '满意')")
    family = page.eval_on_selector(
        "div.sh-grid-item:not(.widget-html)", "e => getComputedStyle(e).fontFamily"
    )
    assert CJK_FAMILY.search(family)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    for selector in ("div.sh-grid-item:not(.widget-html)", "button.sh-choice"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        assert used and all(CJK_FAMILY.search(f["familyName"]) for f in used), used
    cdp.detach()


def boxes(page, row_index: int = 0) -> tuple[dict, dict]:
    row = page.locator(".sh-grid-row").nth(row_index)
    return (
        row.locator(".widget-html.sh-grid-item").bounding_box(),
        row.locator("button.sh-choice").first.bounding_box(),
    )


def fill_review_submit(p, server: Server, label: str, shots: str) -> None:
    """The whole ballot by touch: a refused empty page, both rating pages, the rest, the review,
    提交 (stored once, with the label as paradata) and 下一位 (a clean first page)."""
    # Next on an empty page: the required message at the question, the page stays
    tap_button(p, "下一页")
    p.locator(".sh-error", has_text=REQUIRED).first.wait_for(timeout=20_000)
    assert progress(p) == "第 1 / 5 页"
    p.screenshot(path=str(ARTIFACTS / f"form-{shots}-required.png"))

    assert tap_rows(p, "满意") == 7  # 居委会: six items and the overall rating
    tap_button(p, "下一页")
    wait_progress(p, "第 2 / 5 页")
    assert tap_rows(p, "基本满意") == 7  # 物业
    tap_button(p, "下一页")
    wait_progress(p, "第 3 / 5 页")  # project page: no elevator, nothing to rate
    tap_button(p, "下一页")
    wait_progress(p, "第 4 / 5 页")
    p.locator('button.sh-choice:text-is("办事拖拉、回应不及时")').tap()
    p.locator("button.sh-selected").first.wait_for(timeout=20_000)
    tap_button(p, "下一页")
    wait_progress(p, "第 5 / 5 页")
    p.locator('button.sh-choice:text-is("70～79岁")').tap()
    p.locator("button.sh-selected").first.wait_for(timeout=20_000)
    tap_button(p, "检查答案")
    p.get_by_text("请检查您的回答").wait_for(timeout=20_000)
    review = p.locator("table.sh-review").all_inner_texts()
    assert any("基本满意" in t for t in review) and any("70～79岁" in t for t in review)
    p.screenshot(path=str(ARTIFACTS / f"form-{shots}-review.png"), full_page=True)
    before = server.ballots()
    tap_button(p, "提交")
    p.get_by_text("提交成功").wait_for(timeout=30_000)
    assert server.ballots() == before + 1
    with Store.open(server.db) as store:
        stored = store.responses(LIVE_MEETING, include_void=True)
    row = stored[stored["device"] == label].iloc[-1]
    assert str(row["juweihui__overall"]) == "satisfied"
    assert str(row["wuye__overall"]) == "basically_satisfied"
    assert str(row["age_band"]) == "70-79"
    uuid.UUID(str(row["submission_id"]))

    tap_button(p, "下一位")  # the next resident gets a clean first page
    wait_progress(p, "第 1 / 5 页")
    p.locator("button.sh-choice").first.wait_for(state="visible")
    assert p.locator(".sh-selected").count() == 0
    assert p.locator(".sh-error").count() == 0


def test_tablet_fills_reviews_and_submits_a_ballot(browser, server):
    page = open_form(browser, server, TABLET, "T1")
    p = page.page
    try:
        assert progress(p) == "第 1 / 5 页"
        check_touch_sizes(p)
        check_chinese_glyphs(p)
        label, first = boxes(p)
        assert first["x"] >= label["x"] + label["width"] - 1  # choices beside the item
        assert abs(first["y"] + first["height"] / 2 - (label["y"] + label["height"] / 2)) < 30
        shot = ARTIFACTS / "form-tablet.png"  # copied by hand to docs/images/ for the README
        p.screenshot(path=str(shot))
        assert shot.stat().st_size < 200_000

        fill_review_submit(p, server, "T1", "tablet")
        check_page_is_clean(page)
    finally:
        page.close()


def test_phone_stacks_the_rating_rows_and_takes_a_whole_ballot(browser, server):
    page = open_form(browser, server, PHONE, "P1")
    p = page.page
    try:
        label, first = boxes(p)
        assert first["y"] >= label["y"] + label["height"] - 1  # choices under the item
        check_touch_sizes(p)
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, "the page scrolls sideways on a phone"
        p.screenshot(path=str(ARTIFACTS / "form-phone.png"), full_page=True)
        fill_review_submit(p, server, "P1", "phone")
        check_page_is_clean(page)
    finally:
        page.close()


def test_board_behind_the_code_shows_the_ballots_and_no_names(browser, server):
    received = server.ballots()
    page = Page(browser, server, "/board?code=000000", TABLET)
    p = page.page
    try:
        p.get_by_text("访问码不正确").wait_for(timeout=60_000)  # a wrong code in the URL
        assert p.locator(".sh-board").count() == 0
        for digit in CODE:  # the staff taps the right one in
            p.locator(f'button.sh-choice:text-is("{digit}")').tap()
        p.wait_for_function(
            "code => document.querySelector('.sh-number-display input').value === code",
            arg=CODE,
            timeout=20_000,
        )
        tap_button(p, "进入 Enter")
        p.locator(".sh-board .sh-big").first.wait_for(timeout=30_000)
        big = p.locator(".sh-board .sh-big").first.inner_text()
        assert int(big) == received  # the ballot the tablet just sent
        text = p.locator("body").inner_text()
        if received < 5:
            assert "有效票不足 5 张" in text and "95% CI" not in text  # small cells suppressed
        with Store.open(server.db) as store:
            names = store.search_participants(LIVE_MEETING, "", limit=200)["name"].tolist()
        assert names and not [n for n in names if n and n in text]
        assert not [n for n in names if n and n in p.content()]
        p.screenshot(path=str(ARTIFACTS / "board.png"))
        check_page_is_clean(page)
    finally:
        page.close()


def test_a_reload_restores_the_draft_and_another_browser_with_the_label_gets_none(browser, server):
    """The draft belongs to the tablet's browser (its token), not to the label in the address."""
    context = browser.new_context(**TABLET, locale="zh-CN")
    page = open_form(browser, server, TABLET, "D1", context)
    p = page.page
    try:
        p.locator(".sh-grid-row").first.locator('button.sh-choice:text-is("不满意")').tap()
        p.locator("button.sh-selected").first.wait_for(timeout=20_000)
        p.get_by_text("已保存").wait_for(timeout=20_000)
        p.reload(wait_until="commit")
        p.get_by_text("已恢复您上次未提交的回答").wait_for(timeout=60_000)
        assert p.locator("button.sh-selected").count() == 1
        check_page_is_clean(page)
        cookies = {c["name"]: c for c in context.cookies()}
        token = cookies["sanhui-tablet"]
        assert token["httpOnly"] and token["sameSite"] == "Strict"
    finally:
        context.close()
    other = open_form(browser, server, PHONE, "D1")  # another browser, the same label
    try:
        other.page.wait_for_timeout(1000)
        assert other.page.locator("button.sh-selected").count() == 0
        assert other.page.get_by_text("已恢复").count() == 0
        check_page_is_clean(other)
    finally:
        other.close()
