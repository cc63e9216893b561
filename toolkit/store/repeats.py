"""Repeat groups in the store: their answers as child rows of the ballot, and the long table.

A ballot's repeat answers (``answers[repeat] = [{...}, {...}]``, see
:mod:`toolkit.instrument.answers_repeat`) stay in the ballot's JSON, which its hash covers, and are
also written, in the same transaction, to ``repeat_rows``: one row per ballot, repeat, instance
(from 1) and variable. A resend of a stored ballot writes nothing (the ballot's idempotency covers
its rows); a refused ballot writes none.

Examples
--------
>>> from toolkit.instrument.model import Group, Page, Question, Settings, Survey, Text
>>> page = Page("p", Text("页"), (
...     Question("n", "integer", Text("人数")),
...     Question("age", "integer", Text("年龄"), required=True, group="member"),
... ), groups=(Group("member", Text("成员"), repeat=True),))
>>> survey = Survey(Settings("s", "1", Text("示例")), (page,), {})
>>> from toolkit.store.store import Store, Submission
>>> store = Store.open("sqlite://")
>>> _ = store.create_meeting("m1", kind="evaluation", title="评议会", instrument=survey)
>>> ballot = Submission("6f1c0a52-4d0e-4b43-9a43-1a2b3c4d5e6f", "m1",
...                     {"n": 2, "member": [{"age": 34}, {"age": 8}]})
>>> store.submit(ballot).status, store.submit(ballot).status
('stored', 'already_stored')
>>> store.repeat_rows("m1")[["repeat", "instance", "variable", "value"]].values.tolist()
[['member', 1, 'age', 34], ['member', 2, 'age', 8]]
>>> store.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit.instrument.model import Question, Survey
from toolkit.store import schema as t
from toolkit.store.core import StoreBase
from toolkit.store.repeat_rows import repeat_row_values, store_repeat_rows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REPEAT_COLUMNS", "RepeatsMixin", "repeat_row_values", "store_repeat_rows"]

#: the columns of :meth:`RepeatsMixin.repeat_rows`, in order
REPEAT_COLUMNS = (
    "submission_id",
    "meeting_id",
    "repeat",
    "instance",
    "variable",
    "value",
    "label",
)


def _label(survey: Survey, question: Question | None, value: Any, language: str) -> str:
    """The value as a resident reads it: choice labels for choices, else the value as text."""
    if question is not None and question.choices is not None:
        labels = {
            c.value: c.label.get(language) for c in survey.choice_lists[question.choices].choices
        }
        values = value if isinstance(value, list) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in values)
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


class RepeatsMixin(StoreBase):
    """Reading a meeting's repeat rows as the long table."""

    def repeat_rows(
        self, meeting: str, *, language: str = "zh", include_void: bool = False
    ) -> pd.DataFrame:
        """The long table of a meeting's repeat answers: one row per ballot, repeat, instance and
        variable, in ballot (storing) order, then repeat, instance and question order.

        Parameters
        ----------
        meeting : str
            The meeting.
        language : str
            The language of the ``label`` column (choice labels; other values as text).
        include_void : bool
            Include the rows of void ballots.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`REPEAT_COLUMNS`; ``instance`` counts from 1 within each ballot and
            repeat; ``value`` is the stored answer (text, number or list of codes).
        """
        import pandas as pd

        r, s = t.repeat_rows, t.submissions
        query = (
            sa.select(r.c.submission_id, s.c.meeting_id, r.c.repeat, r.c.instance)
            .add_columns(r.c.variable, r.c.value)
            .join(s, s.c.submission_id == r.c.submission_id)
            .where(s.c.meeting_id == meeting)
            .order_by(s.c.stored_at, s.c.submission_id, r.c.repeat, r.c.instance)
        )
        if not include_void:
            query = query.where(s.c.status == "valid")
        with self._tx(write=False) as connection:
            found = self._meeting(connection, meeting)
            rows = connection.execute(query).all()
        survey = self._survey(found.instrument_id, found.instrument_version)
        repeats = survey.repeat_questions()
        rank = {rid: i for i, rid in enumerate(repeats)}
        questions = {(rid, q.id): (j, q) for rid, qs in repeats.items() for j, q in enumerate(qs)}
        # ballots in storing order, then repeat and question in form order
        ballot_rank: dict[str, int] = {}
        for row in rows:
            ballot_rank.setdefault(row.submission_id, len(ballot_rank))
        ordered = sorted(
            rows,
            key=lambda row: (
                ballot_rank[row.submission_id],
                rank.get(row.repeat, len(rank)),
                row.instance,
                questions.get((row.repeat, row.variable), (len(questions), None))[0],
            ),
        )
        records = [
            (
                row.submission_id,
                row.meeting_id,
                row.repeat,
                int(row.instance),
                row.variable,
                row.value,
                _label(
                    survey,
                    questions.get((row.repeat, row.variable), (0, None))[1],
                    row.value,
                    language,
                ),
            )
            for row in ordered
        ]
        frame = pd.DataFrame.from_records(records, columns=list(REPEAT_COLUMNS))
        frame["instance"] = frame["instance"].astype("Int64")
        return frame
