"""The wide response table built from flat answers mappings, without a store.

The layout is that of :meth:`toolkit.store.store.Store.responses`: meta columns
(:data:`META_COLUMNS`), then one column per variable of the instrument. It lives with the
instrument because it depends on the instrument alone; :mod:`toolkit.exports.tables` re-exports
both names, and :func:`toolkit.instrument.odk_import.read_odk_csv` uses it for its ``frame``.

Examples
--------
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> wide = responses_from_answers(survey, [{"gender": "female"}])
>>> list(wide.columns[: len(META_COLUMNS)]) == list(META_COLUMNS)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import DataError
from toolkit.instrument.model import DONT_KNOW, Survey

__all__ = ["META_COLUMNS", "responses_from_answers"]

#: The meta columns of the wide response table, in order.
META_COLUMNS: tuple[str, ...] = (
    "submission_id",
    "meeting_id",
    "community",
    "street",
    "kind",
    "device",
    "started_at",
    "submitted_at",
    "status",
)


def responses_from_answers(
    survey: Survey,
    answers: Sequence[Mapping[str, Any]],
    *,
    subjects: Sequence[str] = (),
    meta: pd.DataFrame | Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """The wide response table (the layout of ``Store.responses``) from flat answers mappings.

    Parameters
    ----------
    survey : Survey
        The instrument.
    answers : sequence of mapping
        One flat answers mapping per ballot (variable → value, multiple choice as a list).
    subjects : sequence of str
        The evaluated subjects, which expand per-subject grids.
    meta : DataFrame or mapping, optional
        Values of meta columns (:data:`META_COLUMNS`), one per ballot; missing ones are blank.

    Returns
    -------
    DataFrame
        Meta columns, then the variables: ordered categoricals of codes (``dont_know`` last where
        offered), ``{question}__{code}`` Int64 indicators, Int64, Float64, datetime64, text.

    Raises
    ------
    DataError
        When ``meta`` does not have one value per ballot.

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> responses_from_answers(s, [{"building": 3}, {}])["building"].tolist()
    [3, <NA>]
    """
    n = len(answers)
    data: dict[str, Any] = {}
    meta_frame = pd.DataFrame(meta) if meta is not None else pd.DataFrame(index=range(n))
    if len(meta_frame) != n:
        raise DataError(f"`meta` has {len(meta_frame)} rows for {n} ballots; give one per ballot.")
    for name in META_COLUMNS:
        if name in meta_frame.columns:
            values = meta_frame[name].reset_index(drop=True)
            if name in ("started_at", "submitted_at"):
                values = pd.to_datetime(values, utc=True)
            data[name] = values.array
        elif name in ("started_at", "submitted_at"):
            data[name] = pd.array([pd.NaT] * n, dtype="datetime64[ns, UTC]")
        elif name == "status":
            data[name] = pd.array(["valid"] * n, dtype=object)
        else:
            data[name] = pd.array([None] * n, dtype=object)
    for variable in survey.variables(subjects=subjects):
        q = variable.question
        raw = [a.get(variable.name) for a in answers]
        if q.type in ("single", "grid"):
            # a value may repeat in a list (allow_choice_duplicates, for choice filters)
            codes = list(dict.fromkeys(survey.scale(q).values))
            if q.or_other:
                codes.append("other")
            if variable.item is not None and variable.item.allow_dont_know:
                codes.append(DONT_KNOW)
            data[variable.name] = pd.Categorical(raw, categories=codes, ordered=True)
        elif q.type == "multiple":
            missing = np.array([not v for v in raw], dtype=bool)
            extra = ("other",) if q.or_other else ()
            for code in dict.fromkeys((*survey.scale(q).values, *extra)):
                flags = np.array([bool(v) and code in v for v in raw], dtype=np.int64)  # type: ignore[operator]
                data[f"{q.id}__{code}"] = pd.arrays.IntegerArray(flags, missing.copy())
        elif q.type == "integer":
            data[variable.name] = pd.array(raw, dtype="Int64")
        elif q.type in ("decimal", "range"):  # a range answer is a number on a scale
            data[variable.name] = pd.array(
                [None if v is None else float(v) for v in raw], dtype="Float64"
            )
        elif q.type == "date":
            data[variable.name] = pd.to_datetime(
                pd.Series(raw, dtype=object), format="%Y-%m-%d", errors="coerce"
            ).array
        else:
            data[variable.name] = pd.array(raw, dtype=object)
    return pd.DataFrame(data)
