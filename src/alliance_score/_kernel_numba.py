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
is read from memory once.

The kernel is compiled for one signature when this module is first imported and cached
on disk (``cache=True``): the first import in a fresh environment compiles (a few
seconds, reported by :func:`alliance_score.scoring.kernel_info`), later processes load
the cache. When the package folder is not writable numba uses its
user-wide cache folder; when no cache folder is writable, the kernel is compiled in
memory in each process instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import numba
import numpy as np

__all__ = ["SUB_ROWS", "fused_block", "uses_cache"]

SUB_ROWS = 2048
"""Rows validated and accumulated at a time: the per-scale accumulators stay in cache."""

_TOLERANCE = 1e-6  # parsing._STEP_TOLERANCE
_NOT_ALLOWED, _OUT, _INF = 2, 3, 4  # parsing: codes of an off-grid, out-of-range, inf value
_COMPLETE, _PRORATED, _PARTIAL, _INSUFFICIENT, _INVALID = 0, 1, 2, 3, 4
_MEAN, _SUM, _TCU, _POMP = 0, 1, 2, 3


_SIGNATURE = (
    "void(float64[:, :], int64, int8[:, :], boolean[:], boolean[:], float64[:], float64[:], "
    "int64[:], int64[:], float64[:], int64[:, :], float64[:], int64[:], int64[:], float64[:], "
    "boolean, int64, float64[:, :], int64[:, :], boolean[:, :], boolean[:, :], boolean[:, :], "
    "int8[:], int64[:], int64[:])"
)
"""One signature with any-layout arrays, so a single machine-code version serves every
instrument and block (no recompilation for a new number of items or an array layout)."""


def _compile(function: Any) -> tuple[Any, bool]:
    """``function`` compiled now (or loaded from the on-disk cache), or compiled without a
    cache when no cache folder is writable (numba refuses ``cache=True`` then)."""
    options: dict[str, Any] = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(_SIGNATURE, cache=True, **options)(function), True
    except RuntimeError:  # pragma: no cover - depends on the file system
        return numba.njit(_SIGNATURE, **options)(function), False


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
) -> None:  # pragma: no cover - compiled; covered through the numba kernel's tests
    """Validate and score ``x[:rows]`` (``rows x items``) into the outputs at ``row0``.

    ``codes[:rows]`` holds the codes of the ``checked`` columns (parsed from text, values
    already validated) and receives the codes of the others. ``limits`` is ``(lo, hi,
    step, grid)`` with grid 0 (none), 1 (whole numbers) or 2 (``step`` with tolerance).
    ``scale_info[k]`` is ``(method, min_answered, n_items, weighted)``.
    """
    n_items = x.shape[1]
    n_scales = scale_info.shape[0]
    n_cuts = cut_scale.shape[0]
    lo, hi, step, grid = limits[0], limits[1], limits[2], int(limits[3])
    pivot = lo + hi
    span = hi - lo
    values = np.empty((n_items, SUB_ROWS), dtype=np.float64)
    bad = np.empty(SUB_ROWS, dtype=np.bool_)
    answered = np.empty(SUB_ROWS, dtype=np.int64)
    problems = np.empty(SUB_ROWS, dtype=np.int64)
    total = np.empty(SUB_ROWS, dtype=np.float64)
    denominator = np.empty(SUB_ROWS, dtype=np.float64)
    count = np.empty(SUB_ROWS, dtype=np.int64)
    any_prorated = np.empty(SUB_ROWS, dtype=np.bool_)
    all_scored = np.empty(SUB_ROWS, dtype=np.bool_)
    any_scored = np.empty(SUB_ROWS, dtype=np.bool_)
    block_scores = np.empty((n_scales, SUB_ROWS), dtype=np.float64)
    for start in range(0, rows, SUB_ROWS):
        m = min(SUB_ROWS, rows - start)
        bad[:m] = False
        answered[:m] = 0
        problems[:m] = 0
        for j in range(n_items):
            pre = checked[j]
            flip = reverse[j]
            for i in range(m):
                r = start + i
                v = x[r, j]
                if pre:
                    c = codes[r, j]
                else:
                    c = 0
                    if grid == 1:
                        if np.rint(v) != v and not np.isnan(v):
                            c = _NOT_ALLOWED
                    elif grid == 2:
                        k = (v - lo) / step
                        if np.abs(k - np.rint(k)) > _TOLERANCE:
                            c = _NOT_ALLOWED
                    if v < lo or v > hi:
                        c = _OUT
                    if np.isinf(v):
                        c = _INF
                    declared = False
                    for mv in missing:
                        if v == mv:
                            declared = True
                    if declared:
                        c = 0
                        v = np.nan
                    elif c != 0:
                        v = np.nan
                        codes[r, j] = c
                if c != 0:
                    problems[i] += 1
                    bad[i] = True
                if not np.isnan(v):
                    answered[i] += 1
                if flip:
                    v = pivot - v
                values[j, i] = v
        for i in range(m):
            any_prorated[i] = False
            all_scored[i] = True
            any_scored[i] = False
            if not reject:
                bad[i] = False
        for s in range(n_scales):
            method = scale_info[s, 0]
            min_answered = scale_info[s, 1]
            size = scale_info[s, 2]
            weighted = scale_info[s, 3] != 0
            total[:m] = 0.0
            denominator[:m] = 0.0
            count[:m] = 0
            for p in range(scale_ptr[s], scale_ptr[s + 1]):
                j = scale_item[p]
                w = scale_weight[p]
                for i in range(m):
                    v = values[j, i]
                    a = not np.isnan(v)
                    filled = v if a else 0.0
                    if a:
                        count[i] += 1
                    if weighted:
                        total[i] += w * filled
                        denominator[i] += w * (1.0 if a else 0.0)
                    else:
                        total[i] += filled
            full = scale_full[s]
            for i in range(m):
                r = row0 + start + i
                d = denominator[i] if weighted else float(count[i])
                mean = total[i] / d
                if method == _MEAN:
                    score = mean
                elif method == _SUM:
                    score = total[i] if count[i] == size else mean * full
                elif method == _TCU:
                    score = mean * 10.0
                else:
                    score = (mean - lo) / span * 100.0
                scored = count[i] >= min_answered and not bad[i]
                if not scored:
                    score = np.nan
                score = np.rint(score * 1e10) / 1e10
                late = scored and count[i] < size
                any_prorated[i] = any_prorated[i] or late
                all_scored[i] = all_scored[i] and scored
                any_scored[i] = any_scored[i] or scored
                block_scores[s, i] = score
                scores[r, s] = score
                n_answered[r, s] = count[i]
                prorated[r, s] = late
        for i in range(m):
            r = row0 + start + i
            st = _PRORATED if any_prorated[i] else _COMPLETE
            if not all_scored[i]:
                st = _PARTIAL
            if not any_scored[i]:
                st = _INSUFFICIENT
            if bad[i]:
                st = _INVALID
            status[r] = st
            items_answered[r] = answered[i]
            n_problems[r] = problems[i]
            for q in range(n_cuts):
                score = block_scores[cut_scale[q], i]
                known = not np.isnan(score)
                value = cut_value[q]
                op = cut_cmp[q]
                if op == 0:
                    hit = score < value
                elif op == 1:
                    hit = score <= value
                elif op == 2:
                    hit = score > value
                else:
                    hit = score >= value
                flags[r, q] = hit and known
                flags_known[r, q] = known


with warnings.catch_warnings():
    warnings.simplefilter("ignore", numba.NumbaWarning)
    fused_block, uses_cache = _compile(_fused_block)
