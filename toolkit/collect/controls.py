"""Touch controls for the tablet form: choice buttons, multi-select buttons and a number pad.

Every control is an ipywidgets container built from plain :class:`ipywidgets.Button` widgets (never
sliders or dropdowns), calls ``on_change(value)`` when the resident taps, and can be driven in tests
with ``control.buttons[i].click()``.

Every widget is a model the page has to fetch and build, and each ``Button`` normally brings its own
``Layout`` and ``ButtonStyle`` models (three models per button). :class:`SharedLooks` holds one layout
and one style that all the buttons of a form share, so a page of choice buttons costs one model per
button (the form's first page drops from ~190 models to ~70 and opens about a second sooner).

>>> picked = []
>>> group = ChoiceGroup([("satisfied", "满意"), ("dissatisfied", "不满意")], on_change=picked.append)
>>> group.buttons[1].click()
>>> group.value, picked
('dissatisfied', ['dissatisfied'])
>>> group.buttons[1].click()  # tapping the selected choice again clears it
>>> group.value is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as w
from ipywidgets.widgets.widget_string import HTMLStyle  # not exported at the top level

__all__ = ["ChoiceGroup", "MultiChoice", "NumberPad", "SharedLooks"]

Options = Sequence[tuple[str, str]]


class SharedLooks:
    """One ``Layout``/style of each kind, shared by many widgets (a shared model is never closed
    with the widgets that use it: :meth:`close` closes them when the whole form goes)."""

    def __init__(self) -> None:
        self.button_layout = w.Layout(width="auto")
        self.button_style = w.ButtonStyle()
        self.html_layout = w.Layout()
        self.html_style = HTMLStyle()
        self.box_layout = w.Layout()
        self.wrap_layout = w.Layout(flex_flow="row wrap")
        self.between_layout = w.Layout(justify_content="space-between")

    def models(self) -> tuple[w.Widget, ...]:
        """The shared models (never to be closed with one of the widgets using them)."""
        return (
            self.button_layout,
            self.button_style,
            self.html_layout,
            self.html_style,
            self.box_layout,
            self.wrap_layout,
            self.between_layout,
        )

    def html(self, value: str = "") -> w.HTML:
        """An HTML widget using the shared layout and style."""
        return w.HTML(value, layout=self.html_layout, style=self.html_style)

    def close(self) -> None:
        for model in self.models():
            model.close()


def _button(
    label: str, *classes: str, tooltip: str | None = None, looks: SharedLooks | None = None
) -> w.Button:
    if looks is None:
        button = w.Button(
            description=label, tooltip=tooltip or label, layout=w.Layout(width="auto")
        )
    else:
        button = w.Button(
            description=label,
            tooltip=tooltip or label,
            layout=looks.button_layout,
            style=looks.button_style,
        )
    for cls in classes:
        button.add_class(cls)
    return button


class ChoiceGroup(w.HBox):
    """One-of-many choice as a row of big buttons; tapping the chosen one again clears it."""

    def __init__(
        self,
        options: Options,
        *,
        value: str | None = None,
        on_change: Callable[[str | None], None] | None = None,
        looks: SharedLooks | None = None,
    ) -> None:
        self.options = tuple(options)
        self._on_change = on_change
        self.buttons = [_button(label, "sh-choice", looks=looks) for _, label in self.options]
        for (code, _), button in zip(self.options, self.buttons, strict=True):
            button.on_click(lambda _b, code=code: self._tap(code))
        layout = looks.wrap_layout if looks is not None else w.Layout(flex_flow="row wrap")
        super().__init__(self.buttons, layout=layout)
        self.add_class("sh-choices")
        self.value: str | None = None
        self._show(value)

    def _tap(self, code: str) -> None:
        self._show(None if self.value == code else code)
        if self._on_change is not None:
            self._on_change(self.value)

    def _show(self, value: str | None) -> None:
        self.value = value
        for (code, _), button in zip(self.options, self.buttons, strict=True):
            if code == value:
                button.add_class("sh-selected")
            else:
                button.remove_class("sh-selected")


class MultiChoice(w.HBox):
    """Several-of-many choice: each button toggles its code in or out of the selection.

    >>> chosen = MultiChoice([("a", "甲"), ("b", "乙")])
    >>> chosen.buttons[1].click(); chosen.buttons[0].click()
    >>> chosen.value
    ['a', 'b']
    """

    def __init__(
        self,
        options: Options,
        *,
        value: Sequence[str] = (),
        on_change: Callable[[list[str]], None] | None = None,
        looks: SharedLooks | None = None,
    ) -> None:
        self.options = tuple(options)
        self._on_change = on_change
        self.buttons = [_button(label, "sh-choice", looks=looks) for _, label in self.options]
        for (code, _), button in zip(self.options, self.buttons, strict=True):
            button.on_click(lambda _b, code=code: self._tap(code))
        layout = looks.wrap_layout if looks is not None else w.Layout(flex_flow="row wrap")
        super().__init__(self.buttons, layout=layout)
        self.add_class("sh-choices")
        self._chosen: set[str] = set()
        self._show(value)

    @property
    def value(self) -> list[str]:
        """The chosen codes, in the order of the options."""
        return [code for code, _ in self.options if code in self._chosen]

    def _tap(self, code: str) -> None:
        self._show(set(self._chosen) ^ {code})
        if self._on_change is not None:
            self._on_change(self.value)

    def _show(self, value: Sequence[str] | set[str]) -> None:
        self._chosen = set(value)
        for (code, _), button in zip(self.options, self.buttons, strict=True):
            if code in self._chosen:
                button.add_class("sh-selected")
            else:
                button.remove_class("sh-selected")


class NumberPad(w.VBox):
    """A number entered by tapping digit keys, so nobody has to use the on-screen keyboard.

    >>> pad = NumberPad(clear_label="清除", delete_label="删除")
    >>> for key in "12":
    ...     pad.key(key)
    >>> pad.text
    '12'
    """

    KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")

    def __init__(
        self,
        *,
        text: str = "",
        decimal: bool = False,
        max_digits: int = 9,
        clear_label: str = "Clear",
        delete_label: str = "Delete",
        on_change: Callable[[str], None] | None = None,
        looks: SharedLooks | None = None,
    ) -> None:
        self._on_change = on_change
        self.max_digits = max_digits
        self.display = w.Text(value=text, disabled=True, layout=w.Layout(width="220px"))
        self.display.add_class("sh-number-display")
        keys = [*self.KEYS, "."] if decimal else list(self.KEYS)
        self.key_buttons = {k: _button(k, "sh-choice", looks=looks) for k in keys}
        for k, button in self.key_buttons.items():
            button.on_click(lambda _b, k=k: self.key(k))
        self.delete_button = _button(delete_label, "sh-choice", looks=looks)
        self.delete_button.on_click(lambda _b: self._set(self.text[:-1]))
        self.clear_button = _button(clear_label, "sh-choice", looks=looks)
        self.clear_button.on_click(lambda _b: self._set(""))
        buttons = list(self.key_buttons.values())

        def box(children: list[w.Widget]) -> w.HBox:
            return w.HBox(children) if looks is None else w.HBox(children, layout=looks.box_layout)

        rows = [box(buttons[i : i + 3]) for i in range(0, 9, 3)]
        rows.append(box([*buttons[9:], self.delete_button, self.clear_button]))
        pad = w.VBox(rows) if looks is None else w.VBox(rows, layout=looks.box_layout)
        pad.add_class("sh-numpad")
        if looks is None:
            super().__init__([self.display, pad])
        else:
            super().__init__([self.display, pad], layout=looks.box_layout)

    @property
    def text(self) -> str:
        """What the resident has entered so far."""
        return str(self.display.value)

    def key(self, key: str) -> None:
        """Tap one key (a digit or the decimal point)."""
        if len(self.text.replace(".", "")) >= self.max_digits and key != ".":
            return
        if key == "." and "." in self.text:
            return
        self._set(self.text + key)

    def _set(self, text: str) -> None:
        self.display.value = text
        if self._on_change is not None:
            self._on_change(text)
