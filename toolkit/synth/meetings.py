"""Synthetic meetings (hearing → coordination → evaluation on one issue) and their attendance.

:func:`make_meetings` lays out, per community, a few issues (an elevator for one walk-up, property
management, greening, parking, waste sorting), each consulted on in a hearing (听证会), sometimes a
coordination meeting (协调会), and an evaluation meeting (评议会) after implementation.
:func:`make_attendance` invites a roster per issue and decides who comes, with turnout calibrated to
the Shanghai survey figures in docs/domain.md (rising with age, higher for party members) and
repeat participation along the issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_option
from toolkit.errors import DataError, ParameterError
from toolkit.synth._common import (
    AGE_BANDS,
    ISSUES,
    SUBJECTS,
    TIMEZONE,
    check_count,
    check_rate,
    check_seed,
    expit,
    rng_for,
)
from toolkit.synth.population import City

__all__ = [
    "PARTY_TURNOUT",
    "ROLE_TURNOUT_LOG_ODDS",
    "TURNOUT_BY_AGE_BAND",
    "make_attendance",
    "make_meetings",
]

#: Target turnout by age band. 18–29, 50–59 and 70–79 are the survey's figures (居委会 elections,
#: Shanghai, N ≈ 6,581; see ``docs/domain.md``, Participation); 30–39 and 40–49 are linear
#: interpolations, 60–69 the midpoint of its neighbours, and 80+ an assumed slight decline (frailty).
TURNOUT_BY_AGE_BAND: dict[str, float] = {
    "18-29": 0.138,
    "30-39": 0.277,
    "40-49": 0.417,
    "50-59": 0.557,
    "60-69": 0.667,
    "70-79": 0.777,
    "80+": 0.720,
}
#: Target turnout of party members (True) and others (False), from the same survey.
PARTY_TURNOUT: dict[bool, float] = {True: 0.651, False: 0.484}
#: Fixed log-odds added to the calibrated model for people holding a role (楼组长 come most).
ROLE_TURNOUT_LOG_ODDS: dict[str, float] = {
    "resident": 0.0,
    "party_member": 0.0,
    "building_head": 1.5,
    "owners_committee": 1.0,
    "deputy": 0.5,
}

_COORDINATION_RATE = {
    "elevator": 0.7,
    "property": 0.5,
    "greening": 0.3,
    "parking": 0.5,
    "waste": 0.3,
}
_ISSUE_TITLES = {
    "property": (
        "物业服务与收费调整",
        "关于物业服务费调整的听证会",
        "物业服务纠纷协调会",
        "物业服务质量评议会",
    ),
    "greening": (
        "小区绿化改造",
        "小区绿化改造方案听证会",
        "绿化改造施工协调会",
        "绿化改造项目评议会",
    ),
    "parking": (
        "停车与非机动车棚管理",
        "停车管理方案听证会",
        "停车纠纷协调会",
        "停车管理工作评议会",
    ),
    "waste": (
        "垃圾分类与箱房改造",
        "垃圾箱房改造听证会",
        "垃圾箱房选址协调会",
        "垃圾分类工作评议会",
    ),
}
# evaluated subjects: always, sometimes (probability 0.5)
_SUBJECTS = {
    "elevator": (("juweihui", "contractor"), ("yeweihui",)),
    "property": (("wuye", "yeweihui"), ("juweihui",)),
    "greening": (("juweihui", "contractor"), ("wuye",)),
    "parking": (("juweihui", "wuye"), ("yeweihui",)),
    "waste": (("juweihui", "wuye"), ()),
}
_START_TIMES = (timedelta(hours=9, minutes=30), timedelta(hours=14), timedelta(hours=19))
MEETING_COLUMNS = (
    "meeting_id",
    "issue_id",
    "community_id",
    "street_id",
    "issue",
    "issue_title",
    "kind",
    "sequence",
    "title",
    "date",
    "starts_at",
    "building_id",
    "project_elevator",
    "subjects",
    "members",
    "ballots_issued",
    "agreement",
)


def make_meetings(
    city: City,
    *,
    seed: int = 0,
    per_community: int = 4,
    start: str = "2025-01-01",
    issues: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Lay out meetings: per community, ``per_community`` issues, each a hearing, sometimes a
    coordination meeting, and an evaluation meeting.

    Parameters
    ----------
    city : City
        From :func:`toolkit.synth.make_city`.
    seed : int, default 0
        Seed of the draws (mixed with ``city.seed``).
    per_community : int, default 4
        Issues per community (each gives 2 or 3 meetings).
    start : str, default "2025-01-01"
        First possible meeting date (ISO); a community's issues are spread over the following
        ``per_community`` quarters, evaluations 3–6 months after the last earlier meeting.
    issues : sequence of str, optional
        Issue kinds to assign in turn (community j's k-th issue is
        ``issues[(j * per_community + k) % len(issues)]``), from ``elevator``, ``property``,
        ``greening``, ``parking``, ``waste``. An elevator needs a walk-up without one; where
        there is none the next non-elevator kind is used. Default: an elevator first where
        possible, then the other kinds in a random order.

    Returns
    -------
    pandas.DataFrame
        One row per meeting, ordered by community, issue and sequence:

        - meeting_id (``S01-C02-M03``), issue_id (``S01-C02-I1``), community_id, street_id;
        - issue: ``elevator`` (加装电梯, one walk-up building without an elevator), ``property``
          (物业管理), ``greening`` (绿化), ``parking`` (停车), ``waste`` (垃圾分类); issue_title
          (Chinese);
        - kind: ``hearing``, ``coordination`` or ``evaluation``; sequence (1, 2, 3 along the issue);
          title (Chinese); date (datetime64, midnight); starts_at (tz-aware, Asia/Shanghai);
        - building_id: the building of an elevator issue, else missing;
        - project_elevator: True for the evaluation of an elevator project (its ballots include the
          ``elevator`` grid and ``project_elevator = 'yes'``);
        - subjects: tuple of evaluated subject ids (``juweihui``, ``wuye``, ``yeweihui``,
          ``contractor``; order of ``docs/evaluation-ballot.md``), empty unless an evaluation;
        - members: size of the invited roster of the issue (:func:`make_attendance` invites
          exactly these people to every meeting of the issue);
        - ballots_issued: ballots prepared for an evaluation meeting, one per invited member
          (missing for other kinds); the returned ballots are the rows of
          :func:`toolkit.synth.make_ballots` for the meeting;
        - agreement: outcome of a coordination meeting (``yes``, ``partial``, ``no``), else missing.

    Notes
    -----
    Old communities with walk-ups lacking an elevator put an elevator issue first (the flagship
    case); the other issues come in a random order. A coordination meeting is held with
    probability 0.7 for an elevator, 0.5 for property and parking, 0.3 for greening and waste. The
    roster of an elevator issue is every adult of the building plus the owners' committee and
    deputies of the community; other issues invite the community's building heads, owners'
    committee and deputies plus a random sample of residents, 60–90 people in all (capped at the
    community's adults).

    Examples
    --------
    >>> from toolkit.synth import make_city
    >>> meetings = make_meetings(make_city(seed=1, streets=1, communities_per_street=2),
    ...                          per_community=1)
    >>> meetings[["meeting_id", "kind", "title"]].head(2).to_numpy().tolist()
    [['S01-C01-M01', 'hearing', '3号楼加装电梯听证会'],
     ['S01-C01-M02', 'evaluation', '3号楼加装电梯项目评议会']]
    >>> meetings["subjects"].iloc[1], int(meetings["members"].iloc[1])
    (('juweihui', 'contractor'), 44)
    """
    seed = check_seed(seed)
    per_community = check_count("per_community", per_community)
    if issues is not None:
        if isinstance(issues, str) or len(issues) == 0:
            raise ParameterError(
                f"`issues` must be a non-empty list of issue kinds such as ['elevator', "
                f"'property']; got {issues!r}."
            )
        issues = [check_option("issues", i, ISSUES) for i in issues]
    try:
        origin = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"`start` must be an ISO date such as '2025-01-01'; got {start!r}."
        ) from exc
    if pd.isna(origin):
        raise ParameterError(f"`start` must be an ISO date such as '2025-01-01'; got {start!r}.")
    origin = origin.normalize().tz_localize(None) if origin.tzinfo else origin.normalize()
    rng = rng_for("meetings", seed, city.seed)
    comm = city.communities
    bld = city.buildings
    res = city.residents
    adults = res.groupby("community_id").size()
    role_holders = res[res["role"].isin(["building_head", "owners_committee", "deputy"])]
    extra_roster = (
        res[res["role"].isin(["owners_committee", "deputy"])].groupby("community_id").size()
    )
    bld_adults = res.groupby("building_id").size()
    spacing = 365.0 / max(per_community, 4)
    rows: list[dict[str, Any]] = []
    for c_idx, community in enumerate(comm.itertuples(index=False)):
        cid = community.community_id
        candidates = bld[(bld["community_id"] == cid) & ~bld["has_elevator"] & (bld["floors"] >= 5)]
        candidate_ids = list(rng.permutation(candidates["building_id"].to_numpy()))
        others = [ISSUES[i] for i in rng.permutation(np.arange(1, len(ISSUES)))]
        plan: list[tuple[str, str | None]] = []
        other_k = 0
        for k in range(per_community):
            if issues is not None:
                wanted = issues[(c_idx * per_community + k) % len(issues)]
                want_elevator = wanted == "elevator" and bool(candidate_ids)
                if wanted == "elevator" and not want_elevator:
                    after = [i for i in issues[k + 1 :] + issues if i != "elevator"]
                    wanted = after[0] if after else others[0]
            else:
                # an elevator first where there are candidate walk-ups, then one issue in five
                wanted = ""
                want_elevator = bool(candidate_ids) and (k == 0 or rng.random() < 0.2)
            if want_elevator:
                plan.append(("elevator", str(candidate_ids.pop(0))))
            elif wanted:
                plan.append((wanted, None))
            else:
                plan.append((others[other_k % len(others)], None))
                other_k += 1
        meeting_no = 0
        n_adults = int(adults.get(cid, 0))
        n_roles = int((role_holders["community_id"] == cid).sum())
        for k, (issue, building_id) in enumerate(plan):
            issue_id = f"{cid}-I{k + 1}"
            if issue == "elevator":
                b_no = int(bld.loc[bld["building_id"] == building_id, "building_no"].iloc[0])
                issue_title = f"{b_no}号楼加装电梯"
                titles = (
                    f"{issue_title}听证会",
                    f"{issue_title}协调会",
                    f"{issue_title}项目评议会",
                )
                members = int(bld_adults.get(building_id, 0)) + int(extra_roster.get(cid, 0))
                members -= int(
                    res[
                        (res["building_id"] == building_id)
                        & res["role"].isin(["owners_committee", "deputy"])
                    ].shape[0]
                )
            else:
                issue_title, *rest = _ISSUE_TITLES[issue]
                titles = (rest[0], rest[1], rest[2])
                members = min(max(int(rng.integers(60, 91)), n_roles), n_adults)
            always, maybe = _SUBJECTS[issue]
            chosen = set(always) | {s for s in maybe if rng.random() < 0.5}
            subjects = tuple(s for s in SUBJECTS if s in chosen)
            kinds = ["hearing"]
            if rng.random() < _COORDINATION_RATE[issue]:
                kinds.append("coordination")
            kinds.append("evaluation")
            day = origin + pd.Timedelta(days=int(k * spacing + rng.integers(0, 45)))
            for seq, kind in enumerate(kinds, start=1):
                if seq > 1:
                    gap = rng.integers(14, 46) if kind == "coordination" else rng.integers(90, 181)
                    day = day + pd.Timedelta(days=int(gap))
                meeting_no += 1
                start_time = _START_TIMES[int(rng.integers(0, len(_START_TIMES)))]
                evaluation = kind == "evaluation"
                title_index = {"hearing": 0, "coordination": 1, "evaluation": 2}[kind]
                rows.append(
                    {
                        "meeting_id": f"{cid}-M{meeting_no:02d}",
                        "issue_id": issue_id,
                        "community_id": cid,
                        "street_id": community.street_id,
                        "issue": issue,
                        "issue_title": issue_title,
                        "kind": kind,
                        "sequence": seq,
                        "title": titles[title_index],
                        "date": day,
                        "starts_at": (day + start_time).tz_localize(TIMEZONE),
                        "building_id": building_id,
                        "project_elevator": evaluation and issue == "elevator",
                        "subjects": subjects if evaluation else (),
                        "members": members,
                        "ballots_issued": members if evaluation else None,
                        "agreement": (
                            str(rng.choice(["yes", "partial", "no"], p=[0.6, 0.3, 0.1]))
                            if kind == "coordination"
                            else None
                        ),
                    }
                )
    out = pd.DataFrame(rows, columns=list(MEETING_COLUMNS))
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["starts_at"] = pd.to_datetime(out["starts_at"]).dt.as_unit("ns")
    out["ballots_issued"] = out["ballots_issued"].astype("Int64")
    out["members"] = out["members"].astype(np.int64)
    out["sequence"] = out["sequence"].astype(np.int64)
    return out


