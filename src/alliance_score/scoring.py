"""The scoring kernel: a float matrix and an instrument in, scale scores out.

Pure numpy, no pandas and no Python loop over rows: every batch front door (a
DataFrame, a file, a Dask partition) parses its input into a ``rows x items`` float
matrix (NaN = missing) and calls :func:`score_matrix` or :func:`score_columns`. Each row
is scored on its own, so results never depend on row order or on how rows are split into
chunks. The rules below are executed in three forms, each performing the same
floating-point operations in the same order: numpy on row blocks, the optional compiled
kernel (``_kernel_numba.py``), and :func:`score_row` on the plain floats of one response
(where a hundred numpy calls on one-element arrays would cost ten times the scoring).
Property tests over generated instruments hold the three to bit-identical results.

Scoring semantics
-----------------
* A reverse-keyed item is recoded ``min + max - x``.
* A scale is scored when at least ``min_answered`` of its items are answered; otherwise
  its score is NaN.
* ``mean``: mean of the answered items. ``sum``: the sum when every item is answered,
  otherwise the prorated sum (mean x number of items). ``tcu``: mean x 10 (the TCU
  forms' rule). ``pomp``: percent of maximum possible, ``(mean - min) / (max - min) x 100``
  (Thom's 0-100 transform of a trust total is the same formula).
* Weighted items: when a scale gives ``weights`` (default 1 per item), "the mean" above
  is the weighted mean over the answered items ``A``, ``sum(w_i x_i, i in A) /
  sum(w_i, i in A)``; a complete ``sum`` is ``sum(w_i x_i)`` and a prorated one is the
  weighted mean x ``sum(w_i)`` over all the scale's items. With every weight 1 these are
  the unweighted formulas.
* A scale score is *prorated* when it was computed with at least one of its items
  missing (whatever the method).
* Scores are rounded to 10 decimal places, so that sums of values recorded to 0.1 land
  exactly on cut-off boundaries (``8.9 + 9.0 + 9.1 + 9.0`` is ``36``, not
  ``35.99999999999999``).
* Row status: ``invalid`` (a value broke a rule and invalid rows are rejected),
  ``insufficient`` (no scale scored), ``partial`` (some scale not scored), ``prorated``
  (every scale scored, some with missing items), ``complete``.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from .errors import ProvisionalScaleError
from .instrument import Cutoff, Instrument, Scale

if TYPE_CHECKING:
    from .parsing import CellRules

__all__ = [
    "KERNEL_ENV",
    "KernelResult",
    "RowResult",
    "Status",
    "kernel_info",
    "score_columns",
    "score_matrix",
    "score_row",
    "select_scales",
]

SCORE_DECIMALS: Final = 10


class Status(StrEnum):
    """Status of one scored row (one administration)."""

    COMPLETE = "complete"
    PRORATED = "prorated"
    PARTIAL = "partial"
    INSUFFICIENT = "insufficient"
    INVALID = "invalid"


STATUS_ORDER: Final[tuple[Status, ...]] = tuple(Status)
_COMPLETE, _PRORATED, _PARTIAL, _INSUFFICIENT, _INVALID = range(5)


@dataclass(frozen=True, eq=False)
class KernelResult:
    """Arrays produced by :func:`score_matrix`; row ``i`` belongs to input row ``i``."""

    scales: tuple[Scale, ...]
    cutoffs: tuple[Cutoff, ...]
    scores: NDArray[np.float64]
    """``(n_rows, n_scales)`` scale scores, NaN where a scale is not scored."""
    n_answered: NDArray[np.int64]
    """``(n_rows, n_scales)`` answered items per scale."""
    prorated: NDArray[np.bool_]
    """``(n_rows, n_scales)`` scored with at least one item missing."""
    flags: NDArray[np.bool_]
    """``(n_rows, n_cutoffs)`` cut-off fired; meaningful only where ``flags_known``."""
    flags_known: NDArray[np.bool_]
    """``(n_rows, n_cutoffs)`` False where the scale score is NaN."""
    status: NDArray[np.int8]
    """``(n_rows,)`` index into :data:`STATUS_ORDER`."""
    items_answered: NDArray[np.int64]
    """``(n_rows,)`` answered items over the whole instrument."""

    @classmethod
    def empty(cls, n: int, scales: tuple[Scale, ...], cutoffs: tuple[Cutoff, ...]) -> KernelResult:
        """Uninitialised column-major arrays for ``n`` rows, to be filled by a kernel."""
        return cls(
            scales=scales,
            cutoffs=cutoffs,
            scores=np.empty((n, len(scales)), dtype=np.float64, order="F"),
            n_answered=np.empty((n, len(scales)), dtype=np.int64, order="F"),
            prorated=np.empty((n, len(scales)), dtype=bool, order="F"),
            flags=np.empty((n, len(cutoffs)), dtype=bool, order="F"),
            flags_known=np.empty((n, len(cutoffs)), dtype=bool, order="F"),
            status=np.empty(n, dtype=np.int8),
            items_answered=np.empty(n, dtype=np.int64),
        )

    @classmethod
    def concat(cls, parts: Sequence[KernelResult]) -> KernelResult:
        """Stack the results of consecutive row blocks scored with the same scales.

        Two-dimensional arrays stay column-major, so each output column is contiguous.
        """

        def stack(arrays: list[NDArray[Any]]) -> NDArray[Any]:
            return np.concatenate([a.T for a in arrays], axis=1).T

        first = parts[0]
        return cls(
            scales=first.scales,
            cutoffs=first.cutoffs,
            scores=stack([p.scores for p in parts]),
            n_answered=stack([p.n_answered for p in parts]),
            prorated=stack([p.prorated for p in parts]),
            flags=stack([p.flags for p in parts]),
            flags_known=stack([p.flags_known for p in parts]),
            status=np.concatenate([p.status for p in parts]),
            items_answered=np.concatenate([p.items_answered for p in parts]),
        )


def provisional_ids(scales: Sequence[Scale], cutoffs: Sequence[Cutoff]) -> tuple[str, ...]:
    """The provisional scales and cut-off flags among those chosen, in output order: what
    every output lists as provisional."""
    return tuple(
        [s.id for s in scales if s.status == "provisional"]
        + [c.flag for c in cutoffs if c.status == "provisional"]
    )


def select_scales(
    instrument: Instrument,
    scales: Sequence[str] | None = None,
    *,
    allow_provisional: bool = False,
) -> tuple[tuple[Scale, ...], tuple[Cutoff, ...]]:
    """The scales and cut-offs to score.

    With ``scales=None`` every verified scale is scored, and the provisional ones too
    when ``allow_provisional`` is true. Naming a provisional scale explicitly without
    ``allow_provisional`` raises :class:`ProvisionalScaleError`, as does an instrument
    with no verified scale at all. A cut-off is evaluated when its scale is scored and it
    is verified (or provisional ones are allowed). A single id given as text
    (``scales="total"``) is that one scale, not its letters.
    """
    if isinstance(scales, str):
        scales = (scales,)
    if scales is None:
        chosen = [s for s in instrument.scales if allow_provisional or s.status == "verified"]
        if not chosen:
            raise ProvisionalScaleError(
                f"Every scale of {instrument.ref} is provisional (its key is not confirmed "
                f"at P or S2); pass allow_provisional=True (--allow-provisional) to score "
                f"{', '.join(instrument.scale_ids)} and have them marked provisional."
            )
    else:
        chosen = [instrument.scale(s) for s in dict.fromkeys(scales)]
        refused = [s.id for s in chosen if s.status == "provisional" and not allow_provisional]
        if refused:
            raise ProvisionalScaleError(
                f"Scale(s) {', '.join(refused)} of {instrument.ref} are provisional; pass "
                "allow_provisional=True (--allow-provisional) to score them."
            )
    ids = {s.id for s in chosen}
    cutoffs = tuple(
        c
        for c in instrument.cutoffs
        if c.scale in ids and (allow_provisional or c.status == "verified")
    )
    return tuple(chosen), cutoffs


def score_matrix(
    matrix: NDArray[np.float64],
    instrument: Instrument,
    *,
    scales: Sequence[Scale] | None = None,
    cutoffs: Sequence[Cutoff] | None = None,
    invalid: NDArray[np.bool_] | None = None,
) -> KernelResult:
    """Score a ``rows x items`` matrix of raw answers (columns in ``instrument.items`` order).

    ``matrix`` holds valid raw answers or NaN for missing; it is not modified. Rows where
    ``invalid`` is true get status ``invalid`` and no scores. ``scales`` and ``cutoffs``
    default to every scale and cut-off of the instrument (gate provisional ones with
    :func:`select_scales` first).

    Examples
    --------
    >>> import numpy as np
    >>> from alliance_score import load_instrument
    >>> from alliance_score.scoring import score_matrix
    >>> wai_s = load_instrument("wai-s")
    >>> x = np.full((1, 12), 5.0)
    >>> x[0, 3] = 1.0        # item 4 is reverse-keyed: 1 counts as 7
    >>> x[0, 9] = 3.0        # item 10 is reverse-keyed: 3 counts as 5
    >>> r = score_matrix(x, wai_s)
    >>> [s.id for s in r.scales], r.scores[0].round(4).tolist()
    (['task', 'goal', 'bond', 'total'], [5.0, 5.5, 5.0, 5.1667])
    """
    x = np.asarray(matrix, dtype=np.float64)
    n_items = len(instrument.items)
    if x.ndim != 2 or x.shape[1] != n_items:
        raise ValueError(
            f"matrix must have shape (n_rows, {n_items}) for {instrument.ref}; got {x.shape}"
        )
    chosen = tuple(instrument.scales if scales is None else scales)
    chosen_cutoffs = tuple(instrument.cutoffs if cutoffs is None else cutoffs)
    n = x.shape[0]
    plan = _Plan(instrument, chosen, chosen_cutoffs)
    out = KernelResult.empty(n, chosen, chosen_cutoffs)
    bad = np.zeros(n, dtype=bool) if invalid is None else np.asarray(invalid, dtype=bool)
    work = _Workspace(min(n, BLOCK_ROWS), n_items, len(chosen))
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        block = work.block(stop - start)
        np.copyto(block.x, x[start:stop])
        np.isnan(block.x, out=block.missing)
        plan.score_block(block, bad[start:stop], out, slice(start, stop))
    return out


BLOCK_ROWS: Final = 1 << 14
"""Rows scored at a time by the numpy kernel: its block-sized temporaries stay in the
processor's cache, and the fixed cost of each numpy call is spread over enough rows."""


