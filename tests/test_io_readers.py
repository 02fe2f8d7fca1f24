"""Readers: every example export, both delimited-text engines, lines and ragged rows."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_score.errors import MissingDependencyError, UnreadableFileError
from alliance_score.io import RestartRequired, detect_format, open_table, read_table

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("name", "rows", "first_id", "item_1"),
    [
        pytest.param("messy_wai_sr.csv", 18, "C001", "1", id="csv"),
        pytest.param("excel_cp1252_semicolon.csv", 6, "C001", "2", id="cp1252"),
        pytest.param("excel_unicode_text.txt", 6, "C001", "2", id="utf16"),
        pytest.param("wai_sr.tsv", 6, "C001", "2", id="tsv"),
        pytest.param("qualtrics.csv", 5, "2024-03-01 10:00:00", "2", id="qualtrics"),
        pytest.param("wai_sr.xlsx", 6, "C001", 2.0, id="xlsx"),
        pytest.param("wai_sr.sav", 6, "C001", 2.0, id="sav"),
        pytest.param("wai_sr.dta", 6, "C001", 2.0, id="dta"),
        pytest.param("wai_sr.parquet", 6, "C001", 2.0, id="parquet"),
    ],
)
def test_read_table_examples(name: str, rows: int, first_id: str, item_1: object) -> None:
    frame = read_table(EXAMPLES / name)
    assert len(frame) == rows
    assert list(frame.index) == list(range(rows))
    assert frame.iloc[0, 0] == first_id
    item = next(c for c in frame.columns if str(c).lower() in ("wai_sr_01", "q1"))
    assert frame[item].iloc[0] == item_1


def test_read_table_cp1252_header_decoded() -> None:
    assert "thérapeute" in read_table(EXAMPLES / "excel_cp1252_semicolon.csv").columns


def test_sav_value_labels_and_user_missing() -> None:
    source = open_table(EXAMPLES / "wai_sr.sav")
    assert source.value_labels["wai_sr_01"][5.0] == "Always"
    frame = read_table(EXAMPLES / "wai_sr.sav")
    assert pd.isna(frame["wai_sr_09"].iloc[3])  # -99 is declared missing in the file


def test_xlsx_lines_are_sheet_rows() -> None:
    chunk = next(open_table(EXAMPLES / "wai_sr.xlsx").chunks())
    assert chunk.lines.tolist() == [2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        pytest.param("a.csv", "csv", id="csv"),
        pytest.param("a.TSV", "tsv", id="tsv-upper"),
        pytest.param("a.xlsx", "xlsx", id="xlsx"),
        pytest.param("a.sav", "sav", id="sav"),
        pytest.param("a.dta", "dta", id="dta"),
        pytest.param("a.parquet", "parquet", id="parquet"),
        pytest.param("a", "csv", id="no-suffix"),
    ],
)
def test_detect_format(name: str, suffix: str) -> None:
    assert detect_format(name) == suffix


@pytest.mark.parametrize(
    ("name", "module", "extra"),
    [
        pytest.param("wai_sr.xlsx", "openpyxl", "excel", id="excel"),
        pytest.param("wai_sr.sav", "pyreadstat", "spss", id="spss"),
        pytest.param("wai_sr.dta", "pyreadstat", "spss", id="stata"),
        pytest.param("wai_sr.parquet", "pyarrow.parquet", "parquet", id="parquet"),
    ],
)
def test_missing_extra_names_pip_install(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=rf"pip install 'alliance-score\[{extra}\]'"):
        read_table(EXAMPLES / name)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("x.xlsx", id="xlsx"),
        pytest.param("x.sav", id="sav"),
        pytest.param("x.parquet", id="parquet"),
    ],
)
def test_damaged_binary_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"not really")
    with pytest.raises(UnreadableFileError, match="Cannot read"):
        read_table(path)


def test_unknown_column_requested() -> None:
    source = open_table(EXAMPLES / "wai_sr.tsv")
    with pytest.raises(UnreadableFileError, match="'nope'"):
        next(source.chunks(["nope"]))


def _write_csv(
    rows: list[list[str]], header: list[str], newline: str = "\n"
) -> tuple[bytes, list[int]]:
    """The CSV text and the physical line on which each data row starts."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    starts = []
    for row in rows:
        starts.append(buffer.getvalue().count("\n") + 1)
        writer.writerow(row)
    return buffer.getvalue().encode(), starts


