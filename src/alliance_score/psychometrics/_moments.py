"""Covariances and correlations of an item matrix with missing values, in one pass.

Every statistic in this package is a function of the item covariance matrix (and, for
omega, of the pairwise correlation matrix), so the data are read once: the column means
first, then one accumulation, chunk by chunk, of four ``items x items`` matrix products
over the centred values and the answered-cell mask.

Pairwise deletion follows R's ``cov(x, use = "pairwise")`` and ``cor(x, use =
"pairwise")``: each pair of items uses the rows where both are answered, with that
subset's own means (and, for the correlation, that subset's own standard deviations).
The diagonal of the covariance matrix is each item's variance over all its answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from ..errors import ArgumentError

__all__ = ["MissingPolicy", "Moments", "moments"]

MissingPolicy = Literal["pairwise", "listwise"]

_CHUNK_ROWS: Final = 1 << 16


@dataclass(frozen=True, eq=False)
class Moments:
    """Second moments of a ``rows x items`` matrix under a missing-data policy."""

    n_rows: int
    """Rows used: rows with at least one answered item (pairwise) or complete rows
    (listwise)."""
    n_answered: NDArray[np.int64]
    """Answered cells per item among the rows used."""
    n_pairs: NDArray[np.int64]
    """Rows in which both items of each pair are answered."""
    mean: NDArray[np.float64]
    """Item means over each item's answers."""
    cov: NDArray[np.float64]
    """Covariance matrix (R's ``cov(x, use = "pairwise")`` for pairwise)."""
    cor: NDArray[np.float64]
    """Correlation matrix (R's ``cor(x, use = "pairwise")`` for pairwise)."""

    @property
    def sd(self) -> NDArray[np.float64]:
        """Item standard deviations (denominator ``n - 1``)."""
        return np.sqrt(np.diag(self.cov))

    def scaled_cov(self) -> NDArray[np.float64]:
        """The covariance matrix scaled to unit diagonal (R's ``cov2cor``)."""
        sd = self.sd
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled: NDArray[np.float64] = self.cov / np.outer(sd, sd)
        return scaled


def moments(x: NDArray[np.float64], missing: MissingPolicy = "pairwise") -> Moments:
    """Covariance and correlation matrices of ``x`` (NaN = missing) in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])
    >>> m = moments(x)
    >>> m.n_rows, m.n_pairs.tolist()
    (4, [[4, 3], [3, 3]])
    >>> round(float(m.cov[0, 1]), 6), round(float(m.cov[0, 0]), 6)
    (1.833333, 1.666667)
    """
    if not isinstance(missing, str) or missing not in ("pairwise", "listwise"):
        raise ArgumentError(f"missing must be 'pairwise' or 'listwise'; got {missing!r}.")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ArgumentError(f"the item matrix must be two-dimensional; got shape {x.shape}.")
    absent = np.isnan(x)
    keep = ~absent.any(axis=1) if missing == "listwise" else ~absent.all(axis=1)
    if not keep.all():
        x, absent = x[keep], absent[keep]
    n_rows, p = x.shape
    n_answered = (~absent).sum(axis=0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(absent, 0.0, x).sum(axis=0) / n_answered

    n_pairs = np.zeros((p, p))
    s = np.zeros((p, p))  # s[j, k]: sum of centred x_j over rows where j and k answered
    q = np.zeros((p, p))  # q[j, k]: sum of squared centred x_j over the same rows
    cross = np.zeros((p, p))
    for start in range(0, n_rows, _CHUNK_ROWS):
        block = x[start : start + _CHUNK_ROWS]
        answered = ~absent[start : start + _CHUNK_ROWS]
        mask = answered.astype(np.float64)
        centred = np.where(answered, block - mean, 0.0)
        n_pairs += mask.T @ mask
        s += centred.T @ mask
        q += (centred * centred).T @ mask
        cross += centred.T @ centred

    with np.errstate(invalid="ignore", divide="ignore"):
        dof = n_pairs - 1.0
        cov = (cross - s * s.T / n_pairs) / dof
        var_given = (q - s * s / n_pairs) / dof  # var of x_j over rows with j and k
        cor = cov / np.sqrt(var_given * var_given.T)
    cov[n_pairs < 2] = np.nan
    cor[n_pairs < 2] = np.nan
    np.fill_diagonal(cor, np.where(np.diag(cov) > 0, 1.0, np.nan))
    return Moments(
        n_rows=int(n_rows),
        n_answered=n_answered,
        n_pairs=n_pairs.round().astype(np.int64),
        mean=mean,
        cov=cov,
        cor=cor,
    )