@dataclass(frozen=True)
class _Block:
    """Block-sized views of a :class:`_Workspace`, all column-major."""

    x: NDArray[np.float64]
    """``rows x items``: answers, NaN where missing (reverse-keyed, then zeroed where
    missing, by :meth:`_Plan.score_block`)."""
    work: NDArray[np.float64]
    """``rows x items`` scratch."""
    pair: NDArray[np.float64]
    """``rows x 2`` scratch."""
    missing: NDArray[np.bool_]
    """``rows x items``: the cell is not an answer (missing or invalid)."""
    spare: NDArray[np.bool_]
    """``rows x items`` scratch."""
    answered: NDArray[np.float64]
    """``rows x items``: 1.0 where the cell is an answer, else 0.0."""
    total: NDArray[np.float64]
    """``rows x scales``: the scales' (weighted) sums."""
    score: NDArray[np.float64]
    """``rows x scales``: the scores."""
    count: NDArray[np.float64]
    """``rows x scales``: answered items per scale."""
    scored: NDArray[np.bool_]
    """``rows x scales``: the scale is scored."""
    late: NDArray[np.bool_]
    """``rows x scales``: the scale is prorated."""
    valid: NDArray[np.bool_]
    """``rows x items``: the cell passes the number rules (validation scratch)."""
    flag: NDArray[np.bool_]
    """``rows`` scratch."""
    status: NDArray[np.int8]
    """``rows``: the status code."""
    items_answered: NDArray[np.float64]
    """``rows``: answered items."""


