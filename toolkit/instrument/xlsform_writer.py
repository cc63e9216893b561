"""Writing an instrument as an XLSForm workbook that ``pyxform`` accepts (see
:mod:`toolkit.instrument.xlsform` for the mapping)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from toolkit.errors import ParameterError
from toolkit.instrument.model import (
    DONT_KNOW,
    DONT_KNOW_LABEL_EN,
    DONT_KNOW_LABEL_ZH,
    Question,
    Survey,
    Text,
)
from toolkit.instrument.xlsform_workbook import DONT_KNOW_FILTER, LANGUAGE_COLUMNS

__all__ = ["write_xlsform"]

_SURVEY_HEADER = (
    "type",
    "name",
    "label::中文 (zh)",
    "label::English (en)",
    "hint::中文 (zh)",
    "hint::English (en)",
    "required",
    "required_message::中文 (zh)",
    "required_message::English (en)",
    "relevant",
    "constraint",
    "constraint_message::中文 (zh)",
    "constraint_message::English (en)",
    "default",
    "appearance",
    "choice_filter",
    "calculation",
    "read_only",
    "parameters",
    "repeat_count",
    "sanhui::per_subject",
    "sanhui::page",
    "sanhui::min_length",
    "sanhui::max_length",
)
_CHOICES_HEADER = (
    "list_name",
    "name",
    "label::中文 (zh)",
    "label::English (en)",
    "points",
    "sanhui_ordered",
)
_SETTINGS_HEADER = (
    "form_id",
    "version",
    "form_title",
    "default_language",
    "anonymous",
    "kind",
    "sanhui::title_en",
    "sanhui::description",
    "sanhui::description_en",
    "allow_choice_duplicates",
)
_DEFAULT_MAX_LENGTH = Question("q", "text", Text("q")).max_length
_DEFAULT_DK = Text(DONT_KNOW_LABEL_ZH, DONT_KNOW_LABEL_EN)


def _texts(text: Text | None) -> tuple[str | None, str | None]:
    return (None, None) if text is None else (text.zh or None, text.en)


def _other(column: str, text: Text | None) -> dict[str, str]:
    """The columns of the languages other than Chinese and English (``label::fr``)."""
    return {} if text is None else {f"{column}::{code}": value for code, value in text.other}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _group_row(kind: str, name: str, label: Text | None, **more: Any) -> dict[str, Any]:
    zh, en = _texts(label)
    row = {
        "type": f"begin {kind}",
        "name": name,
        "label::中文 (zh)": zh,
        "label::English (en)": en,
        **_other("label", label),
    }
    row.update(more)
    return row


def _survey_rows(survey: Survey) -> list[dict[str, Any]]:
    names = {q.id for q in survey.questions} | {it.id for q in survey.questions for it in q.items}
    dk_lists = _dont_know_lists(survey)
    rows: list[dict[str, Any]] = [
        {"type": kind, "name": name} for name, kind in survey.settings.metadata
    ]
    used: set[str] = set(names) | {name for name, _ in survey.settings.metadata}
    for page in survey.pages:
        group = page.id
        if group in used:
            group = f"{page.id}_page"
            n = 2
            while group in used:
                group, n = f"{page.id}_page{n}", n + 1
        used.add(group)
        kind = "repeat" if page.repeat else "group"
        rows.append(
            _group_row(
                kind,
                group,
                page.title,
                relevant=page.relevant,
                appearance=None if page.repeat or page.groups else "field-list",
                repeat_count=page.repeat_count,
                **{"sanhui::page": page.id if group != page.id else None},
            )
        )
        by_id = {g.id: g for g in page.groups}
        open_groups: list[str] = []
        for q in page.questions:
            chain: list[str] = []
            at = by_id.get(q.group or "")
            while at is not None:
                chain.insert(0, at.id)
                at = by_id.get(at.parent or "")
            while open_groups and open_groups != chain[: len(open_groups)]:
                closing = by_id[open_groups.pop()]
                rows.append({"type": f"end {'repeat' if closing.repeat else 'group'}"})
            for gid in chain[len(open_groups) :]:
                g = by_id[gid]
                rows.append(
                    _group_row(
                        "repeat" if g.repeat else "group",
                        g.id,
                        g.label,
                        relevant=g.relevant,
                        appearance=g.appearance,
                        repeat_count=g.repeat_count,
                    )
                )
                open_groups.append(gid)
            rows += _question_rows(survey, q, dk_lists)
        while open_groups:
            closing = by_id[open_groups.pop()]
            rows.append({"type": f"end {'repeat' if closing.repeat else 'group'}"})
        rows.append({"type": f"end {kind}", "name": group})
    return rows


def _dont_know_lists(survey: Survey) -> set[str]:
    """Lists written with a ``dont_know`` choice: a grid's list where 不了解 is offered or has
    its own label."""
    out: set[str] = set()
    for q in survey.questions:
        if q.type == "grid" and q.choices is not None and q.choices in survey.choice_lists:
            scale = survey.choice_lists[q.choices]
            if any(it.allow_dont_know for it in q.items) or scale.dont_know_label != _DEFAULT_DK:
                out.add(q.choices)
    return out


def _question_rows(survey: Survey, q: Question, dk_lists: set[str]) -> list[dict[str, Any]]:
    zh, en = _texts(q.label)
    hzh, hen = _texts(q.hint)
    rzh, ren = _texts(q.required_message)
    czh, cen = _texts(q.constraint_message)
    appearance = " ".join(q.appearance) or None
    if q.type == "grid":
        head = {
            "type": "begin group",
            "name": q.id,
            "label::中文 (zh)": zh,
            "label::English (en)": en,
            "hint::中文 (zh)": hzh,
            "hint::English (en)": hen,
            **_other("label", q.label),
            **_other("hint", q.hint),
            "required": "yes" if q.required else "no",
            "required_message::中文 (zh)": rzh,
            "required_message::English (en)": ren,
            "relevant": q.relevant,
            "appearance": " ".join(("field-list", *q.appearance)),
            "sanhui::per_subject": "yes" if q.per_subject else None,
        }
        rows = [head]
        for item in q.items:
            required = q.required if item.required is None else item.required
            izh, ien = _texts(item.label)
            ihzh, ihen = _texts(item.hint)
            rows.append(
                {
                    "type": f"select_one {q.choices}",
                    "name": item.id,
                    "label::中文 (zh)": izh,
                    "label::English (en)": ien,
                    "hint::中文 (zh)": ihzh,
                    "hint::English (en)": ihen,
                    **_other("label", item.label),
                    **_other("hint", item.hint),
                    "required": "yes" if required else None,
                    "required_message::中文 (zh)": rzh if required else None,
                    "required_message::English (en)": ren if required else None,
                    "default": q.default,
                    "appearance": "likert",
                    "choice_filter": DONT_KNOW_FILTER
                    if q.choices in dk_lists and not item.allow_dont_know
                    else None,
                }
            )
        rows.append({"type": "end group", "name": q.id})
        return rows
    kind = {"single": "select_one", "multiple": "select_multiple"}.get(q.type, q.type)
    scale = survey.choice_lists.get(q.choices or "")
    if kind == "select_one" and scale is not None and scale.external:
        kind = "select_one_external"
    select = f"{kind} {q.choices}" + (" or_other" if q.or_other else "")
    row: dict[str, Any] = {
        "type": select if q.type in ("single", "multiple") else kind,
        "name": q.name or q.id,
        "label::中文 (zh)": zh,
        "label::English (en)": en,
        "hint::中文 (zh)": hzh,
        "hint::English (en)": hen,
        **_other("label", q.label),
        **_other("hint", q.hint),
        **_other("required_message", q.required_message),
        **_other("constraint_message", q.constraint_message),
        "required": "yes" if q.required else None,
        "required_message::中文 (zh)": rzh,
        "required_message::English (en)": ren,
        "relevant": q.relevant,
        "constraint": q.constraint,
        "constraint_message::中文 (zh)": czh,
        "constraint_message::English (en)": cen,
        "default": q.default,
        "appearance": appearance,
        "choice_filter": DONT_KNOW_FILTER if q.choices in dk_lists else q.choice_filter,
        "calculation": q.calculation,
        "read_only": "yes" if q.read_only else None,
        "parameters": q.parameters,
    }
    if q.type == "text":
        row["sanhui::min_length"] = q.min_length
        if q.max_length != _DEFAULT_MAX_LENGTH:
            row["sanhui::max_length"] = q.max_length
    return [row]


def _choice_rows(survey: Survey, *, external: bool = False) -> list[dict[str, Any]]:
    """The rows of the ``choices`` sheet, or (``external``) of the ``external_choices`` sheet."""
    dk_lists = _dont_know_lists(survey)
    rows: list[dict[str, Any]] = []
    for scale in survey.choice_lists.values():
        if scale.external != external:
            continue
        ordered = "yes" if scale.ordered else None
        for choice in scale.choices:
            zh, en = _texts(choice.label)
            rows.append(
                {
                    "list_name": scale.id,
                    "name": choice.value,
                    "label::中文 (zh)": zh,
                    "label::English (en)": en,
                    **_other("label", choice.label),
                    **dict(choice.filters),
                    "points": None if choice.points is None else _number(choice.points),
                    "sanhui_ordered": ordered,
                }
            )
        if scale.id in dk_lists:
            zh, en = _texts(scale.dont_know_label)
            rows.append(
                {
                    "list_name": scale.id,
                    "name": DONT_KNOW,
                    "label::中文 (zh)": zh,
                    "label::English (en)": en,
                    "sanhui_ordered": ordered,
                }
            )
    return rows


def _write_sheet(
    book: Any, title: str, header: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> None:
    from openpyxl.styles import Font

    rows = list(rows)
    header = list(header)
    for row in rows:  # languages other than Chinese and English get columns of their own
        header += [name for name, value in row.items() if value is not None and name not in header]
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, 2):
        for index, name in enumerate(header, 1):
            value = row.get(name)
            if value is None:
                continue
            cell = sheet.cell(row=number, column=index)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 2))


def write_xlsform(survey: Survey, path: str | Path) -> None:
    """Write an instrument as an XLSForm workbook (``.xlsx``) that ``pyxform`` accepts.

    Parameters
    ----------
    survey : Survey
        The instrument.
    path : str or Path
        The ``.xlsx`` file to write (replaced if it exists).

    Notes
    -----
    Sheets ``survey``, ``choices`` and ``settings``; labels in ``label::中文 (zh)`` and
    ``label::English (en)`` columns; pages as top-level groups (appearance ``field-list``), grids
    as groups inside them with ``likert`` rows, the 不了解 answer as a ``dont_know`` choice
    excluded by ``choice_filter`` from rows that do not offer it; what XLSForm cannot say in
    ``sanhui::`` columns (see the module docstring). Text cells are stored as text, never as
    formulas. :func:`~toolkit.instrument.xlsform.read_xlsform` reads the file back into an
    equal survey.

    References
    ----------
    XLSForm.org, *XLSForm specification*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.instrument.loader import load_survey
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hearing.xlsx"
    >>> write_xlsform(load_survey("surveys/hearing.yaml"), out)
    >>> from toolkit.instrument.xlsform import read_xlsform
    >>> read_xlsform(out).id
    'hearing'
    """
    if not isinstance(survey, Survey):
        raise ParameterError(f"`survey` must be a Survey; got {type(survey).__name__}.")
    import openpyxl

    s = survey.settings
    settings_row = {
        "form_id": s.id,
        "version": s.version,
        "form_title": s.title.zh or s.title.get(s.default_language),
        "default_language": LANGUAGE_COLUMNS.get(s.default_language, s.default_language),
        "anonymous": "yes" if s.anonymous else "no",
        "kind": s.kind,
        "sanhui::title_en": s.title.en,
        "sanhui::description": s.description.zh if s.description else None,
        "sanhui::description_en": s.description.en if s.description else None,
        "allow_choice_duplicates": "yes" if s.allow_choice_duplicates else None,
    }
    book = openpyxl.Workbook()
    book.remove(book.active)
    _write_sheet(book, "survey", _SURVEY_HEADER, _survey_rows(survey))
    _write_sheet(book, "choices", _CHOICES_HEADER, _choice_rows(survey))
    external = _choice_rows(survey, external=True)
    if external:
        _write_sheet(book, "external_choices", _CHOICES_HEADER, external)
    _write_sheet(book, "settings", _SETTINGS_HEADER, [settings_row])
    book.save(Path(path))
