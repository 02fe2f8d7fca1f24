"""Cost of the input checks and the rounding rule of the session and psychometric
functions, measured side by side against another copy of the package.

Usage (from the repository root)::

    git archive <base-commit> src instruments | tar -x -C /tmp/base
    python bench/bench_session_checks.py --rows 1000000 --base /tmp/base/src

Each function runs in a fresh process for each copy, alternately, ``--repeat`` times;
the best time of each is reported with their ratio. Never run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
import alliance_score
from alliance_score.sessions import summarize_clients, detect_ruptures, cutoff_events
from alliance_score.psychometrics import reliability
rows, name = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
n_clients = rows // 10
long = pd.DataFrame({
    "client": np.repeat(np.arange(n_clients), 10),
    "session": np.tile(np.arange(1, 11), n_clients),
    "total": np.round(rng.normal(5, 1, rows), 4),
})
items = pd.DataFrame(np.clip(np.rint(3 + rng.normal(size=(rows // 10, 12))), 1, 5),
                     columns=[f"wai_{i}" for i in range(1, 13)])
calls = {
    "summarize_clients": lambda: summarize_clients(long),
    "detect_ruptures": lambda: detect_ruptures(long),
    "cutoff_events": lambda: cutoff_events(long, cutoff=4.0, drop=1.0),
    "reliability": lambda: reliability(items, "wai-sr", scales=["total"]),
}
start = time.perf_counter()
calls[name]()
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def run(path: str, rows: int, name: str) -> float:
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(rows), name],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--base", required=True, help="src folder of the copy to compare")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    print("| function | rows | base s | now s | now / base |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in ("summarize_clients", "detect_ruptures", "cutoff_events", "reliability"):
        base, now = [], []
        for _ in range(args.repeat):
            base.append(run(args.base, args.rows, name))
            now.append(run(here, args.rows, name))
        rows = args.rows // 10 if name == "reliability" else args.rows
        ratio = min(now) / min(base)
        print(f"| {name} | {rows} | {min(base):.2f} | {min(now):.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