class _Workspace:
    """The numpy kernel's arrays, allocated once per call and reused by every block."""

    def __init__(self, rows: int, n_items: int, n_scales: int) -> None:
        rows = max(rows, 1)

        def new(dtype: type[Any], width: int | None = None) -> NDArray[Any]:
            shape = (rows,) if width is None else (rows, width)
            return np.empty(shape, dtype=dtype, order="F")

        self.whole = _Block(
            x=new(np.float64, n_items),
            work=new(np.float64, n_items),
            pair=new(np.float64, 2),
            missing=new(np.bool_, n_items),
            spare=new(np.bool_, n_items),
            answered=new(np.float64, n_items),
            total=new(np.float64, n_scales),
            score=new(np.float64, n_scales),
            count=new(np.float64, n_scales),
            scored=new(np.bool_, n_scales),
            late=new(np.bool_, n_scales),
            valid=new(np.bool_, n_items),
            flag=new(np.bool_),
            status=new(np.int8),
            items_answered=new(np.float64),
        )

    def block(self, rows: int) -> _Block:
        """Views of the first ``rows`` rows of every array (the last block is shorter)."""
        w = self.whole
        if rows == len(w.x):
            return w
        return _Block(**{f.name: getattr(w, f.name)[:rows] for f in fields(w)})


