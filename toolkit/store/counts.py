"""Rating counts aggregated by the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit._checks import did_you_mean
from toolkit.errors import (
    ParameterError,
    StoreError,
)
from toolkit.instrument.model import Variable
from toolkit.store import schema as t
from toolkit.store.reads import _levels
from toolkit.store.records import (
    InstrumentRef,
)

if TYPE_CHECKING:  # pandas and numpy load on the first table read: a tablet kernel never needs them
    import pandas as pd
__all__ = ["RatingCountsMixin"]

from toolkit.store.reads import ReadsMixin

_COUNT_BLOCK = 4  # rating_counts: items counted per scan (combinations grow as 5 ** items)


class RatingCountsMixin(ReadsMixin):
    """Rating counts of :class:`~toolkit.store.Store`."""

    def rating_counts(
        self,
        meeting: str | Sequence[str] | None = None,
        *,
        by: str | Sequence[str] = ("street",),
        items: Sequence[str] | None = None,
        subjects: Sequence[str] | None = None,
        include_void: bool = False,
        instrument: str | InstrumentRef | tuple[str, str] | None = None,
    ) -> pd.DataFrame:
        """Answer counts of the rating grids, aggregated by the database: one row per group x
        subject x item x value, with the number of ballots.

        What :func:`toolkit.analysis.satisfaction_rates_from_counts` turns into rates, with the same
        result as :meth:`responses` and :func:`toolkit.analysis.satisfaction_rates`, without
        reading a row per ballot: a city of a million ballots gives a few thousand rows. Each
        ballot's answers are extracted once by the database (``->>`` on PostgreSQL,
        ``json_extract`` on SQLite) and counted by group and answer combination, a few items per
        scan; the combinations are then summed item by item.

        Parameters
        ----------
        meeting : str or sequence of str, optional
            Restrict to these meetings; default every meeting of the instrument.
        by : str or sequence of str
            Grouping columns: meeting columns (``meeting_id``, ``community``, ``street``,
            ``district``, ``kind``, ``date``), ballot columns (``status``, ``mode``, ``device``)
            or single-choice questions of the instrument (e.g. the rater's ``role``, as an ordered
            Categorical of its codes, as in :meth:`responses`). ``()`` for no groups.
        items : sequence of str, optional
            Grid item ids (``"overall"``); default every item of every grid.
        subjects : sequence of str, optional
            Evaluated subjects; default every subject of the selected meetings, plus the grids that
            are not per subject (only when ``subjects`` is not given).
        include_void : bool
            Count void ballots too.
        instrument : str, InstrumentRef or (id, version), optional
            As in :meth:`responses`.

        Returns
        -------
        DataFrame
            The ``by`` columns, then ``subject`` (missing for grids not per subject),
            ``question``, ``item``, ``variable`` (the column name in :meth:`responses`, e.g.
            ``wuye__overall``), ``value`` (the stored code; missing for ballots that left the
            item blank, or whose meeting did not evaluate the subject) and ``count`` (int64).
            Every ballot of a group is counted once under every item, so each item's counts add
            up to the group's ballots. ``value`` is an ordered Categorical of the scale
            (``dont_know`` last) when the grids share one scale and every stored value is one of
            its codes, else text. Rows are sorted by group, then item (instrument order), then
            value (scale order, blank last). Zero counts are left out.

        Examples
        --------
        >>> from toolkit.demo import demo_store
        >>> store = demo_store()
        >>> counts = store.rating_counts(by="street", items=["overall"], instrument="evaluation")
        >>> list(counts.columns)
        ['street', 'subject', 'question', 'item', 'variable', 'value', 'count']
        >>> from toolkit.analysis import satisfaction_rates, satisfaction_rates_from_counts
        >>> rates = satisfaction_rates_from_counts(counts, items="wuye__overall", by="street")
        >>> rates.equals(satisfaction_rates(store.responses(instrument="evaluation"),
        ...                                 items="wuye__overall", by="street"))
        True
        >>> store.close()
        """
        import numpy as np
        import pandas as pd

        chosen, survey, key = self._selection(meeting, instrument)
        s, m = t.submissions, t.meetings
        by_list = [by] if isinstance(by, str) else list(by)
        if len(set(by_list)) != len(by_list):
            raise ParameterError(f"`by` names a column twice: {by_list!r}.")
        meeting_columns = ("meeting_id", "community", "street", "district", "kind", "date")
        ballot_columns = ("status", "mode", "device")
        questions = (
            {}
            if survey is None
            else {q.id: q for q in survey.questions if q.type == "single" and not q.per_subject}
        )
        known_by = [*meeting_columns, *ballot_columns, *questions]
        for name in by_list:
            if name not in known_by:
                raise ParameterError(
                    f"`by` must name meeting columns ({', '.join(meeting_columns)}), ballot "
                    f"columns ({', '.join(ballot_columns)}) or single-choice questions of the "
                    f"instrument ({', '.join(questions) or 'none'}); got {name!r}."
                    f"{did_you_mean(name, known_by)}"
                )
        all_subjects = list(dict.fromkeys(sid for mt in chosen for sid in mt.subject_ids))
        if subjects is None:
            subject_list = all_subjects
        else:
            subject_list = [subjects] if isinstance(subjects, str) else list(subjects)
            unknown = [x for x in subject_list if x not in all_subjects]
            if unknown:
                raise ParameterError(
                    f"`subjects` must be subjects of the selected meetings "
                    f"({', '.join(all_subjects) or 'none'}); got {', '.join(unknown)}."
                    f"{did_you_mean(unknown[0], all_subjects)}"
                )
        grid_vars: list[Variable] = []
        if survey is not None:
            grid_vars = [
                v
                for v in survey.variables(subjects=subject_list)
                if v.question.type == "grid" and (subjects is None or v.subject is not None)
            ]
            grid_items = list(dict.fromkeys(v.item.id for v in grid_vars if v.item is not None))
            if items is not None:
                item_list = [items] if isinstance(items, str) else list(items)
                unknown = [x for x in item_list if x not in grid_items]
                if unknown:
                    raise ParameterError(
                        f"`items` must be grid items of `{survey.id}` ({', '.join(grid_items)}); "
                        f"got {', '.join(unknown)}.{did_you_mean(unknown[0], grid_items)}"
                    )
                grid_vars = [v for v in grid_vars if v.item is not None and v.item.id in item_list]
        columns = [*by_list, "subject", "question", "item", "variable", "value", "count"]
        by_exprs: list[Any] = []
        for name in by_list:
            if name in meeting_columns:
                by_exprs.append(m.c[name].label(name))
            elif name in ballot_columns:
                by_exprs.append(s.c[name].label(name))
            else:
                by_exprs.append(s.c.answers[name].as_string().label(name))
        parts: list[pd.DataFrame] = []
        if key is not None and chosen and grid_vars:
            where = [s.c.instrument_id == key[0], s.c.instrument_version == key[1]]
            if meeting is not None:
                where.append(s.c.meeting_id.in_([mt.meeting_id for mt in chosen]))
            if not include_void:
                where.append(s.c.status == "valid")
            joined = any(name in meeting_columns for name in by_list)
            source = s.join(m, m.c.meeting_id == s.c.meeting_id) if joined else s
            try:
                with self._engine.connect() as connection, connection.begin():
                    if not self._sqlite:  # room for the hash aggregate
                        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
                    for start in range(0, len(grid_vars), _COUNT_BLOCK):
                        block = grid_vars[start : start + _COUNT_BLOCK]
                        if self._sqlite:
                            frm = source
                            values = [
                                s.c.answers[v.name].as_string().label(f"v{k}")
                                for k, v in enumerate(block)
                            ]
                        else:  # one jsonb_to_record per ballot: its JSONB is read once
                            record = (
                                sa.func.jsonb_to_record(s.c.answers)
                                .table_valued(*(sa.column(v.name, sa.Text) for v in block))
                                .render_derived(name="answer", with_types=True)
                            )
                            frm = source.join(record, sa.true())
                            values = [record.c[v.name].label(f"v{k}") for k, v in enumerate(block)]
                        query = (
                            sa.select(*by_exprs, *values, sa.func.count().label("n"))
                            .select_from(frm)
                            .where(*where)
                            .group_by(*by_exprs, *values)
                        )
                        names = [*by_list, *(f"v{k}" for k in range(len(block))), "n"]
                        rows = connection.execute(query).all()
                        # column by column: much faster than a frame from row objects
                        combos = pd.DataFrame(
                            {
                                name: pd.Series(values, dtype="int64" if name == "n" else object)
                                for name, values in zip(
                                    names,
                                    zip(*rows, strict=True) if rows else [()] * len(names),
                                    strict=True,
                                )
                            }
                        )
                        for k in range(len(block)):
                            part = (
                                combos.groupby([*by_list, f"v{k}"], dropna=False, sort=False)["n"]
                                .sum()
                                .reset_index()
                                .rename(columns={f"v{k}": "value", "n": "count"})
                            )
                            part["order"] = start + k
                            parts.append(part)
            except sa.exc.OperationalError as error:
                raise StoreError(f"cannot count ratings in {self.url}: {error.orig}.") from error
        if not parts:
            empty = {c: pd.Series([], dtype="int64" if c == "count" else object) for c in columns}
            return pd.DataFrame(empty)
        frame = pd.concat(parts, ignore_index=True)
        order = frame["order"].to_numpy()
        frame["subject"] = np.array([v.subject for v in grid_vars], dtype=object)[order]
        frame["question"] = np.array([v.question.id for v in grid_vars], dtype=object)[order]
        frame["item"] = np.array(
            [v.item.id if v.item else v.name for v in grid_vars], dtype=object
        )[order]
        frame["variable"] = np.array([v.name for v in grid_vars], dtype=object)[order]
        frame["count"] = frame["count"].astype("int64")
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
        assert survey is not None
        for name in by_list:
            if name in questions:  # as responses() shows it: unknown codes are missing
                codes = list(survey.scale(questions[name]).values)
                frame[name] = pd.Categorical(frame[name], categories=codes, ordered=True)
        scales = {v.question.choices for v in grid_vars}
        levels = max((_levels(survey, v, "codes")[0] for v in grid_vars), key=len)
        present = set(frame["value"].dropna())
        if len(scales) == 1 and present <= set(levels):
            frame["value"] = pd.Categorical(frame["value"], categories=levels, ordered=True)
            rank = frame["value"].cat.codes.to_numpy().astype(np.int64)
            rank[rank < 0] = len(levels)
        else:
            rank = frame["value"].isna().to_numpy().astype(np.int64)
        frame["rank"] = rank
        if by_list:  # regroup: a by value may come from several SQL groups (unknown codes)
            frame = (
                frame.groupby(
                    [*by_list, "order", "rank", "subject", "question", "item", "variable", "value"],
                    dropna=False,
                    observed=True,
                    sort=False,
                )["count"]
                .sum()
                .reset_index()
            )
        frame = frame.sort_values(
            [*by_list, "order", "rank"], na_position="last", kind="stable"
        ).reset_index(drop=True)
        return frame[columns]
