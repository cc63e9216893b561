"""Synthetic ballots city-wide, for benchmarks and load tests: :func:`make_large_meetings` and
:func:`make_large`.

Split from :mod:`toolkit.synth.ballots` (which re-exports both and documents the columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.synth._common import (
    AGE_BANDS,
    BALLOT_ROLES,
    ISSUES,
    SUBJECTS,
    TIMEZONE,
    check_count,
    check_seed,
    rng_for,
)
from toolkit.synth.ballot_model import (
    SD_MEETING_SUBJECT,
    SD_PERSON,
    SD_PERSON_SUBJECT,
    Plan,
    check_rates,
    draw_ballots,
)
from toolkit.synth.meetings import _SUBJECTS, MEETING_COLUMNS, TURNOUT_BY_AGE_BAND

__all__ = ["make_large", "make_large_meetings"]


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
    rates = check_rates(
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
    plan = Plan(
        meeting_id=meetings["meeting_id"].to_numpy(dtype=object),
        community_id=meetings["community_id"].to_numpy(dtype=object),
        issue=issue.astype(np.int64),
        start_ns=pd.DatetimeIndex(meetings["starts_at"]).as_unit("ns").asi8,
        subjects=subjects,
        elevator=elevator,
        shift=effect[:, None] + rng.normal(0.0, SD_MEETING_SUBJECT, (n_meetings, len(SUBJECTS))),
        elevator_shift=effect + rng.normal(0.0, SD_MEETING_SUBJECT, n_meetings),
        meeting=meeting,
        theta=rng.normal(0.0, SD_PERSON, n),
        person_subject=rng.normal(0.0, SD_PERSON_SUBJECT, (n, len(SUBJECTS))),
        first_time=rng.random(n) < 0.15,
        party=party,
        role=role,
        age_band=age_band,
        gender=np.where(female, 0, 1),
        building=rng.integers(1, 13, n),
        floor_band=floor_band,
        tenure=(rng.random(n) < 0.15).astype(np.int64),
    )
    return draw_ballots(rng, plan, rates)
