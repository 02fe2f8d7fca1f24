"""Readers: no record merged, dropped, re-decoded or blanked; where the scores go never
changes how the input is read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from alliance_score import score_frame
from alliance_score.cli import main
from alliance_score.io import read_table

ITEMS = [f"wai_{i}" for i in range(1, 13)]
HEADER = "client_id,session," + ",".join(ITEMS)
THREES = ",".join(["3"] * 12)
FIVES = ",".join(["5"] * 12)


def _score(
    tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str], *, to_file: bool
) -> tuple[int, bytes, str, str]:
    """(exit code, scores bytes, problems text, stderr) with -o or standard output."""
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    problems = tmp_path / "p.csv"
    argv = ["score", str(source), "-i", "wai-sr", "--problems", str(problems)]
    if to_file:
        out = tmp_path / "s.csv"
        code = main([*argv, "-o", str(out)])
        scores = out.read_bytes() if out.exists() else b""
        _, err = capsys.readouterr()
    else:
        code = main(argv)
        captured = capsys.readouterr()
        scores, err = captured.out.encode(), captured.err
    text = problems.read_text(encoding="utf-8") if problems.exists() else ""
    for name in ("s.csv", "p.csv", "s.csv.provenance.json"):
        (tmp_path / name).unlink(missing_ok=True)
    return code, scores, text, err


# -- item 2: broken quoting never merges records ------------------------------------------


BROKEN_QUOTING = {
    "quote-then-text-merges-two-lines": f'{HEADER}\nA,"x,{THREES}\nB,"y,{FIVES}\n',
    "text-after-closing-quote": f'{HEADER}\n"A"x,1,{THREES}\nB,1,{FIVES}\n',
    "never-closed-at-end": f'{HEADER}\nA,1,{THREES}\nB,"1,{FIVES}\n',
}


@pytest.mark.parametrize("to_file", [True, False], ids=["to-file", "to-stdout"])
@pytest.mark.parametrize("text", BROKEN_QUOTING.values(), ids=BROKEN_QUOTING.keys())
def test_broken_quoting_is_refused_never_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, to_file: bool
) -> None:
    code, scores, _, err = _score(tmp_path, text.encode(), capsys, to_file=to_file)
    assert code == 2, err
    assert "line " in err
    assert err.count("alliance-score: error:") == 1
    assert b"B," not in scores


def test_read_table_refuses_broken_quoting_too(tmp_path: Path) -> None:
    from alliance_score.errors import UnreadableFileError

    path = tmp_path / "in.csv"
    path.write_text(BROKEN_QUOTING["quote-then-text-merges-two-lines"], encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="line 2"):
        read_table(path)


# -- item 3: Qualtrics is recognised by whole header rows, never by one cell ----------------


@pytest.mark.parametrize("row", [1, 2])
def test_a_cell_that_looks_like_an_import_id_is_data(tmp_path: Path, row: int) -> None:
    rows = [f"A,1,{THREES}", f"B,1,{FIVES}", f"C,1,{THREES}"]
    rows[row - 1] = '"{""ImportId"":""QID1""}",1,' + THREES
    path = tmp_path / "in.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    frame = read_table(path)
    assert len(frame) == 3
    assert frame["client_id"].iloc[row - 1] == '{"ImportId":"QID1"}'


def test_a_real_qualtrics_export_skips_and_reports_its_header_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = ["ResponseId", *ITEMS]
    questions = ["Response ID", *(f"Question {i}" for i in range(1, 13))]
    ids = ['{"ImportId":"_recordId"}', *(f'{{"ImportId":"QID{i}"}}' for i in range(1, 13))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in (header, questions, ids, ["R_1", *["4"] * 12]):
        writer.writerow(row)
    path = tmp_path / "qualtrics.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    code = main(["score", str(path), "-i", "wai-sr", "-o", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "lines 2-3" in err and "skipped as header rows" in err
    assert len(read_table(tmp_path / "s.csv")) == 1
    argv = ["score", str(path), "-i", "wai-sr", "-q", "--json", "-o", str(tmp_path / "s.csv")]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["input"]["skipped_header_lines"] == [2, 3]


# -- item 4: a formula without a stored value is not a blank --------------------------------


def test_formula_without_stored_value_is_a_problem_not_missing(tmp_path: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    sheet.append(ITEMS)
    sheet.append(["=2+2", *[3] * 11])
    sheet.append([4, *[3] * 11])
    path = tmp_path / "in.xlsx"
    book.save(path)
    frame = read_table(path)
    assert frame["wai_1"].tolist() == ["=2+2", 4]
    result = score_frame(frame, "wai-sr", return_problems=True)
    assert result.problems["code"].tolist() == ["not_a_number"]
    assert result.scores["status"].tolist() == ["invalid", "complete"]


# -- item 5: one bad byte is one cell, not a re-decoded file --------------------------------


@pytest.mark.parametrize("where", ["early", "late"])
def test_one_cp1252_byte_in_utf8_is_one_problem_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    good = [f"Zoë{i},1,{THREES}" for i in range(3 if where == "early" else 60_000)]
    bad = "Zo\xeb,1,".encode("latin-1") + THREES.encode()
    lines = [line.encode() for line in [HEADER, *good]]
    lines.insert(2, bad)
    data = b"\n".join(lines) + b"\n"
    for to_file in (True, False):
        code, scores, problems, err = _score(tmp_path, data, capsys, to_file=to_file)
        assert code == 1, err
        text = scores.decode("utf-8")
        assert "Zoë0," in text and "Zoë1," in text
        assert "Ã" not in text
        assert "Zo\ufffd," in text
        table = pd.read_csv(io.StringIO(problems), dtype=str)
        assert table["code"].tolist() == ["undecodable"]
        assert table["line"].tolist() == ["3"]
        assert table["column"].tolist() == ["client_id"]


# -- item 6: -o and standard output read alike --------------------------------------------


BIG = "x" * (9 << 20)
READER_CASES: dict[str, bytes] = {
    "lone-cr-in-quoted-field": f'{HEADER},note\nA,1,{THREES},"a\rb"\nB,1,{FIVES},c\n'.encode(),
    "multi-line-last-record-with-quote-mid-field": (
        f'{HEADER},note\nA,1,{THREES},"two\nlines"\nB,1,{FIVES},5" tall\n'.encode()
    ),
    "field-over-8-mib": f"{HEADER},note\nA,1,{THREES},{BIG}\nB,1,{FIVES},c\n".encode(),
    "header-only-no-final-newline": HEADER.encode(),
    "header-over-1-mib": (f"{HEADER},{'n' * (1 << 20)}\nA,1,{THREES},z\nB,1,{FIVES},z\n".encode()),
    "ragged-and-blank-lines": f"{HEADER}\nA,1,{THREES}\n\nB,1\nC,1,{FIVES},9\n".encode(),
    "quoted-line-breaks-then-problem": (
        f'{HEADER},note\nA,1,{THREES},"1\n2\n3"\nB,1,{FIVES[:-1]}9,x\n'.encode()
    ),
    "crlf": f"{HEADER}\r\nA,1,{THREES}\r\nB,1,{FIVES[:-1]}x\r\n".encode(),
    "cp1252-file": f"{HEADER}\nRenée,1,{THREES}\nB,1,{FIVES[:-1]}x\n".encode("cp1252"),
}


@pytest.mark.parametrize("data", READER_CASES.values(), ids=READER_CASES.keys())
def test_output_to_file_or_stdout_reads_the_input_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    to_file = _score(tmp_path, data, capsys, to_file=True)
    to_stdout = _score(tmp_path, data, capsys, to_file=False)
    assert to_file[0] == to_stdout[0], (to_file[3], to_stdout[3])
    assert to_file[0] in (0, 1), to_file[3]
    assert to_file[1] == to_stdout[1]  # the same scores, byte for byte
    assert to_file[2] == to_stdout[2]  # the same problems, with the same line numbers


def test_header_over_one_mib_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(READER_CASES["header-over-1-mib"])
    frame = read_table(path)
    assert frame.columns[-1] == "n" * (1 << 20)
    assert frame.shape == (2, 15)


def test_json_report_names_the_skipped_rows_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"{HEADER}\nA,1,{THREES}\n", encoding="utf-8")
    out = tmp_path / "s.csv"
    assert main(["score", str(path), "-i", "wai-sr", "-q", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["input"]["header_lines"] == 1
    assert report["input"]["skipped_header_lines"] == []


# -- item 9: problems are written slice by slice, with the same result -----------------------


def test_scoring_in_slices_gives_the_same_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_score.cli import score as score_command

    rows = [f"Zoë{i},1,{FIVES[:-1]}x" for i in range(5)]  # a bad cell in every row
    rows[1] = f"B,1,{FIVES},extra"  # ragged
    rows[3] = f"C,1,{FIVES[:-1]}x"  # a bad cell
    data = ("\n".join([HEADER, *rows]) + "\n").encode() + b"Zo\xeb,1," + THREES.encode() + b"\n"
    whole = _score(tmp_path, data, capsys, to_file=True)
    monkeypatch.setattr(score_command, "SLICE_ROWS", 1)
    monkeypatch.setattr(score_command, "PROBLEM_BUDGET", 1)
    calls: list[int] = []
    from alliance_score import score_frame as real

    def counted(frame: pd.DataFrame, *args: object, **kwargs: object) -> object:
        calls.append(len(frame))
        return real(frame, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(score_command, "score_frame", counted)
    sliced = _score(tmp_path, data, capsys, to_file=True)
    assert calls == [1] * 6
    assert whole[0] == sliced[0] == 1
    assert whole[1] == sliced[1]
    assert whole[2] == sliced[2]
    codes = pd.read_csv(io.StringIO(sliced[2]), dtype=str)["code"].tolist()
    assert sorted(codes) == ["not_a_number"] * 4 + ["ragged_line", "undecodable"]
