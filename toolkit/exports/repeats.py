"""Exports of repeat groups: the long table of their answers and the codebook of their variables.

A repeat group's questions are answered once per instance, so they are not columns of the wide
response table; they come out as a long table, one row per ballot, repeat, instance and variable
(:meth:`toolkit.store.Store.repeat_rows`), joined to the wide table by ``submission_id``. Values
that are lists (multiple choice) are written as codes separated by spaces, as ODK does.

Examples
--------
>>> from toolkit.instrument.model import Group, Page, Question, Settings, Survey, Text
>>> page = Page("p", Text("页"), (
...     Question("age", "integer", Text("年龄", "Age"), required=True, group="member"),
... ), groups=(Group("member", Text("成员"), repeat=True),))
>>> survey = Survey(Settings("s", "1", Text("示例")), (page,), {})
>>> repeat_codebook(survey)[["repeat", "variable", "label_zh", "type", "required"]].values.tolist()
[['member', 'age', '年龄', 'integer', 'yes']]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from toolkit.exports.formats import write_xlsx
from toolkit.exports.safe import neutralize_frame
from toolkit.instrument.model import Survey

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["REPEAT_CODEBOOK_COLUMNS", "repeat_codebook", "repeat_table", "write_repeat_table"]

#: The columns of :func:`repeat_codebook`.
REPEAT_CODEBOOK_COLUMNS: tuple[str, ...] = (
    "repeat",
    "variable",
    "label_zh",
    "label_en",
    "type",
    "values",
    "relevant",
    "required",
    "constraint",
)


def repeat_codebook(survey: Survey) -> pd.DataFrame:
    """One row per variable of each repeat group: its labels, type, allowed values (code =
    label), and when it is asked (``relevant`` is evaluated within the instance)."""
    rows = []
    for repeat, questions in survey.repeat_questions().items():
        for q in questions:
            if q.type == "note":
                continue
            values = ""
            if q.choices is not None and q.choices in survey.choice_lists:
                values = "; ".join(
                    f"{c.value} = {c.label.zh or c.label.get()}"
                    + (f" / {c.label.en}" if c.label.en else "")
                    for c in survey.choice_lists[q.choices].choices
                )
            rows.append(
                {
                    "repeat": repeat,
                    "variable": q.id,
                    "label_zh": q.label.zh,
                    "label_en": q.label.en or "",
                    "type": q.type,
                    "values": values,
                    "relevant": q.relevant or "",
                    "required": "yes" if q.required else "",
                    "constraint": q.constraint or "",
                }
            )
    return pd.DataFrame(rows, columns=list(REPEAT_CODEBOOK_COLUMNS))


def repeat_table(
    store: Store, meeting: str, *, language: str = "zh", include_void: bool = False
) -> pd.DataFrame:
    """The long table of a meeting's repeat answers, ready to write: list values as space-separated
    codes, and every text cell safe from spreadsheet formulas."""
    frame = store.repeat_rows(meeting, language=language, include_void=include_void)
    frame["value"] = [" ".join(map(str, v)) if isinstance(v, list) else v for v in frame["value"]]
    return neutralize_frame(frame)


def write_repeat_table(
    store: Store, meeting: str, path: str | Path, *, language: str = "zh"
) -> Path:
    """Write the long table and the repeat codebook as the two sheets of one XLSX workbook."""
    found = store.meeting(meeting)
    survey = store.instrument(found.instrument_id, found.instrument_version)
    return write_xlsx(
        {
            "repeats": repeat_table(store, meeting, language=language),
            "codebook": neutralize_frame(repeat_codebook(survey)),
        },
        path,
    )