def _calibrate(
    band: np.ndarray, party: np.ndarray, offset: np.ndarray, *, iterations: int = 100
) -> tuple[np.ndarray, float]:
    """Fit band intercepts ``a`` and party log-odds ``b`` of p = expit(a[band] + b·party + offset)
    so that the mean p by age band and by party status meet the targets (weighted least squares,
    Gauss–Newton); bands absent from the roster keep the logit of their target."""
    targets_band = np.array([TURNOUT_BY_AGE_BAND[b] for b in AGE_BANDS])
    a = np.log(targets_band / (1.0 - targets_band))
    b = 0.0
    x_party = party.astype(float)
    groups: list[tuple[np.ndarray, float]] = [
        (band == k, float(targets_band[k])) for k in range(len(AGE_BANDS))
    ]
    groups += [(party, PARTY_TURNOUT[True]), (~party, PARTY_TURNOUT[False])]
    groups = [(mask, target) for mask, target in groups if mask.any()]
    design = np.zeros((len(band), len(AGE_BANDS) + 1))
    design[np.arange(len(band)), band] = 1.0
    design[:, -1] = x_party
    # weights √(group share): the unavoidable misfit (nine targets, eight parameters) is spread
    # evenly over age bands and party groups instead of landing on the large non-party group
    weight = np.sqrt(np.array([mask.mean() for mask, _ in groups]))
    for _ in range(iterations):
        p = expit(a[band] + b * x_party + offset)
        slope = p * (1.0 - p)
        residual = np.array([p[mask].mean() - target for mask, target in groups])
        jacobian = np.vstack(
            [(slope[mask, None] * design[mask]).mean(axis=0) for mask, _ in groups]
        )
        step = np.linalg.lstsq(weight[:, None] * jacobian, -weight * residual, rcond=None)[0]
        step = np.clip(step, -2.0, 2.0)  # damped: tiny rosters must not diverge
        a = np.clip(a + step[:-1], -10.0, 10.0)
        b = float(np.clip(b + step[-1], -10.0, 10.0))
        if np.max(np.abs(step)) < 1e-10:
            break
    return a, b


