"""``sanhui case``: cases (议题) followed from hearing to coordination, evaluation and rectification.

sanhui case new elev-3 --title "3号楼加装电梯" --kind elevator --street 五里桥街道
sanhui case add-meeting elev-3 S01-C01-M01 --support option_1=20 --oppose option_1=9
sanhui case add-meeting elev-3 S01-C01-M05 --agreement partial --parties 4 --term "低层补偿"
sanhui case show elev-3
sanhui case list
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from toolkit.commands._common import open_store

app = typer.Typer(
    help="Cases (议题): link a hearing, coordination and evaluation meetings and their outcomes.",
    no_args_is_help=True,
)

Database = Annotated[str | None, typer.Option(help="Store URL or SQLite path.")]


@app.command("new")
def new(
    case_id: Annotated[str, typer.Argument(help="Your id for the case, e.g. elev-3.")],
    title: Annotated[str, typer.Option(help="Title, e.g. 3号楼加装电梯.")],
    kind: Annotated[str, typer.Option(help="Kind: elevator, property, greening, parking, ...")],
    street: Annotated[str | None, typer.Option(help="Street (街道).")] = None,
    community: Annotated[str | None, typer.Option(help="Community (居民区) or park.")] = None,
    building: Annotated[str | None, typer.Option(help="Building or doorway.")] = None,
    opened_on: Annotated[str | None, typer.Option(help="Date opened, YYYY-MM-DD.")] = None,
    database: Database = None,
) -> None:
    """Open a case."""
    with open_store(database) as store:
        case = store.create_case(
            case_id,
            title=title,
            kind=kind,
            street=street,
            community=community,
            building=building,
            opened_on=opened_on,
        )
        typer.echo(f"case {case.case_id} created: {case.title} ({case.kind})")


def _positions(pairs: dict[str, list[str]]) -> dict[str, dict[str, int]] | None:
    from toolkit.errors import ParameterError

    positions: dict[str, dict[str, int]] = {}
    for position, entries in pairs.items():
        for entry in entries:
            option, sep, count = entry.partition("=")
            if not sep or not option or not count.strip().isdigit():
                raise ParameterError(
                    f"`--{position.replace('_', '-')} {entry}`: write OPTION=COUNT, e.g. "
                    f"--{position.replace('_', '-')} option_1=20."
                )
            positions.setdefault(option, {})[position] = int(count)
    return positions or None


@app.command("add-meeting")
def add_meeting(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    meeting_id: Annotated[str, typer.Argument(help="A stored meeting, later than the last one.")],
    stage: Annotated[
        str | None,
        typer.Option(help="hearing, coordination, evaluation or follow_up (default: the kind)."),
    ] = None,
    support: Annotated[
        list[str] | None, typer.Option(help="Hearing: OPTION=COUNT in support (repeatable).")
    ] = None,
    conditional: Annotated[
        list[str] | None, typer.Option(help="Hearing: OPTION=COUNT in support with conditions.")
    ] = None,
    oppose: Annotated[list[str] | None, typer.Option(help="Hearing: OPTION=COUNT against.")] = None,
    undecided: Annotated[
        list[str] | None, typer.Option(help="Hearing: OPTION=COUNT undecided.")
    ] = None,
    agreement: Annotated[
        str | None, typer.Option(help="Coordination: reached, partial or none.")
    ] = None,
    parties: Annotated[int | None, typer.Option(help="Coordination: parties at the table.")] = None,
    term: Annotated[
        list[str] | None, typer.Option(help="Coordination: an agreed term (repeatable).")
    ] = None,
    verdict: Annotated[
        str | None, typer.Option(help="Evaluation: 满意, 基本满意 or 不满意.")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="Evaluation: the decision rule used.")] = None,
    note: Annotated[str | None, typer.Option(help="A note on the outcome.")] = None,
    database: Database = None,
) -> None:
    """Link a meeting to a case (in order) and record what it produced."""
    with open_store(database) as store:
        positions = _positions(
            {
                "support": support or [],
                "conditional": conditional or [],
                "oppose": oppose or [],
                "dont_know": undecided or [],
            }
        )
        outcome: dict[str, Any] = {
            "positions": positions,
            "agreement": agreement,
            "parties": parties,
            "terms": term or None,
            "verdict": verdict,
            "rule": rule,
            "note": note,
        }
        linked = store.add_case_meeting(
            case_id,
            meeting_id,
            stage=stage,
            outcome={k: v for k, v in outcome.items() if v is not None},
        )
        typer.echo(
            f"case {case_id}: meeting {meeting_id} linked as #{linked.sequence} ({linked.stage})"
        )


def _outcome_text(meeting: Any) -> str:
    parts = []
    if meeting.positions:
        parts.append("positions " + json.dumps(meeting.positions, ensure_ascii=False))
    if meeting.agreement:
        parts.append(f"agreement {meeting.agreement}")
    if meeting.parties is not None:
        parts.append(f"{meeting.parties} parties")
    if meeting.terms:
        parts.append("terms: " + "; ".join(meeting.terms))
    if meeting.verdict:
        parts.append(f"verdict {meeting.verdict}" + (f" ({meeting.rule})" if meeting.rule else ""))
    return ", ".join(parts) or "no outcome recorded"


@app.command("show")
def show(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    database: Database = None,
) -> None:
    """Print a case: its meetings in order with their outcomes, and its rectification items."""
    with open_store(database) as store:
        case = store.case(case_id)
    place = " / ".join(p for p in (case.street, case.community, case.building) if p)
    typer.echo(f"{case.case_id}  {case.title}  [{case.kind}]  stage: {case.stage}")
    if place:
        typer.echo(f"  where: {place}")
    for m in case.meetings:
        typer.echo(
            f"  {m.sequence}. {m.date or '????-??-??'}  {m.stage:<12} {m.meeting_id}  "
            f"({m.venue})  {_outcome_text(m)}"
        )
    if not case.meetings:
        typer.echo("  no meetings yet: sanhui case add-meeting CASE MEETING")
    for item in case.items:
        due = f" due {item.due_date}" if item.due_date else ""
        typer.echo(f"  整改 #{item.item_id} [{item.status}] {item.item} — {item.subject}{due}")


@app.command("list")
def list_cases(database: Database = None) -> None:
    """List every case with its stage, meetings and rectification progress."""
    with open_store(database) as store:
        frame = store.cases()
    if frame.empty:
        typer.echo("no cases yet: sanhui case new ID --title ... --kind ...")
        return
    for row in frame.to_dict("records"):
        typer.echo(
            f"{row['case_id']}  {row['stage']:<13} {row['kind']:<10} meetings {row['meetings']}  "
            f"agreement {row['agreement'] or '-'}  整改 {row['items_done']}/{row['items']} done  "
            f"{row['title']}"
        )
