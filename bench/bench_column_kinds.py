"""``score_frame`` on the same answers held as different kinds of pandas columns.

Run from the repository root: ``python bench/bench_column_kinds.py [--rows N] [--repeat R]``.

One WAI-SR table (``--rows`` rows, default 10^6; 12 items 1-5, about 3% of cells missing,
1 in 10^4 out of range) is held as:

* ``float64``: NaN where missing (what ``read_parquet`` gives by default);
* ``Int8``: pandas' nullable integers (``dtype_backend="numpy_nullable"``, Stata and SPSS
  readers);
* ``int8[pyarrow]``: pyarrow-backed (``dtype_backend="pyarrow"``);
* ``text``: object columns of strings (a CSV read with ``dtype=str``).

Each is scored two ways, interleaved in one run: ``current`` is ``score_frame`` as it
is; ``whole-column`` turns off what reads nullable integer columns from their numbers
and missing cells (each such column converted to float64 as a whole first), and scores
the kernel for each row block by the size of that block (the numpy kernel for blocks
under ``NUMBA_MIN_ROWS`` rows), as ``score_frame`` did before. Times are the median of
``--repeat`` CPU times (``time.process_time``), with wall time beside them, and the peak
of memory allocated during one call (``tracemalloc``: numpy and pandas buffers included).
Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

import alliance_score as als
from alliance_score import frame


def tables(n: int) -> dict[str, pd.DataFrame]:
    import pyarrow as pa

    rng = np.random.default_rng(3)
    x = np.clip(
        np.rint(3.5 + rng.standard_normal((n, 1)) + 0.9 * rng.standard_normal((n, 12))), 1, 5
    )
    x[rng.random((n, 12)) < 1e-4] = 9
    absent = rng.random((n, 12)) < 0.03
    names = [f"wai_{i}" for i in range(1, 13)]
    ints = x.astype(np.int8)
    f64 = np.where(absent, np.nan, x)
    out = {
        "float64": pd.DataFrame(f64, columns=names),
        "Int8": pd.DataFrame(
            {c: pd.arrays.IntegerArray(ints[:, j], absent[:, j]) for j, c in enumerate(names)}
        ),
        "int8[pyarrow]": pd.DataFrame(
            {
                c: pd.arrays.ArrowExtensionArray(pa.array(ints[:, j], mask=absent[:, j]))
                for j, c in enumerate(names)
            }
        ),
    }
    text = np.where(absent, "", ints.astype(str)).astype(object)
    out["text"] = pd.DataFrame(text, columns=names)
    return out


@contextmanager
def whole_column() -> Iterator[None]:
    """``score_frame`` as before: nullable integer columns converted whole, and the
    kernel chosen by the size of one block."""
    saved_masked, saved_batch = frame.masked_integers, frame.batch_kernel
    frame.masked_integers = lambda series: None  # type: ignore[assignment]
    frame.batch_kernel = lambda rows, kernel=None: None  # type: ignore[assignment]
    try:
        yield
    finally:
        frame.masked_integers, frame.batch_kernel = saved_masked, saved_batch


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.process_time() - c, time.perf_counter() - w


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n = int(args.rows)
    print(f"load average {os.getloadavg()}; {n:,} rows; median of {args.repeat}")
    data = tables(n)
    ins = als.load_instrument("wai-sr")
    reference = als.score_frame(data["float64"], ins, return_problems=True)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeat):
        for kind, table in data.items():
            run = partial(als.score_frame, table, ins, return_problems=True)
            for way in ("current", "whole-column"):
                if way == "whole-column":
                    with whole_column():
                        cpu, wall = timed(run)
                else:
                    cpu, wall = timed(run)
                times.setdefault((kind, way), []).append((cpu, wall))
    peaks: dict[tuple[str, str], float] = {}
    for kind, table in data.items():
        got = als.score_frame(table, ins, return_problems=True)
        pd.testing.assert_frame_equal(got.scores, reference.scores)
        run = partial(als.score_frame, table, ins, return_problems=True)
        peaks[(kind, "current")] = peak_mib(run)
        with whole_column():
            peaks[(kind, "whole-column")] = peak_mib(run)
    print(
        "| column kind | current: CPU ms (wall) | whole-column: CPU ms (wall) | CPU ratio "
        "| peak MiB: current | whole-column |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in data:
        cur = [statistics.median(v) * 1e3 for v in zip(*times[(kind, "current")], strict=True)]
        old = [statistics.median(v) * 1e3 for v in zip(*times[(kind, "whole-column")], strict=True)]
        print(
            f"| {kind} | {cur[0]:.1f} ({cur[1]:.1f}) | {old[0]:.1f} ({old[1]:.1f}) "
            f"| {old[0] / cur[0]:.2f}x | {peaks[(kind, 'current')]:.0f} "
            f"| {peaks[(kind, 'whole-column')]:.0f} |"
        )
    print(f"load average {os.getloadavg()}; the scores of every kind equal the float64 ones")


if __name__ == "__main__":
    main()
