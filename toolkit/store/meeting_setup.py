"""Preparing a real meeting: check the instrument, subjects, roster and options together, then
create the meeting, its participants and invitations in one transaction.

:func:`plan_meeting` collects **every** problem (each with its file, sheet, row, column or option)
and raises one :class:`~toolkit.errors.MeetingSetupError`; nothing is written until the plan is
valid. :func:`create_planned_meeting` then writes it all at once, and
:func:`edit_meeting` changes what may change before the first ballot. ``sanhui meeting new`` and
``notebooks/00_prepare_meeting.ipynb`` both call these functions.

A new meeting is *prepared* (stored with status ``closed`` and no closing record): it takes ballots
once opened with :func:`toolkit.store.closing.open_meeting`.

Examples
--------
>>> from toolkit.store import Store
>>> store = Store.open("sqlite://")
>>> plan = plan_meeting(store, meeting_id="m1", kind="evaluation", title="评议会",
...                     instrument="surveys/evaluation.yaml", subjects=["wuye=物业公司"],
...                     members=20, rule="majority_of_members")
>>> meeting = create_planned_meeting(store, plan)
>>> meeting.status, [s.label_zh for s in meeting.subjects]
('closed', ['物业公司'])
>>> plan_meeting(store, meeting_id="m1", kind="evaluation", title="评议会",
...              instrument="surveys/evaluation.yaml", subjects=["Wuye=物业"])
Traceback (most recent call last):
...
toolkit.errors.MeetingSetupError: 3 problems found (the meeting was not created or changed; nothing was written):
  - option --id: meeting `m1` already exists. Choose another id, or change it with `sanhui meeting edit m1`.
  - option --subject, `Wuye=物业`: the subject id `Wuye` must be lowercase letters, digits and _ , starting with a letter (e.g. wuye). Write --subject wuye=物业公司.
  - option --subject: instrument `evaluation` rates each subject (grid `ratings`), so the meeting needs at least one. Add --subject wuye=物业公司 (one per evaluated subject).
>>> store.close()
"""  # noqa: E501

from __future__ import annotations

import datetime as dt
import re
import uuid as uuid_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from toolkit.errors import ConflictError, InstrumentError, MeetingSetupError, Problem, StoreError
from toolkit.instrument.model import Survey
from toolkit.store import schema as t
from toolkit.store.records import MEETING_KINDS, Meeting, Subject
from toolkit.store.roster_sheet import read_roster

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.store.store import Store

__all__ = [
    "MEETING_RULES",
    "MeetingPlan",
    "create_planned_meeting",
    "edit_meeting",
    "load_instrument",
    "meeting_settings",
    "plan_meeting",
]

#: The verdict rules a meeting can declare (see :func:`toolkit.analysis.evaluation_verdict`).
MEETING_RULES: tuple[str, ...] = ("majority_of_members", "plurality", "score_bands")
_MEETING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
_SUBJECT_ID = re.compile(r"[a-z][a-z0-9_]{0,40}\Z")
_MAX_CODES = 10_000


@dataclass(frozen=True)
class MeetingPlan:
    """A checked meeting, ready for :func:`create_planned_meeting`."""

    meeting_id: str
    kind: str
    title: str
    survey: Survey
    subjects: tuple[Subject, ...]
    date: dt.date | None = None
    community: str | None = None
    members: int | None = None
    ballots_issued: int | None = None
    rule: str | None = None
    codes: int = 0
    roster: pd.DataFrame | None = field(default=None, compare=False)

    @property
    def settings(self) -> dict[str, Any]:
        """What ``meetings.settings`` keeps: the declared rule and the codes to print."""
        return {"rule": self.rule, "codes": self.codes}


def load_instrument(path: str | Path) -> Survey:
    """An instrument from a YAML file or an XLSForm workbook (``InstrumentError`` if invalid)."""
    source = Path(path)
    if source.suffix.lower() == ".xlsx":
        from toolkit.instrument.xlsform import read_xlsform

        return read_xlsform(source)
    if source.suffix.lower() in (".yaml", ".yml"):
        from toolkit.instrument.loader import load_survey

        return load_survey(source)
    raise InstrumentError(
        [
            Problem(
                str(source),
                "an instrument is a .yaml/.yml or .xlsx file.",
                "Pick one.",
                code="E_FILE_TYPE",
            )
        ]
    )


