"""Import submissions exported as CSV from ODK Central or KoboToolbox.

:func:`read_odk_csv` reads the CSV download of a form made from one of our instruments (for
example with :func:`toolkit.instrument.xlsform.write_xlsform`) into our layout: flat answers
mappings (checkable with :func:`toolkit.instrument.answers.check_answers` and accepted by the store)
and the wide response table the analysis functions take (the layout of ``Store.responses``).

Columns
-------
- ODK Central names columns by their group path joined with ``-`` (``ratings-attitude``,
  ``profile-gender``) and adds ``SubmissionDate``, ``meta-instanceID``, ``KEY``, ``SubmitterID``,
  ``ReviewState``...; KoboToolbox joins with ``/`` (``ratings/attitude``) and adds ``_uuid``,
  ``_submission_time``, ``_id``, ``_validation_status``... Either way a column is matched to a
  variable by its last path segment, so group names do not matter.
- ``select_multiple`` answers are space-separated codes (``slow_response other``); the split
  columns of both servers (``rectify/other`` with 0/1 or True/False) are read when the combined
  column is absent.
- Per-subject grid items appear as ``{subject}__{item}`` when the form lists them so; a form made
  for one subject (bare ``attitude``) is read with ``subject="wuye"``.
- Choice labels (an export "with labels") are mapped back to codes when they are unambiguous.
- ``meta-instanceID`` / ``KEY`` / ``_uuid`` become ``submission_id`` (without ``uuid:``);
  ``start`` → ``started_at``; ``end`` (else ``SubmissionDate`` / ``_submission_time``) →
  ``submitted_at``; ``deviceid`` → ``device``; a rejected review (ODK ``ReviewState`` rejected,
  Kobo ``_validation_status`` not approved) → ``status`` void.
- Server bookkeeping columns are recognised and left out (``SubmitterName`` is the data
  collector's account, not a resident, and is never kept). Any other column is *unknown*:
  reported (``unknown="error"``, the default, raises a :class:`~toolkit.errors.DataError` naming
  each with a did-you-mean), or listed in :attr:`OdkImport.unknown_columns`.

References
----------
ODK, *ODK Central: Submissions, CSV export* (https://docs.getodk.org/central-submissions/).
KoboToolbox, *Exporting and downloading your data* (https://support.kobotoolbox.org/export_download.html).

Examples
--------
>>> import io
>>> from toolkit.instrument.loader import load_survey
>>> survey = load_survey("surveys/evaluation.yaml")
>>> text = ("SubmissionDate,ratings-wuye__overall,rectify-rectify,profile-building,meta-instanceID\\n"
...         "2026-03-01T08:00:00.000Z,satisfied,slow_response other,3,uuid:0b9c...\\n")
>>> result = read_odk_csv(io.StringIO(text), survey)
>>> result.answers[0]
{'wuye__overall': 'satisfied', 'rectify': ['slow_response', 'other'], 'building': 3}
>>> result.frame["rectify__other"].tolist()
[1]
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit._checks import check_option, did_you_mean
from toolkit.errors import DataError, ParameterError
from toolkit.instrument.model import DONT_KNOW, Question, Survey
from toolkit.instrument.wide import responses_from_answers

__all__ = ["ODK_META_COLUMNS", "OdkImport", "read_odk_csv"]

#: Server bookkeeping columns recognised and not kept (ODK Central and KoboToolbox).
ODK_META_COLUMNS: frozenset[str] = frozenset(
    {
        "SubmissionDate",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
        "KEY",
        "instanceID",
        "_id",
        "_uuid",
        "_submission_time",
        "_index",
        "_parent_index",
        "_validation_status",
        "_notes",
        "_status",
        "_submitted_by",
        "__version__",
        "_version_",
        "_tags",
        "_xform_id_string",
        "_attachments",
        "_geolocation",
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "audit",
    }
)
_META_LEAVES = frozenset(
    {"instanceID", "deprecatedID", "rootUuid", "instanceName", "uuid", "audit"}
)
_MAX_LISTED = 25
_TRUE = frozenset({"1", "true", "True", "TRUE", "yes"})
_FALSE = frozenset({"0", "false", "False", "FALSE", "no", ""})
_MISSING = frozenset({"", "n/a", "N/A", "NA"})


@dataclass(frozen=True)
class OdkImport:
    """The submissions of an ODK/Kobo CSV in our layout.

    ``answers`` holds one flat answers mapping per submission; ``frame`` is the wide response
    table (meta columns, then variables, as ``Store.responses``); ``columns`` maps each CSV column
    used to its variable (or ``variable/code`` for split multiple-choice columns);
    ``unknown_columns`` lists the columns matching nothing; ``subjects`` the evaluated subjects
    found.
    """

    frame: pd.DataFrame
    answers: tuple[dict[str, Any], ...]
    columns: dict[str, str]
    unknown_columns: tuple[str, ...]
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class _Target:
    variable: str
    question: Question
    code: str | None = None  # a split select_multiple column


def _strip_uuid(value: str) -> str:
    return value[5:] if value.startswith("uuid:") else value


def _leaf_match(header: str, name: str) -> bool:
    return header == name or header.endswith("/" + name) or header.endswith("-" + name)


def _targets(
    survey: Survey, subjects: Sequence[str], subject: str | None
) -> tuple[dict[str, _Target], dict[str, str]]:
    """Variable/leaf name → target; and a map of per-subject item → grid, for bare items."""
    out: dict[str, _Target] = {}
    per_subject_items: dict[str, str] = {}
    for q in survey.questions:
        if q.type == "note":
            continue
        if q.type == "grid":
            for item in q.items:
                if q.per_subject:
                    per_subject_items[item.id] = q.id
                    for s in subjects:
                        out[f"{s}__{item.id}"] = _Target(f"{s}__{item.id}", q)
                    if subject is not None:
                        out[item.id] = _Target(f"{subject}__{item.id}", q)
                else:
                    out[item.id] = _Target(item.id, q)
        else:
            out[q.id] = _Target(q.id, q)
            if q.type == "multiple":
                for code in survey.scale(q).values:
                    out[f"{q.id}/{code}"] = _Target(q.id, q, code)
                    out[f"{q.id}-{code}"] = _Target(q.id, q, code)
    return out, per_subject_items


def _match(header: str, targets: dict[str, _Target]) -> _Target | None:
    """The target whose name is the longest suffix of the header's path."""
    best: tuple[int, _Target] | None = None
    for name, target in targets.items():
        if _leaf_match(header, name) and (best is None or len(name) > best[0]):
            best = (len(name), target)
    return None if best is None else best[1]


