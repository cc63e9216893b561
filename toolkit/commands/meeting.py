"""``sanhui meeting``: prepare a real meeting from a roster, open it, close it for good."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Meetings: prepare one from a roster (new), list, show, open, close, edit.",
    no_args_is_help=True,
)

Database = Annotated[str | None, typer.Option(help="Store URL or SQLite path.")]
_STATES = {"prepared": "prepared 准备中", "open": "open 进行中", "closed": "closed 已结束"}


def _store(database: str | None) -> Any:
    from toolkit.commands._common import database_url
    from toolkit.store import Store

    return Store.open(database_url(database))


def _fail(error: Exception) -> typer.Exit:
    typer.echo(str(error), err=True)
    return typer.Exit(code=1)


@app.command()
def new(
    meeting_id: Annotated[str, typer.Option("--id", help="Meeting id, e.g. wlq-2026-03-eval.")],
    kind: Annotated[str, typer.Option(help="hearing, coordination or evaluation.")],
    title: Annotated[str, typer.Option(help="Title, e.g. 2026年一季度物业服务评议会.")],
    instrument: Annotated[Path, typer.Option(help="The instrument: .yaml or XLSForm .xlsx.")],
    subject: Annotated[
        list[str] | None,
        typer.Option(help="An evaluated subject as id=标签, e.g. wuye=物业公司 (repeat)."),
    ] = None,
    date: Annotated[str | None, typer.Option(help="Meeting date, YYYY-MM-DD.")] = None,
    roster: Annotated[
        Path | None, typer.Option(help="The filled roster (.xlsx from `sanhui roster template`).")
    ] = None,
    members: Annotated[int | None, typer.Option(help="Members of the evaluating body.")] = None,
    ballots_issued: Annotated[int | None, typer.Option(help="Ballots to hand out (发放).")] = None,
    rule: Annotated[
        str | None,
        typer.Option(help="Verdict rule: majority_of_members, plurality or score_bands."),
    ] = None,
    codes: Annotated[
        int, typer.Option(help="One-time ballot codes to print (`sanhui print codes`).")
    ] = 0,
    community: Annotated[str | None, typer.Option(help="The 居民区 holding the meeting.")] = None,
    database: Database = None,
) -> None:
    """Prepare a meeting: check instrument, subjects and roster together, then create it.

    Every problem is listed with its file, sheet, row and column; nothing is written until all are
    fixed. The new meeting is prepared: open it with `sanhui meeting open ID` when voting starts.
    """
    from toolkit.errors import ToolkitError
    from toolkit.store.meeting_setup import create_planned_meeting, plan_meeting

    try:
        with _store(database) as store:
            plan = plan_meeting(
                store,
                meeting_id=meeting_id,
                kind=kind,
                title=title,
                instrument=instrument,
                subjects=subject or [],
                date=date,
                community=community,
                roster=roster,
                members=members,
                ballots_issued=ballots_issued,
                rule=rule,
                codes=codes,
            )
            meeting = create_planned_meeting(store, plan)
    except ToolkitError as error:
        raise _fail(error) from error
    people = 0 if plan.roster is None else len(plan.roster)
    typer.echo(
        f"created meeting {meeting.meeting_id} ({meeting.kind}, {len(meeting.subjects)} subjects, "
        f"{people} people invited). It is prepared: `sanhui meeting open {meeting.meeting_id}` "
        "starts the voting."
    )


@app.command("list")
def list_meetings(database: Database = None) -> None:
    """Every meeting with its state and ballot counts."""
    import sqlalchemy as sa

    from toolkit.errors import ToolkitError
    from toolkit.store import schema as t
    from toolkit.store.closing import meeting_state

    try:
        with _store(database) as store:
            m, s = t.meetings, t.submissions
            query = (
                sa.select(
                    m.c.meeting_id, m.c.kind, m.c.date, m.c.title, sa.func.count(s.c.submission_id)
                )
                .outerjoin(s, s.c.meeting_id == m.c.meeting_id)
                .group_by(m.c.meeting_id, m.c.kind, m.c.date, m.c.title)
                .order_by(m.c.date, m.c.meeting_id)
            )
            with store.engine.connect() as connection:
                rows = connection.execute(query).all()
            if not rows:
                typer.echo("no meetings yet: prepare one with `sanhui meeting new`.")
                return
            for row in rows:
                state = _STATES[meeting_state(store, row[0])]
                when = row[2].isoformat() if row[2] else "-"
                typer.echo(f"{row[0]}  {row[1]}  {when}  {state}  {row[4]} ballots  {row[3]}")
    except ToolkitError as error:
        raise _fail(error) from error


@app.command()
def show(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id.")], database: Database = None
) -> None:
    """One meeting: setup, state, roster size, ballots, and its closing record if closed."""
    from toolkit.errors import ToolkitError
    from toolkit.store.closing import ballot_counts, closing_record, meeting_state, verify_closing
    from toolkit.store.meeting_setup import meeting_settings

    try:
        with _store(database) as store:
            meeting = store.meeting(meeting_id)
            settings = meeting_settings(store, meeting_id)
            counts = ballot_counts(store, meeting_id)
            state = meeting_state(store, meeting_id)
            record = closing_record(store, meeting_id)
            intact = verify_closing(store, meeting_id) if record is not None else None
    except ToolkitError as error:
        raise _fail(error) from error
    subjects = ", ".join(f"{s.id}={s.label_zh}" for s in meeting.subjects) or "-"
    lines = [
        f"meeting     {meeting.meeting_id}  ({meeting.kind})  {_STATES[state]}",
        f"title       {meeting.title}",
        f"date        {meeting.date.isoformat() if meeting.date else '-'}",
        f"instrument  {meeting.instrument_id} {meeting.instrument_version}",
        f"subjects    {subjects}",
        f"members     {meeting.members if meeting.members is not None else '-'}",
        f"issued      {meeting.ballots_issued if meeting.ballots_issued is not None else '-'}",
        f"rule        {settings.get('rule') or '-'}",
        f"codes       {settings.get('codes') or 0}",
        f"invited     {counts['invited']}",
        f"ballots     {counts['returned']} returned: {counts['valid']} valid, {counts['void']} "
        f"void; {counts['tablet']} tablet, {counts['paper']} paper",
    ]
    if record is not None:
        lines += [
            f"closed at   {record.closed_at:%Y-%m-%d %H:%M} UTC with {record.ballots_returned} "
            "ballots",
            f"checksum    {record.checksum} "
            + ("(the stored ballots match)" if intact else "(MISMATCH: ballots changed since)"),
        ]
    typer.echo("\n".join(lines))


@app.command("open")
def open_(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id.")], database: Database = None
) -> None:
    """Start taking ballots (refused for a meeting closed and counted)."""
    from toolkit.errors import ToolkitError
    from toolkit.store.closing import open_meeting

    try:
        with _store(database) as store:
            open_meeting(store, meeting_id)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(f"meeting {meeting_id} is open: tablets and paper keying can store ballots.")


@app.command()
def close(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id.")], database: Database = None
) -> None:
    """Close for good: no more ballots; record the ballot counts and their checksum."""
    from toolkit.errors import ToolkitError
    from toolkit.store.closing import close_meeting

    try:
        with _store(database) as store:
            record = close_meeting(store, meeting_id)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(
        f"meeting {meeting_id} is closed: {record.ballots_returned} ballots ({record.ballots_valid}"
        f" valid, {record.ballots_void} void; {record.ballots_tablet} tablet, "
        f"{record.ballots_paper} paper), checksum {record.checksum}."
    )


@app.command()
def edit(
    meeting_id: Annotated[str, typer.Argument(help="The meeting id.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    date: Annotated[str | None, typer.Option(help="New date, YYYY-MM-DD.")] = None,
    subject: Annotated[
        list[str] | None, typer.Option(help="Replace the subjects: id=标签 (repeat).")
    ] = None,
    members: Annotated[int | None, typer.Option(help="Members of the body.")] = None,
    ballots_issued: Annotated[int | None, typer.Option(help="Ballots handed out.")] = None,
    rule: Annotated[str | None, typer.Option(help="The verdict rule.")] = None,
    codes: Annotated[int | None, typer.Option(help="One-time codes to print.")] = None,
    community: Annotated[str | None, typer.Option(help="The 居民区.")] = None,
    database: Database = None,
) -> None:
    """Change a meeting before its first ballot (afterwards it refuses and says why)."""
    from toolkit.errors import ToolkitError
    from toolkit.store.meeting_setup import edit_meeting

    changes = {
        "title": title,
        "date": date,
        "subjects": subject,
        "members": members,
        "ballots_issued": ballots_issued,
        "rule": rule,
        "codes": codes,
        "community": community,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise _fail(ValueError("nothing to change: give at least one option (see --help)."))
    try:
        with _store(database) as store:
            edit_meeting(store, meeting_id, **changes)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(f"meeting {meeting_id} changed: {', '.join(changes)}.")
