"""``sanhui online``: when a meeting takes ballots online, and a hearing's plan (云听证).

``sanhui online window ID --opens 2026-03-01T08:00+08:00 --closes 2026-03-08T20:00+08:00`` sets the
window (``sanhui serve --online`` shows the ballot only inside it). ``sanhui online plan ID
--text plan.txt --image site.jpg --image elevator.png`` stores the plan residents read before they
give their positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(help="Online ballots: the window a meeting takes them in, and a hearing's plan.")


@app.command()
def window(
    meeting: Annotated[str, typer.Argument(help="Meeting id.")],
    opens: Annotated[
        str, typer.Option(help="Opening time with zone, e.g. 2026-03-01T08:00+08:00.")
    ],
    closes: Annotated[str, typer.Option(help="Closing time with zone.")],
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
) -> None:
    """Set (or move) when a meeting's ballot is open online."""
    from toolkit.commands._common import database_url
    from toolkit.commands._common import fail as _fail
    from toolkit.errors import ToolkitError
    from toolkit.store import Store

    try:
        with Store.open(database_url(database)) as store:
            made = store.set_online_window(meeting, opens, closes)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(f"`{meeting}` is open online from {made.opens_at} to {made.closes_at} (UTC).")


@app.command()
def plan(
    meeting: Annotated[str, typer.Argument(help="Meeting id (a hearing).")],
    text: Annotated[Path, typer.Option(help="UTF-8 text file with the plan.")],
    image: Annotated[
        list[Path] | None, typer.Option(help="A PNG or JPEG picture of the plan (repeatable).")
    ] = None,
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
) -> None:
    """Store the plan residents read online before they give their positions."""
    from toolkit.commands._common import database_url
    from toolkit.commands._common import fail as _fail
    from toolkit.errors import ToolkitError
    from toolkit.store import Store

    try:
        content = text.read_text(encoding="utf-8")
        pictures = [p.read_bytes() for p in image or []]
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(ValueError(f"cannot read the plan's files: {error}")) from error
    try:
        with Store.open(database_url(database)) as store:
            store.set_online_plan(meeting, content, pictures)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(f"the plan of `{meeting}` is stored ({len(pictures)} pictures).")
