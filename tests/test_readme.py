"""The README's catalogue table and quick-start output stay true."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alliance_score import list_instruments
from alliance_score.cli import main

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


def test_quick_start_output_is_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "messy_wai_sr.csv", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    scores, problems = Path("scores.csv"), Path("problems.csv")
    args = ["score", "examples/messy_wai_sr.csv", "--instrument", "wai-sr"]
    code = main([*args, "-o", str(scores), "--problems", str(problems)])
    assert code == 1
    stderr = capsys.readouterr().err
    for line in stderr.splitlines():
        if "rows read from" not in line:  # the time taken varies
            assert line in README, line
    for path in (scores, problems):
        for line in path.read_text(encoding="utf-8").splitlines()[:4]:
            assert line in README, line
