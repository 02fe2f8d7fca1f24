"""The fused kernel, the command line's throughput and start-up, side by side in one run.

Usage (from the repository root, with the ``cli`` and ``fast`` extras installed):

    python bench/bench_kernel.py --sizes 1e6 1e7 --repeat 5 --out bench/kernel.md
    python bench/bench_kernel.py --sizes 1e6 1e7 --repeat 3 --only cli   # the command alone

Measured in one run, so that ratios are comparable on a shared, noisy machine:

* in memory, on an ``n x 12`` float64 DataFrame: the floor (one read pass, ``arr.max()``)
  and ``score_frame`` with the numpy kernel and with the compiled (numba) kernel, as wall
  time and as this process's CPU time (best of ``--repeat``; CPU time is what other
  jobs on the machine disturb least); per-row time at each size against the first;
* the compiled kernel's first load in a fresh process with an empty cache (compiling)
  and with the cache filled (loading), and the cache folder;
* from the CSV file: ``alliance-score score`` end to end (a fresh process writing the
  scores CSV) with each kernel, against ``pyarrow.csv.read_csv`` of the same file, with
  wall time, CPU time (user + system) and peak resident memory (``/usr/bin/time -v``);
* where the command's time goes at the first size (cProfile, cumulative seconds; the
  chunks are read and the results written on the main thread for the profile, since
  cProfile sees one thread, while the command reads ahead and writes behind on two
  more threads);
* start-up: ``alliance-score --help`` against ``python -c pass``.

Nothing here is a test and nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DATA, ITEMS, generate  # noqa: E402

import alliance_score as als  # noqa: E402
from alliance_score.scoring import KERNEL_ENV  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def matrix(n: int) -> np.ndarray:
    """The benchmark answers for ``n`` rows (the 10^6-row file repeated beyond it)."""
    base_n = min(n, 1_000_000)
    generate(base_n)
    x = np.fromfile(DATA / f"wai_sr_{base_n}.f64", dtype="<f8").reshape(base_n, 12)
    if n > base_n:
        x = np.tile(x, (n // base_n, 1))
    return np.asfortranarray(x)


def in_memory(sizes: list[int], repeat: int) -> list[dict[str, float]]:
    ins = als.load_instrument("wai-sr")
    rows = []
    for n in sizes:
        x = matrix(n)
        df = pd.DataFrame(x, columns=ITEMS, copy=False)
        reps = repeat if n <= 1_000_000 else max(2, repeat // 2)
        row: dict[str, float] = {"n": n}
        row["floor"], row["floor_cpu"] = best(x.max, reps * 2)
        for kernel in ("numpy", "numba"):
            os.environ[KERNEL_ENV] = kernel
            als.score_frame(df.iloc[:1000], ins)  # load the kernel outside the timing
            row[kernel], row[f"{kernel}_cpu"] = best(lambda df=df: als.score_frame(df, ins), reps)
        os.environ.pop(KERNEL_ENV, None)
        rows.append(row)
        del df, x
        print(f"in memory {n:,} done", file=sys.stderr)
    return rows


def compile_times() -> dict[str, object]:
    """The compiled kernel's load time in fresh processes: empty cache, then filled."""
    code = (
        "import json; from alliance_score import scoring as s; "
        "s._numba_kernel(True); i = s.kernel_info(); "
        "print(json.dumps({k: i[k] for k in ('load_seconds', 'compiled', 'cache_dir')}))"
    )
    import json

    folder = tempfile.mkdtemp(prefix="numba-cache-")
    env = {**os.environ, "NUMBA_CACHE_DIR": folder}
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(2)
    ]
    import_only = min(timed([sys.executable, "-c", "import numba"])[0] for _ in range(3))
    shutil.rmtree(folder, ignore_errors=True)
    return {"first": runs[0], "cached": runs[1], "import_numba": import_only}


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, stdout) of a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *argv], capture_output=True, text=True, check=True, env=env
    )
    wall = time.perf_counter() - start

    def field(name: str) -> float:
        match = re.search(rf"{name}: ([\d.]+)", done.stderr)
        return float(match.group(1)) if match else float("nan")

    cpu = field(r"User time \(seconds\)") + field(r"System time \(seconds\)")
    rss = field(r"Maximum resident set size \(kbytes\)") / 1024
    return wall, cpu, rss, done.stdout


