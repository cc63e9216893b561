"""A ballot's repeat rows, written inside the ballot's transaction (see :mod:`toolkit.store.repeats`).

Kept apart from the :class:`~toolkit.store.repeats.RepeatsMixin` so that the ballot writer imports
no part of the store's core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.instrument.model import Survey
from toolkit.store import schema as t

__all__ = ["repeat_row_values", "store_repeat_rows"]


def repeat_row_values(survey: Survey, uuid: str, answers: Mapping[str, Any]) -> list[dict]:
    """The ``repeat_rows`` of one ballot (checked answers): empty values are not stored."""
    rows: list[dict] = []
    for repeat, questions in survey.repeat_questions().items():
        order = [q.id for q in questions if q.type != "note"]
        for number, instance in enumerate(answers.get(repeat) or (), start=1):
            for variable in order:
                value = instance.get(variable)
                if value is None or value == "" or value == []:
                    continue
                rows.append(
                    {
                        "submission_id": uuid,
                        "repeat": repeat,
                        "instance": number,
                        "variable": variable,
                        "value": value,
                    }
                )
    return rows


def store_repeat_rows(
    connection: Connection, uuid: str, survey: Survey, answers: Mapping[str, Any]
) -> None:
    """Insert one ballot's repeat rows inside the ballot's own transaction (not committed)."""
    rows = repeat_row_values(survey, uuid, answers)
    if rows:
        connection.execute(sa.insert(t.repeat_rows), rows)
