"""The staff access code in front of the sign-in page and the board.

The code is printed by ``sanhui serve`` and may come in the URL (``?code=123456``) or be tapped in.
Comparison is constant-time; a wrong code shows a message and nothing else.

>>> opened = []
>>> gate = AccessGate("123456", on_open=lambda: opened.append(True))
>>> gate.try_code("000000"), opened
(False, [])
>>> gate.try_code("123456"), opened
(True, [True])
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import ipywidgets as w

from toolkit.collect.controls import NumberPad
from toolkit.collect.style import CSS

__all__ = ["AccessGate"]


class AccessGate(w.VBox):
    """Asks for the staff access code; calls ``on_open`` once it is right."""

    def __init__(
        self,
        expected: str,
        *,
        on_open: Callable[[], None],
        title: str = "工作人员验证",
        client: str | None = None,
    ) -> None:
        self._expected = expected
        #: the client's network address (``sanhui serve`` passes it), for the attempt limits
        self.client = client
        self._on_open = on_open
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
        """Open if ``code`` is the access code."""
        ok = bool(self._expected) and hmac.compare_digest(
            code.strip().encode("utf-8"), self._expected.encode("utf-8")
        )
        if not ok:
            self.message.value = '<div class="sh-error">访问码不正确 Wrong access code</div>'
            return False
        self.opened = True
        self.message.value = ""
        self._on_open()
        return True
