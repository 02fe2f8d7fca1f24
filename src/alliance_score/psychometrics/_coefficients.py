"""Reliability coefficients computed from an item covariance or correlation matrix.

Plain numpy functions on ``items x items`` matrices; the public functions in
:mod:`alliance_score.psychometrics` feed them from parsed data. Each mirrors one step of
R's ``psych`` (Revelle) and names it.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Hashable, Iterable
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import ArgumentError, MissingDependencyError

__all__ = [
    "alpha_from_cov",
    "alpha_std_from_cor",
    "average_r",
    "feldt_interval",
    "first_component",
    "guttman_lambda6",
    "has_variance",
    "item_rest_correlations",
    "omega_total",
    "one_factor_minres",
    "round_frame",
    "round_values",
]

OUTPUT_DECIMALS: Final = 10
"""Decimal places of every statistic the analysis functions return (as of scores)."""

_MINRES_TOL: Final = 1e-12
_MINRES_MAX_ITER: Final = 10_000
_MAX_COMMUNALITY: Final = 0.995  # psych's minres bounds uniquenesses at 0.005
_SIGN_TOLERANCE: Final = 1e-8  # loadings summing to less than this share of sum(|l|): a tie


def round_values(values: dict[str, Any]) -> dict[str, Any]:
    """The float values of a result dictionary rounded to :data:`OUTPUT_DECIMALS`."""
    return {
        k: round(v, OUTPUT_DECIMALS) if isinstance(v, float) and math.isfinite(v) else v
        for k, v in values.items()
    }


def round_frame(frame: pd.DataFrame, keep: Iterable[Hashable] = ()) -> pd.DataFrame:
    """``frame`` with its float columns rounded to :data:`OUTPUT_DECIMALS` decimal places.

    The one rounding rule of the analysis functions: statistics carry no float noise
    (``4.0045454545200005`` is ``4.00454545452``), as scores are rounded. Columns in
    ``keep`` (identifiers and values passed through from the input) are left as given.
    """
    kept = set(keep)
    for column in frame.columns:
        if column in kept:
            continue
        dtype = frame[column].dtype
        if pd.api.types.is_float_dtype(dtype):
            frame[column] = frame[column].round(OUTPUT_DECIMALS)
    return frame


def has_variance(cov: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Items whose variance (the diagonal of ``cov``) is a positive number.

    psych's ``alpha`` deletes the others ("had no variance and was deleted").
    """
    diag = np.diag(cov)
    with np.errstate(invalid="ignore"):
        return np.isfinite(diag) & (diag > 0)


