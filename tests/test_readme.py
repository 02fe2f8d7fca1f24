"""The README's catalogue table and quick-start output stay true."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alliance_score import list_instruments, score_frame

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_shipped_instrument_is_in_the_readme_table() -> None:
    for summary in list_instruments():
        if not summary.shipped:
            continue
        row = next(line for line in README.splitlines() if line.startswith(f"| `{summary.id}` |"))
        for scale, status in summary.scales.items():
            assert scale in row, (summary.id, scale)
            assert status in row, (summary.id, status)


def test_quick_start_output_is_current() -> None:
    export = pd.read_csv(ROOT / "examples" / "wai-sr-clinic.csv", dtype=str, keep_default_na=False)
    result = score_frame(export, "wai-sr", keep=["client", "session"], return_problems=True)
    assert str(result.summary()["status"]) in README
