"""Charts of toolkit.report: every chart renders without a warning, in Chinese and English, with
unused levels, one-sided data and empty groups; the same level has the same colour everywhere.

Colour-blind safety is checked by simulating deuteranopia, protanopia and tritanopia with the
matrices of Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
color vision deficiency", IEEE TVCG 15(6), 1291-1298 (severity 1.0), and requiring a CIE76 colour
difference of at least 15 between any two levels that meet in one chart.
"""

from __future__ import annotations

import io
import itertools
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from tests.error_support import raises_code
from toolkit.analysis.likert import likert_counts
from toolkit.analysis.participation import turnout
from toolkit.analysis.satisfaction import satisfaction_rates
from toolkit.errors import DataError, ParameterError
from toolkit.report import (
    LEVEL_COLORS,
    MEASURE_COLORS,
    likert_bars,
    rate_dotplot,
    save_figure,
    trend_chart,
    turnout_chart,
)
from toolkit.report.palette import level_color

BALLOT = ["不满意", "基本满意", "满意"]
FIVE = ["很不满意", "不满意", "一般", "满意", "很满意"]


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def render(fig: Figure) -> bytes:
    """PNG bytes of the figure; any warning (a missing glyph, a layout problem) fails the test."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buffer, format="png", dpi=50)
    data = buffer.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(fig)
    return data


def quiet(make, *args, **kwargs) -> Figure:  # type: ignore[no-untyped-def]
    """Build a chart with warnings as errors too."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return make(*args, **kwargs)


