"""Tests of toolkit.report.themes: coded comments against satisfaction in the meeting report."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from IPython.display import HTML, Markdown

from tests.store_support import good_answers, setup_meeting
from toolkit.instrument.coding import default_codebook
from toolkit.report.meeting import show_optional_sections
from toolkit.report.themes import theme_chart, themes_outputs, themes_report
from toolkit.store import Store, Submission

TEXTS = ["晚上还在施工，吵得睡不着", "费用分摊不公平", "居委会辛苦了", "反映了好几次都没人回"]
CODES = [["noise_dust"], ["cost_sharing"], ["praise"], ["responsiveness"]]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "report.db")
    setup_meeting(opened)
    return opened


def test_themes_section_from_coded_comments(store: Store) -> None:
    ids = []
    for i in range(24):
        sid = str(uuid.UUID(int=i + 1))
        answers = good_answers(i) | {"comments": TEXTS[i % 4]}
        store.submit(Submission(sid, "m1", answers))
        ids.append(sid)
    book = default_codebook()
    for i, sid in enumerate(ids):
        codes = CODES[i % 4]
        store.save_coding("m1", sid, "comments", coder="A", codes=codes, codebook=book.ref)
        b_codes = codes if i % 6 else [*codes, "attitude"]  # B slips on four comments
        store.save_coding("m1", sid, "comments", coder="B", codes=b_codes, codebook=book.ref)
    store.save_coding(
        "m1", ids[0], "comments", coder="R", codes=CODES[0], codebook=book.ref, role="final"
    )
    report = themes_report(store, "m1", codebook=book)
    assert report is not None
    assert report.open_disputes == 3 and report.settled == 1 and report.coders == 2
    assert len(report.final) == 21
    responses = store.responses("m1", labels="zh")
    wuye = report.crosstabs["物业公司"]
    level_of = dict(zip(responses["submission_id"], responses["wuye__overall"], strict=True))
    coded = set(report.final["submission_id"])
    for level in wuye["level"].unique():
        n = sum(1 for s in coded if level_of[s] == level)
        assert set(wuye.loc[wuye["level"] == level, "n"]) == {n}
    outputs = themes_outputs(report)
    text = "\n".join(o.data for o in outputs if isinstance(o, (Markdown, HTML)))
    assert text.startswith("## 意见主题") and "待核对 3 条" in text and "噪音扬尘" in text
    assert "Krippendorff" in text
    tables = [o.data for o in outputs if isinstance(o, HTML) and "<th>主题</th>" in o.data]
    assert tables and tables[1].index("噪音扬尘") < tables[1].index("费用分摊")  # codebook order
    assert show_optional_sections(store, "m1") == ["themes"]
    fig = theme_chart(wuye, labels={c.code: c.label_zh for c in book.codes})
    assert "噪音扬尘" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
