"""The speaking-turn recorder (发言记录) for the meeting secretary, on the laptop or a tablet.

One large button per speaker category (居民, 党员, 楼组长, ...) and, where seat cards are used, one
per anonymous seat number (no names). A tap starts a turn; the next tap on the same button ends it;
a tap on another button ends the open turn and starts the new one. 撤销 (undo) takes back the last
tap: an open turn is dropped (marked undone in the store), otherwise the last ended turn is
reopened. Optional codes (提问, 建议, 反对, 赞同, 说明情况) apply to the open turn, or to the last
one when none is open.

Every tap is one store transaction (as durable as a ballot), so a reload of the page or a restart
of the server loses nothing: a new recorder restores the open turn from the store.

>>> from toolkit.instrument import load_survey
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")
>>> _ = store.create_meeting("h1", kind="hearing", title="听证会",
...                          instrument=load_survey("surveys/hearing.yaml"))
>>> recorder = TurnRecorder(store, "h1", seats={1: "resident", 2: "property"})
>>> recorder.category_buttons["resident"].click()      # a resident starts speaking
>>> recorder.code_buttons["question"].click()          # ... and asks a question
>>> recorder.seat_buttons[2].click()                   # seat 2 (物业) answers
>>> recorder.seat_buttons[2].click()                   # ... and stops
>>> store.turns("h1")[["category", "seat", "codes"]]
   category  seat        codes
0  resident  <NA>  [question]
1  property     2           []
"""

from __future__ import annotations

import hashlib
import html
import logging
import uuid as uuid_module
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w

from toolkit.collect.style import CSS
from toolkit.errors import ParameterError, StoreError, ToolkitError
from toolkit.instrument.speakers import SPEAKER_CATEGORIES, SPEAKER_LABELS, TURN_CODES
from toolkit.store import Store, Turn

__all__ = ["ROLE_CATEGORIES", "TurnRecorder", "seats_from_roster"]

log = logging.getLogger("toolkit.collect.turns")

#: Roster roles (sign-in) -> speaker categories.
ROLE_CATEGORIES: dict[str, str] = {
    "resident": "resident",
    "resident_rep": "resident",
    "party_member": "party_member",
    "building_head": "building_head",
    "owners_committee": "owners_committee",
    "deputy": "other",
    "other": "other",
}

_CSS = """
<style>
.sh-turns .sh-speaker { min-height: 88px; min-width: 150px; font-size: 1.2em; font-weight: bold; }
.sh-turns .sh-seat { min-height: 64px; min-width: 96px; }
.sh-turns .sh-speaking { background: #b3261e !important; color: #ffffff !important;
  border-color: #b3261e !important; }
.sh-turns .sh-speaking::before { content: "● "; }
.sh-turns .sh-now { font-size: 1.3em; font-weight: bold; padding: 8px 0; }
</style>
"""


def seats_from_roster(store: Store, meeting: str) -> dict[int, str]:
    """Seat numbers 1..N for the people checked in, with the speaker category of their role.

    Numbers follow the category order, then a hash of the (already anonymous) participant id, so
    they carry no name and no check-in order. Print them on seat cards.
    """
    roster = store.roster(meeting)
    if roster.empty:
        return {}
    present = roster[roster["attended"].astype(bool)]
    order = {code: i for i, code in enumerate(SPEAKER_LABELS)}
    people = sorted(
        (
            ROLE_CATEGORIES.get(str(role), "other"),
            hashlib.sha256(str(pid).encode()).hexdigest(),
        )
        for pid, role in zip(present["participant_id"], present["role"], strict=True)
    )
    people.sort(key=lambda p: (order[p[0]], p[1]))
    return {i: category for i, (category, _) in enumerate(people, start=1)}


def _now() -> datetime:
    return datetime.now(UTC)


