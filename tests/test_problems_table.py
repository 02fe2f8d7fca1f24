"""The problems table of a frame is the problems of its rows, each scored alone.

The frame's table is built column by column from each column's distinct problem values;
a row scored alone has one value per column. Whatever the cells, the index and the row
offset, both give the same records in the same order, with the same dtypes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import frame as frame_module
from alliance_score import score_frame
from alliance_score.frame import PROBLEM_COLUMNS, OnInvalid

ITEMS = [f"wai_{i}" for i in range(1, 13)]
CELLS: list[Any] = [4, 5, 9, 0, -99, "x", "4.5", " 3 ", "NA", None, 4.5, float("inf"), True, "٣"]


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    cell = st.sampled_from(CELLS)
    data = {c: draw(st.lists(cell, min_size=n, max_size=n)) for c in ITEMS}
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    kind = draw(st.sampled_from(["range", "offset", "labels"]))
    if kind == "offset":
        start = draw(st.integers(1, 10**6))
        frame.index = pd.RangeIndex(start, start + n)
    elif kind == "labels":
        frame.index = pd.Index([f"r{k}" for k in range(n)])
    return frame


@settings(max_examples=80, deadline=None)
@given(
    frame=frames(), first_row=st.integers(0, 10**7), invalid=st.sampled_from(["reject", "missing"])
)
def test_a_frames_problems_are_its_rows_problems(
    frame: pd.DataFrame, first_row: int, invalid: OnInvalid
) -> None:
    whole = score_frame(
        frame, "wai-sr", return_problems=True, first_row=first_row, on_invalid=invalid
    ).problems
    parts = [
        score_frame(
            frame.iloc[[r]],
            "wai-sr",
            return_problems=True,
            first_row=first_row + r,
            on_invalid=invalid,
        ).problems
        for r in range(len(frame))
    ]
    found = [p for p in parts if len(p)]
    assert list(whole.columns) == list(PROBLEM_COLUMNS)
    if not found:
        assert whole.empty
        return
    expected = pd.concat(found, ignore_index=True)
    pd.testing.assert_frame_equal(whole, expected, check_exact=True)
    assert whole["row"].dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(frame=frames(), first_row=st.integers(0, 10**7))
def test_messages_joined_by_pyarrow_equal_those_joined_by_python(
    frame: pd.DataFrame, first_row: int
) -> None:
    """Where pandas keeps text in pyarrow, pyarrow writes row numbers and joins the
    messages; the table is the one Python's joining gives, to the dtype."""
    joined = score_frame(frame, "wai-sr", return_problems=True, first_row=first_row).problems
    saved = frame_module._arrow_text
    frame_module._arrow_text = lambda: False
    try:
        python = score_frame(frame, "wai-sr", return_problems=True, first_row=first_row).problems
    finally:
        frame_module._arrow_text = saved
    pd.testing.assert_frame_equal(joined, python, check_exact=True)


def test_pandas_keeps_text_in_pyarrow_here() -> None:
    """The test above compares two paths where pandas stores text in pyarrow: pandas 3
    with pyarrow installed, as in the dev extra."""
    pytest.importorskip("pyarrow")
    if int(pd.__version__.split(".")[0]) < 3:
        pytest.skip(f"pandas {pd.__version__} keeps text as Python objects")
    assert frame_module._arrow_text()
