"""Synthetic evaluation ballots (评议会测评表) in the flat answers layout, small or very large.

A ballot is one row: metadata columns (:data:`META_COLUMNS`) then one column per answer variable of
``docs/evaluation-ballot.md`` (:data:`ANSWER_COLUMNS`): ``{subject}__{item}`` for the four usual
subjects, ``project_elevator`` and the ``elevator`` grid, ``rectify``, ``rectify_other``,
``comments`` and the anonymous rater profile. A cell is missing (NaN / ``<NA>``) when the variable
was not asked at that meeting (a subject not evaluated there, the elevator grid elsewhere) or was left
blank. :func:`ballots_to_answers` turns one row into the flat answers mapping the store accepts.

Column types
------------
=======================================  ==========================================================
column                                   dtype and values
=======================================  ==========================================================
``submission_id``                        ``str``: a version-4 UUID drawn from the seed
``meeting_id``, ``device``               ``str`` (device: the community's tablet, ``S01-C02-T03``)
``started_at``, ``submitted_at``         ``datetime64[ns, Asia/Shanghai]``
``status``                               category ``valid`` / ``void`` (作废票)
``{subject}__{item}``, elevator items    category ``satisfied`` / ``basically_satisfied`` /
                                         ``dissatisfied`` / ``dont_know`` (unordered)
``project_elevator``                     category ``yes`` / ``no`` (always answered: default ``no``)
``rectify``                              category: the chosen codes **joined by ``;``** in
                                         instrument order (``"slow_response;quality_issue"``);
                                         missing when none; :func:`ballots_to_answers` gives a list
``rectify_other``, ``comments``          ``str`` (short Chinese texts) or missing
``role``, ``age_band``, ``gender``,      category with the codes of the ``profile`` page
``floor_band``, ``tenure``,
``first_time``
``building``                             ``Int64`` (楼号 within the community, 1..200)
=======================================  ==========================================================

Ballots are anonymous: no participant id, and rows are in order of submission within a meeting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import DataError
from toolkit.synth._common import (
    AGE_BANDS,
    BALLOT_ROLES,
    ELEVATOR_ITEMS,
    FLOOR_BANDS,
    GENDERS,
    ISSUES,
    RATING_CODES,
    RATING_ITEMS,
    RECTIFY_CODES,
    ROLE_TO_BALLOT,
    SUBJECTS,
    TENURES,
    TIMEZONE,
    categorical,
    check_count,
    check_rate,
    check_seed,
    rng_for,
    uuids,
)
from toolkit.synth._text import COMMENTS, RECTIFY_OTHER
from toolkit.synth.meetings import _SUBJECTS, MEETING_COLUMNS, TURNOUT_BY_AGE_BAND
from toolkit.synth.population import City

__all__ = [
    "ANSWER_COLUMNS",
    "BALLOT_COLUMNS",
    "DONT_KNOW_WEIGHTS",
    "ITEM_DIFFICULTY",
    "META_COLUMNS",
    "SUBJECT_EFFECTS",
    "ballots_answers",
    "ballots_to_answers",
    "make_ballots",
    "make_large",
    "make_large_meetings",
]

META_COLUMNS: tuple[str, ...] = (
    "submission_id",
    "meeting_id",
    "device",
    "started_at",
    "submitted_at",
    "status",
)
PROFILE_COLUMNS: tuple[str, ...] = (
    "role",
    "age_band",
    "gender",
    "building",
    "floor_band",
    "tenure",
    "first_time",
)
#: Answer variables in instrument order (per-subject ratings for the four usual subjects).
ANSWER_COLUMNS: tuple[str, ...] = (
    *(f"{s}__{k}" for s in SUBJECTS for k in RATING_ITEMS),
    "project_elevator",
    *ELEVATOR_ITEMS,
    "rectify",
    "rectify_other",
    "comments",
    *PROFILE_COLUMNS,
)
#: Every column of a ballots DataFrame, in order.
BALLOT_COLUMNS: tuple[str, ...] = (*META_COLUMNS, *ANSWER_COLUMNS)

# --- the latent satisfaction model (logit scale) ---------------------------------------------
_MU = 1.0  # grand mean
_CUTS = (-1.5, 0.8)  # dissatisfied | basically_satisfied | satisfied
_SD_PERSON = 0.9  # a rater's general leniency
_SD_PERSON_SUBJECT = 0.6  # a rater's view of one subject
_SD_MEETING_SUBJECT = 0.3  # how one subject did on one issue
#: Subject effects (the residents' committee rates best, property companies worst).
SUBJECT_EFFECTS: dict[str, float] = {
    "juweihui": 0.5,
    "wuye": -0.4,
    "yeweihui": 0.0,
    "contractor": -0.2,
}
#: Item difficulty, subtracted from the latent (harder items get lower ratings).
ITEM_DIFFICULTY: dict[str, float] = {
    "attitude": -0.5,
    "efficiency": 0.2,
    "transparency": 0.4,
    "responsiveness": 0.3,
    "integrity": 0.1,
    "results": 0.0,
    "overall": -0.1,
    "build_quality": -0.2,
    "schedule": 0.5,
    "noise_dust": 0.8,
    "daylight": 0.7,
    "cost_sharing": 0.6,
    "maintenance": 0.3,
}
_LOW_FLOOR = {"noise_dust": -0.5, "daylight": -0.9, "cost_sharing": -0.6}  # floors 1-3 lose most
#: Relative propensity of 不了解 by item and subject (first-timers: × 2.5), rescaled so that the
#: mean over the eligible cells of the data is the requested ``dont_know_rate``.
DONT_KNOW_WEIGHTS: dict[str, float] = {
    "attitude": 0.5,
    "efficiency": 0.8,
    "transparency": 1.8,
    "responsiveness": 1.0,
    "integrity": 2.0,
    "results": 1.0,
    "build_quality": 1.0,
    "schedule": 0.6,
    "noise_dust": 0.4,
    "daylight": 0.6,
    "cost_sharing": 1.2,
    "maintenance": 2.0,
    "juweihui": 0.8,
    "wuye": 1.0,
    "yeweihui": 1.3,
    "contractor": 1.3,
}
_FIRST_TIME_DONT_KNOW = 2.5
_VOID_BLANK = 0.7  # a void ballot (作废票) is mostly blank
# which items, when rated 不满意, make a rater ask for which rectification
_RECTIFY_SOURCES: dict[str, tuple[str, ...]] = {
    "attitude_issue": ("attitude",),
    "slow_response": ("efficiency", "responsiveness", "schedule"),
    "transparency_issue": ("transparency",),
    "fairness_issue": ("integrity", "daylight", "cost_sharing"),
    "quality_issue": ("results", "build_quality"),
    "safety_issue": ("maintenance",),
    "environment_issue": ("noise_dust",),
    "other": ("overall",),
}


@dataclass(frozen=True)
class _Plan:
    """Arrays describing the meetings (length M) and the ballots (length n) to draw."""

    meeting_id: np.ndarray  # (M,) object
    community_id: np.ndarray  # (M,) object
    issue: np.ndarray  # (M,) int, index into ISSUES
    start_ns: np.ndarray  # (M,) int64, UTC nanoseconds of the meeting's start
    subjects: np.ndarray  # (M, 4) bool
    elevator: np.ndarray  # (M,) bool
    shift: np.ndarray  # (M, 4) community effect + meeting × subject deviation
    elevator_shift: np.ndarray  # (M,)
    meeting: np.ndarray  # (n,) int, sorted ascending
    theta: np.ndarray  # (n,) rater leniency
    person_subject: np.ndarray  # (n, 4)
    first_time: np.ndarray  # (n,) bool
    party: np.ndarray  # (n,) bool
    role: np.ndarray  # (n,) index into BALLOT_ROLES
    age_band: np.ndarray  # (n,) index into AGE_BANDS
    gender: np.ndarray  # (n,) index into GENDERS
    building: np.ndarray  # (n,) int
    floor_band: np.ndarray  # (n,) index into FLOOR_BANDS
    tenure: np.ndarray  # (n,) index into TENURES


_PER_BALLOT = (
    *("meeting", "theta", "person_subject", "first_time", "party", "role", "age_band"),
    *("gender", "building", "floor_band", "tenure"),
)


def _check_rates(**rates: Any) -> dict[str, float]:
    return {name: check_rate(name, value, high=0.9) for name, value in rates.items()}


def _take(plan: _Plan, order: np.ndarray) -> _Plan:
    """The plan with its per-ballot arrays reordered."""
    changes = {f: getattr(plan, f)[order] for f in _PER_BALLOT}
    return _Plan(**{**plan.__dict__, **changes})


def _logistic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard logistic noise in float32 (ample for cutting into three categories)."""
    u = rng.random(shape, dtype=np.float32)
    with np.errstate(divide="ignore"):
        return np.log(u / (np.float32(1.0) - u))


