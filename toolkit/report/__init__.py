"""Charts for reports (matplotlib): likert bars, rate dot plots, turnout and trends.

Every chart function takes a tidy DataFrame first and everything else by keyword, returns a
:class:`matplotlib.figure.Figure` (not registered with pyplot, so it is shown once in Jupyter and
never opens a window), and draws Chinese text with a CJK font (:func:`configure_matplotlib`).
"""

from __future__ import annotations

from toolkit.report.charts import rate_dotplot, save_figure, trend_chart, turnout_chart
from toolkit.report.diverging import likert_bars
from toolkit.report.fonts import CJKFont, FontError, configure_matplotlib, find_cjk_font
from toolkit.report.ipa import ipa_chart
from toolkit.report.meeting import MeetingReport, meeting_report_data, render_meeting_report
from toolkit.report.palette import GROUP_COLORS, LEVEL_COLORS, MEASURE_COLORS

__all__ = [
    "GROUP_COLORS",
    "LEVEL_COLORS",
    "MEASURE_COLORS",
    "CJKFont",
    "FontError",
    "configure_matplotlib",
    "find_cjk_font",
    "ipa_chart",
    "likert_bars",
    "rate_dotplot",
    "save_figure",
    "trend_chart",
    "turnout_chart",
]
__all__ += [  # the meeting report (meeting.py)
    "MeetingReport",
    "meeting_report_data",
    "render_meeting_report",
]