class _Plan:
    """What the kernel needs per scale, worked out once per call."""

    def __init__(
        self, instrument: Instrument, scales: tuple[Scale, ...], cutoffs: tuple[Cutoff, ...]
    ) -> None:
        self.lo, self.hi = instrument.response.min, instrument.response.max
        self.reversed = [j for j, item in enumerate(instrument.items) if item.reverse]
        position = {item.id: j for j, item in enumerate(instrument.items)}
        self.scales = scales
        self.columns = [[position[i] for i in s.items] for s in scales]
        self.weights: list[list[float] | None] = [
            [s.weight(i) for i in s.items] if s.weights else None for s in scales
        ]
        self.full = [
            float(len(c)) if w is None else float(sum(w))
            for c, w in zip(self.columns, self.weights, strict=True)
        ]
        """Per scale: the number of items, or the sum of the weights of a weighted scale."""
        self.sizes = np.array([len(c) for c in self.columns], dtype=np.float64)
        self.min_answered = np.array([s.min_answered for s in scales], dtype=np.float64)
        index = {s.id: k for k, s in enumerate(scales)}
        self.cutoffs = [(index[c.scale], _COMPARE[c.comparison], c.value) for c in cutoffs]

    def score_block(
        self, b: _Block, bad: NDArray[np.bool_], out: KernelResult, rows: slice
    ) -> None:
        """Score one block into ``out[rows]``.

        ``b.x`` holds answers or NaN and ``b.missing`` marks its NaN cells; ``b.x`` is
        overwritten. Each scale's items are added one column at a time in the scale's
        order, starting from 0.0 (the order that defines a score, whatever the kernel).
        """
        x, answered, total, count, score = b.x, b.answered, b.total, b.count, b.score
        for j in self.reversed:
            np.subtract(self.lo + self.hi, x[:, j], out=x[:, j])
        np.copyto(x, 0.0, where=b.missing)
        np.logical_not(b.missing, out=b.spare)
        np.copyto(answered, b.spare)
        np.add.reduce(answered, axis=1, out=b.items_answered)
        with np.errstate(invalid="ignore", divide="ignore"):
            for k, (columns, weights) in enumerate(zip(self.columns, self.weights, strict=True)):
                t, c, s = total[:, k], count[:, k], score[:, k]
                np.add(answered[:, columns[0]], 0.0, out=c)
                for j in columns[1:]:
                    np.add(c, answered[:, j], out=c)
                if weights is None:
                    np.add(x[:, columns[0]], 0.0, out=t)  # 0.0 + x: never -0.0
                    for j in columns[1:]:
                        np.add(t, x[:, j], out=t)
                    np.divide(t, c, out=s)  # the mean
                else:
                    d, w = b.pair[:, 0], b.pair[:, 1]
                    t.fill(0.0)
                    d.fill(0.0)
                    for m, j in enumerate(columns):
                        np.multiply(x[:, j], weights[m], out=w)
                        np.add(t, w, out=t)
                        np.multiply(answered[:, j], weights[m], out=w)
                        np.add(d, w, out=d)
                    np.divide(t, d, out=s)  # the weighted mean
                method = self.scales[k].method
                if method == "sum":  # complete: the sum; else prorated: mean x items
                    np.multiply(s, self.full[k], out=s)
                    np.copyto(s, t, where=c == len(columns))
                elif method == "tcu":
                    np.multiply(s, 10.0, out=s)
                elif method == "pomp":
                    np.subtract(s, self.lo, out=s)
                    np.divide(s, self.hi - self.lo, out=s)
                    np.multiply(s, 100.0, out=s)
            scored, late = b.scored, b.late
            np.greater_equal(count, self.min_answered, out=scored)
            np.logical_not(bad, out=b.flag)
            np.logical_and(scored, b.flag[:, None], out=scored)
            np.logical_not(scored, out=late)
            np.copyto(score, np.nan, where=late)
            # np.round(score, SCORE_DECIMALS), written out so that it works in place
            np.multiply(score, _SCALE, out=score)
            np.rint(score, out=score)
            np.divide(score, _SCALE, out=score)
            np.less(count, self.sizes, out=late)
            np.logical_and(late, scored, out=late)
        out.scores[rows] = score
        out.n_answered[rows] = count
        out.prorated[rows] = late
        status, flag = b.status, b.flag
        np.logical_or.reduce(late, axis=1, out=flag)
        np.copyto(status, flag, casting="unsafe")  # prorated (1) or complete (0)
        np.logical_and.reduce(scored, axis=1, out=flag)
        np.copyto(status, _PARTIAL, where=~flag)
        np.logical_or.reduce(scored, axis=1, out=flag)
        np.copyto(status, _INSUFFICIENT, where=~flag)
        np.copyto(status, _INVALID, where=bad)
        out.status[rows] = status
        out.items_answered[rows] = b.items_answered
        for k, (scale_index, compare, value) in enumerate(self.cutoffs):
            known = out.flags_known[rows, k]
            with np.errstate(invalid="ignore"):
                compare(score[:, scale_index], value, out=out.flags[rows, k])  # NaN: False
            np.isnan(score[:, scale_index], out=known)
            np.logical_not(known, out=known)


_SCALE: Final = 10.0**SCORE_DECIMALS


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


# --------------------------------------------------------------------------------------
# The fused kernel: validation and scoring in one pass over each row block
# --------------------------------------------------------------------------------------

KernelName = Literal["auto", "numba", "numpy"]
KERNEL_ENV: Final = "ALLIANCE_SCORE_KERNEL"
"""Environment variable choosing the kernel of :func:`score_columns`: ``auto`` (default:
the compiled kernel when numba is installed and the batch is large), ``numba`` (always the
compiled kernel; an error when numba is missing) or ``numpy``."""
NUMBA_MIN_ROWS: Final = 1_000_000
"""Under ``auto``, smaller batches use the numpy path: importing numba and loading its
cached kernel (about 0.5 s once per process) costs more than it saves on them, so the
command line, which scores a file in chunks, keeps to numpy unless asked (results are
identical either way)."""
FUSED_BLOCK_ROWS: Final = 1 << 15
"""Rows gathered into one column-major buffer and handed to the kernel at a time."""
_METHODS: Final = {"mean": 0, "sum": 1, "tcu": 2, "pomp": 3}
_COMPARISONS: Final = {"<": 0, "<=": 1, ">": 2, ">=": 3}
_KERNEL_STATE: dict[str, Any] = {}


def _requested_kernel(kernel: str | None) -> KernelName:
    name = (kernel or os.environ.get(KERNEL_ENV) or "auto").strip().lower()
    if name not in ("auto", "numba", "numpy"):
        raise ValueError(f"{KERNEL_ENV} must be 'auto', 'numba' or 'numpy'; got {name!r}")
    return name  # type: ignore[return-value]


