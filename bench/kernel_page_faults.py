"""``score_frame`` at 10^6 rows as ``bench_kernel.py`` times it, with the page faults of
each call: how much of the in-memory figure is fresh output memory.

Usage (from the repository root)::

    python bench/kernel_page_faults.py
    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=134217728 \\
        python bench/kernel_page_faults.py

The second form keeps freed memory in the process (glibc), so that repeated calls reuse
it instead of taking fresh, zeroed pages from the operating system.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_kernel as bk

import alliance_score as als
from alliance_score.scoring import KERNEL_ENV

REPEAT = 5


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    ins = als.load_instrument("wai-sr")
    x = bk.matrix(1_000_000)
    frame = pd.DataFrame(x, columns=bk.ITEMS, copy=False)
    for kernel in ("numpy", "numba"):
        os.environ[KERNEL_ENV] = kernel
        als.score_frame(frame.iloc[:1000], ins)  # load the kernel outside the timing
        before = faults()
        _, cpu = bk.best(lambda: als.score_frame(frame, ins), REPEAT)
        per_call = (faults() - before) / REPEAT
        floor = bk.best(x.max, 2 * REPEAT)[1]
        print(
            f"{kernel}: score_frame {cpu * 1e3:.1f} ms CPU (best of {REPEAT}), "
            f"{per_call:,.0f} page faults per call; floor {floor * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