def ballots(seed: int = 0, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = ["满意", "基本满意", "不满意", "不了解"]
    frame = pd.DataFrame(
        {item: rng.choice(levels, n, p=[0.5, 0.3, 0.15, 0.05]) for item in ("attitude", "results")}
    )
    frame["community"] = pd.Categorical(
        rng.choice(["五里桥", "打浦桥"], n), categories=["五里桥", "打浦桥", "淮海中路"]
    )
    return frame


def bar_patches(fig: Figure) -> list:  # type: ignore[type-arg]
    return list(fig.axes[0].patches)


def patches_by_color(fig: Figure) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for p in bar_patches(fig):
        out.setdefault(to_hex(p.get_facecolor()), []).append(p)
    return out


def texts(fig: Figure) -> list[str]:
    found = []
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        found += [t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    found += [t.get_text() for t in fig.texts]
    if fig._supxlabel is not None:
        found.append(fig._supxlabel.get_text())
    return found


# ------------------------------------------------------------------------------------------
# likert_bars
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_likert_bars_renders_in_both_languages(language: str) -> None:
    fig = quiet(likert_bars, ballots(), items=["attitude", "results"], language=language)
    render(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    if language == "zh":
        assert legend == ["不满意", "基本满意", "满意", "不了解"]
        assert fig.axes[0].get_yticklabels()[0].get_text().startswith("工作态度 (n=")
    else:
        assert legend == ["Dissatisfied", "Basically satisfied", "Satisfied", "Don't know"]
        assert fig.axes[0].get_yticklabels()[0].get_text().startswith("Attitude (n=")


def test_likert_bars_widths_are_shares_of_valid_answers_and_basic_is_favourable() -> None:
    data = pd.DataFrame({"q": ["满意"] * 12 + ["基本满意"] * 6 + ["不满意"] * 2 + ["不了解"] * 4})
    fig = quiet(likert_bars, data, items="q")
    by_color = patches_by_color(fig)
    (dis,) = by_color[LEVEL_COLORS["dissatisfied"]]
    (basic,) = by_color[LEVEL_COLORS["basically_satisfied"]]
    (sat,) = by_color[LEVEL_COLORS["satisfied"]]
    assert dis.get_x() == pytest.approx(-0.1) and dis.get_width() == pytest.approx(0.1)
    # 基本满意 starts at the centre line, 满意 after it: right end = broad rate 18/20
    assert basic.get_x() == pytest.approx(0.0) and basic.get_width() == pytest.approx(0.3)
    assert sat.get_x() == pytest.approx(0.3)
    assert sat.get_x() + sat.get_width() == pytest.approx(0.9)
    # 不了解 panel: 4 of 24 answers
    (dk,) = fig.axes[1].patches
    assert dk.get_width() == pytest.approx(4 / 24)
    assert "不满意 (n=20)" not in texts(fig)
    assert fig.axes[0].get_yticklabels()[0].get_text() == "q (n=20)"
    assert {"10%", "30%", "60%", "17%"} <= set(texts(fig))
    render(fig)


def test_likert_bars_codes_labels_and_categoricals_give_the_same_bars() -> None:
    zh = pd.DataFrame({"q": ["满意", "基本满意", "不满意", "满意", None]})
    codes = zh.replace(
        {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "dissatisfied"}
    )
    cat = zh.astype(pd.CategoricalDtype(BALLOT, ordered=True))
    widths = [
        [round(p.get_width(), 9) for p in bar_patches(quiet(likert_bars, d, items="q"))]
        for d in (zh, codes, cat)
    ]
    assert widths[0] == widths[1] == widths[2]


def test_likert_bars_counts_table_matches_raw_ballots() -> None:
    data = ballots(3)
    raw = quiet(likert_bars, data, items=["attitude", "results"], by="community")
    counts = likert_counts(
        data, items=["attitude", "results"], by="community", levels=BALLOT, exclude=["不了解"]
    )
    # likert_counts lists observed groups; keep the unused category as the raw chart does
    counts["community"] = pd.Categorical(
        counts["community"], categories=data["community"].cat.categories
    )
    table = quiet(likert_bars, counts, items=["attitude", "results"], by="community", levels=BALLOT)
    assert [p.get_width() for p in bar_patches(raw)] == pytest.approx(
        [p.get_width() for p in bar_patches(table)]
    )


def test_likert_bars_keeps_unused_levels() -> None:
    data = pd.DataFrame({"q": ["满意", "满意", "基本满意"]})  # nobody 不满意
    fig = quiet(likert_bars, data, items="q")
    assert len(bar_patches(fig)) == 3
    assert patches_by_color(fig)[LEVEL_COLORS["dissatisfied"]][0].get_width() == 0
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["不满意", "基本满意", "满意", "不了解"]
    five = pd.DataFrame({"q": pd.Categorical(["满意", "很满意"], categories=FIVE, ordered=True)})
    fig5 = quiet(likert_bars, five, items="q", language="en")
    assert len(bar_patches(fig5)) == 5
    assert [t.get_text() for t in fig5.axes[0].get_legend().get_texts()] == [
        "Very dissatisfied",
        "Dissatisfied",
        "Neutral",
        "Satisfied",
        "Very satisfied",
    ]
    render(fig)
    render(fig5)


@pytest.mark.parametrize("level", ["满意", "不满意"])
def test_likert_bars_all_one_level(level: str) -> None:
    data = pd.DataFrame({"attitude": [level] * 20, "overall": [level] * 20})
    fig = quiet(likert_bars, data, items=["attitude", "overall"])
    full = [p for p in bar_patches(fig) if p.get_width() > 0]
    assert len(full) == 2 and all(p.get_width() == pytest.approx(1.0) for p in full)
    sign = 1 if level == "满意" else -1
    assert all(np.sign(p.get_x() + p.get_width() / 2) == sign for p in full)
    assert "100%" in texts(fig)
    render(fig)


def test_likert_bars_empty_group_is_shown_and_marked() -> None:
    fig = quiet(likert_bars, ballots(), items="attitude", by="community")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "淮海中路 (n=0)"  # an unused category of the Categorical
    assert "无有效回答" in texts(fig)
    assert "工作态度" in texts(fig)  # the item heading
    render(fig)
    en = quiet(likert_bars, ballots(), items="attitude", by="community", language="en")
    assert "no valid answers" in texts(en)
    render(en)


def test_likert_bars_item_nobody_answered() -> None:
    data = pd.DataFrame({"q": [None, "不了解", None]})
    fig = quiet(likert_bars, data, items="q", levels=BALLOT)
    assert all(p.get_width() == 0 for p in bar_patches(fig))
    assert fig.axes[1].patches[0].get_width() == pytest.approx(1.0)
    render(fig)


def test_likert_bars_five_point_neutral_straddles_the_centre() -> None:
    data = pd.DataFrame(
        {
            "q": pd.Categorical(
                ["很满意", "满意", "一般", "一般", "不满意"], categories=FIVE, ordered=True
            )
        }
    )
    fig = quiet(likert_bars, data, items="q")
    (neutral,) = patches_by_color(fig)[LEVEL_COLORS["neutral"]]
    assert neutral.get_x() == pytest.approx(-0.2) and neutral.get_width() == pytest.approx(0.4)
    (dis,) = patches_by_color(fig)[LEVEL_COLORS["dissatisfied"]]
    assert dis.get_x() + dis.get_width() == pytest.approx(-0.2)
    assert len(fig.axes) == 1  # no 不了解 answers and not the ballot scale: no side panel
    render(fig)


def test_likert_bars_unknown_scale_uses_levels_and_neutral() -> None:
    levels = ["1", "2", "3", "4", "5"]
    data = pd.DataFrame({"q": ["1", "3", "5", "5", "4"]})
    fig = quiet(
        likert_bars, data, items="q", levels=levels, neutral="3", labels={"q": "对加装电梯的态度"}
    )
    assert fig.axes[0].get_yticklabels()[0].get_text() == "对加装电梯的态度 (n=5)"
    middle = bar_patches(fig)[2]
    assert middle.get_x() == pytest.approx(-0.1)
    render(fig)


def test_likert_bars_dont_know_excluded_with_a_note() -> None:
    data = pd.DataFrame({"q": ["满意", "不了解", "不了解", "基本满意"]})
    fig = quiet(likert_bars, data, items="q", dont_know="exclude", language="en")
    assert len(fig.axes) == 1
    assert any("Don't know (2 answers) left out" in t for t in texts(fig))
    render(fig)


def test_likert_bars_small_segments_are_not_labelled() -> None:
    data = pd.DataFrame({"q": ["满意"] * 49 + ["不满意"]})
    fig = quiet(likert_bars, data, items="q", min_label=0.05)
    assert "98%" in texts(fig) and "2%" not in texts(fig)


def test_likert_bars_errors() -> None:
    data = pd.DataFrame({"q": ["满意", "很好"]})
    with pytest.raises(DataError, match="`q`: value '很好'"):
        likert_bars(data, items="q", levels=BALLOT)
    with pytest.raises(ParameterError, match="level order is unknown"):
        likert_bars(pd.DataFrame({"q": ["a", "b"]}), items="q")
    with pytest.raises(ParameterError, match="must not list 不了解"):
        likert_bars(pd.DataFrame({"q": ["满意"]}), items="q", levels=[*BALLOT, "不了解"])
    with pytest.raises(ParameterError, match="cannot be 基本满意"):
        likert_bars(pd.DataFrame({"q": ["满意"]}), items="q", neutral="基本满意")
    with raises_code(ParameterError, "E_OPTION", argument="language"):
        likert_bars(pd.DataFrame({"q": ["满意"]}), items="q", language="fr")
    with pytest.raises(DataError, match="no column `qq`"):
        likert_bars(pd.DataFrame({"q": ["满意"]}), items="qq")
    with pytest.raises(ParameterError, match="one scale"):
        likert_bars(
            pd.DataFrame(
                {"a": ["满意"], "b": pd.Categorical(["满意"], categories=FIVE, ordered=True)}
            ),
            items=["a", "b"],
        )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=5, max_size=5))
def test_likert_bars_each_bar_spans_exactly_its_valid_share(counts: list[int]) -> None:
    values = [lv for lv, c in zip(FIVE, counts, strict=True) for _ in range(c)]
    data = pd.DataFrame({"q": pd.Categorical(values, categories=FIVE, ordered=True)})
    fig = likert_bars(data, items="q")
    patches = bar_patches(fig)
    total = sum(p.get_width() for p in patches)
    assert total == pytest.approx(1.0 if sum(counts) else 0.0)
    # segments are contiguous, unfavourable to favourable, around the centre
    order = sorted((p for p in patches if p.get_width() > 0), key=lambda p: p.get_x())
    for a, b in itertools.pairwise(order):
        assert a.get_x() + a.get_width() == pytest.approx(b.get_x())
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# colours
# ------------------------------------------------------------------------------------------


def test_same_level_same_colour_in_every_chart() -> None:
    ballot = quiet(likert_bars, pd.DataFrame({"q": ["满意", "不满意", "基本满意"]}), items="q")
    five = quiet(
        likert_bars,
        pd.DataFrame(
            {"q": pd.Categorical(["满意", "不满意", "很满意"], categories=FIVE, ordered=True)}
        ),
        items="q",
        language="en",
    )
    for code, label in (("satisfied", "满意"), ("dissatisfied", "不满意")):
        in_ballot = patches_by_color(ballot)[LEVEL_COLORS[code]]
        in_five = patches_by_color(five)[LEVEL_COLORS[code]]
        assert in_ballot and in_five
        assert level_color(label) == level_color(code) == LEVEL_COLORS[code]
    # the legend swatches use the same colours as the bars
    handles = ballot.axes[0].get_legend().legend_handles
    assert [to_hex(h.get_facecolor()) for h in handles] == [
        LEVEL_COLORS[c] for c in ("dissatisfied", "basically_satisfied", "satisfied", "dont_know")
    ]
    # a trend of levels uses the level colours too, measures their own
    trend = quiet(
        trend_chart,
        pd.DataFrame(
            {
                "date": ["2025-01-01", "2025-06-01"] * 2,
                "level": ["满意"] * 2 + ["不满意"] * 2,
                "estimate": [0.6, 0.7, 0.2, 0.1],
            }
        ),
        group="level",
    )
    assert [to_hex(line.get_color()) for line in trend.axes[0].lines] == [
        LEVEL_COLORS["dissatisfied"],
        LEVEL_COLORS["satisfied"],
    ]
    dots = quiet(
        rate_dotplot,
        satisfaction_rates(pd.DataFrame({"q": ["满意", "不满意"]}), items="q"),
        measure="dissatisfied",
    )
    assert to_hex(dots.axes[0].lines[0].get_color()) == MEASURE_COLORS["dissatisfied"]


def _lin(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    ) @ np.clip(linear, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


MACHADO = {  # severity 1.0, applied to linear RGB
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}


@pytest.mark.parametrize("vision", sorted(MACHADO))
@pytest.mark.parametrize(
    "codes",
    [
        ("dissatisfied", "basically_satisfied", "satisfied", "dont_know"),
        (
            "very_dissatisfied",
            "dissatisfied",
            "neutral",
            "satisfied",
            "very_satisfied",
            "dont_know",
        ),
    ],
)
def test_level_colours_stay_apart_for_colour_blind_readers(vision: str, codes: tuple) -> None:  # type: ignore[type-arg]
    matrix = MACHADO[vision]
    labs = {
        c: _lab(matrix @ _lin(np.array(matplotlib.colors.to_rgb(LEVEL_COLORS[c])))) for c in codes
    }
    worst = min(
        float(np.linalg.norm(labs[a] - labs[b])) for a, b in itertools.combinations(codes, 2)
    )
    assert worst >= 15


# ------------------------------------------------------------------------------------------
# rate_dotplot
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_rate_dotplot_renders_with_groups_panels_and_reference(language: str) -> None:
    data = ballots(1, 60)
    data["wuye__attitude"] = data["attitude"]
    data["juweihui__attitude"] = data["results"]
    data.loc[data["community"] == "打浦桥", "juweihui__attitude"] = None  # nobody answered
    rates = satisfaction_rates(data, items=["wuye__attitude", "juweihui__attitude"], by="community")
    # satisfaction_rates lists observed groups; the unused category is an empty group here
    rates["community"] = pd.Categorical(
        rates["community"], categories=data["community"].cat.categories
    )
    fig = quiet(rate_dotplot, rates, by="community", reference=0.8, language=language)
    found = texts(fig)
    assert any(t.startswith("n=") for t in found)
    if language == "zh":
        assert "物业公司 · 工作态度" in found and "参考线 80%" in found
        assert "按点估计排序；区间重叠的条目不能据此排名。" in found
        assert fig.axes[0].get_xlabel() == "满意率（满意+基本满意）及 95% 置信区间"
    else:
        assert "Property management · Attitude" in found and "reference 80%" in found
    assert [line for line in fig.axes[0].lines if list(line.get_xdata()) == [0.8, 0.8]]
    # the empty community (2 rows) and the unanswered item (1 row) have no dot but say so
    assert sum("无有效回答" in t or "no valid answers" in t for t in found) == 3
    render(fig)
    rates["subject"] = rates["item"].str.split("__").str[0]
    rates["name"] = rates["item"].str.split("__").str[1]
    panels = quiet(
        rate_dotplot,
        rates,
        y="name",
        by="community",
        panel="subject",
        measure="strict",
        language=language,
    )
    assert len(panels.axes) == 2
    render(panels)


def test_rate_dotplot_sorts_by_estimate_and_shows_intervals() -> None:
    rates = pd.DataFrame(
        {
            "item": ["a", "b", "c"],
            "estimate": [0.5, 0.9, 0.7],
            "ci_low": [0.3, 0.7, 0.5],
            "ci_high": [0.7, 0.97, 0.85],
            "n": [20, 20, 20],
        }
    )
    fig = quiet(rate_dotplot, rates, measure=None)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b", "c", "a"]
    intervals = [line for line in fig.axes[0].lines if len(line.get_xdata()) == 2]
    assert sorted(tuple(line.get_xdata()) for line in intervals) == [
        (0.3, 0.7),
        (0.5, 0.85),
        (0.7, 0.97),
    ]
    unsorted = quiet(rate_dotplot, rates, measure=None, sort=False)
    assert [t.get_text() for t in unsorted.axes[0].get_yticklabels()] == ["a", "b", "c"]
    assert unsorted._supxlabel is None  # no sorting note without sorting
    render(fig)


@pytest.mark.parametrize("answer", ["满意", "不满意"])
def test_rate_dotplot_all_one_answer(answer: str) -> None:
    rates = satisfaction_rates(pd.DataFrame({"q": [answer] * 16}), items="q")
    render(quiet(rate_dotplot, rates, measure="broad"))
    render(quiet(rate_dotplot, rates, measure="strict", language="en"))


def test_rate_dotplot_errors() -> None:
    rates = satisfaction_rates(pd.DataFrame({"q": ["满意"]}), items="q")
    with raises_code(ParameterError, "E_OPTION", argument="measure"):
        rate_dotplot(rates, measure="brod")
    with pytest.raises(ParameterError, match="several measures"):
        rate_dotplot(rates, measure=None)
    with pytest.raises(DataError, match="no column `community`"):
        rate_dotplot(rates, by="community")
    with raises_code(ParameterError, "E_RANGE", argument="reference"):
        rate_dotplot(rates, reference=80)
    twice = pd.concat([rates, rates])
    with pytest.raises(DataError, match="2 rows for item 'q'"):
        rate_dotplot(twice)


# ------------------------------------------------------------------------------------------
# turnout_chart
# ------------------------------------------------------------------------------------------

AGES = ["18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"]


def roster(seed: int = 0, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age_band": rng.choice(AGES[:-1], n),  # nobody 80+ invited
            "gender": rng.choice(["female", "male"], n),
        }
    )
    rate = dict(zip(AGES, [0.14, 0.3, 0.4, 0.56, 0.65, 0.78, 0.6], strict=True))
    frame["attended"] = rng.random(n) < frame["age_band"].map(rate)
    frame["age_band"] = pd.Categorical(frame["age_band"], categories=AGES, ordered=True)
    return frame


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", ["rate", "counts"])
def test_turnout_chart_renders(language: str, kind: str) -> None:
    fig = quiet(turnout_chart, roster=roster(), kind=kind, language=language)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == AGES  # the empty 80+ band is kept
    assert ax.get_xlabel() == ("年龄段" if language == "zh" else "Age band")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == (["女", "男"] if language == "zh" else ["Female", "Male"])
    assert texts(fig).count("n=0") == 2  # 80+ women and men
    if kind == "rate":
        assert len(ax.patches) == 12
        assert any(t.startswith("总体") or t.startswith("overall") for t in legend)
    else:
        assert len(ax.patches) == 24  # invited outline + attended fill
    render(fig)


def test_turnout_chart_from_the_turnout_table_matches_the_roster() -> None:
    people = roster(2)
    table = turnout(people, by=["age_band", "gender"])
    a = quiet(turnout_chart, table)
    b = quiet(turnout_chart, roster=people)
    assert [p.get_height() for p in a.axes[0].patches] == [
        p.get_height() for p in b.axes[0].patches
    ]
    one = quiet(turnout_chart, roster=people, by="age_band")
    heights = [p.get_height() for p in one.axes[0].patches]
    expected = people.groupby("age_band", observed=True)["attended"].mean().tolist()
    assert heights == pytest.approx(expected)
    render(one)


def test_turnout_chart_everyone_or_nobody_attended() -> None:
    people = roster(4, 40)
    for flag in (True, False):
        people["attended"] = flag
        render(quiet(turnout_chart, roster=people))


def test_turnout_chart_errors() -> None:
    with pytest.raises(ParameterError, match="either `turnout`"):
        turnout_chart()
    with pytest.raises(ParameterError, match="one or two columns"):
        turnout_chart(roster=roster(), by=["age_band", "gender", "role"])
    with raises_code(ParameterError, "E_OPTION", argument="kind"):
        turnout_chart(roster=roster(), kind="pie")


# ------------------------------------------------------------------------------------------
# trend_chart
# ------------------------------------------------------------------------------------------


def trend_data() -> pd.DataFrame:
    dates = ["2024-03-01", "2024-09-01", "2025-03-01", "2025-09-01"]
    frame = pd.DataFrame(
        {
            "date": dates * 3,
            "measure": ["strict"] * 4 + ["broad"] * 4 + ["dissatisfied"] * 4,
            "estimate": [0.5, 0.55, np.nan, 0.62, 0.8, 0.82, 0.85, 1.0, 0.15, 0.12, 0.1, 0.0],
        }
    )
    frame["ci_low"] = (frame["estimate"] - 0.12).clip(lower=0)
    frame["ci_high"] = (frame["estimate"] + 0.1).clip(upper=1)
    return frame


@pytest.mark.parametrize("language", ["zh", "en"])
def test_trend_chart_measures_with_bands(language: str) -> None:
    fig = quiet(trend_chart, trend_data(), group="measure", reference=0.8, language=language)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    if language == "zh":
        assert legend == ["严格满意率", "满意率", "不满意率", "参考线 80%"]
    else:
        assert legend[0] == "Strict satisfaction rate"
    assert len(ax.collections) == 3  # one band per measure
    assert [to_hex(line.get_color()) for line in ax.lines[:3]] == [
        MEASURE_COLORS[m] for m in ("strict", "broad", "dissatisfied")
    ]
    render(fig)


def test_trend_chart_meeting_labels_numbers_and_an_empty_group() -> None:
    data = pd.DataFrame(
        {
            "meeting": ["第一次评议会", "第二次评议会", "第三次评议会"] * 2,
            "community": ["五里桥"] * 3 + ["打浦桥"] * 3,
            "estimate": [0.7, 0.75, 0.8, np.nan, np.nan, np.nan],
        }
    )
    fig = quiet(trend_chart, data, x="meeting", group="community", low=None, high=None)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "第一次评议会",
        "第二次评议会",
        "第三次评议会",
    ]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["五里桥", "打浦桥"]
    assert len(ax.collections) == 0
    render(fig)
    numbers = pd.DataFrame({"year": [2023, 2024, 2025], "score": [72.0, 75.5, 80.1]})
    fig2 = quiet(trend_chart, numbers, x="year", y="score", language="en")
    assert fig2.axes[0].get_ylim()[1] > 80  # not a percentage axis
    render(fig2)


