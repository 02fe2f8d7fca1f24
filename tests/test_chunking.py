"""Chunked scoring equals in-memory scoring, whatever the chunk size and engine."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import score_frame
from alliance_score.cli import main
from alliance_score.frame import PROBLEM_COLUMNS
from alliance_score.io import read_table
from alliance_score.io.accounting import DuplicateFinder
from alliance_score.io.writers import to_text

ITEMS = [f"wai_{i}" for i in range(1, 13)]
CELLS = st.sampled_from(
    ["1", "2", "3", "4", "5", "", "NA", ".", " 3 ", "4.0", "4.5", "0", "6", "x", "Always", "-99"]
)
ROW = st.tuples(
    st.sampled_from(["A", "B", "C", "=D"]),
    st.sampled_from(["1", "2"]),
    st.lists(CELLS, min_size=12, max_size=12),
    st.sampled_from(["", "fine", "two\nlines", 'say "hi"']),
)


def _csv(rows: list[tuple[str, str, list[str], str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["client_id", "session", *ITEMS, "note"])
    for client, session, cells, note in rows:
        writer.writerow([client, session, *cells, note])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()


def _parsed(text: str) -> pd.DataFrame:
    """CSV text as a table of strings (quoting may differ between chunks)."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _score(path: Path, out: Path, *extra: str) -> tuple[int, str, pd.DataFrame]:
    problems = out.with_suffix(".problems.csv")
    code = main(
        [
            "score",
            str(path),
            "-i",
            "wai-sr",
            "-q",
            "-o",
            str(out),
            "--problems",
            str(problems),
            *extra,
        ]
    )
    return (
        code,
        out.read_text(encoding="utf-8"),
        pd.read_csv(problems, dtype=str, keep_default_na=False),
    )


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(ROW, max_size=30),
    chunk_bytes=st.integers(min_value=1, max_value=3000),
    on_invalid=st.sampled_from(["reject", "missing"]),
)
def test_chunked_equals_in_memory(
    rows: list[tuple[str, str, list[str], str]],
    chunk_bytes: int,
    on_invalid: Literal["reject", "missing"],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_bytes(_csv(rows))
        small = _score(
            path,
            Path(tmp) / "small.csv",
            "--chunk-bytes",
            str(chunk_bytes),
            "--on-invalid",
            on_invalid,
        )
        whole = _score(path, Path(tmp) / "whole.csv", "--on-invalid", on_invalid)
        assert small[0] == whole[0]
        assert small[1] == whole[1]
        pd.testing.assert_frame_equal(small[2], whole[2])
        # and both equal the library on the whole file read into memory
        lib = score_frame(
            read_table(path),
            "wai-sr",
            keep=["client_id", "session"],
            on_invalid=on_invalid,
            return_problems=True,
        )
        pd.testing.assert_frame_equal(_parsed(small[1]), _parsed(to_text(lib.scores)))
        cells = small[2][small[2]["code"] != "duplicate_row"][list(PROBLEM_COLUMNS)]
        expected = pd.read_csv(io.StringIO(to_text(lib.problems)), dtype=str, keep_default_na=False)
        pd.testing.assert_frame_equal(cells.reset_index(drop=True), expected)
        # every duplicate is reported once, on its later occurrences
        keys = [(r[0], r[1]) for r in rows]
        expected_dups = sum(1 for i, k in enumerate(keys) if k in keys[:i])
        assert (small[2]["code"] == "duplicate_row").sum() == expected_dups


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 100])
def test_duplicates_found_across_chunks(chunk_rows: int) -> None:
    rng = np.random.default_rng(7)
    ids = pd.DataFrame(
        {
            "client": rng.choice(["a", "b", "c", "d", ""], size=40).astype(object),
            "session": rng.choice(["1", "2"], size=40).astype(object),
        }
    )
    lines = np.arange(2, 42, dtype=np.int64)
    finder = DuplicateFinder(["client", "session"])
    found: list[tuple[int, int]] = []
    for start in range(0, len(ids), chunk_rows):
        part = ids.iloc[start : start + chunk_rows]
        found += [
            (start + pos, first)
            for pos, first in finder.check(part, lines[start : start + chunk_rows])
        ]
    expected = ids.duplicated(keep="first")
    first_line = {
        tuple(r): 2 + i for i, r in reversed(list(enumerate(ids.itertuples(index=False))))
    }
    assert [p for p, _ in found] == np.flatnonzero(expected.to_numpy()).tolist()
    assert all(first == first_line[tuple(ids.iloc[p])] for p, first in found)


def test_rows_with_blank_identifiers_are_not_duplicates() -> None:
    ids = pd.DataFrame({"client": ["", " ", None, "a", "a"]}, dtype=object)
    finder = DuplicateFinder(["client"])
    assert list(finder.check(ids, np.arange(2, 7, dtype=np.int64))) == [(4, 5)]
