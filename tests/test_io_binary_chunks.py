"""Excel, SPSS, Stata and parquet inputs are read in pieces, like delimited text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance_score.cli import main
from alliance_score.io import open_table, read_table
from alliance_score.io.formats import read_chunks

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BINARY = ["wai_sr.xlsx", "wai_sr.sav", "wai_sr.dta", "wai_sr.parquet"]
MODULES = {"xlsx": "openpyxl", "sav": "pyreadstat", "dta": "pyreadstat", "parquet": "pyarrow"}


def _needs(name: str) -> None:
    pytest.importorskip(MODULES[name.rsplit(".", 1)[1]])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("size", [1, 2, 4, 1000])
def test_pieces_join_to_the_whole(name: str, size: int) -> None:
    _needs(name)
    path = EXAMPLES / name
    source = open_table(path)
    positions = list(range(len(source.columns)))
    pieces = list(read_chunks(str(path), source.format, positions, list(source.columns), size=size))
    assert all(len(frame) <= size for frame, _, _ in pieces)
    assert all(len(frame) for frame, _, _ in pieces)
    joined = pd.concat([frame for frame, _, _ in pieces], ignore_index=True)
    whole = read_table(path)
    pd.testing.assert_frame_equal(
        joined.astype(object).where(joined.notna(), None),
        whole.astype(object).where(whole.notna(), None),
    )
    lines = np.concatenate([lines for _, lines, _ in pieces])
    assert lines.tolist() == next(open_table(path).chunks()).lines.tolist()
    progress = [p for _, _, p in pieces]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


def _big_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        rng.integers(1, 6, (n, 12)).astype(float),
        columns=[f"wai_sr_{i:02d}" for i in range(1, 13)],
    )
    frame.iloc[::97, 3] = np.nan
    frame.iloc[5, 0] = 9.0  # out of range: one problem, far into the file
    frame.insert(0, "session", (np.arange(n) % 12 + 1).astype(float))
    frame.insert(0, "client_id", [f"C{i // 12:05d}" for i in range(n)])
    frame.iloc[n - 1, :2] = frame.iloc[n - 2, :2]  # a duplicate in the last chunk
    return frame


def _write(frame: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".sav":
        import pyreadstat

        pyreadstat.write_sav(frame, path)
    elif suffix == ".dta":
        import pyreadstat

        pyreadstat.write_dta(frame, path)
    else:
        openpyxl = pytest.importorskip("openpyxl")
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
        book.save(path)
    return path


@pytest.mark.parametrize("name", BINARY)
def test_cli_pieces_score_like_one_piece(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _needs(name)
    path = _write(_big_frame(2600), tmp_path / f"big{Path(name).suffix}")
    outputs = []
    for chunk_bytes in ("1", str(1 << 50)):
        out = tmp_path / f"scores_{chunk_bytes}.csv"
        problems = tmp_path / f"problems_{chunk_bytes}.csv"
        argv = ["score", str(path), "-i", "wai-sr", "-o", str(out), "--problems", str(problems)]
        code = main([*argv, "--chunk-bytes", chunk_bytes, "--keep", "client_id", "session"])
        assert code == 1
        outputs.append((out.read_bytes(), problems.read_bytes()))
    capsys.readouterr()
    assert outputs[0] == outputs[1]
    found = read_table(tmp_path / "problems_1.csv")
    assert sorted(found["code"]) == ["duplicate_row", "out_of_range"]
    assert len(read_table(tmp_path / "scores_1.csv")) == 2600


@pytest.mark.parametrize("suffix", [".parquet", ".sav", ".dta"])
def test_a_file_without_rows_keeps_its_column_types(tmp_path: Path, suffix: str) -> None:
    _needs(f"x{suffix}")
    frame = _big_frame(12).iloc[:0]
    path = _write(frame, tmp_path / f"empty{suffix}")
    if suffix == ".parquet":
        expected = pd.read_parquet(path).dtypes
    else:
        import pyreadstat

        reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
        expected = reader(path)[0].dtypes
    table = read_table(path)
    assert len(table) == 0
    assert list(table.columns) == list(expected.index)
    assert table.dtypes.tolist() == expected.tolist()
    chunks = list(open_table(path).chunks(["session"]))
    assert [len(c.frame) for c in chunks] == [0]
    assert chunks[0].progress == 1.0
    assert chunks[0].frame["session"].dtype == "float64"


def test_stata_float_storage_is_read_as_the_decimals_it_holds(tmp_path: Path) -> None:
    """Stata's 4-byte float widened by the reader (9.1 -> 9.100000381...) is scored as 9.1:
    the SRS total 9.1 + 8.9 + 9 + 9 is exactly 36, not below the cut-off."""
    pytest.importorskip("pyreadstat")
    from alliance_score import score_frame

    answers = {
        "relationship": [9.1, 4.2, 8.9],
        "goals": [8.9, 5.5, 9.0],
        "approach": [9.0, 6.1, 9.0],
        "overall": [9.0, 7.3, 9.0],
    }
    path = tmp_path / "srs.dta"
    pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in answers.items()}).to_stata(
        path, write_index=False
    )
    scores = score_frame(read_table(path), "srs", allow_provisional=True)
    assert scores["status"].tolist() == ["complete"] * 3
    assert scores["total"].tolist() == [36.0, 23.1, 35.9]
    assert scores["total_below_36"].tolist() == [False, True, True]
