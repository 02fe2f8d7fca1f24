"""``-`` as INPUT reads CSV or TSV piped to standard input."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest

from alliance_score.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class _Pipe(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def _pipe(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", _Pipe(io.BytesIO(data), encoding="utf-8"))


def _spools() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("alliance-score-stdin-*"))


@pytest.mark.parametrize("name", ["messy_wai_sr.csv", "excel_cp1252_semicolon.csv", "wai_sr.tsv"])
def test_piped_input_scores_like_the_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _spools()
    path = EXAMPLES / name
    by_file = tmp_path / "file.csv"
    piped = tmp_path / "piped.csv"
    code = main(["score", str(path), "-i", "wai-sr", "-o", str(by_file)])
    _pipe(monkeypatch, path.read_bytes())
    assert main(["score", "-", "-i", "wai-sr", "-o", str(piped)]) == code
    assert piped.read_bytes() == by_file.read_bytes()
    assert "rows read from standard input" in capsys.readouterr().err
    assert _spools() == before


def test_piped_input_for_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = EXAMPLES / "wai-sr-clinic.csv"
    code = main(["check", str(path), "-i", "wai-sr", "--no-ci"])
    by_file = capsys.readouterr().out
    _pipe(monkeypatch, path.read_bytes())
    assert main(["check", "-", "-i", "wai-sr", "--no-ci"]) == code
    assert capsys.readouterr().out == by_file


def test_nothing_piped_or_empty(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class _Terminal(_Pipe):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", _Terminal(io.BytesIO(b""), encoding="utf-8"))
    assert main(["score", "-", "-i", "wai-sr"]) == 2
    assert "nothing is piped" in capsys.readouterr().err
    before = _spools()
    _pipe(monkeypatch, b"")
    assert main(["score", "-", "-i", "wai-sr"]) == 2
    err = capsys.readouterr().err
    assert "Cannot read standard input" in err and "alliance-score-stdin" not in err
    assert _spools() == before
