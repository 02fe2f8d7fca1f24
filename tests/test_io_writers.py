"""Writers: formula-injection neutralising, atomic replacement, every output format."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score.errors import DataError
from alliance_score.io import (
    FORMULA_TRIGGERS,
    TableWriter,
    neutralise,
    neutralise_frame,
    output_format,
    read_table,
    write_table,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("+cmd", "'+cmd", id="plus"),
        pytest.param("-2+3", "'-2+3", id="minus"),
        pytest.param("-99", "-99", id="text-that-is-exactly-a-number"),
        pytest.param("+3.5", "+3.5", id="signed-decimal-is-a-number"),
        pytest.param("-1e3", "-1e3", id="exponent-number"),
        pytest.param("-1-1", "'-1-1", id="number-then-formula"),
        pytest.param("\0=1", "'\0=1", id="leading-nul"),
        pytest.param("  =1+1", "'  =1+1", id="spaces-before-equals"),
        pytest.param("\u3000=1", "'\u3000=1", id="ideographic-space-before-equals"),
        pytest.param("\uff1dSUM(A1)", "'\uff1dSUM(A1)", id="full-width-equals"),
        pytest.param("\uff20x", "'\uff20x", id="full-width-at"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("C001", "C001", id="plain"),
        pytest.param("a=b", "a=b", id="inner-equals"),
        pytest.param("", "", id="empty"),
    ],
)
def test_neutralise(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


@settings(max_examples=300)
@given(st.one_of(st.text(), st.text(alphabet="=+-@\t\r.eE0123456789 ", max_size=8)))
def test_neutralised_text_never_starts_with_a_trigger(text: str) -> None:
    safe = neutralise(text)
    if re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text):
        assert safe == text  # a number is never a formula
    else:
        assert not safe.lstrip(" \u00a0\u3000").startswith(FORMULA_TRIGGERS)
    assert safe.removeprefix("'") == text or safe == text


def test_neutralise_frame_leaves_numbers_and_input_alone() -> None:
    frame = pd.DataFrame(
        {
            "id": pd.Series(["=cmd", "ok", None], dtype=object),
            "cat": pd.Categorical(["@x", "y", "@x"]),
            "x": [-1.0, np.nan, 2.0],
            "n": [-1, 0, 1],
        }
    )
    before = frame.copy()
    out = neutralise_frame(frame)
    assert out["id"].tolist() == ["'=cmd", "ok", None]
    assert out["cat"].tolist() == ["'@x", "y", "'@x"]
    pd.testing.assert_series_equal(out["x"], frame["x"])
    pd.testing.assert_series_equal(out["n"], frame["n"])
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("path", "requested", "expected"),
    [
        pytest.param("s.csv", None, "csv", id="csv"),
        pytest.param("s.tsv", None, "tsv", id="tsv"),
        pytest.param("s.parquet", None, "parquet", id="parquet"),
        pytest.param("s.XLSX", None, "xlsx", id="xlsx-upper"),
        pytest.param("s.out", None, "csv", id="unknown-suffix"),
        pytest.param(None, None, "csv", id="stdout"),
        pytest.param("s.csv", "parquet", "parquet", id="requested-wins"),
    ],
)
def test_output_format(path: str | None, requested: str | None, expected: str) -> None:
    assert output_format(path, requested) == expected


def test_output_format_rejects_unknown() -> None:
    with pytest.raises(DataError, match="'json'"):
        output_format("x", "json")


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": ['=HYPERLINK("x")', "C2"],
            "total": [4.25, np.nan],
            "n": [12, 3],
            "flag": pd.array([True, pd.NA], dtype="boolean"),
            "status": pd.Categorical(["complete", "insufficient"]),
        }
    )


@pytest.mark.parametrize("suffix", ["csv", "tsv", "xlsx", "parquet"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scores.{suffix}"
    write_table(_frame(), path)
    back = read_table(path)
    expected_id = '\'=HYPERLINK("x")' if suffix != "parquet" else '=HYPERLINK("x")'
    assert back["client_id"].tolist() == [expected_id, "C2"]
    assert float(back["total"].iloc[0]) == 4.25
    assert back["status"].tolist() == ["complete", "insufficient"]
    assert list(tmp_path.iterdir()) == [path]


def test_interrupted_write_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), TableWriter(path) as writer:
        writer.write(_frame())
        raise KeyboardInterrupt
    assert path.read_text(encoding="utf-8") == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_chunks_write_one_header(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    with TableWriter(path) as writer:
        writer.write(_frame())
        writer.write(_frame())
    text = path.read_text(encoding="utf-8").splitlines()
    assert len(text) == 5
    assert text[0].startswith("client_id,")


def test_binary_output_needs_a_file() -> None:
    with pytest.raises(DataError, match="name a file with -o"):
        TableWriter(None, "parquet")


def test_unwritable_folder(tmp_path: Path) -> None:
    from alliance_score.errors import UnreadableFileError

    with (
        pytest.raises(UnreadableFileError, match="Cannot write"),
        TableWriter(tmp_path / "absent" / "x.csv"),
    ):
        pass  # pragma: no cover


def test_csv_text_is_the_same_with_and_without_pyarrow() -> None:
    from alliance_score.io.writers import _arrow_csv, _pandas_csv

    frame = _frame()
    frame["note"] = pd.Series(["x,1", 'say "hi"'], dtype=object)
    frame["third"] = [1 / 3, 60.0]
    for sep in (",", "\t"):
        assert _arrow_csv(frame, sep, header=True) == _pandas_csv(frame, sep, header=True)
        plain = frame.drop(columns="note")  # nothing to quote: pyarrow's own writer
        assert _arrow_csv(plain, sep, header=True) == _pandas_csv(plain, sep, header=True)


def test_fallback_writer_is_used_without_pyarrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alliance_score.io.writers as writers

    monkeypatch.setattr(writers, "_has_arrow", lambda: False)
    path = tmp_path / "s.csv"
    write_table(_frame(), path)
    assert path.read_text(encoding="utf-8").splitlines()[1] == (
        '"\'=HYPERLINK(""x"")",4.25,12,true,complete'
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="=+-@\t.eE0123456789 ,x", max_size=6),
            st.text(max_size=6).filter(lambda s: "\x00" not in s),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_both_csv_writers_neutralise_alike(cells: list[str]) -> None:
    from alliance_score.io.writers import _arrow_csv, _pandas_csv

    frame = pd.DataFrame({"value": pd.Series(cells, dtype=object), "score": 1.5})
    frame.columns = pd.Index([cells[0], "score"], dtype=object)
    for sep in (",", "\t", ";"):
        text = _arrow_csv(frame, sep, header=True)
        assert text == _pandas_csv(frame, sep, header=True)
        back = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        assert len(back) == len(cells)  # no cell splits a row, not even a lone \r
        assert back.iloc[:, 0].tolist() == [neutralise(c) for c in cells]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_infinity=False),
            st.integers(-(10**15), 10**15).map(float),
            st.sampled_from([1e10, 20231015001.0, 1e-5, 1.5e-7, -0.0, 1e16, 9999999999.5]),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_both_csv_writers_write_numbers_alike(values: list[float]) -> None:
    from alliance_score.io.writers import _arrow_csv, _pandas_csv

    frame = pd.DataFrame({"x": pd.Series(values, dtype="float64"), "id": "a"})
    text = _arrow_csv(frame, ",", header=True)
    assert text == _pandas_csv(frame, ",", header=True)
    back = pd.read_csv(io.StringIO(text))["x"].to_numpy()
    np.testing.assert_array_equal(back, frame["x"].to_numpy())
    assert not re.search(r"e\+1[01](?![0-9])", text)  # 11- and 12-digit numbers in full
