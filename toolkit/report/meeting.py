"""The meeting report: the numbers of one evaluation meeting as tidy tables, and the HTML report.

:func:`meeting_report_data` computes everything the results sheet of an evaluation meeting (评议会)
shows, as plain DataFrames: ballots issued / returned / valid / void, strict, broad and
dissatisfaction rates with Wilson intervals per subject and item, the verdict under a declared
rule, the rectification list (counts of the ``rectify`` codes and the bottom-k items of each
subject), the comments as written, and turnout against the roster. Every rate computed from fewer
than ``min_cell`` raters (default 5) is suppressed: its counts and estimates are blanked and
``suppressed`` is True, so nothing is published about a handful of identifiable people.

:func:`render_meeting_report` executes ``notebooks/40_meeting_report.ipynb`` with the parameters
injected after its ``parameters`` cell (the papermill convention), then writes a self-contained
HTML file without code cells and without any script or style fetched from the network (optional
PDF through Chromium's print-to-PDF). ``sanhui report`` calls it.

The report is three modules: :mod:`toolkit.report.meeting_data` (the numbers),
:mod:`toolkit.report.meeting_tables` (the display) and :mod:`toolkit.report.render` (a general
notebook renderer). This module keeps every name they had here, and the meeting's entry points.

Ballots are anonymous: the report reads the response table and the attendance table, never the
names table, and lists comments sorted by their text (not in the order they were handed in).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from toolkit._checks import check_option
from toolkit.report.meeting_data import (  # noqa: F401  (re-exported: the report's public names)
    _LANGUAGES,
    MIN_CELL,
    REPORT_RULES,
    MeetingReport,
    _suppress,
    meeting_report_data,
    suppress_small_cells,
)
from toolkit.report.meeting_tables import (  # noqa: F401  (re-exported)
    format_rate,
    rates_chart,
    report_heading,
    report_summary,
    report_tables,
    report_title,
    show_optional_sections,
    show_section,
    turnout_figure,
)
from toolkit.report.render import (  # noqa: F401  (re-exported)
    export_html,
    find_chromium,
    html_to_pdf,
    open_report_store,
    render_notebook,
)
from toolkit.report.render import inject_parameters as _inject_parameters  # noqa: F401

__all__ = [
    "MIN_CELL",
    "REPORT_NOTEBOOK",
    "REPORT_RULES",
    "MeetingReport",
    "format_rate",
    "meeting_report_data",
    "render_meeting_report",
    "report_tables",
    "show_optional_sections",
    "show_section",
    "suppress_small_cells",
]

#: The parameterised notebook :func:`render_meeting_report` executes.
REPORT_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "40_meeting_report.ipynb"


def execute_report(
    meeting_id: str,
    *,
    database_url: str | None = None,
    language: str = "zh",
    notebook: str | os.PathLike[str] = REPORT_NOTEBOOK,
    timeout: int = 120,
) -> Any:
    """Execute the report notebook with the parameters injected; returns the notebook node."""
    from toolkit.report.render import execute_notebook

    check_option("language", language, _LANGUAGES)
    parameters = {"meeting_id": meeting_id, "database_url": database_url, "language": language}
    return execute_notebook(notebook, parameters, timeout=timeout)


def render_meeting_report(
    meeting_id: str,
    *,
    out: str | os.PathLike[str],
    database_url: str | None = None,
    language: str = "zh",
    pdf: bool = False,
    notebook: str | os.PathLike[str] = REPORT_NOTEBOOK,
) -> dict[str, Any]:
    """Run the report notebook for one meeting and write the HTML report (and optionally PDF).

    Parameters
    ----------
    meeting_id : str
        The meeting: an evaluation meeting runs the report notebook; a hearing or a coordination
        meeting gets its own page (:func:`toolkit.report.case.render_meeting_page`).
    out : path
        The HTML file to write; the PDF, if asked for, goes beside it with ``.pdf``.
    database_url : str, optional
        The store (a SQLAlchemy URL); ``None`` reads a private copy of the demo database.
    language : {"zh", "en"}
    pdf : bool
        Also print the page to PDF with headless Chromium.
    notebook : path
        The parameterised notebook (default ``notebooks/40_meeting_report.ipynb``).

    Returns
    -------
    dict
        ``html`` (path), ``pdf`` (path or None), ``seconds`` (wall time).
    """
    check_option("language", language, _LANGUAGES)
    if database_url is not None:  # a clear error before starting a kernel
        with open_report_store(database_url) as store:
            kind = store.meeting(meeting_id).kind
        if kind != "evaluation":  # hearings and coordination meetings: toolkit/report/case.py
            from toolkit.report.case import render_meeting_page

            return render_meeting_page(
                meeting_id, out=out, database_url=database_url, language=language, pdf=pdf
            )
    parameters = {"meeting_id": meeting_id, "database_url": database_url, "language": language}
    return render_notebook(notebook, parameters, out=out, pdf=pdf, what=f"meeting {meeting_id}")
