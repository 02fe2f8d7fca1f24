"""All-invalid input against valid input: the ``score`` command's time and peak memory.

Four WAI-SR-like exports of the same size are generated (into bench/data/, which git
ignores): every answer valid, half of the answers invalid (``9`` on a 1-5 scale), every
answer invalid, and every answer valid but every row after the first 1,000 repeating
the identifiers of an earlier row (an export appended to itself many times: one
``duplicate_row`` problem per such row). Each is scored by a fresh ``alliance-score
score`` process writing the scores and the problems file; the runs are interleaved,
``--repeat`` times, so that the machine's load affects them alike, and the median is
reported with the ratio to the valid run. Peak memory is the child's maximum resident
set (``wait4``).

Usage: python bench/bench_invalid.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
ITEMS = [f"wai_{i}" for i in range(1, 13)]
KINDS = {"valid": 0.0, "half invalid": 0.5, "all invalid": 1.0, "all duplicates": 0.0}
DISTINCT_IDS = 1000
"""Identifiers in the ``all duplicates`` export."""


def generate(rows: int, share: float, *, repeated: bool = False) -> Path:
    DATA.mkdir(exist_ok=True)
    name = f"duplicates_{rows}.csv" if repeated else f"invalid_{int(share * 100)}_{rows}.csv"
    path = DATA / name
    if path.exists():
        return path
    rng = np.random.default_rng(2024)
    block = 100_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("client_id,session," + ",".join(ITEMS) + "\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            answers = rng.integers(1, 6, size=(n, 12)).astype(str).astype(object)
            answers[rng.random((n, 12)) < share] = "9"
            ids = np.arange(start, start + n)
            if repeated:
                ids %= DISTINCT_IDS
            fh.writelines(
                f"C{c},1," + ",".join(a) + "\n" for c, a in zip(ids, answers, strict=True)
            )
    return path


def run_once(path: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of one ``score`` run in a fresh process."""
    exe = shutil.which("alliance-score") or sys.exit("alliance-score is not on PATH")
    argv = [exe, "score", str(path), "-i", "wai-sr", "-q"]
    argv += ["-o", str(out / "s.csv"), "--problems", str(out / "p.csv")]
    started = time.perf_counter()
    process = subprocess.Popen(argv)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped by wait4
    if code not in (0, 1):
        sys.exit(f"{path.name}: exit code {code}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = {
        kind: generate(args.rows, share, repeated=kind == "all duplicates")
        for kind, share in KINDS.items()
    }
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    peaks: dict[str, list[float]] = {k: [] for k in KINDS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for kind, path in files.items():
                seconds, peak = run_once(path, Path(tmp))
                times[kind].append(seconds)
                peaks[kind].append(peak)
    base = statistics.median(times["valid"])
    print(f"| input ({args.rows:,} rows) | s (median of {args.repeat}) | x valid | peak MiB |")
    print("| --- | --- | --- | --- |")
    for kind in KINDS:
        median = statistics.median(times[kind])
        print(f"| {kind} | {median:.2f} | {median / base:.1f} | {max(peaks[kind]):.0f} |")


if __name__ == "__main__":
    main()
