"""Where score_frame's time goes: parsing, the kernel and the whole call, best of 5.

Run from the repository root: ``python bench/profile_score_frame.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

import alliance_score as als
from alliance_score.frame import _parse
from alliance_score.parsing import CellRules
from alliance_score.scoring import score_matrix


def best_ms(f: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args().rows
    rng = np.random.default_rng(1)
    x = rng.integers(1, 6, (n, 12)).astype(float)
    x[rng.random((n, 12)) < 0.02] = np.nan
    frame = pd.DataFrame(x, columns=[f"wai_{i}" for i in range(1, 13)])
    ins = als.load_instrument("wai-sr")
    mapping = {i: f"wai_{i}" for i in ins.item_ids}
    rules = CellRules.build(ins)
    matrix = np.asfortranarray(x)
    print(f"rows {n:,} x 12 items, best of 5")
    print(f"floor x.max()          {best_ms(lambda: x.max()):8.1f} ms")
    print(f"score_frame            {best_ms(lambda: als.score_frame(frame, ins)):8.1f} ms")
    print(f"  parsing (12 columns) {best_ms(lambda: _parse(frame, ins, mapping, rules)):8.1f} ms")
    print(f"  the kernel           {best_ms(lambda: score_matrix(matrix, ins)):8.1f} ms")


if __name__ == "__main__":
    main()
