"""Printed paper for a meeting, as A4 PDF through headless Chromium: numbered ballots (with an
optional one-time code and its QR), cut-out code slips for tablets, and the results sheet (计票单).

The results sheet's numbers are those of :func:`toolkit.analysis.satisfaction_rates` and
:func:`toolkit.analysis.evaluation_verdict` over the meeting's valid ballots (see
:func:`tally_data`); ``sanhui print`` calls :func:`print_ballots`, :func:`print_codes` and
:func:`print_tally`.
"""

from __future__ import annotations

import html
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ParameterError, StoreError
from toolkit.instrument.paper import PaperField, paper_fields

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.store import Meeting, Store

__all__ = ["TallyData", "print_ballots", "print_codes", "print_tally", "tally_data"]

_RULE_ZH = {
    "majority_of_members": "全体成员过半数",
    "plurality": "相对多数",
    "score_bands": "分数段（80分以上满意，60～79分基本满意）",
}
_PAGE_MM = 297 - 2 * 12  # A4 height inside the 12 mm margins
_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 14pt;
       margin: 0; color: #000; }
.sheet { page-break-after: always; break-after: page; }
.sheet:last-child { page-break-after: auto; break-after: auto; }
.head { display: flex; justify-content: space-between; align-items: flex-start;
        border-bottom: 1.5pt solid #000; padding-bottom: 2mm; margin-bottom: 3mm; }
.head h1 { font-size: 18pt; margin: 0; }
.head .no { font-size: 14pt; font-weight: bold; white-space: nowrap; }
h2 { font-size: 15pt; margin: 3mm 0 1.5mm; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1pt solid #000; padding: 1.2mm 1.5mm; vertical-align: middle; }
th { font-weight: bold; background: #eee; }
.box { display: inline-block; width: 5mm; height: 5mm; border: 1.2pt solid #000;
       vertical-align: middle; margin-right: 1mm; }
.key { font-size: 9pt; color: #444; margin-right: 1mm; }
.opts span.opt { display: inline-block; margin: 0.8mm 4mm 0.8mm 0; white-space: nowrap; }
.line { border-bottom: 1pt solid #000; height: 9mm; }
.note { font-size: 11pt; }
.intro { font-size: 14pt; }
.code { display: flex; gap: 4mm; align-items: center; margin-top: 2mm; }
.code svg { width: 24mm; height: 24mm; }
.slips { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 0; }
.slip { border: 1pt dashed #000; height: 54mm; padding: 3mm; text-align: center;
        font-size: 12pt; overflow: hidden; }
.slip svg { width: 28mm; height: 28mm; }
.slip .digits { font-size: 16pt; font-weight: bold; letter-spacing: 1pt; }
.tally { font-size: 10pt; }
.tally td, .tally th { padding: 0.8mm 1mm; text-align: center; }
.tally td.l { text-align: left; white-space: nowrap; }
.tally td.r { white-space: nowrap; font-size: 9pt; }
.sign { display: flex; justify-content: space-between; margin-top: 10mm; font-size: 12pt; }
.sign span { display: inline-block; width: 40mm; border-bottom: 1pt solid #000; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    text = image.to_string(encoding="unicode")
    return text[text.index("<svg") :]


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def write_pdf(document: str, out: Path) -> Path:
    """Print an HTML document to ``out`` (A4) with headless Chromium."""
    from toolkit.report.meeting import html_to_pdf

    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise ParameterError(f"`--out` must name a .pdf file; got {out}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sanhui-print-") as folder:
        page = Path(folder) / "page.html"
        page.write_text(document, encoding="utf-8")
        html_to_pdf(page, out)
    return out


# --- ballots ---------------------------------------------------------------------------------------


def _field_height(field: PaperField) -> float:
    if field.kind == "choice" and field.section and field.question != field.name:
        return 10.0  # a grid row
    if field.kind in ("choice", "multiple"):
        width = sum(len(o.label) * 5.5 + 14 for o in field.options)
        return 9.0 + 7.8 * max(1, -(-width // 180))
    return 9.0 + (28.0 if field.kind == "text" else 10.0)


def _blocks(fields: Sequence[PaperField]) -> list[tuple[float, str]]:
    """The ballot's blocks (estimated height in mm, HTML), each kept on one page."""
    blocks: list[tuple[float, str]] = []
    index = 0
    while index < len(fields):
        field = fields[index]
        if field.kind == "choice" and field.name != field.question:  # a grid: its rows together
            rows = [f for f in fields[index:] if f.question == field.question]
            rows = [f for f in rows if f.section == field.section]
            heads = "".join(
                f"<th>{_e(o.label)}</th>" for o in max(rows, key=lambda f: len(f.options)).options
            )
            body = ""
            for row in rows:
                cells = "".join(
                    f'<td><span class="box"></span><span class="key">{_e(o.key)}</span></td>'
                    for o in row.options
                )
                missing = len(max(rows, key=lambda f: len(f.options)).options) - len(row.options)
                cells += "<td></td>" * missing
                body += f"<tr><td>{_e(row.label)}</td>{cells}</tr>"
            title = f"<h2>{_e(field.section)}</h2>"
            blocks.append(
                (
                    14 + 10.5 * (len(rows) + 1),
                    f"{title}<table><tr><th>项目</th>{heads}</tr>{body}</table>",
                )
            )
            index += len(rows)
            continue
        if field.kind in ("choice", "multiple"):
            hint = "（可多选）" if field.kind == "multiple" and "多选" not in field.label else ""
            opts = "".join(
                f'<span class="opt"><span class="box"></span><span class="key">{_e(o.key)}</span>'
                f"{_e(o.label)}</span>"
                for o in field.options
            )
            content = f'<div><b>{_e(field.label)}</b>{hint}</div><div class="opts">{opts}</div>'
        elif field.kind == "integer":
            content = (
                f'<div><b>{_e(field.label)}</b></div><div class="line" style="width:60mm"></div>'
            )
        else:
            content = f"<div><b>{_e(field.label)}</b></div>" + '<div class="line"></div>' * 3
        blocks.append((_field_height(field), f'<div style="margin:2mm 0">{content}</div>'))
        index += 1
    return blocks


def ballots_html(
    meeting: Meeting,
    survey: Any,
    numbers: Sequence[int],
    *,
    codes: Sequence[str] | None = None,
    form_url: str | None = None,
) -> tuple[str, int]:
    """The HTML of numbered paper ballots and the number of A4 pages it makes."""
    fields = paper_fields(survey, [(s.id, s.label_zh) for s in meeting.subjects])
    blocks = _blocks(fields)
    pages_per_ballot: list[list[str]] = [[]]
    used = 34.0 + (30.0 if codes else 0.0)  # the head, the instructions (and the code)
    for height, block in blocks:
        if used + height > _PAGE_MM - 8 and pages_per_ballot[-1]:
            pages_per_ballot.append([])
            used = 20.0
        pages_per_ballot[-1].append(block)
        used += height
    description = survey.settings.description.zh if survey.settings.description else ""
    sheets: list[str] = []
    total = len(pages_per_ballot)
    for position, number in enumerate(numbers):
        for page, blocks_html in enumerate(pages_per_ballot, start=1):
            label = f"编号 No. {number:04d}" + (f"（第{page}页/共{total}页）" if total > 1 else "")
            head = (
                f'<div class="head"><h1>{_e(meeting.title)}</h1>'
                f'<span class="no">{_e(label)}</span></div>'
            )
            intro = ""
            if page == 1:
                intro = (
                    f'<div class="intro">{_e(survey.settings.title.zh)}。{_e(description)}'
                    "请在选中的方框内打“√”，每行只选一项。</div>"
                )
                if codes:
                    code = codes[position]
                    data = f"{form_url}?code={code.replace('-', '')}" if form_url else code
                    intro += (
                        f'<div class="code">{_qr_svg(data)}<div>一次性投票码 One-time code<br>'
                        f'<b>{_e(code)}</b><br><span class="intro">也可以扫码在平板上填写；'
                        "纸质和平板只能用一次。</span></div></div>"
                    )
            sheets.append(f'<div class="sheet">{head}{intro}{"".join(blocks_html)}</div>')
    return _page(f"{meeting.title} 选票", "".join(sheets)), len(sheets)


def print_ballots(
    store: Store,
    meeting_id: str,
    out: Path,
    *,
    count: int | None = None,
    first: int = 1,
    codes: bool = False,
    form_url: str | None = None,
) -> tuple[Path, int]:
    """Print numbered paper ballots (``count`` default: the meeting's ballots issued).

    With ``codes``, one new one-time code (and its QR) per ballot; the meeting must be open.
    Returns the PDF path and its number of pages.
    """
    meeting = store.meeting(meeting_id)
    number = count if count is not None else meeting.ballots_issued
    if not number or number < 1 or number > 2000:
        raise ParameterError(
            f"how many ballots? meeting `{meeting_id}` has no ballots issued set; pass --count N "
            "(1 to 2000) or set it with `sanhui meeting edit --ballots-issued N`."
        )
    if first < 1:
        raise ParameterError(f"`--first` must be 1 or more; got {first}.")
    survey = store.instrument(meeting.instrument_id, meeting.instrument_version)
    issued = _issue_codes(store, meeting_id, number) if codes else None
    document, pages = ballots_html(
        meeting, survey, range(first, first + number), codes=issued, form_url=form_url
    )
    return write_pdf(document, out), pages


def _issue_codes(store: Store, meeting_id: str, n: int) -> list[str]:
    from toolkit.store.closing import meeting_state

    state = meeting_state(store, meeting_id)
    if state != "open":
        raise StoreError(
            f"meeting `{meeting_id}` is {state}: one-time codes are made for an open meeting. "
            f"Open it first with `sanhui meeting open {meeting_id}`; nothing was printed."
        )
    return store.issue_ballot_codes(meeting_id, n)


def print_codes(
    store: Store,
    meeting_id: str,
    out: Path,
    *,
    count: int | None = None,
    form_url: str | None = None,
) -> tuple[Path, int]:
    """Print cut-out slips of new one-time codes (15 per A4 page) for the tablets."""
    from toolkit.store.meeting_setup import meeting_settings

    meeting = store.meeting(meeting_id)
    number = count if count is not None else int(meeting_settings(store, meeting_id)["codes"] or 0)
    if number < 1 or number > 10_000:
        raise ParameterError(
            f"how many codes? meeting `{meeting_id}` plans none; pass --count N (1 to 10000) or "
            "create the meeting with --codes N."
        )
    codes = _issue_codes(store, meeting_id, number)
    slips = []
    for code in codes:
        data = f"{form_url}?code={code.replace('-', '')}" if form_url else code
        slips.append(
            f'<div class="slip">{_e(meeting.title)}<br>{_qr_svg(data)}<br>'
            f'<span class="digits">{_e(code)}</span><br>平板投票码（只能用一次）</div>'
        )
    sheets = [
        f'<div class="sheet"><div class="slips">{"".join(slips[i : i + 15])}</div></div>'
        for i in range(0, len(slips), 15)
    ]
    return write_pdf(_page(f"{meeting.title} 投票码", "".join(sheets)), out), len(sheets)


# --- the results sheet -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TallyData:
    """The numbers of the results sheet."""

    ballots: dict[str, int | None]
    counts: pd.DataFrame  # variable, subject_label, item_label, S, B, D, K, E
    rates: pd.DataFrame  # satisfaction_rates of the valid ballots
    verdict: pd.DataFrame  # evaluation_verdict of each subject's overall item, declared rule
    rule: str | None


def tally_data(store: Store, meeting_id: str) -> TallyData:
    """The results-sheet numbers of an evaluation meeting from its stored valid ballots."""
    import pandas as pd

    from toolkit.analysis import evaluation_verdict, satisfaction_rates
    from toolkit.store.meeting_setup import meeting_settings

    meeting = store.meeting(meeting_id)
    if meeting.kind != "evaluation":
        raise ParameterError(
            f"meeting `{meeting_id}` is a {meeting.kind} meeting; the results sheet (计票单) is "
            "for evaluation meetings."
        )
    survey = store.instrument(meeting.instrument_id, meeting.instrument_version)
    everything = store.responses(meeting_id, include_void=True)
    valid = everything[everything["status"] == "valid"].reset_index(drop=True)
    ballots = {
        "issued": meeting.ballots_issued,
        "returned": len(everything),
        "valid": len(valid),
        "void": int((everything["status"] == "void").sum()),
    }
    fields = [
        f
        for f in paper_fields(survey, [(s.id, s.label_zh) for s in meeting.subjects])
        if f.kind == "choice"
        and f.name != f.question
        and any(o.value == "satisfied" for o in f.options)
    ]
    columns = [f.name for f in fields]
    counted = evaluation_verdict(valid, items=columns, rule="plurality") if len(valid) else None
    counts = pd.DataFrame(
        {
            "variable": columns,
            "subject_label": [f.section for f in fields],
            "item_label": [f.label for f in fields],
        }
    )
    for key in ("satisfied", "basically_satisfied", "dissatisfied", "dont_know", "blank"):
        counts[key] = (
            counted[f"count_{key}"].astype(int).tolist()
            if counted is not None
            else [0] * len(columns)
        )
    rates = satisfaction_rates(valid, items=columns) if len(valid) else pd.DataFrame()
    rule = meeting_settings(store, meeting_id).get("rule")
    overall = [c for c in columns if c.endswith("__overall")]
    if rule and overall and len(valid):
        members = meeting.members if rule == "majority_of_members" else None
        verdict = evaluation_verdict(valid, items=overall, rule=rule, members=members)
    else:
        verdict = pd.DataFrame({"item": overall, "verdict": [None] * len(overall)})
    return TallyData(ballots, counts, rates, verdict, rule)


def _percent(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f}%"


def tally_html(meeting: Meeting, data: TallyData) -> str:
    """The HTML of the results sheet (计票单)."""
    b = data.ballots
    issued = "未填" if b["issued"] is None else b["issued"]
    head = (
        f'<div class="head"><h1>{_e(meeting.title)} 计票单</h1>'
        f'<span class="no">{_e(meeting.date.isoformat() if meeting.date else "")}</span></div>'
        f'<table class="tally"><tr><th>发放</th><th>收回</th><th>有效</th><th>无效</th></tr>'
        f"<tr><td>{issued}</td><td>{b['returned']}</td><td>{b['valid']}</td>"
        f"<td>{b['void']}</td></tr></table>"
    )
    rows = ""
    rates = data.rates.set_index(["item", "measure"]) if len(data.rates) else None
    section = None
    for record in data.counts.to_dict("records"):
        if record["subject_label"] != section:
            section = record["subject_label"]
            rows += f'<tr><td class="l" colspan="10"><b>{_e(section)}</b></td></tr>'
        cells = "".join(
            f"<td>{record[k]}</td>"
            for k in ("satisfied", "basically_satisfied", "dissatisfied", "dont_know", "blank")
        )
        figures = ""
        for measure in ("strict", "broad", "dissatisfied"):
            if rates is None:
                figures += "<td>–</td>"
                continue
            r = rates.loc[(record["variable"], measure)]
            low, high = _percent(r["ci_low"]).rstrip("%"), _percent(r["ci_high"]).rstrip("%")
            figures += f'<td class="r">{_percent(r["estimate"])} ({low}–{high})</td>'
        n = int(rates.loc[(record["variable"], "broad")]["n"]) if rates is not None else 0
        rows += (
            f'<tr><td class="l">{_e(record["item_label"])}</td>{cells}<td>{n}</td>{figures}</tr>'
        )
    table = (
        '<h2>各项评价（有效票）</h2><table class="tally"><tr><th>项目</th>'
        "<th>满意</th><th>基本<br>满意</th><th>不满意</th><th>不了解</th><th>未填</th>"
        "<th>有效<br>评价</th><th>满意率</th><th>满意+基本满意率</th><th>不满意率</th></tr>"
        f"{rows}</table>"
        '<div class="note">率 = 票数 / 有效评价（满意+基本满意+不满意），括号内为95%置信区间'
        "（Wilson，%）。</div>"
    )
    labels = {f"{s.id}__overall": s.label_zh for s in meeting.subjects}
    verdicts = "".join(
        f'<tr><td class="l">{_e(labels.get(item, item))}</td><td>{_e(v if v else "—")}</td></tr>'
        for item, v in zip(data.verdict["item"], data.verdict["verdict"], strict=True)
    )
    rule = _RULE_ZH.get(data.rule or "", "未声明（用 sanhui meeting edit --rule 声明）")
    members = f"；成员数 {meeting.members}" if data.rule == "majority_of_members" else ""
    verdict = (
        f'<h2>评议结论</h2><div class="note">评定规则：{_e(rule)}{_e(members)}</div>'
        f'<table class="tally"><tr><th>评议对象</th><th>结论（总体评价）</th></tr>{verdicts}</table>'
    )
    sign = (
        '<div class="sign"><div>计票人 <span></span></div><div>监票人 <span></span></div>'
        "<div>主持人 <span></span></div></div>"
        '<div class="sign"><div>日期 <span></span></div></div>'
    )
    return _page(
        f"{meeting.title} 计票单", f'<div class="sheet">{head}{table}{verdict}{sign}</div>'
    )


def print_tally(store: Store, meeting_id: str, out: Path) -> tuple[Path, TallyData]:
    """Print the results sheet (计票单) of an evaluation meeting."""
    meeting = store.meeting(meeting_id)
    data = tally_data(store, meeting_id)
    return write_pdf(tally_html(meeting, data), out), data
