"""Weights shared by the analysis functions: frequency-weight columns and survey designs.

Two meanings, stated by each function that takes them:

* ``weights="column"``: **frequency weights** (a row of weight 3 counts as three identical cases,
  R's ``weights=`` of ``lm``, ``polr``, ``clm``, ``glm`` with integer counts);
* ``design=SurveyDesign(...)``: **sampling weights** with the design's strata and clusters, standard
  errors by linearisation as R's ``survey`` package (``svyrecvar`` of the influence values).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_columns
from toolkit.analysis.design import SurveyDesign
from toolkit.errors import DataError, ParameterError

__all__ = ["design_cov", "survey_weights", "weight_column"]


def weight_column(frame: pd.DataFrame, weights: str, fn: str) -> np.ndarray:
    """The frequency weights of column ``weights``: finite and non-negative, else DataError."""
    check_columns(frame, [weights], argument="data")
    w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(
            f"{fn}: weight column `{weights}` must hold finite numbers >= 0; row "
            f"{frame.index[np.flatnonzero(bad)[0]]!r} holds {frame[weights].iloc[np.flatnonzero(bad)[0]]!r}. "
            "Fill or drop that row."
        )
    return w


def design_cov(survey: SurveyDesign, rows: np.ndarray, influence: np.ndarray) -> np.ndarray:
    """Design-based covariance of estimates with ``influence`` values for the rows ``rows``.

    ``influence`` (rows used x parameters) is, for an M-estimator, the weighted scores times the
    inverse weighted information, ``w_i s_i H^{-1}``; rows not used count as zero, and strata and
    clusters are those of the whole design, as ``survey::svyrecvar``.
    """
    n = survey.data.shape[0]
    full = np.zeros((n, influence.shape[1]))
    full[rows] = influence
    present = np.zeros(n, dtype=bool)
    present[rows] = True
    return np.asarray(survey._vcov(full, present & survey._rows))


def survey_weights(data: pd.DataFrame, weights: Any, survey: Any, fn: str) -> np.ndarray:
    """The sampling weights of ``survey`` for ``data`` (which must be ``survey.data``)."""
    if not isinstance(survey, SurveyDesign):
        raise ParameterError(f"`design` must be a SurveyDesign; got {type(survey).__name__}.")
    if weights is not None:
        raise ParameterError(
            f"{fn}: give `weights` (frequency weights) or `design` (sampling weights), not both."
        )
    if not data.index.equals(survey.data.index):
        raise DataError(
            f"{fn}: `data` must be the frame the design was built on (`design.data`); its rows "
            "differ."
        )
    return survey.weights.to_numpy(dtype=float)
