"""The comment-coding app (意见编码) for researchers in JupyterLab: one comment at a time, large text,
a button and a keyboard shortcut per code, several codes per comment, a note, the coder's id.

Each coder codes the same comments on their own (``CodingApp(store, meeting, codebook,
coder="A")``); every move to another comment stores the coding at once. With two or more coders,
:meth:`CodingApp.agreement` gives Krippendorff's alpha and Fleiss' kappa per code and
:meth:`CodingApp.disagreements` the comments to reconcile; ``CodingApp(..., reconcile=True)`` then
walks through those comments, shows each coder's codes, and stores the agreed ("final") codes.

Keyboard: ipywidgets has no key events of its own, so the app has a shortcut box: with the cursor in
it, each code's key (``1`` .. ``0``) toggles the code, ``n`` (or a space) saves and moves to the
next comment, ``p`` goes back.

>>> from toolkit.instrument.coding import load_codebook
>>> import pandas as pd
>>> from toolkit.instrument import load_survey
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")
>>> _ = store.create_meeting("e1", kind="evaluation", title="评议会",
...                          instrument=load_survey("surveys/evaluation.yaml"),
...                          subjects=[{"id": "wuye", "label_zh": "物业"}])
>>> units = pd.DataFrame({"submission_id": ["s1", "s2"], "question": "comments",
...                       "text": ["晚上施工太吵", "电梯挡光"]})
>>> book = load_codebook("surveys/codebooks/comment_codes.yaml")
>>> app = CodingApp(store, "e1", book, coder="A", units=units)
>>> app.shortcut.value = "1n"                      # key 1 = 噪音扬尘, then next
>>> app.code_buttons["daylight"].click()
>>> app.next()
>>> store.codings("e1")[["submission_id", "coder", "codes"]]
  submission_id coder         codes
0            s1     A  [noise_dust]
1            s2     A    [daylight]
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from toolkit.collect.style import CSS
from toolkit.errors import DataError, ParameterError, ToolkitError
from toolkit.instrument.coding import Codebook
from toolkit.store import Store

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMENT_QUESTIONS", "CodingApp", "comment_units"]

#: The free-text questions of the evaluation ballot that are coded.
COMMENT_QUESTIONS: tuple[str, ...] = ("comments", "rectify_other")

_CSS = """
<style>
.sh-coding .sh-comment { font-size: 1.5em; line-height: 1.6; padding: 16px; margin: 8px 0;
  background: #f6f8fa; border-left: 6px solid #1f5fa8; min-height: 3em; }
.sh-coding .sh-others { color: #4a5563; }
</style>
"""


def comment_units(
    store: Store, meeting: str, *, questions: tuple[str, ...] = COMMENT_QUESTIONS
) -> pd.DataFrame:
    """The non-empty free-text answers of a meeting's valid ballots: ``submission_id``,
    ``question``, ``text``, sorted by ballot id (a random order: ids are UUIDs)."""
    import pandas as pd

    frame = store.responses(meeting)
    rows = []
    for question in questions:
        if question not in frame.columns:
            continue
        for sid, text in zip(frame["submission_id"], frame[question], strict=True):
            if isinstance(text, str) and text.strip():
                rows.append((str(sid), question, text.strip()))
    out = pd.DataFrame(rows, columns=["submission_id", "question", "text"])
    return out.sort_values(["submission_id", "question"], kind="stable").reset_index(drop=True)


class CodingApp(w.VBox):
    """Code comments one at a time; with ``reconcile=True``, settle the coders' disagreements.

    Parameters
    ----------
    store : Store
    meeting : str
    codebook : Codebook
    coder : str
        The coder's id (``A``, ``coder1``; no name needed), stored with every coding.
    units : DataFrame, optional
        ``submission_id``, ``question``, ``text``; default :func:`comment_units`.
    reconcile : bool
        Walk through the comments the coders disagree on and store the final codes.
    """

    def __init__(
        self,
        store: Store,
        meeting: str,
        codebook: Codebook,
        *,
        coder: str,
        units: pd.DataFrame | None = None,
        reconcile: bool = False,
    ) -> None:
        self.store = store
        self.meeting = meeting
        self.codebook = codebook
        self.coder = coder
        self.role = "final" if reconcile else "coder"
        store.meeting(meeting)
        all_units = comment_units(store, meeting) if units is None else units
        missing = {"submission_id", "question", "text"} - set(all_units.columns)
        if missing:
            raise ParameterError(
                f"`units` needs the columns submission_id, question and text; "
                f"{', '.join(sorted(missing))} missing."
            )
        if reconcile:
            todo = self.disagreements()
            keys = set(zip(todo["submission_id"], todo["question"], strict=True))
            mask = [
                (s, q) in keys
                for s, q in zip(all_units["submission_id"], all_units["question"], strict=True)
            ]
            all_units = all_units[mask]
        self.units = all_units.reset_index(drop=True)
        stored = self._stored(self.role)
        stored = stored[stored["coder"] == coder]
        # this coder's codings, kept in step with the store (every save writes through)
        self._mine: dict[tuple[str, str], tuple[list[str], str]] = {
            (str(s), str(q)): (list(c), str(n or ""))
            for s, q, c, n in zip(
                stored["submission_id"],
                stored["question"],
                stored["codes"],
                stored["note"],
                strict=True,
            )
        }
        self.position = 0
        self.selected: list[str] = []

        self.heading = w.HTML()
        self.progress = w.HTML()
        self.comment = w.HTML()
        self.others = w.HTML()
        self.message = w.HTML()
        self.code_buttons: dict[str, w.Button] = {}
        for code in codebook.codes:
            label = f"[{code.key}] {code.label_zh}" if code.key else code.label_zh
            button = w.Button(description=label, tooltip=code.definition)
            button.add_class("sh-choice")
            button.on_click(self._toggler(code.code))
            self.code_buttons[code.code] = button
        self.shortcut = w.Text(
            placeholder="快捷键：在此输入编码键（1…0），n 或空格=下一条，p=上一条",
            continuous_update=True,
        )
        self.shortcut.observe(self._on_keys, names="value")
        self.note = w.Textarea(placeholder="备注 Note (optional)")
        self.previous_button = w.Button(description="◀ 上一条 Previous")
        self.previous_button.on_click(lambda _b: self.previous())
        self.next_button = w.Button(description="保存，下一条 Save, next ▶")
        self.next_button.add_class("sh-primary")
        self.next_button.on_click(lambda _b: self.next())
        self.agreement_button = w.Button(description="一致性 Agreement")
        self.agreement_button.on_click(lambda _b: self.show_agreement())
        self.agreement_view = w.HTML()
        for button in (self.previous_button, self.next_button, self.agreement_button):
            button.add_class("sh-nav")
        mode = "核对分歧 Reconcile" if reconcile else "意见编码 Coding"
        self.heading.value = (
            f'<div class="sh-title">{mode} · {html.escape(codebook.title_zh)} · '
            f"编码员 coder {html.escape(coder)}</div>"
        )
        super().__init__(
            [
                w.HTML(CSS + _CSS),
                self.heading,
                self.progress,
                self.comment,
                self.others,
                w.HBox(list(self.code_buttons.values()), layout=w.Layout(flex_flow="row wrap")),
                self.shortcut,
                self.note,
                w.HBox([self.previous_button, self.next_button, self.agreement_button]),
                self.message,
                self.agreement_view,
            ]
        )
        self.add_class("sh-root")
        self.add_class("sh-coding")
        self.show(0)

    # --- moving through the comments --------------------------------------------------------------

    def _toggler(self, code: str) -> Callable[[Any], None]:
        def toggled(_button: Any) -> None:
            self.toggle(code)

        return toggled

    def _stored(self, role: str) -> Any:
        return self.store.codings(self.meeting, role=role)

    def show(self, position: int) -> None:
        """Show the comment at ``position`` with this coder's stored codes and note."""
        if self.units.empty:
            self.comment.value = (
                '<div class="sh-comment">没有需要编码的意见。 Nothing to code.</div>'
            )
            self.progress.value = ""
            return
        self.position = max(0, min(position, len(self.units) - 1))
        unit = self.units.iloc[self.position]
        codes, note = self._mine.get((str(unit["submission_id"]), str(unit["question"])), ([], ""))
        self.selected = list(codes)
        self.note.value = note
        done = len(self._mine)
        self.progress.value = (
            f'<div class="sh-progress">第 {self.position + 1} / {len(self.units)} 条 · '
            f"已编码 {done} 条 coded</div>"
        )
        self.comment.value = f'<div class="sh-comment">{html.escape(str(unit["text"]))}</div>'
        self.others.value = self._others_html(unit) if self.role == "final" else ""
        self._paint()

    def _others_html(self, unit: Any) -> str:
        coders = self._stored("coder")
        rows = coders[
            (coders["submission_id"] == unit["submission_id"])
            & (coders["question"] == unit["question"])
        ]
        parts = []
        for coder, codes in zip(rows["coder"], rows["codes"], strict=True):
            labels = "、".join(self.codebook.get(c).label_zh for c in codes) or "（无）"
            parts.append(f"{html.escape(str(coder))}：{html.escape(labels)}")
        return f'<div class="sh-others">各编码员 Coders — {"；".join(parts)}</div>'

    def _paint(self) -> None:
        for code, button in self.code_buttons.items():
            if code in self.selected:
                button.add_class("sh-selected")
            else:
                button.remove_class("sh-selected")

    def toggle(self, code: str) -> None:
        """Add or remove a code on the comment shown."""
        if code not in self.code_buttons:
            raise ParameterError(f"code {code!r} is not in codebook {self.codebook.ref}.")
        if code in self.selected:
            self.selected.remove(code)
        else:
            self.selected.append(code)
        self._paint()

    def save(self) -> bool:
        """Store the coding of the comment shown (True when stored)."""
        if self.units.empty:
            return False
        unit = self.units.iloc[self.position]
        try:
            self.store.save_coding(
                self.meeting,
                str(unit["submission_id"]),
                str(unit["question"]),
                coder=self.coder,
                codes=self.selected,
                codebook=self.codebook.ref,
                note=self.note.value,
                role=self.role,
            )
        except ToolkitError as error:
            self.message.value = (
                f'<div class="sh-error">没有保存 Not saved: {html.escape(str(error))}</div>'
            )
            return False
        key = (str(unit["submission_id"]), str(unit["question"]))
        self._mine[key] = (sorted(set(self.selected)), self.note.value.strip())
        self.message.value = '<div class="sh-status">已保存 ✓</div>'
        return True

    def next(self) -> None:
        """Save, then show the next comment."""
        if self.save():
            self.show(self.position + 1)

    def previous(self) -> None:
        """Save, then show the previous comment."""
        if self.save():
            self.show(self.position - 1)

    def _on_keys(self, change: dict[str, Any]) -> None:
        typed = str(change["new"])
        if not typed:
            return
        by_key = self.codebook.by_key()
        for key in typed:
            if key in by_key:
                self.toggle(by_key[key])
            elif key in ("n", " "):
                self.next()
            elif key == "p":
                self.previous()
        self.shortcut.value = ""

    # --- agreement --------------------------------------------------------------------------------

    def agreement(self, *, n_boot: int = 0) -> pd.DataFrame:
        """Krippendorff's alpha and Fleiss' kappa per code over the comments two or more coders
        coded (:func:`toolkit.analysis.comments.coding_agreement`)."""
        from toolkit.analysis.comments import coding_agreement

        return coding_agreement(self._stored("coder"), codes=self.codebook.code_ids, n_boot=n_boot)

    def disagreements(self) -> pd.DataFrame:
        """The comments the coders coded differently, with ``reconciled`` once final codes exist."""
        from toolkit.analysis.comments import coding_disagreements

        return coding_disagreements(self.store.codings(self.meeting))

    def show_agreement(self) -> None:
        """Show the agreement table and the number of comments to reconcile."""
        try:
            table = self.agreement()
        except DataError as error:
            self.agreement_view.value = f'<div class="sh-hint">{html.escape(str(error))}</div>'
            return
        wide = table.pivot(index="code", columns="measure", values="estimate")
        labels = {c.code: c.label_zh for c in self.codebook.codes}
        rows = "".join(
            f"<tr><td>{html.escape(labels.get(str(code), str(code)))}</td>"
            f"<td>{row['krippendorff_alpha']:.2f}</td><td>{row['fleiss_kappa']:.2f}</td></tr>"
            for code, row in wide.reindex(self.codebook.code_ids).iterrows()
        )
        todo = self.disagreements()
        open_ = int((~todo["reconciled"]).sum()) if len(todo) else 0
        self.agreement_view.value = (
            "<table><tr><th>编码 Code</th><th>Krippendorff α</th><th>Fleiss κ</th></tr>"
            f"{rows}</table><div class='sh-hint'>待核对分歧 {open_} 条 comments to reconcile</div>"
        )
