"""The codebook (data dictionary) of an instrument version: what every exported column means.

One row per column: the variable name, its labels in Chinese and English, its type, the allowed
values with their labels (and the numbers used in SPSS/Stata files), the missing codes, and when it
is asked (relevance), as a table (:func:`codebook`), and as CSV, XLSX, Markdown or HTML
(:func:`write_codebook`).

Missing codes, in every export: a blank cell means "not answered or not shown" (the question was
not relevant, or the rater skipped it); ``dont_know`` (不了解) is a separate answer of grid items
that offer it, numbered :data:`~toolkit.exports.tables.DONT_KNOW_NUMBER` (98) and declared missing
in SPSS files.

Examples
--------
>>> from toolkit.instrument.loader import load_survey
>>> book = codebook(load_survey("surveys/evaluation.yaml"), subjects=("wuye",))
>>> row = book.set_index("variable").loc["wuye__attitude"]
>>> print(row["type"], "|", row["missing"])
grid | dont_know = 不了解 / Don't know (98); blank = not answered or not shown
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from toolkit._checks import check_option
from toolkit.errors import ParameterError
from toolkit.exports.formats import write_xlsx
from toolkit.exports.safe import neutralize_frame
from toolkit.exports.tables import DONT_KNOW_NUMBER, Column, describe_columns, safe_names
from toolkit.instrument.model import DONT_KNOW, Survey, Text

__all__ = ["CODEBOOK_COLUMNS", "codebook", "value_labels", "write_codebook"]

#: The columns of :func:`codebook`.
CODEBOOK_COLUMNS: tuple[str, ...] = (
    "variable",
    "source",
    "label_zh",
    "label_en",
    "type",
    "question",
    "subject",
    "item",
    "values",
    "numeric_codes",
    "missing",
    "relevant",
    "required",
    "constraint",
)
_BLANK = "blank = not answered or not shown"


def _values(column: Column) -> str:
    if not column.codes:
        return ""
    parts = []
    for code, label in zip(column.codes, column.labels, strict=True):
        text = label.zh if not label.en else f"{label.zh} / {label.en}"
        parts.append(f"{code} = {text}")
    return "; ".join(parts)


def _numbers(column: Column) -> str:
    if column.kind == "indicator":
        return "0 = not selected; 1 = selected"
    if not column.codes:
        return ""
    return "; ".join(f"{number} = {code}" for code, number in column.numbers().items())


def _missing(column: Column) -> str:
    if column.kind in ("meta", "time"):
        return ""
    if column.dont_know:
        dk = column.labels[column.codes.index(DONT_KNOW)]
        text = dk.zh if not dk.en else f"{dk.zh} / {dk.en}"
        return f"{DONT_KNOW} = {text} ({DONT_KNOW_NUMBER}); {_BLANK}"
    if column.kind == "indicator":
        return "blank = question not answered or not shown"
    return _BLANK


def codebook(
    survey: Survey,
    *,
    columns: Sequence[str] | None = None,
    subjects: Sequence[str] = (),
    subject_labels: Mapping[str, Text] | None = None,
) -> pd.DataFrame:
    """The data dictionary of an instrument version (or of the columns of one export).

    Parameters
    ----------
    survey : Survey
        The instrument version.
    columns : sequence of str, optional
        The columns of an exported table; default the meta columns and every variable.
    subjects : sequence of str
        Subjects of per-subject grids (``wuye__attitude``...).
    subject_labels : mapping, optional
        Subject id → label (e.g. ``Text("物业公司", "Property management")``).

    Returns
    -------
    DataFrame
        Columns :data:`CODEBOOK_COLUMNS`: ``variable`` (the exported name, valid in Stata),
        ``source`` (the name in the store, when it differs), labels, ``type`` (meta, time, single,
        grid, indicator, integer, decimal, text, date), ``values`` (code = label), ``numeric_codes``
        (the numbers in SPSS/Stata files), ``missing``, ``relevant`` (the page's and the question's
        conditions), ``required``, ``constraint``.

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> book = codebook(load_survey("surveys/evaluation.yaml"))
    >>> book.set_index("variable").loc["rectify_other", "relevant"]
    "selected(${rectify}, 'other')"
    """
    described = describe_columns(survey, columns, subjects=subjects, subject_labels=subject_labels)
    names = safe_names([c.name for c in described])
    rows = []
    for column in described:
        rows.append(
            {
                "variable": names[column.name],
                "source": column.name if names[column.name] != column.name else "",
                "label_zh": column.label.zh,
                "label_en": column.label.en or "",
                "type": column.kind,
                "question": column.question or "",
                "subject": column.subject or "",
                "item": column.item or column.choice or "",
                "values": _values(column),
                "numeric_codes": _numbers(column),
                "missing": _missing(column),
                "relevant": column.relevant or "",
                "required": "yes" if column.required else "",
                "constraint": column.constraint or "",
            }
        )
    return pd.DataFrame(rows, columns=list(CODEBOOK_COLUMNS))


def value_labels(survey: Survey) -> pd.DataFrame:
    """Every choice list of the instrument: one row per value.

    Returns
    -------
    DataFrame
        ``list, position, value, number, label_zh, label_en, points, ordered``; the 不了解 answer
        of lists used by grids that offer it is the last row of its list (number 98).

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> v = value_labels(load_survey("surveys/evaluation.yaml"))
    >>> v[v["list"] == "satisfaction"]["value"].tolist()
    ['satisfied', 'basically_satisfied', 'dissatisfied', 'dont_know']
    """
    dk_lists = {
        q.choices
        for q in survey.questions
        if q.type == "grid" and any(i.allow_dont_know for i in q.items)
    }
    rows = []
    for scale in survey.choice_lists.values():
        for position, choice in enumerate(scale.choices, 1):
            rows.append(
                {
                    "list": scale.id,
                    "position": position,
                    "value": choice.value,
                    "number": position,
                    "label_zh": choice.label.zh,
                    "label_en": choice.label.en or "",
                    "points": choice.points,
                    "ordered": scale.ordered,
                }
            )
        if scale.id in dk_lists:
            rows.append(
                {
                    "list": scale.id,
                    "position": len(scale.choices) + 1,
                    "value": DONT_KNOW,
                    "number": DONT_KNOW_NUMBER,
                    "label_zh": scale.dont_know_label.zh,
                    "label_en": scale.dont_know_label.en or "",
                    "points": None,
                    "ordered": scale.ordered,
                }
            )
    return pd.DataFrame(rows)


def _markdown_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown(survey: Survey, book: pd.DataFrame, values: pd.DataFrame) -> str:
    s = survey.settings
    lines = [
        f"# 数据字典 Codebook: {_markdown_cell(s.title.zh)}"
        + (f" / {_markdown_cell(s.title.en)}" if s.title.en else ""),
        "",
        f"- instrument: `{s.id}`, version `{s.version}`, kind {s.kind}",
        f"- content hash: `{survey.content_hash}`",
        "- missing values: a blank cell is *not answered or not shown*; "
        f"`{DONT_KNOW}` (不了解) is numbered {DONT_KNOW_NUMBER} in SPSS/Stata files.",
        "",
        "## Variables",
        "",
        "| " + " | ".join(book.columns) + " |",
        "|" + "---|" * len(book.columns),
    ]
    for row in book.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_cell(v) for v in row) + " |")
    lines += ["", "## Value labels", "", "| " + " | ".join(values.columns) + " |"]
    lines.append("|" + "---|" * len(values.columns))
    for row in values.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _html_table(frame: pd.DataFrame) -> str:
    """The table as HTML, every cell escaped (pandas' ``to_html``), blanks left empty."""
    return frame.to_html(index=False, na_rep="", border=0, escape=True)


def _html(survey: Survey, book: pd.DataFrame, values: pd.DataFrame) -> str:
    s = survey.settings
    title = html.escape(s.title.zh + (f" / {s.title.en}" if s.title.en else ""))
    return f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>数据字典 Codebook: {title}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #bbb; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }}
th {{ background: #eee; }}
</style>
</head>
<body>
<h1>数据字典 Codebook: {title}</h1>
<p>instrument <code>{html.escape(s.id)}</code>, version <code>{html.escape(s.version)}</code>,
kind {html.escape(s.kind)}; content hash <code>{survey.content_hash}</code>.</p>
<p>Missing values: a blank cell is <em>not answered or not shown</em>; <code>{DONT_KNOW}</code>
(不了解) is numbered {DONT_KNOW_NUMBER} in SPSS/Stata files.</p>
<h2>Variables</h2>
{_html_table(book)}
<h2>Value labels</h2>
{_html_table(values)}
</body>
</html>
"""


def write_codebook(
    survey: Survey,
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    subjects: Sequence[str] = (),
    subject_labels: Mapping[str, Text] | None = None,
    bom: bool = False,
) -> Path:
    """Write the codebook as CSV, XLSX (sheets ``codebook`` and ``values``), Markdown or HTML.

    Parameters
    ----------
    survey : Survey
    path : str or Path
        The file; its extension (``.csv``, ``.xlsx``, ``.md``, ``.html``) chooses the format.
    columns, subjects, subject_labels
        As in :func:`codebook`.
    bom : bool
        CSV only: start with a UTF-8 byte-order mark, so Excel on Chinese Windows reads it right.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.instrument.loader import load_survey
    >>> out = write_codebook(load_survey("surveys/hearing.yaml"),
    ...                      pathlib.Path(tempfile.mkdtemp()) / "hearing.md")
    >>> out.read_text(encoding="utf-8").splitlines()[0]
    '# 数据字典 Codebook: 听证会意见表 / Hearing opinion form'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    check_option("the codebook's extension", suffix, (".csv", ".xlsx", ".md", ".html"))
    book = codebook(survey, columns=columns, subjects=subjects, subject_labels=subject_labels)
    values = value_labels(survey)
    if suffix == ".csv":
        neutralize_frame(book).to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8")
    elif suffix == ".xlsx":
        write_xlsx({"codebook": book, "values": values}, path)
    elif suffix == ".md":
        path.write_text(_markdown(survey, book, values), encoding="utf-8")
    elif suffix == ".html":
        path.write_text(_html(survey, book, values), encoding="utf-8")
    else:  # pragma: no cover - checked above
        raise ParameterError(suffix)
    return path
