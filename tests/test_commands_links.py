"""``sanhui print links``: one-time links with the code in the fragment, as CSV, PNG and PDF."""

from __future__ import annotations

import csv
import stat

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.demo import LIVE_MEETING, demo_store
from toolkit.store import Store


@pytest.fixture
def database():
    store = demo_store()
    url = store.url
    store.close()
    return url


def test_links_carry_codes_the_store_accepts_once(database, tmp_path):
    out = tmp_path / "links.csv"
    args = ["print", "links", LIVE_MEETING, "--count", "3", "--base-url", "https://v.example.org/"]
    args += ["--out", str(out), "--qr-dir", str(tmp_path / "qr"), "--pdf", str(tmp_path / "q.pdf")]
    result = CliRunner().invoke(app, [*args, "--database", database])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["number"] for r in rows] == ["1", "2", "3"]
    assert all(r["link"].startswith("https://v.example.org/vote#code=") for r in rows)
    assert "?" not in rows[0]["link"]  # never in the query, which servers and proxies log
    codes = [r["link"].rsplit("=", 1)[1] for r in rows]
    assert len(set(codes)) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "qr").iterdir())[0] == "link-00001.png"
    assert (tmp_path / "q.pdf").read_bytes().startswith(b"%PDF")
    with Store.open(database) as store:
        assert all(store.ballot_code_status(LIVE_MEETING, c) == "usable" for c in codes)


def test_links_need_an_https_base_url_and_issue_nothing_otherwise(database, tmp_path):
    args = ["print", "links", LIVE_MEETING, "--count", "2", "--base-url", "http://v.example.org"]
    result = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "l.csv"), "--database", database]
    )
    assert result.exit_code == 1 and "--base-url" in result.output
    with Store.open(database) as store:
        assert not store.meeting_uses_ballot_codes(LIVE_MEETING)
