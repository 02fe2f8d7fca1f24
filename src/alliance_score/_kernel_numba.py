"""The fused kernel compiled with numba: validation and scoring in one pass per row block.

Imported only by :mod:`alliance_score.scoring` when numba is installed (the ``fast``
extra) and the compiled kernel is chosen. It computes exactly what the numpy path does
(:meth:`alliance_score.parsing.CellRules.check_numbers` followed by the block scorer of
:mod:`alliance_score.scoring`), with the same floating-point operations in the same
order, so both paths give identical scores, statuses and problems; a property test runs
both on generated instruments and data.

The kernel walks the rows in sub-blocks of :data:`SUB_ROWS`: for each item column it
validates and reverse-keys the cells into a small buffer that stays in cache, then adds
each scale's items in the scale's own order (the order the numpy path adds them), and
finally derives scores, proration, status and cut-off flags row by row. Each input cell
is read from memory once, and the next sub-block's cells are requested while one is
scored; the two largest outputs (scores and answered counts) are written with
non-temporal stores, which do not read the output's memory into the cache first.

The kernel is compiled for one signature when this module is first imported and cached
on disk (``cache=True``): the first import in a fresh environment compiles (a few
seconds, reported by :func:`alliance_score.scoring.kernel_info`), later processes load
the cache. When the package folder is not writable numba uses its
user-wide cache folder; when no cache folder is writable, the kernel is compiled in
memory in each process instead.
"""

from __future__ import annotations

import types
import warnings
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["SUB_ROWS", "fused_block", "fused_block_f", "uses_cache"]

SUB_ROWS = 4096
"""Rows validated and accumulated at a time: the per-scale accumulators stay in cache."""

_TOLERANCE = 1e-6  # parsing._STEP_TOLERANCE
_NOT_ALLOWED, _OUT, _INF = 2, 3, 4  # parsing: codes of an off-grid, out-of-range, inf value
_COMPLETE, _PRORATED, _PARTIAL, _INSUFFICIENT, _INVALID = 0, 1, 2, 3, 4
_MEAN, _SUM, _TCU, _POMP = 0, 1, 2, 3


def _array(dtype: Any, ndim: int, readonly: bool = False) -> Any:
    return numba.types.Array(dtype, ndim, "A", readonly=readonly)


_F8, _I8, _B1, _I1 = numba.float64, numba.int64, numba.boolean, numba.int8
_SIGNATURE = numba.void(
    _array(_F8, 2, readonly=True),  # x (any layout)
    _I8,  # rows
    _array(_I1, 2),  # codes
    _array(_B1, 1),  # checked
    _array(_B1, 1),  # reverse
    _array(_F8, 1),  # limits
    _array(_F8, 1),  # missing
    _array(_I8, 1),  # scale_ptr
    _array(_I8, 1),  # scale_item
    _array(_F8, 1),  # scale_weight
    _array(_I8, 2),  # scale_info
    _array(_F8, 1),  # scale_full
    _array(_I8, 1),  # cut_scale
    _array(_I8, 1),  # cut_cmp
    _array(_F8, 1),  # cut_value
    _B1,  # reject
    _I8,  # row0
    _array(_F8, 2),  # scores
    _array(_I8, 2),  # n_answered
    _array(_B1, 2),  # prorated
    _array(_B1, 2),  # flags
    _array(_B1, 2),  # flags_known
    _array(_I1, 1),  # status
    _array(_I8, 1),  # items_answered
    _array(_I8, 1),  # n_problems
    _array(_F8, 1),  # bounds
)
_SIGNATURE_F = numba.void(numba.types.Array(_F8, 2, "F", readonly=True), *_SIGNATURE.args[1:])
"""Two machine-code versions serve every instrument and block (no recompilation for a
new number of items): one for column-major cells (a block buffer, or the columns of a
DataFrame built from a 2-D array), where loads vectorise, and one for any layout."""


def _compile(function: Any, signature: Any) -> tuple[Any, bool]:
    """``function`` compiled now (or loaded from the on-disk cache), or compiled without a
    cache when no cache folder is writable (numba refuses ``cache=True`` then)."""
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(signature, cache=True, **options)(function), True
    except RuntimeError:  # no writable cache folder: compile in memory
        return numba.njit(signature, **options)(function), False


def _renamed(function: Any, name: str) -> Any:
    """A copy of ``function`` under another name (its own dispatcher and cache file)."""
    copy = types.FunctionType(function.__code__.replace(co_name=name), function.__globals__, name)
    copy.__qualname__ = name
    return copy


_cgutils: Any = cgutils


