"""``sanhui roster``: the Excel roster template of a meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Meeting rosters (名单): the template to fill in.", no_args_is_help=True)


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="The .xlsx file to write, e.g. roster.xlsx.")],
    instrument: Annotated[
        Path | None,
        typer.Option(help="Take the drop-down lists (roles, age bands...) from this instrument."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write the roster template: bilingual headers, drop-down lists, an example row, a help sheet."""
    from toolkit.errors import ToolkitError
    from toolkit.store.meeting_setup import load_instrument
    from toolkit.store.roster_sheet import write_roster_template

    try:
        if out.exists() and not force:
            typer.echo(f"{out} exists; nothing was written. Pass --force to replace it.", err=True)
            raise typer.Exit(code=1)
        survey = load_instrument(instrument) if instrument is not None else None
        write_roster_template(out, survey=survey)
    except ToolkitError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error
    typer.echo(
        f"wrote {out}: fill in one row per person on sheet 名单 roster (row 2 is an example), then "
        f"`sanhui meeting new ... --roster {out}`."
    )
