"""Scale-out benchmark: a partitioned parquet dataset scored on a local Dask cluster.

Usage (from the repository root, with the ``dask`` extra installed):

    python bench/dask_scale.py --rows 1e8 --files 100 --workers 2 --memory-limit 3GiB

Steps, side by side in one run:

1. generate ``--rows`` WAI-SR-like rows (12 int8 items 1-5 from a one-factor model,
   about 3% of cells missing, 1 in 10^4 out of range) as ``--files`` parquet files of one
   row group each, under ``bench/data/dask-<rows>/`` (kept for later runs);
2. ``alliance-score score 'DIR/*.parquet' --engine dask`` on the command's local cluster
   (``--workers`` single-threaded worker processes, each under ``--memory-limit``): wall
   time, rows per second per core and each worker's peak resident memory;
3. the single-process rate: :func:`alliance_score.score_frame` on an in-memory slice of
   the same data (the first files, read as the command reads them), best of 3;
4. the library path on the same cluster: ``alliance_score.dask.score_frame`` of
   ``dd.read_parquet(DIR)`` reduced to the counts per status (the same kernel, no output
   files), with the workers' CPU seconds;
5. ``alliance_score.dask.reliability`` of all rows (pairwise and listwise) on the same
   cluster, against a streamed two-pass numpy reference that reads one file at a time
   (``--skip-reliability`` leaves step 5 out, ``--skip-reference`` the reference);
6. like for like: one process reading the same files with pandas and scoring them as the
   library path's tasks do, file by file up to ``--slice-rows`` rows, in CPU seconds
   (``library_vs_single_read_and_score``: the share of the per-core rate Dask keeps).

CPU seconds of the workers (``getrusage`` in each worker process, before and after) are
the figure to compare on a shared machine: other processes do not inflate them. Each
worker first scores one file (importing the library and pyarrow, loading the compiled
kernel): a cost once per worker process, reported apart (``worker_warm_up_cpu_s``).

The test suite runs the same pipeline at 10^6 rows in 16 files
(``tests/test_dask_cluster.py``); nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ITEMS = [f"wai_{i}" for i in range(1, 13)]


def generate(
    folder: str | os.PathLike[str],
    rows: int,
    files: int,
    *,
    seed: int = 0,
    missing: float = 0.03,
    ids: bool = False,
) -> list[str]:
    """Write the dataset (one row group per file); returns the file paths in order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = np.full(files, rows // files)
    sizes[: rows % files] += 1
    paths = []
    first = 0
    for f, n in enumerate(sizes.tolist()):
        trait = rng.standard_normal((n, 1), dtype=np.float32)
        noise = rng.standard_normal((n, len(ITEMS)), dtype=np.float32)
        x = np.clip(np.rint(3.5 + trait + 0.9 * noise), 1, 5).astype(np.int8)
        x[rng.random((n, len(ITEMS)), dtype=np.float32) < 1e-4] = 9
        absent = rng.random((n, len(ITEMS)), dtype=np.float32) < missing
        columns: dict[str, Any] = {}
        if ids:
            record = np.arange(first, first + n, dtype=np.int64)
            again = rng.random(n) < 1e-3  # a few administrations entered twice
            record[again] = rng.integers(0, first + 1, size=int(again.sum()))
            columns["record_id"] = pa.array(record)
        for j, name in enumerate(ITEMS):
            columns[name] = pa.array(x[:, j], mask=absent[:, j], type=pa.int8())
        path = out / f"export-{f:05d}.parquet"
        pq.write_table(pa.table(columns), path, row_group_size=max(n, 1))
        paths.append(str(path))
        first += n
    return paths


def read_items(path: str, instrument: Any) -> np.ndarray[Any, Any]:
    """One file's keyed item matrix: NaN where missing or not a valid answer."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=ITEMS)
    x = np.column_stack(
        [table.column(c).to_numpy(zero_copy_only=False).astype(np.float64) for c in ITEMS]
    )
    lo, hi = instrument.response.min, instrument.response.max
    x[(x < lo) | (x > hi) | (x != np.rint(x))] = np.nan
    for j, item in enumerate(instrument.items):
        if item.reverse:
            x[:, j] = lo + hi - x[:, j]
    return x


def streamed_reliability(paths: list[str], instrument_id: str = "wai-sr") -> pd.DataFrame:
    """Alpha and standardised alpha per scale, pairwise and listwise, in two passes.

    Pass 1 finds each item's mean (over its answers, or over the complete rows for
    listwise); pass 2 sums, per item pair over the rows where both are answered, the
    products of the values centred on those means, and corrects for the pair's own means
    (R's ``cov(x, use = "pairwise")``). One file is in memory at a time. The textbook
    two-pass algorithm, independent of the library's merged co-moments.
    """
    import alliance_score as als

    ins = als.load_instrument(instrument_id)
    position = {item: j for j, item in enumerate(ins.item_ids)}
    scales = [(s.id, [position[i] for i in s.items]) for s in ins.scales if s.status == "verified"]

    def views(path: str) -> list[tuple[tuple[str, str], np.ndarray[Any, Any]]]:
        x = read_items(path, ins)
        out = []
        for name, cols in scales:
            sub = x[:, cols]
            out.append(((name, "pairwise"), sub))
            out.append(((name, "listwise"), sub[~np.isnan(sub).any(axis=1)]))
        return out

    count: dict[tuple[str, str], Any] = {}
    total: dict[tuple[str, str], Any] = {}
    for path in paths:
        for key, sub in views(path):
            count[key] = count.get(key, 0) + (~np.isnan(sub)).sum(axis=0)
            total[key] = total.get(key, 0) + np.nansum(sub, axis=0)
    mean = {k: total[k] / count[k] for k in count}
    n: dict[tuple[str, str], Any] = {}
    s: dict[tuple[str, str], Any] = {}
    ss: dict[tuple[str, str], Any] = {}
    for path in paths:
        for key, sub in views(path):
            mask = (~np.isnan(sub)).astype(np.float64)
            y = np.nan_to_num(sub - mean[key])
            n[key] = n.get(key, 0) + mask.T @ mask
            s[key] = s.get(key, 0) + y.T @ mask  # s[j, k]: sum of y_j where j and k answered
            ss[key] = ss.get(key, 0) + y.T @ y
    rows = []
    for key in n:
        cov = (ss[key] - s[key] * s[key].T / n[key]) / (n[key] - 1)
        k = cov.shape[0]
        sd = np.sqrt(np.diag(cov))
        cor = cov / np.outer(sd, sd)
        rows.append(
            {
                "scale": key[0],
                "missing": key[1],
                "alpha": k / (k - 1) * (1 - np.trace(cov) / cov.sum()),
                "alpha_std": k / (k - 1) * (1 - k / cor.sum()),
            }
        )
    return pd.DataFrame(rows)


def single_process_rate(paths: list[str], rows: int) -> tuple[int, float, float]:
    """(rows, best seconds of 3, CPU seconds of that run): ``score_frame`` on an
    in-memory slice of the data."""
    import pyarrow.parquet as pq

    import alliance_score as als

    frames, total = [], 0
    for path in paths:
        table = pq.read_table(path)
        frames.append(pd.DataFrame({c: table.column(c).to_pandas() for c in table.column_names}))
        total += table.num_rows
        if total >= rows:
            break
    frame = pd.concat(frames, ignore_index=True).iloc[:rows]
    best = cpu_best = float("inf")
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        als.score_frame(frame, "wai-sr", return_problems=True)
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, cpu_best = elapsed, time.process_time() - cpu
    return len(frame), best, cpu_best


def single_process_read_and_score(paths: list[str], rows: int) -> tuple[int, float]:
    """(rows, CPU seconds): one process doing what the library path's tasks do, file by
    file until ``rows`` rows: read the parquet file with pandas, score it, count the
    statuses. The like-for-like figure for the per-core efficiency of Dask."""
    import alliance_score as als

    als.score_frame(pd.read_parquet(paths[0]).iloc[:1000], "wai-sr")  # imports, kernel
    total, cpu = 0, 0.0
    for path in paths:
        start = time.process_time()
        scores = als.score_frame(pd.read_parquet(path), "wai-sr")
        scores["status"].value_counts()
        cpu += time.process_time() - start
        total += len(scores)
        if total >= rows:
            break
    return total, cpu


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _warm_up(path: str) -> float:
    """In a worker: load what every task needs once per process (the library, pyarrow, the
    compiled kernel from numba's cache) by scoring one file; the CPU seconds it took."""
    before = _cpu_seconds()
    import pyarrow.parquet as pq

    import alliance_score as als

    table = pq.read_table(path)
    frame = pd.DataFrame({c: table.column(c).to_pandas() for c in table.column_names})
    als.score_frame(frame, "wai-sr", return_problems=True)
    return _cpu_seconds() - before


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> dict[str, Any]:
    import dask.dataframe as dd
    from distributed import Client

    from alliance_score import dask as asd
    from alliance_score.cli import main
    from alliance_score.cli._dask_score import local_cluster

    rows = int(float(args.rows))
    folder = HERE / "data" / (f"dask-{rows}-ids" if args.ids else f"dask-{rows}")
    print(f"load average {os.getloadavg()}; generating into {folder}", file=sys.stderr)
    started = time.perf_counter()
    if not (folder / "done").exists():
        generate(folder, rows, args.files, ids=args.ids)
        (folder / "done").write_text("")
    paths = sorted(str(p) for p in folder.glob("export-*.parquet"))
    generated = time.perf_counter() - started
    out = Path(args.out)
    for sub in ("scores", "problems"):
        if (out / sub).exists():
            raise SystemExit(f"{out / sub} exists; remove it first")
    load = os.getloadavg()
    print(f"generated in {time.perf_counter() - started:.0f} s; scoring", file=sys.stderr)
    with (
        local_cluster(args.workers, memory_limit=args.memory_limit) as cluster,
        Client(cluster) as client,
    ):
        # once per worker process, not per row: reported apart from the rates
        warm_up = client.run(_warm_up, paths[0])
        cpu_before = client.run(_cpu_seconds)
        start = time.perf_counter()
        code = main(
            [
                "score",
                str(folder / "*.parquet"),
                "-i",
                "wai-sr",
                "--engine",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "-o",
                str(out / "scores"),
                "--problems",
                str(out / "problems"),
                "-q",
            ]
        )
        scored = time.perf_counter() - start
        cpu_after = client.run(_cpu_seconds)
        worker_cpu = sum(cpu_after[w] - cpu_before.get(w, 0.0) for w in cpu_after)
        peaks = client.run(_peak_rss_mib)
        # the library path: the same kernel on Dask, without the command's output files
        cpu_before = client.run(_cpu_seconds)
        start = time.perf_counter()
        lazy = asd.score_frame(dd.read_parquet(str(folder / "*.parquet")), "wai-sr")
        counts = lazy["status"].value_counts().compute()
        library_s = time.perf_counter() - start
        cpu_after = client.run(_cpu_seconds)
        library_cpu = sum(cpu_after[w] - cpu_before.get(w, 0.0) for w in cpu_after)
        assert int(counts.sum()) == rows
        if args.skip_reliability:
            merged = None
            reliability_s = reliability_cpu = float("nan")
        else:
            cpu_before = client.run(_cpu_seconds)
            start = time.perf_counter()
            partial = asd.partial_reliability(dd.read_parquet(str(folder / "*.parquet")), "wai-sr")
            merged = pd.concat(
                [partial.finish(missing=m, ci=None) for m in ("pairwise", "listwise")],
                ignore_index=True,
            )
            reliability_s = time.perf_counter() - start
            cpu_after = client.run(_cpu_seconds)
            reliability_cpu = sum(cpu_after[w] - cpu_before.get(w, 0.0) for w in cpu_after)
    print(f"scored in {scored:.0f} s, reliability in {reliability_s:.0f} s", file=sys.stderr)
    slice_rows, slice_s, slice_cpu = single_process_rate(paths, args.slice_rows)
    read_rows, read_cpu = single_process_read_and_score(paths, args.slice_rows)
    reliability: dict[str, Any] = {}
    if merged is not None:
        reliability = {
            "reliability_s": round(reliability_s, 1),
            "reliability_worker_cpu_s": round(reliability_cpu, 1),
            "reliability_rows_per_worker_cpu_s": round(rows / reliability_cpu),
        }
    if merged is not None and not args.skip_reference:
        start = time.perf_counter()
        reference = streamed_reliability(paths)
        reference_s = time.perf_counter() - start
        both = merged.merge(reference, on=["scale", "missing"], suffixes=("", "_ref"))
        reliability |= {
            "reference_s": round(reference_s, 1),
            "max_abs_diff_alpha": float((both["alpha"] - both["alpha_ref"]).abs().max()),
            "max_abs_diff_alpha_std": float(
                (both["alpha_std"] - both["alpha_std_ref"]).abs().max()
            ),
            "reliability": both.round(12).to_dict(orient="records"),
        }
    per_core = rows / scored / args.workers
    single = slice_rows / slice_s
    single_per_cpu = slice_rows / slice_cpu
    return {
        "rows": rows,
        "files": len(paths),
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "exit_code": code,
        "generate_s": round(generated, 1),
        "dask_score_s": round(scored, 1),
        "dask_rows_per_s_per_core": round(per_core),
        "single_slice_rows": slice_rows,
        "single_slice_s": round(slice_s, 3),
        "single_rows_per_s": round(single),
        "per_core_ratio": round(per_core / single, 3),
        "dask_worker_cpu_s": round(worker_cpu, 1),
        "dask_rows_per_cpu_s": round(rows / worker_cpu),
        "single_cpu_s": round(slice_cpu, 3),
        "single_rows_per_cpu_s": round(slice_rows / slice_cpu),
        "per_cpu_second_ratio": round((rows / worker_cpu) / single_per_cpu, 3),
        "library_s": round(library_s, 1),
        "library_worker_cpu_s": round(library_cpu, 1),
        "library_rows_per_cpu_s": round(rows / library_cpu),
        "library_per_cpu_second_ratio": round((rows / library_cpu) / single_per_cpu, 3),
        "single_read_and_score_rows": read_rows,
        "single_read_and_score_rows_per_cpu_s": round(read_rows / read_cpu),
        "library_vs_single_read_and_score": round((rows / library_cpu) / (read_rows / read_cpu), 3),
        "worker_peak_rss_mib": {k: round(v) for k, v in peaks.items()},
        "worker_warm_up_cpu_s": {k: round(v, 2) for k, v in warm_up.items()},
        **reliability,
        "load_average_at_start": [round(v, 2) for v in load],
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e8")
    parser.add_argument(
        "--ids",
        action="store_true",
        help="with an int64 record_id column (1 in 10^3 rows repeats an earlier id): the "
        "command then also finds duplicates (under bench/data/dask-<rows>-ids/)",
    )
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GiB")
    parser.add_argument("--slice-rows", type=int, default=4_000_000)
    parser.add_argument("--out", default=str(HERE / "data" / "dask-out"))
    parser.add_argument(
        "--skip-reliability", action="store_true", help="leave out step 5 (reliability)"
    )
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="in step 5, leave out the streamed numpy reference (single-process, slow)",
    )
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    suffix = "-ids" if args.ids else ""
    (HERE / "data" / f"dask-result-{int(float(args.rows))}{suffix}.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