def _parse_subjects(values: Sequence[Any], problems: list[Problem]) -> tuple[Subject, ...]:
    subjects: list[Subject] = []
    for value in values:
        if isinstance(value, Subject):
            subjects.append(value)
            continue
        if isinstance(value, Mapping):
            ident, label = str(value.get("id", "")), str(value.get("label_zh") or "")
            english = value.get("label_en")
        else:
            ident, _, label = str(value).partition("=")
            english = None
        ident, label = ident.strip(), label.strip()
        where = f"option --subject, `{value}`"
        if not _SUBJECT_ID.match(ident):
            problems.append(
                Problem(
                    where,
                    f"the subject id `{ident}` must be lowercase letters, digits and _ , starting "
                    "with a letter (e.g. wuye).",
                    "Write --subject wuye=物业公司.",
                    code="E_BAD_ID",
                )
            )
            continue
        if not label:
            problems.append(
                Problem(
                    where,
                    f"subject `{ident}` has no label.",
                    f"Write --subject {ident}=名称.",
                    code="E_EMPTY_VALUE",
                )
            )
            continue
        if any(s.id == ident for s in subjects):
            problems.append(
                Problem(
                    where, f"subject `{ident}` is given twice.", "Keep one.", code="E_DUPLICATE_ID"
                )
            )
            continue
        subjects.append(Subject(ident, label, None if english is None else str(english)))
    return tuple(subjects)


def _check_subjects(survey: Survey, subjects: Sequence[Subject], problems: list[Problem]) -> None:
    grids = [q.id for q in survey.questions if q.type == "grid" and q.per_subject]
    names = {v.name for v in survey.variables()}
    if subjects and not grids:
        for subject in subjects:
            problems.append(
                Problem(
                    f"option --subject {subject.id}",
                    f"instrument `{survey.id}` cannot take subjects: it has no per-subject rating "
                    "grid (per_subject: true).",
                    "Leave out --subject, or choose an instrument that rates subjects.",
                    code="E_UNEXPECTED_SUBJECT",
                )
            )
    elif grids and not subjects:
        problems.append(
            Problem(
                "option --subject",
                f"instrument `{survey.id}` rates each subject (grid `{grids[0]}`), so the meeting "
                "needs at least one.",
                "Add --subject wuye=物业公司 (one per evaluated subject).",
                code="E_MISSING_SUBJECT",
            )
        )
    for subject in subjects:
        clash = [
            v for v in survey.variables(subjects=[subject.id]) if v.subject and v.name in names
        ]
        if clash:
            problems.append(
                Problem(
                    f"option --subject {subject.id}",
                    f"the subject id makes the variable `{clash[0].name}`, which the instrument "
                    "already has.",
                    "Choose another subject id.",
                    code="E_DUPLICATE_VARIABLE",
                )
            )


def _check_numbers(
    values: Mapping[str, int | None], problems: list[Problem], *, high: int = 100_000
) -> None:
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            problems.append(
                Problem(
                    f"option --{name.replace('_', '-')}",
                    f"must be a whole number from 0 to {high}; got {value!r}.",
                    code="E_NOT_AN_INTEGER",
                )
            )


def _check_rule(kind: str, rule: str | None, members: int | None, problems: list[Problem]) -> None:
    if rule is None:
        return
    if kind != "evaluation":
        problems.append(
            Problem(
                "option --rule",
                f"a {kind} meeting has no verdict.",
                "Leave out --rule.",
                code="E_OPTION_NOT_FOR_KIND",
            )
        )
    elif rule not in MEETING_RULES:
        from toolkit._checks import did_you_mean

        problems.append(
            Problem(
                "option --rule",
                f"unknown rule `{rule}`.{_rule_hint(rule, did_you_mean)}",
                f"Choose one of: {', '.join(MEETING_RULES)}.",
                code="E_BAD_OPTION",
            )
        )
    elif rule == "majority_of_members" and not members:
        problems.append(
            Problem(
                "option --rule majority_of_members",
                "the majority of all members needs the number of members.",
                "Add --members N.",
                code="E_MISSING_MEMBERS",
            )
        )


