"""What reading one parquet partition costs, against scoring the same rows in memory.

Usage (from the repository root; a partition file from ``bench/dask_scale.py``):

    python bench/parquet_read_floor.py bench/data/dask-100000000/export-00001.parquet

The rows of the file (WAI-SR, 12 int8 items, about 3% missing) are written again with
each of pyarrow's usual parquet settings (the default, Snappy with dictionaries; no
compression; no dictionary; neither; LZ4; ZSTD), each file is read back with
``pyarrow.parquet.read_table`` on one thread (decoding only: no pandas), and
``pandas.read_parquet`` (what a Dask partition costs to become a pandas frame) is timed
on the original file. Beside them, :func:`alliance_score.score_frame` on the same rows
already in memory (the single-process baseline of the scale-out target). All times are
medians of ``--repeat`` CPU times (``time.process_time``), interleaved.

Any scale-out path that reads parquet spends at least the decode time per row on top of
scoring, so ``score / (score + decode)`` bounds its per-core rate against the in-memory
baseline, before any scheduling, transfer or output cost. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

import alliance_score as als

SETTINGS: dict[str, dict[str, Any]] = {
    "default (snappy, dictionary)": {},
    "no compression": {"compression": "none"},
    "no dictionary": {"use_dictionary": False},
    "no compression, no dictionary": {"compression": "none", "use_dictionary": False},
    "lz4": {"compression": "lz4"},
    "zstd": {"compression": "zstd"},
}


def cpu(fn: Callable[[], Any]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    table = pq.read_table(args.path)
    frame = table.to_pandas()  # float64 with NaN: what read_parquet gives
    rows = table.num_rows
    als.score_frame(frame, "wai-sr")  # warm: kernel loaded
    tasks: dict[str, Callable[[], Any]] = {
        "score_frame in memory": lambda: als.score_frame(frame, "wai-sr", return_problems=True),
        "pandas.read_parquet (the file)": lambda: pd.read_parquet(args.path),
    }
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for name, options in SETTINGS.items():
            path = Path(tmp) / f"{len(sizes)}.parquet"
            pq.write_table(table, path, row_group_size=rows, **options)
            sizes[name] = path.stat().st_size
            tasks[f"decode: {name}"] = lambda p=path: pq.read_table(p, use_threads=False)
        times: dict[str, list[float]] = {name: [] for name in tasks}
        for _ in range(args.repeat):
            for name, fn in tasks.items():
                times[name].append(cpu(fn))
    median = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    score = median["score_frame in memory"]
    print(f"\n{rows:,} rows; median of {args.repeat} CPU times\n")
    print("| step | CPU ms | file MB | bound on scale-out / in-memory per core |")
    print("| --- | ---: | ---: | ---: |")
    for name, ms in median.items():
        setting = name.removeprefix("decode: ")
        size = f"{sizes[setting] / 1e6:.1f}" if setting in sizes else ""
        bound = "" if name == "score_frame in memory" else f"{score / (score + ms):.2f}"
        print(f"| {name} | {ms:.1f} | {size} | {bound} |")
    print(f"\nload average {os.getloadavg()}")


if __name__ == "__main__":
    main()