def make_attendance(
    city: City, meetings: pd.DataFrame, *, seed: int = 0, persistence: float = 0.5
) -> pd.DataFrame:
    """Invite each issue's roster to its meetings and draw who attends.

    Parameters
    ----------
    city : City
        The city the meetings were made for.
    meetings : pandas.DataFrame
        From :func:`make_meetings` (needs meeting_id, issue_id, community_id, issue, kind,
        sequence, date, building_id, members).
    seed : int, default 0
        Seed of the draws (mixed with ``city.seed``).
    persistence : float, default 0.5
        Repeat participation ρ along an issue, in [0, 1): after attending, the chance to attend
        the next meeting of the issue is p + ρ(1 − p); after staying away it is p(1 − ρ).

    Returns
    -------
    pandas.DataFrame
        One row per invited person and meeting (the invited roster), ordered by meeting:
        meeting_id, issue_id, community_id, kind, sequence, date, participant_id, role, age_band,
        gender, party_member, building_id, floor_band, tenure, invited (always True), attended
        (bool), propensity (the person's calibrated probability p of attending any one meeting),
        attended_before (attended an earlier meeting of the same issue), first_time (has not
        attended an evaluation meeting before this one: no earlier one in the data and no history
        from before it).

    Notes
    -----
    Turnout model: logit p = a[age band] + b·party + r[role], with fixed role log-odds
    :data:`ROLE_TURNOUT_LOG_ODDS` and a, b calibrated on the roster itself (Gauss–Newton least
    squares) so that the mean p by age band meets :data:`TURNOUT_BY_AGE_BAND` and by party status
    meets :data:`PARTY_TURNOUT`. Nine targets with eight parameters: each is met to within about a
    point (the survey's party gap is partly an age gap). Attendance along an issue's meetings is a
    two-state Markov chain whose stationary probability is p at every meeting, so expected turnout
    by group stays calibrated while people who came before are more likely to come again. History
    before the data: a person has attended an evaluation with probability 1 − (1 − p)², role
    holders with 0.95.

    References
    ----------
    ``docs/domain.md``, Participation: turnout in 居委会 elections, Shanghai
    survey N ≈ 6,581.

    Examples
    --------
    >>> from toolkit.synth import make_city, make_meetings
    >>> city = make_city(seed=1, streets=1, communities_per_street=2)
    >>> attendance = make_attendance(city, make_meetings(city, per_community=1))
    >>> bool(attendance["invited"].all()), round(float(attendance["attended"].mean()), 1)
    (True, 0.5)
    """
    seed = check_seed(seed)
    rho = check_rate("persistence", persistence)
    if rho >= 1.0:
        raise ParameterError(f"`persistence` must be in [0, 1); got {persistence!r}.")
    needed = ["meeting_id", "issue_id", "community_id", "issue", "kind", "sequence", "date"]
    needed += ["building_id", "members"]
    missing = [c for c in needed if c not in meetings.columns]
    if missing:
        raise DataError(
            f"`meetings` has no column {', '.join(f'`{m}`' for m in missing)}; "
            "pass the DataFrame returned by make_meetings(city).",
            code="E_MISSING_COLUMN",
        )
    rng = rng_for("attendance", seed, city.seed)
    res = city.residents
    res_index = pd.RangeIndex(len(res))
    comm_codes = pd.Index(city.communities["community_id"]).get_indexer(res["community_id"])
    role = res["role"].to_numpy()
    is_role_holder = np.isin(role, ["building_head", "owners_committee", "deputy"])
    is_extra = np.isin(role, ["owners_committee", "deputy"])
    building = res["building_id"].to_numpy()
    comm_ids = city.communities["community_id"].tolist()

    # --- rosters: one per issue ---------------------------------------------------------------
    issues = meetings.drop_duplicates("issue_id")
    roster_person: list[np.ndarray] = []
    roster_issue: list[np.ndarray] = []
    for i, issue in enumerate(issues.itertuples(index=False)):
        c = comm_ids.index(issue.community_id) if issue.community_id in comm_ids else -1
        if c < 0:
            raise DataError(
                f"`meetings`, issue `{issue.issue_id}`: community `{issue.community_id}` is not "
                "in the city; make the meetings and the attendance from the same city."
            )
        in_comm = comm_codes == c
        if issue.issue == "elevator" and isinstance(issue.building_id, str):
            people = res_index[(in_comm & (building == issue.building_id)) | (in_comm & is_extra)]
        else:
            fixed = res_index[in_comm & is_role_holder].to_numpy()
            pool = res_index[in_comm & ~is_role_holder].to_numpy()
            size = int(issue.members)  # type: ignore[arg-type]
            if size <= len(fixed):
                people = np.sort(rng.choice(fixed, size=size, replace=False))
            else:
                extra = rng.choice(pool, size=min(size - len(fixed), len(pool)), replace=False)
                people = np.sort(np.concatenate([fixed, extra]))
        roster_person.append(np.asarray(people, dtype=np.int64))
        roster_issue.append(np.full(len(people), i))
    person = np.concatenate(roster_person) if roster_person else np.zeros(0, np.int64)
    issue_of = np.concatenate(roster_issue) if roster_issue else np.zeros(0, np.int64)

    # --- expand to meetings: every meeting of an issue invites the issue's roster --------------
    m = meetings.reset_index(drop=True)
    issue_codes = pd.Index(issues["issue_id"]).get_indexer(m["issue_id"])
    order = np.argsort(issue_of, kind="stable")
    person, issue_of = person[order], issue_of[order]
    starts = np.searchsorted(issue_of, np.arange(len(issues)))
    ends = np.searchsorted(issue_of, np.arange(len(issues)), side="right")
    rows_meeting = (
        np.concatenate([np.full(ends[j] - starts[j], k) for k, j in enumerate(issue_codes)])
        if len(m)
        else np.zeros(0, np.int64)
    )
    rows_person = (
        np.concatenate([person[starts[j] : ends[j]] for j in issue_codes])
        if len(m)
        else np.zeros(0, np.int64)
    )

    # --- calibrated propensity -------------------------------------------------------------------
    band = pd.Index(AGE_BANDS).get_indexer(pd.Index(res["age_band"]))
    party = res["party_member"].to_numpy(dtype=bool)
    offset = np.array([ROLE_TURNOUT_LOG_ODDS[r] for r in role])
    a, b = _calibrate(band[rows_person], party[rows_person], offset[rows_person])
    p_person = expit(a[band] + b * party + offset)

    # --- attendance: a stationary Markov chain along each issue, by sequence -------------------
    p_row = p_person[rows_person]
    seq = m["sequence"].to_numpy()[rows_meeting]
    row_issue = issue_codes[rows_meeting]
    # sorted by (issue, person, sequence): the row before a later meeting is the same person's
    # previous meeting of the issue (every meeting of an issue invites the same roster)
    chain = np.lexsort((seq, rows_person, row_issue))
    s_seq, s_p = seq[chain], p_row[chain]
    u = rng.random(len(chain))
    s_att = np.zeros(len(chain), dtype=bool)
    s_before = np.zeros(len(chain), dtype=bool)
    for step in np.unique(s_seq):
        here = np.flatnonzero(s_seq == step)
        if step == 1:
            prob = s_p[here]
        else:
            prev = s_att[here - 1]
            s_before[here] = s_before[here - 1] | prev
            prob = np.where(prev, s_p[here] + rho * (1.0 - s_p[here]), s_p[here] * (1.0 - rho))
        s_att[here] = u[here] < prob
    attended = np.empty_like(s_att)
    attended[chain] = s_att
    before = np.empty_like(s_before)
    before[chain] = s_before

    # --- first time at an evaluation meeting ----------------------------------------------------
    prior = rng.random(len(res)) < np.where(is_role_holder, 0.95, 1 - (1 - p_person) ** 2)
    kind = m["kind"].to_numpy()[rows_meeting]
    date = m["date"].to_numpy()[rows_meeting]
    frame = pd.DataFrame(
        {"person": rows_person, "date": date, "ev": (kind == "evaluation") & attended}
    )
    # attended evaluations on strictly earlier days (same-day meetings do not count)
    daily = frame.groupby(["person", "date"])["ev"].sum()
    before_day = (daily.groupby(level="person").cumsum() - daily).rename("earlier")
    earlier = frame.join(before_day, on=["person", "date"])["earlier"]
    earlier_ev = earlier.to_numpy() > 0
    first_time = ~prior[rows_person] & ~earlier_ev

    pick = m.iloc[rows_meeting]
    out = pd.DataFrame(
        {
            "meeting_id": pick["meeting_id"].to_numpy(),
            "issue_id": pick["issue_id"].to_numpy(),
            "community_id": pick["community_id"].to_numpy(),
            "kind": kind,
            "sequence": seq.astype(np.int64),
            "date": pick["date"].to_numpy(),
            "participant_id": res["participant_id"].to_numpy()[rows_person],
            "role": role[rows_person],
            "age_band": res["age_band"].to_numpy()[rows_person],
            "gender": res["gender"].to_numpy()[rows_person],
            "party_member": party[rows_person],
            "building_id": building[rows_person],
            "floor_band": res["floor_band"].to_numpy()[rows_person],
            "tenure": res["tenure"].to_numpy()[rows_person],
            "invited": np.ones(len(rows_person), dtype=bool),
            "attended": attended,
            "propensity": p_row,
            "attended_before": before,
            "first_time": first_time,
        }
    )
    return out