def _read_text(path: str | Path | io.TextIOBase) -> pd.DataFrame:
    kwargs: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": []}
    if isinstance(path, str | Path):
        return pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    return pd.read_csv(path, **kwargs)


def read_odk_csv(
    path: str | Path | io.TextIOBase,
    survey: Survey,
    *,
    subjects: Sequence[str] = (),
    subject: str | None = None,
    meeting_id: str | None = None,
    unknown: str = "error",
) -> OdkImport:
    """Read submissions exported as CSV from ODK Central or KoboToolbox for an instrument.

    Parameters
    ----------
    path : str, Path or text stream
        The CSV file (UTF-8, with or without a byte-order mark).
    survey : Survey
        The instrument the form was made from.
    subjects : sequence of str
        Evaluated subjects whose ``{subject}__{item}`` columns to expect; default: those found.
    subject : str, optional
        For a form made for one subject, whose per-subject grid items are bare (``attitude``):
        the subject they rate (variables become ``{subject}__{item}``).
    meeting_id : str, optional
        Written to the table's ``meeting_id`` column.
    unknown : {"error", "warn", "ignore"}
        What to do with columns that match no variable: raise a DataError naming them (default),
        warn, or only list them in the result.

    Returns
    -------
    OdkImport
        ``answers`` (flat answers mappings, multiple choice as lists, integers as int), ``frame``
        (the wide response table), the column map and the unknown columns.

    Raises
    ------
    DataError
        Values that are not valid for their question (a code that is not a choice, text in an
        integer column...), each located by row and column with a did-you-mean; unknown columns
        when ``unknown="error"``; a file without a submission id column.

    References
    ----------
    ODK, *ODK Central: Submissions*; KoboToolbox, *Exporting and downloading your data*.

    Examples
    --------
    >>> import io
    >>> from toolkit.instrument.loader import load_survey
    >>> s = load_survey("surveys/evaluation.yaml")
    >>> csv = "_uuid,_submission_time,ratings/attitude,profile/gender\\nab12,2026-03-01T08:00:00,不满意,女\\n"
    >>> r = read_odk_csv(io.StringIO(csv), s, subject="wuye")
    >>> r.answers[0], r.frame["submission_id"].tolist()
    ({'wuye__attitude': 'dissatisfied', 'gender': 'female'}, ['ab12'])
    """
    check_option("unknown", unknown, ("error", "warn", "ignore"))
    if subject is not None and not re.fullmatch(r"[a-z][a-z0-9_]*", str(subject)):
        raise ParameterError(f"`subject` must be a subject id such as 'wuye'; got {subject!r}.")
    source = str(path) if isinstance(path, str | Path) else "<csv>"
    try:
        table = _read_text(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(
            f"{source}: cannot read the CSV ({exc}). Export it again as CSV (UTF-8)."
        ) from None
    headers = [str(c).strip() for c in table.columns]
    table.columns = headers
    found_subjects: dict[str, None] = dict.fromkeys(subjects)
    if subject is not None:
        found_subjects.setdefault(subject, None)
    _, subject_items = _targets(survey, (), subject)
    # subjects named in the columns
    for header in headers:
        leaf = re.split(r"[/-]", header)[-1]
        s, sep, item = leaf.partition("__")
        if sep and item in subject_items and re.fullmatch(r"[a-z][a-z0-9_]*", s):
            found_subjects.setdefault(s, None)
    targets, _ = _targets(survey, tuple(found_subjects), subject)
    mapping: dict[str, _Target] = {}
    meta: dict[str, str] = {}
    unknown_columns: list[str] = []
    for header in headers:
        leaf = re.split(r"[/-]", header)[-1]
        if header in ODK_META_COLUMNS or header.lstrip("_") in ("id", "uuid"):
            meta.setdefault(header, header)
            continue
        if header.startswith(("meta/", "meta-", "formhub/", "formhub-")) or leaf in _META_LEAVES:
            meta.setdefault(header, header)
            continue
        target = _match(header, targets)
        if target is None:
            unknown_columns.append(header)
        else:
            mapping[header] = target
    if unknown_columns and unknown != "ignore":
        known = list(targets)
        lines = []
        for header in unknown_columns[:_MAX_LISTED]:
            leaf = re.split(r"[/-]", header)[-1]
            hint = did_you_mean(leaf, known)
            if not hint and leaf in subject_items:
                hint = (
                    f" `{leaf}` is an item of a per-subject grid: pass `subject=` (the subject "
                    "this form rated), or name the column `{subject}__" + leaf + "`."
                )
            lines.append(f"  - column `{header}`: matches no question of `{survey.id}`.{hint}")
        message = (
            f"{source}: {len(unknown_columns)} column(s) match no question of instrument "
            f"`{survey.id}` {survey.version!r}:\n" + "\n".join(lines)
        )
        if unknown == "error":
            raise DataError(
                message + "\nCheck that the CSV comes from this instrument's form, or pass "
                "`unknown='warn'` to import the rest."
            )
        warnings.warn(message, stacklevel=2)
    id_column = next(
        (
            c
            for c in ("meta-instanceID", "meta/instanceID", "instanceID", "KEY", "_uuid")
            if c in headers
        ),
        None,
    )
    if id_column is None:
        raise DataError(
            f"{source}: no submission id column (`meta-instanceID`, `KEY` or `_uuid`). Export "
            "the CSV again with the metadata columns."
        )
    scales = {
        q.id: survey.scale(q)
        for q in survey.questions
        if q.type in ("single", "multiple", "grid") and q.choices is not None
    }
    label_maps: dict[str, dict[str, str]] = {}
    for qid, scale in scales.items():
        seen: dict[str, set[str]] = {}
        for choice in scale.choices:
            for text in (choice.label.zh, choice.label.en):
                if text:
                    seen.setdefault(text, set()).add(choice.value)
        for text in (scale.dont_know_label.zh, scale.dont_know_label.en):
            if text:
                seen.setdefault(text, set()).add(DONT_KNOW)
        label_maps[qid] = {t: next(iter(v)) for t, v in seen.items() if len(v) == 1}
    has_combined = {t.variable for t in mapping.values() if t.code is None}
    problems: list[str] = []
    answers: list[dict[str, Any]] = []
    records = table.to_dict("records")
    for number, record in enumerate(records, 2):
        answer: dict[str, Any] = {}
        split: dict[str, list[str]] = {}
        for header, target in mapping.items():
            raw = str(record.get(header, "")).strip()
            where = f"{source}, row {number}, column `{header}`"
            q = target.question
            if target.code is not None:
                if target.variable in has_combined:
                    continue
                if raw in _TRUE:
                    split.setdefault(target.variable, []).append(target.code)
                elif raw not in _FALSE and raw not in _MISSING:
                    problems.append(f"{where}: `{raw}` is not 0/1.")
                else:
                    split.setdefault(target.variable, [])
                continue
            if raw in _MISSING:
                continue
            value, problem = _convert(raw, target, q, scales, label_maps)
            if problem is not None:
                problems.append(f"{where}: {problem}")
            elif value is not None:
                answer[target.variable] = value
        for variable, codes in split.items():
            if codes:
                order = scales[variable].values
                answer[variable] = sorted(codes, key=order.index)
        answers.append(answer)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - _MAX_LISTED} more."
            if len(problems) > _MAX_LISTED
            else ""
        )
        raise DataError(
            f"{source}: {len(problems)} value(s) do not fit instrument `{survey.id}`:\n{listed}{more}"
        )
    meta_frame = _meta(table, headers, id_column, meeting_id)
    frame = responses_from_answers(survey, answers, subjects=tuple(found_subjects), meta=meta_frame)
    return OdkImport(
        frame=frame,
        answers=tuple(answers),
        columns={h: t.variable + (f"/{t.code}" if t.code else "") for h, t in mapping.items()},
        unknown_columns=tuple(unknown_columns),
        subjects=tuple(found_subjects),
    )


