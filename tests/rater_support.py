"""Shared by the tests of the agreement and concordance measures: a units x raters frame and the
same frame with its raters and units shuffled."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd


def frame_and_shuffled(x: np.ndarray, rnd: random.Random) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``x`` as a units x raters frame (raters ``r0``, ``r1``, ...), and a copy with its rater
    columns and unit rows in a random order."""
    data = pd.DataFrame(x, columns=[f"r{i}" for i in range(x.shape[1])])
    cols = list(data.columns)
    rnd.shuffle(cols)
    rows = list(range(len(data)))
    rnd.shuffle(rows)
    return data, data.iloc[rows][cols]
