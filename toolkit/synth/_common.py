"""Shared constants and helpers of :mod:`toolkit.synth` (codes, seeding, small vector tools).

Every code here is the one of ``docs/evaluation-ballot.md``; the population side (age bands, floor
bands, tenure) uses the same codes as the ballot's rater profile so that ballots, rosters and
population margins join without recoding.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from toolkit._checks import check_range
from toolkit.errors import ParameterError

__all__ = [
    "AGE_BANDS",
    "BALLOT_ROLES",
    "DONT_KNOW",
    "ELEVATOR_ITEMS",
    "FLOOR_BANDS",
    "GENDERS",
    "ISSUES",
    "RATING_CODES",
    "RATING_ITEMS",
    "RECTIFY_CODES",
    "ROLES",
    "SATISFACTION_CODES",
    "SUBJECTS",
    "TENURES",
    "TIMEZONE",
]

#: Age bands of the rater profile (``age_band``), youngest first.
AGE_BANDS: tuple[str, ...] = ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")
#: Lower age bound of each band in :data:`AGE_BANDS` (80+ is drawn up to 99).
AGE_BAND_LOW: tuple[int, ...] = (18, 30, 40, 50, 60, 70, 80)
AGE_BAND_HIGH: tuple[int, ...] = (29, 39, 49, 59, 69, 79, 99)
GENDERS: tuple[str, ...] = ("female", "male")
FLOOR_BANDS: tuple[str, ...] = ("1-3", "4-6", "7+")
TENURES: tuple[str, ...] = ("owner", "renter")
#: Roles in the synthetic population (one per resident, most specific wins).
ROLES: tuple[str, ...] = ("resident", "building_head", "party_member", "owners_committee", "deputy")
#: Role codes of the ballot's ``role`` question.
BALLOT_ROLES: tuple[str, ...] = (
    "resident_rep",
    "party_member",
    "deputy",
    "owners_committee",
    "building_head",
    "other",
)
#: How a population role is reported on a ballot (a plain resident attends as 居民代表).
ROLE_TO_BALLOT: dict[str, str] = {
    "resident": "resident_rep",
    "building_head": "building_head",
    "party_member": "party_member",
    "owners_committee": "owners_committee",
    "deputy": "deputy",
}

#: Evaluated subjects (ids of ``docs/evaluation-ballot.md``).
SUBJECTS: tuple[str, ...] = ("juweihui", "wuye", "yeweihui", "contractor")
#: Items of the per-subject ``ratings`` grid; all but ``overall`` allow 不了解.
RATING_ITEMS: tuple[str, ...] = (
    "attitude",
    "efficiency",
    "transparency",
    "responsiveness",
    "integrity",
    "results",
    "overall",
)
#: Items of the ``elevator`` grid (every one allows 不了解).
ELEVATOR_ITEMS: tuple[str, ...] = (
    "build_quality",
    "schedule",
    "noise_dust",
    "daylight",
    "cost_sharing",
    "maintenance",
)
#: Choice list ``satisfaction``, most favourable first.
SATISFACTION_CODES: tuple[str, ...] = ("satisfied", "basically_satisfied", "dissatisfied")
DONT_KNOW = "dont_know"
#: Categories of every rating column: the three satisfaction codes, then ``dont_know``.
RATING_CODES: tuple[str, ...] = (*SATISFACTION_CODES, DONT_KNOW)
#: Choices of the ``rectify`` multiple-choice question, in instrument order.
RECTIFY_CODES: tuple[str, ...] = (
    "attitude_issue",
    "slow_response",
    "transparency_issue",
    "fairness_issue",
    "quality_issue",
    "safety_issue",
    "environment_issue",
    "other",
)
#: Issue kinds a community consults on (``make_meetings``).
ISSUES: tuple[str, ...] = ("elevator", "property", "greening", "parking", "waste")
#: Time zone of every timestamp (Shanghai, UTC+8, no daylight saving since 1991).
TIMEZONE = "Asia/Shanghai"


def rng_for(tag: str, *seeds: int) -> np.random.Generator:
    """A numpy Generator for one named stream of one seed.

    Each step (population, names, meetings, attendance, ballots) draws from its own stream, so that
    turning an option on (names, say) never changes the numbers of another step.
    """
    entropy = [int(s) for s in seeds] + [zlib.crc32(tag.encode("utf-8"))]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int if it is a non-negative integer, else raise ParameterError."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ParameterError(f"`seed` must be a non-negative integer; got {seed!r}.")
    check_range("seed", int(seed), low=0)
    return int(seed)


def check_count(name: str, value: Any, *, low: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``low``, else raise ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(f"`{name}` must be an integer >= {low}; got {value!r}.")
    check_range(name, int(value), low=low)
    return int(value)


def check_rate(name: str, value: Any, *, high: float = 1.0) -> float:
    """Return ``value`` as a float if it is a number in [0, high], else raise ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ParameterError(f"`{name}` must be a number in [0, {high:g}]; got {value!r}.")
    check_range(name, float(value), low=0.0, high=high)
    return float(value)


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


def categorical(codes: np.ndarray, categories: Sequence[Any]) -> pd.Categorical:
    """An unordered Categorical from integer codes (-1 = missing), without copying strings."""
    return pd.Categorical.from_codes(
        np.asarray(codes, dtype=np.int32 if len(categories) > 127 else np.int8),
        categories=pd.Index(list(categories), dtype=object),
    )


def hex_ids(rng: np.random.Generator, n: int, *, prefix: str, digits: int = 12) -> np.ndarray:
    """``n`` distinct random ids ``prefix + hex`` (``digits`` hex digits), drawn from ``rng``."""
    high = 16**digits
    values = rng.integers(0, high, size=n, dtype=np.int64)
    while len(np.unique(values)) < n:  # practically never: redraw the duplicates, deterministically
        _, first = np.unique(values, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        values[dup] = rng.integers(0, high, size=len(dup), dtype=np.int64)
    return np.array([f"{prefix}{v:0{digits}x}" for v in values.tolist()], dtype=object)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` version-4 UUID strings drawn from ``rng`` (vectorised; deterministic for a seed).

    The 122 random bits come from the generator, the version (4) and variant (RFC 4122) bits are set
    as :func:`uuid.uuid4` sets them, so the strings parse as ordinary UUIDs.
    """
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    positions = [i for i in range(36) if i not in (8, 13, 18, 23)]
    chars[:, positions] = _HEX[nibbles]
    blob = chars.tobytes().decode("ascii")  # one decode, then slices: faster than astype("U36")
    return np.array([blob[i : i + 36] for i in range(0, 36 * n, 36)], dtype=object)


def band_index(age: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_BANDS` of each age (ages below 18 go to the first band)."""
    return np.clip(np.searchsorted(np.asarray(AGE_BAND_LOW), age, side="right") - 1, 0, 6)


def floor_band_index(floor: np.ndarray) -> np.ndarray:
    """Index into :data:`FLOOR_BANDS` of each floor number (1-3, 4-6, 7+)."""
    return np.where(floor <= 3, 0, np.where(floor <= 6, 1, 2))
