"""Tests of toolkit.report.voice and toolkit.report.themes: charts with Chinese labels and the
meeting report's optional voice and themes sections."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from IPython.display import HTML, Markdown

from tests.store_support import setup_meeting
from toolkit.analysis.voice import gini, lorenz_curve, voice_shares
from toolkit.report.meeting import show_optional_sections
from toolkit.report.themes import themes_report
from toolkit.report.voice import lorenz_chart, share_chart, voice_outputs, voice_report
from toolkit.store import Store
from toolkit.synth.voice import make_turns, record_turns

TEXTS = ["晚上还在施工，吵得睡不着", "费用分摊不公平", "居委会辛苦了", "反映了好几次都没人回"]
CODES = [["noise_dust"], ["cost_sharing"], ["praise"], ["responsiveness"]]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "report.db")
    setup_meeting(opened)
    return opened


def test_charts_have_chinese_labels() -> None:
    turns = make_turns(seed=2)
    fig = lorenz_chart(lorenz_curve(turns, attendees=30), gini=0.61)
    ax = fig.axes[0]
    assert ax.get_title() == "发言时间的洛伦兹曲线" and "人数累计占比" in ax.get_xlabel()
    assert [t.get_text() for t in ax.texts] == ["基尼系数 0.61"]
    bars = share_chart(voice_shares(turns))
    labels = [t.get_text() for t in bars.axes[0].get_yticklabels()]
    assert labels[0] == "居民方" and "干部（居委会、政府部门）" in labels
    assert (
        share_chart(voice_shares(turns), language="en").axes[0].get_title() == "Shares of the floor"
    )


def test_no_turns_no_codings_no_sections(store: Store) -> None:
    assert voice_report(store, "m1") is None
    assert themes_report(store, "m1") is None
    assert show_optional_sections(store, "m1") == []


def test_voice_section_from_recorded_turns(store: Store) -> None:
    turns = make_turns(seed=4)
    record_turns(store, "m1", turns)
    report = voice_report(store, "m1", attendees=30)
    assert report is not None
    want = gini(turns, attendees=30, n_boot=0)["estimate"].iloc[0]
    assert report.gini is not None and report.gini["estimate"].iloc[0] == pytest.approx(want)
    outputs = voice_outputs(report)
    text = "\n".join(o.data for o in outputs if isinstance(o, (Markdown, HTML)))
    assert text.startswith("## 发言情况") and f"共 {turns['seconds'].sum() / 60:.0f} 分钟" in text
    assert "居民方" in text and "前一位" in text
    assert sum(hasattr(o, "savefig") for o in outputs) == 2
    assert show_optional_sections(store, "m1") == ["voice"]


def test_report_notebook_calls_the_optional_sections() -> None:
    import nbformat

    nb = nbformat.read(
        Path(__file__).resolve().parents[1] / "notebooks" / "40_meeting_report.ipynb", 4
    )
    assert any("show_optional_sections(store, meeting_id" in c.source for c in nb.cells)
    assert pd.notna(nb.cells[-1].execution_count)


@pytest.mark.slow
def test_rendered_report_gains_voice_and_themes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sanhui report`` end to end on a copy of the demo meeting with turns recorded and comments
    coded by two coders: the HTML has both sections, with their charts, and no code."""
    from toolkit.collect.coding import comment_units
    from toolkit.demo import demo_store
    from toolkit.instrument.coding import default_codebook
    from toolkit.report.meeting import render_meeting_report

    meeting = "S01-C01-M02"
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    with demo_store() as store:
        record_turns(store, meeting, make_turns(seed=7))
        book = default_codebook()
        units = comment_units(store, meeting)
        assert len(units) >= 10
        for i, (sid, question) in enumerate(
            zip(units["submission_id"], units["question"], strict=True)
        ):
            codes = [book.codes[i % len(book.codes)].code]
            store.save_coding(meeting, sid, question, coder="A", codes=codes, codebook=book.ref)
            other = codes if i % 7 else []
            store.save_coding(meeting, sid, question, coder="B", codes=other, codebook=book.ref)
        out = tmp_path / "report.html"
        render_meeting_report(meeting, out=out, database_url=store.url)
    page = out.read_text(encoding="utf-8")
    assert "发言情况" in page and "基尼系数" in page and "居民方" in page
    assert "意见主题" in page and "Krippendorff" in page and "待核对" in page
    assert 'alt="发言时间的洛伦兹曲线"' in page and 'alt="各评价等级意见中的主题"' in page
    assert "Traceback" not in page and "show_optional_sections" not in page
