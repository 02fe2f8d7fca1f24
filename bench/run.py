"""Benchmarks for batch scoring; writes bench/RESULTS.md.

Usage (from the repository root, with the ``cli`` extra installed):

    python bench/run.py --sizes 1e4 1e5 1e6 1e7

For each size it generates the data (bench/generate.py, into bench/data/) and measures,
side by side in one run:

* in memory, on an ``n x 12`` float64 DataFrame: ``score_frame`` against the floor (one
  read pass, ``arr.max()``), a plain vectorised pandas scorer, and R's
  ``psych::scoreItems`` (through ``Rscript``, timing the call alone);
* from the CSV file: the ``alliance-score score`` command end to end (a fresh process,
  writing the scores file) against ``pyarrow.csv.read_csv`` of the same file, each with
  its peak resident memory (``/usr/bin/time -v``).

Times are the best of ``--repeat`` runs (one run at 10^7 rows). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DATA, ITEMS, generate  # noqa: E402

import alliance_score as als  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def pandas_scorer(df: pd.DataFrame, ins: als.Instrument) -> pd.DataFrame:
    """A plain vectorised scorer: per scale, the mean of the answered items."""
    out = {}
    for scale in ins.scales:
        sub = df[[f"wai_{i}" for i in scale.items]]
        mean = sub.mean(axis=1)
        out[scale.id] = mean.where(sub.count(axis=1) >= scale.min_answered)
    return pd.DataFrame(out)


def in_blocks(df: pd.DataFrame, ins: als.Instrument, rows: int = 100_000) -> pd.DataFrame:
    """``score_frame`` on consecutive blocks of rows (as the CLI scores a file's chunks)."""
    parts = [als.score_frame(df.iloc[i : i + rows], ins) for i in range(0, len(df), rows)]
    return pd.concat(parts)


def timed_process(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *argv], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(match.group(1)) / 1024 if match else float("nan")
    return wall, rss, done.stdout


def r_keys(ins: als.Instrument) -> str:
    return ";".join(f"{s.id}={','.join(s.items)}" for s in ins.scales)


def machine() -> list[str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import pyarrow

    r_version = (
        subprocess.run(
            [
                "Rscript",
                "-e",
                'cat(R.version.string, "; psych", as.character(packageVersion("psych")))',
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if shutil.which("Rscript")
        else "R not installed"
    )
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores (shared with other work during the run; "
        f"load average at start {os.getloadavg()[0]:.2f})",
        f"- memory: {mem:.0f} GiB",
        f"- Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"pyarrow {pyarrow.__version__}, alliance-score {als.__version__}",
        f"- {r_version}",
    ]


def run(sizes: list[int], repeat: int, r_max: int) -> str:
    ins = als.load_instrument("wai-sr")
    cli = shutil.which("alliance-score") or "alliance-score"
    mem_rows = []
    file_rows = []
    for n in sizes:
        path = generate(n)
        raw = path.with_suffix(".f64")
        reps = repeat if n < 10_000_000 else 1
        x = np.fromfile(raw, dtype="<f8").reshape(n, 12)
        # contiguous columns, as read_csv or a dict of arrays gives them
        df = pd.DataFrame(np.asfortranarray(x), columns=ITEMS)
        floor = best(lambda x=x: x.max(), reps)
        lib = best(lambda df=df: als.score_frame(df, ins), reps)
        blocked = best(lambda df=df: in_blocks(df, ins), reps)
        plain = best(lambda df=df: pandas_scorer(df, ins), reps)
        del df, x
        r_time = float("nan")
        if shutil.which("Rscript") and n <= r_max:
            out = subprocess.run(
                ["Rscript", str(HERE / "psych_score.R"), str(raw), str(n), r_keys(ins)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            r_time = float(out.split()[-1])
        mem_rows.append((n, floor, lib, blocked, plain, r_time))
        out_csv = DATA / "scores_out.csv"
        cli_time, cli_rss = min(
            (
                timed_process([cli, "score", str(path), "-i", "wai-sr", "-q", "-o", str(out_csv)])[
                    :2
                ]
                for _ in range(reps if n <= 1_000_000 else 1)
            ),
        )
        arrow_code = (
            "import time, pyarrow.csv as c; t = time.perf_counter(); "
            f"c.read_csv({str(path)!r}); print(time.perf_counter() - t)"
        )
        arrow_runs = [timed_process([sys.executable, "-c", arrow_code]) for _ in range(reps)]
        arrow_time = min(float(r[2]) for r in arrow_runs)
        arrow_rss = min(r[1] for r in arrow_runs)
        size_mb = path.stat().st_size / 2**20
        file_rows.append((n, size_mb, cli_time, cli_rss, arrow_time, arrow_rss))
        print(f"done {n:,}", file=sys.stderr)
    return report(mem_rows, file_rows, sizes, repeat)


def report(mem_rows: list[tuple], file_rows: list[tuple], sizes: list[int], repeat: int) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `python bench/run.py --sizes "
        + " ".join(f"{n:.0e}".replace("+0", "") for n in sizes)
        + f" --repeat {repeat}` (data from `bench/generate.py`: WAI-SR-like answers 1-5 "
        "with about 2% of cells blank, plus `client_id` and `session`).",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## In memory: `score_frame` on an n x 12 float64 DataFrame",
        "",
        "Seconds (best of the repeats; the floor in milliseconds). Ratios are measured "
        "side by side in this run: "
        "`psych / score_frame` (higher is better for us) and `score_frame / floor` (lower "
        "is better).",
        "",
        "| rows | floor `arr.max()` ms | `score_frame` | `score_frame` in 10^5-row blocks "
        "| plain pandas | `psych::scoreItems` | psych / score_frame | score_frame / floor "
        "| blocks / floor |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, floor, lib, blocked, plain, r_time in mem_rows:
        r_cell = f"{r_time:.3f}" if r_time == r_time else "not run"
        ratio = f"{r_time / lib:.1f}x" if r_time == r_time else "-"
        lines.append(
            f"| {n:,} | {1000 * floor:.2f} | {lib:.3f} | {blocked:.3f} | {plain:.3f} "
            f"| {r_cell} | {ratio} | {lib / floor:.0f}x | {blocked / floor:.0f}x |"
        )
    lines += [
        "",
        "## From the CSV file: `alliance-score score` end to end",
        "",
        "The command is a fresh process (start-up and imports included) reading the CSV, "
        "scoring and writing the scores CSV. pyarrow's time is `pyarrow.csv.read_csv` "
        "alone, in a fresh process; peak resident memory is `/usr/bin/time -v`'s.",
        "",
        "| rows | CSV MiB | CLI s | CLI peak MiB | pyarrow read s | pyarrow peak MiB "
        "| CLI / pyarrow |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, size_mb, cli_time, cli_rss, arrow_time, arrow_rss in file_rows:
        lines.append(
            f"| {n:,} | {size_mb:.0f} | {cli_time:.2f} | {cli_rss:.0f} | {arrow_time:.3f} "
            f"| {arrow_rss:.0f} | {cli_time / arrow_time:.1f}x |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--r-max", type=float, default=1e7, help="largest size given to R")
    parser.add_argument("--out", type=Path, help="write the tables here (default: stdout)")
    args = parser.parse_args()
    text = run([int(s) for s in args.sizes], args.repeat, int(args.r_max))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
