"""Where score_frame's time goes: the fused kernel alone and the whole call, per kernel.

Run from the repository root: ``python bench/profile_score_frame.py [--rows N [N ...]]``
(default 10^6 rows; ``--rows 1000000 10000000`` also gives the per-row ratio between the
two sizes). Times are the best of ``--repeat`` (default 7) of this process's CPU time
(``time.process_time``) and, beside it, wall time; the floor and each task are
interleaved, so that other work on a shared machine disturbs them least. The load
average is printed at the start and at the end.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import alliance_score as als
from alliance_score.parsing import CellRules
from alliance_score.scoring import KERNEL_ENV, score_columns


def tasks_for(n: int) -> dict[str, Callable[[], object]]:
    """The floor and the four measured calls on an ``n x 12`` WAI-SR matrix."""
    rng = np.random.default_rng(1)
    x = np.asfortranarray(rng.integers(1, 6, (n, 12)).astype(float))
    x[rng.random((n, 12)) < 0.02] = np.nan
    frame = pd.DataFrame(x, columns=[f"wai_{i}" for i in range(1, 13)], copy=False)
    ins = als.load_instrument("wai-sr")
    rules = CellRules.build(ins)
    columns = [x[:, j] for j in range(12)]

    def kernel(name: str) -> Callable[[], object]:
        def run() -> object:
            codes = np.zeros((n, 12), dtype=np.int8, order="F")
            return score_columns(
                columns, ins, rules, codes=codes, checked=[False] * 12, kernel=name
            )

        return run

    def whole(name: str) -> Callable[[], object]:
        def run() -> object:
            os.environ[KERNEL_ENV] = name
            return als.score_frame(frame, ins)

        return run

    return {
        "floor x.max()": x.max,
        "kernel, numpy (score_columns)": kernel("numpy"),
        "kernel, numba (score_columns)": kernel("numba"),
        "score_frame, numpy kernel": whole("numpy"),
        "score_frame, numba kernel": whole("numba"),
    }


def measure(n: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Best CPU and best wall seconds per task."""
    tasks = tasks_for(n)
    for task in tasks.values():
        task()  # load the compiled kernel outside the timing
    cpu: dict[str, list[float]] = {k: [] for k in tasks}
    wall: dict[str, list[float]] = {k: [] for k in tasks}
    for _ in range(repeat):
        for label, task in tasks.items():
            start, start_wall = time.process_time(), time.perf_counter()
            task()
            cpu[label].append(time.process_time() - start)
            wall[label].append(time.perf_counter() - start_wall)
    return {k: (min(cpu[k]), min(wall[k])) for k in tasks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    results = {n: measure(n, args.repeat) for n in args.rows}
    first = args.rows[0]
    for n, times in results.items():
        floor_cpu, floor_wall = times["floor x.max()"]
        print(f"\nrows {n:,} x 12 items, best of {args.repeat}")
        header = f"{'task':32s} {'CPU ms':>9s} {'x floor':>8s} {'wall ms':>9s} {'x floor':>8s}"
        print(header + (f" {'CPU/row vs ' + f'{first:,}':>20s}" if n != first else ""))
        for label, (c, w) in times.items():
            line = f"{label:32s} {1e3 * c:9.1f} {c / floor_cpu:8.1f} {1e3 * w:9.1f} "
            line += f"{w / floor_wall:8.1f}"
            if n != first:
                line += f" {(c / n) / (results[first][label][0] / first):20.2f}"
            print(line)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
