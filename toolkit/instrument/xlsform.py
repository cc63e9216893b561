"""Instruments as XLSForm workbooks (ODK, KoboToolbox, SurveyCTO): read, write and convert.

:func:`read_xlsform` reads the ``survey``, ``choices`` and ``settings`` sheets of an ``.xlsx``
file into the instrument model; :func:`write_xlsform` writes an instrument back; :func:`convert`
converts between YAML and XLSForm by file extension (``sanhui convert IN OUT``). A round trip
YAML → XLSForm → instrument gives an equal :class:`~toolkit.instrument.model.Survey`, and the written
workbook is accepted by ``pyxform``, the reference XLSForm converter.

Mapping
-------
=================================  ===========================================================
XLSForm                            instrument model
=================================  ===========================================================
``select_one L`` / ``select_multiple L``   ``single`` / ``multiple`` with ``choices: L``
``integer``, ``decimal``, ``text``, ``date``, ``note``   the same types
top-level ``begin group`` … ``end group``  a page (the group's label is the page title)
a group inside a page, appearance ``field-list``, rows ``select_one L`` of one list (appearance
``likert`` or ``table-list``)       a ``grid``; the rows are its items
a choice ``dont_know`` in a grid's list    the grid's 不了解 answer (its label is the list's
                                   ``dont_know_label``); a row with ``choice_filter``
                                   ``name != 'dont_know'`` does not offer it
``label::中文 (zh)``, ``label::English (en)``, ``label::Swahili (sw)``, ``label:French``;
plain ``label``                    texts in any languages (Chinese ``zh``, English ``en``, others
                                   by their code, or their name when the column gives no code); a
                                   plain ``label`` (no language) is the default language, Chinese
``hint``, ``required`` (yes/true/1), ``required_message``, ``constraint``,
``constraint_message``, ``relevant``, ``default``, ``appearance``   the same fields
``settings``: ``form_id``, ``version``, ``form_title``, ``default_language``, ``anonymous``,
``kind``                           ``settings``: ``id``, ``version``, ``title`` (Chinese), ...
=================================  ===========================================================

Questions outside any group form a page of their own (``page_1``, ``page_2``, ...).

What XLSForm cannot say is kept in extra columns, which ``pyxform`` ignores (checked by a test):

- survey sheet: ``sanhui::per_subject`` (``yes`` on a grid's ``begin group`` row: the grid is
  repeated for each evaluated subject), ``sanhui::page`` (the page id, when the group had to be
  renamed because XLSForm names must be unique across groups and questions: page ``rectify``
  holding question ``rectify`` is written as group ``rectify_page``), ``sanhui::min_length`` and
  ``sanhui::max_length`` (text bounds);
- choices sheet: ``points`` and ``sanhui_ordered`` (``yes`` on every row of an ordered list).
  These have no ``::``: pyxform turns every choices column into an element of the list's XML
  instance, and a ``::`` column there breaks it;
- settings sheet: ``anonymous``, ``kind``, ``sanhui::title_en``, ``sanhui::description``,
  ``sanhui::description_en``.

A grid's ``required`` is written on its ``begin group`` row (``yes``/``no``) and, as ODK needs it,
on each row; an item whose ``required`` differs from the grid's keeps its own value. (An item that
states the grid's own value explicitly reads back as inheriting it: the same instrument.)

The workbook is read as pyxform reads it: ``settings.version`` defaults to ``1`` and ``form_id``
to the file name; blank rows are skipped; the older spellings ``label:English``,
``bind:relevant`` and ``select one from LIST`` are read; columns pyxform ignores are ignored with
a warning (``W_UNKNOWN_COLUMN``). The rows are turned into the same located mapping a YAML file
gives and validated by the one builder (:mod:`toolkit.instrument.builder`), so every rule and
every problem code is shared.

Beyond the table, the features real forms use are read and written back: ``calculate``
(``calculation``), metadata rows (``start``, ``end``, ``today``, ``deviceid``, ..., kept as
paradata, never as answers), ``begin repeat`` (repeat groups, stored as child rows), groups nested
in groups, ``choice_filter`` cascades (the choices' further columns are their ``filters``),
``select_one_external`` with its list on the ``external_choices`` sheet, ``or_other``, ``time``,
``datetime``, ``range`` (``parameters``), ``read_only`` and ``regex()`` in constraints. See
``docs/xlsform.md``.

What sanhui does not support is refused with a located :class:`~toolkit.errors.InstrumentError`
naming the sheet, row, column and the feature: geo types, media types and ``media::*`` columns,
choices from a file outside the workbook (``select_one_from_file``), ``search()`` appearances and
loops over a choice list. With ``drop_unsupported=True`` (``--drop-unsupported``) the optional
questions using them are left out and listed in one warning; required ones are still refused.
Every problem is collected before one error is raised.

References
----------
XLSForm.org, *XLSForm specification* (https://xlsform.org/en/ref-table/). ODK, *Form logic* and
*Form styling: table-list and likert appearances* (https://docs.getodk.org/form-styling/).

Examples
--------
>>> import tempfile, pathlib
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "evaluation.xlsx"
>>> write_xlsform(survey, path)
>>> read_xlsform(path) == survey
True
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

from toolkit.errors import ParameterError, Problem
from toolkit.instrument.builder import Builder
from toolkit.instrument.located import Locations, mapping, scalar, sequence
from toolkit.instrument.model import (
    Choice,
    ChoiceList,
    GridItem,
    Page,
    Question,
    Settings,
    Survey,
    Text,
)
from toolkit.instrument.schema import check_id
from toolkit.instrument.xlsform_reader import WorkbookReader
from toolkit.instrument.xlsform_workbook import (
    CHOICES_KNOWN,
    DONT_KNOW_FILTER,
    LANGUAGE_COLUMNS,
    MAX_XLSFORM_BYTES,
    SETTINGS_IGNORED,
    SETTINGS_KNOWN,
    SURVEY_KNOWN,
    TRANSLATED,
    SheetProblems,
    find_sheet,
    open_workbook,
    parse_sheet,
)
from toolkit.instrument.xlsform_writer import write_xlsform

__all__ = [
    "DONT_KNOW_FILTER",
    "LANGUAGE_COLUMNS",
    "MAX_XLSFORM_BYTES",
    "convert",
    "read_xlsform",
    "write_xlsform",
]


def read_xlsform(path: str | Path, *, drop_unsupported: bool = False) -> Survey:
    """Read an XLSForm workbook (``.xlsx``) into an instrument.

    Parameters
    ----------
    path : str or Path
        The workbook: sheets ``survey`` (required), ``choices``, ``external_choices`` (the lists
        of ``select_one_external`` questions) and ``settings``. It is named as given in located
        messages.
    drop_unsupported : bool, optional
        Leave out optional questions that use a feature sanhui does not support (geo, media,
        choices from a file outside the workbook, ``search()``) instead of refusing the form; a
        warning lists them.

    Returns
    -------
    Survey
        The instrument; ``survey.source`` is ``str(path)``; each question's ``line`` is a sort key
        of its row on the survey sheet.

    Raises
    ------
    InstrumentError
        Listing every problem, each located by sheet, row and column and carrying a stable
        ``code``: a missing survey sheet, unknown or unsupported types (with a did-you-mean), bad
        expressions, duplicate names (naming both rows), nested groups that are not grids, and
        everything the builder checks for a YAML instrument (references, look-back, defaults, ids).

    Warns
    -----
    UserWarning
        For each column that is not read (pyxform ignores them too), located.

    Notes
    -----
    The mapping and the extra ``sanhui::`` columns are described in the module docstring. The
    workbook is read cell by cell, bounded by the cells that are present (a sheet that claims
    to span column XFD and 20,000 rows costs what it holds, not what it claims).

    References
    ----------
    XLSForm.org, *XLSForm specification*; ODK, *Form styling* (``field-list``, ``table-list``,
    ``likert``).

    Examples
    --------
    >>> survey = read_xlsform(_example_path())
    >>> survey.id, [q.id for q in survey.questions]
    ('demo', ['ratings', 'comments'])
    >>> survey.question("ratings").items[0].allow_dont_know
    True
    """
    path = Path(path)
    source = str(path)
    locations = Locations(source)
    builder = Builder(source, locations)
    builder.pyxform_names = True
    p = SheetProblems(builder, locations)
    p.drop_unsupported = drop_unsupported
    raw = open_workbook(path, p)
    if raw is None:
        raise p.error()
    found = find_sheet(raw, "survey", p, required=True)
    if found is None:
        raise p.error()
    choices_found = find_sheet(raw, "choices", p, required=False)
    external_found = find_sheet(raw, "external_choices", p, required=False)
    settings_found = find_sheet(raw, "settings", p, required=False)
    survey_sheet = parse_sheet(found[0], found[1], SURVEY_KNOWN, TRANSLATED, p, sheet=found[0])
    choices_sheet = (
        parse_sheet(
            *choices_found, CHOICES_KNOWN, ("label",), p, sheet=choices_found[0], keep_unknown=True
        )
        if choices_found
        else None
    )
    external_sheet = (
        parse_sheet(
            *external_found,
            CHOICES_KNOWN,
            ("label",),
            p,
            sheet=external_found[0],
            keep_unknown=True,
        )
        if external_found
        else None
    )
    settings_sheet = (
        parse_sheet(
            *settings_found, (*SETTINGS_KNOWN, *SETTINGS_IGNORED), (), p, sheet=settings_found[0]
        )
        if settings_found
        else None
    )
    top = locations.cell(survey_sheet.name, 1, None, None)
    reader = WorkbookReader(p, builder, locations)
    fallback_id = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:64] or "form"
    settings = reader.read_settings(settings_sheet, fallback_id, scalar(None, top))
    reader.read_choices(choices_sheet)
    reader.read_choices(external_sheet, external=True)
    title = next(v for k, v in settings.value if k.value == "title")
    pages = reader.read_survey(survey_sheet, title)
    reader.merge_external()
    metadata = reader.metadata_node(survey_sheet)
    if metadata is not None:
        settings.value.append((scalar("metadata", metadata.start_mark), metadata))
    if reader.settings_pairs.get("allow_choice_duplicates") is not None:
        builder.allow_choice_duplicates = True
    if p.dropped:
        p.warnings.append(
            Problem(
                source,
                f"dropped {len(p.dropped)} optional question(s) or column(s) using unsupported "
                f"features: {'; '.join(p.dropped)}.",
                None,
                None,
                "W_DROPPED",
            )
        )
    reader.check_dont_know_use()
    choices = reader.choices_node(choices_sheet or external_sheet)
    if not pages and not p.failed:
        p.add(
            survey_sheet.name,
            None,
            None,
            "the survey sheet has no questions.",
            "Add questions below the header row.",
            code="E_NO_PAGES",
        )
    pairs = {"settings": settings, "pages": sequence(pages, top)}
    if choices is not None:
        pairs["choices"] = choices
    survey = builder.build(mapping(pairs, top)) if pages else None
    for warning in [*p.warnings, *builder.lenient]:
        warnings.warn(str(warning), UserWarning, stacklevel=2)
    if survey is None:
        raise builder.error()
    ids = [*survey.choice_lists, *(v.name for v in survey.variables())]
    ids += [q.id for q in survey.questions]
    settings_ = survey.settings
    if any(check_id(i) is not None for i in ids):  # kept when the instrument is stored as YAML
        settings_ = dataclasses.replace(settings_, xlsform_names=True)
    return Survey(settings_, survey.pages, survey.choice_lists, source=source)


def convert(src: str | Path, dst: str | Path, *, drop_unsupported: bool = False) -> Survey:
    """Convert an instrument between YAML (``.yaml``/``.yml``) and XLSForm (``.xlsx``).

    This is the body of ``sanhui convert IN OUT``; the formats follow the extensions, so
    YAML → YAML rewrites a file in the canonical layout and XLSForm → XLSForm normalises one.

    Parameters
    ----------
    src : str or Path
        The instrument to read.
    dst : str or Path
        The file to write (replaced if it exists).
    drop_unsupported : bool, optional
        For an XLSForm source: leave out optional questions using geo, media, choices from a
        file outside the workbook or ``search()`` (listed in a warning), see
        :func:`read_xlsform`.

    Returns
    -------
    Survey
        The instrument read from ``src``.

    Raises
    ------
    InstrumentError
        When ``src`` has problems (all of them, located).
    ParameterError
        When an extension is not one of ``.yaml``, ``.yml``, ``.xlsx``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = convert("surveys/coordination.yaml", out / "c.xlsx")
    >>> convert(out / "c.xlsx", out / "c.yaml").id
    'coordination'
    """
    formats = {".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
    kinds = []
    for name, value in (("src", src), ("dst", dst)):
        suffix = Path(value).suffix.lower()
        if suffix not in formats:
            raise ParameterError(
                f"`{name}` must end in .yaml, .yml or .xlsx; got {str(value)!r}."
                + (" Save .xls workbooks as .xlsx first." if suffix == ".xls" else "")
            )
        kinds.append(formats[suffix])
    if kinds[0] == "yaml":
        from toolkit.instrument.yaml_reader import load_survey

        survey = load_survey(src)
    else:
        survey = read_xlsform(src, drop_unsupported=drop_unsupported)
    if kinds[1] == "yaml":
        from toolkit.instrument.dumper import dump_survey

        Path(dst).write_text(dump_survey(survey), encoding="utf-8")
    else:
        write_xlsform(survey, dst)
    return survey


def _example_path() -> Path:
    """A small XLSForm for the examples (written to a temporary directory)."""
    import tempfile

    survey = Survey(
        Settings("demo", "1", Text("示例", "Demo")),
        (
            Page(
                "p1",
                Text("第一页"),
                (
                    Question(
                        "ratings",
                        "grid",
                        Text("请评价"),
                        choices="sat",
                        items=(GridItem("attitude", Text("工作态度"), allow_dont_know=True),),
                    ),
                    Question("comments", "text", Text("意见")),
                ),
            ),
        ),
        {"sat": ChoiceList("sat", (Choice("good", Text("好")), Choice("bad", Text("差"))))},
    )
    path = Path(tempfile.mkdtemp()) / "demo.xlsx"
    write_xlsform(survey, path)
    return path