def _all_chunks(
    path: Path, engine: str, chunk_bytes: int
) -> tuple[pd.DataFrame, list[int], list[int]]:
    source = open_table(path)
    chunks = list(
        source.chunks(categorical=["q1"], chunk_bytes=chunk_bytes, engine=engine)  # type: ignore[arg-type]
    )
    frame = pd.concat([c.frame for c in chunks])
    lines = [int(x) for c in chunks for x in c.lines]
    ragged = [int(c.frame.index[p]) for c in chunks for p in c.ragged]
    return frame, lines, ragged


CELL = st.sampled_from(
    [
        "1",
        "2",
        "5",
        "",
        "NA",
        " 4 ",
        "4.5",
        "x",
        "=1+2",
        'a "quote"',
        "two\nlines",
        "crlf\r\ninside",
        "é",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=25),
    chunk_bytes=st.integers(min_value=1, max_value=400),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_engines_agree_on_cells_and_lines(
    tmp_path: Path, rows: list[list[str]], chunk_bytes: int, newline: str
) -> None:
    data, starts = _write_csv(rows, ["id", "q1", "note"], newline)
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    exact, exact_lines, _ = _all_chunks(path, "python", chunk_bytes)
    try:
        fast, fast_lines, _ = _all_chunks(path, "arrow", chunk_bytes)
    except RestartRequired:
        # only a quote in the file or a row whose every field is empty sends the fast
        # engine to the exact one
        assert b'"' in data or any(all(cell == "" for cell in row) for row in rows)
        fast, fast_lines = exact, exact_lines
    pd.testing.assert_frame_equal(fast.astype(object), exact.astype(object), check_index_type=False)
    assert list(fast.index) == list(range(len(rows)))
    assert fast_lines == exact_lines == starts
    expected = pd.DataFrame(rows, columns=["id", "q1", "note"], dtype=object)
    got = exact.astype(object).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_column_type=False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("a,q1\n1,2\n3\n4,5\n", "more or fewer fields", id="short-line"),
        pytest.param("a,q1\n1,2\n3,4,5\n", "more or fewer fields", id="long-line"),
        pytest.param("a,q1\n1,2\n\n4,5\n", "blank lines", id="blank-line"),
    ],
)
def test_fast_engine_hands_over(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RestartRequired, match=reason):
        list(open_table(path).chunks(engine="arrow"))


def test_fast_engine_hands_over_on_late_non_utf8(tmp_path: Path) -> None:
    """A late byte that is not UTF-8 is one undecodable cell; the file stays UTF-8."""
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,q1\n" + "Zoë,1\n".encode() * 300_000 + "é,3\n".encode("cp1252"))
    source = open_table(path)
    assert source.layout is not None and source.layout.encoding == "utf-8"
    with pytest.raises(RestartRequired) as info:
        list(source.chunks(engine="arrow"))
    assert info.value.encoding is None
    frame = read_table(path)
    assert frame.iloc[0, 0] == "Zoë"
    assert frame.iloc[-1, 0] == "\ufffd"


@pytest.mark.parametrize(
    ("text", "lines", "ragged", "fields", "cells"),
    [
        pytest.param(
            "a,q1\n1,2\n3\n4,5,6\n",
            [2, 3, 4],
            [1, 2],
            [1, 3],
            [["1", "2"], ["3", ""], ["4", "5"]],
            id="short-and-long",
        ),
        pytest.param(
            'a,q1\n1,"x\ny"\n\n2,3\n',
            [2, 5],
            [],
            [],
            [["1", "x\ny"], ["2", "3"]],
            id="blank-skipped",
        ),
    ],
)
def test_exact_engine_ragged_lines(
    tmp_path: Path,
    text: str,
    lines: list[int],
    ragged: list[int],
    fields: list[int],
    cells: list[list[str]],
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    (chunk,) = open_table(path).chunks(engine="python")
    assert chunk.lines.tolist() == lines
    assert chunk.ragged.tolist() == ragged
    assert chunk.ragged_fields.tolist() == fields
    assert chunk.frame.to_numpy().tolist() == cells


@pytest.mark.parametrize("engine", ["arrow", "python"])
def test_header_only_file_yields_one_empty_chunk(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,q1\n", encoding="utf-8")
    chunks = list(open_table(path).chunks(engine=engine))  # type: ignore[arg-type]
    assert [len(c.frame) for c in chunks] == [0]
    assert list(chunks[0].frame.columns) == ["a", "q1"]


def test_messy_example_lines_account_for_embedded_newline() -> None:
    source = open_table(EXAMPLES / "messy_wai_sr.csv")
    (chunk,) = source.chunks(engine="python")
    # 18 data rows; the ragged line is row 11 (line 13); row 15's comment spans 2 lines
    assert chunk.lines.tolist() == [*range(2, 18), 18, 20]
    assert chunk.ragged.tolist() == [11]
