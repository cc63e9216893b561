"""The staff access code in front of the sign-in page and the board.

The code is printed by ``sanhui serve`` and may come in the URL (``?code=123456``) or be tapped in.
Comparison is constant-time; a wrong code shows a message and nothing else. Attempts are limited per
client (:mod:`toolkit.collect.attempts`): after 5 wrong codes the gate refuses every code for a
growing wait and says so.

>>> from toolkit.collect.attempts import AttemptLimiter
>>> opened = []
>>> gate = AccessGate("123456", on_open=lambda: opened.append(True), attempts=AttemptLimiter())
>>> gate.try_code("000000"), opened
(False, [])
>>> gate.try_code("123456"), opened
(True, [True])
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import ipywidgets as w

from toolkit.collect.attempts import AttemptLimiter, Locked, locked_message, shared_limiter
from toolkit.collect.controls import NumberPad
from toolkit.collect.style import CSS

__all__ = ["AccessGate"]


class AccessGate(w.VBox):
    """Asks for the staff access code; calls ``on_open`` once it is right.

    ``client`` identifies the browser's client (its address, passed by the server) for the attempt
    limits; ``None`` puts every client in one bucket. ``attempts`` defaults to the process's shared
    limiter.
    """

    def __init__(
        self,
        expected: str,
        *,
        on_open: Callable[[], None],
        title: str = "工作人员验证",
        client: str | None = None,
        attempts: AttemptLimiter | None = None,
    ) -> None:
        self._expected = expected
        #: the client's network address (``sanhui serve`` passes it), for the attempt limits
        self.client = client
        self._on_open = on_open
        self._attempts = attempts or shared_limiter()
        self.opened = False
        self.pad = NumberPad(clear_label="清除", delete_label="删除", max_digits=12)
        self.button = w.Button(description="进入 Enter")
        self.button.add_class("sh-primary")
        self.button.add_class("sh-nav")
        self.button.on_click(lambda _b: self.try_code(self.pad.text))
        self.message = w.HTML()
        heading = w.HTML(f'<div class="sh-title">{title}：请输入访问码 Access code</div>')
        super().__init__([w.HTML(CSS), heading, self.pad, self.button, self.message])
        self.add_class("sh-root")

    def try_code(self, code: str) -> bool:
        """Open if ``code`` is the access code (and the client is not locked out)."""
        if self.opened:
            return True
        try:
            self._attempts.begin("access", self.client)
        except Locked as locked:
            self._locked(locked.wait)
            return False
        ok = bool(self._expected) and hmac.compare_digest(
            code.strip().encode("utf-8", "replace"), self._expected.encode("utf-8")
        )
        if not ok:
            wait = self._attempts.failed("access", self.client)
            if wait:
                self._locked(wait)
            else:
                self.message.value = '<div class="sh-error">访问码不正确 Wrong access code</div>'
            return False
        self._attempts.succeeded("access", self.client)
        self.opened = True
        self.message.value = ""
        self._on_open()
        return True

    def _locked(self, wait: float) -> None:
        text = locked_message(wait, "both")
        self.message.value = f'<div class="sh-error">{text}</div>'
