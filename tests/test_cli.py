"""The `sanhui` command line: each command's happy path and its error path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from toolkit.cli import app, database_url
from toolkit.demo import LIVE_MEETING

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    result = runner.invoke(app, ["demo", "--database", str(path)])
    assert result.exit_code == 0, result.output
    assert "Built the demo database" in result.output
    assert LIVE_MEETING in result.output and "满意+基本满意" in result.output
    return path


def test_database_url_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANHUI_DB", raising=False)
    assert database_url(None).endswith("/data/sanhui.db")
    monkeypatch.setenv("SANHUI_DB", "postgresql+psycopg://u@h/db")
    assert database_url(None) == "postgresql+psycopg://u@h/db"
    assert database_url("x.db").startswith("sqlite:////")


def test_validate_ok_and_located_errors(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", *map(str, sorted((ROOT / "surveys").glob("*.yaml")))])
    assert ok.exit_code == 0, ok.output
    assert "surveys/evaluation.yaml: ok (evaluation 2026.1" in ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "settings: {id: b, version: '1', title: 坏}\n"
        "pages:\n"
        "  - id: p\n"
        "    title: 页\n"
        "    questions:\n"
        "      - {id: q1, type: integer, lable: 年龄}\n",
        encoding="utf-8",
    )
    bad = runner.invoke(app, ["validate", str(broken)])
    assert bad.exit_code == 1
    assert "line 6" in bad.output and "Did you mean `label`?" in bad.output


def test_demo_is_built_once(demo_db: Path) -> None:
    again = runner.invoke(app, ["demo", "--database", str(demo_db)])
    assert again.exit_code == 0
    assert again.output.startswith("Using the demo database")


def test_convert_round_trip(tmp_path: Path) -> None:
    xlsx = tmp_path / "evaluation.xlsx"
    back = tmp_path / "evaluation.yaml"
    assert (
        runner.invoke(app, ["convert", str(ROOT / "surveys/evaluation.yaml"), str(xlsx)]).exit_code
        == 0
    )
    result = runner.invoke(app, ["convert", str(xlsx), str(back)])
    assert result.exit_code == 0, result.output
    from toolkit.instrument import load_survey

    assert (
        load_survey(back).content_hash == load_survey(ROOT / "surveys/evaluation.yaml").content_hash
    )
    wrong = runner.invoke(app, ["convert", str(xlsx), str(tmp_path / "x.txt")])
    assert wrong.exit_code == 1


def test_export_sav_with_codebook(demo_db: Path, tmp_path: Path) -> None:
    out, book = tmp_path / "ballots.sav", tmp_path / "codebook.csv"
    result = runner.invoke(
        app,
        [
            "export",
            str(out),
            "--database",
            str(demo_db),
            "--meeting",
            "S01-C02-M02",
            "--codebook",
            str(book),
        ],
    )
    assert result.exit_code == 0, result.output
    frame, meta = pyreadstat.read_sav(str(out))
    assert len(frame) == 38  # the valid ballots of that meeting
    assert meta.column_names_to_labels["wuye__overall"]
    assert "wuye__overall" in set(pd.read_csv(book)["variable"])


def test_unknown_meeting_is_a_clear_error(demo_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", str(tmp_path / "x.csv"), "--database", str(demo_db), "--meeting", "nope"]
    )
    assert result.exit_code == 1
    assert "nope" in result.output