def test_trend_chart_errors() -> None:
    with pytest.raises(DataError, match="no column `when`"):
        trend_chart(trend_data(), x="when")
    with pytest.raises(DataError, match="must hold numbers"):
        trend_chart(pd.DataFrame({"date": ["2025-01-01"], "estimate": ["高"]}))


# ------------------------------------------------------------------------------------------
# save_figure and housekeeping
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["png", "pdf", "svg"])
def test_save_figure(tmp_path: Path, suffix: str) -> None:
    fig = quiet(likert_bars, pd.DataFrame({"q": ["满意", "基本满意"]}), items="q")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = save_figure(fig, tmp_path / "sub" / f"chart.{suffix}", dpi=72)
    assert out.exists() and out.stat().st_size > 1000


def test_save_figure_errors(tmp_path: Path) -> None:
    fig = quiet(likert_bars, pd.DataFrame({"q": ["满意"]}), items="q")
    with pytest.raises(ParameterError, match="`path` must end with one of"):
        save_figure(fig, tmp_path / "chart.pgn")
    with raises_code(ParameterError, "E_RANGE", argument="dpi"):
        save_figure(fig, tmp_path / "chart.png", dpi=0)
    with pytest.raises(ParameterError, match="must be a matplotlib Figure"):
        save_figure("chart", tmp_path / "chart.png")  # type: ignore[arg-type]


def test_charts_do_not_register_with_pyplot() -> None:
    """A returned Figure is shown once in Jupyter and never left open in pyplot's registry."""
    plt.close("all")
    quiet(likert_bars, pd.DataFrame({"q": ["满意"]}), items="q")
    quiet(trend_chart, trend_data())
    assert plt.get_fignums() == []
