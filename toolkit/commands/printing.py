"""``sanhui print``: paper ballots, one-time code slips and the results sheet (计票单) as PDF."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Print paper ballots, code slips and the results sheet (PDF).", no_args_is_help=True
)