class TurnRecorder(w.VBox):
    """Record who speaks, turn by turn, straight into the store.

    Parameters
    ----------
    store : Store
    meeting : str
        The meeting (hearing, coordination or evaluation).
    seats : mapping of int to str, optional
        Seat number -> speaker category, for per-person buttons (see :func:`seats_from_roster`).
    device : str, optional
        The recording device's label, stored with each turn.
    clock : callable, optional
        Returns the current time (tests pass a fake clock).
    """

    def __init__(
        self,
        store: Store,
        meeting: str,
        *,
        seats: Mapping[int, str] | None = None,
        device: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.meeting = meeting
        self.device = device
        self.clock = clock or _now
        record = store.meeting(meeting)
        self.seats = dict(seats or {})
        for seat, category in self.seats.items():
            if category not in SPEAKER_LABELS:
                raise ParameterError(
                    f"seat {seat}: unknown speaker category {category!r}; use one of "
                    f"{', '.join(SPEAKER_LABELS)}."
                )
        self.current: Turn | None = store.open_turn(meeting)
        self.last: Turn | None = self.current
        self._pending: tuple[str, str, int | None] | None = None

        self.category_buttons: dict[str, w.Button] = {}
        for code, zh, _en in SPEAKER_CATEGORIES:
            button = w.Button(description=zh, tooltip=f"{zh}：开始/结束发言")
            button.add_class("sh-speaker")
            button.on_click(self._tapper(code, None))
            self.category_buttons[code] = button
        self.seat_buttons: dict[int, w.Button] = {}
        for seat in sorted(self.seats):
            label = f"{seat}号 {SPEAKER_LABELS[self.seats[seat]]}"
            button = w.Button(description=label, tooltip=f"{label}：开始/结束发言")
            button.add_class("sh-seat")
            button.on_click(self._tapper(self.seats[seat], seat))
            self.seat_buttons[seat] = button
        self.code_buttons: dict[str, w.Button] = {}
        for code, zh, _en in TURN_CODES:
            button = w.Button(description=zh, tooltip=f"标记：{zh}")
            button.add_class("sh-choice")
            button.on_click(self._coder(code))
            self.code_buttons[code] = button
        self.undo_button = w.Button(description="↶ 撤销 Undo", tooltip="撤销上一次点击")
        self.undo_button.add_class("sh-nav")
        self.undo_button.on_click(lambda _b: self.undo())
        self.now = w.HTML()
        self.message = w.HTML()
        self.history = w.HTML()
        wrap = w.Layout(flex_flow="row wrap")
        children: list[w.Widget] = [
            w.HTML(CSS + _CSS),
            w.HTML(
                f'<div class="sh-title">发言记录 Speaking turns：{html.escape(record.title)}</div>'
            ),
            self.now,
            self.message,
            w.HBox(list(self.category_buttons.values()), layout=wrap),
        ]
        if self.seat_buttons:
            children += [
                w.HTML('<div class="sh-label">按座位号 By seat</div>'),
                w.HBox(list(self.seat_buttons.values()), layout=wrap),
            ]
        children += [
            w.HTML('<div class="sh-label">本次发言标记（可多选） Codes</div>'),
            w.HBox(list(self.code_buttons.values()), layout=wrap),
            self.undo_button,
            self.history,
        ]
        super().__init__(children)
        self.add_class("sh-root")
        self.add_class("sh-turns")
        self._show()

    # --- actions ----------------------------------------------------------------------------------

    def _tapper(self, category: str, seat: int | None) -> Callable[[Any], None]:
        def tapped(_button: Any) -> None:
            self.tap(category, seat=seat)

        return tapped

    def _coder(self, code: str) -> Callable[[Any], None]:
        def tapped(_button: Any) -> None:
            self.toggle_code(code)

        return tapped

    def tap(self, category: str, *, seat: int | None = None) -> Turn | None:
        """A tap on a speaker's button: end that speaker's open turn, or start a new one."""
        try:
            current = self.current
            if current is not None and current.category == category and current.seat == seat:
                ended = self.store.end_turn(current.turn_id, at=self.clock())
                self.current, self.last = None, ended
                self._done(f"已结束：{self._who(ended)}（{ended.seconds or 0:.0f} 秒）")
                return ended
            # a tap that failed is retried with the same turn id, so it is stored once
            if self._pending is None or self._pending[1:] != (category, seat):
                self._pending = (str(uuid_module.uuid4()), category, seat)
            started = self.store.start_turn(
                self.meeting,
                category,
                seat=seat,
                turn_id=self._pending[0],
                device=self.device,
                at=self.clock(),
            )
        except ToolkitError as error:
            self._failed(error)
            return None
        self._pending = None
        self.current = self.last = started
        self._done(f"开始发言：{self._who(started)}")
        return started

    def toggle_code(self, code: str) -> Turn | None:
        """Add or remove a code on the open turn (or on the last turn when none is open)."""
        target = self.current or self.last
        if target is None:
            self.message.value = (
                '<div class="sh-error">请先点发言人，再标记。 Tap a speaker first.</div>'
            )
            return None
        codes = list(target.codes)
        codes = [c for c in codes if c != code] if code in codes else [*codes, code]
        try:
            changed = self.store.set_turn_codes(target.turn_id, codes)
        except ToolkitError as error:
            self._failed(error)
            return None
        if self.current is not None and self.current.turn_id == changed.turn_id:
            self.current = changed
        self.last = changed
        self._done("已标记 ✓")
        return changed

    def undo(self) -> Turn | None:
        """Take back the last tap (drop the open turn, or reopen the last ended one)."""
        try:
            changed = self.store.undo_turn(self.meeting)
        except ToolkitError as error:
            self._failed(error)
            return None
        if changed is None:
            self.message.value = '<div class="sh-hint">没有可撤销的发言。 Nothing to undo.</div>'
            return None
        self.current = self.store.open_turn(self.meeting)
        self.last = self.current or self._latest()
        what = "已撤销" if changed.undone else "已恢复（继续计时）"
        self._done(f"{what}：{self._who(changed)}")
        return changed

    # --- display ----------------------------------------------------------------------------------

    def _latest(self) -> Turn | None:
        frame = self.store.turns(self.meeting)
        if frame.empty:
            return None
        return self.store.turn(str(frame["turn_id"].iloc[-1]))

    @staticmethod
    def _who(turn: Turn) -> str:
        label = SPEAKER_LABELS[turn.category]
        return f"{turn.seat}号 {label}" if turn.seat is not None else label

    def _failed(self, error: Exception) -> None:
        # a store error names the database (its path or URL): the page says what to do, the log
        # keeps the details
        log.warning("turn recorder, meeting %s: %s", self.meeting, error)
        detail = "" if isinstance(error, StoreError) else f"：{html.escape(str(error))}"
        self.message.value = (
            f'<div class="sh-error">没有记下，请再点一次。 Not recorded, tap again{detail}</div>'
        )

    def _done(self, text: str) -> None:
        self.message.value = f'<div class="sh-status">{html.escape(text)} ✓</div>'
        self._show()

    def _show(self) -> None:
        current = self.current
        for code, button in self.category_buttons.items():
            speaking = current is not None and current.category == code and current.seat is None
            self._mark(button, "sh-speaking", speaking)
        for seat, button in self.seat_buttons.items():
            self._mark(button, "sh-speaking", current is not None and current.seat == seat)
        target = current or self.last
        for code, button in self.code_buttons.items():
            self._mark(button, "sh-selected", target is not None and code in target.codes)
        if current is None:
            self.now.value = '<div class="sh-now">无人发言 Nobody speaking</div>'
        else:
            since = current.started_at.astimezone().strftime("%H:%M:%S")
            self.now.value = (
                f'<div class="sh-now">正在发言：{html.escape(self._who(current))}'
                f"（{since} 起）</div>"
            )
        import pandas as pd

        frame = self.store.turns(self.meeting)
        rows = []
        recent: Any = frame.tail(5).iloc[::-1].to_dict("records")
        for row in recent:
            place = "" if pd.isna(row["seat"]) else f"{int(row['seat'])}号 "
            length = "进行中" if pd.isna(row["seconds"]) else f"{float(row['seconds']):.0f} 秒"
            rows.append(f"<li>{place}{SPEAKER_LABELS[str(row['category'])]} · {length}</li>")
        self.history.value = (
            f'<div class="sh-hint">已记录 {len(frame)} 次发言 turns recorded'
            f"<ul>{''.join(rows)}</ul></div>"
        )

    @staticmethod
    def _mark(button: w.Button, css: str, on: bool) -> None:
        if on:
            button.add_class(css)
        else:
            button.remove_class(css)
