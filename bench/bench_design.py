"""Benchmark: domain means on a large complex sample, ours vs R's ``svyby`` (survey package).

1,000,000 rows, 50 strata, 2,000 PSUs (40 per stratum), 300 domains cutting across PSUs. We time
``SurveyDesign(...).mean("y", by="domain")`` (design construction included) and, when ``Rscript``
with the survey package is available, R's ``svyby(~y, ~domain, design, svymean)`` on the same data in
the same run (only the ``svyby`` call is timed, with ``system.time`` inside R), check that the
estimates and standard errors agree, and report the peak memory of ours (tracemalloc) against the
input DataFrame's ``memory_usage(deep=True)``.

Run: ``.venv/bin/python -m bench.bench_design``
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.analysis.design import SurveyDesign

N_ROWS = 1_000_000
N_STRATA = 50
N_PSU = 2_000
N_DOMAINS = 300

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
df <- read.csv(args[1])
options(survey.lonely.psu = "fail")
d <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = df, nest = TRUE)
tm <- system.time(b <- svyby(~y, ~domain, d, svymean))
out <- list(seconds = unname(tm[["elapsed"]]), domain = b$domain, estimate = unname(coef(b)),
            se = unname(SE(b)))
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), args[2])
"""


def build(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, N_PSU, N_ROWS)
    stratum = psu % N_STRATA
    domain = rng.integers(0, N_DOMAINS, N_ROWS)
    y = 50 + 0.01 * domain + rng.normal(0, 1, N_PSU)[psu] + rng.normal(0, 10, N_ROWS)
    w = rng.uniform(50, 150, N_PSU)[psu] * rng.uniform(0.8, 1.2, N_ROWS)
    return pd.DataFrame({"stratum": stratum, "psu": psu, "domain": domain, "y": y, "w": w})


def ours(df: pd.DataFrame) -> pd.DataFrame:
    design = SurveyDesign(df, weights="w", strata="stratum", cluster="psu")
    return design.mean("y", by="domain")


def time_ours(df: pd.DataFrame, repeat: int = 3) -> tuple[float, pd.DataFrame]:
    best = np.inf
    result = pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        result = ours(df)
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_memory(df: pd.DataFrame) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    ours(df)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def run_r(df: pd.DataFrame) -> dict | None:
    if shutil.which("Rscript") is None:
        print("design: Rscript not found, skipping the comparison with R's svyby")
        return None
    check = subprocess.run(
        ["Rscript", "-e", "library(survey); library(jsonlite)"], capture_output=True, text=True
    )
    if check.returncode != 0:
        print("design: R packages survey/jsonlite not installed, skipping the comparison")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "design.csv"
        out_path = Path(tmp) / "out.json"
        script = Path(tmp) / "bench.R"
        df.to_csv(data_path, index=False)
        script.write_text(R_SCRIPT)
        subprocess.run(["Rscript", str(script), str(data_path), str(out_path)], check=True)
        result: dict = json.loads(out_path.read_text())
    return result


def main() -> None:
    df = build()
    input_bytes = int(df.memory_usage(deep=True).sum())
    seconds, result = time_ours(df)
    peak = peak_memory(df)
    print(
        f"design memory: peak {peak / 2**20:.1f} MiB, input DataFrame {input_bytes / 2**20:.1f} MiB, "
        f"ratio {peak / input_bytes:.2f}x"
    )
    r = run_r(df)
    if r is None:
        print(f"svyby mean (1e6 rows, 300 domains): ours {seconds:.2f}s")
        return
    theirs = pd.DataFrame({"domain": r["domain"], "estimate": r["estimate"], "se": r["se"]})
    merged = result.merge(theirs, on="domain", suffixes=("", "_r"))
    assert len(merged) == N_DOMAINS
    est_dev = float(np.max(np.abs(merged["estimate"] / merged["estimate_r"] - 1)))
    se_dev = float(np.max(np.abs(merged["se"] / merged["se_r"] - 1)))
    print(
        f"design agreement with R: max relative deviation estimate {est_dev:.1e}, se {se_dev:.1e}"
    )
    assert est_dev < 1e-8 and se_dev < 1e-6, "results differ from R"
    peer = float(r["seconds"])
    print(
        f"svyby mean (1e6 rows, 300 domains): ours {seconds:.2f}s, peer {peer:.2f}s, "
        f"ratio peer/ours {peer / seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
