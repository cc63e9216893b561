"""``sanhui print``: paper ballots, one-time code slips and the results sheet (计票单) as PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Print paper ballots, code slips and the results sheet (A4 PDF, via Chromium).",
    no_args_is_help=True,
)

Database = Annotated[str | None, typer.Option(help="Store URL or SQLite path.")]

from toolkit.commands.links import links as _links  # noqa: E402  (one-time links, online ballots)

app.command("links")(_links)
FormUrl = Annotated[
    str | None,
    typer.Option(help="Tablet form address to put in the QR codes (default: the code itself)."),
]


def _run(database: str | None, action: str, meeting_id: str, out: Path, **options: object) -> None:
    from toolkit.commands._common import database_url
    from toolkit.errors import ToolkitError
    from toolkit.report import paper
    from toolkit.store import Store

    try:
        with Store.open(database_url(database)) as store:
            if action == "ballots":
                path, pages = paper.print_ballots(store, meeting_id, out, **options)  # type: ignore[arg-type]
                typer.echo(f"wrote {path}: {pages} A4 pages")
            elif action == "codes":
                path, pages = paper.print_codes(store, meeting_id, out, **options)  # type: ignore[arg-type]
                typer.echo(f"wrote {path}: {pages} A4 pages of code slips; the codes are not kept")
            else:
                path, data = paper.print_tally(store, meeting_id, out)
                b = data.ballots
                typer.echo(
                    f"wrote {path}: {b['returned']} ballots returned, {b['valid']} valid, "
                    f"{b['void']} void"
                )
    except ToolkitError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error


@app.command()
def ballots(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id.")],
    out: Annotated[Path, typer.Option(help="PDF to write.")] = Path("ballots.pdf"),
    count: Annotated[
        int | None, typer.Option(help="How many ballots (default: the meeting's ballots issued).")
    ] = None,
    first: Annotated[int, typer.Option(help="Number of the first ballot.")] = 1,
    codes: Annotated[
        bool, typer.Option(help="Print a new one-time code and its QR on each ballot.")
    ] = False,
    form_url: FormUrl = None,
    database: Database = None,
) -> None:
    """Numbered A4 paper ballots, large type, a box to tick per choice, subjects filled in."""
    _run(
        database,
        "ballots",
        meeting_id,
        out,
        count=count,
        first=first,
        codes=codes,
        form_url=form_url,
    )


@app.command("codes")
def codes_(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id (open).")],
    out: Annotated[Path, typer.Option(help="PDF to write.")] = Path("codes.pdf"),
    count: Annotated[
        int | None, typer.Option(help="How many codes (default: the meeting's --codes).")
    ] = None,
    form_url: FormUrl = None,
    database: Database = None,
) -> None:
    """Cut-out slips of new one-time ballot codes for the tablets (15 per page)."""
    _run(database, "codes", meeting_id, out, count=count, form_url=form_url)


@app.command()
def tally(
    meeting_id: Annotated[str, typer.Argument(help="The evaluation meeting id.")],
    out: Annotated[Path, typer.Option(help="PDF to write.")] = Path("tally.pdf"),
    database: Database = None,
) -> None:
    """The results sheet (计票单): counts, rates with intervals, the verdict, signature lines."""
    _run(database, "tally", meeting_id, out)
