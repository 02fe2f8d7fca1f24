"""The one-row kernel (``score_row``) and the scalar cell check (``check_number``) give
exactly, bit for bit, what ``score_matrix`` and ``check_numbers`` give."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_score import Instrument, load_instrument
from alliance_score.parsing import CellRules
from alliance_score.scoring import STATUS_ORDER, _round, score_matrix, score_row, select_scales

from .test_kernel import MISSING_CODE, raw_cells, weighted_instruments

SETTINGS = settings(max_examples=150, deadline=None)


def _bits(x: float) -> bytes:
    """The float's bytes, so that -0.0 differs from 0.0 and every NaN is one NaN."""
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


def _valid_matrix(ins: Instrument, x: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    """``x`` checked by the instrument's rules: (clean matrix, rows with a problem)."""
    rules = CellRules.build(ins, missing_codes=[MISSING_CODE])
    checked, codes = rules.check_numbers(x)
    return checked, (codes != 0).any(axis=1)


def _assert_row_equals_matrix(
    ins: Instrument, x: np.ndarray[Any, Any], invalid: Any, **options: Any
) -> None:
    batch = score_matrix(x, ins, invalid=invalid, **options)
    for i in range(len(x)):
        row = score_row(x[i].tolist(), ins, invalid=bool(invalid[i]), **options)
        assert row.scales == batch.scales and row.cutoffs == batch.cutoffs
        assert [_bits(s) for s in row.scores] == [_bits(s) for s in batch.scores[i]]
        assert list(row.n_answered) == batch.n_answered[i].tolist()
        assert list(row.prorated) == batch.prorated[i].tolist()
        assert row.status is STATUS_ORDER[batch.status[i]]
        assert row.items_answered == batch.items_answered[i]
        known, fired = batch.flags_known[i].tolist(), batch.flags[i].tolist()
        assert list(row.flags) == [f if k else None for f, k in zip(fired, known, strict=True)]


@SETTINGS
@given(st.data())
def test_score_row_equals_score_matrix_on_generated_instruments(data: st.DataObject) -> None:
    ins = data.draw(weighted_instruments())
    x, invalid = _valid_matrix(ins, data.draw(raw_cells(ins)))
    if data.draw(st.booleans()):
        invalid = np.zeros(len(x), dtype=bool)  # invalid cells as missing
    scales, cutoffs = select_scales(ins, allow_provisional=True)
    if data.draw(st.booleans()):
        picked = data.draw(st.lists(st.sampled_from(ins.scale_ids), min_size=1, unique=True))
        scales, cutoffs = select_scales(ins, picked, allow_provisional=True)
    _assert_row_equals_matrix(ins, x, invalid, scales=scales, cutoffs=cutoffs)


@SETTINGS
@given(st.data())
def test_score_row_equals_score_matrix_on_shipped_instruments(data: st.DataObject) -> None:
    ins = load_instrument(data.draw(st.sampled_from(["wai-sr", "srs", "wai-s", "tps", "wai"])))
    x, invalid = _valid_matrix(ins, data.draw(raw_cells(ins)))
    _assert_row_equals_matrix(ins, x, invalid)


@st.composite
def rules_and_numbers(draw: st.DrawFn) -> tuple[CellRules, list[float]]:
    ins = draw(weighted_instruments())
    missing = draw(st.sampled_from([(), (MISSING_CODE,), (0.0, -1), (9,)]))
    rules = CellRules.build(ins, missing_codes=missing, any_resolution=draw(st.booleans()))
    r = ins.response
    near = st.floats(r.min - 2, r.max + 2, allow_nan=False)
    grid = st.integers(-4, 40).map(lambda k: r.min + k * (r.effective_step or 0.1))
    odd = st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0, MISSING_CODE, 1e308, -1e-300])
    numbers = st.lists(st.one_of(near, grid, odd, st.floats()), min_size=1, max_size=20)
    return rules, draw(numbers)


@SETTINGS
@given(rules_and_numbers())
def test_check_number_equals_check_numbers(case: tuple[CellRules, list[float]]) -> None:
    rules, numbers = case
    values, codes = rules.check_numbers(np.array(numbers, dtype=np.float64))
    for x, value, code in zip(numbers, values.tolist(), codes.tolist(), strict=True):
        one_value, one_code = rules.check_number(x)
        assert (_bits(one_value), one_code) == (_bits(value), code), x


def test_score_row_refuses_a_row_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="expected 12 values for wai-sr"):
        score_row([1.0] * 11, load_instrument("wai-sr"))


def test_score_row_rounds_as_numpy_does_at_the_tenth_decimal() -> None:
    """Sums of values recorded to 0.1 land on cut-off boundaries (8.9 + 9.0 + 9.1 + 9.0 is
    36) and halves round to even, as ``np.round`` does."""
    srs = load_instrument("srs")
    row = score_row([9.1, 8.9, 9.0, 9.0], srs)
    assert row.scores == (36.0,)
    for x in (0.123456789049999, 2.00000000005, 2.00000000015, -2.00000000005, -1e-12):
        assert _bits(_round(x)) == _bits(float(np.round(x, 10)))