def _stream_store(
    typingctx: Any, array: Any, index: Any, value: Any
) -> Any:  # pragma: no cover - runs when the kernel is compiled
    """``array[index] = value`` as a non-temporal store: written to memory without
    first reading the cache line in (the outputs are written once, read much later)."""
    signature = numba.types.void(array, index, value)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        kind = sig.args[0]
        view = context.make_array(kind)(context, builder, args[0])
        pointer = _cgutils.get_item_pointer(
            context, builder, kind, view, [args[1]], wraparound=False
        )
        cast = context.cast(builder, args[2], sig.args[2], kind.dtype)
        store = builder.store(cast, pointer)
        store.set_metadata(
            "nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
        )
        return context.get_dummy_value()

    return signature, codegen


def _store_fence(typingctx: Any) -> Any:  # pragma: no cover - runs when compiled
    """Order the non-temporal stores before whatever the caller does next."""

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return numba.types.void(), codegen


_stream: Any = intrinsic(_stream_store)
_fence: Any = intrinsic(_store_fence)


def _check(
    xs: Any,
    cell: Any,
    column: Any,
    answered: Any,
    low: Any,
    high: Any,
    limits: Any,
    tally: bool,
    flip: bool,
    track: bool,
) -> bool:  # pragma: no cover - compiled
    """Validate one column's cells (CellRules.check_numbers) and, with ``tally``, count
    the answers per row, widen the per-row extent of the answers (``track``) and
    reverse-key (``flip``) in the same loop. Later rules win: off the grid < out of
    range < infinite. Branch-free per cell, so the loop vectorises. True when some cell
    has a problem."""
    lo, hi, step, grid = limits[0], limits[1], limits[2], limits[3]
    pivot = lo + hi
    found = False
    for i in range(xs.shape[0]):
        v = xs[i]
        if grid == 1.0:
            off = (np.floor(v) != v) & (v == v)
        elif grid == 2.0:
            k = (v - lo) / step
            off = np.abs(k - np.rint(k)) > _TOLERANCE
        else:
            off = False
        c = np.int8(_NOT_ALLOWED) if off else np.int8(0)
        c = np.int8(_OUT) if (v < lo) | (v > hi) else c
        c = np.int8(_INF) if np.abs(v) == np.inf else c
        cell[i] = c
        w = np.nan if c != 0 else v
        if tally:
            answered[i] += 1.0 if w == w else 0.0
            if track:  # NaN compares false: never taken
                low[i] = w if w < low[i] else low[i]
                high[i] = w if w > high[i] else high[i]
            w = pivot - w if flip else w
        column[i] = w
        found |= c != 0
    return found


def _declared(xs: Any, cell: Any, column: Any, missing: Any) -> None:  # pragma: no cover - compiled
    """Declared missing codes are fine cells with no value (before any other use)."""
    for i in range(xs.shape[0]):
        for q in range(missing.shape[0]):
            if xs[i] == missing[q]:
                cell[i] = 0
                column[i] = np.nan


def _tally(
    column: Any, answered: Any, low: Any, high: Any, pivot: float, flip: bool, track: bool
) -> None:  # pragma: no cover - compiled
    """For a column already validated: count the answers, widen the extent, reverse-key."""
    for i in range(column.shape[0]):
        w = column[i]
        answered[i] += 1.0 if w == w else 0.0
        if track:
            low[i] = w if w < low[i] else low[i]
            high[i] = w if w > high[i] else high[i]
        column[i] = pivot - w if flip else w


def _store_codes(cell: Any, codes: Any, problems: Any) -> None:  # pragma: no cover - compiled
    """Write a column's problem codes (rare: the codes start as zeros) and count them."""
    for i in range(codes.shape[0]):
        if cell[i] != 0:
            codes[i] = cell[i]
            problems[i] += 1


def _touch(xs: Any) -> float:  # pragma: no cover - compiled
    """Read one value per cache line: the loads run ahead of the work, so the next
    sub-block's cells arrive from memory while this one is scored."""
    acc = 0.0
    for i in range(0, xs.shape[0], 8):
        acc += xs[i]
    return acc


def _count_codes(codes: Any, problems: Any) -> None:  # pragma: no cover - compiled
    for i in range(codes.shape[0]):
        problems[i] += codes[i] != 0


def _add(column: Any, count: Any, total: Any) -> None:  # pragma: no cover - compiled
    for i in range(column.shape[0]):
        v = column[i]
        a = v == v
        count[i] += 1.0 if a else 0.0
        total[i] += v if a else 0.0


def _add4(
    a: Any, b: Any, c: Any, d: Any, count: Any, total: Any
) -> None:  # pragma: no cover - compiled
    """Four items added in their order (((total + a) + b) + c) + d: one pass."""
    for i in range(a.shape[0]):
        t = total[i]
        n = count[i]
        v = a[i]
        t += v if v == v else 0.0
        n += 1.0 if v == v else 0.0
        v = b[i]
        t += v if v == v else 0.0
        n += 1.0 if v == v else 0.0
        v = c[i]
        t += v if v == v else 0.0
        n += 1.0 if v == v else 0.0
        v = d[i]
        t += v if v == v else 0.0
        n += 1.0 if v == v else 0.0
        total[i] = t
        count[i] = n


