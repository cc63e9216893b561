"""toolkit.instrument.wide: the wide response table from answers mappings (also exports.tables')."""

from __future__ import annotations

import pytest

from toolkit.errors import DataError
from toolkit.exports import tables
from toolkit.instrument import wide
from toolkit.instrument.loader import load_survey


def test_exports_tables_offers_the_same_function_and_columns() -> None:
    assert tables.responses_from_answers is wide.responses_from_answers
    assert tables.META_COLUMNS is wide.META_COLUMNS


def test_meta_then_variables_with_defaults() -> None:
    survey = load_survey("surveys/evaluation.yaml")
    frame = wide.responses_from_answers(
        survey, [{"building": 3, "rectify": ["other"]}, {}], meta={"meeting_id": ["m", "m"]}
    )
    assert list(frame.columns[: len(wide.META_COLUMNS)]) == list(wide.META_COLUMNS)
    assert frame["status"].tolist() == ["valid", "valid"]
    assert frame["building"].tolist()[0] == 3 and frame["building"].isna().tolist()[1]
    assert frame["rectify__other"].tolist()[0] == 1


def test_meta_of_the_wrong_length_is_refused() -> None:
    survey = load_survey("surveys/evaluation.yaml")
    with pytest.raises(DataError):
        wide.responses_from_answers(survey, [{}], meta={"meeting_id": ["a", "b"]})
