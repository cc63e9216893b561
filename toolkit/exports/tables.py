"""The tables every export is made from: the wide response table, its long form, the rater
profile and paradata tables, and what each column means (:class:`Column`).

The wide table has the layout of :meth:`toolkit.store.store.Store.responses`: meta columns
(:data:`META_COLUMNS`), then one column per variable (ordered categoricals for single choices and
grid items, ``{question}__{code}`` 0/1 indicators for multiple choice, ``Int64``, ``Float64``,
dates and text). :func:`responses_from_answers` builds the same table from flat answers mappings
(an import, a test), without a store.

Examples
--------
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> wide = responses_from_answers(
...     survey, [{"wuye__overall": "satisfied", "rectify": ["other"], "rectify_other": "电梯"}],
...     subjects=("wuye",))
>>> [str(v) for v in wide[["wuye__overall", "rectify__other", "rectify__safety_issue"]].iloc[0]]
['satisfied', '1', '0']
>>> long_table(wide, survey)[["variable", "value"]].values.tolist()
[['wuye__overall', 'satisfied'], ['rectify', 'other'], ['rectify_other', '电梯']]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option
from toolkit.errors import DataError, ParameterError
from toolkit.instrument.model import DONT_KNOW, Survey, Text, Variable
from toolkit.instrument.wide import META_COLUMNS, responses_from_answers
from toolkit.labels import INDICATOR, META_COLUMN_LABELS

if TYPE_CHECKING:
    from toolkit.store.store import Store

__all__ = [
    "DONT_KNOW_NUMBER",
    "META_COLUMNS",
    "PARADATA_COLUMNS",
    "Column",
    "describe_columns",
    "load_responses",
    "long_table",
    "responses_from_answers",
    "safe_names",
    "split_tables",
    "with_labels",
]

#: The columns of the paradata table (plus any keys of the stored paradata, flattened).
PARADATA_COLUMNS: tuple[str, ...] = (
    "submission_id",
    "meeting_id",
    "device",
    "started_at",
    "submitted_at",
    "duration_seconds",
)
#: The number a don't-know (不了解) answer gets in SPSS and Stata files (a declared missing code).
DONT_KNOW_NUMBER = 98

_META_LABELS: Mapping[str, Text] = {
    k: Text(v["zh"], v["en"]) for k, v in META_COLUMN_LABELS.items()
}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_NAME = 32


@dataclass(frozen=True)
class Column:
    """What one exported column means: its variable, labels and allowed values.

    ``kind`` is ``meta``, ``single``, ``grid``, ``indicator`` (one choice of a multiple-choice
    question), ``integer``, ``decimal``, ``text``, ``date`` or ``time``. ``codes``/``labels`` are
    the allowed values (with ``dont_know`` last when offered) for categorical kinds.
    """

    name: str
    kind: str
    label: Text
    question: str | None = None
    item: str | None = None
    subject: str | None = None
    choice: str | None = None
    codes: tuple[str, ...] = ()
    labels: tuple[Text, ...] = ()
    dont_know: bool = False
    relevant: str | None = None
    required: bool = False
    constraint: str | None = None
    ordered: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def numbers(self) -> dict[str, int]:
        """The numeric code of each value in SPSS/Stata files: 1, 2, ... in scale order, and
        :data:`DONT_KNOW_NUMBER` for 不了解."""
        out = {code: i for i, code in enumerate(self.codes, 1) if code != DONT_KNOW}
        if self.dont_know:
            out[DONT_KNOW] = DONT_KNOW_NUMBER
        return out


def _subject_text(subject: str, labels: Mapping[str, Text] | None) -> Text:
    if labels and subject in labels:
        return labels[subject]
    return Text(subject, subject)


def _join(a: Text, b: Text) -> Text:
    en = f"{a.en or a.zh}: {b.en or b.zh}" if (a.en or b.en) else None
    return Text(f"{a.zh}：{b.zh}", en)


def _relevance(survey: Survey, variable: Variable) -> str | None:
    page = survey.page_of(variable.question.id)
    parts = [e for e in (page.relevant, variable.question.relevant) if e]
    if not parts:
        return None
    return " and ".join(f"({p})" if len(parts) > 1 else p for p in parts)


def describe_columns(
    survey: Survey,
    columns: Iterable[str] | None = None,
    *,
    subjects: Sequence[str] = (),
    subject_labels: Mapping[str, Text] | None = None,
) -> list[Column]:
    """Describe the columns of a wide response table (or every column the instrument can have).

    Parameters
    ----------
    survey : Survey
        The instrument.
    columns : iterable of str, optional
        The table's columns; default the meta columns and every variable for ``subjects``.
    subjects : sequence of str
        Subjects of per-subject grids (default: guessed from ``columns``).
    subject_labels : mapping, optional
        Subject id → :class:`~toolkit.instrument.model.Text` (e.g. 物业公司), for labels.

    Returns
    -------
    list of Column
        In the order of ``columns``; columns the instrument does not know are described as
        ``text`` with their own name as label.

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> cols = describe_columns(load_survey("surveys/evaluation.yaml"), ["wuye__overall"])
    >>> cols[0].kind, cols[0].label.zh, cols[0].codes
    ('grid', 'wuye：总体评价', ('satisfied', 'basically_satisfied', 'dissatisfied'))
    """
    if columns is not None:
        columns = list(columns)
        if not subjects:
            subjects = _guess_subjects(survey, columns)
    known: dict[str, Column] = {}
    for name in (*META_COLUMNS, "duration_seconds"):
        kind = "time" if name in ("started_at", "submitted_at") else "meta"
        if name == "duration_seconds":
            kind = "decimal"
        known[name] = Column(name, kind, _META_LABELS[name])
    for variable in survey.variables(subjects=subjects):
        q = variable.question
        base = dict(
            question=q.id,
            item=variable.item.id if variable.item else None,
            subject=variable.subject,
            relevant=_relevance(survey, variable),
            required=bool(
                q.required
                if variable.item is None or variable.item.required is None
                else variable.item.required
            ),
            constraint=q.constraint,
        )
        label = variable.label
        if variable.subject is not None:
            label = _join(_subject_text(variable.subject, subject_labels), label)
        if q.type in ("single", "grid"):
            scale = survey.scale(q)
            codes = list(scale.values)
            labels = [c.label for c in scale.choices]
            dk = bool(variable.item is not None and variable.item.allow_dont_know)
            if dk:
                codes.append(DONT_KNOW)
                labels.append(scale.dont_know_label)
            known[variable.name] = Column(
                variable.name,
                q.type,
                label,
                codes=tuple(codes),
                labels=tuple(labels),
                dont_know=dk,
                ordered=scale.ordered,
                **base,  # type: ignore[arg-type]
            )
        elif q.type == "multiple":
            scale = survey.scale(q)
            for choice in scale.choices:
                name = f"{q.id}__{choice.value}"
                known[name] = Column(
                    name,
                    "indicator",
                    _join(q.label, choice.label),
                    choice=choice.value,
                    codes=("0", "1"),
                    labels=tuple(Text(INDICATOR[c]["zh"], INDICATOR[c]["en"]) for c in ("0", "1")),
                    **base,  # type: ignore[arg-type]
                )
        else:
            known[variable.name] = Column(variable.name, q.type, label, **base)  # type: ignore[arg-type]
    if columns is None:
        return list(known.values())
    return [known.get(c, Column(c, "text", Text(c, c))) for c in columns]


def _guess_subjects(survey: Survey, columns: Sequence[str]) -> tuple[str, ...]:
    items = {
        it.id for q in survey.questions if q.type == "grid" and q.per_subject for it in q.items
    }
    found: dict[str, None] = {}
    for name in columns:
        subject, sep, item = str(name).partition("__")
        if sep and item in items and subject:
            found.setdefault(subject, None)
    return tuple(found)


def safe_names(names: Iterable[str], *, max_length: int = _MAX_NAME) -> dict[str, str]:
    """Variable names valid in Stata, SPSS and R: ``[A-Za-z_][A-Za-z0-9_]*``, at most 32 long.

    Valid names are kept; others have invalid characters replaced by ``_``, a leading digit
    prefixed with ``v``, and are cut to ``max_length``; clashes get ``_2``, ``_3``...

    Parameters
    ----------
    names : iterable of str
    max_length : int
        32 for Stata (SPSS allows 64).

    Returns
    -------
    dict
        Original name → safe name, in order.

    Examples
    --------
    >>> safe_names(["age_band__80+", "wuye__attitude", "x" * 40])["age_band__80+"]
    'age_band__80_'
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    originals = list(names)
    valid = {n for n in originals if _NAME_RE.match(n) and len(n) <= max_length}
    used |= valid
    for name in originals:
        if name in valid:
            out[name] = name
            continue
        safe = re.sub(r"[^A-Za-z0-9_]", "_", name) or "v"
        if not re.match(r"[A-Za-z_]", safe):
            safe = "v" + safe
        safe = safe[:max_length]
        candidate, n = safe, 2
        while candidate in used:
            suffix = f"_{n}"
            candidate, n = safe[: max_length - len(suffix)] + suffix, n + 1
        used.add(candidate)
        out[name] = candidate
    return out


