"""Seeded synthetic data for demos, tests, notebooks and benchmarks (numpy and pandas only).

Every function takes a ``seed`` and returns plain DataFrames (or frozen bundles of them); the same
arguments give identical frames on every run. The data are synthetic: plausible for Shanghai's
neighbourhoods and calibrated where docs/domain.md gives figures (turnout by age band and party
membership), but no row describes a real place or person.

>>> from toolkit.synth import make_city, make_meetings, make_attendance, make_ballots
>>> city = make_city(seed=0)                                    # streets … residents (+ names)
>>> meetings = make_meetings(city, per_community=2)             # hearing → … → evaluation
>>> attendance = make_attendance(city, meetings)                # invited rosters, who came
>>> ballots = make_ballots(city, meetings, attendance)          # flat answers, one row a ballot
>>> answers = ballots_to_answers(ballots.iloc[0])               # what the store accepts
>>> sorted(set(ballots["status"]))
['valid', 'void']

Steps
-----
- :func:`make_city` → :class:`City` (streets, communities, buildings, households, residents,
  names kept apart); :func:`make_population_margins` (age band × gender × community).
- :func:`make_meetings`, :func:`make_attendance` (turnout calibrated to
  :data:`TURNOUT_BY_AGE_BAND` and :data:`PARTY_TURNOUT`).
- :func:`make_ballots`, :func:`ballots_to_answers`, :func:`ballots_answers`.
- :func:`make_trend_ballots`: yearly evaluations of one subject in many communities (trends,
  drivers, small areas).
- :func:`make_demo` → :class:`Demo`; :func:`make_large` and :func:`make_large_meetings` for a
  million ballots in seconds.
"""

from __future__ import annotations

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
    ROLES,
    SUBJECTS,
    TENURES,
)
from toolkit.synth.ballots import (
    ANSWER_COLUMNS,
    BALLOT_COLUMNS,
    DONT_KNOW_WEIGHTS,
    ITEM_DIFFICULTY,
    META_COLUMNS,
    SUBJECT_EFFECTS,
    ballots_answers,
    ballots_to_answers,
    make_ballots,
    make_large,
    make_large_meetings,
)
from toolkit.synth.demo import DEMO_SEED, Demo, make_demo
from toolkit.synth.meetings import (
    PARTY_TURNOUT,
    ROLE_TURNOUT_LOG_ODDS,
    TURNOUT_BY_AGE_BAND,
    make_attendance,
    make_meetings,
)
from toolkit.synth.population import City, make_city, make_population_margins
from toolkit.synth.trends import DRIVER_WEIGHTS, make_trend_ballots

__all__ = [
    "AGE_BANDS",
    "ANSWER_COLUMNS",
    "BALLOT_COLUMNS",
    "BALLOT_ROLES",
    "DEMO_SEED",
    "DONT_KNOW_WEIGHTS",
    "DRIVER_WEIGHTS",
    "ELEVATOR_ITEMS",
    "FLOOR_BANDS",
    "GENDERS",
    "ISSUES",
    "ITEM_DIFFICULTY",
    "META_COLUMNS",
    "PARTY_TURNOUT",
    "RATING_CODES",
    "RATING_ITEMS",
    "RECTIFY_CODES",
    "ROLES",
    "ROLE_TURNOUT_LOG_ODDS",
    "SUBJECTS",
    "SUBJECT_EFFECTS",
    "TENURES",
    "TURNOUT_BY_AGE_BAND",
    "City",
    "Demo",
    "ballots_answers",
    "ballots_to_answers",
    "make_attendance",
    "make_ballots",
    "make_city",
    "make_demo",
    "make_large",
    "make_large_meetings",
    "make_meetings",
    "make_population_margins",
    "make_trend_ballots",
]
