"""General dominance of 8 items on 5,000 ballots: driver_analysis vs the ``dominance-analysis`` package.

Run: ``.venv/bin/python -m bench.bench_drivers``. Both compute each item's general dominance (the
R² increment averaged over all orders of entry, R's relaimpo ``lmg``) of a linear regression of the
overall score on 8 item scores (1-3). The peer fits one scikit-learn regression per subset
(2^8 - 1 = 255 fits); ours solves the 255 correlation-matrix systems directly. No bootstrap on our
side (``n_boot=0``) so that the same work is timed; a second line times our relative weights with
1,000 bootstrap resamples for scale.

The peer (version 1.1.9) imports bokeh 2.4 and calls ``output_notebook()`` at import, which fail
with numpy 2 and current IPython; the two shims below make it importable and change nothing it
computes.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from toolkit.analysis.drivers import driver_analysis

N_ROWS = 5_000
N_ITEMS = 8


def _peer() -> Any:
    np.bool8 = np.bool_  # type: ignore[attr-defined]  # bokeh 2.4 with numpy 2
    import bokeh.io

    bokeh.io.output_notebook = lambda *a, **k: None  # no notebook to load into
    with contextlib.redirect_stdout(io.StringIO()):
        from dominance_analysis import Dominance
    return Dominance


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _data(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(N_ROWS, 1))
    raw = 0.8 * factor + rng.normal(scale=0.8, size=(N_ROWS, N_ITEMS))
    items = np.digitize(raw, [-0.6, 0.5]) + 1
    weights = np.linspace(0.05, 0.3, N_ITEMS)
    overall = np.digitize(
        items @ weights - weights.sum() * 2 + rng.normal(0, 0.5, N_ROWS), [-0.5, 0.5]
    )
    frame = pd.DataFrame(items.astype(float), columns=[f"q{i + 1}" for i in range(N_ITEMS)])
    return frame.assign(overall=(overall + 1).astype(float))


def main() -> None:
    dominance = _peer()
    data = _data()
    items = [c for c in data.columns if c != "overall"]

    def peer() -> pd.DataFrame:
        model = dominance(data=data, target="overall", objective=1, top_k=N_ITEMS)
        model.incremental_rsquare()
        return model.dominance_stats()

    t_peer, stats = _best(peer, repeat=1)
    t_ours, ours = _best(
        lambda: driver_analysis(data, outcome="overall", items=items, method="dominance", n_boot=0)
    )
    mine = ours[ours["measure"] == "weight"].set_index("item")["estimate"]
    theirs = stats["Total Dominance"].reindex(mine.index)
    diff = float(np.max(np.abs(mine - theirs)))
    if diff > 1e-10:
        raise SystemExit(f"general dominance differs by {diff:.2e}:\n{mine}\n{theirs}")
    print(
        f"general dominance {N_ROWS:,} x {N_ITEMS}: ours {t_ours:.3f}s, peer {t_peer:.2f}s, "
        f"ratio peer/ours {t_peer / t_ours:.0f}x  (max |diff| {diff:.1e})",
        flush=True,
    )
    t_rw, _ = _best(
        lambda: driver_analysis(
            data, outcome="overall", items=items, method="relative_weights", n_boot=1000
        )
    )
    print(
        f"relative weights with 1,000 bootstrap resamples: ours {t_rw:.2f}s (no peer)", flush=True
    )


if __name__ == "__main__":
    main()
