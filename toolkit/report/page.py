"""A plain, self-contained HTML page for the hearing, coordination and case reports.

No script, no external style or font, every text escaped: the page can be opened offline, shown on
a projector or printed, and cannot run anything.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

__all__ = ["Section", "html_table", "paragraph", "render_page"]

Section = tuple[str, Sequence[str]]

_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.5; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .95em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
th { background: #f3f3f3; }
p.note { color: #555; font-size: .9em; }
"""


def html_table(frame: pd.DataFrame, *, columns: dict[str, str] | None = None) -> str:
    """A DataFrame as an escaped HTML table without index (``columns`` renames headers)."""
    shown = frame.rename(columns=columns or {})
    return str(shown.to_html(index=False, border=0, na_rep="—", escape=True))


def paragraph(text: str, *, note: bool = False) -> str:
    """An escaped paragraph."""
    opening = '<p class="note">' if note else "<p>"
    return f"{opening}{html.escape(text)}</p>"


def render_page(title: str, sections: Sequence[Section], *, language: str = "zh") -> str:
    """The page: a title and sections of (heading, [HTML fragments made by this module])."""
    lang = "zh-CN" if language == "zh" else "en"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, fragments in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.extend(fragments)
    parts.append("</body></html>")
    return "\n".join(parts)