def _add_weighted(
    column: Any, w: float, count: Any, total: Any, denominator: Any
) -> None:  # pragma: no cover - compiled
    for i in range(column.shape[0]):
        v = column[i]
        a = v == v
        count[i] += 1.0 if a else 0.0
        total[i] += w * (v if a else 0.0)
        denominator[i] += w * (1.0 if a else 0.0)


def _finish_scale(
    method: int,
    weighted: bool,
    size: int,
    min_answered: int,
    full: float,
    lo: float,
    span: float,
    total: Any,
    denominator: Any,
    count: Any,
    bad: Any,
    score: Any,
    late: Any,
    any_prorated: Any,
    all_scored: Any,
    any_scored: Any,
) -> None:  # pragma: no cover - compiled
    """One scale's scores and proration for a sub-block (the numpy block scorer's rules)."""
    m = score.shape[0]
    for i in range(m):
        score[i] = total[i] / (denominator[i] if weighted else float(count[i]))
    if method == _SUM:
        for i in range(m):
            score[i] = total[i] if count[i] == size else score[i] * full
    elif method == _TCU:
        for i in range(m):
            score[i] = score[i] * 10.0
    elif method == _POMP:
        for i in range(m):
            score[i] = (score[i] - lo) / span * 100.0
    for i in range(m):
        scored = (count[i] >= min_answered) & ~bad[i]
        score[i] = np.rint((score[i] if scored else np.nan) * 1e10) / 1e10
        late[i] = scored & (count[i] < size)
        any_prorated[i] |= late[i]
        all_scored[i] &= scored
        any_scored[i] |= scored


