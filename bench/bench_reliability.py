"""Time ``reliability`` on a large table beside R's ``psych::alpha`` on the same data.

Usage (from the repository root, with R and psych installed for the comparison)::

    python bench/bench_reliability.py                  # 10^6 rows x 12 items
    python bench/bench_reliability.py --rows 100000 --no-r

The data are 12 items on a 1-5 scale from a one-factor model, about 2% of cells missing.
They are written once as raw doubles and read by R with ``readBin``, so both sides see
identical numbers; the script prints both alphas to show that they agree, and a Markdown
section for ``bench/RESULTS.md`` (part "Reliability on 10^6 rows").
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from alliance_score.psychometrics import psychometric_report, reliability

R_SCRIPT = r"""
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); k <- as.integer(args[3])
x <- matrix(readBin(args[1], "double", n * k), nrow = n, ncol = k)
colnames(x) <- paste0("q", 1:k)
t <- system.time(a <- alpha(x, warnings = FALSE))[["elapsed"]]
cat(sprintf("%.6f %.12f %s %s\n", t, a$total$raw_alpha, R.version$version.string,
            as.character(packageVersion("psych"))))
"""


def make_data(rows: int, items: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(rows, 1))
    x = np.clip(np.rint(3.5 + 0.8 * trait + 0.7 * rng.normal(size=(rows, items))), 1, 5)
    x[rng.random((rows, items)) < 0.02] = np.nan
    return x


def best_of(repeats: int, func: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-r", action="store_true", help="skip the psych timing")
    args = parser.parse_args()
    items = 12
    x = make_data(args.rows, items, seed=2026)
    frame = pd.DataFrame(x, columns=[f"q{i}" for i in range(1, items + 1)])

    table = reliability(frame, "wai-sr", scales=["total"])
    t_alpha = best_of(args.repeats, lambda: reliability(frame, "wai-sr", scales=["total"]))
    t_all = best_of(args.repeats, lambda: reliability(frame, "wai-sr"))
    t_report = best_of(1, lambda: psychometric_report(frame, "wai-sr"))
    text = frame.apply(lambda col: col.map(lambda v: "" if np.isnan(v) else f"{v:g}"))
    t_text = best_of(1, lambda: reliability(text, "wai-sr", scales=["total"]))
    ours = float(table.loc[0, "alpha"])

    r_line = "not run"
    r_time = r_alpha = None
    rscript = shutil.which("Rscript")
    if not args.no_r and rscript:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "x.bin"
            np.asfortranarray(x).T.astype("<f8").tofile(data)  # column-major for R
            script = Path(tmp) / "bench.R"
            script.write_text(R_SCRIPT)
            out = subprocess.run(
                [rscript, str(script), str(data), str(args.rows), str(items)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            r_time, r_alpha = float(out[0]), float(out[1])
            r_line = f"{' '.join(out[2:-1])}, psych {out[-1]}"

    rows_flag = "" if args.rows == 1_000_000 else f" --rows {args.rows}"
    best = f"best of {args.repeats}"
    table_rows = [
        (f"`reliability(df, 'wai-sr', scales=['total'])` ({best})", t_alpha, f"{ours:.10f}"),
        (f"`reliability(df, 'wai-sr')`, 4 scales ({best})", t_all, ""),
        ("`psychometric_report(df, 'wai-sr')`, every table (one run)", t_report, ""),
        ("`reliability(text, 'wai-sr', scales=['total'])`, cells as text (one run)", t_text, ""),
    ]
    if r_time is not None and r_alpha is not None:
        table_rows.append(
            ("`psych::alpha(x)` in R (`system.time`, one run)", r_time, f"{r_alpha:.10f}")
        )
    print(f"## reliability() on {args.rows:,} rows x {items} items (about 2% cells missing)\n")
    print(f"Command: `python bench/bench_reliability.py{rows_flag}`\n")
    print("| what | time (s) | alpha |")
    print("|---|---|---|")
    for what, seconds, alpha in table_rows:
        print(f"| {what} | {seconds:.2f} | {alpha} |")
    print()
    print(f"- machine: `nproc` = {len(os.sched_getaffinity(0))}, CPU {cpu_model()}")
    print(f"- Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"- R: {r_line}")
    if r_alpha is not None:
        print(f"- |alpha difference| = {abs(ours - r_alpha):.1e}")


if __name__ == "__main__":
    main()
