"""The sign-in page (签到) for staff: find a roster entry, check in, register walk-ins.

Names are shown only here (the store's sign-in search is the only reader of the names table), never on
the board or in any export. Turnout updates after every check-in.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from toolkit.collect.controls import ChoiceGroup
from toolkit.collect.style import CSS
from toolkit.errors import ToolkitError
from toolkit.store import Store

__all__ = ["SignInPage", "turnout_counts"]

ROLES = (
    ("resident", "居民"),
    ("resident_rep", "居民代表"),
    ("building_head", "楼组长"),
    ("party_member", "党员"),
    ("owners_committee", "业委会成员"),
    ("deputy", "人大代表/政协委员"),
    ("other", "其他"),
)
GENDERS = (("female", "女"), ("male", "男"))
AGE_BANDS = tuple((a, a) for a in ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"))
NOT_FOUND = (
    "没有找到，请换个写法或现场登记。 Nobody found; try another spelling or register a walk-in."
)
FLOOR_BANDS = (("1-3", "1–3 层"), ("4-6", "4–6 层"), ("7+", "7 层以上"))


def turnout_counts(store: Store, meeting: str) -> dict[str, int]:
    """Invited, checked in (of the invited), walk-ins and attended in all, for one meeting."""
    table = store.roster(meeting)
    invited = int(table["invited"].sum()) if len(table) else 0
    attended = int(table["attended"].sum()) if len(table) else 0
    invited_attended = int((table["invited"] & table["attended"]).sum()) if len(table) else 0
    return {
        "invited": invited,
        "invited_attended": invited_attended,
        "walk_ins": attended - invited_attended,
        "attended": attended,
    }


class SignInPage(w.VBox):
    """Search the roster by name, room or building and check people in; register walk-ins."""

    def __init__(self, store: Store, meeting: str, *, client: str | None = None) -> None:
        self.store = store
        #: the client's network address (``sanhui serve`` passes it), for logs and limits
        self.client = client
        self.meeting = meeting
        record = store.meeting(meeting)
        self.turnout = w.HTML()
        self.search = w.Text(
            placeholder="姓名、楼号或房间号 Name, building or room", continuous_update=True
        )
        self.search.observe(lambda _c: self.refresh_results(), names="value")
        self.results = w.VBox()
        self.message = w.HTML()
        self.walk_in_fields: dict[str, Any] = {
            "role": ChoiceGroup(ROLES),
            "gender": ChoiceGroup(GENDERS),
            "age_band": ChoiceGroup(AGE_BANDS),
            "floor_band": ChoiceGroup(FLOOR_BANDS),
            "building": w.Text(placeholder="楼号 Building"),
            "name": w.Text(placeholder="姓名（可不填） Name, optional"),
        }
        register = w.Button(description="登记并签到 Register and check in")
        register.add_class("sh-primary")
        register.on_click(lambda _b: self.register_walk_in())
        self.register_button = register
        labels = {
            "role": "身份",
            "gender": "性别",
            "age_band": "年龄段",
            "floor_band": "楼层",
            "building": "楼号",
            "name": "姓名",
        }
        walk_in = w.VBox(
            [w.HTML('<div class="sh-title">现场登记 Walk-in</div>')]
            + [
                w.VBox([w.HTML(f'<div class="sh-label">{labels[k]}</div>'), v])
                for k, v in self.walk_in_fields.items()
            ]
            + [register]
        )
        title = html.escape(record.title)
        super().__init__(
            [
                w.HTML(CSS),
                w.HTML(f'<div class="sh-title">签到 Sign-in：{title}</div>'),
                self.turnout,
                self.message,
                self.search,
                self.results,
                walk_in,
            ]
        )
        self.add_class("sh-root")
        self.update_turnout()

    def update_turnout(self) -> dict[str, int]:
        counts = turnout_counts(self.store, self.meeting)
        rate = counts["invited_attended"] / counts["invited"] if counts["invited"] else 0.0
        self.turnout.value = (
            f'<div class="sh-label">已签到 {counts["attended"]} 人（应到 {counts["invited"]} 人，'
            f"到会率 {rate:.0%}；现场登记 {counts['walk_ins']} 人）</div>"
        )
        return counts

    def refresh_results(self) -> None:
        text = self.search.value.strip()
        if not text:
            self.results.children = []
            return
        found = self.store.search_participants(self.meeting, text, limit=20)
        rows = []
        for row in found.to_dict("records"):
            label = f"{row['name']}　{row['building'] or ''} 号楼 {row['room'] or ''}"
            button = w.Button(
                description="已签到 ✓" if row["checked_in"] else "签到 Check in",
                disabled=bool(row["checked_in"]),
            )
            button.add_class("sh-small-button")
            button.on_click(self._checker(str(row["participant_id"]), bool(row["invited"])))
            rows.append(
                w.HBox([w.HTML(f'<div class="sh-label">{html.escape(label)}</div>'), button])
            )
        if not rows:
            rows = [w.HTML(NOT_FOUND)]
        self.results.children = rows

    def _checker(self, participant_id: str, invited: bool) -> Any:
        return lambda _button: self.check_in(participant_id, invited=invited)

    def check_in(self, participant_id: str, *, invited: bool = True) -> None:
        try:
            self.store.check_in(self.meeting, participant_id, walk_in=not invited)
        except ToolkitError as error:
            self.message.value = f'<div class="sh-error">{html.escape(str(error))}</div>'
            return
        self.message.value = '<div class="sh-status">签到成功 ✓</div>'
        self.update_turnout()
        self.refresh_results()

    def register_walk_in(self) -> str | None:
        f = self.walk_in_fields
        try:
            pid = self.store.register_walk_in(
                self.meeting,
                role=f["role"].value,
                gender=f["gender"].value,
                age_band=f["age_band"].value,
                floor_band=f["floor_band"].value,
                building=f["building"].value.strip() or None,
                name=f["name"].value.strip() or None,
            )
        except ToolkitError as error:
            self.message.value = f'<div class="sh-error">{html.escape(str(error))}</div>'
            return None
        self.message.value = '<div class="sh-status">已登记并签到 ✓</div>'
        for key in ("building", "name"):
            f[key].value = ""
        for key in ("role", "gender", "age_band", "floor_band"):
            f[key]._show(None)
        self.update_turnout()
        return pid
