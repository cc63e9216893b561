"""AAPOR outcome rates (response, cooperation, refusal, contact) for household surveys.

Household surveys around the meetings (who was asked, who answered) report their outcome rates in
the AAPOR Standard Definitions, 9th edition (2016), section "Calculating rates from response
distributions". The formulas are printed in :data:`AAPOR_FORMULAS` and in the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_range, did_you_mean
from toolkit.errors import DataError, ParameterError

__all__ = ["AAPOR_FORMULAS", "DISPOSITION_CODES", "response_rates"]

DISPOSITION_CODES: dict[str, str] = {
    "I": "complete interview",
    "P": "partial interview",
    "R": "refusal and break-off",
    "NC": "non-contact",
    "O": "other (eligible, non-interview)",
    "UH": "unknown if household / occupied housing unit",
    "UO": "unknown, other",
    "NE": "not eligible",
}
"""The AAPOR final disposition groups used by :func:`response_rates`."""

AAPOR_FORMULAS: dict[str, str] = {
    "RR1": "I / ((I+P) + (R+NC+O) + (UH+UO))",
    "RR2": "(I+P) / ((I+P) + (R+NC+O) + (UH+UO))",
    "RR3": "I / ((I+P) + (R+NC+O) + e(UH+UO))",
    "RR4": "(I+P) / ((I+P) + (R+NC+O) + e(UH+UO))",
    "RR5": "I / ((I+P) + (R+NC+O))",
    "RR6": "(I+P) / ((I+P) + (R+NC+O))",
    "COOP1": "I / ((I+P) + R + O)",
    "COOP2": "(I+P) / ((I+P) + R + O)",
    "COOP3": "I / ((I+P) + R)",
    "COOP4": "(I+P) / ((I+P) + R)",
    "REF1": "R / ((I+P) + (R+NC+O) + (UH+UO))",
    "REF2": "R / ((I+P) + (R+NC+O) + e(UH+UO))",
    "REF3": "R / ((I+P) + (R+NC+O))",
    "CON1": "((I+P) + R + O) / ((I+P) + R + O + NC + (UH+UO))",
    "CON2": "((I+P) + R + O) / ((I+P) + R + O + NC + e(UH+UO))",
    "CON3": "((I+P) + R + O) / ((I+P) + R + O + NC)",
}
"""The outcome rates of the AAPOR Standard Definitions (9th edition, 2016), as printed there."""


def _counts_frame(dispositions: Any) -> tuple[pd.DataFrame, list[str]]:
    """Return (codes frame with the eight code columns as floats, identifying column names)."""
    if isinstance(dispositions, Mapping) and not isinstance(dispositions, pd.Series):
        dispositions = pd.Series(dict(dispositions), dtype=object)
    if isinstance(dispositions, pd.Series):
        frame = dispositions.to_frame().T.reset_index(drop=True)
        series_input = True
    elif isinstance(dispositions, pd.DataFrame):
        frame = dispositions.reset_index(drop=True)
        series_input = False
    else:
        raise ParameterError(
            "`dispositions` must be a dict or Series of counts per disposition code, or a "
            "DataFrame with one row per sample and one column per code; got "
            f"{type(dispositions).__name__}."
        )
    mapping: dict[str, str] = {}
    ids: list[str] = []
    for col in frame.columns:
        code = str(col).strip().upper()
        if code in DISPOSITION_CODES:
            if code in mapping.values():
                raise DataError(
                    f"`dispositions` gives disposition code {code} twice (column {col!r}); give "
                    "one count per code."
                )
            mapping[col] = code
        elif series_input:
            raise DataError(
                f"`dispositions` has unknown disposition code {col!r}; the codes are "
                f"{', '.join(DISPOSITION_CODES)}.{did_you_mean(str(col), DISPOSITION_CODES)}"
            )
        else:
            ids.append(col)
    if not mapping:
        raise DataError(
            "`dispositions` has no disposition code columns; name them "
            f"{', '.join(DISPOSITION_CODES)} (missing codes count as 0)."
        )
    codes = pd.DataFrame(index=frame.index)
    for col, code in mapping.items():
        try:
            values = pd.to_numeric(frame[col], errors="raise").astype(float)
        except (TypeError, ValueError):
            raise DataError(f"`dispositions` count for {code} must be a number.") from None
        if values.isna().any() or not np.isfinite(values.to_numpy()).all():
            raise DataError(
                f"`dispositions` count for {code} is missing or infinite; use 0 for none."
            )
        if (values < 0).any():
            raise DataError(f"`dispositions` count for {code} is negative; counts are >= 0.")
        codes[code] = values
    for code in DISPOSITION_CODES:
        if code not in codes.columns:
            codes[code] = 0.0
    return pd.concat([frame[ids], codes[list(DISPOSITION_CODES)]], axis=1), ids


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def response_rates(dispositions: Any, *, e: float | str = "estimate") -> pd.DataFrame:
    r"""AAPOR response (RR1-6), cooperation (COOP1-4), refusal (REF1-3) and contact (CON1-3) rates.

    Parameters
    ----------
    dispositions : dict, pandas.Series or pandas.DataFrame
        Final disposition counts in the AAPOR groups ``I`` (complete interview), ``P`` (partial),
        ``R`` (refusal and break-off), ``NC`` (non-contact), ``O`` (other eligible
        non-interview), ``UH`` (unknown if household), ``UO`` (unknown, other) and ``NE`` (not
        eligible). A dict or Series gives one sample; a DataFrame gives one row per sample (or
        group), its other columns (e.g. ``building``) are kept as identifiers. Codes are matched
        case-insensitively; an absent code counts as 0. Weighted (non-integer) counts are allowed.
    e : float in [0, 1] or "estimate"
        The estimated proportion of cases of unknown eligibility (UH, UO) that are eligible, used
        by RR3, RR4, REF2 and CON2. ``"estimate"`` (default) uses the proportional allocation of
        the known cases, :math:`e = (I+P+R+NC+O) / (I+P+R+NC+O+NE)` (the default of AAPOR's
        Outcome Rate Calculator and of R ``outcomerate::eligibility_rate``), per row.

    Returns
    -------
    pandas.DataFrame
        The identifying columns (if any), then ``measure`` (``"RR1"`` ... ``"CON3"``, in AAPOR's
        order), ``estimate`` (the rate, in [0, 1]; NaN when its denominator is 0), ``e`` (the
        eligibility proportion used for that row) and ``formula`` (the formula as printed by
        AAPOR). Sixteen rows per sample.

    Raises
    ------
    DataError
        On negative, missing or non-numeric counts, or an unknown code in a dict/Series.
    ParameterError
        If ``e`` is neither "estimate" nor a number in [0, 1].

    Notes
    -----
    The formulas (AAPOR 2016, section "Calculating rates from response distributions") are those
    of :data:`AAPOR_FORMULAS`, e.g.

    .. math:: RR3 = \frac{I}{(I+P) + (R+NC+O) + e(UH+UO)},\qquad
              COOP1 = \frac{I}{(I+P) + R + O},\qquad
              CON1 = \frac{(I+P) + R + O}{(I+P) + R + O + NC + (UH+UO)}

    Where ``UH + UO == 0`` the :math:`e` term is 0 whatever :math:`e` is (so an undefined
    estimate of :math:`e` does not spoil RR3).

    References
    ----------
    The American Association for Public Opinion Research (2016). *Standard Definitions: Final
    Dispositions of Case Codes and Outcome Rates for Surveys*, 9th edition. AAPOR. R:
    ``outcomerate::outcomerate`` (Pilliard Hellwig, rOpenSci), not a Debian package, so the
    tests use its published examples and an R script evaluating the AAPOR formulas.

    Examples
    --------
    >>> freq = {"I": 4, "P": 2, "R": 1, "NC": 1, "O": 1, "UH": 1, "UO": 1, "NE": 1}
    >>> rates = response_rates(freq)
    >>> rates.set_index("measure").loc[["RR1", "RR3", "COOP1", "CON1"], ["estimate", "e"]].round(3)
             estimate    e
    measure
    RR1         0.364  0.9
    RR3         0.370  0.9
    COOP1       0.500  0.9
    CON1        0.727  0.9
    """
    if isinstance(e, str):
        if e != "estimate":
            raise ParameterError(f"`e` must be 'estimate' or a number in [0, 1]; got {e!r}.")
    elif isinstance(e, bool) or not isinstance(e, (int, float, np.integer, np.floating)):
        raise ParameterError(f"`e` must be 'estimate' or a number in [0, 1]; got {e!r}.")
    else:
        if not np.isfinite(float(e)):
            raise ParameterError(f"`e` must be 'estimate' or a number in [0, 1]; got {e!r}.")
        check_range("e", float(e), low=0, high=1)

    frame, ids = _counts_frame(dispositions)
    c = {code: frame[code].to_numpy(dtype=float) for code in DISPOSITION_CODES}
    interviews = c["I"] + c["P"]
    eligible_non = c["R"] + c["NC"] + c["O"]
    unknown = c["UH"] + c["UO"]
    if e == "estimate":
        e_used = _divide(interviews + eligible_non, interviews + eligible_non + c["NE"])
    else:
        e_used = np.full(len(frame), float(e))
    e_unknown = np.where(unknown > 0, e_used * unknown, 0.0)
    contacted = interviews + c["R"] + c["O"]

    rates: dict[str, np.ndarray] = {
        "RR1": _divide(c["I"], interviews + eligible_non + unknown),
        "RR2": _divide(interviews, interviews + eligible_non + unknown),
        "RR3": _divide(c["I"], interviews + eligible_non + e_unknown),
        "RR4": _divide(interviews, interviews + eligible_non + e_unknown),
        "RR5": _divide(c["I"], interviews + eligible_non),
        "RR6": _divide(interviews, interviews + eligible_non),
        "COOP1": _divide(c["I"], interviews + c["R"] + c["O"]),
        "COOP2": _divide(interviews, interviews + c["R"] + c["O"]),
        "COOP3": _divide(c["I"], interviews + c["R"]),
        "COOP4": _divide(interviews, interviews + c["R"]),
        "REF1": _divide(c["R"], interviews + eligible_non + unknown),
        "REF2": _divide(c["R"], interviews + eligible_non + e_unknown),
        "REF3": _divide(c["R"], interviews + eligible_non),
        "CON1": _divide(contacted, contacted + c["NC"] + unknown),
        "CON2": _divide(contacted, contacted + c["NC"] + e_unknown),
        "CON3": _divide(contacted, contacted + c["NC"]),
    }
    measures = list(AAPOR_FORMULAS)
    k = len(measures)
    rows = np.repeat(np.arange(len(frame)), k)
    out = (
        frame[ids].iloc[rows].reset_index(drop=True)
        if ids
        else pd.DataFrame(index=range(len(rows)))
    )
    out["measure"] = measures * len(frame)
    out["estimate"] = np.column_stack([rates[m] for m in measures]).ravel()
    out["e"] = e_used[rows]
    out["formula"] = [AAPOR_FORMULAS[m] for m in measures] * len(frame)
    return out