def _numba_kernel(required: bool) -> Any:
    """The compiled kernel module, or None when numba is not installed (and not required)."""
    if "module" in _KERNEL_STATE:
        return _KERNEL_STATE["module"]
    began = time.perf_counter()
    module: Any
    try:
        from . import _kernel_numba as module
    except ImportError as exc:
        if required:
            from .errors import MissingDependencyError

            raise MissingDependencyError(
                f"The compiled kernel ({KERNEL_ENV}=numba)", "numba", "fast"
            ) from exc
        module = None
    else:
        # importing compiles the kernel, or loads it from the on-disk cache
        _KERNEL_STATE["load_seconds"] = round(time.perf_counter() - began, 3)
    _KERNEL_STATE["module"] = module
    return module


def batch_kernel(rows: int, kernel: str | None = None) -> KernelName:
    """The kernel (``numba`` or ``numpy``) that scores a batch of ``rows`` rows: what
    :func:`score_columns` uses for the rows it is given, and what a caller that hands it
    a batch a block at a time passes for every block, so that ``auto`` decides on the
    whole batch.

    >>> batch_kernel(10, "auto")
    'numpy'
    """
    name = _requested_kernel(kernel)
    if name != "auto":
        return name
    if rows >= NUMBA_MIN_ROWS and _numba_kernel(required=False) is not None:
        return "numba"
    return "numpy"


def kernel_info() -> dict[str, Any]:
    """How batches are scored in this process, for run reports.

    ``kernel`` is the kernel that scored the last batch (``numba`` or ``numpy``),
    ``requested`` the :data:`KERNEL_ENV` setting. Once the compiled kernel is loaded,
    ``load_seconds`` is what loading it cost this process (importing numba, then
    compiling the kernel, or loading it from the on-disk cache), ``compiled`` whether it
    had to be compiled (no usable cache entry), and ``cache_dir`` the cache folder
    (``None`` when no folder was writable and the kernel lives in memory only).

    >>> sorted(kernel_info())
    ['cache_dir', 'compiled', 'kernel', 'load_seconds', 'requested']
    """
    module = _KERNEL_STATE.get("module")
    info: dict[str, Any] = {
        "kernel": _KERNEL_STATE.get("last", "numpy"),
        "requested": _requested_kernel(None),
        "load_seconds": _KERNEL_STATE.get("load_seconds"),
        "compiled": None,
        "cache_dir": None,
    }
    if module is not None:
        dispatcher = module.fused_block
        cache = getattr(dispatcher, "_cache", None)
        folder = getattr(cache, "_cache_path", None)
        info["cache_dir"] = str(folder) if folder and module.uses_cache else None
        info["compiled"] = not sum(dispatcher.stats.cache_hits.values())
    return info


def score_columns(
    columns: Sequence[NDArray[Any]],
    instrument: Instrument,
    rules: CellRules,
    *,
    codes: NDArray[np.int8],
    checked: Sequence[bool],
    scales: Sequence[Scale] | None = None,
    cutoffs: Sequence[Cutoff] | None = None,
    reject: bool = True,
    out: KernelResult | None = None,
    n_problems: NDArray[np.int64] | None = None,
    offset: int = 0,
    kernel: str | None = None,
    answers: NDArray[np.float64] | None = None,
) -> tuple[KernelResult, NDArray[np.int64]]:
    """Validate and score item columns in one pass over each block of rows.

    ``columns[j]`` holds item ``j``'s cells (``instrument.items`` order) as numbers of
    any real dtype, NaN = missing. A column whose ``checked[j]`` is true was parsed from
    text already: its values are valid or NaN and its cell codes are in ``codes[:, j]``;
    the other columns are validated here with ``rules`` (range, grid, finiteness,
    declared missing codes; see :meth:`CellRules.check_numbers
    <alliance_score.parsing.CellRules.check_numbers>`), their codes written to ``codes``
    (which must hold zeros there). With ``reject`` a row with a problem cell gets status
    ``invalid`` and no scores; otherwise invalid cells count as missing.

    Results go to ``out`` and ``n_problems`` (problem cells per row) from row
    ``offset`` when given, else to new arrays. ``kernel`` (default: the
    :data:`KERNEL_ENV` environment variable, else ``auto``) chooses the compiled or the
    numpy kernel; both give identical results. ``answers``, when given, is a float64
    array ``[lowest, highest]`` that is widened in place to the lowest and highest
    valid answer seen (as recorded, before reverse-keying; start it at ``[inf, -inf]``).

    Examples
    --------
    >>> import numpy as np
    >>> from alliance_score import load_instrument
    >>> from alliance_score.parsing import CellRules
    >>> srs = load_instrument("srs")
    >>> cells = [np.array([9.1, 12.0]), np.array([8.9, 5.0]), np.array([9.0, 5.0]),
    ...          np.array([9.0, np.nan])]
    >>> codes = np.zeros((2, 4), dtype=np.int8, order="F")
    >>> result, problems = score_columns(
    ...     cells, srs, CellRules.build(srs), codes=codes, checked=[False] * 4
    ... )
    >>> result.scores[:, -1].tolist(), problems.tolist(), codes[1].tolist()
    ([36.0, nan], [0, 1], [3, 0, 0, 0])
    """
    chosen = tuple(instrument.scales if scales is None else scales)
    chosen_cutoffs = tuple(instrument.cutoffs if cutoffs is None else cutoffs)
    n_items = len(instrument.items)
    if len(columns) != n_items or len(checked) != n_items:
        raise ValueError(f"expected {n_items} columns for {instrument.ref}; got {len(columns)}")
    n = len(columns[0]) if columns else 0
    if out is None:
        out = KernelResult.empty(n, chosen, chosen_cutoffs)
        offset = 0
    if n_problems is None:
        n_problems = np.empty(len(out.status), dtype=np.int64)
    module = _numba_kernel(required=True) if batch_kernel(n, kernel) == "numba" else None
    if module is not None:
        _score_numba(
            module,
            columns,
            instrument,
            rules,
            codes,
            checked,
            chosen,
            chosen_cutoffs,
            reject,
            out,
            n_problems,
            offset,
            answers,
        )
        _KERNEL_STATE["last"] = "numba"
    else:
        _score_numpy(
            columns,
            instrument,
            rules,
            codes,
            checked,
            chosen,
            chosen_cutoffs,
            reject,
            out,
            n_problems,
            offset,
            answers,
        )
        _KERNEL_STATE["last"] = "numpy"
    return out, n_problems


