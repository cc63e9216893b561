"""The case report and the hearing and coordination meeting reports (HTML pages), and
`sanhui report --case / --meeting` for every meeting kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.store_support import PG_URL, require_postgres
from toolkit.analysis import proportion_ci
from toolkit.cli import app
from toolkit.demo import demo_store
from toolkit.report.case import case_report_data, render_case_report, render_meeting_page
from toolkit.report.coordination import coordination_report_data
from toolkit.report.hearing import hearing_report_data

runner = CliRunner()


@pytest.fixture(scope="module")
def url() -> str:
    store = demo_store()
    value = store.url
    store.close()
    return value


def _cases(url: str) -> tuple[str, str]:
    from toolkit.store import Store

    with Store.open(url) as store:
        cases = store.cases()
    full = cases.loc[cases["follow_up_date"].notna(), "case_id"].iloc[0]
    stalled = cases.loc[cases["evaluation_date"].isna(), "case_id"].iloc[0]
    return str(full), str(stalled)


def test_case_report_data_follows_the_stages(url: str) -> None:
    from toolkit.store import Store

    full, _ = _cases(url)
    with Store.open(url) as store:
        data = case_report_data(store, full)
        case = store.case(full)
    assert data["timeline"]["stage"].tolist() == [m.stage for m in case.meetings]
    first_gap = (case.meetings[1].date - case.meetings[0].date).days
    assert data["timeline"]["days"].iloc[1] == first_gap
    hearing = case.meetings[0].positions
    positions = data["positions"].set_index(["item", "level"])
    for option, counts in hearing.items():
        total = sum(counts.values())
        for level, count in counts.items():
            expected = proportion_ci(count, total).iloc[0]
            assert positions.loc[(option, level), "ci_low"] == expected["ci_low"]
    stages = set(data["satisfaction"]["stage"])
    assert stages == {"evaluation", "follow_up"}
    change = data["change"]
    rectified = set(data["items"]["source_ref"])
    assert set(change.loc[change["rectified"], "item"]) == rectified & set(change["item"])


def test_reports_render_for_every_kind_and_a_case(url: str, tmp_path: Path) -> None:
    full, stalled = _cases(url)
    for case_id in (full, stalled):
        out = tmp_path / f"{case_id}.html"
        result = runner.invoke(app, ["report", "--case", case_id, "--out", str(out),
                                     "--database", url])  # fmt: skip
        assert result.exit_code == 0, result.output
        html = out.read_text(encoding="utf-8")
        assert "时间线" in html and "<script" not in html.lower()
        assert "/tmp" not in html and "Traceback" not in html
    assert "整改前后的变化" in (tmp_path / f"{full}.html").read_text(encoding="utf-8")
    hearing, coordination = (f"{full}-1", f"{full}-2")
    for meeting_id, marker in (
        (hearing, "按楼层的态度"),
        (coordination, "协调结果"),
    ):
        out = tmp_path / f"{meeting_id}.html"
        result = runner.invoke(app, ["report", "--meeting", meeting_id, "--out", str(out),
                                     "--database", url])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert marker in out.read_text(encoding="utf-8")
    both = runner.invoke(app, ["report", "--meeting", hearing, "--case", full, "--database", url])
    assert both.exit_code == 1 and "exactly one of --meeting ID or --case ID" in both.output
    missing = runner.invoke(app, ["report", "--case", "nope", "--database", url])
    assert missing.exit_code == 1 and "no case `nope`" in missing.output


def test_hearing_report_suppresses_small_groups(url: str) -> None:
    from toolkit.store import Store

    full, _ = _cases(url)
    with Store.open(url) as store:
        data = hearing_report_data(store, f"{full}-1")
        answers = store.responses(f"{full}-1")
    by_floor = data["by_floor"]
    assert (by_floor["n"] >= 5).all()
    direct = answers[answers["affected"] == "directly"]
    sizes = direct.dropna(subset=["option_1"])
    sizes = sizes[sizes["option_1"] != "dont_know"].groupby("floor_band", observed=True).size()
    assert set(by_floor["floor_band"]) == set(sizes[sizes >= 5].index)


def test_coordination_report_has_the_recorded_outcome(url: str, tmp_path: Path) -> None:
    from toolkit.store import Store

    full, _ = _cases(url)
    with Store.open(url) as store:
        data = coordination_report_data(store, f"{full}-2")
    assert data["outcome"]["case_id"].tolist() == [full]
    assert data["views"]["n"].iloc[0] == data["n"]
    page = render_meeting_page(f"{full}-2", out=tmp_path / "c.html", database_url=url,
                               language="en")  # fmt: skip
    html = Path(page["html"]).read_text(encoding="utf-8")
    assert re.search(r"agreement reached|partial agreement|no agreement", html)
    report = render_case_report(full, out=tmp_path / "k.html", database_url=url, language="en")
    assert "Timeline" in Path(report["html"]).read_text(encoding="utf-8")


@pytest.mark.slow
def test_evaluation_meetings_still_get_the_notebook_report(url: str, tmp_path: Path) -> None:
    """The hook for hearings and coordination meetings leaves evaluation reports as they were."""
    full, _ = _cases(url)
    for meeting_id in ("S01-C01-M02", f"{full}-3"):
        out = tmp_path / f"{meeting_id}.html"
        result = runner.invoke(app, ["report", "--meeting", meeting_id, "--out", str(out),
                                     "--database", url])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "满意" in out.read_text(encoding="utf-8")


@pytest.mark.postgres
def test_case_and_meeting_reports_on_postgresql(tmp_path: Path) -> None:
    import uuid

    import sqlalchemy as sa

    from toolkit.demo import SUBJECT_LABELS, SURVEYS_DIR
    from toolkit.instrument import load_survey
    from toolkit.store import Store
    from toolkit.synth import make_city
    from toolkit.synth.cases import load_cases, make_cases

    require_postgres()
    schema = f"sanhui_report_{uuid.uuid4().hex[:12]}"
    city = make_city(seed=3, streets=1, communities_per_street=2, buildings_per_community=3,
                     households_per_building=12)  # fmt: skip
    bundle = make_cases(city, seed=3)
    try:
        with Store.open(PG_URL, schema=schema) as store:
            for path in [*SURVEYS_DIR.glob("*.yaml"), *SURVEYS_DIR.glob("park/*.yaml")]:
                store.add_instrument(load_survey(path))
            load_cases(store, bundle, labels=SUBJECT_LABELS)
            cases = store.cases()
        full = str(cases.loc[cases["follow_up_date"].notna(), "case_id"].iloc[0])
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        for args in (["--case", full], ["--meeting", f"{full}-1"], ["--meeting", f"{full}-2"]):
            out = tmp_path / f"{args[1]}.html"
            result = runner.invoke(app, ["report", *args, "--out", str(out), "--database", url])
            assert result.exit_code == 0, result.output
        html = (tmp_path / f"{full}.html").read_text(encoding="utf-8")
        assert "整改前后的变化" in html and "听证会" in html
    finally:
        engine = sa.create_engine(PG_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
