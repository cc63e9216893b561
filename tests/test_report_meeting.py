"""Tests of toolkit.report.meeting: the report data, the rendered HTML, the CLI, a screenshot.

The report is rendered once per module (one kernel run of notebooks/40_meeting_report.ipynb on a
private copy of the demo database) and its key numbers are checked against the analysis functions
and against R (``tests/reference/report_meeting.R``: ``prop.test(x, n, correct = FALSE)``).
"""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.ci_support import skip_or_fail
from toolkit.analysis import satisfaction_rates, turnout
from toolkit.demo import demo_store
from toolkit.errors import ParameterError, StoreError
from toolkit.exports import suppress_small
from toolkit.report.meeting import (
    MeetingReport,
    find_chromium,
    format_rate,
    meeting_report_data,
    render_meeting_report,
    report_tables,
    suppress_small_cells,
)
from toolkit.store import schema

MEETING = "S01-C01-M02"
REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "report_meeting.json").read_text(encoding="utf-8")
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def store() -> Any:
    with demo_store() as s:
        yield s


@pytest.fixture(scope="module")
def report(store: Any) -> MeetingReport:
    return meeting_report_data(store, MEETING)


@pytest.fixture(scope="module")
def rendered(store: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = render_meeting_report(MEETING, out=out, database_url=store.url)
    result["text"] = out.read_text(encoding="utf-8")
    return result


def _table_rows(page: str, first_cell: str) -> list[list[str]]:
    """The rows (cell texts) of the HTML table whose header row starts with ``first_cell``."""
    for table in re.findall(r"<table.*?</table>", page, flags=re.DOTALL):
        head = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table, flags=re.DOTALL)
        if head and htmllib.unescape(head[0].strip()) == first_cell:
            body = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>", 1)[1], flags=re.DOTALL)
            return [
                [htmllib.unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
                for row in body
            ]
    raise AssertionError(f"no table headed {first_cell!r} in the report")


# --- the data --------------------------------------------------------------------------------------


def test_ballot_counts_match_the_store(store: Any, report: MeetingReport) -> None:
    row = store.meetings().set_index("meeting_id").loc[MEETING]
    counts = report.ballots.set_index("measure")["count"]
    assert int(counts["issued"]) == int(row["ballots_issued"])
    assert int(counts["returned"]) == int(row["ballots_returned"]) == 43
    assert int(counts["valid"]) == int(row["ballots_valid"])
    assert int(counts["void"]) == int(row["ballots_void"])


def test_rates_match_satisfaction_rates_and_r(store: Any, report: MeetingReport) -> None:
    valid = store.responses(MEETING)
    direct = satisfaction_rates(valid, items="juweihui__overall")
    broad = direct[direct["measure"] == "broad"].iloc[0]
    ours = report.rates[
        (report.rates["subject"] == "juweihui")
        & (report.rates["item"] == "overall")
        & (report.rates["measure"] == "broad")
    ].iloc[0]
    for column in ("count", "n", "estimate", "ci_low", "ci_high"):
        assert float(ours[column]) == pytest.approx(float(broad[column]), rel=1e-12)
    ref = REFERENCE["juweihui_overall_broad"]  # R prop.test(39, 41, correct = FALSE)
    assert (int(ours["count"]), int(ours["n"])) == (ref["count"], ref["n"])
    for column in ("estimate", "ci_low", "ci_high"):
        assert float(ours[column]) == pytest.approx(ref[column], rel=1e-9)
    assert report.broad_rate("juweihui") == pytest.approx(ref["estimate"], rel=1e-12)


def test_turnout_matches_turnout_and_r(store: Any, report: MeetingReport) -> None:
    roster = store.attendance_table(MEETING)
    direct = turnout(roster[roster["invited"]]).iloc[0]
    overall = report.turnout[report.turnout["by"] == "(all)"].iloc[0]
    ref = REFERENCE["turnout_all"]
    assert (int(overall["count"]), int(overall["n"])) == (ref["count"], ref["n"])
    assert int(direct["count"]) == ref["count"]
    for column in ("estimate", "ci_low", "ci_high"):
        assert float(overall[column]) == pytest.approx(ref[column], rel=1e-9)


def test_verdict_records_the_rule(report: MeetingReport) -> None:
    assert set(report.verdict["rule"]) == {"majority_of_members"}
    assert report.members == 75
    assert list(report.verdict["subject"]) == ["juweihui", "yeweihui", "contractor"]
    # S / M > 1/2 or (S + B) / M > 1/2 with M = 75 members, not the 43 who came
    row = report.verdict.set_index("subject").loc["contractor"]
    s, b = int(row["count_satisfied"]), int(row["count_basically_satisfied"])
    assert row["verdict"] == (
        "满意" if 2 * s > 75 else "基本满意" if 2 * (s + b) > 75 else "不满意"
    )


def test_other_rules_and_errors(store: Any) -> None:
    plural = meeting_report_data(store, MEETING, rule="plurality")
    assert set(plural.verdict["rule"]) == {"plurality"} and plural.members is None
    with pytest.raises(ParameterError, match="rule"):
        meeting_report_data(store, MEETING, rule="majority")
    with pytest.raises(ParameterError, match="hearing"):
        meeting_report_data(store, "S01-C01-M01")
    with pytest.raises(StoreError, match="no meeting"):
        meeting_report_data(store, "S01-C01-M99")


def test_rectification_list(store: Any, report: MeetingReport) -> None:
    valid = store.responses(MEETING)
    counts = report.rectify.set_index("code")["count"]
    assert int(counts["fairness_issue"]) == int(valid["rectify__fairness_issue"].sum())
    assert (report.rectify["n"] == len(valid)).all()
    flagged = report.bottom_items
    assert set(flagged["subject"]) >= {"juweihui", "yeweihui", "contractor"}
    assert (flagged["rank"] <= 2).all() and "overall" not in set(flagged["item"])


def test_comments_are_as_written_and_sorted(store: Any, report: MeetingReport) -> None:
    valid = store.responses(MEETING)
    written = sorted(t for t in valid["comments"].dropna() if t.strip())
    assert report.comments.loc[report.comments["kind"] == "comments", "text"].tolist() == written


def test_small_cells_are_suppressed(report: MeetingReport) -> None:
    by_role = report.rates_by_role
    small = by_role[by_role["suppressed"]]
    assert len(small) > 0, "the demo meeting has roles with fewer than 5 raters"
    assert small[["count", "n", "estimate", "ci_low", "ci_high"]].isna().all().all()
    shown = by_role[~by_role["suppressed"]]
    assert (shown["n"] >= 5).all()
    assert (report.turnout.loc[~report.turnout["suppressed"], "n"] >= 5).all()
    table = report_tables(report)["rates_by_role"]
    assert (table.loc[by_role["suppressed"].to_numpy(), table.columns[-1]] == "<5").all()


def test_suppress_small_cells_edges() -> None:
    table = pd.DataFrame(
        {"count": [0, 3, 4, 5], "n": [0, 4, 5, 5], "estimate": [float("nan"), 0.75, 0.8, 1.0]}
    )
    out = suppress_small(table, columns=["count", "n", "estimate"], keep_empty=True)
    assert out["suppressed"].tolist() == [False, True, False, False]
    assert out.loc[1, ["count", "n", "estimate"]].isna().all()
    assert int(out.loc[2, "n"]) == 5  # exactly 5 raters are published
    assert suppress_small(table, below=6, keep_empty=True)["suppressed"].tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert suppress_small(table)["suppressed"].tolist() == [True, True, False, False]
    with pytest.raises(ParameterError):
        suppress_small(table, below=0)


def test_suppress_small_cells_is_the_deprecated_name() -> None:
    table = pd.DataFrame({"count": [0, 3, 5], "n": [0, 4, 5], "estimate": [0.0, 0.75, 1.0]})
    with pytest.warns(FutureWarning, match="suppress_small"):
        old = suppress_small_cells(table, min_cell=5)
    new = suppress_small(table, columns=["count", "n", "estimate"], keep_empty=True)
    pd.testing.assert_frame_equal(old, new)


def test_english_labels(store: Any) -> None:
    en = meeting_report_data(store, MEETING, language="en")
    assert "Residents' committee" in set(en.rates["subject_label"])
    assert "Overall" in set(en.rates["item_label"])
    verdicts = report_tables(en)["verdict"]["Verdict"].tolist()
    assert all("(" in v for v in verdicts)  # "Basically satisfied (基本满意)"


def test_format_rate() -> None:
    assert format_rate(0.951219, 0.838610, 0.986519) == "95.1% (83.9%–98.7%)"
    assert format_rate(float("nan"), float("nan"), float("nan")) == "—"
    assert format_rate(0.5, 0.1, 0.9, suppressed=True) == "<5"


# --- the rendered HTML -----------------------------------------------------------------------------


@pytest.mark.slow
def test_report_html_key_numbers(rendered: dict[str, Any], report: MeetingReport) -> None:
    page = rendered["text"]
    ballots = {row[0]: row[1] for row in _table_rows(page, "票数")}
    assert ballots["收回"] == "43"
    assert ballots["有效"] == str(int(report.ballots.set_index("measure")["count"]["valid"]))
    assert ballots["无效（作废）"] == "0"
    rates = _table_rows(page, "评议对象")
    juweihui = next(r for r in rates if r[0] == "居委会" and r[1] == "总体评价")
    ref = REFERENCE["juweihui_overall_broad"]
    assert juweihui[5] == format_rate(ref["estimate"], ref["ci_low"], ref["ci_high"])
    assert juweihui[5].startswith("95.1%")
    groups = {row[0]: row for row in _table_rows(page, "分组")}
    ref = REFERENCE["turnout_all"]
    assert groups["全部"][1:3] == ["75", "43"]
    assert groups["全部"][3] == format_rate(ref["estimate"], ref["ci_low"], ref["ci_high"])
    assert "&lt;5" in page  # suppressed cells are marked, not left out silently
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', page)) == 2  # charts embedded
    assert 'alt="各评议项目满意+基本满意率' in page
    assert rendered["seconds"] < 60  # the 20 s budget is checked by hand on an idle machine


@pytest.mark.slow
def test_report_html_has_no_code_and_no_network(rendered: dict[str, Any]) -> None:
    page = rendered["text"]
    for code in ("meeting_report_data", "show_section", "import ", "database_url"):
        assert code not in page
    assert not re.search(r'class="[^"]*jp-InputArea', page)  # no code cells
    assert 'class="highlight' not in page
    assert "papermill" not in page  # the researcher notes (tagged remove_cell) are left out
    assert not re.search(r"https?://", page), re.findall(r"https?://\S{0,60}", page)
    assert not re.search(r"<script[^>]+src=", page)
    assert "<link " not in page


@pytest.mark.slow
def test_report_html_has_no_names(rendered: dict[str, Any], store: Any) -> None:
    with store.engine.connect() as connection:
        names = connection.execute(sa.select(schema.participant_names.c.name)).scalars().all()
    assert len(names) > 100
    page = rendered["text"]
    leaked = sorted({n for n in names if n and n in page})
    assert leaked == []


def test_cli_reports_a_hearing_meeting_on_its_own_page(store: Any, tmp_path: Path) -> None:
    """Hearings (and coordination meetings) have no evaluation ballots: they get their own page
    (toolkit.report.case.render_meeting_page) instead of the evaluation report notebook."""
    from toolkit.cli import app

    out = tmp_path / "hearing.html"
    result = CliRunner().invoke(
        app, ["report", "--meeting", "S01-C01-M01", "--database", store.url, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "各方案的态度" in html and "<script" not in html.lower()


@pytest.mark.browser
@pytest.mark.slow
def test_report_screenshot_and_pdf(rendered: dict[str, Any]) -> None:
    chromium = find_chromium()
    if chromium is None:
        skip_or_fail("Chromium is not installed", "install it to check the screenshot.")
    from playwright.sync_api import sync_playwright

    from toolkit.report.meeting import html_to_pdf

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report_{MEETING}.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(Path(rendered["html"]).resolve().as_uri())
            assert page.locator("h1").first.inner_text().startswith("3号楼加装电梯项目评议会")
            assert page.locator("img").count() == 2
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert all(w > 100 for w in widths)  # the embedded charts decode offline
            page.screenshot(path=str(shot), full_page=True)
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    pdf = html_to_pdf(Path(rendered["html"]), ARTIFACTS / f"report_{MEETING}.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"


# --- channels: online and meeting ballots side by side ---------------------------------------------


def _set_channel(store: Any, meeting: str, mode: str, *, every: int = 1) -> None:
    """Mark every ``every``-th valid ballot of ``meeting`` (by id) as having come in by ``mode``."""
    s = schema.submissions
    with store.engine.begin() as connection:
        ids = connection.execute(
            sa.select(s.c.submission_id)
            .where(s.c.meeting_id == meeting)
            .order_by(s.c.submission_id)
        ).scalars()
        chosen = [i for k, i in enumerate(ids) if k % every == 0]
        connection.execute(sa.update(s).where(s.c.submission_id.in_(chosen)).values(mode=mode))


def test_channel_tables_count_ballots_and_rates_per_channel() -> None:
    from statsmodels.stats.proportion import proportion_confint

    meeting = "S01-C03-M02"
    with demo_store() as store:
        _set_channel(store, meeting, "online", every=3)
        report = meeting_report_data(store, meeting)
        with store.engine.connect() as connection:
            s = schema.submissions
            counted = dict(
                connection.execute(
                    sa.select(s.c.mode, sa.func.count())
                    .where(s.c.meeting_id == meeting)
                    .group_by(s.c.mode)
                ).all()
            )
        data = store.responses(meeting, channel_column=True)
    assert report.channels == ["tablet", "paper", "online"]
    cb = report.channel_ballots.set_index("channel")
    assert cb["returned"].to_dict() == {c: counted[c] for c in report.channels}
    assert cb.loc["online", "channel_label"] == "线上（手机）"
    assert int(cb["returned"].sum()) == int(
        report.ballots.set_index("measure")["count"]["returned"]
    )
    rates = report.rates_by_channel
    assert len(rates) == 3 * len(report.verdict)  # every subject x channel
    shown = 0
    for row in rates.itertuples():
        answers = data.loc[data["channel"] == row.channel, f"{row.subject}__overall"].astype(str)
        n = int(answers.isin(["satisfied", "basically_satisfied", "dissatisfied"]).sum())
        if n < report.min_cell:
            assert row.suppressed and pd.isna(row.estimate)
            continue
        broad = int(answers.isin(["satisfied", "basically_satisfied"]).sum())
        low, high = proportion_confint(broad, n, alpha=0.05, method="wilson")
        assert (row.count, row.n) == (broad, n)
        assert row.estimate == pytest.approx(broad / n, rel=1e-12)
        assert row.ci_low == pytest.approx(low, rel=1e-9)
        assert row.ci_high == pytest.approx(high, rel=1e-9)
        shown += 1
    assert shown >= 4  # the small online cells of one subject are suppressed, the others shown
    assert list(report_tables(report)["channel_ballots"].columns) == [
        "投票渠道",
        "收回",
        "有效",
        "无效（作废）",
    ]


def _section_text(report: MeetingReport, section: str, monkeypatch: Any) -> str:
    """What :func:`show_section` displays (its HTML and Markdown), joined."""
    import IPython.display

    from toolkit.report.meeting import show_section

    shown: list[str] = []
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, **_: shown.append(str(getattr(obj, "data", "")))
    )
    show_section(report, section)
    return "".join(shown)


def test_channel_table_is_shown_only_with_more_than_one_channel(monkeypatch: Any) -> None:
    meeting = "S01-C02-M02"
    with demo_store() as store:
        two = _section_text(meeting_report_data(store, meeting), "ballots", monkeypatch)
        _set_channel(store, meeting, "tablet")
        report = meeting_report_data(store, meeting)
        one = _section_text(report, "ballots", monkeypatch)
    assert report.channels == ["tablet"]
    assert "投票渠道" in two and "纸质票（录入）" in two and "现场平板" in two
    assert "投票渠道" not in one and "现场平板" not in one
    assert "票数" in one  # the ballots table itself is still there


def test_report_html_shows_the_channels(rendered: dict[str, Any], report: MeetingReport) -> None:
    page = rendered["text"]
    assert "按投票渠道" in page
    channels = {row[0]: row[1:] for row in _table_rows(page, "投票渠道")}
    expected = report.channel_ballots.set_index("channel_label")
    assert channels == {
        label: [str(r["returned"]), str(r["valid"]), str(r["void"])]
        for label, r in expected.iterrows()
    }
    assert set(channels) == {"现场平板", "纸质票（录入）"}
    # the rate table (second table headed 投票渠道): the rates and intervals of the data
    tables = [t for t in re.findall(r"<table.*?</table>", page, flags=re.DOTALL) if "投票渠道" in t]
    assert len(tables) == 2
    rates = report_tables(report)["rates_by_channel"]
    for row in rates.itertuples(index=False):
        assert f"<td>{htmllib.escape(row[3])}</td>" in tables[1]


def test_a_meeting_without_a_roster_gets_a_note_instead_of_a_turnout_chart(
    monkeypatch: Any,
) -> None:
    from toolkit.errors import DataError
    from toolkit.report.meeting import turnout_figure

    meeting = "S01-C02-M02"
    with demo_store() as store:
        with store.engine.begin() as connection:  # nobody invited, nobody signed in
            connection.execute(
                sa.delete(schema.attendance).where(schema.attendance.c.meeting_id == meeting)
            )
        report = meeting_report_data(store, meeting)
        text = _section_text(report, "turnout", monkeypatch)
    assert "没有可公布的到会率" in text
    assert "满意+基本满意率" in text  # the section goes on with the rates by role
    with pytest.raises(DataError) as info:
        turnout_figure(report)
    assert info.value.code == "E_DATA"