def alpha_from_cov(cov: NDArray[np.float64]) -> float:
    """Cronbach's alpha: ``k / (k - 1) * (1 - tr(C) / sum(C))`` (psych ``raw_alpha``)."""
    k = cov.shape[0]
    if k < 2:
        return float("nan")
    total = float(cov.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(k / (k - 1) * (1.0 - np.trace(cov) / total)) if total else float("nan")


def alpha_std_from_cor(cor: NDArray[np.float64]) -> float:
    """Standardised alpha: ``k / (k - 1) * (1 - k / sum(R))`` (psych ``std.alpha``)."""
    k = cor.shape[0]
    if k < 2:
        return float("nan")
    total = float(cor.sum())
    return float(k / (k - 1) * (1.0 - k / total)) if total else float("nan")


def average_r(cor: NDArray[np.float64]) -> float:
    """Mean off-diagonal correlation: ``(sum(R) - k) / (k (k - 1))`` (psych ``average_r``)."""
    k = cor.shape[0]
    if k < 2:
        return float("nan")
    return float((cor.sum() - np.trace(cor)) / (k * (k - 1)))


def guttman_lambda6(cor: NDArray[np.float64]) -> float:
    """Guttman's lambda 6: ``1 - sum(1 - smc) / sum(R)`` (psych ``G6(smc)``).

    ``smc`` are the squared multiple correlations ``1 - 1 / diag(R^+)`` of each item on
    the others, with ``R^+`` the pseudo-inverse (singular values below ``sqrt(eps)`` times
    the largest dropped) and the results clipped to 0..1, as psych's ``smc`` computes them.
    """
    k = cor.shape[0]
    total = float(cor.sum())
    if k < 2 or not np.isfinite(cor).all() or total <= 0:
        return float("nan")
    values, vectors = np.linalg.eigh(cor)
    keep = np.abs(values) > np.sqrt(np.finfo(np.float64).eps) * np.abs(values).max()
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    with np.errstate(divide="ignore", invalid="ignore"):
        smc = np.clip(1.0 - 1.0 / np.diag(inverse), 0.0, 1.0)
    if not np.isfinite(smc).all():
        return float("nan")
    return float(1.0 - (k - float(smc.sum())) / total)


def item_rest_correlations(cov: NDArray[np.float64]) -> NDArray[np.float64]:
    """Corrected item-total correlations (psych ``r.drop``) from the covariance matrix.

    ``r_i = (sum_j C_ij - C_ii) / sqrt(C_ii * sum(C without row and column i))``.
    """
    k = cov.shape[0]
    total = cov.sum()
    col = cov.sum(axis=0)
    diag = np.diag(cov)
    rest_var = total - 2.0 * col + diag  # sum of C with row and column i removed
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (col - diag) / np.sqrt(diag * rest_var)
    if k < 2:
        r[:] = np.nan
    return r  # type: ignore[no-any-return]


def feldt_interval(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval for alpha (psych ``alpha.ci``).

    ``1 - (1 - alpha) F_{1 - a/2}`` to ``1 - (1 - alpha) F_{a/2}`` with ``F`` the
    quantiles of the F distribution on ``n - 1`` and ``(n - 1)(k - 1)`` degrees of
    freedom and ``a = 1 - level``. Needs scipy (the ``stats`` extra) for the quantiles.
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ArgumentError(f"ci (the confidence level) must be between 0 and 1; got {level!r}.")
    stats = _scipy_stats()
    if not (np.isfinite(alpha) and n > 1 and k > 1):
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * float(stats.f.ppf(1.0 - tail, df1, df2))
    upper = 1.0 - (1.0 - alpha) * float(stats.f.ppf(tail, df1, df2))
    return lower, upper


def _scipy_stats() -> Any:
    try:
        return importlib.import_module("scipy.stats")
    except ImportError as exc:
        raise MissingDependencyError(
            "The Feldt confidence interval for alpha (F quantiles)", "scipy", "stats"
        ) from exc


def one_factor_minres(cor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Loadings of a one-factor minimum-residual (unweighted least squares) solution.

    Iterated principal axes from squared multiple correlations until the communalities
    change by less than 1e-12: the fixed point minimises the sum of squared off-diagonal
    residuals, the criterion of psych's ``fa(r, nfactors = 1, fm = "minres")``.
    Communalities are bounded at 0.995 as psych bounds the uniquenesses at 0.005. The
    sign is chosen so that the loadings sum to a non-negative number. When the iteration
    has not converged after 10,000 steps (nearly uncorrelated items, Heywood cases), or
    the solution is improper (a loading above 1, a communality that the bound hides: an
    ultra-Heywood case, which psych warns about and reports with a negative uniqueness),
    the loadings are NaN, so omega is reported as missing rather than as a number the
    model does not support.
    """
    k = cor.shape[0]
    if k < 2 or not np.isfinite(cor).all():
        return np.full(k, np.nan)
    h2 = _smc(cor)
    reduced = cor.copy()
    loadings = np.zeros(k)
    for _ in range(_MINRES_MAX_ITER):
        np.fill_diagonal(reduced, h2)
        values, vectors = np.linalg.eigh(reduced)
        loadings = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        new = np.clip(loadings * loadings, 0.0, _MAX_COMMUNALITY)
        if np.max(np.abs(new - h2)) < _MINRES_TOL:
            h2 = new
            break
        h2 = new
    else:
        return np.full(k, np.nan)
    if np.max(np.abs(loadings)) > 1.0:
        return np.full(k, np.nan)
    if loadings.sum() < 0:
        loadings = -loadings
    return np.asarray(loadings, dtype=np.float64)


def _smc(cor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Squared multiple correlations, the usual starting communalities.

    For a singular matrix (or one whose inverse gives values outside 0..1) each item's
    largest absolute correlation with another item is used instead.
    """
    k = cor.shape[0]
    fallback = np.max(np.abs(cor - np.eye(k)), axis=0)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            smc = 1.0 - 1.0 / np.diag(np.linalg.inv(cor))
    except np.linalg.LinAlgError:
        smc = fallback
    smc = np.where(np.isfinite(smc) & (smc >= 0) & (smc <= 1), smc, fallback)
    return np.clip(smc, 0.0, _MAX_COMMUNALITY)


def omega_total(cor: NDArray[np.float64], loadings: NDArray[np.float64]) -> float:
    """McDonald's omega total of a one-factor model (psych ``omega.tot``).

    ``omega_t = (sum(R) - sum(u2)) / sum(R)`` with uniquenesses ``u2 = 1 - lambda^2`` and
    ``sum(R)`` the variance of the unit-weighted sum of the standardised items. A sum
    that is not positive (possible only for a pairwise matrix that is not a correlation
    matrix) is no variance, and omega is NaN.
    """
    total = float(cor.sum())
    if not np.isfinite(total) or total <= 0 or not np.isfinite(loadings).all():
        return float("nan")
    uniqueness = 1.0 - np.minimum(loadings * loadings, 1.0)
    return (total - float(uniqueness.sum())) / total


def first_component(cor: NDArray[np.float64]) -> NDArray[np.float64]:
    """Loadings on the first principal component, signed so that they sum to >= 0.

    Like psych's ``principal(x, nfactors = 1)``, which ``alpha`` uses to warn about items
    that "probably should be reversed". When the loadings sum to zero (up to rounding),
    no sign is the scale's direction (two items that correlate negatively: either may be
    the reversed one), so the loadings are NaN rather than an arbitrary choice of which
    items load against the others.
    """
    k = cor.shape[0]
    if k < 2 or not np.isfinite(cor).all():
        return np.full(k, np.nan)
    values, vectors = np.linalg.eigh(cor)
    loadings = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
    if abs(loadings.sum()) <= _SIGN_TOLERANCE * np.abs(loadings).sum():
        return np.full(k, np.nan)
    if loadings.sum() < 0:
        loadings = -loadings
    return loadings  # type: ignore[no-any-return]