def _blocks(n: int, columns: Sequence[NDArray[Any]]) -> Any:
    """``(start, stop, buffer)`` per block: the block's cells gathered into a
    column-major (Fortran-contiguous) float64 buffer, reused from block to block."""
    whole = np.empty((min(n, FUSED_BLOCK_ROWS), len(columns)), dtype=np.float64, order="F")
    for start in range(0, n, FUSED_BLOCK_ROWS):
        stop = min(n, start + FUSED_BLOCK_ROWS)
        buffer = whole[: stop - start]
        for j, column in enumerate(columns):
            buffer[:, j] = column[start:stop]
        yield start, stop, buffer


def _score_numpy(
    columns: Sequence[NDArray[Any]],
    instrument: Instrument,
    rules: CellRules,
    codes: NDArray[np.int8],
    checked: Sequence[bool],
    scales: tuple[Scale, ...],
    cutoffs: tuple[Cutoff, ...],
    reject: bool,
    out: KernelResult,
    n_problems: NDArray[np.int64],
    offset: int,
    answers: NDArray[np.float64] | None,
) -> None:
    """Validate each block of rows with a few whole-block passes (the rules of
    :meth:`CellRules.check_numbers`), falling back to per-cell codes only for a block
    that holds a problem cell, then score it."""
    plan = _Plan(instrument, scales, cutoffs)
    n = len(columns[0]) if columns else 0
    work = _Workspace(min(n, BLOCK_ROWS), len(columns), len(scales))
    declared = sorted(rules.missing_numbers)
    always_good = np.zeros(len(work.whole.flag), dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        b = work.block(stop - start)
        x, missing, valid, hit = b.x, b.missing, b.valid, b.spare
        for j, column in enumerate(columns):
            x[:, j] = column[start:stop]
        block_codes = codes[start:stop]
        rules.mark_answers(x, valid, b.work)
        np.isnan(x, out=missing)
        fine = np.count_nonzero(missing)
        if declared:  # declared missing codes are fine cells with no value
            np.equal(x, declared[0], out=hit)
            for value in declared[1:]:
                hit |= x == value
            np.greater(valid, hit, out=valid)  # an answer unless declared
            fine += np.count_nonzero(hit)
            np.copyto(x, np.nan, where=hit)
            missing |= hit
        clean = fine + np.count_nonzero(valid) == x.size
        if not clean:  # some cell breaks a rule: the codes of each cell
            for j, pre in enumerate(checked):
                if not pre:
                    x[:, j], block_codes[:, j] = rules.check_numbers(
                        np.asarray(columns[j][start:stop], dtype=np.float64)
                    )
            np.isnan(x, out=missing)
        if answers is not None:
            _extend_range(answers, x)
        rows = slice(offset + start, offset + stop)
        if clean and all(not pre for pre in checked):
            n_problems[rows] = 0
            bad = always_good[: stop - start]
        else:
            problem = block_codes != 0
            n_problems[rows] = np.count_nonzero(problem, axis=1)
            bad = problem.any(axis=1) if reject else always_good[: stop - start]
        plan.score_block(b, bad, out, rows)


def _extend_range(answers: NDArray[np.float64], x: NDArray[np.float64]) -> None:
    """Widen ``answers`` (lowest, highest) to the answers in ``x`` (NaN: no answer)."""
    lo = np.fmin.reduce(x, axis=None)
    if lo == lo:  # some answer
        answers[0] = min(answers[0], lo)
        answers[1] = max(answers[1], np.fmax.reduce(x, axis=None))


def _score_numba(
    module: Any,
    columns: Sequence[NDArray[Any]],
    instrument: Instrument,
    rules: CellRules,
    codes: NDArray[np.int8],
    checked: Sequence[bool],
    scales: tuple[Scale, ...],
    cutoffs: tuple[Cutoff, ...],
    reject: bool,
    out: KernelResult,
    n_problems: NDArray[np.int64],
    offset: int,
    answers: NDArray[np.float64] | None,
) -> None:
    position = {item.id: j for j, item in enumerate(instrument.items)}
    pointer, members, weights, info, full = [0], [], [], [], []
    for s in scales:
        members += [position[i] for i in s.items]
        weights += [s.weight(i) for i in s.items] if s.weights else [1.0] * len(s.items)
        pointer.append(len(members))
        info.append((_METHODS[s.method], s.min_answered, len(s.items), int(bool(s.weights))))
        full.append(float(sum(s.weight(i) for i in s.items)) if s.weights else float(len(s.items)))
    index = {s.id: k for k, s in enumerate(scales)}
    step = rules.step
    if step is None:
        grid = 0
    elif step == 1 and float(rules.lo).is_integer():
        grid = 1
    else:
        grid = 2
    arguments = (
        np.array(checked, dtype=np.bool_),
        np.array([item.reverse for item in instrument.items], dtype=np.bool_),
        np.array([rules.lo, rules.hi, step or 1.0, grid], dtype=np.float64),
        np.array(sorted(rules.missing_numbers), dtype=np.float64),
        np.array(pointer, dtype=np.int64),
        np.array(members, dtype=np.int64),
        np.array(weights, dtype=np.float64),
        np.array(info, dtype=np.int64).reshape(len(scales), 4),
        np.array(full, dtype=np.float64),
        np.array([index[c.scale] for c in cutoffs], dtype=np.int64),
        np.array([_COMPARISONS[c.comparison] for c in cutoffs], dtype=np.int64),
        np.array([c.value for c in cutoffs], dtype=np.float64),
        bool(reject),
    )
    # the lowest and highest answer, and a scratch element (one element: not tracked)
    extent = np.array([np.inf, -np.inf, 0.0]) if answers is not None else np.zeros(1)
    outputs = (
        out.scores,
        out.n_answered,
        out.prorated,
        out.flags,
        out.flags_known,
        out.status,
        out.items_answered,
        n_problems,
        extent,
    )
    n = len(columns[0]) if columns else 0
    whole = _strided_matrix(columns)
    if whole is not None:  # one call, no copy: the kernel reads the columns where they are
        _kernel_for(module, whole)(whole, n, codes, *arguments, offset, *outputs)
    else:
        for start, stop, x in _blocks(n, columns):
            _kernel_for(module, x)(
                x, stop - start, codes[start:stop], *arguments, offset + start, *outputs
            )
    if answers is not None:
        answers[0] = min(answers[0], extent[0])
        answers[1] = max(answers[1], extent[1])


def _kernel_for(module: Any, x: NDArray[np.float64]) -> Any:
    """The compiled version for ``x``'s layout: column-major (numba types an array that is
    both C- and F-contiguous, one column or one row, as C), or any other."""
    column_major = x.flags.f_contiguous and not x.flags.c_contiguous
    return module.fused_block_f if column_major else module.fused_block


def _strided_matrix(columns: Sequence[NDArray[Any]]) -> NDArray[np.float64] | None:
    """The columns as one ``rows x items`` view when they are float64 columns of one
    two-dimensional array, equally spaced (a DataFrame built from a 2-D array, or a
    slice of one); None otherwise (then they are copied block by block)."""
    first = columns[0]
    if not all(
        isinstance(c, np.ndarray) and c.dtype == np.float64 and c.ndim == 1 for c in columns
    ) or any(c.strides != first.strides or len(c) != len(first) for c in columns):
        return None
    addresses = [c.__array_interface__["data"][0] for c in columns]
    gap = addresses[1] - addresses[0] if len(columns) > 1 else 8
    if any(b - a != gap for a, b in itertools.pairwise(addresses)):
        return None
    return np.lib.stride_tricks.as_strided(
        first, shape=(len(first), len(columns)), strides=(first.strides[0], gap)
    )


# --------------------------------------------------------------------------------------
# One row: the same rules on plain floats, for a single response
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RowResult:
    """What :func:`score_row` gives for one row: row ``0`` of a :class:`KernelResult`."""

    scales: tuple[Scale, ...] = field(repr=False)
    cutoffs: tuple[Cutoff, ...] = field(repr=False)
    scores: tuple[float, ...]
    """One per scale, NaN where the scale is not scored."""
    n_answered: tuple[int, ...]
    prorated: tuple[bool, ...]
    flags: tuple[bool | None, ...]
    """One per cut-off: whether it fired, None where its scale is not scored."""
    status: Status
    items_answered: int


def score_row(
    values: Sequence[float],
    instrument: Instrument,
    *,
    scales: Sequence[Scale] | None = None,
    cutoffs: Sequence[Cutoff] | None = None,
    invalid: bool = False,
) -> RowResult:
    """Score one row of raw answers (``instrument.items`` order, NaN = missing).

    The single-response form of :func:`score_matrix`: the same operations in the same
    order on Python floats (IEEE doubles, as numpy's), with numpy's rounding, so that it
    gives exactly row ``0`` of ``score_matrix`` on the one-row matrix (a property test
    checks every bit) without the fixed cost of some hundred numpy calls on one-element
    arrays. What the instrument needs is worked out once and remembered.

    >>> from alliance_score import load_instrument
    >>> wai_s = load_instrument("wai-s")
    >>> row = [5.0] * 12
    >>> row[3], row[9] = 1.0, 3.0    # items 4 and 10 are reverse-keyed
    >>> r = score_row(row, wai_s)
    >>> [round(s, 4) for s in r.scores], r.status.value
    ([5.0, 5.5, 5.0, 5.1667], 'complete')
    """
    chosen = tuple(instrument.scales if scales is None else scales)
    chosen_cutoffs = tuple(instrument.cutoffs if cutoffs is None else cutoffs)
    if len(values) != len(instrument.items):
        raise ValueError(
            f"expected {len(instrument.items)} values for {instrument.ref}; got {len(values)}"
        )
    key = (id(instrument), tuple(map(id, chosen)), tuple(map(id, chosen_cutoffs)))
    plan = _ROW_PLANS.get(key)
    if plan is None or plan.instrument is not instrument:
        plan = _RowPlan(instrument, chosen, chosen_cutoffs)
        if len(_ROW_PLANS) >= 256:
            _ROW_PLANS.clear()
        _ROW_PLANS[key] = plan
    return plan.score(values, invalid)


_ROUNDING: Final = 10.0**SCORE_DECIMALS
_LESS = ("<", "<=")


def _round(score: float) -> float:
    """``np.round(score, SCORE_DECIMALS)`` on one float: multiply, round half to even
    (``np.rint``), divide, keeping the sign of a zero."""
    if score != score or score in (math.inf, -math.inf):
        return score
    scaled = score * _ROUNDING
    whole = round(scaled)
    return whole / _ROUNDING if whole else math.copysign(0.0, scaled)


def _divide(total: float, denominator: float) -> float:
    """``total / denominator`` as numpy divides (NaN or infinity instead of an error)."""
    if denominator:
        return total / denominator
    if total != total or not total:
        return math.nan
    return math.copysign(math.inf, total) * math.copysign(1.0, denominator)


class _RowPlan:
    """:class:`_Plan` for one row: per scale its item positions, weights, full weight,
    method and minimum, taken from the block plan so both read the definition alike."""

    def __init__(
        self, instrument: Instrument, scales: tuple[Scale, ...], cutoffs: tuple[Cutoff, ...]
    ) -> None:
        block = _Plan(instrument, scales, cutoffs)
        self.instrument = instrument
        self.scales, self.cutoffs = scales, cutoffs
        self.lo, self.hi = block.lo, block.hi
        self.flip = self.lo + self.hi
        self.reverse = tuple(item.reverse for item in instrument.items)
        self.plans = tuple(
            (tuple(c), None if w is None else tuple(w), full, s.method, s.min_answered)
            for c, w, full, s in zip(block.columns, block.weights, block.full, scales, strict=True)
        )
        index = {s.id: k for k, s in enumerate(scales)}
        self.flag_plans = tuple((index[c.scale], c.comparison, c.value) for c in cutoffs)

    def score(self, values: Sequence[float], bad: bool) -> RowResult:
        flip = self.flip
        filled: list[float] = []
        answered: list[bool] = []
        for x, rev in zip(values, self.reverse, strict=True):
            value = flip - x if rev else float(x)
            known = value == value
            answered.append(known)
            filled.append(value if known else 0.0)
        scores: list[float] = []
        counts: list[int] = []
        prorated: list[bool] = []
        n_scored = 0
        for columns, weights, full, method, min_answered in self.plans:
            count = 0
            total = 0.0
            if weights is None:
                for j in columns:
                    count += answered[j]
                    total += filled[j]
                denominator = float(count)
            else:
                denominator = 0.0
                for j, w in zip(columns, weights, strict=True):
                    count += answered[j]
                    total += w * filled[j]
                for j, w in zip(columns, weights, strict=True):
                    denominator += w * answered[j]
            mean = _divide(total, denominator)
            n = len(columns)
            if method == "mean":
                score = mean
            elif method == "sum":
                score = total if count == n else mean * full
            elif method == "tcu":
                score = mean * 10.0
            else:  # pomp
                score = (mean - self.lo) / (self.hi - self.lo) * 100.0
            scored = count >= min_answered and not bad
            n_scored += scored
            scores.append(_round(score) if scored else math.nan)
            counts.append(count)
            prorated.append(scored and count < n)
        if bad:
            status = Status.INVALID
        elif not n_scored:
            status = Status.INSUFFICIENT
        elif n_scored < len(scores):
            status = Status.PARTIAL
        elif any(prorated):
            status = Status.PRORATED
        else:
            status = Status.COMPLETE
        flags: list[bool | None] = []
        for k, comparison, value in self.flag_plans:
            score = scores[k]
            if score != score:
                flags.append(None)
            elif comparison in _LESS:
                flags.append(score < value if comparison == "<" else score <= value)
            else:
                flags.append(score > value if comparison == ">" else score >= value)
        return RowResult(
            scales=self.scales,
            cutoffs=self.cutoffs,
            scores=tuple(scores),
            n_answered=tuple(counts),
            prorated=tuple(prorated),
            flags=tuple(flags),
            status=status,
            items_answered=sum(answered),
        )


_ROW_PLANS: dict[tuple[int, tuple[int, ...], tuple[int, ...]], _RowPlan] = {}
