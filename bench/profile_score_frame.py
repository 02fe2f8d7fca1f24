"""Where score_frame's time goes: the fused kernel alone and the whole call, per kernel.

Run from the repository root: ``python bench/profile_score_frame.py [--rows N]``.
Times are the best of 7 of this process's CPU time (``time.process_time``), the floor
and each kernel interleaved, so that other work on a shared machine disturbs them least.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args().rows
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

    tasks: dict[str, Callable[[], object]] = {
        "floor x.max()": x.max,
        "kernel, numpy (score_columns)": kernel("numpy"),
        "kernel, numba (score_columns)": kernel("numba"),
        "score_frame, numpy kernel": whole("numpy"),
        "score_frame, numba kernel": whole("numba"),
    }
    for task in tasks.values():
        task()  # load the compiled kernel outside the timing
    times: dict[str, list[float]] = {k: [] for k in tasks}
    for _ in range(7):
        for label, task in tasks.items():
            start = time.process_time()
            task()
            times[label].append(time.process_time() - start)
    floor = min(times["floor x.max()"])
    print(f"rows {n:,} x 12 items, best of 7, CPU time")
    for label, t in times.items():
        print(f"{label:32s} {1e3 * min(t):8.1f} ms {min(t) / floor:6.1f}x floor")


if __name__ == "__main__":
    main()