# ------------------------------------------------------------------------------------------------
# Building tables
# ------------------------------------------------------------------------------------------------


def load_responses(
    store: Store,
    meeting: str | Sequence[str] | None = None,
    *,
    instrument: str | tuple[str, str] | None = None,
    include_void: bool = False,
) -> tuple[pd.DataFrame, Survey, dict[str, Text]]:
    """The wide response table of a store, its instrument and the subjects' labels.

    Reads only ``Store.responses`` and meeting records: never participants or names.

    Parameters
    ----------
    store : Store
    meeting : str or sequence of str, optional
        Meetings to export; default every meeting of the instrument.
    instrument : str or (id, version), optional
        Needed when the meetings use several instruments.
    include_void : bool
        Include void ballots (the ``status`` column says which).

    Returns
    -------
    (DataFrame, Survey, dict)
        The table (codes), the instrument version, subject id → label.
    """
    frame = store.responses(meeting, instrument=instrument, include_void=include_void)
    meetings = store.meetings()
    if meeting is not None:
        ids = [meeting] if isinstance(meeting, str) else list(meeting)
        meetings = meetings[meetings["meeting_id"].isin(ids)]
    if instrument is not None:
        if isinstance(instrument, tuple):
            key = (str(instrument[0]), str(instrument[1]))
        else:
            key = (instrument, store.instrument(instrument).version)
    else:
        pairs = list(
            dict.fromkeys(
                zip(meetings["instrument_id"], meetings["instrument_version"], strict=True)
            )
        )
        if not pairs:
            raise DataError("the store has no meetings to export.")
        if len(pairs) > 1:
            raise ParameterError(
                "the selected meetings use several instruments; pass `instrument=` or `meeting=`."
            )
        key = (str(pairs[0][0]), str(pairs[0][1]))
    survey = store.instrument(*key)
    labels: dict[str, Text] = {}
    for mid in meetings["meeting_id"]:
        if instrument is not None:
            row = meetings[meetings["meeting_id"] == mid].iloc[0]
            if (row["instrument_id"], row["instrument_version"]) != key:
                continue
        for subject in store.meeting(str(mid)).subjects:
            labels.setdefault(subject.id, Text(subject.label_zh, subject.label_en))
    return frame, survey, labels


