"""Helpers shared by the chart modules (argument checks, words, layout)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from toolkit._checks import check_option
from toolkit.errors import ParameterError
from toolkit.labels import CHART_WORDS
from toolkit.report.fonts import configure_matplotlib
from toolkit.report.palette import LANGUAGES

#: Words of the charts (:data:`toolkit.labels.CHART_WORDS`). ``words(key, language, **values)``
#: formats one.
TEXT = CHART_WORDS


def words(key: str, language: str, **values: Any) -> str:
    return TEXT[key][language].format(**values)


def start(language: str) -> None:
    """Check ``language`` and configure the CJK font (every chart calls this first)."""
    check_option("language", language, LANGUAGES)
    configure_matplotlib()


def new_figure(width: float, height: float) -> Figure:
    """A figure not registered with pyplot (no double display in Jupyter, freed with its owner)."""
    return Figure(figsize=(width, height), layout="constrained")


def require_frame(data: Any, argument: str, what: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"`{argument}` must be a pandas DataFrame ({what}); got {type(data).__name__}."
        )
    return data


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def ordered_values(series: pd.Series) -> list[Any]:
    """Distinct values in display order: categories (all, used or not), else sorted; missing last."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = list(series.cat.categories)
    else:
        present = [v for v in pd.unique(series) if not is_missing(v)]
        try:
            values = sorted(present)
        except TypeError:
            values = sorted(present, key=str)
    if series.isna().any():
        values.append(None)
    return values


def percent_axis(axis: Any, *, absolute: bool = False) -> None:
    """Format an axis as percentages of proportions (absolute values for diverging bars)."""

    def fmt(value: float, _pos: int) -> str:
        shown = abs(value) if absolute else value
        return f"{shown * 100:.0f}%"

    axis.set_major_formatter(FuncFormatter(fmt))


def luminance(color: str) -> float:
    """Relative luminance (WCAG) of a hex colour."""
    rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return "white" if luminance(background) < 0.25 else "black"


def group_text(value: Hashable, language: str, labels: dict[Hashable, str] | None = None) -> str:
    from toolkit.report.palette import item_label

    if isinstance(value, tuple):
        return " / ".join(group_text(v, language, labels) for v in value)
    if is_missing(value):
        return words("missing", language)
    return item_label(value, language, labels)


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"
