"""Weights shared by the analysis functions: frequency-weight columns and survey designs.

Two meanings, and each function that takes weights says which it uses:

* ``weights="column"``: **frequency weights** (a row of weight 3 counts as three identical cases,
  R's ``weights=`` of ``lm``, ``polr``, ``clm``); the result equals that of the expanded rows;
* ``design=SurveyDesign(...)``: **sampling weights** with the design's strata and clusters, standard
  errors by linearisation as R's ``survey`` package (``svyrecvar`` of the influence values).

=====================================  =========================================================
function                               weights
=====================================  =========================================================
``ordinal_regression``                 ``weights=`` frequency; ``design=`` sampling (svyolr)
``ordinal_model_fit``                  ``weights=`` frequency
``proportional_odds_test``             ``weights=`` frequency
``driver_analysis``                    ``weights=`` frequency (any non-negative number)
``satisfaction_rates``                 ``weights=`` frequency (whole numbers)
``satisfaction_trend``                 ``weights=`` frequency (whole numbers)
``small_area_rates``                   ``weights=`` frequency (whole numbers)
``importance_performance``             ``weights=`` frequency (whole numbers)
``satisfaction_index``                 ``weights=`` are *item* weights, not case weights
``SurveyDesign`` methods               sampling weights of the design
=====================================  =========================================================

Rates with sampling weights are :meth:`SurveyDesign.proportion`; the functions without weights
(rank tests, reliability, agreement) have no weighted counterpart in R's base or survey packages
that would give them one meaning.
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
