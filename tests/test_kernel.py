"""The fused kernel: the compiled (numba) and numpy paths give identical results, and both
give what parsing every cell and then scoring the clean matrix gives."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alliance_score
from alliance_score import Instrument, MissingDependencyError, load_instrument, score_frame, scoring
from alliance_score.coding import AnswerRange
from alliance_score.parsing import CellRules, parse_column
from alliance_score.scoring import KERNEL_ENV, kernel_info, score_columns, score_matrix

from .strategies import instrument_dicts

SETTINGS = settings(max_examples=60, deadline=None)
HAS_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(
    not HAS_NUMBA and os.environ.get("CI") != "true",
    reason="numba is not installed (pip install 'alliance-score[fast]')",
)
MISSING_CODE = -99.0


@st.composite
def weighted_instruments(draw: st.DrawFn) -> Instrument:
    """Generated instruments, some scales weighted (not one with a cut-off, whose value
    was drawn inside the unweighted range)."""
    raw = draw(instrument_dicts())
    cut = {c["scale"] for c in raw.get("cutoffs", [])}
    for scale in raw["scales"]:
        if scale["id"] not in cut and draw(st.booleans()):
            scale["weights"] = {
                i: draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.25])) for i in scale["items"]
            }
    return Instrument.model_validate(raw)


@st.composite
def raw_cells(draw: st.DrawFn, ins: Instrument) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A ``rows x items`` matrix of raw numbers: valid answers, missing cells, and every
    kind of bad number (off the grid, out of range, infinite, a declared missing code)."""
    r = ins.response
    step = r.effective_step
    if step is None:
        valid = st.floats(r.min, r.max, allow_nan=False)
    else:
        n_steps = round((r.max - r.min) / step)
        valid = st.integers(0, n_steps).map(lambda k: round(r.min + k * step, 10))
    bad = st.sampled_from(
        [r.min - 1, r.max + 0.5, r.min + 0.25, r.min + 0.0000001, np.inf, -np.inf, MISSING_CODE]
    )
    cell = st.one_of(valid, valid, valid, st.just(np.nan), bad)
    n_rows = draw(st.integers(1, 30))
    rows = [[draw(cell) for _ in range(len(ins.items))] for _ in range(n_rows)]
    return np.array(rows, dtype=np.float64)


def _frame(ins: Instrument, x: np.ndarray[Any, Any], layout: str) -> pd.DataFrame:
    """The cells as a DataFrame: one 2-D block (column- or row-major), separate columns,
    or some as text."""
    names = list(ins.item_ids)
    if layout == "block":  # one float64 block: the kernel reads it in place
        return pd.DataFrame(np.asfortranarray(x), columns=names)
    if layout == "c-block":
        return pd.DataFrame(np.ascontiguousarray(x), columns=names)
    columns: dict[str, Any] = {n: x[:, j].copy() for j, n in enumerate(names)}
    if layout == "text":  # odd columns as text, parsed before the kernel
        for n in names[1::2]:
            columns[n] = pd.Series([f"{v:g}" if v == v else "" for v in columns[n]], dtype=object)
    return pd.DataFrame(columns)


def _run(
    monkeypatch: pytest.MonkeyPatch, kernel: str, frame: pd.DataFrame, ins: Instrument, **kw: Any
) -> Any:
    monkeypatch.setenv(KERNEL_ENV, kernel)
    return score_frame(
        frame,
        ins,
        items={i: i for i in ins.item_ids},
        allow_provisional=True,
        missing_codes=[MISSING_CODE] if kw.pop("declare", False) else [],
        return_problems=True,
        **kw,
    )


def _reference(
    ins: Instrument, frame: pd.DataFrame, *, reject: bool, declare: bool
) -> scoring.KernelResult:
    """Parse every cell first, then score the clean matrix (the path before fusing)."""
    rules = CellRules.build(ins, missing_codes=[MISSING_CODE] if declare else [])
    matrix = np.empty((len(frame), len(ins.items)))
    codes = np.empty((len(frame), len(ins.items)), dtype=np.int8)
    for j, item in enumerate(ins.item_ids):
        matrix[:, j], codes[:, j] = parse_column(frame[item], rules)
    invalid = np.asarray(codes.any(axis=1)) if reject else None
    return score_matrix(matrix, ins, invalid=invalid)


