"""Run every benchmark in ``bench/``: ``python -m bench`` (or ``make bench``).

Each ``bench/bench_*.py`` module has a ``main()`` that measures our code and a named peer in the same
run and prints their ratio. Pass module names to run only some: ``python -m bench store synth``.
Each runs with its small default size; run one module alone with its flags for the full figures
(e.g. ``python -m bench.bench_sync --ballots 1000000``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if n.removeprefix("bench_") in argv or n in argv]
    for name in names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        entry = importlib.import_module(f"bench.{name}").main
        # a main() taking argv gets none: the module names given here are not its flags
        entry([]) if inspect.signature(entry).parameters else entry()
        print(f"   ({time.perf_counter() - start:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
