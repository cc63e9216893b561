"""``sanhui rectify``: the rectification list (整改) of a case, followed up to the next evaluation.

    sanhui rectify add elev-3 --item "施工噪音" --subject contractor --source low_rating \\
        --ref contractor__noise --meeting S01-C01-M02 --due 2026-08-01
    sanhui rectify update 1 --status done --evidence "夜间停工公告" --followup S01-C01-M03
    sanhui rectify list --case elev-3
"""

from __future__ import annotations

from typing import Annotated

import typer

from toolkit.commands._common import open_store

app = typer.Typer(help="Rectification items (整改) of a case.", no_args_is_help=True)

Database = Annotated[str | None, typer.Option(help="Store URL or SQLite path.")]


@app.command("add")
def add(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    item: Annotated[str, typer.Option(help="What is to be put right.")],
    subject: Annotated[str, typer.Option(help="Who is responsible (e.g. wuye, contractor).")],
    source: Annotated[str, typer.Option(help="low_rating or comment.")],
    ref: Annotated[
        str | None, typer.Option(help="The rated item (wuye__efficiency) or the comment.")
    ] = None,
    meeting: Annotated[
        str | None, typer.Option(help="The evaluation meeting it came from (linked to the case).")
    ] = None,
    due: Annotated[str | None, typer.Option(help="Due date, YYYY-MM-DD.")] = None,
    status: Annotated[str, typer.Option(help="open, in_progress, done or not_accepted.")] = "open",
    evidence: Annotated[str | None, typer.Option(help="What shows it was done.")] = None,
    database: Database = None,
) -> None:
    """Add a rectification item to a case."""
    with open_store(database) as store:
        added = store.add_rectification(
            case_id,
            item=item,
            subject=subject,
            source=source,
            source_ref=ref,
            source_meeting_id=meeting,
            due_date=due,
            status=status,
            evidence=evidence,
        )
        typer.echo(f"整改 #{added.item_id} added to case {case_id}: {added.item} [{added.status}]")


@app.command("update")
def update(
    item_id: Annotated[int, typer.Argument(help="The item number (see `sanhui rectify list`).")],
    status: Annotated[
        str | None, typer.Option(help="open, in_progress, done or not_accepted.")
    ] = None,
    evidence: Annotated[str | None, typer.Option(help="What shows it was done.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date, YYYY-MM-DD.")] = None,
    followup: Annotated[
        str | None, typer.Option(help="The follow-up evaluation meeting that checked it.")
    ] = None,
    database: Database = None,
) -> None:
    """Change an item's status, evidence, due date or follow-up meeting."""
    with open_store(database) as store:
        item = store.update_rectification(
            item_id, status=status, evidence=evidence, due_date=due, followup_meeting_id=followup
        )
        typer.echo(f"整改 #{item.item_id} [{item.status}] {item.item}")


@app.command("list")
def list_items(
    case: Annotated[str | None, typer.Option(help="Only this case.")] = None,
    database: Database = None,
) -> None:
    """List rectification items with their status."""
    with open_store(database) as store:
        if case is not None:
            store.case(case)  # a clear error for an unknown case
        frame = store.rectification_items(case)
    if frame.empty:
        typer.echo("no rectification items")
        return
    for row in frame.to_dict("records"):
        due = f" due {row['due_date']}" if row["due_date"] else ""
        checked = f" checked at {row['followup_meeting_id']}" if row["followup_meeting_id"] else ""
        typer.echo(
            f"#{row['item_id']}  {row['case_id']}  [{row['status']}] {row['item']} — "
            f"{row['subject']} ({row['source']}){due}{checked}"
        )
