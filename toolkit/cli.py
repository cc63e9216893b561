"""The ``sanhui`` command line.

Commands import what they need when they run, so ``sanhui --help`` is instant and the tablet server
never loads the analysis stack.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from toolkit.commands._common import DEFAULT_DB, database_url  # noqa: F401  (public names of the CLI)
from toolkit.commands._common import fail as _fail
from toolkit.commands.case import app as _case_app
from toolkit.commands.rectify import app as _rectify_app

app = typer.Typer(
    name="sanhui",
    help="三会 sanhui: instruments, tablet ballots, a durable store, analysis and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.add_typer(_case_app, name="case")
app.add_typer(_rectify_app, name="rectify")


def _add_groups() -> None:
    from toolkit.commands import meeting, online, printing, roster

    app.add_typer(roster.app, name="roster")
    app.add_typer(meeting.app, name="meeting")
    app.add_typer(printing.app, name="print")
    app.add_typer(online.app, name="online")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Instrument files (YAML or XLSForm).")],
    drop_unsupported: Annotated[
        bool,
        typer.Option(help="XLSForm: leave out optional geo/media/external/search() questions."),
    ] = False,
) -> None:
    """Check instruments; print every problem with its file, line and fix."""
    from toolkit.instrument.loader import validate_files

    raise typer.Exit(code=validate_files(files, drop_unsupported=drop_unsupported))


@app.command()
def demo(
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic generator.")] = 17,
    rebuild: Annotated[
        bool, typer.Option(help="Delete the SQLite demo file first and build it again.")
    ] = False,
) -> None:
    """Build the synthetic demo database (if missing) and print a summary of its meetings."""
    from toolkit.demo import build_demo, summary_text
    from toolkit.errors import ToolkitError
    from toolkit.store import Store

    url = database_url(database)
    try:
        if rebuild:
            _delete_sqlite(url)
        with Store.open(url) as store:
            built = build_demo(store, seed=seed)
            typer.echo(summary_text(store, built=built, url=url))
    except ToolkitError as error:
        raise _fail(error) from error


def _only_open_meeting(store: Any) -> str:
    """The one open meeting of the store, or a clear error naming the candidates."""
    from toolkit.errors import StoreError

    meetings = store.meetings()
    open_ones = meetings[meetings["status"] == "open"]["meeting_id"].tolist()
    if len(open_ones) == 1:
        return str(open_ones[0])
    listed = ", ".join(open_ones) if open_ones else "none"
    raise StoreError(
        f"name the meeting to serve with `sanhui serve --meeting ID` (open meetings: {listed})."
    )


def _delete_sqlite(url: str) -> None:
    from toolkit.errors import ParameterError

    if not url.startswith("sqlite:///"):
        raise ParameterError(
            "`--rebuild` deletes a SQLite demo file; for another database drop its tables yourself."
        )
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@app.command()
def serve(
    meeting: Annotated[
        str | None, typer.Option(help="Meeting id to collect for (default: the demo's open one).")
    ] = None,
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (all interfaces by default).")] = (
        "0.0.0.0"
    ),
    port: Annotated[int, typer.Option(help="Fixed port the tablets use.")] = 8866,
    access_code: Annotated[
        str | None,
        typer.Option(
            help="Staff access code for sign-in and board. Visible to other accounts of this "
            "computer in `ps`: prefer the SANHUI_ACCESS_CODE environment variable or "
            "--ask-access-code. Default: a random 6-digit code, printed."
        ),
    ] = None,
    ask_access_code: Annotated[
        bool, typer.Option(help="Type the staff access code at a prompt (not echoed).")
    ] = False,
    sessions_per_client: Annotated[
        int, typer.Option(help="Open pages allowed per client address (tablet).")
    ] = 12,
    idle_minutes: Annotated[
        float, typer.Option(help="Close a page's session after this long without a message.")
    ] = 30.0,
    max_message_kb: Annotated[
        int, typer.Option(help="Largest message a page may send, in KB.")
    ] = 64,
    demo_if_missing: Annotated[
        bool, typer.Option(help="Build the synthetic demo first if the store has no meetings.")
    ] = False,
    keying: Annotated[
        bool,
        typer.Option(
            help="Also serve /keying: double entry of paper ballots (staff, behind the access code)."
        ),
    ] = False,
    online: Annotated[
        bool,
        typer.Option(help="Serve the ballot to phones over the internet, behind a TLS proxy."),
    ] = False,
    base_url: Annotated[
        str | None, typer.Option(help="Public https address of the online ballot (--online).")
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(help="Address of the reverse proxy whose X-Forwarded-* headers are believed."),
    ] = None,
) -> None:
    """Serve the tablet form, sign-in page and live board of one meeting on the local network
    (or, with --online, the ballot to residents' phones behind a TLS reverse proxy)."""
    from toolkit.collect.guard import Limits
    from toolkit.collect.online import OnlineSettings
    from toolkit.collect.server import ACCESS_CODE_ENV, plan_serve, run_serve
    from toolkit.errors import ParameterError, ToolkitError
    from toolkit.store import Store

    url = database_url(database)
    code = access_code or os.environ.get(ACCESS_CODE_ENV) or None
    if ask_access_code:
        code = typer.prompt("Staff access code", hide_input=True).strip() or None
    try:
        if code is not None and not (code.isascii() and code.isdigit() and 4 <= len(code) <= 12):
            raise ParameterError(
                "the staff access code must be 4 to 12 digits (staff type it on a number pad)."
            )
        if sessions_per_client < 1 or idle_minutes <= 0 or max_message_kb < 8:
            raise ParameterError(
                "`--sessions-per-client` must be at least 1, `--idle-minutes` positive and "
                "`--max-message-kb` at least 8."
            )
        settings = None
        if online:
            if not base_url:
                raise ParameterError(
                    "`--online` needs `--base-url https://...`, the public address phones open."
                )
            settings = OnlineSettings(base_url, tuple(trusted_proxy or ("127.0.0.1", "::1")))
        elif base_url or trusted_proxy:
            raise ParameterError("`--base-url` and `--trusted-proxy` go with `--online`.")
        with Store.open(url) as store:
            if demo_if_missing and store.meetings().empty:
                from toolkit.demo import build_demo

                typer.echo("The store is empty: building the synthetic demo meetings first.")
                build_demo(store)
            if meeting is None:
                meeting = _only_open_meeting(store)
            record = store.meeting(meeting)
            if record.status != "open":
                raise _fail(
                    ValueError(
                        f"meeting `{meeting}` is not open: start its voting with `sanhui meeting "
                        f"open {meeting}` (a meeting closed and counted cannot be reopened)."
                    )
                )
        plan = plan_serve(
            meeting=meeting,
            database=url,
            host=host,
            port=port,
            access_code=code,
            limits=Limits(
                sessions_per_client=sessions_per_client,
                message_bytes=max_message_kb * 1024,
                idle_seconds=idle_minutes * 60,
            ),
            keying=keying,
            online=settings,
        )
    except ToolkitError as error:
        raise _fail(error) from error
    raise typer.Exit(code=run_serve(plan))


@app.command()
def sync(
    source: Annotated[
        str, typer.Option("--from", help="Store to copy from: a site's SQLite file or a URL.")
    ],
    target: Annotated[
        str, typer.Option("--to", help="Store to copy into, e.g. postgresql+psycopg://host/db.")
    ],
    to_schema: Annotated[
        str | None, typer.Option(help="PostgreSQL schema of the target store.")
    ] = None,
    from_schema: Annotated[
        str | None, typer.Option(help="PostgreSQL schema of the source store.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows committed per batch.")] = 5000,
    verify_answers: Annotated[
        bool, typer.Option(help="Also type-check each new ballot's answers against its instrument.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Copy everything a site's store holds into another: meetings, participants, attendance,
    ballots with their repeat rows, ballot codes, closing records, speaking turns, comment codings,
    online windows and cases (drafts stay on the laptop).

    Safe to repeat and to resume after an interruption: what the target holds is skipped, and
    conflicting rows are reported, never overwritten. Exit code 0: done; 2: done with conflicts or
    skipped rows (listed); 1: stopped by an error.
    """
    from toolkit.errors import ToolkitError
    from toolkit.store.sync import sync as run_sync

    try:
        report = run_sync(
            database_url(source),
            database_url(target),
            source_schema=from_schema,
            target_schema=to_schema,
            progress=progress,
            batch_size=batch_size,
            verify_answers=verify_answers,
        )
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(report.summary())
    if report.conflicts or report.skipped:
        raise typer.Exit(code=2)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Instrument to read (.yaml/.yml or .xlsx).")],
    target: Annotated[Path, typer.Argument(help="File to write (.yaml/.yml or .xlsx).")],
    drop_unsupported: Annotated[
        bool,
        typer.Option(help="XLSForm: leave out optional geo/media/external/search() questions."),
    ] = False,
) -> None:
    """Convert an instrument between YAML and XLSForm (ODK, KoboToolbox, SurveyCTO)."""
    from toolkit.errors import ToolkitError
    from toolkit.instrument.xlsform import convert as convert_instrument

    try:
        survey = convert_instrument(source, target, drop_unsupported=drop_unsupported)
    except ToolkitError as error:
        raise _fail(error) from error
    typer.echo(f"{source} -> {target}: {survey.id} {survey.version}, {len(survey.pages)} pages")


@app.command()
def export(
    out: Annotated[
        Path, typer.Argument(help="File to write: .csv, .xlsx, .parquet, .sav or .dta.")
    ],
    meeting: Annotated[
        list[str] | None, typer.Option(help="Meeting id (repeat for several; default all).")
    ] = None,
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
    instrument: Annotated[
        str | None, typer.Option(help="Instrument id, when meetings use several.")
    ] = None,
    values: Annotated[str, typer.Option(help="codes or labels.")] = "codes",
    language: Annotated[str, typer.Option(help="zh or en, for labels.")] = "zh",
    layout: Annotated[str, typer.Option(help="wide (a row per ballot) or long.")] = "wide",
    separate: Annotated[
        list[str] | None, typer.Option(help="Also write these tables apart: profile, paradata.")
    ] = None,
    include_void: Annotated[bool, typer.Option(help="Include void ballots.")] = False,
    bom: Annotated[bool, typer.Option(help="CSV with a BOM (Excel on Chinese Windows).")] = False,
    codebook: Annotated[
        Path | None, typer.Option(help="Also write the codebook (.csv, .xlsx, .md or .html).")
    ] = None,
) -> None:
    """Export ballots for SPSS, Stata, R or Excel (never names; formula-safe)."""
    from toolkit.errors import ToolkitError
    from toolkit.exports import export_responses, load_responses, write_codebook
    from toolkit.store import Store

    try:
        with Store.open(database_url(database)) as store:
            written = export_responses(
                store,
                out,
                meeting=meeting or None,
                instrument=instrument,
                labels=language if values == "labels" else "codes",  # type: ignore[arg-type]
                language=language,
                layout=layout,
                separate=tuple(separate or ()),
                include_void=include_void,
                bom=bom,
            )
            if codebook is not None:
                _frame, survey, labels = load_responses(
                    store, meeting or None, instrument=instrument
                )
                written.append(
                    write_codebook(
                        survey, codebook, subjects=list(labels), subject_labels=labels, bom=bom
                    )
                )
    except ToolkitError as error:
        raise _fail(error) from error
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def report(
    meeting: Annotated[
        str | None, typer.Option(help="Meeting id (any kind), e.g. S01-C01-M02.")
    ] = None,
    case: Annotated[str | None, typer.Option(help="Case id, e.g. S01-C01-K1.")] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    database: Annotated[str | None, typer.Option(help="Store URL or SQLite path.")] = None,
    language: Annotated[str, typer.Option(help="Report language: zh or en.")] = "zh",
    pdf: Annotated[
        bool, typer.Option(help="Also print a PDF beside the HTML (needs Chromium).")
    ] = False,
) -> None:
    """Render the report of one meeting or one case: self-contained HTML, no code, offline."""
    from toolkit.errors import ParameterError, ToolkitError

    try:
        if (meeting is None) == (case is None):
            raise ParameterError("give exactly one of --meeting ID or --case ID.")
        options: dict[str, Any] = {
            "out": out,
            "database_url": database_url(database),
            "language": language,
        }
        if case is not None:
            from toolkit.report.case import render_case_report

            result = render_case_report(case, pdf=pdf, **options)
        else:
            from toolkit.report.meeting import render_meeting_report

            result = render_meeting_report(str(meeting), pdf=pdf, **options)
    except ToolkitError as error:
        raise _fail(error) from error
    written = [str(result["html"])] + ([str(result["pdf"])] if result["pdf"] else [])
    typer.echo(f"wrote {', '.join(written)} in {result['seconds']:.1f} s")


_add_groups()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
