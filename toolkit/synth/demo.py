"""A small deterministic bundle for the demo database, notebooks and tests."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from toolkit.synth._common import check_seed
from toolkit.synth.ballots import make_ballots
from toolkit.synth.meetings import make_attendance, make_meetings
from toolkit.synth.population import City, make_city, make_population_margins

__all__ = ["DEMO_SEED", "Demo", "make_demo"]

#: Default seed of :func:`make_demo`: one street, an old and two newer communities, six meetings
#: (an elevator, property management and greening, each a hearing and an evaluation), 40–43
#: ballots per evaluation meeting.
DEMO_SEED = 17


@dataclass(frozen=True, repr=False)
class Demo:
    """The demo bundle: a city and everything drawn from it with one seed.

    Attributes
    ----------
    seed : int
    city : City
        One street, three communities (names in ``city.names``).
    meetings, attendance, ballots, margins : pandas.DataFrame
        As returned by :func:`~toolkit.synth.make_meetings`, :func:`~toolkit.synth.make_attendance`,
        :func:`~toolkit.synth.make_ballots` and :func:`~toolkit.synth.make_population_margins`.
    """

    seed: int
    city: City
    meetings: pd.DataFrame
    attendance: pd.DataFrame
    ballots: pd.DataFrame
    margins: pd.DataFrame

    def __repr__(self) -> str:
        return (
            f"Demo(seed={self.seed}, communities={len(self.city.communities)}, "
            f"residents={len(self.city.residents)}, meetings={len(self.meetings)}, "
            f"ballots={len(self.ballots)})"
        )


def make_demo(*, seed: int = DEMO_SEED) -> Demo:
    """Make the small demo bundle (one street, three communities, about six meetings).

    Parameters
    ----------
    seed : int, default :data:`DEMO_SEED`
        Seed of every step. Other seeds give bundles of the same shape: 6–9 meetings, and roughly
        30–45 ballots per evaluation meeting.

    Returns
    -------
    Demo
        ``make_city(seed=seed, streets=1, communities_per_street=3, buildings_per_community=6,
        households_per_building=30)``, one issue per community (an elevator, property management
        and greening, in turn) from :func:`~toolkit.synth.make_meetings` starting 2025-03-01, the
        attendance, the ballots (default rates) and the population margins.

    Examples
    --------
    >>> demo = make_demo()
    >>> demo
    Demo(seed=17, communities=3, residents=..., meetings=6, ballots=124)
    >>> demo.ballots.groupby("meeting_id", observed=True).size().tolist()
    [43, 40, 41]
    """
    seed = check_seed(seed)
    city = make_city(
        seed=seed,
        streets=1,
        communities_per_street=3,
        buildings_per_community=6,
        households_per_building=30,
    )
    meetings = make_meetings(
        city,
        seed=seed,
        per_community=1,
        start="2025-03-01",
        issues=("elevator", "property", "greening"),
    )
    attendance = make_attendance(city, meetings, seed=seed)
    ballots = make_ballots(city, meetings, attendance, seed=seed)
    return Demo(
        seed=seed,
        city=city,
        meetings=meetings,
        attendance=attendance,
        ballots=ballots,
        margins=make_population_margins(city),
    )