def _fused_block(
    x: Any,
    rows: int,
    codes: Any,
    checked: Any,
    reverse: Any,
    limits: Any,
    missing: Any,
    scale_ptr: Any,
    scale_item: Any,
    scale_weight: Any,
    scale_info: Any,
    scale_full: Any,
    cut_scale: Any,
    cut_cmp: Any,
    cut_value: Any,
    reject: bool,
    row0: int,
    scores: Any,
    n_answered: Any,
    prorated: Any,
    flags: Any,
    flags_known: Any,
    status: Any,
    items_answered: Any,
    n_problems: Any,
    bounds: Any,
) -> None:  # pragma: no cover - compiled; covered through the numba kernel's tests
    """Validate and score ``x[:rows]`` (``rows x items``) into the outputs at ``row0``.

    ``codes[:rows]`` holds the codes of the ``checked`` columns (parsed from text, values
    already validated) and receives the codes of the others. ``limits`` is ``(lo, hi,
    step, grid)`` with grid 0 (none), 1 (whole numbers) or 2 (``step`` with tolerance).
    ``scale_info[k]`` is ``(method, min_answered, n_items, weighted)``. ``bounds`` is
    scratch in its last element; with three elements, the first two are widened to the
    lowest and highest answer (before reverse-keying).
    """
    n_items = x.shape[1]
    n_scales = scale_info.shape[0]
    n_cuts = cut_scale.shape[0]
    n_missing = missing.shape[0]
    lo, hi = limits[0], limits[1]
    pivot = lo + hi
    span = hi - lo
    track = bounds.shape[0] == 3
    values = np.empty((n_items, SUB_ROWS), dtype=np.float64)
    cell = np.empty(SUB_ROWS, dtype=np.int8)
    bad = np.empty(SUB_ROWS, dtype=np.bool_)
    answered = np.empty(SUB_ROWS, dtype=np.float64)
    problems = np.empty(SUB_ROWS, dtype=np.int64)
    total = np.empty(SUB_ROWS, dtype=np.float64)
    denominator = np.empty(SUB_ROWS, dtype=np.float64)
    count = np.empty(SUB_ROWS, dtype=np.float64)
    late = np.empty(SUB_ROWS, dtype=np.bool_)
    any_prorated = np.empty(SUB_ROWS, dtype=np.bool_)
    all_scored = np.empty(SUB_ROWS, dtype=np.bool_)
    any_scored = np.empty(SUB_ROWS, dtype=np.bool_)
    block_scores = np.empty((n_scales, SUB_ROWS), dtype=np.float64)
    seen = 0.0
    low = np.full(SUB_ROWS, np.inf)
    high = np.full(SUB_ROWS, -np.inf)
    for start in range(0, rows, SUB_ROWS):
        m = min(SUB_ROWS, rows - start)
        r0 = row0 + start
        problems[:m] = 0
        answered[:m] = 0.0
        ahead = start + SUB_ROWS
        if ahead < rows:  # start reading the next sub-block's cells from memory
            reach = min(SUB_ROWS, rows - ahead)
            for j in range(n_items):
                if not checked[j]:
                    seen += _touch(x[ahead : ahead + reach, j])
        for j in range(n_items):
            xs = x[start : start + m, j]
            column = values[j, :m]
            given = codes[start : start + m, j]
            if checked[j]:  # parsed from text: values valid or NaN, codes given
                column[:] = xs
                _count_codes(given, problems)
                _tally(column, answered, low, high, pivot, reverse[j], track)
            elif n_missing == 0:  # one loop: validate, count, extent, reverse-key
                if _check(xs, cell, column, answered, low, high, limits, True, reverse[j], track):
                    _store_codes(cell, given, problems)  # rare (the codes start as zeros)
            else:
                found = _check(xs, cell, column, answered, low, high, limits, False, False, False)
                _declared(xs, cell, column, missing)
                if found:
                    _store_codes(cell, given, problems)
                _tally(column, answered, low, high, pivot, reverse[j], track)
        for i in range(m):
            bad[i] = reject and problems[i] != 0
            any_prorated[i] = False
            all_scored[i] = True
            any_scored[i] = False
        for s in range(n_scales):
            weighted = scale_info[s, 3] != 0
            total[:m] = 0.0
            denominator[:m] = 0.0
            count[:m] = 0.0
            # items four at a time, in the scale's order: fewer passes over the sums
            rest = scale_ptr[s]
            while not weighted and rest + 4 <= scale_ptr[s + 1]:
                _add4(
                    values[scale_item[rest], :m],
                    values[scale_item[rest + 1], :m],
                    values[scale_item[rest + 2], :m],
                    values[scale_item[rest + 3], :m],
                    count,
                    total,
                )
                rest += 4
            for p in range(rest, scale_ptr[s + 1]):
                column = values[scale_item[p], :m]
                if weighted:
                    _add_weighted(column, scale_weight[p], count, total, denominator)
                else:
                    _add(column, count, total)
            _finish_scale(
                scale_info[s, 0],
                weighted,
                scale_info[s, 2],
                scale_info[s, 1],
                scale_full[s],
                lo,
                span,
                total,
                denominator,
                count,
                bad,
                block_scores[s, :m],
                late,
                any_prorated,
                all_scored,
                any_scored,
            )
            written = scores[r0 : r0 + m, s]
            for i in range(m):
                _stream(written, i, block_scores[s, i])
            counted = n_answered[r0 : r0 + m, s]
            for i in range(m):
                _stream(counted, i, np.int64(count[i]))
            prorated[r0 : r0 + m, s] = late[:m]
        for i in range(m):
            st = _PRORATED if any_prorated[i] else _COMPLETE
            st = _PARTIAL if not all_scored[i] else st
            st = _INSUFFICIENT if not any_scored[i] else st
            status[r0 + i] = _INVALID if bad[i] else st
        for i in range(m):
            items_answered[r0 + i] = np.int64(answered[i])
        n_problems[r0 : r0 + m] = problems[:m]
        for q in range(n_cuts):
            known = flags_known[r0 : r0 + m, q]
            hit = flags[r0 : r0 + m, q]
            value = cut_value[q]
            op = cut_cmp[q]
            score = block_scores[cut_scale[q], :m]
            for i in range(m):
                v = score[i]
                if op == 0:
                    h = v < value
                elif op == 1:
                    h = v <= value
                elif op == 2:
                    h = v > value
                else:
                    h = v >= value
                known[i] = v == v
                hit[i] = h & (v == v)
    bounds[bounds.shape[0] - 1] = seen  # keeps the reads ahead
    _fence()
    if track:
        for i in range(min(rows, SUB_ROWS)):
            bounds[0] = low[i] if low[i] < bounds[0] else bounds[0]
            bounds[1] = high[i] if high[i] > bounds[1] else bounds[1]


_HELPER: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", numba.NumbaWarning)
    _check = numba.njit(**_HELPER)(_check)
    _declared = numba.njit(**_HELPER)(_declared)
    _store_codes = numba.njit(**_HELPER)(_store_codes)
    _count_codes = numba.njit(**_HELPER)(_count_codes)
    _touch = numba.njit(**_HELPER)(_touch)
    _tally = numba.njit(**_HELPER)(_tally)
    _add = numba.njit(**_HELPER)(_add)
    _add4 = numba.njit(**_HELPER)(_add4)
    _add_weighted = numba.njit(**_HELPER)(_add_weighted)
    _finish_scale = numba.njit(**_HELPER)(_finish_scale)
    fused_block, uses_cache = _compile(_fused_block, _SIGNATURE)
    fused_block_f, _ = _compile(_renamed(_fused_block, "_fused_block_f"), _SIGNATURE_F)
