"""One partition's task of ``score --engine dask``, in this process (no cluster).

The task writes the scores without the writer's copy of the frame and hashes the
identifiers by column type; both must give what the single-process path gives: the same
parquet file (schema, pandas and provenance metadata, cells) and the same duplicates.
"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import score_frame
from alliance_score.cli import _dask_score as ds
from alliance_score.errors import DataError
from alliance_score.io.accounting import DuplicateFinder
from alliance_score.io.writers import TableWriter, write_table

pq: Any = importlib.import_module("pyarrow.parquet")
SETTINGS = settings(max_examples=25, deadline=None)
ITEMS = [f"wai_{i}" for i in range(1, 13)]


def _answers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 7, size=(n, 12)).astype(float)
    cells[rng.random(cells.shape) < 0.1] = np.nan
    return pd.DataFrame(cells, columns=ITEMS)


def _same_file(scores: pd.DataFrame, keep: list[str], tmp_path: Path) -> None:
    write_table(scores, tmp_path / "writer.parquet")
    ds.write_scores(scores, str(tmp_path / "task.parquet"), keep)
    old, new = pq.read_table(tmp_path / "writer.parquet"), pq.read_table(tmp_path / "task.parquet")
    assert new.schema.equals(old.schema, check_metadata=True)
    assert new.equals(old)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "task.parquet"), pd.read_parquet(tmp_path / "writer.parquet")
    )


@pytest.mark.parametrize("rows", [0, 1, 300])
def test_the_scores_file_is_the_writers_file(rows: int, tmp_path: Path) -> None:
    data = _answers(rows, rows)
    data["client"] = pd.Series(["a", None, "=cmd"] * 100, dtype=object)[:rows]
    data["mixed"] = pd.Series([1, "x", 2.5] * 100, dtype=object)[:rows]
    data["visit"] = np.arange(rows, dtype=np.int64)
    keep = ["client", "mixed", "visit"]
    _same_file(score_frame(data, "wai-sr", keep=keep), keep, tmp_path)


def test_provisional_marks_and_cutoff_flags_are_written_as_the_writer_does(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(4)
    cells = rng.uniform(0, 10, size=(200, 4)).round(1)
    cells[rng.random(cells.shape) < 0.2] = np.nan
    data = pd.DataFrame(cells, columns=["relationship", "goals", "approach", "overall"])
    scores = score_frame(data, "srs", allow_provisional=True)
    assert "provisional" in scores.columns
    assert scores.isna().any().any()  # flags unknown where the score is missing
    _same_file(scores, [], tmp_path)


def test_the_scores_writer_refuses_another_format(tmp_path: Path) -> None:
    with (
        TableWriter(tmp_path / "x.csv", "csv") as writer,
        pytest.raises(DataError, match="parquet"),
    ):
        writer.write_arrow(ds.scores_table(score_frame(_answers(3, 0), "wai-sr"), []))


def _single_process_duplicates(chunks: list[pd.DataFrame], identity: list[str]) -> set[Any]:
    finder = DuplicateFinder(identity)
    found = set()
    first = 0
    for chunk in chunks:
        lines = np.arange(first, first + len(chunk), dtype=np.int64) + 1
        found |= {(first + pos, line - 1) for pos, line in finder.check(chunk, lines)}
        first += len(chunk)
    return found


def _dask_duplicates(
    chunks: list[pd.DataFrame], identity: list[str], kinds: dict[str, str]
) -> set[Any]:
    pieces = []
    first = 0
    for chunk in chunks:
        frame = chunk.set_axis(pd.RangeIndex(first, first + len(chunk)))
        pieces.append(ds._identity_hashes(frame, identity, kinds))
        first += len(chunk)
    rows, firsts = ds.find_duplicates(pieces)
    return set(zip(rows.tolist(), firsts.tolist(), strict=True))


@SETTINGS
@given(
    ids=st.lists(st.integers(-3, 6), min_size=1, max_size=60),
    codes=st.lists(st.sampled_from(["a", "b", " ", "", "a "]), min_size=60, max_size=60),
    holes=st.sets(st.integers(0, 59), max_size=8),
    cuts=st.lists(st.integers(0, 60), max_size=4),
)
def test_identifier_hashes_find_the_single_process_duplicates(
    ids: list[int], codes: list[str], holes: set[int], cuts: list[int]
) -> None:
    """Integer ids (float64 in the partitions with nulls, as read), text codes with
    blanks: the duplicates found from the partitions' hashes are the single-process ones."""
    n = len(ids)
    frame = pd.DataFrame(
        {
            "record_id": pd.array(ids, dtype="Int64"),
            "site": pd.Series(codes[:n], dtype="str"),
        }
    )
    frame.loc[[h for h in holes if h < n], "record_id"] = pd.NA
    bounds = [0, *sorted(min(c, n) for c in cuts), n]
    chunks = []
    for a, b in itertools.pairwise(bounds):
        part = frame.iloc[a:b].reset_index(drop=True)
        ids_ = part["record_id"]
        # the parquet reader's conversion: int64 without nulls, float64 with them
        as_read = ids_.astype(np.float64) if ids_.isna().any() else ids_.astype(np.int64)
        chunks.append(pd.DataFrame({"record_id": as_read, "site": part["site"]}))
    kinds = {"record_id": "integer", "site": "text"}
    for identity in (["record_id"], ["site"], ["record_id", "site"]):
        expected = _single_process_duplicates(chunks, identity)
        assert _dask_duplicates(chunks, identity, kinds) == expected
        assert _dask_duplicates(chunks, identity, {}) == expected  # the object path


def test_identifier_kinds_come_from_every_files_schema(tmp_path: Path) -> None:
    pd.DataFrame({"id": [1, 2], "code": ["a", "b"], "x": [1.5, 2.0]}).to_parquet(
        tmp_path / "a.parquet"
    )
    pd.DataFrame({"id": [3, None], "code": ["c", None], "x": [1, 2]}).to_parquet(
        tmp_path / "b.parquet"
    )
    files = [str(tmp_path / "a.parquet")]
    assert ds.identity_kinds(files, ["id", "code", "x"]) == {
        "id": "integer",
        "code": "text",
        "x": "object",
    }
    files.append(str(tmp_path / "b.parquet"))  # id is a double there (pandas wrote NaN)
    assert ds.identity_kinds(files, ["id", "code"]) == {"id": "object", "code": "text"}


def test_list_cells_in_an_identifier_are_compared_as_text() -> None:
    frame = pd.DataFrame({"id": pd.Series([[1, 2], [1, 2], "x", None], dtype=object)})
    hashes, rows = ds._identity_hashes(frame, ["id"], {"id": "object"})
    assert rows.tolist() == [0, 1, 2]
    assert hashes[0] == hashes[1] != hashes[2]
