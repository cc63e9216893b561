"""`sanhui roster template` and `sanhui meeting new|list|show|open|close|edit`: happy paths, and
every bad input with its place in the output and nothing written (the codes of the problems are
tested on ``plan_meeting`` and ``edit_meeting``, in test_meeting_setup.py)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.meeting_support import EVALUATION, filled_roster, need_chromium, new_args
from toolkit.cli import app
from toolkit.store import Store, Submission

runner = CliRunner()


def _tables(db: Path) -> dict[str, int]:
    """Row counts of every table (what "nothing written" is checked against)."""
    if not db.exists():
        return {}
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        counts = {
            n: connection.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one()
            for n in names
        }
    engine.dispose()
    return counts


def _digest(db: Path) -> str:
    return hashlib.sha256(repr(sorted(_tables(db).items())).encode()).hexdigest()


def _ballot(meeting: str, i: int, **extra: object) -> Submission:
    scale = ("satisfied", "basically_satisfied", "dissatisfied")
    answers: dict[str, object] = {"project_elevator": "no"}
    for subject in ("wuye", "juweihui"):
        for item in (
            "attitude",
            "efficiency",
            "transparency",
            "responsiveness",
            "integrity",
            "results",
            "overall",
        ):
            answers[f"{subject}__{item}"] = scale[i % 3]
    return Submission(str(uuid.uuid4()), meeting, answers, **extra)  # type: ignore[arg-type]


@pytest.fixture()
def roster(tmp_path: Path) -> Path:
    return filled_roster(tmp_path / "roster.xlsx")


def test_template_command(tmp_path: Path) -> None:
    out = tmp_path / "roster.xlsx"
    result = runner.invoke(app, ["roster", "template", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "sanhui meeting new" in result.output
    again = runner.invoke(app, ["roster", "template", str(out)])
    assert again.exit_code == 1 and "Pass --force" in again.output
    wrong = runner.invoke(app, ["roster", "template", str(tmp_path / "r.csv")])
    assert wrong.exit_code == 1 and "name it *.xlsx" in wrong.output
    assert not (tmp_path / "r.csv").exists()
    assert "drop-down" in runner.invoke(app, ["roster", "template", "--help"]).output


def test_new_list_show_open_close(tmp_path: Path, roster: Path) -> None:
    db = tmp_path / "s.db"
    made = runner.invoke(app, new_args(db, roster))
    assert made.exit_code == 0, made.output
    assert "created meeting wlq-2026-03 (evaluation, 2 subjects, 4 people invited)" in made.output
    listed = runner.invoke(app, ["meeting", "list", "--database", str(db)])
    assert "wlq-2026-03  evaluation  2026-03-15  prepared 准备中  0 ballots" in listed.output
    with (  # a prepared meeting takes no ballot
        Store.open(db) as store,
        pytest.raises(Exception, match="is not open and takes no ballots"),
    ):
        store.submit(_ballot("wlq-2026-03", 0))
    assert (
        runner.invoke(app, ["meeting", "open", "wlq-2026-03", "--database", str(db)]).exit_code == 0
    )
    with Store.open(db) as store:
        for i in range(3):
            store.submit(_ballot("wlq-2026-03", i))
    shown = runner.invoke(app, ["meeting", "show", "wlq-2026-03", "--database", str(db)])
    assert "open 进行中" in shown.output and "invited     4" in shown.output
    assert "3 returned: 3 valid, 0 void; 3 tablet, 0 paper" in shown.output
    assert "rule        majority_of_members" in shown.output
    closed = runner.invoke(app, ["meeting", "close", "wlq-2026-03", "--database", str(db)])
    assert closed.exit_code == 0 and "3 ballots (3 valid" in closed.output
    with Store.open(db) as store:
        with pytest.raises(Exception, match="is not open and takes no ballots"):
            store.submit(_ballot("wlq-2026-03", 5))
        with pytest.raises(Exception, match="cannot be reopened"):
            store.update_meeting("wlq-2026-03", status="open")
    shown = runner.invoke(app, ["meeting", "show", "wlq-2026-03", "--database", str(db)])
    assert "closed 已结束" in shown.output and "(the stored ballots match)" in shown.output
    before = _digest(db)
    for args, message in [
        (["meeting", "open", "wlq-2026-03"], "cannot be reopened"),
        (["meeting", "close", "wlq-2026-03"], "cannot be reopened"),
        (["meeting", "edit", "wlq-2026-03", "--title", "x"], "closed and counted"),
        (["meeting", "show", "wlq-2026-3"], "Did you mean `wlq-2026-03`?"),
        (["meeting", "open", "nope"], "no meeting `nope`"),
    ]:
        result = runner.invoke(app, [*args, "--database", str(db)])
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
    assert _digest(db) == before


def test_new_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    runner.invoke(app, ["meeting", "list", "--database", str(db)])  # an empty store
    before = _digest(db)
    rows = [
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
        ("王芳", "3-201", "3", "1～3层", "居民代表", "女", "60～69岁", 1961, "否"),
        (None, "4-101", "4", "1～3层", "居民带表", "男", "70～79岁", 1850, "是"),
    ]
    bad_roster = filled_roster(tmp_path / "bad.xlsx", rows)
    args = new_args(db, bad_roster)
    args[args.index("wuye=物业公司")] = "Wuye=物业公司"
    args[args.index("majority_of_members")] = "majority"
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    out = result.output
    assert "problems found (the meeting was not created or changed; nothing was written)" in out
    # every problem, each on its line, at its place (and the closest value, where there is one)
    for expected in [
        "option --subject, `Wuye=物业公司`: ",
        "option --rule: ",
        "Did you mean `majority_of_members`?",
        "bad.xlsx, sheet 名单 roster, row 4, column A (姓名 name): ",
        "bad.xlsx, sheet 名单 roster, row 5, column A (姓名 name): ",
        "bad.xlsx, sheet 名单 roster, row 5, column E (身份 role): ",
        "Did you mean `居民代表`?",
        "bad.xlsx, sheet 名单 roster, row 5, column H (出生年份 birth year): ",
    ]:
        assert expected in out, expected
    assert out.count("\n  - ") == 6, out
    assert _digest(db) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--kind", "evaluation", "hearing"), "option --instrument: "),
        (("--kind", "evaluation", "evaluaton"), "option --kind: "),
        (("--date", "2026-03-15", "15/03/2026"), "option --date: "),
        (("--title", "2026年一季度评议会", " "), "option --title: "),
        (("--id", "wlq-2026-03", "wlq 2026"), "option --id: "),
        (("--members", "5", "-1"), "option --members: "),
        (("--rule", "majority_of_members", "plurality"), None),
        (("--subject", "juweihui=居委会", "wuye=物业"), "option --subject, `wuye=物业`: "),
    ],
)
def test_new_bad_options(
    tmp_path: Path, roster: Path, change: tuple[str, str, str], message: str | None
) -> None:
    db = tmp_path / "s.db"
    args = new_args(db, roster)
    option, old, new = change
    index = next(i for i, a in enumerate(args) if a == old and args[i - 1] == option)
    args[index] = new
    result = runner.invoke(app, args)
    if message is None:  # a valid variant
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and message in result.output, result.output
    assert _tables(db).get("meetings", 0) == 0 and _tables(db).get("participants", 0) == 0


def test_new_instrument_and_subject_problems(tmp_path: Path, roster: Path) -> None:
    db = tmp_path / "s.db"
    args = new_args(db, roster)
    hearing = str(EVALUATION.parent / "hearing.yaml")
    args[args.index(str(EVALUATION))] = hearing
    args[args.index("evaluation")] = "hearing"
    args = args[: args.index("--rule")] + args[args.index("--rule") + 2 :]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "option --subject wuye: " in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("settings: {id: b, version: '1', title: 坏}\npages: []\n", encoding="utf-8")
    args = new_args(db, roster)
    args[args.index(str(EVALUATION))] = str(broken)
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "broken.yaml" in result.output
    args = new_args(db, roster)
    args[args.index(str(roster))] = str(tmp_path / "none.xlsx")
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "none.xlsx: " in result.output
    assert _tables(db).get("meetings", 0) == 0 and _tables(db).get("instruments", 0) == 0
    assert runner.invoke(app, new_args(db, roster)).exit_code == 0
    again = runner.invoke(app, new_args(db, roster))
    assert again.exit_code == 1 and "option --id: " in again.output
    assert _tables(db)["participants"] == 4


def test_edit_before_first_ballot_only(tmp_path: Path, roster: Path) -> None:
    db = tmp_path / "s.db"
    assert runner.invoke(app, new_args(db, roster)).exit_code == 0
    base = ["meeting", "edit", "wlq-2026-03", "--database", str(db)]
    ok = runner.invoke(
        app, [*base, "--title", "新标题", "--subject", "wuye=物业", "--members", "9"]
    )
    assert ok.exit_code == 0, ok.output
    with Store.open(db) as store:
        meeting = store.meeting("wlq-2026-03")
    assert meeting.title == "新标题" and meeting.members == 9
    assert [s.id for s in meeting.subjects] == ["wuye"]
    before = _digest(db)
    for extra, message in [
        ([], "nothing to change"),
        (["--rule", "best"], "option --rule: "),
        (["--date", "March"], "option --date: "),
        (["--subject", "x-y=坏"], "option --subject, `x-y=坏`: "),
    ]:
        result = runner.invoke(app, [*base, *extra])
        assert result.exit_code == 1 and message in result.output, (extra, result.output)
    assert _digest(db) == before
    runner.invoke(app, ["meeting", "open", "wlq-2026-03", "--database", str(db)])
    with Store.open(db) as store:
        answers = {"project_elevator": "no", "wuye__overall": "satisfied"}
        for item in (
            "attitude",
            "efficiency",
            "transparency",
            "responsiveness",
            "integrity",
            "results",
        ):
            answers[f"wuye__{item}"] = "satisfied"
        store.submit(Submission(str(uuid.uuid4()), "wlq-2026-03", answers))
    before = _digest(db)
    refused = runner.invoke(app, [*base, "--title", "再改"])
    assert refused.exit_code == 1
    assert "already has 1 ballot(s), so it cannot be edited" in refused.output
    assert _digest(db) == before


def test_every_command_has_help() -> None:
    for group, commands in {
        "meeting": ["new", "list", "show", "open", "close", "edit"],
        "roster": ["template"],
    }.items():
        for command in commands:
            result = runner.invoke(app, [group, command, "--help"])
            assert result.exit_code == 0 and "Usage" in result.output, (group, command)


@pytest.mark.browser
def test_print_commands(tmp_path: Path, roster: Path) -> None:
    need_chromium()
    db = tmp_path / "s.db"
    assert runner.invoke(app, new_args(db, roster)).exit_code == 0
    before = _digest(db)
    refused = runner.invoke(
        app,
        [
            "print",
            "codes",
            "wlq-2026-03",
            "--count",
            "3",
            "--out",
            str(tmp_path / "c.pdf"),
            "--database",
            str(db),
        ],
    )
    assert refused.exit_code == 1 and "Open it first with `sanhui meeting open" in refused.output
    wrong = runner.invoke(app, ["print", "tally", "nope", "--database", str(db)])
    assert wrong.exit_code == 1 and "no meeting `nope`" in wrong.output
    assert _digest(db) == before and not (tmp_path / "c.pdf").exists()
    out = tmp_path / "ballots.pdf"
    made = runner.invoke(
        app,
        [
            "print",
            "ballots",
            "wlq-2026-03",
            "--count",
            "1",
            "--out",
            str(out),
            "--database",
            str(db),
        ],
    )
    assert made.exit_code == 0 and out.exists() and "A4 pages" in made.output
    for command in ("ballots", "codes", "tally"):
        assert "Usage" in runner.invoke(app, ["print", command, "--help"]).output


@pytest.mark.browser
def test_print_bad_inputs_write_nothing(tmp_path: Path, roster: Path) -> None:
    need_chromium()
    db = tmp_path / "s.db"
    assert runner.invoke(app, new_args(db, roster)).exit_code == 0
    hearing = [
        "meeting",
        "new",
        "--id",
        "h1",
        "--kind",
        "hearing",
        "--title",
        "听证会",
        "--instrument",
        str(EVALUATION.parent / "hearing.yaml"),
        "--database",
        str(db),
    ]
    assert runner.invoke(app, hearing).exit_code == 0, "a hearing meeting for the tally check"
    runner.invoke(app, ["meeting", "open", "wlq-2026-03", "--database", str(db)])
    before = _digest(db)
    out = tmp_path / "out.pdf"
    for args, message in [
        (["ballots", "wlq-2026-03", "--out", str(tmp_path / "b.html")], "must name a .pdf"),
        (["ballots", "wlq-2026-03", "--count", "0", "--out", str(out)], "pass --count N"),
        (["ballots", "wlq-2026-03", "--first", "0", "--out", str(out)], "`--first` must be"),
        (["ballots", "nope", "--out", str(out)], "no meeting `nope`"),
        (["codes", "wlq-2026-03", "--out", str(out)], "plans none; pass --count N"),
        (["codes", "wlq-2026-03", "--count", "20000", "--out", str(out)], "(1 to 10000)"),
        (["tally", "h1", "--out", str(out)], "is a hearing meeting; the results sheet"),
        (["tally", "wlq-2026-3", "--out", str(out)], "Did you mean `wlq-2026-03`?"),
    ]:
        result = runner.invoke(app, ["print", *args, "--database", str(db)])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert _digest(db) == before and not out.exists() and not (tmp_path / "b.html").exists()
    bad_db = runner.invoke(app, ["meeting", "list", "--database", "mysql://u@h/db"])
    assert bad_db.exit_code == 1 and "SQLite and PostgreSQL" in bad_db.output


def test_serve_refuses_a_prepared_meeting(tmp_path: Path, roster: Path) -> None:
    db = tmp_path / "s.db"
    assert runner.invoke(app, new_args(db, roster)).exit_code == 0
    result = runner.invoke(app, ["serve", "--meeting", "wlq-2026-03", "--database", str(db)])
    assert result.exit_code == 1
    assert "start its voting with `sanhui meeting open wlq-2026-03`" in result.output
