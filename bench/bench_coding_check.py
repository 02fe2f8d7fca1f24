"""Cost of the data-set coding check (alliance_score.coding) inside score_frame.

Times, side by side in one process, ``score_frame`` on 10^6 WAI-SR rows and the check's
own work on the same parsed matrix (``AnswerRange.of`` with the kernel's row count), and
the column auto-detection with its refusals (``resolve_columns``). Reports medians of
``--repeat`` runs. Not run by pytest.

    python bench/bench_coding_check.py --rows 1000000 --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from alliance_score import load_instrument, resolve_columns, score_frame
from alliance_score.coding import AnswerRange


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    columns = [f"wai_sr_{i:02d}" for i in range(1, 13)]
    data = pd.DataFrame(rng.integers(1, 6, size=(args.rows, 12)).astype(float), columns=columns)
    matrix = np.asfortranarray(data.to_numpy())
    wai = load_instrument("wai-sr")
    frame_s, check_s, detect_s = [], [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        score_frame(data, wai)
        frame_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        AnswerRange.of(matrix, args.rows)
        check_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        resolve_columns(columns, wai)
        detect_s.append(time.perf_counter() - t)
    f, c, d = (statistics.median(x) for x in (frame_s, check_s, detect_s))
    print(
        f"rows {args.rows:,}: score_frame {f:.3f} s; coding check {c * 1e3:.1f} ms "
        f"({c / f:.1%}); auto-detection with refusals {d * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
