"""Limits on code attempts (toolkit/collect/attempts.py), on the staff gate and the ballot-code screen.

After 5 wrong codes a client is locked out with a growing wait; the right code is refused while
locked; the page says 输入错误次数过多，请稍后再试 with the wait; every lockout is logged without
the code; clients are independent; forged parallel clicks cannot get more codes checked.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

import pytest

from tests.collect_support import MemoryBackend
from tests.test_collect_form import make_form
from toolkit.collect import gate as gate_module
from toolkit.collect.attempts import (
    MAX_FAILURES,
    WAITS,
    AttemptLimiter,
    Locked,
    set_shared_limiter,
    shared_limiter,
)
from toolkit.collect.gate import AccessGate
from toolkit.instrument.loader import load_survey

ROOT = Path(__file__).resolve().parents[1]
CODE = "482913"
LOCKED = "输入错误次数过多，请稍后再试"


def wrong(limiter: AttemptLimiter, client: str | None, scope: str = "access") -> float:
    limiter.begin(scope, client)
    return limiter.failed(scope, client)


def test_five_wrong_codes_lock_the_gate_and_the_right_code_is_refused() -> None:
    opened: list[bool] = []
    gate = AccessGate(CODE, on_open=lambda: opened.append(True), client="10.0.0.7")
    for attempt in range(1, MAX_FAILURES):
        assert gate.try_code(f"00000{attempt}") is False
        assert "访问码不正确" in gate.message.value
    assert gate.try_code("000005") is False
    assert LOCKED in gate.message.value and "30 秒" in gate.message.value
    assert "Too many wrong codes" in gate.message.value and "30 s" in gate.message.value
    assert gate.try_code(CODE) is False  # the right code, while locked
    assert not gate.opened and opened == []
    assert LOCKED in gate.message.value
    assert 28 < shared_limiter().locked_for("access", "10.0.0.7") <= WAITS[0]


def test_the_wait_grows_with_each_lockout() -> None:
    limiter = AttemptLimiter(waits=(1, 2, 4))
    assert [wrong(limiter, "a") for _ in range(5)] == [0, 0, 0, 0, 1.0]
    with pytest.raises(Locked):
        limiter.begin("access", "a")
    deadline = time.monotonic() + 5
    while limiter.locked_for("access", "a") > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert limiter.locked_for("access", "a") == 0
    assert [wrong(limiter, "a") for _ in range(5)] == [0, 0, 0, 0, 2.0]
    with pytest.raises(Locked) as caught:
        limiter.begin("access", "a")
    assert 1 < caught.value.wait <= 2
    # the message shown follows the wait
    gate = AccessGate(CODE, on_open=lambda: None, client="a", attempts=limiter)
    assert gate.try_code(CODE) is False and "2 秒" in gate.message.value
    # and the default schedule doubles from 30 s to a 15-minute ceiling
    assert WAITS == (30, 60, 120, 240, 480, 900)


def test_a_right_code_forgives_earlier_wrong_ones() -> None:
    limiter = AttemptLimiter()
    gate = AccessGate(CODE, on_open=lambda: None, client="b", attempts=limiter)
    for _ in range(MAX_FAILURES - 1):
        gate.try_code("111111")
    assert gate.try_code(CODE) is True
    assert [wrong(limiter, "b") for _ in range(MAX_FAILURES - 1)] == [0, 0, 0, 0]
    assert limiter.locked_for("access", "b") == 0


def test_every_lockout_is_logged_without_the_code(caplog: pytest.LogCaptureFixture) -> None:
    limiter = AttemptLimiter(waits=(30,))
    gate = AccessGate(CODE, on_open=lambda: None, client="192.168.1.23", attempts=limiter)
    tried = [f"{n:06d}" for n in (918273, 564738, 102938, 475869, 333221)]
    with caplog.at_level(logging.WARNING, logger="toolkit.collect.attempts"):
        for code in tried:
            gate.try_code(code)
        gate.try_code(CODE)  # refused while locked: not a new lockout
    records = [r for r in caplog.records if r.name == "toolkit.collect.attempts"]
    assert len(records) == 1
    text = records[0].getMessage()
    assert "192.168.1.23" in text and "30 s" in text and "access" in text
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert not any(code in logged for code in [*tried, CODE])


def test_clients_are_independent_and_none_is_one_shared_bucket() -> None:
    limiter = AttemptLimiter()
    for _ in range(MAX_FAILURES):
        wrong(limiter, "10.0.0.7")
    assert limiter.locked_for("access", "10.0.0.7") > 0
    other = AccessGate(CODE, on_open=lambda: None, client="10.0.0.8", attempts=limiter)
    assert other.try_code(CODE) is True
    assert limiter.locked_for("ballot", "10.0.0.7") == 0  # scopes are separate too
    first = AccessGate(CODE, on_open=lambda: None, attempts=limiter)
    second = AccessGate(CODE, on_open=lambda: None, attempts=limiter)
    for _ in range(MAX_FAILURES):
        first.try_code("000000")
    assert second.try_code(CODE) is False and LOCKED in second.message.value


def test_forged_rapid_clicks_cannot_exceed_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Value updates plus clicks sent as fast as possible, from many threads at once (the server
    handles sessions in threads): no more than 5 codes are ever compared."""
    compared = itertools.count()

    class CountingHmac:
        @staticmethod
        def compare_digest(a: bytes, b: bytes) -> bool:
            next(compared)
            time.sleep(0.001)  # widen the race
            return a == b

    monkeypatch.setattr(gate_module, "hmac", CountingHmac)
    gate = AccessGate(CODE, on_open=lambda: None, client="10.0.0.66")

    def attacker(k: int) -> None:
        for n in range(20):
            gate.pad._set(f"{k:03d}{n:03d}")  # a forged value update of the keypad
            gate.button.click()  # and a click on Enter

    threads = [threading.Thread(target=attacker, args=(k,)) for k in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert next(compared) <= MAX_FAILURES
    assert LOCKED in gate.message.value and not gate.opened


@pytest.fixture(scope="module")
def evaluation():
    return load_survey(ROOT / "surveys" / "evaluation.yaml")


class CountingBackend(MemoryBackend):
    def __init__(self, codes: tuple[str, ...]) -> None:
        super().__init__(codes=codes)
        self.checked = 0

    def ballot_code_usable(self, *, meeting_id: str, code: str) -> bool:
        self.checked += 1
        return super().ballot_code_usable(meeting_id=meeting_id, code=code)


def test_ballot_codes_are_limited_on_the_form(evaluation) -> None:
    backend = CountingBackend(codes=("12345678",))
    form = make_form(evaluation, backend, ballot_codes=True, client="10.0.0.9")
    for n in range(MAX_FAILURES - 1):
        assert form.enter_code(f"0000000{n}") is False
        assert "验证码不正确" in form.notice
    assert form.enter_code("00000009") is False
    assert form.notice == "输入错误次数过多，请稍后再试（请等待 30 秒）"
    assert form.enter_code("12345678") is False  # the right code, while locked
    assert form.screen == "code" and backend.checked == MAX_FAILURES
    form.set_language("en")
    assert form.enter_code("12345678") is False
    assert form.notice == "Too many wrong codes. Please try again later (wait 30 s)."
    # another tablet (another client) is not affected
    other = make_form(evaluation, backend, ballot_codes=True, client="10.0.0.10")
    assert other.enter_code("12345678") is True and other.screen == "page"


def test_forged_start_clicks_on_the_form_cannot_exceed_the_limit(evaluation) -> None:
    backend = CountingBackend(codes=("12345678",))
    set_shared_limiter(AttemptLimiter())
    form = make_form(evaluation, backend, ballot_codes=True, client="10.0.0.11")
    pad, start = form.controls["ballot_code"], form.buttons["start"]
    for n in range(100):
        pad._set(f"{n:08d}")
        start.click()
    assert backend.checked == MAX_FAILURES
    assert form.screen == "code" and "输入错误次数过多" in form.notice


def test_bad_unicode_in_a_forged_code_is_a_wrong_code_not_a_crash(evaluation) -> None:
    limiter = AttemptLimiter()
    gate = AccessGate(CODE, on_open=lambda: None, client="10.0.0.12", attempts=limiter)
    assert gate.try_code("48\ud8002913") is False and "访问码不正确" in gate.message.value
    form = make_form(
        evaluation, CountingBackend(codes=("12345678",)), ballot_codes=True, attempts=limiter
    )
    assert form.enter_code("1234\udcff5678\x00") is False and "验证码不正确" in form.notice
