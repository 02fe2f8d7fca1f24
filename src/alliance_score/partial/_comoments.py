"""Pairwise co-moments of an item matrix with missing values, mergeable across partitions.

For every pair of items ``(j, k)`` the rows where both are answered form the pair's
sample (R's ``use = "pairwise"``). Its sufficient statistics are kept as four
``items x items`` matrices:

* ``n[j, k]``: rows where ``j`` and ``k`` are answered;
* ``mean[j, k]``: mean of item ``j`` over those rows (``mean[k, j]`` is item ``k``'s);
* ``m2[j, k]``: sum of squared deviations of item ``j`` from ``mean[j, k]`` over them;
* ``cross[j, k]``: sum of the products of the two items' deviations over them.

The diagonal holds each item's own count, mean and sum of squares over all its answers.
Two sets of rows merge exactly with the pairwise update of Chan, Golub & LeVeque (1979):
with ``d = mean_b - mean_a`` and ``n = n_a + n_b``,

``mean = mean_a + d n_b / n``, ``m2 = m2_a + m2_b + d^2 n_a n_b / n``,
``cross = cross_a + cross_b + d d^T n_a n_b / n`` (elementwise, ``d^T[j, k] = d[k, j]``),

which never forms raw sums of squares, so merging many partitions loses no precision to
cancellation. Within a partition the rows are accumulated in blocks, each centred on its
own item means first.

References
----------
Chan, T. F., Golub, G. H., & LeVeque, R. J. (1979). Updating formulae and a pairwise
algorithm for computing sample variances. Technical Report STAN-CS-79-773, Stanford.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["Comoments", "comoments", "merge_comoments"]

_BLOCK_ROWS: Final = 1 << 16


class Comoments(NamedTuple):
    """The four ``items x items`` matrices described in the module docs."""

    n: NDArray[np.float64]
    mean: NDArray[np.float64]
    m2: NDArray[np.float64]
    cross: NDArray[np.float64]


def empty(p: int) -> Comoments:
    """The co-moments of no rows."""
    return Comoments(*(np.zeros((p, p)) for _ in range(4)))


def _block(x: NDArray[np.float64]) -> Comoments:
    answered = ~np.isnan(x)
    if answered.all():
        return _complete_block(x)
    mask = answered.astype(np.float64)
    count = answered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(count > 0, np.where(answered, x, 0.0).sum(axis=0) / count, 0.0)
    centred = np.where(answered, x - shift, 0.0)
    n = mask.T @ mask
    s = centred.T @ mask  # s[j, k]: sum of centred x_j over rows where j and k answered
    q = (centred * centred).T @ mask
    cross = centred.T @ centred
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(n > 0, s / n, 0.0)
        m2 = np.where(n > 0, q - s * local, 0.0)
        cr = np.where(n > 0, cross - s * local.T, 0.0)
    mean = np.where(n > 0, shift[:, None] + local, 0.0)
    return Comoments(n, mean, np.maximum(m2, 0.0), cr)


def _complete_block(x: NDArray[np.float64]) -> Comoments:
    """:func:`_block` of rows without a missing cell: every pair has every row, so the
    sums over a pair's rows are the items' own sums (no masks)."""
    rows, p = x.shape
    n = np.full((p, p), float(rows))
    if not rows:
        return empty(p)
    shift = x.mean(axis=0)
    centred = x - shift
    s = np.broadcast_to(centred.sum(axis=0)[:, None], (p, p))
    q = np.broadcast_to(np.einsum("ij,ij->j", centred, centred)[:, None], (p, p))
    cross = centred.T @ centred
    local = s / n
    mean = shift[:, None] + local
    return Comoments(n, mean, np.maximum(q - s * local, 0.0), cross - s * local.T)


def comoments(x: NDArray[np.float64]) -> Comoments:
    """The pairwise co-moments of a ``rows x items`` matrix (NaN = missing).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> c = comoments(x)
    >>> c.n.tolist(), c.mean[0].tolist()  # item 1: all 4 rows; with item 2: rows 1, 3, 4
    ([[4.0, 3.0], [3.0, 3.0]], [2.5, 2.6666666666666665])
    >>> a, b = comoments(x[:1]), comoments(x[1:])
    >>> bool(np.allclose(merge_comoments(a, b).cross, c.cross))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    total = empty(x.shape[1])
    for start in range(0, x.shape[0], _BLOCK_ROWS):
        total = merge_comoments(total, _block(x[start : start + _BLOCK_ROWS]))
    return total


def merge_comoments(a: Comoments, b: Comoments) -> Comoments:
    """The co-moments of the rows of ``a`` and ``b`` together (Chan et al.'s update)."""
    n = a.n + b.n
    with np.errstate(invalid="ignore", divide="ignore"):
        weight_b = np.where(n > 0, b.n / n, 0.0)
        both = np.where(n > 0, a.n * b.n / n, 0.0)
    delta = b.mean - a.mean
    mean = a.mean + delta * weight_b
    m2 = a.m2 + b.m2 + delta * delta * both
    cross = a.cross + b.cross + delta * delta.T * both
    return Comoments(n, mean, m2, cross)
