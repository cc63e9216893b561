"""Keying paper ballots twice (double data entry, as EpiData and REDCap do it), keyboard only.

:class:`KeyingApp` is an ipywidgets app for JupyterLab. One text box takes everything: type the
paper ballot's number and press Enter, then for each answer the digit printed beside the ticked box
(``0`` for a blank, several digits for a multiple choice, the number or text itself) and Enter.
``-`` and Enter goes back one answer. The mouse is never needed.

Each ballot number is keyed twice, by two people or by one person later (the first keying is kept
as a draft in the store, so it survives a restart and can be keyed on another machine). After the
second keying the two are compared; differences are shown side by side and resolved one by one by
typing what the paper says. Only then is the ballot stored, with entry mode ``paper``, under an id
made from the meeting and the ballot number, so a paper ballot is stored only once. Blanks stay
blanks.

Examples
--------
>>> from toolkit.store import Store
>>> from toolkit.store.meeting_setup import create_planned_meeting, plan_meeting
>>> from toolkit.store.closing import open_meeting
>>> store = Store.open("sqlite://")
>>> _ = create_planned_meeting(store, plan_meeting(store, meeting_id="m1", kind="evaluation",
...     title="评议会", instrument="surveys/evaluation.yaml", subjects=["wuye=物业公司"]))
>>> _ = open_meeting(store, "m1")
>>> app = KeyingApp(store, "m1")
>>> app.type("1")                                  # ballot No. 1, first keying
>>> for _ in app.fields: app.type("0")             # every answer left blank on paper
>>> app.type("1"); [app.type("0") for _ in app.fields] and None
>>> app.progress_counts()
{'keyed': 1, 'compared': 1, 'resolved': 1}
>>> store.close()
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as widgets
import sqlalchemy as sa

from toolkit.errors import AnswerError, ToolkitError
from toolkit.instrument.paper import PaperField, answers_from_keys, paper_fields
from toolkit.store import schema as t
from toolkit.store.records import Submission

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["KeyingApp", "paper_ballot_uuid"]

#: Namespace of the ids of paper ballots: uuid5(namespace, "<meeting>/paper/<number>").
PAPER_NAMESPACE = uuid.UUID("5a8e0c6e-2f0b-4f43-9d0f-3e5c1b7a9d21")
_CODE_FIELD = "_ballot_code"
_MAX_NUMBER = 99_999
State = Literal["number", "fields", "resolve"]


def paper_ballot_uuid(meeting_id: str, number: int) -> str:
    """The submission id of paper ballot ``number`` of a meeting (the same every time)."""
    return str(uuid.uuid5(PAPER_NAMESPACE, f"{meeting_id}/paper/{number}"))


class KeyingApp:
    """The double-entry keying app of one meeting; show it with ``display(app.widget)``.

    Parameters
    ----------
    store : Store
    meeting_id : str
        An open meeting.
    """

    def __init__(self, store: Store, meeting_id: str) -> None:
        self.store = store
        self.meeting = store.meeting(meeting_id)
        self.survey = store.instrument(self.meeting.instrument_id, self.meeting.instrument_version)
        subjects = [(s.id, s.label_zh) for s in self.meeting.subjects]
        fields = list(paper_fields(self.survey, subjects))
        if store.meeting_uses_ballot_codes(meeting_id):
            fields.insert(0, PaperField(_CODE_FIELD, _CODE_FIELD, "text", "投票码", "一次性投票码"))
        self.fields: tuple[PaperField, ...] = tuple(fields)
        self.state: State = "number"
        self.number: int | None = None
        self.keying_pass = 1
        self.position = 0
        self.keyed: dict[str, str] = {}
        self.first: dict[str, str] = {}
        self.differences: list[str] = []
        self.entry = widgets.Text(
            placeholder="输入后按回车 Enter", continuous_update=False, layout={"width": "18em"}
        )
        self.entry.add_class("sanhui-keying-entry")
        self.prompt = widgets.HTML()
        self.message = widgets.HTML()
        self.sheet = widgets.HTML()
        self.progress = widgets.HTML()
        self.widget = widgets.VBox(
            [self.progress, self.prompt, self.entry, self.message, self.sheet]
        )
        self.entry.observe(self._on_enter, "value")
        self._render()

    # --- input ------------------------------------------------------------------------------------

    def type(self, text: str) -> None:
        """Type ``text`` and press Enter (what the browser sends; tests drive the app with it)."""
        self.entry.value = text

    def _on_enter(self, change: Mapping[str, Any]) -> None:
        text = str(change["new"]).strip()
        if change["new"] == "":
            return  # our own clearing of the box
        self.message.value = ""
        try:
            if self.state == "number":
                self._take_number(text)
            elif self.state == "fields":
                self._take_answer(text)
            else:
                self._take_resolution(text)
        except ToolkitError as error:  # e.g. the meeting was closed: nothing stored
            self._say(str(error), bad=True)
            if self.state != "number" and self.position >= len(self.fields):
                self.state = "number"
        self.entry.value = ""
        self._render()
        self.entry.focus()  # the cursor stays in the box: no mouse needed

    def _say(self, text: str, *, bad: bool = False) -> None:
        colour = "#b00020" if bad else "#1b5e20"
        lines = "<br>".join(html.escape(line) for line in text.splitlines())
        self.message.value = f'<div style="color:{colour};font-size:14pt">{lines}</div>'

    # --- ballot number ------------------------------------------------------------------------------

    def _device(self, number: int, keying_pass: int) -> str:
        return f"keying:{self.meeting.meeting_id}:{number}:{keying_pass}"

    def _stored(self, number: int) -> bool:
        s = t.submissions
        with self.store.engine.connect() as connection:
            row = connection.execute(
                sa.select(s.c.submission_id).where(
                    s.c.submission_id == paper_ballot_uuid(self.meeting.meeting_id, number)
                )
            ).first()
        return row is not None

    def _take_number(self, text: str) -> None:
        if not text.isdigit() or not 1 <= int(text) <= _MAX_NUMBER:
            self._say(
                f"“{text}”不是选票编号：请输入纸质选票右上角的数字（1～{_MAX_NUMBER}）。", bad=True
            )
            return
        number = int(text)
        if self._stored(number):
            self._say(
                f"No. {number} 已经录入、核对并保存；同一张纸质选票只能保存一次。请拿下一张。",
                bad=True,
            )
            return
        first = self.store.load_draft(self._device(number, 1))
        second = self.store.load_draft(self._device(number, 2))
        self.number = number
        self.keyed = {}
        self.position = 0
        if first is None:
            self.keying_pass = 1
            self.state = "fields"
        elif second is None:
            self.keying_pass = 2
            self.first = dict(first.answers)
            self.state = "fields"
        else:
            self.first = dict(first.answers)
            self.keyed = dict(second.answers)
            self._compare()

    # --- answers ------------------------------------------------------------------------------------

    def _check(self, field: PaperField, text: str) -> str | None:
        """The keyed value ("" for blank), or None if ``text`` cannot be an answer here."""
        if text == "0":
            return ""
        keys = {o.key for o in field.options}
        if field.kind == "choice":
            return text if text in keys else None
        if field.kind == "multiple":
            parts = text.replace(",", " ").split() if len(keys) > 9 else list(text)
            return "".join(sorted(set(parts), key=parts.index)) if set(parts) <= keys else None
        if field.kind == "integer":
            try:
                float(text)
            except ValueError:
                return None
        return text

    def _take_answer(self, text: str) -> None:
        if text == "-":
            self.position = max(0, self.position - 1)
            return
        field = self.fields[self.position]
        value = self._check(field, text)
        if value is None:
            self._say(f"“{text}”不是这一题的选项：{self._choices(field)}", bad=True)
            return
        self.keyed[field.name] = value
        self.position += 1
        if self.position < len(self.fields):
            return
        assert self.number is not None
        self.store.save_draft(
            self._device(self.number, self.keying_pass),
            paper_ballot_uuid(self.meeting.meeting_id, self.number),
            self.keyed,
            meeting_id=self.meeting.meeting_id,
        )
        if self.keying_pass == 1:
            self._say(f"No. {self.number} 第一遍录入完成。第二遍请换人录入或稍后再录。")
            self.state = "number"
        else:
            self._compare()

    def _compare(self) -> None:
        names = [f.name for f in self.fields]
        self.differences = [n for n in names if self.first.get(n, "") != self.keyed.get(n, "")]
        if self.differences:
            self.state = "resolve"
            self._say(
                f"No. {self.number}：两遍录入有 {len(self.differences)} 处不同，请对照纸质选票逐一核对。",
                bad=True,
            )
        else:
            self._store_ballot()

    def _take_resolution(self, text: str) -> None:
        name = self.differences[0]
        field = next(f for f in self.fields if f.name == name)
        value = self._check(field, text)
        if value is None:
            self._say(f"“{text}”不是这一题的选项：{self._choices(field)}", bad=True)
            return
        self.keyed[name] = value
        self.first[name] = value
        self.differences.pop(0)
        if not self.differences:
            self._store_ballot()

    def _store_ballot(self) -> None:
        assert self.number is not None
        number = self.number
        keyed = {k: v for k, v in self.keyed.items() if k != _CODE_FIELD}
        answers = answers_from_keys(
            self.survey, self.fields, keyed, subjects=self.meeting.subject_ids
        )
        code = self.keyed.get(_CODE_FIELD) or None
        submission = Submission(
            paper_ballot_uuid(self.meeting.meeting_id, number),
            self.meeting.meeting_id,
            answers,
            device="keying",
            paradata={"paper_ballot": number},
            ballot_code=code,
            mode="paper",
        )
        try:
            self.store.submit(submission)
        except AnswerError as error:
            wrong = [p.field for p in error.problems if p.field in {f.name for f in self.fields}]
            code_problem = any(p.field == "ballot_code" for p in error.problems)
            self.differences = [*(["_ballot_code"] if code_problem else []), *wrong]
            self.state = "resolve" if self.differences else "number"
            self._say(
                f"No. {number} 未保存：\n"
                + "\n".join(str(p) for p in error.problems)
                + ("\n请核对纸质选票后重新输入这些题（空白输入 0）。" if self.differences else ""),
                bad=True,
            )
            return
        self.state = "number"
        self.number = None
        self._say(f"No. {number} 两遍一致，已保存（纸质）。请输入下一张的编号。")

    # --- display ------------------------------------------------------------------------------------

    @staticmethod
    def _choices(field: PaperField) -> str:
        if field.kind == "integer":
            return "输入数字，空白输入 0"
        if field.kind == "text":
            return "照抄文字，空白输入 0"
        shown = "  ".join(f"{o.key}={o.label}" for o in field.options)
        many = "（可多选：连续输入数字）" if field.kind == "multiple" else ""
        return f"{shown}  0=空白{many}"

    def _shown(self, field: PaperField, value: str | None) -> str:
        if value is None:
            return "…"
        if value == "":
            return "（空白）"
        labels = {o.key: o.label for o in field.options}
        if field.kind in ("choice", "multiple") and labels:
            parts = value.replace(",", " ").split() if len(labels) > 9 else list(value)
            return "、".join(f"{p} {labels.get(p, '?')}" for p in parts)
        return value

    def progress_counts(self) -> dict[str, int]:
        """Ballots ``keyed`` (at least once), ``compared`` (keyed twice) and ``resolved`` (stored)."""
        prefix = f"keying:{self.meeting.meeting_id}:"
        d, s = t.drafts, t.submissions
        with self.store.engine.connect() as connection:
            devices = (
                connection.execute(sa.select(d.c.device).where(d.c.device.like(f"{prefix}%")))
                .scalars()
                .all()
            )
            stored = connection.execute(
                sa.select(sa.func.count()).where(
                    s.c.meeting_id == self.meeting.meeting_id, s.c.mode == "paper"
                )
            ).scalar_one()
        first = {x.rsplit(":", 1)[0] for x in devices if x.endswith(":1")}
        second = {x.rsplit(":", 1)[0] for x in devices if x.endswith(":2")}
        return {
            "keyed": len(first) + int(stored),
            "compared": len(second) + int(stored),
            "resolved": int(stored),
        }

    def _render(self) -> None:
        if self.state == "number" or self.position == 0:  # not on every keystroke
            self._render_progress()
        self._render_prompt()

    def _render_progress(self) -> None:
        counts = self.progress_counts()
        self.progress.value = (
            f'<div style="font-size:13pt"><b>{html.escape(self.meeting.title)}</b> 纸质选票双录入：'
            f"已录入 {counts['keyed']} 张 · 已比对 {counts['compared']} 张 · "
            f"已核对保存 {counts['resolved']} 张</div>"
        )

    def _render_prompt(self) -> None:
        if self.state == "number":
            self.prompt.value = '<div style="font-size:16pt">纸质选票编号（右上角 No.）：</div>'
            self.sheet.value = ""
            return
        if self.state == "fields":
            field = self.fields[self.position]
            where = f"{field.section} · " if field.section else ""
            self.prompt.value = (
                f'<div style="font-size:16pt">No. {self.number} 第{self.keying_pass}遍 '
                f"（{self.position + 1}/{len(self.fields)}）<br><b>{html.escape(where)}"
                f"{html.escape(field.label)}</b></div>"
                f'<div style="font-size:14pt">{html.escape(self._choices(field))}　'
                "（- 回车：上一题）</div>"
            )
            rows = "".join(
                f"<tr><td>{html.escape(f.section)}</td><td>{html.escape(f.label)}</td>"
                f"<td>{html.escape(self._shown(f, self.keyed.get(f.name)))}</td></tr>"
                for f in self.fields[max(0, self.position - 6) : self.position]
            )
            self.sheet.value = f"<table>{rows}</table>"
            return
        name = self.differences[0]
        field = next(f for f in self.fields if f.name == name)
        self.prompt.value = (
            f'<div style="font-size:16pt">No. {self.number} 核对：<b>'
            f"{html.escape(field.section)} · {html.escape(field.label)}</b> 纸上是？</div>"
            f'<div style="font-size:14pt">{html.escape(self._choices(field))}</div>'
        )
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(f"{f.section} · {f.label}"),
                html.escape(self._shown(f, self.first.get(f.name, ""))),
                html.escape(self._shown(f, self.keyed.get(f.name, ""))),
            )
            for f in self.fields
            if f.name in self.differences
        )
        self.sheet.value = (
            '<table style="font-size:14pt"><tr><th>题目</th><th>第一遍</th><th>第二遍</th></tr>'
            f"{rows}</table>"
        )