def _rate(latent: np.ndarray) -> np.ndarray:
    """Cut latent values into codes 0 satisfied, 1 basically satisfied, 2 dissatisfied."""
    return np.where(latent > _CUTS[1], 0, np.where(latent > _CUTS[0], 1, 2)).astype(np.int8)


def _draw(rng: np.random.Generator, plan: _Plan, rates: dict[str, float]) -> pd.DataFrame:
    """The vectorised core shared by :func:`make_ballots` and :func:`make_large`."""
    n = len(plan.meeting)
    n_meetings = len(plan.meeting_id)

    # --- submission times: raters queue at the meeting's tablets in random order --------------
    order = np.lexsort((rng.random(n), plan.meeting))
    meeting = plan.meeting[order]
    counts = np.bincount(meeting, minlength=n_meetings)
    first = np.cumsum(counts) - counts
    position = np.arange(n) - first[meeting]
    tablets = np.clip(np.ceil(counts / 6.0), 3, 8).astype(np.int64)
    tablet = position % tablets[meeting]
    slot = position // tablets[meeting]
    n_items = plan.subjects[meeting].sum(axis=1) * len(RATING_ITEMS) + plan.elevator[meeting] * 6
    pace = 1.0 + 0.012 * (plan.age_band[order] * 10.0 - 15.0)  # older raters take longer
    duration = np.exp(rng.normal(0.0, 0.35, n)) * (35.0 + 8.0 * n_items) * pace  # seconds
    handover = rng.uniform(5.0, 40.0, n)
    queue = np.lexsort((slot, tablet, meeting))
    busy = (duration + handover)[queue]
    cum = np.cumsum(busy) - busy
    group_start = np.r_[True, (np.diff(meeting[queue]) != 0) | (np.diff(tablet[queue]) != 0)]
    start_index = np.maximum.accumulate(np.where(group_start, np.arange(n), 0))
    waited = np.empty(n)
    waited[queue] = cum - cum[start_index]
    opening = rng.uniform(50.0, 80.0, n_meetings) * 60.0  # voting opens after the discussion
    started = opening[meeting] + rng.uniform(0.0, 90.0, n) * (slot == 0) + waited
    started_ns = plan.start_ns[meeting] + (started * 1e9).astype(np.int64)
    submitted_ns = started_ns + (duration * 1e9).astype(np.int64)
    final = np.lexsort((submitted_ns, meeting))
    plan = _take(plan, order[final])  # one reordering of the rater arrays: submission order
    meeting = plan.meeting
    started_ns, submitted_ns, tablet = started_ns[final], submitted_ns[final], tablet[final]

    void = rng.random(n) < rates["void_rate"]
    blank_p = np.where(void, max(_VOID_BLANK, rates["blank_rate"]), rates["blank_rate"])
    ft = np.where(plan.first_time, _FIRST_TIME_DONT_KNOW, 1.0)
    elevator = plan.elevator[meeting]
    subjects = plan.subjects[meeting]

    # 不了解: weights normalised over every eligible cell of the data
    grid_items = [k for k in RATING_ITEMS if k != "overall"]
    item_w = np.array([DONT_KNOW_WEIGHTS[k] for k in grid_items])
    subj_w = np.array([DONT_KNOW_WEIGHTS[s] for s in SUBJECTS])
    elev_w = np.array([DONT_KNOW_WEIGHTS[k] for k in ELEVATOR_ITEMS])
    total = float(np.sum(ft * (subjects @ subj_w * item_w.sum() + elevator * elev_w.sum())))
    cells = float(np.sum(subjects.sum(axis=1) * len(grid_items) + elevator * len(ELEVATOR_ITEMS)))
    scale = rates["dont_know_rate"] * cells / total if total > 0 else 0.0

    leniency = _MU + plan.theta + 0.08 * (plan.age_band - 3.0)
    columns: dict[str, Any] = {}
    dissatisfied: dict[str, np.ndarray] = {}
    lukewarm: dict[str, np.ndarray] = {}
    difficulty = np.array([ITEM_DIFFICULTY[k] for k in RATING_ITEMS], dtype=np.float32)
    dk_allowed = np.array([k != "overall" for k in RATING_ITEMS])
    item_dk = np.array([DONT_KNOW_WEIGHTS.get(k, 0.0) for k in RATING_ITEMS])
    for j, subject in enumerate(SUBJECTS):
        idx = np.flatnonzero(subjects[:, j])
        eta = leniency[idx] + plan.person_subject[idx, j] + plan.shift[meeting[idx], j]
        eta = eta + SUBJECT_EFFECTS[subject]
        if subject == "juweihui":
            eta = eta + 0.3 * plan.party[idx]
        if subject == "wuye":
            eta = eta - 0.3 * (plan.tenure[idx] == 1)
        latent = (eta.astype(np.float32)[:, None] - difficulty[None, :]) + _logistic(
            rng, (len(idx), len(RATING_ITEMS))
        )
        codes = _rate(latent)
        p_dk = scale * ft[idx, None] * DONT_KNOW_WEIGHTS[subject] * item_dk[None, :]
        u = rng.random(codes.shape)
        codes = np.where(dk_allowed[None, :] & (u < np.minimum(p_dk, 0.95)), 3, codes)
        codes = np.where(rng.random(codes.shape) < blank_p[idx, None], -1, codes)
        for k, item in enumerate(RATING_ITEMS):
            full = np.full(n, -1, dtype=np.int8)
            full[idx] = codes[:, k]
            columns[f"{subject}__{item}"] = full
            dissatisfied[item] = dissatisfied.get(item, np.zeros(n, bool)) | (full == 2)
            lukewarm[item] = lukewarm.get(item, np.zeros(n, bool)) | (full == 1)

    columns["project_elevator"] = np.where(elevator, 0, 1).astype(np.int8)
    idx = np.flatnonzero(elevator)
    floor_shift = np.zeros((len(idx), len(ELEVATOR_ITEMS)))
    low = plan.floor_band[idx] == 0
    for k, item in enumerate(ELEVATOR_ITEMS):
        floor_shift[:, k] = np.where(low, _LOW_FLOOR.get(item, 0.0), 0.0)
        floor_shift[:, k] += 0.3 * (plan.floor_band[idx] == 2)
    eta = leniency[idx] + plan.elevator_shift[meeting[idx]]
    el_diff = np.array([ITEM_DIFFICULTY[k] for k in ELEVATOR_ITEMS])
    latent = (eta[:, None] - el_diff[None, :] + floor_shift).astype(np.float32)
    latent = latent + _logistic(rng, (len(idx), len(ELEVATOR_ITEMS)))
    codes = _rate(latent)
    p_dk = scale * ft[idx, None] * elev_w[None, :]
    codes = np.where(rng.random(codes.shape) < np.minimum(p_dk, 0.95), 3, codes)
    codes = np.where(rng.random(codes.shape) < blank_p[idx, None], -1, codes)
    for k, item in enumerate(ELEVATOR_ITEMS):
        full = np.full(n, -1, dtype=np.int8)
        full[idx] = codes[:, k]
        columns[item] = full
        dissatisfied[item] = full == 2
        lukewarm[item] = full == 1

    # --- rectification list: driven by the items rated 不满意 (or 基本满意) ----------------------
    issue = plan.issue[meeting]
    env_issue = np.isin(issue, [ISSUES.index("greening"), ISSUES.index("waste")])
    mask = np.zeros(n, dtype=np.int64)
    for bit, code in enumerate(RECTIFY_CODES):
        bad = np.zeros(n, bool)
        meh = np.zeros(n, bool)
        for item in _RECTIFY_SOURCES[code]:
            bad |= dissatisfied[item]
            meh |= lukewarm[item]
        if code == "other":
            p = 0.01 + 0.08 * bad
        else:
            base = np.where(env_issue, 0.06, 0.02) if code == "environment_issue" else 0.02
            p = base + 0.35 * bad + 0.03 * meh
        mask |= (rng.random(n) < p).astype(np.int64) << bit
    mask = np.where(rng.random(n) < blank_p, 0, mask)
    names = [";".join(c for b, c in enumerate(RECTIFY_CODES) if m >> b & 1) for m in range(256)]
    columns["rectify"] = categorical(mask - 1, names[1:])
    other = ((mask >> RECTIFY_CODES.index("other")) & 1).astype(bool) & (rng.random(n) < 0.7)
    pool = np.array(RECTIFY_OTHER, dtype=object)
    text = pool[rng.integers(0, len(pool), n)]
    columns["rectify_other"] = _blank(text, ~other)

    # --- comments: more often from unhappy raters, matching their mood and the issue ------------
    n_bad = np.zeros(n, dtype=np.int64)
    for name, column in columns.items():
        if name != "project_elevator":
            n_bad += column == 2
    unhappy = n_bad >= 2
    says = rng.random(n) < 0.08 + 0.30 * unhappy
    flat: list[str] = []
    offsets = np.zeros((len(ISSUES), 2), dtype=np.int64)
    sizes = np.zeros((len(ISSUES), 2), dtype=np.int64)
    for i, name in enumerate(ISSUES):
        for j, mood in enumerate(("positive", "negative")):
            texts = COMMENTS[(name, mood)] + COMMENTS[("general", mood)]
            offsets[i, j], sizes[i, j] = len(flat), len(texts)
            flat += texts
    mood_idx = unhappy.astype(np.int64)
    pick = offsets[issue, mood_idx] + (rng.random(n) * sizes[issue, mood_idx]).astype(np.int64)
    columns["comments"] = _blank(np.array(flat, dtype=object)[pick], ~(says & ~void))

    # --- the optional, anonymous rater profile --------------------------------------------------
    skip = rng.random(n) < rates["profile_skip_rate"]

    def profile(values: np.ndarray) -> np.ndarray:
        gone = skip | (rng.random(n) < rates["profile_blank_rate"])
        return np.where(gone, -1, values)

    columns["role"] = categorical(profile(plan.role), BALLOT_ROLES)
    columns["age_band"] = categorical(profile(plan.age_band), AGE_BANDS)
    columns["gender"] = categorical(profile(plan.gender), GENDERS)
    building = profile(plan.building)
    columns["building"] = pd.arrays.IntegerArray(building.astype(np.int64), mask=building < 0)
    columns["floor_band"] = categorical(profile(plan.floor_band), FLOOR_BANDS)
    columns["tenure"] = categorical(profile(plan.tenure), TENURES)
    columns["first_time"] = categorical(profile(np.where(plan.first_time, 0, 1)), ("yes", "no"))

    # --- metadata -------------------------------------------------------------------------------
    comm_codes, comm_names = pd.factorize(plan.community_id)
    device_code = comm_codes[meeting].astype(np.int64) * 8 + tablet
    used, device_idx = np.unique(device_code, return_inverse=True)
    device_names = np.array(
        [f"{comm_names[c // 8]}-T{c % 8 + 1:02d}" for c in used.tolist()], dtype=object
    )

    def stamp(ns: np.ndarray) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)

    out: dict[str, Any] = {
        "submission_id": pd.array(uuids(rng, n), dtype="str"),
        "meeting_id": pd.array(plan.meeting_id[meeting], dtype="str"),
        "device": pd.array(device_names[device_idx], dtype="str"),
        "started_at": stamp(started_ns),
        "submitted_at": stamp(submitted_ns),
        "status": categorical(void.astype(np.int8), ("valid", "void")),
    }
    for name in ANSWER_COLUMNS:
        value = columns[name]
        if name == "project_elevator":
            value = categorical(value, ("yes", "no"))
        elif name in ("rectify_other", "comments"):
            value = pd.array(value, dtype="str")
        elif isinstance(value, np.ndarray) and value.dtype == np.int8:
            value = categorical(value, RATING_CODES)
        out[name] = value
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def make_ballots(
    city: City,
    meetings: pd.DataFrame,
    attendance: pd.DataFrame,
    *,
    seed: int = 0,
    dont_know_rate: float = 0.06,
    blank_rate: float = 0.02,
    void_rate: float = 0.02,
    profile_skip_rate: float = 0.1,
    profile_blank_rate: float = 0.03,
) -> pd.DataFrame:
    """Draw one evaluation ballot per attendee of each evaluation meeting.

    Parameters
    ----------
    city : City
        From :func:`toolkit.synth.make_city`.
    meetings : pandas.DataFrame
        From :func:`toolkit.synth.make_meetings` (evaluation meetings get ballots).
    attendance : pandas.DataFrame
        From :func:`toolkit.synth.make_attendance`: every attendee of an evaluation meeting rates.
    seed : int, default 0
        Seed of the draws (mixed with ``city.seed``; a rater's leniency comes from the city's seed
        alone, so the same person is equally lenient at every meeting).
    dont_know_rate : float, default 0.06
        Expected share of 不了解 (``dont_know``) among the answered rating cells that offer it
        (every subject item but ``overall``; every elevator item).
    blank_rate : float, default 0.02
        Probability that a rating cell (and the rectification list) of a valid ballot is blank.
    void_rate : float, default 0.02
        Expected share of ballots with status ``void`` (作废; 70 % of their cells blank).
    profile_skip_rate : float, default 0.1
        Probability that a rater skips the whole optional profile page.
    profile_blank_rate : float, default 0.03
        Probability that one profile question is left blank otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BALLOT_COLUMNS` (see the module docstring for types), one row per ballot,
        grouped by meeting (in the order of ``meetings``), in order of submission.

    Notes
    -----
    Latent satisfaction of rater i with subject s on item k at meeting m of community c:

    .. math:: y^* = 1 + \\theta_i + u_{is} + \\gamma_c + \\delta_s + v_{ms} - \\beta_k
              + 0.08 (\\text{band}_i - 3) + \\varepsilon,

    θ ~ N(0, 0.9²) (leniency), u ~ N(0, 0.6²) (the rater's view of the subject), γ the
    community's ``satisfaction_effect``, δ :data:`SUBJECT_EFFECTS`, v ~ N(0, 0.3²), β
    :data:`ITEM_DIFFICULTY`, ε standard logistic; party members rate the 居委会 0.3 higher, renters
    the 物业 0.3 lower. Cut points −1.5 and 0.8 give 不满意 / 基本满意 / 满意 (an ordered logit).
    Elevator items use θ + γ + v plus a floor effect: floors 1–3 (who lose daylight and pay for
    little use) rate ``daylight`` −0.9, ``cost_sharing`` −0.6, ``noise_dust`` −0.5, floors 7+
    everything +0.3. Blank cells are drawn first; an answered cell that offers 不了解 becomes
    ``dont_know`` with probability proportional to :data:`DONT_KNOW_WEIGHTS` (× 2.5 for
    first-timers). Each rectification code is chosen with probability 0.02 + 0.35 [a related item
    rated 不满意] + 0.03 [rated 基本满意]; comments come from 8 % of raters plus 30 % of the
    unhappy ones (two or more 不满意), critical from the unhappy, appreciative from the others.

    Examples
    --------
    >>> from toolkit.synth import make_attendance, make_city, make_meetings
    >>> city = make_city(seed=1, streets=1, communities_per_street=2)
    >>> meetings = make_meetings(city, per_community=1)
    >>> ballots = make_ballots(city, meetings, make_attendance(city, meetings))
    >>> ballots.iloc[0]["submission_id"]
    '...-...-4...-...-...'
    >>> sorted(ballots["juweihui__overall"].dropna().unique())
    ['basically_satisfied', 'dissatisfied', 'satisfied']
    """
    seed = check_seed(seed)
    rates = _check_rates(
        dont_know_rate=dont_know_rate,
        blank_rate=blank_rate,
        void_rate=void_rate,
        profile_skip_rate=profile_skip_rate,
        profile_blank_rate=profile_blank_rate,
    )
    for name, frame, needed in (
        ("meetings", meetings, ("meeting_id", "community_id", "issue", "kind", "starts_at")),
        ("attendance", attendance, ("meeting_id", "participant_id", "attended", "first_time")),
    ):
        missing = [c for c in (*needed, "subjects", "project_elevator") if c not in frame.columns]
        if name == "attendance":
            missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(
                f"`{name}` has no column {', '.join(f'`{m}`' for m in missing)}; pass the "
                f"DataFrame returned by make_{name}(...).",
                code="E_MISSING_COLUMN",
            )
    rng = rng_for("ballots", seed, city.seed)
    evaluations = meetings[meetings["kind"] == "evaluation"].reset_index(drop=True)
    n_meetings = len(evaluations)
    res = city.residents
    latent_rng = rng_for("latent", city.seed)
    theta_all = latent_rng.normal(0.0, _SD_PERSON, len(res))
    person_subject_all = latent_rng.normal(0.0, _SD_PERSON_SUBJECT, (len(res), len(SUBJECTS)))

    raters = attendance[attendance["attended"].to_numpy(dtype=bool)]
    meeting_code = pd.Index(evaluations["meeting_id"]).get_indexer(raters["meeting_id"])
    raters = raters[meeting_code >= 0]
    meeting_code = meeting_code[meeting_code >= 0]
    person = pd.Index(res["participant_id"]).get_indexer(raters["participant_id"])
    if (person < 0).any():
        unknown = raters["participant_id"].to_numpy()[person < 0][0]
        raise DataError(
            f"`attendance`: participant `{unknown}` is not a resident of the city; make the "
            "attendance and the ballots from the same city."
        )
    order = np.argsort(meeting_code, kind="stable")
    meeting_code, person = meeting_code[order], person[order]
    first_time = raters["first_time"].to_numpy(dtype=bool)[order]

    effects = dict(
        zip(city.communities["community_id"], city.communities["satisfaction_effect"], strict=True)
    )
    community_effect = evaluations["community_id"].map(effects).to_numpy(dtype=float)
    subjects = np.array(
        [[s in tuple(row) for s in SUBJECTS] for row in evaluations["subjects"]], dtype=bool
    ).reshape(n_meetings, len(SUBJECTS))
    starts = pd.DatetimeIndex(evaluations["starts_at"])
    if starts.tz is None:
        starts = starts.tz_localize(TIMEZONE)
    role = np.array([BALLOT_ROLES.index(ROLE_TO_BALLOT[r]) for r in res["role"]])[person]
    says_other = (role == 0) & (rng.random(len(role)) < 0.04)  # some residents tick 其他
    role = np.where(says_other, BALLOT_ROLES.index("other"), role)
    plan = _Plan(
        meeting_id=evaluations["meeting_id"].to_numpy(dtype=object),
        community_id=evaluations["community_id"].to_numpy(dtype=object),
        issue=np.array([ISSUES.index(i) for i in evaluations["issue"]], dtype=np.int64),
        start_ns=starts.as_unit("ns").asi8,
        subjects=subjects,
        elevator=evaluations["project_elevator"].to_numpy(dtype=bool),
        shift=community_effect[:, None]
        + rng.normal(0.0, _SD_MEETING_SUBJECT, (n_meetings, len(SUBJECTS))),
        elevator_shift=community_effect + rng.normal(0.0, _SD_MEETING_SUBJECT, n_meetings),
        meeting=meeting_code.astype(np.int64),
        theta=theta_all[person],
        person_subject=person_subject_all[person],
        first_time=first_time,
        party=res["party_member"].to_numpy(dtype=bool)[person],
        role=role,
        age_band=pd.Index(AGE_BANDS).get_indexer(pd.Index(res["age_band"]))[person],
        gender=pd.Index(GENDERS).get_indexer(pd.Index(res["gender"]))[person],
        building=res["building_no"].to_numpy(dtype=np.int64)[person],
        floor_band=pd.Index(FLOOR_BANDS).get_indexer(pd.Index(res["floor_band"]))[person],
        tenure=pd.Index(TENURES).get_indexer(pd.Index(res["tenure"]))[person],
    )
    return _draw(rng, plan, rates)


