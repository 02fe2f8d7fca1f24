"""Nullable integer columns (pandas' ``Int8`` ..., pyarrow-backed ``int8[pyarrow]`` ...):
scored from their numbers and missing cells, block by block, with exactly the results of
the same cells given as Python objects (the text path, an independent reading)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import Instrument, load_instrument, score_frame, scoring
from alliance_score import frame as frame_module
from alliance_score.parsing import masked_integers

from .strategies import instruments

SIGNED: list[Any] = [
    "Int8",
    "Int16",
    "Int64",
    pd.ArrowDtype(pa.int8()),
    pd.ArrowDtype(pa.int32()),
    pd.ArrowDtype(pa.int64()),
]
UNSIGNED: list[Any] = ["UInt8", "UInt64", pd.ArrowDtype(pa.uint8()), pd.ArrowDtype(pa.uint16())]


@st.composite
def masked_frames(draw: st.DrawFn, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(a frame whose item columns are nullable integer, float64, or object columns; the
    same cells with every nullable integer column as Python ints and None)."""
    n = draw(st.integers(0, 30))
    typed: dict[str, Any] = {}
    plain: dict[str, Any] = {}
    for item in instrument.items:
        kind = draw(st.sampled_from(["signed", "signed", "unsigned", "float", "object"]))
        low = 0 if kind == "unsigned" else -3
        value = st.one_of(st.integers(low, 12), st.sampled_from([99, 0, 1]))
        cells = draw(st.lists(st.one_of(st.none(), value), min_size=n, max_size=n))
        if kind in ("signed", "unsigned"):
            dtype = draw(st.sampled_from(SIGNED if kind == "signed" else UNSIGNED))
            typed[item.id] = pd.Series(cells, dtype=dtype)
            plain[item.id] = pd.Series(cells, dtype=object)
        elif kind == "float":
            typed[item.id] = plain[item.id] = pd.Series(
                [np.nan if c is None else float(c) for c in cells], dtype=np.float64
            )
        else:
            typed[item.id] = plain[item.id] = pd.Series(
                [c if c is None else str(c) for c in cells], dtype=object
            )
    return pd.DataFrame(typed), pd.DataFrame(plain)


def _same_results(typed: pd.DataFrame, plain: pd.DataFrame, ins: Instrument, **kw: Any) -> None:
    got = score_frame(typed, ins, return_problems=True, **kw)
    want = score_frame(plain, ins, return_problems=True, **kw)
    pd.testing.assert_frame_equal(got.scores, want.scores, check_exact=True)
    pd.testing.assert_frame_equal(got.problems, want.problems, check_exact=True)
    assert got.answers == want.answers or (got.answers.rows == want.answers.rows == 0)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), ins=instruments(), block=st.sampled_from([1, 3, 7, 1 << 17]))
def test_nullable_integer_columns_score_as_their_cells(
    data: st.DataObject, ins: Instrument, block: int
) -> None:
    typed, plain = data.draw(masked_frames(ins))
    codes = data.draw(st.sampled_from([(), (99,), (-1, 0)]))
    invalid = data.draw(st.sampled_from(["reject", "missing"]))
    original = typed.copy()
    saved = frame_module.FRAME_BLOCK_ROWS
    frame_module.FRAME_BLOCK_ROWS = block
    try:
        _same_results(
            typed, plain, ins, missing_codes=codes, on_invalid=invalid, allow_provisional=True
        )
    finally:
        frame_module.FRAME_BLOCK_ROWS = saved
    pd.testing.assert_frame_equal(typed, original)  # the input is never modified


@pytest.mark.parametrize("dtype", [*SIGNED, *UNSIGNED])
def test_each_nullable_integer_dtype(dtype: Any) -> None:
    ins = load_instrument("wai-sr")
    rows: list[Sequence[int | None]] = [
        [4] * 12,
        [None] * 12,
        [5] * 11 + [9],
        [1, None] * 6,
        [0] * 12,
    ]
    cells = {item: [row[j] for row in rows] for j, item in enumerate(ins.item_ids)}
    typed = pd.DataFrame({k: pd.Series(v, dtype=dtype) for k, v in cells.items()})
    plain = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cells.items()})
    assert all(masked_integers(typed[c]) is not None for c in typed)
    _same_results(typed, plain, ins)
    _same_results(typed.iloc[1:], plain.iloc[1:], ins)  # a slice: arrays at an offset
    scores = score_frame(typed, ins)
    statuses = ["complete", "insufficient", "invalid", "partial", "invalid"]
    assert scores["status"].tolist() == statuses


def test_columns_that_are_not_nullable_integers_are_not_taken() -> None:
    for series in (
        pd.Series([1, 2], dtype=np.int64),
        pd.Series([1.0, None], dtype="Float64"),
        pd.Series([True, None], dtype="boolean"),
        pd.Series([1.5, None], dtype=pd.ArrowDtype(pa.float64())),
        pd.Series(["1", None], dtype=pd.ArrowDtype(pa.string())),
        pd.Series([1, 2], dtype="category"),
    ):
        assert masked_integers(series) is None, series.dtype


def test_a_chunked_arrow_column_with_and_without_missing_cells() -> None:
    chunked = pa.chunked_array([pa.array([1, None, 3], pa.int8()), pa.array([4, 5], pa.int8())])
    m = masked_integers(pd.Series(pd.arrays.ArrowExtensionArray(chunked)))
    assert m is not None and m.missing is not None
    assert m.block(0, 5, np.empty(5)).tolist()[2:] == [3.0, 4.0, 5.0]
    assert m.missing.tolist() == [False, True, False, False, False]
    whole = masked_integers(pd.Series([1, 2], dtype=pd.ArrowDtype(pa.int8())))
    assert whole is not None and whole.missing is None


def test_a_large_blocked_frame_uses_the_batch_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a large frame are scored by the kernel ``auto`` picks for the whole
    frame (the compiled one when numba is installed), not by the size of one block."""
    pytest.importorskip("numba")
    monkeypatch.delenv(scoring.KERNEL_ENV, raising=False)
    monkeypatch.setattr(scoring, "NUMBA_MIN_ROWS", 40)
    monkeypatch.setattr(frame_module, "FRAME_BLOCK_ROWS", 16)
    ins = load_instrument("wai-sr")
    typed = pd.DataFrame({i: pd.Series([4, None] * 25, dtype="Int8") for i in ins.item_ids})
    score_frame(typed, ins)
    assert scoring.kernel_info()["kernel"] == "numba"
    score_frame(typed.iloc[:30], ins)
    assert scoring.kernel_info()["kernel"] == "numpy"


@pytest.mark.parametrize("dtype", ["Int8", "Int64", "UInt16"])
def test_the_public_route_reads_the_same_parts(dtype: str) -> None:
    """Where a masked array does not hold its parts as expected, the public methods give
    the same numbers (wherever a cell is not missing) and the same missing cells."""
    from alliance_score.parsing import _held_parts, _public_parts

    series = pd.Series([3, None, 0, 7, None], dtype=dtype)
    numpy_dtype = np.dtype(dtype.lower())  # Int8 -> int8
    held = _held_parts(series, numpy_dtype)
    assert held is not None
    public = _public_parts(series, numpy_dtype)
    assert public[1].tolist() == held[1].tolist() == [False, True, False, False, True]
    answered = ~held[1]
    assert public[0][answered].tolist() == held[0][answered].tolist() == [3, 0, 7]
    assert public[0].dtype == held[0].dtype == numpy_dtype
    assert _held_parts(pd.Series([1, 2], dtype=pd.ArrowDtype(pa.int8())), numpy_dtype) is None
