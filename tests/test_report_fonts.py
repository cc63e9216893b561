"""The CJK font of the charts: found, registered, covering every Chinese string the charts draw."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from toolkit.errors import ToolkitError
from toolkit.report import fonts
from toolkit.report._common import TEXT
from toolkit.report.fonts import CJKFont, FontError, configure_matplotlib, find_cjk_font
from toolkit.report.palette import (
    ITEM_LABELS,
    LEVEL_LABELS,
    MEASURE_LABELS,
    SUBJECT_LABELS,
    VARIABLE_LABELS,
)

NOTO = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@pytest.fixture(autouse=True)
def _fresh_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test searches afresh and leaves the process's font choice as it found it."""
    monkeypatch.delenv(fonts.ENV_VARIABLE, raising=False)
    saved = fonts._chosen
    fonts._chosen = None
    yield
    fonts._chosen = saved
    plt.close("all")


def _cmap(font: CJKFont) -> dict[int, str]:
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        return tt.getBestCmap()


def _chinese_strings() -> str:
    texts = [
        t["zh"] for table in (LEVEL_LABELS, ITEM_LABELS, SUBJECT_LABELS) for t in table.values()
    ]
    texts += [t["zh"] for t in VARIABLE_LABELS.values()] + [
        t["zh"] for t in MEASURE_LABELS.values()
    ]
    texts += [t["zh"] for t in TEXT.values()]
    return "".join(texts)


def test_finds_noto_sans_cjk_sc_on_this_machine() -> None:
    font = find_cjk_font()
    assert font.name == "Noto Sans CJK SC"
    assert Path(font.path) == NOTO
    assert font.index == 2  # the SC face of the collection


def test_font_covers_every_chinese_string_the_charts_draw() -> None:
    cmap = _cmap(find_cjk_font())
    for ch in "满意基本不了解工作态度评议会":
        assert ord(ch) in cmap, ch
    missing = sorted({ch for ch in _chinese_strings() if ch not in "{}" and ord(ch) not in cmap})
    assert missing == []


def test_configure_is_idempotent_and_survives_rcdefaults() -> None:
    first = configure_matplotlib()
    rc = matplotlib.rcParams
    sans = list(rc["font.sans-serif"])
    assert sans[0] == first.name
    assert list(rc["font.family"]) == ["sans-serif"]
    assert rc["axes.unicode_minus"] is False
    again = configure_matplotlib()
    assert again == first
    assert list(rc["font.sans-serif"]) == sans  # no duplicate entries
    plt.rcdefaults()
    configure_matplotlib()
    assert rc["font.sans-serif"][0] == first.name
    assert rc["axes.unicode_minus"] is False


def test_chinese_figure_renders_without_missing_glyphs(tmp_path: Path) -> None:
    configure_matplotlib()
    fig, ax = plt.subplots()
    ax.bar(["满意", "基本满意", "不满意"], [12, 6, 2], label="工作态度")
    ax.set_title("评议会测评结果：满意率（−0.5 与 -0.5）")
    ax.set_xlabel("等级")
    ax.set_ylabel("人数")
    ax.set_yticks([-2, 0, 5, 10])
    ax.legend(title="条目")
    out = tmp_path / "zh.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail here
        fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_warning_check_catches_a_font_without_chinese() -> None:
    """Negative control: the same drawing with DejaVu Sans only does warn."""
    with matplotlib.rc_context({"font.family": ["sans-serif"], "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("满意")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_no_cjk_font_raises_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_known_entries", lambda: [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(FontError, match="apt-get install fonts-noto-cjk") as info:
        configure_matplotlib()
    assert isinstance(info.value, ToolkitError)
    assert fonts.ENV_VARIABLE in str(info.value)


def test_font_installed_after_the_cache_is_found_by_scanning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """matplotlib's cached font list may predate `apt-get install fonts-noto-cjk`."""
    manager = font_manager.fontManager
    without = [e for e in manager.ttflist if not fonts._FILE_PATTERN.search(Path(e.fname).name)]
    monkeypatch.setattr(manager, "ttflist", without)
    assert fonts._pick(fonts._known_entries()) is None
    font = find_cjk_font()
    assert font.name == "Noto Sans CJK SC"
    manager._findfont_cached.cache_clear()


def test_environment_variable_names_a_font_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fonts.ENV_VARIABLE, str(NOTO))
    font = find_cjk_font()
    assert Path(font.path) == NOTO
    assert ord("满") in _cmap(font)


def test_environment_variable_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(fonts.ENV_VARIABLE, str(tmp_path / "nope.ttf"))
    with pytest.raises(FontError, match="no font file"):
        find_cjk_font()
    fonts._chosen = None
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    monkeypatch.setenv(fonts.ENV_VARIABLE, str(dejavu))
    with pytest.raises(FontError, match="no glyphs for Chinese"):
        find_cjk_font()
    fonts._chosen = None
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    monkeypatch.setenv(fonts.ENV_VARIABLE, str(junk))
    with pytest.raises(FontError, match="not a font"):
        find_cjk_font()
