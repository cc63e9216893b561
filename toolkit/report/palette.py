"""Colours and words shared by every chart: one colour per response level, everywhere.

Level colours come from ColorBrewer's colour-blind-safe diverging scheme RdBu (Brewer 2002;
blue = favourable, red = unfavourable) with neutral and don't-know in two greys of different
lightness. Every pair of colours that can meet in one chart stays at least ΔE*ab 20 apart for
normal vision and under simulated deuteranopia, protanopia and tritanopia (Machado, Oliveira &
Fernandes 2009, severity 1), which ``tests/test_report_charts.py`` checks. Group colours use the
Okabe & Ito (2008) qualitative palette; charts also vary the marker, so colour is never the only
cue.

Levels are known by a code (``satisfied``, ``basically_satisfied``, ``dissatisfied``,
``dont_know`` from ``docs/evaluation-ballot.md``, and the five-point codes ``very_satisfied``,
``neutral``, ``very_dissatisfied``, plus the agreement scale ``strongly_agree`` ... which shares
the colours of its positions). :func:`level_code` reads a code, a Chinese label or an English
label into its code.

>>> level_code("基本满意"), level_code("Don't know"), level_code("同意")
('basically_satisfied', 'dont_know', 'agree')
>>> LEVEL_COLORS["satisfied"] == level_color("满意")
True
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from toolkit.errors import ParameterError
from toolkit.labels import GENDERS, ITEMS, LEVELS, MEASURES, SUBJECTS, VARIABLES

__all__ = [
    "GROUP_COLORS",
    "GROUP_MARKERS",
    "LEVEL_COLORS",
    "LEVEL_LABELS",
    "MEASURE_COLORS",
    "item_label",
    "level_code",
    "level_color",
    "level_label",
]

#: One colour per level code (hex). Same level, same colour, in every chart.
LEVEL_COLORS: dict[str, str] = {
    "very_satisfied": "#053061",
    "satisfied": "#2166ac",
    "basically_satisfied": "#92c5de",
    "neutral": "#e0e0e0",
    "dissatisfied": "#d6604d",
    "very_dissatisfied": "#67001f",
    "dont_know": "#9e9e9e",
    # the agreement scale shares the colours of its positions
    "strongly_agree": "#053061",
    "agree": "#2166ac",
    "neither": "#e0e0e0",
    "disagree": "#d6604d",
    "strongly_disagree": "#67001f",
}

#: Colours of the rate measures of :func:`toolkit.analysis.satisfaction.satisfaction_rates`.
MEASURE_COLORS: dict[str, str] = {
    "strict": LEVEL_COLORS["satisfied"],
    "broad": "#4393c3",
    "dissatisfied": LEVEL_COLORS["dissatisfied"],
}

#: Okabe-Ito colours for groups (communities, genders, subjects), in order of appearance.
GROUP_COLORS: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
GROUP_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")

#: Display labels of the level codes (:data:`toolkit.labels.LEVELS`).
LEVEL_LABELS = LEVELS

_ALIASES: dict[str, str] = {}
for _code, _texts in LEVEL_LABELS.items():
    _ALIASES[_code] = _code
    for _text in _texts.values():
        _ALIASES[_text.casefold()] = _code
_ALIASES.update(
    {
        "非常满意": "very_satisfied",
        "比较满意": "satisfied",
        "说不清": "neutral",
        "一般满意": "neutral",
        "比较不满意": "dissatisfied",
        "非常不满意": "very_dissatisfied",
        "不知道": "dont_know",
        "don't know": "dont_know",
        "dont know": "dont_know",
    }
)

#: Which side of a diverging bar each code sits on: -1 unfavourable, 0 neutral, +1 favourable.
#: 基本满意 is favourable (see :func:`toolkit.report.likert_bars`).
LEVEL_SIDE: dict[str, int] = {
    "very_satisfied": 1,
    "satisfied": 1,
    "basically_satisfied": 1,
    "neutral": 0,
    "dissatisfied": -1,
    "very_dissatisfied": -1,
    "strongly_agree": 1,
    "agree": 1,
    "neither": 0,
    "disagree": -1,
    "strongly_disagree": -1,
}

# ColorBrewer RdBu ramps for levels without a code, lowest (red) to highest (blue).
_RAMPS: dict[int, tuple[str, ...]] = {
    2: ("#d6604d", "#2166ac"),
    3: ("#d6604d", "#e0e0e0", "#2166ac"),
    4: ("#b2182b", "#f4a582", "#92c5de", "#2166ac"),
    5: ("#67001f", "#d6604d", "#e0e0e0", "#2166ac", "#053061"),
    6: ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"),
    7: ("#b2182b", "#ef8a62", "#fddbc7", "#e0e0e0", "#d1e5f0", "#67a9cf", "#2166ac"),
    8: ("#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac"),
    9: (
        "#b2182b",
        "#d6604d",
        "#f4a582",
        "#fddbc7",
        "#e0e0e0",
        "#d1e5f0",
        "#92c5de",
        "#4393c3",
        "#2166ac",
    ),
}

LANGUAGES: tuple[str, ...] = ("zh", "en")


def level_code(value: Any) -> str | None:
    """The level code of a code, Chinese or English label (case-insensitive), else None."""
    if not isinstance(value, str):
        return None
    return _ALIASES.get(value.strip().casefold())


def level_color(value: Any, *, position: int | None = None, of: int | None = None) -> str:
    """Colour of a level: by its code when known, else by its ``position`` among ``of`` levels.

    ``position`` counts from 0 at the least favourable level. Raises :class:`ParameterError` for
    an unknown level without a position, or more than 9 levels.
    """
    code = level_code(value)
    if code is not None:
        return LEVEL_COLORS[code]
    if position is None or of is None:
        raise ParameterError(
            f"level {value!r} has no colour of its own; give its position in the scale."
        )
    if of not in _RAMPS:
        raise ParameterError(
            f"a scale of {of} levels cannot be coloured; charts take 2 to 9 levels "
            "(merge levels or pass fewer `levels`)."
        )
    return _RAMPS[of][position]


def level_label(value: Any, language: str) -> str:
    """Display label of a level in ``language``.

    A code or a standard label (满意, Satisfied) is shown in ``language``; any other value (比较满意,
    a number) is shown as it is.

    >>> level_label("satisfied", "zh"), level_label("满意", "en"), level_label("比较满意", "en")
    ('满意', 'Satisfied', '比较满意')
    """
    code = level_code(value)
    if code is None:
        return str(value)
    texts = LEVEL_LABELS[code]
    standard = {code, *(t.casefold() for t in texts.values())}
    return texts[language] if str(value).strip().casefold() in standard else str(value)


#: Labels of the evaluation ballot items and usual subjects (:mod:`toolkit.labels`).
ITEM_LABELS = ITEMS
SUBJECT_LABELS: dict[str, dict[str, str]] = {**SUBJECTS, **GENDERS}
#: Labels of the rater-profile and roster columns used as axis titles.
VARIABLE_LABELS = VARIABLES
#: Labels of the rate measures of ``satisfaction_rates``.
MEASURE_LABELS = MEASURES


def item_label(item: Hashable, language: str, labels: dict[Hashable, str] | None = None) -> str:
    """Display label of an item, a subject or a ``{subject}__{item}`` variable.

    ``labels`` (the caller's own) wins; then the ballot's labels; else the name itself.

    >>> item_label("wuye__attitude", "zh")
    '物业公司 · 工作态度'
    >>> item_label("attitude", "en", {"attitude": "Manner"})
    'Manner'
    """
    if labels and item in labels:
        return str(labels[item])
    if not isinstance(item, str):
        return str(item)
    for table in (ITEM_LABELS, SUBJECT_LABELS, VARIABLE_LABELS):
        if item in table:
            return table[item][language]
    if "__" in item:
        subject, _, name = item.partition("__")
        if subject in SUBJECT_LABELS or name in ITEM_LABELS:
            return f"{item_label(subject, language)} · {item_label(name, language)}"
    return item
