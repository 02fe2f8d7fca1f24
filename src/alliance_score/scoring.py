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
from typing import Final

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
    is verified (or provisional ones are allowed).
    """
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
    lo, hi = instrument.response.min, instrument.response.max

    reverse = np.array([item.reverse for item in instrument.items], dtype=bool)
    if reverse.any():
        x = x.copy()
        x[:, reverse] = (lo + hi) - x[:, reverse]
    answered = ~np.isnan(x)
    filled = np.where(answered, x, 0.0)
    position = {item.id: j for j, item in enumerate(instrument.items)}

    scores = np.empty((n, len(chosen)), dtype=np.float64)
    n_ans = np.empty((n, len(chosen)), dtype=np.int64)
    for k, scale in enumerate(chosen):
        cols = np.array([position[i] for i in scale.items], dtype=np.intp)
        weight = np.array([scale.weight(i) for i in scale.items], dtype=np.float64)
        count = answered[:, cols].sum(axis=1)
        total = filled[:, cols] @ weight
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / (answered[:, cols] @ weight)
        size = len(cols)
        if scale.method == "mean":
            score = mean
        elif scale.method == "sum":
            score = np.where(count == size, total, mean * weight.sum())
        elif scale.method == "tcu":
            score = mean * 10.0
        else:  # pomp
            score = (mean - lo) / (hi - lo) * 100.0
        score[count < scale.min_answered] = np.nan
        scores[:, k] = score
        n_ans[:, k] = count
    np.round(scores, SCORE_DECIMALS, out=scores)

    bad = np.zeros(n, dtype=bool) if invalid is None else np.asarray(invalid, dtype=bool)
    scores[bad] = np.nan
    scored = ~np.isnan(scores)
    sizes = np.array([len(s.items) for s in chosen], dtype=np.int64)
    prorated = scored & (n_ans < sizes)

    status = np.full(n, _COMPLETE, dtype=np.int8)
    status[prorated.any(axis=1)] = _PRORATED
    status[~scored.all(axis=1)] = _PARTIAL
    status[~scored.any(axis=1)] = _INSUFFICIENT
    status[bad] = _INVALID

    index = {s.id: k for k, s in enumerate(chosen)}
    flags = np.zeros((n, len(chosen_cutoffs)), dtype=bool)
    known = np.zeros((n, len(chosen_cutoffs)), dtype=bool)
    for k, cut in enumerate(chosen_cutoffs):
        col = scores[:, index[cut.scale]]
        known[:, k] = ~np.isnan(col)
        with np.errstate(invalid="ignore"):
            flags[:, k] = _COMPARE[cut.comparison](col, cut.value) & known[:, k]
    return KernelResult(
        scales=chosen,
        cutoffs=chosen_cutoffs,
        scores=scores,
        n_answered=n_ans,
        prorated=prorated,
        flags=flags,
        flags_known=known,
        status=status,
        items_answered=answered.sum(axis=1).astype(np.int64),
    )


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