def with_labels(
    frame: pd.DataFrame,
    survey: Survey,
    *,
    language: str = "zh",
) -> pd.DataFrame:
    """The table with choice labels (in ``language``) in place of codes.

    Categorical columns get their labels as categories (order kept); indicators stay 0/1.

    Parameters
    ----------
    frame : DataFrame
        A wide response table of codes.
    survey : Survey
    language : {"zh", "en"}

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> wide = responses_from_answers(s, [{"gender": "female"}])
    >>> with_labels(wide, s, language="en")["gender"].tolist()
    ['Female']
    """
    check_option("language", language, ("zh", "en"))
    out = frame.copy()
    for column in describe_columns(survey, frame.columns):
        if column.kind not in ("single", "grid"):
            continue
        series = frame[column.name]
        if not isinstance(series.dtype, pd.CategoricalDtype):
            continue
        by_code = dict(zip(column.codes, column.labels, strict=True))
        shown = [by_code[c].get(language) if c in by_code else c for c in series.cat.categories]
        if len(set(shown)) == len(shown):
            out[column.name] = series.cat.rename_categories(shown)
    return out


def long_table(
    frame: pd.DataFrame,
    survey: Survey,
    *,
    language: str | None = None,
) -> pd.DataFrame:
    """One row per answer: ``submission_id, meeting_id, variable, question, subject, item,
    value`` (and ``label`` in ``language`` when given); ``value`` is text (numbers as written).

    Multiple choice gives one row per chosen code (``variable`` is the question id); unanswered
    variables give no row; grid items of per-subject grids carry their ``subject``.

    Parameters
    ----------
    frame : DataFrame
        A wide response table of codes.
    survey : Survey
    language : {"zh", "en"}, optional
        Add a ``label`` column with the choice label (text answers repeat the value).

    Returns
    -------
    DataFrame
        Sorted by ballot, then instrument order.
    """
    if language is not None:
        check_option("language", language, ("zh", "en"))
    columns = describe_columns(survey, frame.columns)
    n = len(frame)
    parts: list[pd.DataFrame] = []
    order = 0
    for column in columns:
        if column.kind in ("meta", "time"):
            continue
        series = frame[column.name]
        if column.kind == "indicator":
            chosen = (series.fillna(0).astype("int64") == 1).to_numpy()
            values = np.full(n, column.choice, dtype=object)
            variable = column.question
        else:
            chosen = series.notna().to_numpy()
            if column.kind == "date":
                values = pd.to_datetime(series).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
            else:
                values = np.array(
                    [v if isinstance(v, str) else str(v) for v in series.astype(object)],
                    dtype=object,
                )
            variable = column.name
        if not chosen.any():
            order += 1
            continue
        rows = np.flatnonzero(chosen)
        part = pd.DataFrame(
            {
                "row": rows,
                "order": order,
                "submission_id": frame["submission_id"].to_numpy(dtype=object)[rows]
                if "submission_id" in frame
                else None,
                "meeting_id": frame["meeting_id"].to_numpy(dtype=object)[rows]
                if "meeting_id" in frame
                else None,
                "variable": variable,
                "question": column.question,
                "subject": column.subject,
                "item": column.item,
                "value": values[rows],
            }
        )
        if language is not None:
            if column.kind == "indicator":
                scale = survey.scale(survey.question(str(column.question)))
                label = scale.choice(str(column.choice)).label.get(language)
                part["label"] = label
            elif column.codes:
                by_code = {
                    c: t.get(language) for c, t in zip(column.codes, column.labels, strict=True)
                }
                part["label"] = [by_code.get(str(v), v) for v in values[rows]]
            else:
                part["label"] = values[rows]
        parts.append(part)
        order += 1
    keys = ["submission_id", "meeting_id", "variable", "question", "subject", "item", "value"]
    if language is not None:
        keys.append("label")
    if not parts:
        return pd.DataFrame({k: pd.Series([], dtype=object) for k in keys})
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["row", "order"], kind="stable")
    return out[keys].reset_index(drop=True)


