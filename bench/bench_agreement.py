"""Krippendorff's alpha on 100,000 units x 10 raters: krippendorff_alpha vs the krippendorff package.

Run: ``.venv/bin/python -m bench.bench_agreement``. The peer takes a raters x units array (its natural
input, transposed outside the timing); ours takes the units x raters DataFrame. Point estimates only
(``n_boot=0``; the peer has no interval); one extra line times the default 1,000-replicate bootstrap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from toolkit.analysis.agreement import krippendorff_alpha

N_UNITS = 100_000
N_RATERS = 10


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    rng = np.random.default_rng(2024)
    truth = rng.integers(1, 6, N_UNITS)
    noise = rng.integers(-1, 2, (N_UNITS, N_RATERS)) * (rng.random((N_UNITS, N_RATERS)) < 0.4)
    ratings = np.clip(truth[:, None] + noise, 1, 5).astype(float)
    ratings[rng.random(ratings.shape) < 0.15] = np.nan  # 15 % missing
    data = pd.DataFrame(ratings, columns=[f"rater{i}" for i in range(N_RATERS)])
    peer_input = np.ascontiguousarray(ratings.T)
    print(f"{N_UNITS:,} units x {N_RATERS} raters, 5 levels, 15 % missing:")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        t_ours, ours = _best(lambda lv=level: krippendorff_alpha(data, metric=lv, n_boot=0))
        t_peer, peer = _best(
            lambda lv=level: krippendorff.alpha(peer_input, level_of_measurement=lv)
        )
        value = float(ours["estimate"].iloc[0])
        if not np.isclose(value, peer, rtol=1e-10, atol=0):
            raise SystemExit(f"{level}: alpha differs: ours {value!r}, krippendorff {peer!r}")
        print(
            f"alpha {level} vs krippendorff.alpha: ours {t_ours:.2f}s, peer {t_peer:.2f}s, "
            f"ratio peer/ours {t_peer / t_ours:.1f}x  (alpha {value:.6f})"
        )
    t_boot, _ = _best(lambda: krippendorff_alpha(data, metric="ordinal"), repeat=1)
    print(f"alpha ordinal with the default 1,000-replicate bootstrap interval: ours {t_boot:.2f}s")


if __name__ == "__main__":
    main()
