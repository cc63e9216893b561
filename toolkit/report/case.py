"""The case report (议题报告): one issue from hearing to coordination, evaluation and rectification.

:func:`case_report_data` gathers, as tidy tables: the timeline of the case's meetings (dates, days
between them, venue, outcome); the positions at the hearing with intervals; each coordination's
agreement, parties and terms; the satisfaction rates of each evaluation (overall item per subject)
with intervals and the change to the follow-up evaluation (Newcombe's interval and a test); and the
rectification items with their status and the change of the rated item they came from.

:func:`render_case_report` writes it as one self-contained HTML page (``sanhui report --case ID``);
:func:`render_meeting_page` does the same for a hearing or a coordination meeting (``sanhui report
--meeting ID`` for those kinds).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit import labels
from toolkit._checks import check_option
from toolkit.analysis import proportion_ci, rectified_vs_others
from toolkit.analysis.rectification import satisfaction_change
from toolkit.errors import DataError
from toolkit.labels import by_language
from toolkit.report.page import Section, html_table, paragraph, render_page

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["case_report_data", "case_sections", "render_case_report", "render_meeting_page"]

WORDS: dict[str, dict[str, Any]] = by_language(
    labels.CASE_WORDS, stages=labels.CASE_STAGES, venues=labels.CASE_VENUES
)


def _outcome(m: Any) -> str:
    if m.positions:
        parts = []
        for option, counts in m.positions.items():
            parts.append(f"{option}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return "; ".join(parts)
    if m.agreement:
        return f"{m.agreement}, {m.parties or '?'} parties, {len(m.terms)} terms"
    return m.verdict or ""


def case_report_data(store: Store, case_id: str) -> dict[str, Any]:
    """Every table of a case report, tidy (no rounding)."""
    case = store.case(case_id)
    rows = []
    previous = None
    for m in case.meetings:
        gap: int | None = (m.date - previous).days if (m.date and previous) else None
        rows.append(
            {"sequence": m.sequence, "date": m.date, "stage": m.stage, "meeting_id": m.meeting_id,
             "title": m.title, "venue": m.venue, "days": gap, "outcome": _outcome(m)}
        )  # fmt: skip
        previous = m.date or previous
    result: dict[str, Any] = {"case": case, "timeline": pd.DataFrame(rows)}
    hearing = next((m for m in case.meetings if m.stage == "hearing"), None)
    if hearing is not None and hearing.positions:
        frames = []
        for option, counts in hearing.positions.items():
            total = sum(counts.values())
            ci = proportion_ci(list(counts.values()), [total] * len(counts))
            ci.insert(0, "level", list(counts))
            ci.insert(0, "item", option)
            frames.append(ci)
        result["positions"] = pd.concat(frames, ignore_index=True)
    result["agreements"] = pd.DataFrame(
        [
            {"meeting_id": m.meeting_id, "date": m.date, "agreement": m.agreement,
             "parties": m.parties, "terms": "；".join(m.terms)}
            for m in case.meetings if m.stage == "coordination"
        ]
    )  # fmt: skip
    evaluations = [m for m in case.meetings if m.stage in ("evaluation", "follow_up")]
    responses = {}
    rates = []
    for m in evaluations:
        data = store.responses(m.meeting_id)
        data = data[data["status"] == "valid"]
        responses[m.meeting_id] = data
        for subject in store.meeting(m.meeting_id).subjects:
            column = f"{subject.id}__overall"
            if column not in data:
                continue
            values = data[column].dropna().astype(object)
            values = values[values != "dont_know"]
            count = int(values.isin(["satisfied", "basically_satisfied"]).sum())
            rate = {str(k): v for k, v in proportion_ci(count, len(values)).iloc[0].items()}
            rates.append({"meeting_id": m.meeting_id, "stage": m.stage, "subject": subject.id,
                          "verdict": m.verdict, **rate})  # fmt: skip
    result["satisfaction"] = pd.DataFrame(rates)
    first = next((m for m in evaluations if m.stage == "evaluation"), None)
    follow = next((m for m in evaluations if m.stage == "follow_up"), None)
    items = store.rectification_items(case_id)
    result["items"] = items
    if first is not None and follow is not None:
        before, after = responses[first.meeting_id], responses[follow.meeting_id]
        shared = [
            c for c in before.columns
            if "__" in str(c) and c in after and isinstance(before[c].dtype, pd.CategoricalDtype)
            and "satisfied" in list(before[c].cat.categories)
        ]  # fmt: skip
        if shared:
            change = satisfaction_change(before, after, items=shared)
            rectified = set(items["source_ref"].dropna()) if len(items) else set()
            change["rectified"] = change["item"].isin(rectified)
            result["change"] = change
            if change["rectified"].any() and (~change["rectified"]).any():
                result["rectified_vs"] = rectified_vs_others(
                    change, rectified=sorted(set(change["item"]) & rectified)
                )
    return result


def _ci(
    frame: pd.DataFrame, low: str = "ci_low", high: str = "ci_high", sign: bool = False
) -> list:
    form = "{:+.0%}" if sign else "{:.0%}"
    return [
        "—" if pd.isna(a) else f"{form.format(a)} – {form.format(b)}"
        for a, b in zip(frame[low], frame[high], strict=True)
    ]


def case_sections(data: dict[str, Any], *, language: str = "zh") -> list[Section]:
    """The case report's sections: timeline, positions → agreement → satisfaction →
    rectification."""
    w = WORDS[language]
    stages, venues = w["stages"], w["venues"]
    case = data["case"]
    place = " / ".join(p for p in (case.street, case.community, case.building) if p) or "—"
    intro = paragraph(w["place"].format(kind=case.kind, place=place, stage=stages[case.stage]))
    timeline = data["timeline"]
    if timeline.empty:
        sections: list[Section] = [(w["timeline"], [intro, paragraph(w["no_meetings"])])]
    else:
        shown = timeline.assign(
            stage=timeline["stage"].map(stages), venue=timeline["venue"].map(venues),
            days=timeline["days"].map(lambda v: "" if pd.isna(v) else f"{int(v)}"),
        )  # fmt: skip
        sections = [(w["timeline"], [intro, html_table(shown)])]
    if "positions" in data:
        table = data["positions"].copy()
        table["95% CI"] = _ci(table)
        table["estimate"] = table["estimate"].map(lambda v: f"{v:.0%}")
        sections.append((w["positions"], [
            html_table(table[["item", "level", "count", "n", "estimate", "95% CI"]]),
            paragraph(w["interval"], note=True)]))  # fmt: skip
    if not data["agreements"].empty:
        sections.append((w["agreement"], [html_table(data["agreements"])]))
    if not data["satisfaction"].empty:
        table = data["satisfaction"].copy()
        table["95% CI"] = _ci(table)
        table["estimate"] = table["estimate"].map(lambda v: "—" if pd.isna(v) else f"{v:.0%}")
        table["stage"] = table["stage"].map(stages)
        sections.append((w["satisfaction"], [html_table(table[
            ["stage", "meeting_id", "subject", "count", "n", "estimate", "95% CI", "verdict"]]),
            paragraph(w["interval"], note=True)]))  # fmt: skip
    if "change" in data:
        change = data["change"].copy()
        change["95% CI"] = _ci(change, sign=True)
        for column in ("estimate_before", "estimate_after"):
            change[column] = change[column].map(lambda v: "—" if pd.isna(v) else f"{v:.0%}")
        change["estimate"] = change["estimate"].map(lambda v: "—" if pd.isna(v) else f"{v:+.0%}")
        change["p_value"] = change["p_value"].map(lambda v: "—" if pd.isna(v) else f"{v:.3f}")
        sections.append((w["change"], [html_table(change[
            ["item", "rectified", "estimate_before", "estimate_after", "estimate", "95% CI",
             "p_value"]]), paragraph(w["change_note"], note=True)]))  # fmt: skip
    items = data["items"]
    fragments = [paragraph(w["none"])] if items.empty else [html_table(items[
        ["item_id", "item", "subject", "source", "source_ref", "due_date", "status", "evidence",
         "followup_meeting_id"]])]  # fmt: skip
    if "rectified_vs" in data:
        row = data["rectified_vs"].iloc[0]
        fragments.append(
            paragraph(
                w["vs"].format(
                    d=row["estimate"],
                    w=row["statistic"],
                    p=row["p_value"],
                    n=row["n"],
                    m=row["n_other"],
                )
            )
        )
    sections.append((w["rectification"], fragments))
    return sections


def _write(html: str, out: str | os.PathLike[str], pdf: bool, started: float) -> dict[str, Any]:
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        from toolkit.report.render import html_to_pdf

        pdf_path = html_to_pdf(target, target.with_suffix(".pdf"))
    return {"html": target, "pdf": pdf_path, "seconds": time.perf_counter() - started}


def render_case_report(
    case_id: str,
    *,
    out: str | os.PathLike[str],
    database_url: str | None = None,
    language: str = "zh",
    pdf: bool = False,
) -> dict[str, Any]:
    """Write the case report as a self-contained HTML page (and optionally a PDF beside it).

    Returns
    -------
    dict
        ``html`` (path), ``pdf`` (path or None), ``seconds``.
    """
    from toolkit.report.render import open_report_store

    started = time.perf_counter()
    check_option("language", language, ("zh", "en"))
    with open_report_store(database_url) as store:
        data = case_report_data(store, case_id)
    title = WORDS[language]["title"].format(title=data["case"].title)
    html = render_page(title, case_sections(data, language=language), language=language)
    return _write(html, out, pdf, started)


def render_meeting_page(
    meeting_id: str,
    *,
    out: str | os.PathLike[str],
    database_url: str | None = None,
    language: str = "zh",
    pdf: bool = False,
) -> dict[str, Any]:
    """Write the report of a hearing or a coordination meeting as one HTML page."""
    from toolkit.report.coordination import coordination_report_data, coordination_sections
    from toolkit.report.hearing import hearing_report_data, hearing_sections
    from toolkit.report.render import open_report_store

    started = time.perf_counter()
    check_option("language", language, ("zh", "en"))
    with open_report_store(database_url) as store:
        meeting = store.meeting(meeting_id)
        if meeting.kind == "hearing":
            sections = hearing_sections(hearing_report_data(store, meeting_id), language=language)
        elif meeting.kind == "coordination":
            sections = coordination_sections(
                coordination_report_data(store, meeting_id), language=language
            )
        else:
            raise DataError(
                f"meeting {meeting_id} is an {meeting.kind} meeting; its report is "
                "render_meeting_report (the evaluation report)."
            )
        venue = store.meeting_venue(meeting_id)
    head = f"{meeting.title}（{meeting.date or ''}，{WORDS[language]['venues'][venue]}）"
    html = render_page(head, sections, language=language)
    return _write(html, out, pdf, started)