# --- the large, city-wide path ----------------------------------------------------------------
_LARGE_COMMUNITIES_PER_STREET = 20
_LARGE_MEETINGS_PER_COMMUNITY = 4
# age-band shares of raters: an old neighbourhood's adults times the calibrated turnout
_RATER_AGE = np.array([0.11, 0.15, 0.14, 0.16, 0.19, 0.14, 0.11]) * np.array(
    [TURNOUT_BY_AGE_BAND[b] for b in AGE_BANDS]
)
_RATER_AGE = _RATER_AGE / _RATER_AGE.sum()
_RATER_ROLES = np.array([0.58, 0.20, 0.02, 0.06, 0.11, 0.03])  # order of BALLOT_ROLES


def _large_layout(
    n_ballots: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Meetings of the large path, their ballot counts, community effects and issue codes."""
    rng = rng_for("large-meetings", seed)
    sizes = rng.integers(16, 51, size=n_ballots // 16 + 2)  # meetings of 16–50 raters
    cum = np.cumsum(sizes)
    n_meetings = int(np.searchsorted(cum, n_ballots) + 1)
    sizes = sizes[:n_meetings].copy()
    sizes[-1] -= int(cum[n_meetings - 1] - n_ballots)
    if sizes[-1] <= 0:  # only when n_ballots == 0
        sizes = sizes[:0]
        n_meetings = 0
    community = np.arange(n_meetings) // _LARGE_MEETINGS_PER_COMMUNITY
    number = np.arange(n_meetings) % _LARGE_MEETINGS_PER_COMMUNITY + 1
    street = community // _LARGE_COMMUNITIES_PER_STREET
    n_comm = int(community.max()) + 1 if n_meetings else 0
    comm_ids = np.array(
        [
            f"S{s + 1:03d}-C{c % _LARGE_COMMUNITIES_PER_STREET + 1:02d}"
            for s, c in zip(
                np.arange(n_comm) // _LARGE_COMMUNITIES_PER_STREET, range(n_comm), strict=True
            )
        ],
        dtype=object,
    )
    effect = rng.normal(0.0, 0.5, n_comm)
    issue = rng.choice(len(ISSUES), size=n_meetings, p=[0.3, 0.25, 0.15, 0.15, 0.15])
    subjects = np.zeros((n_meetings, len(SUBJECTS)), dtype=bool)
    coin = rng.random((n_meetings, len(SUBJECTS))) < 0.5
    for i, name in enumerate(ISSUES):
        always, maybe = _SUBJECTS[name]
        here = issue == i
        for j, s in enumerate(SUBJECTS):
            if s in always:
                subjects[here, j] = True
            elif s in maybe:
                subjects[here, j] = coin[here, j]
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n_meetings), unit="D")
    hour = rng.choice(np.array([9.5, 14.0, 19.0]), size=n_meetings)
    starts = (day + pd.to_timedelta(hour * 3600, unit="s")).tz_localize(TIMEZONE)
    members = np.ceil(sizes / rng.uniform(0.45, 0.65, n_meetings)).astype(np.int64)
    titles = {
        "elevator": "加装电梯项目评议会",
        "property": "物业服务质量评议会",
        "greening": "绿化改造项目评议会",
        "parking": "停车管理工作评议会",
        "waste": "垃圾分类工作评议会",
    }
    issue_names = np.array(ISSUES, dtype=object)[issue]
    meeting_ids = np.array(
        [
            f"{comm_ids[c]}-M{k:02d}"
            for c, k in zip(community.tolist(), number.tolist(), strict=True)
        ],
        dtype=object,
    )
    frame = pd.DataFrame(
        {
            "meeting_id": meeting_ids,
            "issue_id": np.array(
                [
                    f"{comm_ids[c]}-I{k}"
                    for c, k in zip(community.tolist(), number.tolist(), strict=True)
                ],
                dtype=object,
            ),
            "community_id": comm_ids[community],
            "street_id": np.array([f"S{s + 1:03d}" for s in street.tolist()], dtype=object),
            "issue": issue_names,
            "issue_title": [titles[i][:-3] for i in issue_names],
            "kind": "evaluation",
            "sequence": np.ones(n_meetings, dtype=np.int64),
            "title": [titles[i] for i in issue_names],
            "date": pd.DatetimeIndex(day).as_unit("ns"),
            "starts_at": pd.DatetimeIndex(starts).as_unit("ns"),
            "building_id": pd.Series([None] * n_meetings, dtype="str"),
            "project_elevator": issue == 0,
            "subjects": [
                tuple(s for s, on in zip(SUBJECTS, row, strict=True) if on)
                for row in subjects.tolist()
            ],
            "members": members,
            "ballots_issued": pd.array(members, dtype="Int64"),
            "agreement": pd.Series([None] * n_meetings, dtype="str"),
        },
        columns=list(MEETING_COLUMNS),
    )
    return frame, sizes, effect[community] if n_meetings else np.zeros(0), subjects


def make_large_meetings(*, n_ballots: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """The evaluation meetings behind :func:`make_large` (same ``n_ballots`` and ``seed``).

    Parameters
    ----------
    n_ballots : int, default 1_000_000
        Total ballots of :func:`make_large`.
    seed : int, default 0
        Seed; the meetings equal those that :func:`make_large` with the same arguments uses.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`toolkit.synth.make_meetings`, one evaluation meeting of 16–50
        ballots each (``members`` = invited, about twice that), four per community, twenty
        communities per street; ``issue_id`` is unique per meeting and ``building_id`` missing.

    Examples
    --------
    >>> meetings = make_large_meetings(n_ballots=1000, seed=1)
    >>> meetings["kind"].unique().tolist(), bool(meetings["meeting_id"].is_unique)
    (['evaluation'], True)
    """
    n = check_count("n_ballots", n_ballots, low=0)
    return _large_layout(n, check_seed(seed))[0]


def make_large(
    *,
    n_ballots: int = 1_000_000,
    seed: int = 0,
    dont_know_rate: float = 0.06,
    blank_rate: float = 0.02,
    void_rate: float = 0.02,
    profile_skip_rate: float = 0.1,
    profile_blank_rate: float = 0.03,
) -> pd.DataFrame:
    """Many ballots fast: a city-wide set of evaluation meetings, fully vectorised.

    Same columns, types and satisfaction model as :func:`make_ballots`, without building a city:
    the raters' profiles are drawn from attendee-like shares (older raters, as turnout rises with
    age), each ballot from a different rater. Meant for benchmarks and the city-wide sync test; a
    million ballots take a few seconds.

    Parameters
    ----------
    n_ballots : int, default 1_000_000
        Number of ballots (rows).
    seed : int, default 0
        Seed; the meetings are :func:`make_large_meetings` with the same arguments.
    dont_know_rate, blank_rate, void_rate, profile_skip_rate, profile_blank_rate : float
        As in :func:`make_ballots`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BALLOT_COLUMNS`, ``n_ballots`` rows.

    Examples
    --------
    >>> ballots = make_large(n_ballots=2000, seed=1)
    >>> ballots.shape
    (2000, 51)
    >>> bool(ballots["submission_id"].is_unique)
    True
    """
    n = check_count("n_ballots", n_ballots, low=0)
    seed = check_seed(seed)
    rates = _check_rates(
        dont_know_rate=dont_know_rate,
        blank_rate=blank_rate,
        void_rate=void_rate,
        profile_skip_rate=profile_skip_rate,
        profile_blank_rate=profile_blank_rate,
    )
    meetings, sizes, effect, subjects = _large_layout(n, seed)
    rng = rng_for("large-ballots", seed)
    n_meetings = len(meetings)
    meeting = np.repeat(np.arange(n_meetings), sizes)
    issue = pd.Index(ISSUES).get_indexer(pd.Index(meetings["issue"]))
    elevator = meetings["project_elevator"].to_numpy(dtype=bool)
    age_band = rng.choice(len(AGE_BANDS), size=n, p=_RATER_AGE)
    female = rng.random(n) < np.clip(0.52 + 0.02 * (age_band - 3), 0.4, 0.7)
    party = rng.random(n) < 0.08 + 0.04 * age_band
    role = rng.choice(len(BALLOT_ROLES), size=n, p=_RATER_ROLES)
    role = np.where(role == 1, np.where(party, 1, 0), role)  # 党员 says party_member
    walkup = elevator[meeting]
    floor_band = np.where(
        walkup,
        rng.choice(3, size=n, p=[0.5, 0.45, 0.05]),
        rng.choice(3, size=n, p=[0.3, 0.3, 0.4]),
    )
    plan = _Plan(
        meeting_id=meetings["meeting_id"].to_numpy(dtype=object),
        community_id=meetings["community_id"].to_numpy(dtype=object),
        issue=issue.astype(np.int64),
        start_ns=pd.DatetimeIndex(meetings["starts_at"]).as_unit("ns").asi8,
        subjects=subjects,
        elevator=elevator,
        shift=effect[:, None] + rng.normal(0.0, _SD_MEETING_SUBJECT, (n_meetings, len(SUBJECTS))),
        elevator_shift=effect + rng.normal(0.0, _SD_MEETING_SUBJECT, n_meetings),
        meeting=meeting,
        theta=rng.normal(0.0, _SD_PERSON, n),
        person_subject=rng.normal(0.0, _SD_PERSON_SUBJECT, (n, len(SUBJECTS))),
        first_time=rng.random(n) < 0.15,
        party=party,
        role=role,
        age_band=age_band,
        gender=np.where(female, 0, 1),
        building=rng.integers(1, 13, n),
        floor_band=floor_band,
        tenure=(rng.random(n) < 0.15).astype(np.int64),
    )
    return _draw(rng, plan, rates)


# --- answers ---------------------------------------------------------------------------------
def _answer(name: str, value: Any) -> Any:
    if name == "rectify":
        return str(value).split(";")
    if name == "building":
        return int(value)
    return str(value)


def _blank(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``values`` as an object array with None where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return out


def ballots_to_answers(row: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    """The flat answers mapping of one ballot (what the store accepts for a submission).

    Parameters
    ----------
    row : pandas.Series or mapping
        One row of a ballots DataFrame (``ballots.iloc[i]``, or a dict of its columns).

    Returns
    -------
    dict
        Variable → value for every answered variable of :data:`ANSWER_COLUMNS`, in instrument
        order: rating codes and other choices as ``str``, ``rectify`` as a list of codes,
        ``building`` as ``int``, texts as ``str``. Unanswered variables are absent (never
        ``None``, NaN or ``""``). Metadata (id, meeting, device, times, status) is not included.

    Examples
    --------
    >>> ballots = make_large(n_ballots=50, seed=3)
    >>> answers = ballots_to_answers(ballots.iloc[0])
    >>> answers["project_elevator"] in ("yes", "no")
    True
    >>> any(v is None or v != v for v in answers.values())
    False
    """
    answers: dict[str, Any] = {}
    for name in ANSWER_COLUMNS:
        if name not in row:
            continue
        value = row[name]
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str) and value == "":
            continue
        answers[name] = _answer(name, value)
    return answers


def ballots_answers(ballots: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`ballots_to_answers` for every row, column-wise (fast enough for a million rows).

    Parameters
    ----------
    ballots : pandas.DataFrame
        From :func:`make_ballots` or :func:`make_large`.

    Returns
    -------
    list of dict
        One answers mapping per row, in row order.

    Examples
    --------
    >>> ballots = make_large(n_ballots=20, seed=3)
    >>> ballots_answers(ballots)[5] == ballots_to_answers(ballots.iloc[5])
    True
    """
    present = [c for c in ANSWER_COLUMNS if c in ballots.columns]
    values: list[list[Any]] = []
    for name in present:
        column = ballots[name]
        missing = column.isna().to_numpy()
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            cats = np.empty(len(categories) + 1, dtype=object)  # last slot: missing (code -1)
            for i, category in enumerate(categories):
                cats[i] = _answer(name, category)
            array = cats[column.cat.codes.to_numpy()]
        elif name == "building":
            array = _blank(column.fillna(0).to_numpy(dtype=np.int64).astype(object), missing)
        else:
            array = _blank(column.to_numpy(dtype=object), missing)
        values.append(array.tolist())
    return (
        [
            {name: value for name, value in zip(present, row, strict=True) if value is not None}
            for row in zip(*values, strict=True)
        ]
        if present
        else [{} for _ in range(len(ballots))]
    )