def split_tables(
    frame: pd.DataFrame,
    survey: Survey,
    *,
    separate: Sequence[str] = ("profile", "paradata"),
    profile_pages: Sequence[str] = ("profile",),
    paradata: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Split a wide table into ``responses`` and, as asked, ``profile`` and ``paradata`` tables.

    Parameters
    ----------
    frame : DataFrame
        A wide response table.
    survey : Survey
    separate : sequence of {"profile", "paradata"}
        Which tables to take out; each keeps ``submission_id`` as the key.
    profile_pages : sequence of str
        Pages holding the anonymous rater profile (the evaluation ballot's page ``profile``).
    paradata : DataFrame, optional
        Extra paradata by ``submission_id`` (e.g. seconds per page), joined to the table.

    Returns
    -------
    dict of DataFrame
        ``{"responses": ..., "profile": ..., "paradata": ...}`` (only the tables asked for).

    Examples
    --------
    >>> from toolkit.instrument.loader import load_survey
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> parts = split_tables(responses_from_answers(s, [{"gender": "male"}]), s)
    >>> list(parts), "gender" in parts["responses"], list(parts["profile"])[:2]
    (['responses', 'profile', 'paradata'], False, ['submission_id', 'role'])
    """
    for part in separate:
        check_option("separate", part, ("profile", "paradata"))
    out: dict[str, pd.DataFrame] = {}
    keep = list(frame.columns)
    if "profile" in separate:
        questions = {
            q.id for page in survey.pages if page.id in profile_pages for q in page.questions
        }
        described = describe_columns(survey, frame.columns)
        cols = [c.name for c in described if c.question in questions]
        keep = [c for c in keep if c not in cols]
        out["profile"] = frame[["submission_id", *cols]].copy()
    if "paradata" in separate:
        para = frame[[c for c in PARADATA_COLUMNS if c in frame.columns]].copy()
        if "started_at" in para and "submitted_at" in para:
            seconds = (
                pd.to_datetime(para["submitted_at"], utc=True)
                - pd.to_datetime(para["started_at"], utc=True)
            ).dt.total_seconds()
            para["duration_seconds"] = seconds.astype("Float64")
        if paradata is not None:
            para = para.merge(paradata, on="submission_id", how="left")
        keep = [c for c in keep if c not in ("device", "started_at", "submitted_at")]
        out["paradata"] = para
    out = {"responses": frame[keep].copy(), **out}
    return out


def store_paradata(store: Store, submission_ids: Iterable[str]) -> pd.DataFrame:
    """The stored paradata (form timings) of these ballots, flattened: ``submission_id`` and one
    column per paradata key. Reads the ``submissions`` table only (no names)."""
    import sqlalchemy as sa

    from toolkit.store import schema as t

    ids = list(submission_ids)
    rows: list[dict[str, Any]] = []
    s = t.submissions
    with store.engine.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = sa.select(s.c.submission_id, s.c.paradata).where(s.c.submission_id.in_(chunk))
            for sid, para in connection.execute(query):
                record: dict[str, Any] = {"submission_id": sid}
                if isinstance(para, Mapping):
                    flat = pd.json_normalize(dict(para), sep="__")
                    if len(flat):
                        record.update(
                            {f"paradata__{k}": v for k, v in flat.iloc[0].to_dict().items()}
                        )
                rows.append(record)
    if not rows:
        return pd.DataFrame({"submission_id": pd.Series([], dtype=object)})
    return pd.DataFrame(rows)
