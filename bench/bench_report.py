"""Time the clinician report on a caseload, and the chart layout it uses against matplotlib's
constrained layout (run: python bench/bench_report.py --clients 50 --sessions 12).

Both layouts are timed in the same run, alternating, so the ratio is fair on a noisy
machine; the whole report (content + HTML with one inline SVG chart per client) is timed
after them.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alliance_score.plot import trajectory
from alliance_score.report import build_report, render_html


def caseload(clients: int, sessions: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(clients):
        level = rng.uniform(30, 39)
        for s in range(1, sessions + 1):
            score = float(np.clip(np.round(level + rng.normal(0, 2), 1), 0, 40))
            rows.append((f"C{c:03d}", s, score, "complete"))
    return pd.DataFrame(rows, columns=["client", "session", "total", "status"])


def chart(frame: pd.DataFrame, constrained: bool) -> float:
    start = time.perf_counter()
    fig = Figure(figsize=(6.4, 2.6), layout="constrained" if constrained else None)
    if not constrained:
        fig.subplots_adjust(left=0.09, right=0.985, top=0.96, bottom=0.18)
    trajectory(frame, instrument="srs", ax=fig.subplots())
    fig.savefig(io.StringIO(), format="svg")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    data = caseload(args.clients, args.sessions)
    one = data.loc[data["client"] == "C000"]
    chart(one, True)  # warm up fonts and caches
    fixed, constrained = [], []
    for _ in range(args.repeat):
        fixed.append(chart(one, False))
        constrained.append(chart(one, True))
    f, c = statistics.median(fixed), statistics.median(constrained)
    print(
        f"one chart: fixed margins {f * 1000:.0f} ms, constrained layout {c * 1000:.0f} ms "
        f"(x{c / f:.2f})"
    )
    start = time.perf_counter()
    content = build_report(data, instrument="srs", allow_provisional=True, sd=4, reliability=0.64)
    built = time.perf_counter() - start
    page = render_html(content)
    total = time.perf_counter() - start
    print(
        f"report of {args.clients} clients x {args.sessions} sessions: content {built:.2f} s, "
        f"total {total:.1f} s, {len(page) / 1e6:.1f} MB of HTML"
    )


if __name__ == "__main__":
    main()