@needs_numba
@SETTINGS
@given(st.data())
def test_compiled_and_numpy_kernels_agree(data: st.DataObject) -> None:
    ins = data.draw(weighted_instruments())
    x = data.draw(raw_cells(ins))
    layout = data.draw(st.sampled_from(["block", "c-block", "columns", "text"]))
    on_invalid = data.draw(st.sampled_from(["reject", "missing"]))
    declare = data.draw(st.booleans())
    frame = _frame(ins, x, layout)
    with pytest.MonkeyPatch.context() as mp:
        fast = _run(mp, "numba", frame, ins, on_invalid=on_invalid, declare=declare)
        assert kernel_info()["kernel"] == "numba"
        slow = _run(mp, "numpy", frame, ins, on_invalid=on_invalid, declare=declare)
        assert kernel_info()["kernel"] == "numpy"
    pd.testing.assert_frame_equal(fast.scores, slow.scores, check_exact=True)
    pd.testing.assert_frame_equal(fast.problems, slow.problems, check_exact=True)
    # both equal parsing every cell, then scoring the clean matrix
    ref = _reference(ins, frame, reject=on_invalid == "reject", declare=declare)
    for j, scale in enumerate(ref.scales):
        np.testing.assert_array_equal(slow.scores[scale.id].to_numpy(), ref.scores[:, j])
        np.testing.assert_array_equal(
            slow.scores[f"{scale.id}_n_answered"].to_numpy(), ref.n_answered[:, j]
        )
    assert slow.scores["status"].cat.codes.tolist() == ref.status.tolist()
    assert slow.scores["n_answered"].tolist() == ref.items_answered.tolist()
    # the lowest and highest valid answer (the coding check), found in the same pass
    expected = _reference_answers(ins, frame, declare=declare)
    assert _extent(fast.answers) == _extent(slow.answers) == _extent(expected)


def _extent(a: AnswerRange) -> tuple[int, float, float]:
    return (0, 0.0, 0.0) if a.rows == 0 else (a.rows, a.lo, a.hi)  # NaN when no rows


def _reference_answers(ins: Instrument, frame: pd.DataFrame, *, declare: bool) -> AnswerRange:
    """The lowest and highest answer after parsing every cell, and the rows answered."""
    rules = CellRules.build(ins, missing_codes=[MISSING_CODE] if declare else [])
    matrix = np.column_stack([parse_column(frame[item], rules)[0] for item in ins.item_ids])
    rows = int(np.count_nonzero(~np.isnan(matrix).all(axis=1)))
    if not rows:
        return AnswerRange(float("nan"), float("nan"), 0)
    return AnswerRange(float(np.nanmin(matrix)), float(np.nanmax(matrix)), rows)


@SETTINGS
@given(st.data())
def test_numpy_kernel_equals_parsing_then_scoring(data: st.DataObject) -> None:
    """Without numba (the fallback path alone), against the unfused reference."""
    ins = data.draw(weighted_instruments())
    x = data.draw(raw_cells(ins))
    frame = _frame(ins, x, data.draw(st.sampled_from(["block", "c-block", "columns", "text"])))
    declare = data.draw(st.booleans())
    with pytest.MonkeyPatch.context() as mp:
        got = _run(mp, "numpy", frame, ins, declare=declare)
    ref = _reference(ins, frame, reject=True, declare=declare)
    for j, scale in enumerate(ref.scales):
        np.testing.assert_array_equal(got.scores[scale.id].to_numpy(), ref.scores[:, j])
    assert got.scores["status"].cat.codes.tolist() == ref.status.tolist()
    per_row = got.problems.groupby("row").size()
    expected = [int(per_row.get(i, 0)) for i in range(len(frame))]
    assert got.scores["n_problems"].tolist() == expected
    assert _extent(got.answers) == _extent(_reference_answers(ins, frame, declare=declare))


def test_score_columns_validates_and_scores_in_place() -> None:
    srs = load_instrument("srs")
    cells = [np.array([9.1, 12.0, 5.0]), np.array([8.9, 5.0, 5.0])]
    cells += [np.array([9.0, 5.0, np.inf]), np.array([9.0, np.nan, 5.0])]
    codes = np.zeros((3, 4), dtype=np.int8, order="F")
    out, problems = score_columns(
        cells, srs, CellRules.build(srs), codes=codes, checked=[False] * 4, kernel="numpy"
    )
    assert out.scores[:, -1].tolist()[0] == 36.0
    assert problems.tolist() == [0, 1, 1]
    assert codes[1].tolist() == [3, 0, 0, 0] and codes[2].tolist() == [0, 0, 4, 0]
    statuses = [scoring.STATUS_ORDER[s].value for s in out.status]
    assert statuses == ["complete", "invalid", "invalid"]


