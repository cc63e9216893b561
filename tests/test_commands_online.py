"""``sanhui online window`` and ``sanhui online plan``."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.store import Store


def test_window_then_plan(tmp_path):
    store = demo_store()
    db = store.url
    store.close()
    runner = CliRunner()
    plan = tmp_path / "plan.txt"
    plan.write_text("方案一：东侧加装电梯", encoding="utf-8")
    picture = tmp_path / "site.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    result = runner.invoke(
        app, ["online", "plan", LIVE_MEETING, "--text", str(plan), "--database", db]
    )
    assert result.exit_code == 1 and "set it first" in result.output
    args = ["online", "window", LIVE_MEETING, "--opens", "2026-03-01T08:00+08:00"]
    result = runner.invoke(app, [*args, "--closes", "2026-03-08T20:00+08:00", "--database", db])
    assert result.exit_code == 0, result.output
    args = ["online", "plan", LIVE_MEETING, "--text", str(plan), "--image", str(picture)]
    result = runner.invoke(app, [*args, "--database", db])
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        window = store.online_window(LIVE_MEETING)
    assert window.opens_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert window.closes_at == datetime(2026, 3, 8, 12, tzinfo=UTC)
    assert window.plan_text == "方案一：东侧加装电梯" and len(window.plan_images) == 1
    result = runner.invoke(
        app,
        [
            "online",
            "window",
            LIVE_MEETING,
            "--opens",
            "2026-03-01",
            "--closes",
            "x",
            "--database",
            db,
        ],
    )
    assert result.exit_code == 1 and "time zone" in result.output
