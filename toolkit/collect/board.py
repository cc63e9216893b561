"""The live board for the projector: ballots, turnout and satisfaction per evaluated subject.

Shows ballots received against ballots issued, the ballots of each channel (tablet at the meeting,
paper keyed in, online from phones) side by side, turnout against the invited, and for each evaluated
subject the strict (满意) and broad (满意 + 基本满意) rates of its overall rating with 95 % Wilson
intervals (computed by :func:`toolkit.analysis.satisfaction_rates`). Subjects with fewer than
``min_cell`` valid ratings show no rate (small cells are not published). No names appear anywhere.

The analysis stack is imported when the board first computes, never by the tablet form.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import ipywidgets as w

from toolkit.collect.signin import turnout_counts
from toolkit.collect.style import CSS
from toolkit.labels import CHANNELS
from toolkit.store import Store

__all__ = ["REFRESH_FAILED", "LiveBoard", "board_figures"]

log = logging.getLogger("toolkit.collect.board")

#: The one line the board shows (once, however often it fails) while the store cannot be read.
REFRESH_FAILED = "刷新失败，正在重试；请联系工作人员。 Refresh failed; retrying."


def board_figures(store: Store, meeting: str, *, min_cell: int = 5) -> dict[str, Any]:
    """Everything the board shows, as plain data (also used by tests and the meeting report)."""
    from toolkit.analysis.satisfaction import satisfaction_rates

    record = store.meeting(meeting)
    responses = store.responses(meeting, labels="codes", include_void=True, channel_column=True)
    valid = responses[responses["status"] == "valid"] if len(responses) else responses
    present = set(responses["channel"].dropna().astype(str)) if len(responses) else set()
    order = [c for c in CHANNELS if c in present] + sorted(present - set(CHANNELS))
    channels = [
        {
            "channel": c,
            "label": CHANNELS.get(c, {}).get("zh", c),
            "received": int((responses["channel"] == c).sum()),
            "valid": int((valid["channel"] == c).sum()),
        }
        for c in order
    ]
    counts = turnout_counts(store, meeting)
    subjects = []
    for subject in record.subjects:
        column = f"{subject.id}__overall"
        row: dict[str, Any] = {"subject": subject.id, "label": subject.label_zh, "n": 0}
        if column in valid.columns and len(valid):
            rates = satisfaction_rates(valid, items=[column], method="wilson", confidence=0.95)
            for measure in ("strict", "broad"):
                r = rates[rates["measure"] == measure].iloc[0]
                row["n"] = int(r["n"])
                row[measure] = {
                    "count": int(r["count"]),
                    "estimate": float(r["estimate"]),
                    "ci_low": float(r["ci_low"]),
                    "ci_high": float(r["ci_high"]),
                }
        row["suppressed"] = row["n"] < min_cell
        subjects.append(row)
    return {
        "meeting": meeting,
        "title": record.title,
        "issued": record.ballots_issued,
        "received": len(responses),
        "valid": len(valid),
        "void": int(len(responses) - len(valid)),
        "channels": channels,
        **counts,
        "subjects": subjects,
    }


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def render_board_html(figures: dict[str, Any]) -> str:
    """The board as HTML (large type)."""
    issued = figures["issued"]
    issued_text = f" / 发出 {issued}" if issued else ""
    rate = figures["invited_attended"] / figures["invited"] if figures["invited"] else 0.0
    by_channel = "".join(
        f'<div class="sh-channel">{html.escape(c["label"])} <span class="sh-big">{c["received"]}'
        f"</span>（有效 {c['valid']}）</div>"
        for c in figures.get("channels", [])
    )
    rows = []
    for s in figures["subjects"]:
        if s["suppressed"]:
            cells = f'<td colspan="2">有效票不足 5 张，暂不显示（{s["n"]} 张）</td>'
        else:
            strict, broad = s["strict"], s["broad"]
            cells = (
                f"<td>{_percent(strict['estimate'])}<br><small>95% CI {_percent(strict['ci_low'])}–"
                f"{_percent(strict['ci_high'])}</small></td>"
                f"<td>{_percent(broad['estimate'])}<br><small>95% CI {_percent(broad['ci_low'])}–"
                f"{_percent(broad['ci_high'])}</small></td>"
            )
        rows.append(f"<tr><td>{html.escape(s['label'])}</td>{cells}<td>{s['n']}</td></tr>")
    return (
        f'<div class="sh-board"><div class="sh-title">{html.escape(figures["title"])}</div>'
        f'<div>已收选票 <span class="sh-big">{figures["received"]}</span>{issued_text}'
        f"（有效 {figures['valid']}，无效 {figures['void']}）</div>"
        f"{by_channel}"
        f'<div>到会 <span class="sh-big">{figures["attended"]}</span> / 应到 {figures["invited"]}'
        f"（到会率 {_percent(rate)}）</div>"
        "<table><tr><th>评议对象</th><th>满意率</th><th>满意+基本满意</th><th>有效票</th></tr>"
        f"{''.join(rows)}</table>"
        "<div><small>满意率 = 满意 / 有效票；有效票不含“不了解”和未填。区间为 95% Wilson 置信区间。"
        "</small></div></div>"
    )


class LiveBoard(w.VBox):
    """The board widget; :meth:`start` refreshes it every ``interval`` seconds in the kernel."""

    def __init__(self, store: Store, meeting: str, *, interval: float = 3.0, min_cell: int = 5):
        self.store = store
        self.meeting = meeting
        self.interval = interval
        self.min_cell = min_cell
        self.view = w.HTML()
        self.figures: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        super().__init__([w.HTML(CSS), self.view])
        self.refresh()

    def refresh(self) -> dict[str, Any]:
        try:
            self.figures = board_figures(self.store, self.meeting, min_cell=self.min_cell)
        except Exception:  # keep the last figures on screen with one short line; details in the log
            log.exception("sanhui: the board could not refresh")
            shown = render_board_html(self.figures) if self.figures else ""
            self.view.value = shown + f'<div class="sh-error">{REFRESH_FAILED}</div>'
            return self.figures
        self.view.value = render_board_html(self.figures)
        return self.figures

    def start(self) -> None:
        """Refresh periodically on the running event loop (the server's page, or JupyterLab)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # plain Python (a script, a test): no loop to tick on; call refresh()
            return

        async def tick() -> None:
            while True:
                await asyncio.sleep(self.interval)
                self.refresh()

        self._task = loop.create_task(tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