def _rule_hint(rule: str, did_you_mean: Any) -> str:
    prefixed = [r for r in MEETING_RULES if r.startswith(rule.lower())] if rule else []
    return (
        f" Did you mean `{prefixed[0]}`?"
        if len(prefixed) == 1
        else did_you_mean(rule, MEETING_RULES)
    )


def plan_meeting(
    store: Store | None,
    *,
    meeting_id: str,
    kind: str,
    title: str,
    instrument: str | Path | Survey,
    subjects: Sequence[Any] = (),
    date: str | dt.date | None = None,
    community: str | None = None,
    roster: str | Path | pd.DataFrame | None = None,
    members: int | None = None,
    ballots_issued: int | None = None,
    rule: str | None = None,
    codes: int = 0,
) -> MeetingPlan:
    """Check a meeting's instrument, subjects, roster and options together.

    Parameters
    ----------
    store : Store, optional
        Checked for a meeting with the same id and an instrument version stored with other content.
    meeting_id, kind, title : str
        ``kind`` is ``hearing``, ``coordination`` or ``evaluation``.
    instrument : path or Survey
        YAML or XLSForm file, or a loaded instrument.
    subjects : sequence
        ``"id=标签"`` texts, ``{id, label_zh}`` mappings or :class:`Subject`.
    date : ISO text or date, optional
    roster : path or DataFrame, optional
        The filled roster template (``.xlsx``/``.csv``), see :func:`toolkit.store.roster_sheet.read_roster`.
    members, ballots_issued, codes : int, optional
        Members of the body, ballots handed out, one-time codes to print.
    rule : str, optional
        The declared verdict rule, one of :data:`MEETING_RULES`.

    Returns
    -------
    MeetingPlan

    Raises
    ------
    MeetingSetupError
        Listing every problem found, each located.
    """
    problems: list[Problem] = []
    if not isinstance(meeting_id, str) or not _MEETING_ID.match(meeting_id):
        problems.append(
            Problem(
                "option --id",
                f"`{meeting_id}` is not a usable meeting id.",
                "Use letters, digits, - _ and . (e.g. wlq-2026-03-eval), at most 100 characters.",
                code="E_BAD_ID",
            )
        )
    elif store is not None and _meeting_exists(store, meeting_id):
        problems.append(
            Problem(
                "option --id",
                f"meeting `{meeting_id}` already exists.",
                f"Choose another id, or change it with `sanhui meeting edit {meeting_id}`.",
                code="E_MEETING_EXISTS",
            )
        )
    if kind not in MEETING_KINDS:
        from toolkit._checks import did_you_mean

        problems.append(
            Problem(
                "option --kind",
                f"unknown kind `{kind}`.{did_you_mean(str(kind), MEETING_KINDS)}",
                "Choose hearing, coordination or evaluation.",
                code="E_BAD_OPTION",
            )
        )
    if not isinstance(title, str) or not title.strip():
        problems.append(_empty_title())
    when = _parse_date(date, problems)
    survey: Survey | None = None
    if isinstance(instrument, Survey):
        survey = instrument
    else:
        try:
            survey = load_instrument(instrument)
        except InstrumentError as error:
            problems.extend(error.problems)
    subject_list = _parse_subjects(list(subjects), problems)
    if survey is not None:
        if survey.settings.kind not in ("other", kind) and kind in MEETING_KINDS:
            problems.append(
                Problem(
                    "option --instrument",
                    f"instrument `{survey.id}` is for {survey.settings.kind} meetings, not {kind}.",
                    f"Use --kind {survey.settings.kind} or another instrument.",
                    code="E_WRONG_KIND",
                )
            )
        _check_subjects(survey, subject_list, problems)
        if store is not None:
            _check_stored_instrument(store, survey, problems)
    _check_numbers({"members": members, "ballots_issued": ballots_issued, "codes": codes}, problems)
    if isinstance(codes, int) and codes > _MAX_CODES:
        problems.append(
            Problem(
                "option --codes",
                f"at most {_MAX_CODES} codes per meeting; got {codes}.",
                f"Ask for {_MAX_CODES} or fewer.",
                code="E_RANGE",
            )
        )
    _check_rule(kind, rule, members, problems)
    frame = None
    if roster is not None:
        if isinstance(roster, str | Path):
            read = read_roster(roster, survey=survey, when=when)
            problems.extend(read.problems)
            frame = read.frame
        else:
            frame = roster
    if problems or survey is None:
        raise MeetingSetupError(problems)
    return MeetingPlan(
        meeting_id=meeting_id,
        kind=kind,
        title=title.strip(),
        survey=survey,
        subjects=subject_list,
        date=when,
        community=community,
        members=members,
        ballots_issued=ballots_issued,
        rule=rule,
        codes=codes,
        roster=frame,
    )


