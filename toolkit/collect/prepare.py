"""Preparing a meeting in JupyterLab with widgets: the notebook face of ``sanhui meeting new``.

:class:`PrepareMeetingApp` collects the same inputs as the command (instrument, subjects, roster,
options), previews the tablet form, and calls the same functions:
:func:`toolkit.store.meeting_setup.plan_meeting` (every problem, located) and
:func:`toolkit.store.meeting_setup.create_planned_meeting` (one transaction).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from toolkit.errors import MeetingSetupError, ToolkitError
from toolkit.store.meeting_setup import MEETING_RULES, create_planned_meeting, plan_meeting

if TYPE_CHECKING:
    from toolkit.store import Meeting, Store

__all__ = ["PrepareMeetingApp"]

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"
_WIDE = {"width": "36em"}
_STYLE = {"description_width": "9em"}


class PrepareMeetingApp:
    """Widgets to prepare one meeting; show with ``display(app.widget)``.

    Parameters
    ----------
    store : Store
        Where the meeting is created.
    surveys : Path
        Folder of instrument files offered in the list (the repository's ``surveys/``).
    """

    def __init__(self, store: Store, *, surveys: Path = SURVEYS) -> None:
        self.store = store
        files = sorted(p.name for p in surveys.glob("*.yaml"))
        self._surveys = surveys
        self.instrument = widgets.Dropdown(
            options=files,
            value="evaluation.yaml" if "evaluation.yaml" in files else None,
            description="测评表 instrument",
            style=_STYLE,
            layout=_WIDE,
        )
        self.meeting_id = widgets.Text(description="会议编号 id", style=_STYLE, layout=_WIDE)
        self.kind = widgets.Dropdown(
            options=[
                ("评议会 evaluation", "evaluation"),
                ("听证会 hearing", "hearing"),
                ("协调会 coordination", "coordination"),
            ],
            description="类别 kind",
            style=_STYLE,
            layout=_WIDE,
        )
        self.title = widgets.Text(description="标题 title", style=_STYLE, layout=_WIDE)
        self.date = widgets.Text(
            description="日期 date", placeholder="2026-03-15", style=_STYLE, layout=_WIDE
        )
        self.subjects = widgets.Textarea(
            description="评议对象 subjects",
            placeholder="每行一个：wuye=物业公司",
            style=_STYLE,
            layout={"width": "36em", "height": "6em"},
        )
        self.roster_upload = widgets.FileUpload(
            accept=".xlsx,.csv", multiple=False, description="上传名单 roster"
        )
        self.members = widgets.BoundedIntText(
            0, min=0, max=100_000, description="成员数 members", style=_STYLE
        )
        self.ballots_issued = widgets.BoundedIntText(
            0, min=0, max=100_000, description="发放选票 issued", style=_STYLE
        )
        self.codes = widgets.BoundedIntText(
            0, min=0, max=10_000, description="投票码 codes", style=_STYLE
        )
        self.rule = widgets.Dropdown(
            options=[("（不声明）", None), *[(r, r) for r in MEETING_RULES]],
            description="评定规则 rule",
            style=_STYLE,
            layout=_WIDE,
        )
        self.preview_button = widgets.Button(description="预览平板表单 preview")
        self.check_button = widgets.Button(description="检查 check")
        self.create_button = widgets.Button(description="创建 create", button_style="primary")
        self.message = widgets.HTML()
        self.preview = widgets.VBox()
        self.preview_button.on_click(lambda _b: self.show_preview())
        self.check_button.on_click(lambda _b: self.check())
        self.create_button.on_click(lambda _b: self.create())
        self.roster_path: Path | None = None
        self.text = ""  # the last message as plain text (what the notebook prints)
        self.widget = widgets.VBox(
            [
                self.instrument,
                self.meeting_id,
                self.kind,
                self.title,
                self.date,
                self.subjects,
                self.roster_upload,
                self.members,
                self.ballots_issued,
                self.rule,
                self.codes,
                widgets.HBox([self.preview_button, self.check_button, self.create_button]),
                self.message,
                self.preview,
            ]
        )

    # --- inputs -------------------------------------------------------------------------------------

    def _roster(self) -> Path | None:
        uploaded = self.roster_upload.value
        if uploaded:
            item = uploaded[0]
            folder = Path(tempfile.mkdtemp(prefix="sanhui-roster-"))
            target = folder / Path(str(item["name"])).name  # messages name the uploaded file
            target.write_bytes(bytes(item["content"]))
            return target
        return self.roster_path

    def _options(self) -> dict[str, Any]:
        subjects = [line.strip() for line in self.subjects.value.splitlines() if line.strip()]
        return {
            "meeting_id": self.meeting_id.value.strip(),
            "kind": self.kind.value,
            "title": self.title.value,
            "instrument": self._surveys / str(self.instrument.value),
            "subjects": subjects,
            "date": self.date.value.strip() or None,
            "roster": self._roster(),
            "members": self.members.value or None,
            "ballots_issued": self.ballots_issued.value or None,
            "rule": self.rule.value,
            "codes": self.codes.value,
        }

    def _show(self, text: str, *, ok: bool) -> None:
        import html

        self.text = text
        colour = "#1b5e20" if ok else "#b00020"
        lines = "<br>".join(html.escape(line) for line in text.splitlines())
        self.message.value = f'<div style="color:{colour}">{lines}</div>'

    # --- actions ------------------------------------------------------------------------------------

    def check(self) -> bool:
        """Check everything (nothing is written); show every problem or "ready"."""
        try:
            plan = plan_meeting(self.store, **self._options())
        except MeetingSetupError as error:
            self._show(str(error), ok=False)
            return False
        except ToolkitError as error:
            self._show(str(error), ok=False)
            return False
        people = 0 if plan.roster is None else len(plan.roster)
        self._show(
            f"可以创建 ready: {plan.meeting_id}, {len(plan.subjects)} subjects, "
            f"{people} people on the roster.",
            ok=True,
        )
        return True

    def create(self) -> Meeting | None:
        """Check and create the meeting in one transaction (nothing is written on a problem)."""
        try:
            plan = plan_meeting(self.store, **self._options())
            meeting = create_planned_meeting(self.store, plan)
        except ToolkitError as error:
            self._show(str(error), ok=False)
            return None
        people = 0 if plan.roster is None else len(plan.roster)
        self._show(
            f"已创建 created {meeting.meeting_id} ({meeting.kind}, {len(meeting.subjects)} "
            f"subjects, {people} people invited). It is prepared: open it with "
            f"`sanhui meeting open {meeting.meeting_id}` when voting starts.",
            ok=True,
        )
        return meeting

    def show_preview(self) -> Any:
        """Show the tablet form of the chosen instrument and subjects (it stores nothing)."""
        from toolkit.collect.form import Subject, SurveyForm
        from toolkit.instrument.model import Text
        from toolkit.store.meeting_setup import load_instrument

        try:
            survey = load_instrument(self._surveys / str(self.instrument.value))
        except ToolkitError as error:
            self._show(str(error), ok=False)
            return None
        subjects = []
        for line in self.subjects.value.splitlines():
            ident, _, label = line.strip().partition("=")
            if ident.strip():
                subjects.append(Subject(ident.strip(), Text(label.strip() or ident.strip())))
        form = SurveyForm(survey, subjects=subjects)
        form.render()
        self.preview.children = [form.root]
        return form
