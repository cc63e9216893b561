"""The response tables: the wide table of ballots and the long table of ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import check_range, did_you_mean
from toolkit.errors import (
    ParameterError,
    StoreError,
)
from toolkit.instrument.model import DONT_KNOW, Question, Survey, Variable
from toolkit.labels import check_labels
from toolkit.store import schema as t
from toolkit.store._common import (
    Labels,
    _meeting_ids,
)
from toolkit.store.records import (
    InstrumentRef,
    Subject,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd
__all__ = ["ReadsMixin"]

from toolkit.store.core import StoreBase


@dataclass(frozen=True)
class _Selected:
    """What the response tables need of the selected meetings (see ``Store._selection``): a
    meeting, or with ``meeting_id=None`` every meeting of one instrument and subject list."""

    meeting_id: str | None
    instrument_id: str
    instrument_version: str
    subject_ids: tuple[str, ...]


# --- the response table builder --------------------------------------------------------------------


@dataclass
class _Column:
    """One output column (or, for multiple choice, a group of indicator columns) of responses()."""

    name: str
    kind: str  # meta, time, category, multiple, integer, decimal, text, date
    levels: tuple[str, ...] = ()
    display: tuple[str, ...] = ()
    chunks: list[Any] | None = None

    def __post_init__(self) -> None:
        self.chunks = []

    def add(self, values: Sequence[Any]) -> None:
        import numpy as np
        import pandas as pd

        assert self.chunks is not None
        if self.kind == "category":  # the database sends the category code (-1: missing)
            self.chunks.append(np.fromiter(values, dtype=np.int32, count=len(values)))
        elif self.kind == "multiple":
            text = pd.Series(values, dtype=object)
            missing = text.isna().to_numpy()
            flags = [
                text.str.contains(f'"{code}"', regex=False, na=False).to_numpy(dtype=np.int8)
                for code in self.levels
            ]
            self.chunks.append((missing, flags))
        elif self.kind == "integer":
            self.chunks.append(pd.array(list(values), dtype="Int64"))
        elif self.kind == "decimal":
            self.chunks.append(pd.array(list(values), dtype="Float64"))
        else:
            self.chunks.append(list(values))

    def finish(self) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        chunks = self.chunks or []
        if self.kind == "category":
            codes = np.concatenate(chunks) if chunks else np.array([], dtype=np.int32)
            return {
                self.name: pd.Categorical.from_codes(
                    codes, categories=pd.Index(list(self.display)), ordered=True
                )
            }
        if self.kind == "multiple":
            missing = np.concatenate([c[0] for c in chunks]) if chunks else np.array([], dtype=bool)
            out = {}
            for i, code in enumerate(self.levels):
                flags = (
                    np.concatenate([c[1][i] for c in chunks]) if chunks else np.array([], np.int8)
                )
                out[f"{self.name}__{code}"] = pd.arrays.IntegerArray(
                    flags.astype(np.int64), missing.copy()
                )
            return out
        if self.kind in ("integer", "decimal"):
            dtype = "Int64" if self.kind == "integer" else "Float64"
            if not chunks:
                return {self.name: pd.Series([], dtype=dtype).array}
            return {self.name: pd.concat([pd.Series(c) for c in chunks], ignore_index=True).array}
        values = [v for chunk in chunks for v in chunk]
        if self.kind == "time":
            return {self.name: pd.to_datetime(pd.Series(values, dtype=object), utc=True).array}
        if self.kind == "date":
            return {
                self.name: pd.to_datetime(
                    pd.Series(values, dtype=object), format="%Y-%m-%d", errors="coerce"
                ).array
            }
        # text: SQLite's json_extract gives a stored number (a calculation's 4.0) as a number,
        # PostgreSQL's ->> as text; both are read as the text ODK keeps
        text = [v if v is None or isinstance(v, str) else str(v) for v in values]
        return {self.name: pd.array(text, dtype=object)}


class ReadsMixin(StoreBase):
    """The response tables of :class:`~toolkit.store.Store`."""

    # --- response tables --------------------------------------------------------------------------

    def _selection(
        self,
        meeting: str | Sequence[str] | None,
        instrument: str | InstrumentRef | tuple[str, str] | None,
    ) -> tuple[list[_Selected], Survey | None, tuple[str, str] | None]:
        """The selected meetings (in date order), their instrument and its key.

        Without ``meeting`` every meeting is selected; a city has tens of thousands, so the
        database sends one row per instrument and subject list (in the order of their first
        meeting), not a record per meeting: what the response tables need.
        """
        ids = _meeting_ids(meeting)
        m = t.meetings
        with self._tx(write=False) as connection:
            if ids is not None:
                chosen = [
                    _Selected(r.meeting_id, r.instrument_id, r.instrument_version, r.subject_ids)
                    for r in (self._meeting(connection, mid) for mid in ids)
                ]
            else:
                position = sa.func.row_number().over(order_by=(m.c.date, m.c.meeting_id))
                ordered = sa.select(
                    m.c.instrument_id, m.c.instrument_version, m.c.subjects, position.label("pos")
                ).subquery()
                first = sa.func.min(ordered.c.pos).label("first")
                rows = connection.execute(
                    sa.select(
                        ordered.c.instrument_id, ordered.c.instrument_version, ordered.c.subjects
                    )
                    .group_by(
                        ordered.c.instrument_id, ordered.c.instrument_version, ordered.c.subjects
                    )
                    .order_by(first)
                ).all()
                chosen = [
                    _Selected(
                        None,
                        r.instrument_id,
                        r.instrument_version,
                        tuple(Subject.coerce(x).id for x in r.subjects or ()),
                    )
                    for r in rows
                ]
        key: tuple[str, str] | None
        if instrument is None:
            keys = list(dict.fromkeys((m.instrument_id, m.instrument_version) for m in chosen))
            if len(keys) > 1:
                listed = ", ".join(f"{i} {v!r}" for i, v in keys)
                raise ParameterError(
                    f"the selected meetings use several instruments ({listed}); pass "
                    "`instrument=` (an id for its latest version, or (id, version)) or `meeting=`."
                )
            key = keys[0] if keys else None
        else:
            if isinstance(instrument, InstrumentRef):
                key = (instrument.id, instrument.version)
            elif isinstance(instrument, tuple):
                key = (str(instrument[0]), str(instrument[1]))
            else:
                row = self._instrument_row(str(instrument), None, required=True)
                key = (row.instrument_id, row.version)
            chosen = [m for m in chosen if (m.instrument_id, m.instrument_version) == key]
        survey = None if key is None else self._survey(*key)
        return chosen, survey, key

    def responses(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
        labels: Labels = "codes",
        include_void: bool = False,
        status_column: bool = True,
        chunk_size: int = 50_000,
        channel_column: bool = False,
    ) -> pd.DataFrame:
        """The wide response table: one row per ballot, one column per variable.

        Columns: ``submission_id, meeting_id, community, street, kind, device, started_at,
        submitted_at, status``, then every variable of the instrument in instrument order, per-subject
        grids expanded over the meetings' subjects (in meeting order; a subject a meeting did not
        evaluate is missing for its ballots).

        - single choice and grid items: ordered Categoricals with every level of the scale in scale
          order (most favourable first), unused levels kept; grid items allowing 不了解 get
          ``dont_know`` as an extra last level. ``labels="zh"``/``"en"`` shows labels instead of codes.
        - multiple choice: one 0/1 indicator column per choice, named ``{question}__{code}``
          (nullable Int64: missing when the question was not answered, 0/1 otherwise).
        - integer: nullable ``Int64``; decimal: nullable ``Float64``; date: datetime64; text: object.
        - timestamps are timezone-aware UTC.

        The JSON is expanded by the database (``->>`` on PostgreSQL, ``json_extract`` on SQLite), which
        also sends categorical answers as their level positions (small integers); rows are read in
        chunks of ``chunk_size`` and converted column-wise, so a million ballots need no per-ballot
        Python code and little memory.

        Parameters
        ----------
        meeting : str or sequence of str, optional
            Restrict to these meetings; default every meeting of the instrument.
        instrument : str, InstrumentRef or (id, version), optional
            Needed when the selected meetings use several instruments; an id means its latest version.
        labels : {"codes", "zh", "en"}
        include_void : bool
            Include void ballots (see the ``status`` column).
        status_column : bool
            Keep the ``status`` column.
        chunk_size : int
            Rows fetched per round trip.
        channel_column : bool
            Add ``channel`` after ``status``: how each ballot came in, ``tablet`` (at the meeting),
            ``paper`` (keyed in by staff) or ``online`` (a resident's phone), e.g. for
            ``satisfaction_rates(data, by="channel")``.

        Returns
        -------
        DataFrame
        """
        import pandas as pd

        check_labels(labels)
        check_range("chunk_size", chunk_size, low=1)
        chosen, survey, key = self._selection(meeting, instrument)
        s, m = t.submissions, t.meetings
        columns = [
            _Column("submission_id", "meta"),
            _Column("meeting_id", "meta"),
            _Column("community", "meta"),
            _Column("street", "meta"),
            _Column("kind", "meta"),
            _Column("device", "meta"),
            _Column("started_at", "time"),
            _Column("submitted_at", "time"),
            _Column("status", "meta"),
        ]
        if channel_column:
            columns.append(_Column("channel", "meta"))
        selected: list[Any] = [
            s.c.submission_id,
            s.c.meeting_id,
            m.c.community,
            m.c.street,
            m.c.kind,
            s.c.device,
            s.c.started_at,
            s.c.submitted_at,
            s.c.status,
        ]
        if channel_column:
            selected.append(s.c.mode)
        subjects = list(dict.fromkeys(sid for mt in chosen for sid in mt.subject_ids))
        variables = () if survey is None else survey.variables(subjects=subjects)
        for variable in variables:
            column, expression = _variable_column(survey, variable, labels, s.c.answers)  # type: ignore[arg-type]
            columns.append(column)
            selected.append(expression)
        if key is not None and chosen:
            query = (
                sa.select(*selected)
                .select_from(s.join(m, m.c.meeting_id == s.c.meeting_id))
                .where(s.c.instrument_id == key[0], s.c.instrument_version == key[1])
                .order_by(m.c.date, s.c.meeting_id, s.c.stored_at, s.c.submission_id)
            )
            if meeting is not None:
                query = query.where(s.c.meeting_id.in_([mt.meeting_id for mt in chosen]))
            if not include_void:
                query = query.where(s.c.status == "valid")
            try:
                with self._engine.connect() as connection, connection.begin():
                    result = connection.execution_options(
                        stream_results=True, yield_per=chunk_size
                    ).execute(query)
                    for part in result.partitions():
                        for column, values in zip(columns, zip(*part, strict=True), strict=True):
                            column.add(values)
            except sa.exc.OperationalError as error:
                raise StoreError(f"cannot read responses from {self.url}: {error.orig}.") from error
        data: dict[str, Any] = {}
        for column in columns:
            data.update(column.finish())
        frame = pd.DataFrame(data)
        if not status_column:
            frame = frame.drop(columns="status")
        return frame

    def ratings(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
        questions: Sequence[str] | None = None,
        labels: Labels = "codes",
        include_void: bool = False,
        dropna: bool = True,
    ) -> pd.DataFrame:
        """The rating grids as a long table: one row per ballot × subject × item.

        Columns: ``submission_id, meeting_id, community, subject, question, item, value``. ``subject``
        is the evaluated subject for per-subject grids and missing for other grids; ``value`` is an
        ordered Categorical of the scale (plus ``dont_know`` last when any item allows it) when the
        grids share one scale, else text. Use it for per-subject rates: group by ``subject, item``.

        Parameters
        ----------
        meeting, instrument, labels, include_void
            As in :meth:`responses`.
        questions : sequence of str, optional
            Grid question ids to include; default every grid.
        dropna : bool
            Drop unanswered items (default), keeping 不了解 answers.

        Returns
        -------
        DataFrame
        """
        import numpy as np
        import pandas as pd

        wide = self.responses(
            meeting, instrument=instrument, labels=labels, include_void=include_void
        )
        _chosen, survey, _key = self._selection(meeting, instrument)
        subjects = list(dict.fromkeys(sid for mt in _chosen for sid in mt.subject_ids))
        grid_vars: list[Variable] = []
        if survey is not None:
            grids = [q.id for q in survey.questions if q.type == "grid"]
            if questions is not None:
                unknown = [q for q in questions if q not in grids]
                if unknown:
                    hint = "".join(did_you_mean(q, grids) for q in unknown)
                    raise ParameterError(
                        f"`questions` must name grid questions of `{survey.id}` "
                        f"({', '.join(grids)}); got {', '.join(unknown)}.{hint}"
                    )
                grids = list(questions)
            grid_vars = [v for v in survey.variables(subjects=subjects) if v.question.id in grids]
        out_columns = [
            "submission_id",
            "meeting_id",
            "community",
            "subject",
            "question",
            "item",
            "value",
        ]
        n, k = len(wide), len(grid_vars)
        if k == 0:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in out_columns})
        assert survey is not None
        categories = {tuple(wide[v.name].cat.categories) for v in grid_vars}
        scales = {v.question.choices for v in grid_vars}
        row = np.tile(np.arange(n), k)
        which = np.repeat(np.arange(k), n)
        if len(scales) == 1:
            # one scale: columns differ only by the extra last dont_know level, so codes line up
            widest = max(categories, key=len)
            codes = np.concatenate([wide[v.name].cat.codes.to_numpy() for v in grid_vars])
            present = codes >= 0
            value: Any = pd.Categorical.from_codes(
                np.where(present, codes, -1), categories=pd.Index(list(widest)), ordered=True
            )
        else:
            stacked = np.concatenate([wide[v.name].astype(object).to_numpy() for v in grid_vars])
            present = pd.notna(stacked)
            value = stacked
        keep = present if dropna else np.ones(n * k, dtype=bool)
        order = np.lexsort((which[keep], row[keep]))
        rows, whiches = row[keep][order], which[keep][order]
        subject_of = np.array([v.subject for v in grid_vars], dtype=object)
        question_of = np.array([v.question.id for v in grid_vars], dtype=object)
        item_of = np.array([v.item.id if v.item else v.name for v in grid_vars], dtype=object)
        long = pd.DataFrame(
            {
                "submission_id": wide["submission_id"].to_numpy()[rows],
                "meeting_id": wide["meeting_id"].to_numpy()[rows],
                "community": wide["community"].to_numpy()[rows],
                "subject": subject_of[whiches],
                "question": question_of[whiches],
                "item": item_of[whiches],
                "value": value[keep][order],
            }
        )
        return long


def _levels(
    survey: Survey, variable: Variable, labels: Labels
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    scale = survey.scale(variable.question)
    # a value may repeat in a list that a choice_filter reads (allow_choice_duplicates)
    first = {c.value: c for c in reversed(scale.choices)}
    codes = list(dict.fromkeys(scale.values))
    shown = [first[c].label.get(labels) for c in codes] if labels != "codes" else list(codes)
    if variable.question.or_other:
        codes.append("other")
        shown.append("Other" if labels == "en" else ("其他" if labels != "codes" else "other"))
    if variable.item is not None and variable.item.allow_dont_know:
        codes.append(DONT_KNOW)
        shown.append(scale.dont_know_label.get(labels) if labels != "codes" else DONT_KNOW)
    return tuple(codes), tuple(shown)


def _variable_column(
    survey: Survey, variable: Variable, labels: Labels, answers: Any
) -> tuple[_Column, Any]:
    question: Question = variable.question
    element = answers[variable.name]
    kind = question.type
    if kind in ("single", "grid"):
        codes, shown = _levels(survey, variable, labels)
        if len(set(shown)) != len(shown):
            shown = codes  # duplicate labels cannot be categories; fall back to codes
        # the database maps each code to its position, so only small integers cross the wire
        position = sa.case(
            {code: i for i, code in enumerate(codes)}, value=element.as_string(), else_=-1
        )
        return _Column(variable.name, "category", codes, shown), position
    if kind == "multiple":
        codes = survey.scale(question).values
        return _Column(variable.name, "multiple", codes), element.as_string()
    if kind == "integer":
        return _Column(variable.name, "integer"), element.as_integer()
    if kind in ("decimal", "range"):  # a range answer is a number on a scale
        return _Column(variable.name, "decimal"), element.as_float()
    if kind == "date":
        return _Column(variable.name, "date"), element.as_string()
    return _Column(variable.name, "text"), element.as_string()
