"""Benchmark: toolkit.synth.make_large for 1,000,000 ballots.

Peer: pandas' own construction of the same-shaped DataFrame (same columns and dtypes) from arrays
that are already drawn (category codes, strings, int64 nanoseconds), i.e. the floor any generator
returning this DataFrame pays. The peer's frame is checked equal to ours.

Run: ``.venv/bin/python -m bench.bench_synth``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from toolkit.synth import make_large

N_BALLOTS = 1_000_000
REPEATS = 3


def best_of(function: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def drawn_arrays(frame: pd.DataFrame) -> dict[str, tuple[str, Any]]:
    """The raw numpy arrays behind each column (what a generator has after drawing)."""
    out: dict[str, tuple[str, Any]] = {}
    for name in frame.columns:
        column = frame[name]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            out[name] = ("category", (column.cat.codes.to_numpy(), list(dtype.categories)))
        elif isinstance(dtype, pd.DatetimeTZDtype):
            out[name] = ("datetime", (column.array.asi8.copy(), str(dtype.tz)))
        elif str(dtype) == "Int64":
            out[name] = ("Int64", (column.fillna(0).to_numpy(np.int64), column.isna().to_numpy()))
        else:
            out[name] = ("str", column.to_numpy(dtype=object, na_value=None))
    return out


def pandas_build(arrays: dict[str, tuple[str, Any]]) -> pd.DataFrame:
    """The peer: pandas constructs the frame from already-drawn arrays."""
    columns: dict[str, Any] = {}
    for name, (kind, data) in arrays.items():
        if kind == "category":
            codes, categories = data
            columns[name] = pd.Categorical.from_codes(
                codes, categories=pd.Index(categories, dtype=object)
            )
        elif kind == "datetime":
            ns, tz = data
            columns[name] = pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz)
        elif kind == "Int64":
            values, mask = data
            columns[name] = pd.arrays.IntegerArray(values, mask=mask)
        else:
            columns[name] = pd.array(data, dtype="str")
    return pd.DataFrame(columns)


def main() -> None:
    ours_time, ours = best_of(lambda: make_large(n_ballots=N_BALLOTS, seed=0))
    arrays = drawn_arrays(ours)
    peer_time, peer = best_of(lambda: pandas_build(arrays))
    # same columns, dtypes and values (DataFrame.equals: assert_frame_equal takes minutes here)
    same = list(peer.columns) == list(ours.columns) and (peer.dtypes == ours.dtypes).all()
    if not (same and peer.equals(ours)):
        raise SystemExit("the peer's frame differs from make_large's")
    print(
        f"make_large {N_BALLOTS:,} ballots x {ours.shape[1]} columns: ours {ours_time:.2f}s, "
        f"peer {peer_time:.2f}s, ratio peer/ours {peer_time / ours_time:.2f}x "
        f"(peer: pd.DataFrame from already-drawn arrays)"
    )


if __name__ == "__main__":
    main()