def best_process(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple:
    runs = [timed(argv, env) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs), runs


def command_line(sizes: list[int], repeat: int) -> list[dict[str, float]]:
    cli = shutil.which("alliance-score") or "alliance-score"
    out_csv = DATA / "scores_out.csv"
    rows = []
    for n in sizes:
        path = generate(n)
        reps = repeat if n <= 1_000_000 else 1
        row: dict[str, float] = {"n": n, "mib": path.stat().st_size / 2**20}
        argv = [cli, "score", str(path), "-i", "wai-sr", "-q", "-o", str(out_csv)]
        for kernel in ("numpy", "numba"):
            env = {**os.environ, KERNEL_ENV: kernel}
            wall, cpu, rss, _ = best_process(argv, reps, env)
            row[f"cli_{kernel}"], row[f"cli_{kernel}_cpu"], row[f"cli_{kernel}_rss"] = (
                wall,
                cpu,
                rss,
            )
        arrow_code = (
            "import time, pyarrow.csv as c; w = time.perf_counter(); p = time.process_time(); "
            f"c.read_csv({str(path)!r}); "
            "print(time.perf_counter() - w, time.process_time() - p)"
        )
        runs = [timed([sys.executable, "-c", arrow_code]) for _ in range(reps)]
        row["arrow"] = min(float(r[3].split()[0]) for r in runs)
        row["arrow_cpu"] = min(float(r[3].split()[1]) for r in runs)
        row["arrow_rss"] = max(r[2] for r in runs)
        rows.append(row)
        print(f"command line {n:,} done", file=sys.stderr)
    return rows


def profile_command(n: int) -> list[tuple[str, float]]:
    """Cumulative seconds of the command's main parts at ``n`` rows (numpy kernel)."""
    from alliance_score.cli import main

    path = generate(n)
    out_csv = DATA / "scores_out.csv"
    from alliance_score.cli import score as score_command

    class InLine(score_command._Behind):
        """Writes on the calling thread, so that cProfile sees the writing."""

        def run(self, task: Callable[..., object], *args: object) -> None:
            task(*args)

    @contextlib.contextmanager
    def in_line(chunks: Iterator[object]) -> Iterator[Iterator[object]]:
        """Reads on the calling thread, so that cProfile sees the reading."""
        yield chunks

    os.environ[KERNEL_ENV] = "numpy"
    behind, ahead = score_command._Behind, score_command._ahead
    score_command._Behind = InLine  # type: ignore[misc]
    score_command._ahead = in_line  # type: ignore[assignment]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    try:
        profiler.runcall(main, ["score", str(path), "-i", "wai-sr", "-q", "-o", str(out_csv)])
    finally:
        score_command._Behind, score_command._ahead = behind, ahead  # type: ignore[misc]
    total = time.perf_counter() - start
    os.environ.pop(KERNEL_ENV, None)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts = {
        "reading the CSV (pyarrow, to DataFrame chunks; read ahead on a thread in the command)": (
            "arrow_csv.py",
            "arrow_chunks",
        ),
        "score_frame (parse, kernel, assemble, problems)": ("frame.py", "score_frame"),
        "  of which the kernel (score_columns)": ("scoring.py", "score_columns"),
        "accounting (lines, row-level problems)": ("accounting.py", "account"),
        "finding duplicates (on the reading thread in the command)": ("accounting.py", "check"),
        "writing the scores CSV (on a second thread in the command)": ("writers.py", "write"),
    }
    found = [("whole command (in process, profiled)", total)]
    for label, (file, func) in parts.items():
        cum = sum(v[3] for k, v in stats.items() if k[0].endswith(file) and k[2] == func)
        found.append((label, cum))
    return found


def startup(repeat: int) -> dict[str, float]:
    cli = shutil.which("alliance-score") or "alliance-score"
    out: dict[str, float] = {}
    for label, argv in (
        ("help", [cli, "--help"]),
        ("instruments", [cli, "instruments"]),
        ("python", [sys.executable, "-c", "pass"]),
    ):
        wall, cpu, _, _ = best_process(argv, repeat)
        out[label], out[f"{label}_cpu"] = wall, cpu
    return out


def report(
    mem: list[dict[str, float]],
    compiled: dict[str, object] | None,
    files: list[dict[str, float]],
    profile: list[tuple[str, float]],
    start: dict[str, float],
    command: str,
    load_start: tuple[float, float, float] = (float("nan"),) * 3,
) -> str:
    load = os.getloadavg()
    lines = [
        "## Fused kernel, command line and start-up (`bench/bench_kernel.py`)",
        "",
        f"Produced by `{command}`; load average at the start of the run "
        f"{load_start[0]:.1f} / {load_start[1]:.1f} / {load_start[2]:.1f}, at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores shared "
        "with other work, so wall times are noisy: every ratio below is from the same run, "
        "and CPU time (of the process, all its threads) is given beside wall time.",
        "",
    ]
    if mem:
        lines += _in_memory_report(mem)
    if compiled is not None:
        lines += _compiled_report(compiled)
    lines += _command_report(files, profile, start)
    return "\n".join(lines)


def _in_memory_report(mem: list[dict[str, float]]) -> list[str]:
    first_n = mem[0]
    lines = [
        "### In memory: `score_frame` on an n x 12 float64 DataFrame",
        "",
        "| rows | floor ms | numpy kernel s | numba kernel s | numpy / floor | numba / floor "
        "| numpy / floor (CPU) | numba / floor (CPU) | per row vs first size (numpy, numba) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in mem:
        per_row = [
            (r[k] / r["n"]) / (first_n[k] / first_n["n"]) for k in ("numpy_cpu", "numba_cpu")
        ]
        lines.append(
            f"| {r['n']:,} | {1000 * r['floor']:.1f} | {r['numpy']:.3f} | {r['numba']:.3f} "
            f"| {r['numpy'] / r['floor']:.1f}x | {r['numba'] / r['floor']:.1f}x "
            f"| {r['numpy_cpu'] / r['floor_cpu']:.1f}x | {r['numba_cpu'] / r['floor_cpu']:.1f}x "
            f"| {per_row[0]:.2f}, {per_row[1]:.2f} |"
        )
    return [*lines, ""]


def _compiled_report(compiled: dict[str, object]) -> list[str]:
    first, cached = compiled["first"], compiled["cached"]
    assert isinstance(first, dict) and isinstance(cached, dict)
    return [
        "### The compiled kernel's first call",
        "",
        f"- empty cache (compiles): {first['load_seconds']:.2f} s (compiled: {first['compiled']});",
        f"- cache filled (a later process loads it): {cached['load_seconds']:.2f} s "
        f"(compiled: {cached['compiled']}); `import numba` alone: "
        f"{compiled['import_numba']:.2f} s;",
        "- cache folder: the package's `__pycache__` when writable, else numba's user cache "
        "(`NUMBA_CACHE_DIR`, here a temporary folder); with no writable folder the kernel "
        "is compiled in memory in each process.",
        "",
    ]


def _command_report(
    files: list[dict[str, float]], profile: list[tuple[str, float]], start: dict[str, float]
) -> list[str]:
    lines = [
        "### From the CSV file: `alliance-score score` end to end",
        "",
        "| rows | CSV MiB | CLI numpy s (CPU) | CLI numba s (CPU) | peak MiB (numpy, numba) "
        "| pyarrow read s (CPU) | pyarrow peak MiB | CLI / pyarrow (wall, CPU) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in files:
        lines.append(
            f"| {r['n']:,} | {r['mib']:.0f} | {r['cli_numpy']:.2f} ({r['cli_numpy_cpu']:.2f}) "
            f"| {r['cli_numba']:.2f} ({r['cli_numba_cpu']:.2f}) "
            f"| {r['cli_numpy_rss']:.0f}, {r['cli_numba_rss']:.0f} "
            f"| {r['arrow']:.3f} ({r['arrow_cpu']:.3f}) | {r['arrow_rss']:.0f} "
            f"| {r['cli_numpy'] / r['arrow']:.1f}x, {r['cli_numpy_cpu'] / r['arrow_cpu']:.1f}x |"
        )
    lines += [
        "",
        f"### Where the command's time goes at {files[0]['n']:,} rows (cProfile, numpy kernel)",
        "",
        "| part | cumulative s |",
        "| --- | ---: |",
        *[f"| {label} | {sec:.3f} |" for label, sec in profile],
        "",
        "### Start-up",
        "",
        f"- `alliance-score --help`: {start['help']:.3f} s wall, {start['help_cpu']:.3f} s CPU;",
        f"- `alliance-score instruments`: {start['instruments']:.3f} s wall, "
        f"{start['instruments_cpu']:.3f} s CPU;",
        f"- `python -c pass`: {start['python']:.3f} s wall, {start['python_cpu']:.3f} s CPU.",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the section here (default: stdout)")
    parser.add_argument(
        "--only",
        choices=("all", "cli"),
        default="all",
        help="cli: the command line, its profile and start-up only (no in-memory kernel "
        "timings, no compile times)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes]
    command = "python bench/bench_kernel.py " + " ".join(sys.argv[1:])
    load_start = os.getloadavg()
    everything = args.only == "all"
    mem = in_memory(sizes, args.repeat) if everything else []
    compiled = compile_times() if everything else None
    files = command_line(sizes, args.repeat)
    profile = profile_command(sizes[0])
    start = startup(args.repeat)
    text = report(mem, compiled, files, profile, start, command, load_start)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