def _convert(
    raw: str,
    target: _Target,
    q: Question,
    scales: dict[str, Any],
    label_maps: dict[str, dict[str, str]],
) -> tuple[Any, str | None]:
    if q.type in ("single", "grid"):
        scale = scales[q.id]
        allowed = list(scale.values)
        if q.type == "grid":
            item_id = target.variable.split("__")[-1]
            item = next((it for it in q.items if it.id == item_id), None)
            if item is not None and item.allow_dont_know:
                allowed.append(DONT_KNOW)
        value = raw if raw in allowed else label_maps[q.id].get(raw, raw)
        if value not in allowed:
            hint = did_you_mean(raw, allowed)
            return None, f"`{raw}` is not a choice of list `{scale.id}`.{hint}"
        return value, None
    if q.type == "multiple":
        scale = scales[q.id]
        codes = []
        for part in raw.split():
            code = part if part in scale.values else label_maps[q.id].get(part, part)
            if code not in scale.values:
                hint = did_you_mean(part, scale.values)
                return None, f"`{part}` is not a choice of list `{scale.id}`.{hint}"
            if code not in codes:
                codes.append(code)
        return codes, None
    if q.type == "integer":
        try:
            number = float(raw)
        except ValueError:
            return None, f"`{raw}` is not a whole number."
        if not math.isfinite(number) or not number.is_integer():
            return None, f"`{raw}` is not a whole number."
        return int(number), None
    if q.type == "decimal":
        try:
            number = float(raw)
        except ValueError:
            return None, f"`{raw}` is not a number."
        if not math.isfinite(number):
            return None, f"`{raw}` is not a finite number."
        return number, None
    if q.type == "date":
        day = raw[:10]
        try:
            pd.Timestamp(day)
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", day):
                raise ValueError
        except ValueError:
            return None, f"`{raw}` is not a date (YYYY-MM-DD)."
        return day, None
    return raw, None


def _meta(
    table: pd.DataFrame, headers: list[str], id_column: str, meeting_id: str | None
) -> pd.DataFrame:
    n = len(table)

    def column(*names: str) -> pd.Series | None:
        for name in names:
            if name in headers:
                return table[name].replace({"": None})
        return None

    ids = table[id_column].map(lambda v: _strip_uuid(str(v).strip()))
    submitted = column("end", "SubmissionDate", "_submission_time")
    started = column("start")
    device = column("deviceid", "DeviceID")
    status = pd.Series(["valid"] * n, dtype=object)
    review = column("ReviewState")
    if review is not None:
        status[review.fillna("").str.lower().eq("rejected").to_numpy()] = "void"
    validation = column("_validation_status")
    if validation is not None:
        status[validation.fillna("").str.contains("not_approved").to_numpy()] = "void"

    def times(series: pd.Series | None) -> Any:
        if series is None:
            return [None] * n
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")

    return pd.DataFrame(
        {
            "submission_id": ids.to_numpy(dtype=object),
            "meeting_id": [meeting_id] * n,
            "device": [None] * n if device is None else device.to_numpy(dtype=object),
            "started_at": times(started),
            "submitted_at": times(submitted),
            "status": status.to_numpy(dtype=object),
        }
    )
