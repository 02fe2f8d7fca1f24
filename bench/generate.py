"""Generate WAI-SR-like exports for the benchmarks (into bench/data/, which git ignores).

Each file has ``client_id``, ``session`` and ``wai_1`` .. ``wai_12`` with answers 1-5 and
about 2% of cells blank; a ``.f64`` file holds the same answers as a raw little-endian
float64 ``rows x 12`` matrix (NaN = missing) for the in-memory and R benchmarks.

Usage: python bench/generate.py 10000 100000 1000000 10000000
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

DATA = Path(__file__).resolve().parent / "data"
ITEMS = [f"wai_{i}" for i in range(1, 13)]
BLOCK = 1_000_000


def answers(rng: np.random.Generator, n: int) -> np.ndarray:
    person = rng.normal(3.6, 0.6, size=(n, 1))
    x = np.clip(np.rint(person + rng.normal(0, 0.7, size=(n, 12))), 1, 5)
    x[rng.random((n, 12)) < 0.02] = np.nan
    return x


def generate(n: int, seed: int = 2024) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"wai_sr_{n}.csv"
    raw = DATA / f"wai_sr_{n}.f64"
    if path.exists() and raw.exists():
        return path
    rng = np.random.default_rng(seed)
    options = pacsv.WriteOptions(quoting_style="none")
    with pacsv.CSVWriter(path, _schema(), write_options=options) as writer, open(raw, "wb") as fh:
        for start in range(0, n, BLOCK):
            m = min(BLOCK, n - start)
            x = answers(rng, m)
            x.astype("<f8").tofile(fh)
            rows = np.arange(start, start + m)
            columns = {
                "client_id": pa.array(np.char.add("C", (rows // 10).astype(str))),
                "session": pa.array(rows % 10 + 1),
            }
            for j, name in enumerate(ITEMS):
                columns[name] = pa.array(x[:, j], type=pa.float64(), from_pandas=True).cast(
                    pa.int8()
                )
            writer.write_table(pa.table(columns, schema=_schema()))
    return path


def _schema() -> pa.Schema:
    return pa.schema(
        [("client_id", pa.string()), ("session", pa.int64())] + [(c, pa.int8()) for c in ITEMS]
    )


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10000", "100000", "1000000"]:
        print(generate(int(float(arg))))
