"""Benchmark: export 100,000 synthetic ballots of the evaluation instrument to every format.

The responses table (the layout of ``Store.responses``: ordered categoricals, 0/1 indicators,
Int64, text with some hostile comments) is built with numpy. Each export is timed against the
peer, pandas' own ``DataFrame.to_csv`` of the same frame (no injection checks, no labels), and
the written file is read back to check it has every ballot.

Run: ``.venv/bin/python -m bench.bench_exports``
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.exports import export_responses
from toolkit.instrument.loader import load_survey
from toolkit.instrument.model import DONT_KNOW, Survey

N_BALLOTS = 100_000
SUBJECTS = ("juweihui", "wuye", "yeweihui", "contractor")
COMMENTS = ("电梯噪音太大，希望改进。", '=HYPERLINK("http://x","点我")', "物业回应及时", "@SUM(1)")


def synthetic_responses(survey: Survey, n: int, *, seed: int = 0) -> pd.DataFrame:
    """A responses-shaped table of ``n`` ballots, built column by column with numpy."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {
        "submission_id": np.array([f"{i:08x}-0000-4000-8000-000000000000" for i in range(n)]),
        "meeting_id": np.array([f"M{i // 40:05d}" for i in range(n)], dtype=object),
        "community": np.full(n, "五里桥一居", dtype=object),
        "street": np.full(n, "五里桥街道", dtype=object),
        "kind": np.full(n, "evaluation", dtype=object),
        "device": np.array([f"T{i % 8}" for i in range(n)], dtype=object),
        "started_at": pd.to_datetime(1_770_000_000 + np.arange(n) * 7, unit="s", utc=True),
        "submitted_at": pd.to_datetime(1_770_000_180 + np.arange(n) * 7, unit="s", utc=True),
        "status": np.full(n, "valid", dtype=object),
    }
    for variable in survey.variables(subjects=SUBJECTS):
        q = variable.question
        if q.type in ("single", "grid"):
            codes = list(survey.scale(q).values)
            if variable.item is not None and variable.item.allow_dont_know:
                codes.append(DONT_KNOW)
            drawn = rng.integers(-1, len(codes), n)  # -1: unanswered
            data[variable.name] = pd.Categorical.from_codes(drawn, categories=codes, ordered=True)
        elif q.type == "multiple":
            answered = rng.random(n) < 0.6
            for code in survey.scale(q).values:
                flags = (rng.random(n) < 0.2).astype(np.int64)
                data[f"{q.id}__{code}"] = pd.arrays.IntegerArray(flags, ~answered)
        elif q.type == "integer":
            data[variable.name] = pd.array(rng.integers(1, 13, n), dtype="Int64")
        else:
            text = np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), n)]
            text[rng.random(n) < 0.8] = None
            data[variable.name] = text
    return pd.DataFrame(data)


def _xlsx_rows(path: Path) -> int:
    """Data rows of the first sheet, counted in its XML (reading 100,000 rows back with openpyxl
    would dominate the run; the sheet's ``<dimension>`` is the writer's own claim)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    return xml.count(b"<row ") - 1


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    survey = load_survey("surveys/evaluation.yaml")
    frame = synthetic_responses(survey, N_BALLOTS)
    print(f"{N_BALLOTS:,} ballots x {frame.shape[1]} columns")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        peer = best_of(3, lambda: frame.to_csv(out / "peer.csv", index=False))
        readers: dict[str, Callable[[Path], int]] = {
            "csv": lambda p: len(pd.read_csv(p, usecols=["submission_id"])),
            "parquet": lambda p: len(pd.read_parquet(p, columns=["submission_id"])),
            "sav": lambda p: len(__import__("pyreadstat").read_sav(str(p), usecols=["status"])[0]),
            "dta": lambda p: len(pd.read_stata(p, columns=["status"])),
            "xlsx": _xlsx_rows,
        }
        for ext, repeat in (("csv", 3), ("parquet", 3), ("sav", 2), ("dta", 2), ("xlsx", 1)):
            path = out / f"ballots.{ext}"
            ours = best_of(repeat, lambda p=path: export_responses(frame, p, survey=survey))
            rows = readers[ext](path)
            if rows != N_BALLOTS:
                raise SystemExit(f"{ext}: read back {rows} rows, expected {N_BALLOTS}")
            print(f"{ext}: ours {ours:.2f}s, peer {peer:.2f}s, ratio peer/ours {peer / ours:.1f}x")


if __name__ == "__main__":
    main()
