"""Planning and trends against statsmodels: sample size for a power, Newcombe intervals of changes.

Run: ``.venv/bin/python -m bench.bench_planning``.

1. Ballots per meeting to detect 70% -> 80% with power 0.8 (arcsine test, ``pwr.2p.test``):
   ``plan_sample_size(power=...)`` vs ``statsmodels NormalIndPower.solve_power`` with Cohen's h, for
   200 pairs of rates (n checked to 1e-6 relative).
2. Newcombe's hybrid score interval of the change between two years for 100,000 pairs of counts:
   ``newcombe_difference`` (vectorised) vs ``statsmodels confint_proportions_2indep(method="newcomb")``
   (also vectorised), limits checked to 1e-10.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize

from toolkit.analysis.planning import plan_sample_size
from toolkit.analysis.trends import newcombe_difference

N_PLANS = 200
N_PAIRS = 100_000


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    rng = np.random.default_rng(3)
    p1 = rng.uniform(0.55, 0.95, N_PLANS)
    p2 = np.clip(p1 - rng.uniform(0.05, 0.2, N_PLANS), 0.05, 0.95)
    t_ours, ours = _best(
        lambda: [
            plan_sample_size(power=0.8, rate=a, rate2=b)["n_srs"].iloc[0]
            for a, b in zip(p1, p2, strict=True)
        ]
    )
    power = NormalIndPower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_peer, peer = _best(
            lambda: [
                power.solve_power(effect_size=proportion_effectsize(a, b), power=0.8, alpha=0.05)
                for a, b in zip(p1, p2, strict=True)
            ]
        )
    diff = float(np.max(np.abs(np.array(ours) / np.array(peer) - 1)))
    if diff > 1e-6:
        raise SystemExit(f"sample sizes differ by {diff:.2e} (relative)")
    print(
        f"sample size for power, {N_PLANS} plans: ours {t_ours:.3f}s, peer {t_peer:.3f}s, "
        f"ratio peer/ours {t_peer / t_ours:.1f}x  (max rel diff {diff:.1e})",
        flush=True,
    )
    n1 = rng.integers(5, 60, N_PAIRS)
    n2 = rng.integers(5, 60, N_PAIRS)
    x1 = rng.binomial(n1, 0.7)
    x2 = rng.binomial(n2, 0.6)
    t_ours, mine = _best(lambda: newcombe_difference(x1, n1, x2, n2))
    t_peer, (low, high) = _best(
        lambda: confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    )
    gap = max(
        float(np.max(np.abs(mine["ci_low"] - low))), float(np.max(np.abs(mine["ci_high"] - high)))
    )
    if gap > 1e-10:
        raise SystemExit(f"Newcombe limits differ by {gap:.2e}")
    print(
        f"Newcombe intervals, {N_PAIRS:,} pairs: ours {t_ours:.3f}s, peer {t_peer:.3f}s, "
        f"ratio peer/ours {t_peer / t_ours:.1f}x  (max |diff| {gap:.1e})",
        flush=True,
    )


if __name__ == "__main__":
    main()