def _empty_title() -> Problem:
    return Problem(
        "option --title", "the title is empty.", "Write the title.", code="E_EMPTY_VALUE"
    )


def _meeting_exists(store: Store, meeting_id: str) -> bool:
    with store._tx(write=False) as connection:
        row = connection.execute(
            sa.select(t.meetings.c.meeting_id).where(t.meetings.c.meeting_id == meeting_id)
        ).first()
    return row is not None


def _parse_date(value: str | dt.date | None, problems: list[Problem]) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(
            Problem(
                "option --date",
                f"`{value}` is not a date.",
                "Write it as 2026-03-15.",
                code="E_NOT_A_DATE",
            )
        )
        return None


def _check_stored_instrument(store: Store, survey: Survey, problems: list[Problem]) -> None:
    stored = store.instruments()
    same = stored[(stored["instrument_id"] == survey.id) & (stored["version"] == survey.version)]
    if len(same) and store.instrument(survey.id, survey.version).content_hash != (
        survey.content_hash
    ):
        problems.append(
            Problem(
                "option --instrument",
                f"instrument `{survey.id}` version {survey.version!r} is already stored with "
                "other content.",
                "Give the changed instrument a new `version` in its settings.",
                code="E_VERSION_CONFLICT",
            )
        )


def create_planned_meeting(store: Store, plan: MeetingPlan) -> Meeting:
    """Write a checked plan: instrument, meeting, participants, names and invitations, in one
    transaction (all or nothing). The meeting is prepared (closed, no closing record)."""
    from toolkit.store._common import _dump_survey, _loads_survey, _now, _participant_value

    survey = plan.survey
    text = _dump_survey(survey)
    if _loads_survey(text, source=survey.id).content_hash != survey.content_hash:
        raise StoreError(f"instrument `{survey.id}` does not load back from its YAML; not stored.")
    now = _now()
    participants: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    if plan.roster is not None:
        for record in plan.roster.to_dict("records"):
            pid = f"p-{uuid_module.uuid4().hex[:12]}"
            row = {"participant_id": pid, "created_at": now, "community": plan.community}
            for column in ("role", "gender", "age_band", "building", "floor_band"):
                row[column] = _participant_value(column, record.get(column))
            for column in ("household_id", "party_member", "birth_year"):
                row[column] = _participant_value(column, record.get(column))
            participants.append(row)
            names.append({"participant_id": pid, "name": str(record["name"]), "room": None})
            if record.get("room") is not None and str(record.get("room")) != "nan":
                names[-1]["room"] = str(record["room"])
    with store._tx(write=True) as connection:
        if connection.execute(
            sa.select(t.meetings.c.meeting_id).where(t.meetings.c.meeting_id == plan.meeting_id)
        ).first():
            raise ConflictError(f"meeting `{plan.meeting_id}` already exists; nothing was written.")
        stored = connection.execute(
            sa.select(t.instruments.c.content_hash).where(
                t.instruments.c.instrument_id == survey.id,
                t.instruments.c.version == survey.version,
            )
        ).scalar()
        if stored is None:
            connection.execute(
                sa.insert(t.instruments).values(
                    instrument_id=survey.id,
                    version=survey.version,
                    content_hash=survey.content_hash,
                    yaml_text=text,
                    created_at=now,
                )
            )
        connection.execute(
            sa.insert(t.meetings).values(
                meeting_id=plan.meeting_id,
                kind=plan.kind,
                title=plan.title,
                community=plan.community,
                street=None,
                district=None,
                date=plan.date,
                instrument_id=survey.id,
                instrument_version=survey.version,
                subjects=[s.to_dict() for s in plan.subjects],
                ballots_issued=plan.ballots_issued,
                members=plan.members,
                status="closed",
                created_at=now,
                settings=plan.settings,
            )
        )
        if participants:
            connection.execute(sa.insert(t.participants), participants)
            connection.execute(sa.insert(t.participant_names), names)
            connection.execute(
                sa.insert(t.attendance),
                [
                    {
                        "meeting_id": plan.meeting_id,
                        "participant_id": p["participant_id"],
                        "invited": True,
                        "walk_in": False,
                    }
                    for p in participants
                ],
            )
    return store.meeting(plan.meeting_id)


