"""Synthetic cases (议题): issues that run through hearing, coordination, evaluation and follow-up.

:func:`make_cases` draws, for each community of a :class:`~toolkit.synth.City`, a few issues with
realistic gaps between the stages:

- a **hearing** panel of 30–45 whose positions depend on the floor for an elevator (low floors lose
  daylight and pay little use: they oppose more; high floors support), with their concerns;
- one or two **coordination** meetings; some issues stall there (no agreement, or only a partial
  one that is never completed);
- for agreed issues, an **evaluation** 3–6 months later whose badly rated items become
  **rectification** items (整改), then a **follow-up evaluation** where rectified items improve;
- each meeting is held in a community, in an office park (with the park instruments of
  ``surveys/park``: enterprises, office workers, the park management and the property company) or
  online (云听证, 云协商).

Everything is drawn from one seed; ballots are answer dictionaries of the instruments in
``surveys/`` (hearing, coordination, evaluation), so they can be submitted to a store.

Examples
--------
>>> from toolkit.synth import make_city
>>> city = make_city(seed=3, streets=1, communities_per_street=2, buildings_per_community=3,
...                  households_per_building=12)
>>> bundle = make_cases(city, seed=3)
>>> sorted(bundle.meetings["stage"].unique())
['coordination', 'evaluation', 'follow_up', 'hearing']
>>> set(bundle.cases["venue"]) <= {"community", "park", "online"}
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from toolkit.synth._common import check_count, check_seed
from toolkit.synth.population import City

if TYPE_CHECKING:
    from toolkit.store import Store

__all__ = ["CaseBundle", "case_attendance", "load_cases", "make_cases"]

#: Kinds of issue, their title and the subjects rated at the evaluation.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "elevator": ("{building}号楼加装电梯", ("juweihui", "contractor")),
    "property": ("物业服务与收费调整", ("wuye", "yeweihui")),
    "greening": ("小区绿化改造", ("juweihui", "contractor")),
    "parking": ("停车位规划与管理", ("wuye", "juweihui")),
}
#: Probability that a coordination meeting reaches full agreement, by kind.
P_AGREE = {"elevator": 0.45, "property": 0.6, "greening": 0.75, "parking": 0.55}
#: Support for the main option by floor band, for elevators (other kinds: no floor effect).
P_SUPPORT_ELEVATOR = {"1-3": 0.22, "4-6": 0.55, "7+": 0.85}
#: Where the cases are held, in turn, so every bundle has some of each.
VENUE_CYCLE = ("community", "online", "community", "park")
ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "integrity", "results")
#: Items of the park evaluation ballot (surveys/park/park_evaluation.yaml), and its subjects.
PARK_ITEMS = ("attitude", "efficiency", "transparency", "responsiveness", "results")
PARK_SUBJECTS = ("park_mgmt", "wuye")
PARK_CONCERNS = ("commute", "parking", "canteen", "fees", "safety", "environment", "services")
#: The instrument of each stage, in a community (or online) and in a park.
INSTRUMENTS = {
    False: {"hearing": "hearing", "coordination": "coordination", "evaluation": "evaluation"},
    True: {
        "hearing": "park_consultation",
        "coordination": "park_negotiation",
        "evaluation": "park_evaluation",
    },
}
ELEVATOR_ITEMS = ("build_quality", "schedule", "noise_dust", "daylight", "cost_sharing")
#: The evaluation form's rectification codes that fit each rated item.
ITEM_ISSUE = {
    "attitude": "attitude_issue",
    "efficiency": "slow_response",
    "transparency": "transparency_issue",
    "responsiveness": "slow_response",
    "integrity": "fairness_issue",
    "results": "quality_issue",
}
ITEM_ZH = {
    "attitude": "工作态度",
    "efficiency": "办事效率",
    "transparency": "信息公开",
    "responsiveness": "回应居民意见",
    "integrity": "公道廉洁",
    "results": "工作成效",
}
CONCERNS_LOW = ("daylight", "noise", "privacy", "access")
CONCERNS_HIGH = ("cost", "maintenance", "safety")
TERMS = {
    "elevator": ("低层住户按楼层给予补偿", "施工时间限于8:00-17:00", "费用按楼层系数分摊"),
    "property": ("收费标准分两年调整", "每季度公开收支", "增加保洁频次"),
    "greening": ("保留原有大树", "增设休憩座椅", "施工期间保留通道"),
    "parking": ("夜间临停限时两小时", "优先保障本小区车辆", "划定非机动车停放区"),
}


@dataclass(frozen=True, repr=False)
class CaseBundle:
    """Cases and everything drawn for them (see :func:`make_cases`).

    Attributes
    ----------
    cases : DataFrame
        ``case_id, title, kind, street_id, community_id, building_id, venue, opened_on``.
    meetings : DataFrame
        ``meeting_id, case_id, sequence, stage, kind, date, title, venue, subjects, members,
        street_id, community_id``, in case order.
    outcomes : DataFrame
        ``case_id, meeting_id`` and the outcome fields (``positions, agreement, parties, terms,
        verdict, rule``).
    rectification : DataFrame
        ``case_id, item, subject, source, source_ref, source_meeting_id, due_date, status,
        evidence, followup_meeting_id``.
    ballots : DataFrame
        ``meeting_id, submission_id, answers`` (a dict per ballot).
    """

    cases: pd.DataFrame
    meetings: pd.DataFrame
    outcomes: pd.DataFrame
    rectification: pd.DataFrame
    ballots: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"CaseBundle(cases={len(self.cases)}, meetings={len(self.meetings)}, "
            f"ballots={len(self.ballots)}, rectification={len(self.rectification)})"
        )


def _uuid(rng: np.random.Generator) -> str:
    h = rng.bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _hearing_ballots(
    rng: np.random.Generator, kind: str, building_floors: np.ndarray, n: int, park: bool = False
) -> list[dict[str, Any]]:
    ballots = []
    for _ in range(n):
        direct = rng.random() < 0.7 and len(building_floors) > 0
        band = str(rng.choice(building_floors)) if direct else None
        p = P_SUPPORT_ELEVATOR[band] if kind == "elevator" and band else 0.55
        u = rng.random()
        dont_know = 0.06
        first = (
            "support"
            if u < p * (1 - dont_know) * 0.8
            else "conditional"
            if u < p * (1 - dont_know)
            else "oppose"
            if u < 1 - dont_know
            else "dont_know"
        )
        second = str(rng.choice(["support", "conditional", "oppose"], p=[0.35, 0.25, 0.4]))
        low = band == "1-3"
        concerns = [
            c for c in CONCERNS_LOW if rng.random() < (0.55 if low and kind == "elevator" else 0.15)
        ] + [c for c in CONCERNS_HIGH if rng.random() < (0.45 if band == "7+" else 0.2)]
        role = "affected_resident" if direct else str(rng.choice(["building_head", "other"]))
        if park:  # enterprises and office workers; their concerns are the park's
            concerns = [c for c in PARK_CONCERNS if rng.random() < 0.25]
            role = str(
                rng.choice(["enterprise_rep", "white_collar"])
                if direct
                else rng.choice(["park_management", "property_mgmt", "other"])
            )
        answers: dict[str, Any] = {
            "option_1": first,
            "option_2": second,
            "concerns": concerns or ["none"],
            "affected": "directly" if direct else str(rng.choice(["indirectly", "not_affected"])),
            "role": role,
        }
        if direct:
            answers["floor_band"] = band
        ballots.append(answers)
    return ballots


def _level(rng: np.random.Generator, good: float) -> str:
    u = rng.random()
    if u < good * 0.6:
        return "satisfied"
    if u < good:
        return "basically_satisfied"
    return "dissatisfied"


def _evaluation_ballots(
    rng: np.random.Generator,
    kind: str,
    subjects: tuple[str, ...],
    weak: dict[str, float],
    n: int,
    park: bool = False,
) -> list[dict[str, Any]]:
    ballots = []
    for _ in range(n):
        mood = rng.normal(0, 0.08)
        answers: dict[str, Any] = {}
        if not park:  # the park ballot has no elevator page
            answers["project_elevator"] = "yes" if kind == "elevator" else "no"
        issues: set[str] = set()
        for subject in subjects:
            for item in PARK_ITEMS if park else ITEMS:
                good = float(np.clip(0.88 + mood - weak.get(f"{subject}__{item}", 0.0), 0.05, 0.99))
                value = "dont_know" if rng.random() < 0.04 else _level(rng, good)
                answers[f"{subject}__{item}"] = value
                if value == "dissatisfied":
                    issues.add(ITEM_ISSUE[item])
            overall = float(np.clip(0.86 + mood - 0.5 * max(
                [w for k, w in weak.items() if k.startswith(f"{subject}__")] or [0.0]
            ), 0.05, 0.99))  # fmt: skip
            answers[f"{subject}__overall"] = _level(rng, overall)
        if kind == "elevator":
            for item in ELEVATOR_ITEMS:
                good = float(np.clip(0.85 + mood - weak.get(item, 0.0), 0.05, 0.99))
                answers[item] = _level(rng, good)
                if answers[item] == "dissatisfied" and item == "noise_dust":
                    issues.add("environment_issue")
        if issues and rng.random() < 0.8:
            answers["rectify"] = sorted(issues)
        ballots.append(answers)
    return ballots


def _verdict(ballots: list[dict[str, Any]], subject: str) -> str:
    values = [b[f"{subject}__overall"] for b in ballots]
    half = len(values) / 2
    satisfied = sum(v == "satisfied" for v in values)
    broad = satisfied + sum(v == "basically_satisfied" for v in values)
    return "满意" if satisfied > half else "基本满意" if broad > half else "不满意"


def make_cases(
    city: City,
    *,
    seed: int = 17,
    per_community: int = 2,
    start: str = "2025-01-06",
    as_of: str = "2026-11-30",
) -> CaseBundle:
    """Draw cases that run through the three meetings, with stalls and rectification.

    Parameters
    ----------
    city : City
        From :func:`~toolkit.synth.make_city`.
    seed : int
    per_community : int
        Cases per community (kinds in turn: elevator, property, greening, parking).
    start : ISO date
        The first hearings fall in the six months after this day.
    as_of : ISO date
        Meetings after this day are not held yet (their cases are still open).

    Returns
    -------
    CaseBundle
    """
    seed = check_seed(seed)
    per_community = check_count("per_community", per_community)
    rng = np.random.default_rng([seed, 1414])
    first_day = dt.date.fromisoformat(start)
    last_day = dt.date.fromisoformat(as_of)
    residents = city.residents
    cases: list[dict[str, Any]] = []
    meetings: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    ballots: list[dict[str, Any]] = []
    kinds = list(KINDS)
    counter = 0
    for community in city.communities.itertuples():
        local = residents[residents["community_id"] == community.community_id]
        buildings = sorted(local["building_id"].unique())
        for k in range(per_community):
            kind = kinds[counter % len(kinds)]
            counter += 1
            building = str(rng.choice(buildings))
            case_id = f"{community.community_id}-K{k + 1}"
            venue = VENUE_CYCLE[(counter - 1) % len(VENUE_CYCLE)]
            number = int(building.rsplit("B", 1)[-1])
            title = KINDS[kind][0].format(building=number)
            if venue == "park":
                title = "园区" + title
            floors = local.loc[local["building_id"] == building, "floor_band"].to_numpy(str)
            day = first_day + dt.timedelta(days=int(rng.integers(0, 180)))
            cases.append(
                {
                    "case_id": case_id,
                    "title": title,
                    "kind": kind,
                    "street_id": community.street_id,
                    "community_id": community.community_id,
                    "building_id": building if kind == "elevator" else None,
                    "venue": venue,
                    "opened_on": day - dt.timedelta(days=int(rng.integers(7, 30))),
                }
            )
            place = {"case_id": case_id, "venue": venue, "title": title, "community": community}

            def meeting(
                stage: str,
                when: dt.date,
                label: str,
                n: int,
                subjects: tuple[str, ...] = (),
                place: dict[str, Any] = place,
            ) -> str:
                case_id, venue, title = place["case_id"], place["venue"], place["title"]
                community = place["community"]
                sequence = 1 + sum(m["case_id"] == case_id for m in meetings)
                meeting_id = f"{case_id}-{sequence}"
                # about one meeting in five is held online (云听证/云协商) whatever the venue
                where = "online" if venue != "park" and rng.random() < 0.2 else venue
                meetings.append(
                    {
                        "meeting_id": meeting_id,
                        "case_id": case_id,
                        "sequence": sequence,
                        "stage": stage,
                        "kind": "evaluation" if stage == "follow_up" else stage,
                        "instrument": INSTRUMENTS[venue == "park"][
                            "evaluation" if stage == "follow_up" else stage
                        ],
                        "date": when,
                        "title": f"{title}{label}",
                        "venue": where,
                        "subjects": subjects,
                        "members": n,
                        "street_id": community.street_id,
                        "community_id": community.community_id,
                    }
                )
                return meeting_id

            # 1. hearing
            n = int(rng.integers(30, 46))
            hearing = _hearing_ballots(rng, kind, floors, n, park=venue == "park")
            mid = meeting("hearing", day, "听证会", n)
            positions: dict[str, dict[str, int]] = {}
            for option in ("option_1", "option_2"):
                values = pd.Series([b[option] for b in hearing])
                positions[option] = {str(p): int(c) for p, c in values.value_counts().items()}
            outcomes.append({"case_id": case_id, "meeting_id": mid, "positions": positions})
            ballots += [{"meeting_id": mid, "answers": b} for b in hearing]
            # 2. coordination, once or twice
            agreement = None
            for attempt in range(2):
                day = day + dt.timedelta(days=int(rng.integers(20, 80)))
                if day > last_day:
                    break
                u = rng.random()
                p = P_AGREE[kind] + (0.15 if attempt else 0.0)
                agreement = "reached" if u < p else "partial" if u < p + 0.25 else "none"
                parties = int(rng.integers(3, 7))
                mid = meeting(
                    "coordination", day, "协调会" if not attempt else "第二次协调会", parties
                )
                terms = list(TERMS[kind][: int(rng.integers(1, 4))]) if agreement != "none" else []
                outcomes.append(
                    {
                        "case_id": case_id,
                        "meeting_id": mid,
                        "agreement": agreement,
                        "parties": parties,
                        "terms": terms,
                    }
                )
                code = {"reached": "yes", "partial": "partial", "none": "no"}[agreement]
                for _ in range(int(rng.integers(6, 12))):
                    ballot: dict[str, Any] = {"agreement": code}
                    for item in ("process", "mediator", "information"):
                        ballot[item] = _level(rng, 0.8 if agreement == "reached" else 0.6)
                    ballots.append({"meeting_id": mid, "answers": ballot})
                if agreement != "partial" or rng.random() < 0.3:
                    break  # partial agreements get a second meeting, most of the time
            if agreement != "reached":
                continue  # stalled at coordination
            # 3. evaluation, then rectification of badly rated items, then a follow-up
            day = day + dt.timedelta(days=int(rng.integers(90, 180)))
            if day > last_day:
                continue
            park = venue == "park"
            subjects = PARK_SUBJECTS if park else KINDS[kind][1]
            weak_keys = [f"{s}__{i}" for s in subjects for i in (PARK_ITEMS if park else ITEMS)]
            chosen = rng.choice(len(weak_keys), size=2, replace=False)
            weak = {weak_keys[int(i)]: float(rng.uniform(0.3, 0.5)) for i in chosen}
            if kind == "elevator":
                weak["noise_dust"] = 0.35
            n = int(rng.integers(30, 43))
            evaluation = _evaluation_ballots(rng, kind, subjects, weak, n, park=park)
            mid = meeting("evaluation", day, "评议会", n, subjects=subjects)
            ballots += [{"meeting_id": mid, "answers": b} for b in evaluation]
            outcomes.append(
                {"case_id": case_id, "meeting_id": mid, "verdict": _verdict(evaluation, subjects[0]),
                 "rule": "majority_of_members"}
            )  # fmt: skip
            due = day + dt.timedelta(days=60)
            low = []
            for key in weak_keys:
                rated = [b[key] for b in evaluation if b[key] != "dont_know"]
                share = sum(v == "dissatisfied" for v in rated) / max(len(rated), 1)
                if share >= 0.2:
                    low.append(key)
            for key in low:
                subject, item = key.split("__")
                items.append(
                    {"case_id": case_id, "item": f"{ITEM_ZH[item]}整改", "subject": subject,
                     "source": "low_rating", "source_ref": key, "source_meeting_id": mid,
                     "due_date": due}
                )  # fmt: skip
            follow = day + dt.timedelta(days=int(rng.integers(150, 220)))
            if follow > last_day:
                for entry in items[len(items) - len(low) :]:
                    entry["status"] = str(rng.choice(["open", "in_progress"]))
                continue
            statuses = rng.choice(["done", "not_accepted"], size=len(low), p=[0.8, 0.2])
            after = dict(weak)
            for key, status in zip(low, statuses, strict=True):
                after[key] = weak.get(key, 0.0) * (0.2 if status == "done" else 0.9)
            n = int(rng.integers(30, 43))
            second = _evaluation_ballots(rng, kind, subjects, after, n, park=park)
            fid = meeting("follow_up", follow, "整改回头看评议会", n, subjects=subjects)
            ballots += [{"meeting_id": fid, "answers": b} for b in second]
            outcomes.append(
                {"case_id": case_id, "meeting_id": fid, "verdict": _verdict(second, subjects[0]),
                 "rule": "majority_of_members"}
            )  # fmt: skip
            for entry, status in zip(items[len(items) - len(low) :], statuses, strict=True):
                entry["status"] = str(status)
                entry["evidence"] = "整改台账和现场照片已归档" if status == "done" else None
                entry["followup_meeting_id"] = fid
    frame = pd.DataFrame(ballots, columns=["meeting_id", "answers"])
    frame.insert(1, "submission_id", [_uuid(rng) for _ in range(len(frame))])
    rect_columns = [
        "case_id", "item", "subject", "source", "source_ref", "source_meeting_id", "due_date",
        "status", "evidence", "followup_meeting_id",
    ]  # fmt: skip
    return CaseBundle(
        cases=pd.DataFrame(cases),
        meetings=pd.DataFrame(meetings),
        outcomes=pd.DataFrame(outcomes),
        rectification=pd.DataFrame(items, columns=rect_columns),
        ballots=frame,
    )


def case_attendance(city: City, bundle: CaseBundle, *, seed: int = 17) -> pd.DataFrame:
    """Who was invited to each case meeting and who came, drawn by
    :func:`~toolkit.synth.make_attendance` (turnout rising with age, party members more often,
    the same people coming back along one case).

    Returns
    -------
    DataFrame
        As :func:`~toolkit.synth.make_attendance`: one row per invited person and meeting.
    """
    from toolkit.synth.meetings import make_attendance

    issues = bundle.cases[["case_id", "kind", "building_id"]].rename(columns={"kind": "issue"})
    meetings = bundle.meetings.merge(issues, on="case_id").rename(columns={"case_id": "issue_id"})
    meetings["date"] = pd.to_datetime(meetings["date"]).astype("datetime64[ns]")
    return make_attendance(city, meetings, seed=seed)


def load_cases(
    store: Store,
    bundle: CaseBundle,
    *,
    labels: dict[str, tuple[str, str]],
    district: str | None = None,
    attendance: pd.DataFrame | None = None,
    ballots: bool = True,
) -> None:
    """Put a :class:`CaseBundle` into a store whose instruments (``hearing``, ``coordination``,
    ``evaluation`` and, for park meetings, the ``surveys/park`` set) are stored: meetings (closed,
    with venue), ballots, cases, outcomes and rectification items.

    ``labels`` maps each subject id to its Chinese and English labels. ``attendance`` (from
    :func:`case_attendance`; its people already in the store) gives each meeting its invited roster
    and who checked in (then each meeting keeps at most one ballot per person present).
    ``ballots=False`` leaves
    the ballots out (fast: cases, meetings, outcomes and rectification only).
    """
    from toolkit.instrument import check_answers
    from toolkit.store import Subject, Submission

    surveys = {name: store.instrument(name) for name in set(bundle.meetings["instrument"])}
    by_meeting = bundle.ballots.groupby("meeting_id", sort=False)
    rosters = (
        attendance
        if attendance is not None
        else pd.DataFrame(columns=["meeting_id", "participant_id", "attended"])
    ).groupby("meeting_id", sort=False)
    for m in bundle.meetings.to_dict("records"):
        subjects = [Subject(s, *labels.get(s, (s, s))) for s in m["subjects"]]
        came = (
            int(rosters.get_group(m["meeting_id"])["attended"].sum())
            if attendance is not None and m["meeting_id"] in rosters.groups
            else None
        )
        store.create_meeting(
            m["meeting_id"],
            kind=m["kind"],
            title=m["title"],
            instrument=m["instrument"],
            subjects=subjects,
            community=m["community_id"],
            street=m["street_id"],
            district=district,
            date=m["date"],
            ballots_issued=int(m["members"]) if came is None else came,
            members=int(m["members"]),
        )
        if m["venue"] != "community":
            store.set_meeting_venue(m["meeting_id"], m["venue"])
        if attendance is not None and m["meeting_id"] in rosters.groups:
            roster = rosters.get_group(m["meeting_id"])
            store.invite(m["meeting_id"], [str(p) for p in roster["participant_id"]])
            arrived = dt.datetime.combine(m["date"], dt.time(19, 0), tzinfo=dt.UTC)
            for pid in roster.loc[roster["attended"], "participant_id"]:
                store.check_in(m["meeting_id"], str(pid), at=arrived)
        if ballots and m["meeting_id"] in by_meeting.groups:
            survey = surveys[m["instrument"]]
            drawn = by_meeting.get_group(m["meeting_id"])
            if came is not None:  # one ballot per person present, at most
                drawn = drawn.head(came)
            for row in drawn.to_dict("records"):
                complete = not check_answers(
                    survey, row["answers"], subjects=tuple(s.id for s in subjects)
                )
                store.submit(
                    Submission(
                        uuid=row["submission_id"],
                        meeting_id=m["meeting_id"],
                        answers=row["answers"],
                        mode="tablet" if complete else "paper",
                    )
                )
        store.close_meeting(m["meeting_id"])
    fields = ("positions", "agreement", "parties", "terms", "verdict", "rule")
    outcomes = {(o["case_id"], o["meeting_id"]): o for o in bundle.outcomes.to_dict("records")}
    for c in bundle.cases.to_dict("records"):
        store.create_case(
            c["case_id"],
            title=c["title"],
            kind=c["kind"],
            street=c["street_id"],
            community=c["community_id"],
            building=c["building_id"] if isinstance(c["building_id"], str) else None,
            opened_on=c["opened_on"],
        )
        for m in bundle.meetings[bundle.meetings["case_id"] == c["case_id"]].to_dict("records"):
            outcome = outcomes.get((c["case_id"], m["meeting_id"]), {})
            clean = {}
            for key in fields:
                value = outcome.get(key)
                if isinstance(value, dict | list) or (value is not None and not pd.isna(value)):
                    clean[key] = int(float(cast(Any, value))) if key == "parties" else value
            store.add_case_meeting(c["case_id"], m["meeting_id"], stage=m["stage"], outcome=clean)
    for r in bundle.rectification.to_dict("records"):
        item = store.add_rectification(
            r["case_id"],
            item=r["item"],
            subject=r["subject"],
            source=r["source"],
            source_ref=r["source_ref"],
            source_meeting_id=r["source_meeting_id"],
            due_date=r["due_date"],
            status=r["status"],
            evidence=r["evidence"] if isinstance(r["evidence"], str) else None,
        )
        if isinstance(r["followup_meeting_id"], str):
            store.update_rectification(item.item_id, followup_meeting_id=r["followup_meeting_id"])
