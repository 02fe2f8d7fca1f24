"""Where one partition's task of ``score --engine dask`` spends its time (in-process).

Usage (from the repository root; the data from ``bench/dask_scale.py``):

    python bench/profile_dask_task.py bench/data/dask-10000000/export-00000.parquet

Runs the steps of :func:`alliance_score.cli._dask_score.score_task` one by one on one
file (one row group), ``--repeat`` times, and prints the median wall and CPU seconds of
each: reading the row group, ``score_frame`` with the problems, the problems table of the
output, writing the scores and the problems; then the whole task, and ``score_frame`` on
the frame already in memory (the single-process figure). With ``--profile`` a cProfile
of the whole task follows. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from alliance_score import load_instrument, score_frame
from alliance_score.cli import _dask_score as ds
from alliance_score.io.writers import write_table
from alliance_score.mapping import resolve_columns


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median wall seconds, median CPU seconds, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--ids", help="a file with a record_id column, to time the hashing")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    ins = load_instrument("wai-sr")
    columns, parts = ds.plan([args.path])
    mapping = resolve_columns(columns, ins, None)
    out = tempfile.mkdtemp()
    job = ds.Job(
        columns=list(dict.fromkeys(str(c) for c in mapping.values())),
        keep=[],
        identity=[],
        mapping=dict(mapping),
        score_options={
            "missing_codes": [],
            "labels": False,
            "on_invalid": "reject",
            "allow_provisional": False,
        },
        instrument=ins,
        output=out,
        problems=out + "-problems",
    )
    os.makedirs(job.problems or "", exist_ok=True)
    part = parts[0]
    rows = part.rows
    results: list[tuple[str, float, float]] = []
    empty = np.empty(0, np.int64)
    wall, cpu, frame = timed(lambda: ds._read(part, job.columns), args.repeat)
    results.append(("read the row group (12 item columns)", wall, cpu))
    wall, cpu, result = timed(
        lambda: score_frame(frame, ins, first_row=part.first_row, return_problems=True),
        args.repeat,
    )
    results.append(("score_frame with problems", wall, cpu))
    wall, cpu, problems = timed(
        lambda: ds.problems_table(result, part, job, empty, empty), args.repeat
    )
    results.append(("problems table", wall, cpu))
    wall, cpu, table = timed(lambda: ds.scores_table(result.scores, []), args.repeat)
    results.append(("scores as a pyarrow table", wall, cpu))
    target = os.path.join(out, "scores.parquet")
    wall, cpu, _ = timed(lambda: ds.write_scores(result.scores, target, []), args.repeat)
    results.append(("write the scores (with the line above)", wall, cpu))
    wall, cpu, _ = timed(lambda: pq.write_table(table, target), args.repeat)
    results.append(("  of which pyarrow's parquet encoding", wall, cpu))
    wall, cpu, _ = timed(
        lambda: write_table(problems, os.path.join(out, "problems.parquet"), "parquet"),
        args.repeat,
    )
    results.append(("write the problems", wall, cpu))
    wall, cpu, _ = timed(result.summary, args.repeat)
    results.append(("summary", wall, cpu))
    if args.ids:
        ids = pq.read_table(args.ids, columns=["record_id"]).to_pandas()
        kinds = {"record_id": "integer"}
        wall, cpu, _ = timed(lambda: ds._identity_hashes(ids, ["record_id"], kinds), args.repeat)
        results.append(("hash integer identifiers (--ids file)", wall, cpu))
        wall, cpu, _ = timed(lambda: ds._identity_hashes(ids, ["record_id"]), args.repeat)
        results.append(("  the same as Python objects (before)", wall, cpu))

    def task() -> Any:
        for name in os.listdir(out):
            os.remove(os.path.join(out, name))
        for name in os.listdir(job.problems or ""):
            os.remove(os.path.join(job.problems or "", name))
        return ds.score_task(part, job, empty, empty)

    wall, cpu, summary = timed(task, args.repeat)
    results.append(("whole task", wall, cpu))
    wall, cpu, _ = timed(lambda: score_frame(frame, ins, return_problems=True), args.repeat)
    results.append(("score_frame in memory (single-process figure)", wall, cpu))
    print(f"{rows:,} rows, {pq.ParquetFile(args.path).metadata.num_columns} columns")
    print(f"{'step':50s} {'wall s':>8s} {'CPU s':>8s} {'rows/CPU s':>12s}")
    for name, wall, cpu in results:
        print(f"{name:50s} {wall:8.3f} {cpu:8.3f} {rows / cpu if cpu else 0:12,.0f}")
    print("problems per code", summary["problems"])
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        task()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
