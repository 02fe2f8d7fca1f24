"""Peak memory and time of ``alliance-score score`` on SPSS, Stata and parquet input.

Usage (from the repository root, with the ``spss`` and ``parquet`` extras installed)::

    python bench/bench_binary_inputs.py                 # 10^6 rows
    python bench/bench_binary_inputs.py --rows 100000

For each format the same data (WAI-SR-like answers 1-5, about 2% of cells blank, plus
``client_id`` and ``session``) is scored twice, side by side in one run: read in pieces
(the default) and in one piece (``--chunk-bytes`` large enough to hold the file), each
in a fresh process measured by ``/usr/bin/time -v``. The two score files are compared
byte for byte. Prints a Markdown section for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WHOLE = str(1 << 40)


def _data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    items = rng.integers(1, 6, size=(rows, 12)).astype("float64")
    items[rng.random(items.shape) < 0.02] = np.nan
    frame = pd.DataFrame(items, columns=[f"wai_sr_{i:02d}" for i in range(1, 13)])
    frame.insert(0, "session", (np.arange(rows) % 12 + 1).astype("float64"))
    frame.insert(0, "client_id", [f"C{i // 12:07d}" for i in range(rows)])
    return frame


def _write(frame: pd.DataFrame, folder: Path) -> dict[str, Path]:
    import pyreadstat

    paths = {fmt: folder / f"wai_sr.{fmt}" for fmt in ("sav", "dta", "parquet")}
    pyreadstat.write_sav(frame, paths["sav"])
    pyreadstat.write_dta(frame, paths["dta"])
    frame.to_parquet(paths["parquet"], index=False)
    return paths


def _run(path: Path, out: Path, chunk_bytes: str | None) -> tuple[float, float]:
    """(seconds, peak MiB) of one scoring run in a fresh process."""
    argv = ["/usr/bin/time", "-v", sys.executable, "-m", "alliance_score", "score", str(path)]
    argv += ["-i", "wai-sr", "-o", str(out), "-q", "--keep", "client_id", "session"]
    if chunk_bytes is not None:
        argv += ["--chunk-bytes", chunk_bytes]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return seconds, int(match.group(1)) / 1024 if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    args = parser.parse_args()
    rows = int(args.rows)
    lines = [
        f"Command: `python bench/bench_binary_inputs.py --rows {rows}`",
        "",
        "| format | file MiB | in pieces s | in pieces peak MiB | one piece s "
        "| one piece peak MiB | peak ratio | same output |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for fmt, path in _write(_data(rows), folder).items():
            pieces_out, whole_out = folder / f"{fmt}_pieces.csv", folder / f"{fmt}_whole.csv"
            t_pieces, m_pieces = _run(path, pieces_out, None)
            t_whole, m_whole = _run(path, whole_out, WHOLE)
            same = filecmp.cmp(pieces_out, whole_out, shallow=False)
            size = path.stat().st_size / 2**20
            lines.append(
                f"| {fmt} | {size:.0f} | {t_pieces:.2f} | {m_pieces:.0f} | {t_whole:.2f} "
                f"| {m_whole:.0f} | {m_whole / m_pieces:.1f}x | {'yes' if same else 'NO'} |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