def test_score_columns_rejects_a_wrong_number_of_columns() -> None:
    srs = load_instrument("srs")
    with pytest.raises(ValueError, match="expected 4 columns"):
        score_columns(
            [np.zeros(2)],
            srs,
            CellRules.build(srs),
            codes=np.zeros((2, 4), np.int8),
            checked=[False],
        )


def test_an_unknown_kernel_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNEL_ENV, "fortran")
    with pytest.raises(ValueError, match="ALLIANCE_SCORE_KERNEL must be"):
        score_frame(pd.DataFrame({f"wai_{i}": [4] for i in range(1, 13)}), "wai-sr")


def test_asking_for_numba_without_it_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba fails
    monkeypatch.delitem(sys.modules, "alliance_score._kernel_numba", raising=False)
    monkeypatch.delattr(alliance_score, "_kernel_numba", raising=False)
    monkeypatch.setattr(scoring, "_KERNEL_STATE", {})
    monkeypatch.setenv(KERNEL_ENV, "numba")
    frame = pd.DataFrame({f"wai_{i}": [4] for i in range(1, 13)})
    with pytest.raises(MissingDependencyError, match=r"alliance-score\[fast\]"):
        score_frame(frame, "wai-sr")
    # auto falls back to numpy, with the same result
    monkeypatch.setenv(KERNEL_ENV, "auto")
    monkeypatch.setattr(scoring, "NUMBA_MIN_ROWS", 1)
    assert score_frame(frame, "wai-sr")["total"].tolist() == [4.0]
    assert kernel_info()["kernel"] == "numpy"


@needs_numba
def test_auto_uses_the_compiled_kernel_for_large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    frame = pd.DataFrame({f"wai_{i}": [4.0, 5.0, 6.0] for i in range(1, 13)})
    monkeypatch.setattr(scoring, "NUMBA_MIN_ROWS", 10)
    score_frame(frame, "wai-sr")
    assert kernel_info()["kernel"] == "numpy"  # 3 rows: not worth loading numba
    monkeypatch.setattr(scoring, "NUMBA_MIN_ROWS", 2)
    scores = score_frame(frame, "wai-sr")
    info = kernel_info()
    assert info["kernel"] == "numba"
    assert info["load_seconds"] is not None and info["load_seconds"] >= 0
    assert info["compiled"] in (True, False)
    assert info["cache_dir"] is None or os.path.isdir(info["cache_dir"])
    assert scores["status"].tolist() == ["complete", "complete", "invalid"]


@needs_numba
@pytest.mark.parametrize("layout", ["row-major", "column-major", "separate", "one-row"])
def test_compiled_kernel_reads_every_layout_like_numpy(layout: str) -> None:
    """Columns of a row-major or column-major 2-D array are read in place (the compiled
    kernel's two versions), separate columns are gathered block by block."""
    ins = load_instrument("wai-sr")
    rng = np.random.default_rng(7)
    n = 1 if layout == "one-row" else 70_000  # more than one block of rows
    x = rng.integers(0, 7, (n, 12)).astype(float)
    x[rng.random((n, 12)) < 0.05] = np.nan
    x[rng.random((n, 12)) < 0.01] = 2.5
    if layout == "column-major":
        x = np.asfortranarray(x)
    columns = [x[:, j] if layout != "separate" else x[:, j].copy() for j in range(12)]
    results = []
    for kernel in ("numba", "numpy"):
        codes = np.zeros((n, 12), dtype=np.int8, order="F")
        out, problems = score_columns(
            columns, ins, CellRules.build(ins), codes=codes, checked=[False] * 12, kernel=kernel
        )
        results.append((out, problems, codes))
    (a, pa_, ca), (b, pb, cb) = results
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.n_answered, b.n_answered)
    np.testing.assert_array_equal(a.flags, b.flags)
    np.testing.assert_array_equal(pa_, pb)
    np.testing.assert_array_equal(ca, cb)