def meeting_settings(store: Store, meeting_id: str) -> dict[str, Any]:
    """The declared rule and planned codes of a meeting (``{"rule": None, "codes": 0}`` if none)."""
    with store._tx(write=False) as connection:
        store._meeting(connection, meeting_id)
        value = connection.execute(
            sa.select(t.meetings.c.settings).where(t.meetings.c.meeting_id == meeting_id)
        ).scalar()
    settings = {"rule": None, "codes": 0}
    settings.update(value or {})
    return settings


#: The fields :func:`edit_meeting` may change (before the first ballot only).
EDITABLE = ("title", "date", "subjects", "members", "ballots_issued", "rule", "codes", "community")


def edit_meeting(store: Store, meeting_id: str, **changes: Any) -> Meeting:
    """Change a prepared or open meeting before its first ballot (one transaction).

    Parameters
    ----------
    changes
        Any of :data:`EDITABLE`; ``subjects`` as for :func:`plan_meeting`.

    Raises
    ------
    MeetingSetupError
        Unknown fields or bad values (every one listed), nothing changed.
    StoreError
        The meeting has ballots, or is closed for good; nothing changed.
    """
    from toolkit.store.closing import FrozenMeetingError, is_frozen

    problems: list[Problem] = []
    unknown = [k for k in changes if k not in EDITABLE]
    for name in unknown:
        problems.append(
            Problem(
                f"field `{name}`",
                "cannot be edited.",
                f"Editable: {', '.join(EDITABLE)}.",
                code="E_UNKNOWN_FIELD",
            )
        )
    meeting = store.meeting(meeting_id)
    settings = meeting_settings(store, meeting_id)
    survey = store.instrument(meeting.instrument_id, meeting.instrument_version)
    values: dict[str, Any] = {}
    if changes.get("title") is not None:
        if not str(changes["title"]).strip():
            problems.append(_empty_title())
        values["title"] = str(changes["title"]).strip()
    if changes.get("date") is not None:
        values["date"] = _parse_date(changes["date"], problems)
    if changes.get("community") is not None:
        values["community"] = str(changes["community"])
    if changes.get("subjects") is not None:
        subject_list = _parse_subjects(list(changes["subjects"]), problems)
        _check_subjects(survey, subject_list, problems)
        values["subjects"] = [s.to_dict() for s in subject_list]
    numbers = {k: changes.get(k) for k in ("members", "ballots_issued", "codes")}
    _check_numbers(numbers, problems)
    values.update({k: v for k, v in numbers.items() if v is not None and k != "codes"})
    new_settings = dict(settings)
    if changes.get("codes") is not None:
        new_settings["codes"] = changes["codes"]
    if changes.get("rule") is not None:
        new_settings["rule"] = changes["rule"]
    members = values.get("members", meeting.members)
    _check_rule(meeting.kind, new_settings.get("rule"), members, problems)
    if problems:
        raise MeetingSetupError(problems)
    if not values and new_settings == settings:
        return meeting
    values["settings"] = new_settings
    with store._tx(write=True) as connection:
        if is_frozen(connection, meeting_id):
            raise FrozenMeetingError(
                f"meeting `{meeting_id}` is closed and counted; it cannot be edited."
            )
        ballots = connection.execute(
            sa.select(sa.func.count()).where(t.submissions.c.meeting_id == meeting_id)
        ).scalar()
        if ballots:
            raise StoreError(
                f"meeting `{meeting_id}` already has {ballots} ballot(s), so it cannot be edited: "
                "a change now would alter what those voters were asked. Nothing was changed; "
                "prepare a new meeting if the setup was wrong."
            )
        connection.execute(
            sa.update(t.meetings).where(t.meetings.c.meeting_id == meeting_id).values(values)
        )
    return store.meeting(meeting_id)
