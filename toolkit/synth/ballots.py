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
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import DataError
from toolkit.synth._common import (
    AGE_BANDS,
    BALLOT_ROLES,
    FLOOR_BANDS,
    GENDERS,
    ISSUES,
    ROLE_TO_BALLOT,
    SUBJECTS,
    TENURES,
    TIMEZONE,
    check_seed,
    rng_for,
)
from toolkit.synth.ballot_model import (
    ANSWER_COLUMNS,
    BALLOT_COLUMNS,
    DONT_KNOW_WEIGHTS,
    ITEM_DIFFICULTY,
    META_COLUMNS,
    SD_MEETING_SUBJECT,
    SD_PERSON,
    SD_PERSON_SUBJECT,
    SUBJECT_EFFECTS,
    Plan,
    blank_out,
    check_rates,
    draw_ballots,
)
from toolkit.synth.ballot_model import PROFILE_COLUMNS as PROFILE_COLUMNS
from toolkit.synth.ballots_large import make_large, make_large_meetings
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
    rates = check_rates(
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
    theta_all = latent_rng.normal(0.0, SD_PERSON, len(res))
    person_subject_all = latent_rng.normal(0.0, SD_PERSON_SUBJECT, (len(res), len(SUBJECTS)))

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
    plan = Plan(
        meeting_id=evaluations["meeting_id"].to_numpy(dtype=object),
        community_id=evaluations["community_id"].to_numpy(dtype=object),
        issue=np.array([ISSUES.index(i) for i in evaluations["issue"]], dtype=np.int64),
        start_ns=starts.as_unit("ns").asi8,
        subjects=subjects,
        elevator=evaluations["project_elevator"].to_numpy(dtype=bool),
        shift=community_effect[:, None]
        + rng.normal(0.0, SD_MEETING_SUBJECT, (n_meetings, len(SUBJECTS))),
        elevator_shift=community_effect + rng.normal(0.0, SD_MEETING_SUBJECT, n_meetings),
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
    return draw_ballots(rng, plan, rates)


# --- answers ---------------------------------------------------------------------------------
def _answer(name: str, value: Any) -> Any:
    if name == "rectify":
        return str(value).split(";")
    if name == "building":
        return int(value)
    return str(value)


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
            array = blank_out(column.fillna(0).to_numpy(dtype=np.int64).astype(object), missing)
        else:
            array = blank_out(column.to_numpy(dtype=object), missing)
        values.append(array.tolist())
    return (
        [
            {name: value for name, value in zip(present, row, strict=True) if value is not None}
            for row in zip(*values, strict=True)
        ]
        if present
        else [{} for _ in range(len(ballots))]
    )