@needs_numba
def test_compiled_kernel_without_a_writable_cache_folder_lives_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numba

    from alliance_score import _kernel_numba

    real = numba.njit

    def no_cache(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cache"):  # what numba raises when no cache folder is writable
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache)

    def plus_one(x: float) -> float:
        return x + 1.0

    compiled, cached = _kernel_numba._compile(plus_one, "float64(float64)")
    assert cached is False
    assert compiled(1.0) == 2.0


@st.composite
def cell_rules(draw: st.DrawFn) -> CellRules:
    """Number rules of every shape the kernels special-case: no grid, whole steps between
    whole limits, whole steps from a whole minimum to a maximum just off the grid (the
    definition allows 1e-9 of slack), and other steps from whole or fractional limits."""
    shape = draw(st.sampled_from(["none", "whole", "above", "below", "half", "fraction"]))
    step = {"none": None, "half": 0.5, "fraction": draw(st.sampled_from([0.1, 0.25, 1.0]))}
    lo = float(draw(st.sampled_from([-3, 0, 1]) if shape != "fraction" else st.just(0.5)))
    width = step.get(shape, 1.0) or 1.0
    hi = lo + draw(st.integers(1, 10)) * width + {"above": 1e-10, "below": -1e-10}.get(shape, 0)
    missing = draw(st.sampled_from([frozenset(), frozenset({MISSING_CODE}), frozenset({lo})]))
    return CellRules("vas", lo, hi, step.get(shape, 1.0), {}, False, missing, frozenset())


@st.composite
def cells(draw: st.DrawFn, rules: CellRules, n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``n`` numbers around the rules' limits: answers, limits, off-grid and out-of-range
    values, infinities, NaN, a declared missing code."""
    lo, hi, step = rules.lo, rules.hi, rules.step or 0.5
    special = [np.nan, np.inf, -np.inf, -0.0, lo, hi, lo - step, hi + step, MISSING_CODE]
    special += [lo + step / 3, hi - 1e-7, lo + 2.5, round(lo + 3 * step, 10), 1e308, -1.7e308]
    cell = st.one_of(st.sampled_from(special), st.floats(lo - 2, hi + 2, allow_nan=False))
    return np.array(draw(st.lists(cell, min_size=n, max_size=n)), dtype=np.float64)


@SETTINGS
@given(st.data())
def test_answer_marks_agree_with_cell_codes(data: st.DataObject) -> None:
    """The numpy kernel's whole-block test (CellRules.mark_answers) accepts exactly the
    cells to which check_numbers gives no code and keeps a value."""
    rules = data.draw(cell_rules())
    x = data.draw(cells(rules, data.draw(st.integers(1, 40))))
    x = np.append(x, [1e308, -1.7e308])  # (x - lo) / step overflows: no warning
    out, work = np.empty(x.shape, dtype=bool), np.empty(x.shape)
    rules.mark_answers(x, out, work)
    values, codes = CellRules(
        rules.kind, rules.lo, rules.hi, rules.step, {}, False, frozenset(), frozenset()
    ).check_numbers(x)
    np.testing.assert_array_equal(out, (codes == 0) & ~np.isnan(values))


@needs_numba
@SETTINGS
@given(st.data())
def test_compiled_and_numpy_kernels_validate_every_grid_alike(data: st.DataObject) -> None:
    """Both kernels under number rules of every shape: the same codes, problems, scores
    and answer range (the columns hold arbitrary numbers; the instrument gives scales)."""
    rules = data.draw(cell_rules())
    ins = load_instrument("srs")
    n = data.draw(st.integers(1, 12))
    columns = [data.draw(cells(rules, n)) for _ in ins.items]
    reject = data.draw(st.booleans())
    results = []
    for kernel in ("numba", "numpy"):
        codes = np.zeros((n, len(columns)), dtype=np.int8, order="F")
        extent = np.array([np.inf, -np.inf])
        out, problems = score_columns(
            columns,
            ins,
            rules,
            codes=codes,
            checked=[False] * len(columns),
            reject=reject,
            kernel=kernel,
            answers=extent,
        )
        results.append((out, problems, codes, extent))
    (a, pa_, ca, ea), (b, pb, cb, eb) = results
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(pa_, pb)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.n_answered, b.n_answered)
    np.testing.assert_array_equal(a.items_answered, b.items_answered)
    np.testing.assert_array_equal(ea, eb)
    # each column's codes are check_numbers' codes
    for j, column in enumerate(columns):
        np.testing.assert_array_equal(cb[:, j], rules.check_numbers(column)[1])
