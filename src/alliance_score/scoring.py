"""The scoring kernel: a float matrix and an instrument in, scale scores out.

Pure numpy, no pandas and no Python loop over rows: every front door (a single
response, a DataFrame, a file) parses its input into a ``rows x items`` float matrix
(NaN = missing) and calls :func:`score_matrix`, so the scalar and batch paths cannot
disagree. Each row is scored on its own, so results never depend on row order or on how
rows are split into chunks.

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

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .errors import ProvisionalScaleError
from .instrument import Cutoff, Instrument, Scale

__all__ = ["KernelResult", "Status", "score_matrix", "select_scales"]

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
    out = KernelResult(
        scales=chosen,
        cutoffs=chosen_cutoffs,
        scores=np.empty((n, len(chosen)), dtype=np.float64, order="F"),
        n_answered=np.empty((n, len(chosen)), dtype=np.int64, order="F"),
        prorated=np.empty((n, len(chosen)), dtype=bool, order="F"),
        flags=np.empty((n, len(chosen_cutoffs)), dtype=bool, order="F"),
        flags_known=np.empty((n, len(chosen_cutoffs)), dtype=bool, order="F"),
        status=np.empty(n, dtype=np.int8),
        items_answered=np.empty(n, dtype=np.int64),
    )
    bad = np.zeros(n, dtype=bool) if invalid is None else np.asarray(invalid, dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        rows = slice(start, min(n, start + BLOCK_ROWS))
        plan.score_block(x[rows], bad[rows], out, rows)
    return out


BLOCK_ROWS: Final = 1 << 15
"""Rows scored at a time, so that every temporary of the kernel stays in cache."""


class _Plan:
    """What the kernel needs per scale, worked out once per call."""

    def __init__(
        self, instrument: Instrument, scales: tuple[Scale, ...], cutoffs: tuple[Cutoff, ...]
    ) -> None:
        self.lo, self.hi = instrument.response.min, instrument.response.max
        self.reverse = [item.reverse for item in instrument.items]
        position = {item.id: j for j, item in enumerate(instrument.items)}
        self.scales = scales
        self.columns = [[position[i] for i in s.items] for s in scales]
        self.weights: list[list[float] | None] = [
            [s.weight(i) for i in s.items] if s.weights else None for s in scales
        ]
        index = {s.id: k for k, s in enumerate(scales)}
        self.cutoffs = [(index[c.scale], _COMPARE[c.comparison], c.value) for c in cutoffs]

    def score_block(
        self, x: NDArray[np.float64], bad: NDArray[np.bool_], out: KernelResult, rows: slice
    ) -> None:
        """Score one block of rows into ``out[rows]``, column by column."""
        n = len(x)
        cols = [
            (self.lo + self.hi) - x[:, j] if rev else x[:, j] for j, rev in enumerate(self.reverse)
        ]
        answered = [~np.isnan(c) for c in cols]
        filled = [np.where(a, c, 0.0) for a, c in zip(answered, cols, strict=True)]
        items_answered = np.zeros(n, dtype=np.int64)
        for a in answered:
            items_answered += a
        any_prorated = np.zeros(n, dtype=bool)
        all_scored = np.ones(n, dtype=bool)
        any_scored = np.zeros(n, dtype=bool)
        scores: list[NDArray[np.float64]] = []
        for k, scale in enumerate(self.scales):
            columns, weights = self.columns[k], self.weights[k]
            count = np.zeros(n, dtype=np.int64)
            total = np.zeros(n, dtype=np.float64)
            for m, j in enumerate(columns):
                count += answered[j]
                total += filled[j] if weights is None else weights[m] * filled[j]
            if weights is None:
                denominator = count.astype(np.float64)
                full = float(len(columns))
            else:
                denominator = np.zeros(n, dtype=np.float64)
                for m, j in enumerate(columns):
                    denominator += weights[m] * answered[j]
                full = float(sum(weights))
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / denominator
            if scale.method == "mean":
                score = mean
            elif scale.method == "sum":
                score = np.where(count == len(columns), total, mean * full)
            elif scale.method == "tcu":
                score = mean * 10.0
            else:  # pomp
                score = (mean - self.lo) / (self.hi - self.lo) * 100.0
            scored = (count >= scale.min_answered) & ~bad
            score[~scored] = np.nan
            np.round(score, SCORE_DECIMALS, out=score)
            prorated = scored & (count < len(columns))
            any_prorated |= prorated
            all_scored &= scored
            any_scored |= scored
            scores.append(score)
            out.scores[rows, k] = score
            out.n_answered[rows, k] = count
            out.prorated[rows, k] = prorated
        status = np.where(any_prorated, _PRORATED, _COMPLETE).astype(np.int8)
        status[~all_scored] = _PARTIAL
        status[~any_scored] = _INSUFFICIENT
        status[bad] = _INVALID
        out.status[rows] = status
        out.items_answered[rows] = items_answered
        for k, (scale_index, compare, value) in enumerate(self.cutoffs):
            score = scores[scale_index]
            known = ~np.isnan(score)
            with np.errstate(invalid="ignore"):
                out.flags[rows, k] = compare(score, value) & known
            out.flags_known[rows, k] = known


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
