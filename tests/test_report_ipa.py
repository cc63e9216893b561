"""Tests of toolkit.report.ipa: the matrix renders without a warning in Chinese and English, draws
every interval and the quadrant lines where asked."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from toolkit.analysis.ipa import importance_performance
from toolkit.errors import DataError
from toolkit.report import ipa_chart

REF = json.loads((Path(__file__).parent / "reference" / "ipa.json").read_text("utf-8"))


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _table() -> pd.DataFrame:
    return importance_performance(pd.DataFrame(REF["data"]), items=REF["items"], outcome="overall")


def _render(fig) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing CJK glyph warns
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_renders_with_intervals_and_lines(language: str) -> None:
    table = _table()
    fig = ipa_chart(table, language=language)
    assert _render(fig).startswith(b"\x89PNG")
    ax = fig.axes[0]
    vertical = [ln for ln in ax.lines if ln.get_linestyle() == "--" and np.ptp(ln.get_xdata()) == 0]
    horizontal = [
        ln for ln in ax.lines if ln.get_linestyle() == "--" and np.ptp(ln.get_ydata()) == 0
    ]
    assert vertical[0].get_xdata()[0] == pytest.approx(table.attrs["importance_line"])
    assert horizontal[0].get_ydata()[0] == pytest.approx(table.attrs["performance_line"])
    assert len(ax.collections) == len(table)  # one interval bar per item
    texts = {t.get_text() for t in ax.texts}
    assert ("重点改进" in texts) == (language == "zh")
    if language == "zh":
        assert "工作态度" in {t.get_text() for t in ax.texts} or any("态度" in t for t in texts)


def test_chosen_lines_recolour_quadrants() -> None:
    fig = ipa_chart(_table(), importance_line=0.0, performance_line=0.0)
    ax = fig.axes[0]
    assert any(ln.get_linestyle() == "--" and ln.get_xdata()[0] == 0.0 for ln in ax.lines)


def test_empty_table() -> None:
    with pytest.raises(DataError, match="no items"):
        ipa_chart(_table().iloc[0:0])
