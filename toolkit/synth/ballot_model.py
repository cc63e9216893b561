"""The model behind the synthetic evaluation ballots: the ballot columns, the latent satisfaction
model (logit scale) and the drawing of ballots from a plan of raters.

Split from :mod:`toolkit.synth.ballots` (which re-exports the public names and documents the
columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
    SUBJECTS,
    TENURES,
    TIMEZONE,
    categorical,
    check_rate,
    uuids,
)
from toolkit.synth._text import COMMENTS, RECTIFY_OTHER

__all__ = [
    "ANSWER_COLUMNS",
    "BALLOT_COLUMNS",
    "DONT_KNOW_WEIGHTS",
    "ITEM_DIFFICULTY",
    "META_COLUMNS",
    "PROFILE_COLUMNS",
    "SD_MEETING_SUBJECT",
    "SD_PERSON",
    "SD_PERSON_SUBJECT",
    "SUBJECT_EFFECTS",
    "Plan",
    "blank_out",
    "check_rates",
    "draw_ballots",
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
SD_PERSON = 0.9  # a rater's general leniency
SD_PERSON_SUBJECT = 0.6  # a rater's view of one subject
SD_MEETING_SUBJECT = 0.3  # how one subject did on one issue
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
class Plan:
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


def check_rates(**rates: Any) -> dict[str, float]:
    return {name: check_rate(name, value, high=0.9) for name, value in rates.items()}


def _take(plan: Plan, order: np.ndarray) -> Plan:
    """The plan with its per-ballot arrays reordered."""
    changes = {f: getattr(plan, f)[order] for f in _PER_BALLOT}
    return Plan(**{**plan.__dict__, **changes})


def _logistic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard logistic noise in float32 (ample for cutting into three categories)."""
    u = rng.random(shape, dtype=np.float32)
    with np.errstate(divide="ignore"):
        return np.log(u / (np.float32(1.0) - u))


def _rate(latent: np.ndarray) -> np.ndarray:
    """Cut latent values into codes 0 satisfied, 1 basically satisfied, 2 dissatisfied."""
    return np.where(latent > _CUTS[1], 0, np.where(latent > _CUTS[0], 1, 2)).astype(np.int8)


def draw_ballots(rng: np.random.Generator, plan: Plan, rates: dict[str, float]) -> pd.DataFrame:
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
    columns["rectify_other"] = blank_out(text, ~other)

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
    columns["comments"] = blank_out(np.array(flat, dtype=object)[pick], ~(says & ~void))

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


def blank_out(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``values`` as an object array with None where ``missing``."""
    out = values.astype(object)
    out[missing] = None
    return out
