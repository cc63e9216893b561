"""Seeded multi-year evaluation ballots: the same subject rated in many communities, year after year.

:func:`make_trend_ballots` draws, for every community and year, one 评议会's ballots on one subject
(the 居委会 by default): the six aspect items of ``docs/evaluation-ballot.md`` and the overall
rating. The model is a latent satisfaction per ballot

    aspect_j = community effect + trend x (year - first year) + ballot factor + noise_j
    overall  = sum_j DRIVER_WEIGHTS[j] x aspect_j + noise

cut at two thresholds into 不满意 < 基本满意 < 满意, with some 不了解 on the aspects. So the data
have what the analyses look for: a trend, communities that differ (some with few ballots), and
aspects that drive the overall rating by known weights (results and responsiveness most).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from toolkit.errors import ParameterError
from toolkit.synth._common import (
    DONT_KNOW,
    RATING_ITEMS,
    SATISFACTION_CODES,
    check_count,
    check_rate,
    check_seed,
    rng_for,
)

__all__ = ["DRIVER_WEIGHTS", "make_trend_ballots"]

ASPECTS: tuple[str, ...] = tuple(i for i in RATING_ITEMS if i != "overall")
#: Weight of each aspect in the latent overall satisfaction (the "true" drivers).
DRIVER_WEIGHTS: dict[str, float] = {
    "attitude": 0.15,
    "efficiency": 0.10,
    "transparency": 0.05,
    "responsiveness": 0.25,
    "integrity": 0.05,
    "results": 0.40,
}
# mean level of each aspect: attitude is rated best, results worst
_ASPECT_SHIFT = {
    "attitude": 0.6,
    "efficiency": 0.1,
    "transparency": -0.1,
    "responsiveness": 0.0,
    "integrity": 0.4,
    "results": -0.4,
}
_CUTS = (-0.9, 0.5)  # latent below -0.9: 不满意; below 0.5: 基本满意; else 满意


def make_trend_ballots(
    *,
    years: Sequence[int] = (2021, 2022, 2023, 2024, 2025),
    communities: int = 12,
    ballots: tuple[int, int] = (8, 40),
    trend: float = 0.15,
    community_sd: float = 0.5,
    dont_know: float = 0.05,
    subject: str = "juweihui",
    seed: int = 0,
) -> pd.DataFrame:
    """Ballots of yearly evaluation meetings in several communities (synthetic, seeded).

    Parameters
    ----------
    years : sequence of int
        The evaluation years, one 评议会 per community and year.
    communities : int
        Number of communities (named ``社区01``, ``社区02``, ...).
    ballots : (int, int)
        Fewest and most ballots of a meeting; each community has its own size in this range
        (some communities are small), varying a little from year to year.
    trend : float
        Change of the latent satisfaction per year (on the logistic scale of the noise).
    community_sd : float
        Standard deviation of the community effects.
    dont_know : float
        Share of 不了解 answers on the aspect items (``overall`` is always answered).
    subject : str
        The evaluated subject written in the ``subject`` column.
    seed : int
        Seed; the same arguments give the same frame.

    Returns
    -------
    DataFrame
        One row per ballot: ``year``, ``community``, ``subject``, the aspect items ``attitude``,
        ``efficiency``, ``transparency``, ``responsiveness``, ``integrity``, ``results`` and
        ``overall``, each holding the codes ``satisfied``, ``basically_satisfied``,
        ``dissatisfied`` (or ``dont_know`` on aspects).

    Examples
    --------
    >>> b = make_trend_ballots(communities=3, years=[2024, 2025], seed=1)
    >>> sorted(b["year"].unique().tolist()), b["community"].nunique()
    ([2024, 2025], 3)
    >>> b.columns.tolist()[:4]
    ['year', 'community', 'subject', 'attitude']
    """
    seed = check_seed(seed)
    n_comm = check_count("communities", communities)
    year_list = [int(y) for y in years]
    if not year_list or len(set(year_list)) != len(year_list):
        raise ParameterError(f"`years` must list distinct years; got {list(years)!r}.")
    low, high = (check_count("ballots", int(b)) for b in ballots)
    if low > high:
        raise ParameterError(f"`ballots` must be (fewest, most); got {ballots!r}.")
    check_rate("dont_know", dont_know, high=0.5)
    check_rate("community_sd", community_sd, high=5.0)
    rng = rng_for("trends", seed)
    effects = rng.normal(0.0, community_sd, n_comm)
    sizes = rng.integers(low, high + 1, n_comm)
    names = [f"社区{i + 1:02d}" for i in range(n_comm)]
    shifts = np.array([_ASPECT_SHIFT[a] for a in ASPECTS])
    weights = np.array([DRIVER_WEIGHTS[a] for a in ASPECTS])
    frames = []
    for t, year in enumerate(year_list):
        for c in range(n_comm):
            n = int(np.clip(sizes[c] + rng.integers(-2, 3), low, high))
            factor = rng.normal(0.0, 1.0, (n, 1))
            aspects = (
                effects[c] + trend * t + shifts + factor + rng.logistic(0, 0.6, (n, len(ASPECTS)))
            )
            overall = aspects @ weights / weights.sum() + rng.logistic(0.0, 0.35, n)
            frame = {"year": year, "community": names[c], "subject": subject}
            for j, name in enumerate(ASPECTS):
                codes = _code(aspects[:, j])
                codes[rng.random(n) < dont_know] = DONT_KNOW
                frame[name] = codes
            frame["overall"] = _code(overall)
            frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def _code(latent: np.ndarray) -> np.ndarray:
    level = np.searchsorted(np.asarray(_CUTS), latent)  # 0 dissatisfied, 1 basic, 2 satisfied
    return np.asarray(SATISFACTION_CODES[::-1], dtype=object)[level]
