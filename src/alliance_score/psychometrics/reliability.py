"""Reliability of each scale in the user's own data: alpha, its Feldt interval, omega."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from ..errors import MissingDependencyError
from ..instrument import Instrument, Scale
from ._coefficients import (
    alpha_from_cov,
    alpha_std_from_cor,
    average_r,
    feldt_interval,
    guttman_lambda6,
    has_variance,
    omega_total,
    one_factor_minres,
    round_frame,
)
from ._data import Prepared, check_options, prepare
from ._moments import MissingPolicy, Moments, moments

__all__ = ["RELIABILITY_COLUMNS", "reliability"]

RELIABILITY_COLUMNS: Final[tuple[str, ...]] = (
    "scale",
    "n_items",
    "n_rows",
    "missing",
    "alpha",
    "alpha_ci_lower",
    "alpha_ci_upper",
    "ci_level",
    "alpha_std",
    "omega_total",
    "average_r",
    "lambda6",
    "dropped_items",
    "note",
)


def reliability(
    data: pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing: MissingPolicy = "pairwise",
    ci: float | None = 0.95,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    min: float | None = None,  # noqa: A002 (psych's name)
    max: float | None = None,  # noqa: A002 (psych's name)
) -> pd.DataFrame:
    """Internal consistency of each scale of ``instrument`` in ``data``.

    Parameters
    ----------
    data
        One row per administration, raw answers as numbers or text (as for
        :func:`~alliance_score.score_frame`). Reverse-keyed items are recoded
        ``min + max - x`` before any statistic; invalid cells count as missing.
    instrument
        An :class:`~alliance_score.Instrument`, an id, ``id@version`` or a path; or
        ``None`` with ``keys=``.
    scales
        Scale ids; default every verified scale (and provisional ones when
        ``allow_provisional``).
    items
        Column mapping, as for :func:`~alliance_score.score_frame`.
    missing
        ``"pairwise"`` (default, as psych): each covariance uses the rows where both
        items are answered and each variance all answers of the item; ``n_rows`` counts
        rows with at least one answered item of the scale. ``"listwise"``: only rows
        that answer every item of the scale.
    ci
        Level of the Feldt confidence interval for alpha, or ``None`` for none. The
        interval needs scipy (``pip install 'alliance-score[stats]'``).
    missing_codes, labels, allow_provisional
        As for :func:`~alliance_score.score_frame`.
    keys, min, max
        Scales without a definition file, as R's psych takes them:
        ``keys={"agree": ["-A1", "A2", "A3"]}`` maps each scale to its item columns, a
        leading ``-`` marking a reverse-keyed item, recoded ``min + max - x``. ``min``
        and ``max`` are the response range (also the range check's); when omitted
        they are the smallest and largest number in the key columns, as
        ``psych::alpha`` takes them. The same as ``psych::alpha`` on
        ``psych::reverse.code(keys, x, mini = min, maxi = max)``.

    Returns
    -------
    pandas.DataFrame
        One row per scale with columns ``scale``, ``n_items``, ``n_rows``, ``missing``,
        ``alpha``, ``alpha_ci_lower``, ``alpha_ci_upper``, ``ci_level``, ``alpha_std``,
        ``omega_total``, ``average_r``, ``lambda6`` (Guttman's lambda 6),
        ``dropped_items`` (items left out for having no variance, comma-separated;
        empty when none) and ``note`` (why a statistic is
        missing or what was left out; empty when nothing needs a word). ``n_items``
        counts the items the statistics use.

    Raises
    ------
    MissingDependencyError
        When ``ci`` is given and scipy is not installed.
    ColumnMappingError, ProvisionalScaleError, UnknownInstrumentError
        As :func:`~alliance_score.score_frame`.

    Notes
    -----
    With ``C`` the ``k x k`` item covariance matrix and ``R`` its correlation form
    (``R = D^-1/2 C D^-1/2``):

    * Cronbach's alpha: ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))``;
    * standardised alpha: ``alpha_std = k / (k - 1) * (1 - k / sum(R))``;
    * average inter-item correlation: ``r_bar = (sum(R) - k) / (k (k - 1))``;
    * Guttman's lambda 6: ``1 - sum(1 - smc_i) / sum(R)``, with ``smc_i`` the squared
      multiple correlation of item ``i`` on the others (psych's ``G6(smc)``);
    * Feldt interval: ``1 - (1 - alpha) F(1 - a/2; n - 1, (n - 1)(k - 1))`` to
      ``1 - (1 - alpha) F(a/2; n - 1, (n - 1)(k - 1))`` with ``a = 1 - ci``;
    * omega total from a one-factor minimum-residual model of the pairwise correlation
      matrix ``R_p`` with loadings ``lambda``: ``omega_t = 1 - sum(1 - lambda^2) /
      sum(R_p)``.

    An item without variance (every answer the same) is left out of every statistic of
    its scale and named in ``dropped_items`` and ``note``, as ``psych::alpha`` drops it
    with a warning; ``psych::omega`` stops on such an item, and omega here is that of the
    remaining items.

    The covariance matrix is accumulated in one pass over the rows, so a million rows
    take about a second. The R equivalents (same numbers to 1e-6 or better; omega to
    1e-6 on the reference data, see ``docs/psychometrics.md``) are::

        psych::alpha(x)                       # alpha, std.alpha, G6(smc), average_r, feldt
        psych::omega(x, nfactors = 1, fm = "minres")$omega.tot

    on ``x``, the scale's items after reverse keying.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297-334.

    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement, 11(1), 93-103.

    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.

    Revelle, W. psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from alliance_score.psychometrics import reliability
    >>> rng = np.random.default_rng(1)
    >>> trait = rng.normal(size=(300, 1))
    >>> answers = np.clip(np.rint(3.5 + trait + rng.normal(scale=0.8, size=(300, 12))), 1, 5)
    >>> df = pd.DataFrame(answers, columns=[f"wai_{i}" for i in range(1, 13)])
    >>> table = reliability(df, "wai-sr", scales=["total"])
    >>> table[["scale", "n_items", "n_rows", "alpha", "omega_total"]].round(3)
       scale  n_items  n_rows  alpha  omega_total
    0  total       12     300  0.923        0.923
    >>> table[["alpha_ci_lower", "alpha_ci_upper"]].round(3)
       alpha_ci_lower  alpha_ci_upper
    0           0.909           0.935

    The same items as psych-style keys, item 4 stored reversed:

    >>> df["wai_4"] = 6 - df["wai_4"]
    >>> keys = {"all": [f"wai_{i}" if i != 4 else "-wai_4" for i in range(1, 13)]}
    >>> reliability(df, keys=keys, min=1, max=5)[["scale", "alpha", "lambda6"]].round(3)
      scale  alpha  lambda6
    0   all  0.923     0.92
    """
    check_options(missing=missing, ci=ci)
    prep = prepare(
        data,
        instrument,
        scales=scales,
        items=items,
        missing_codes=missing_codes,
        labels=labels,
        allow_provisional=allow_provisional,
        keys=keys,
        lo=min,
        hi=max,
    )
    return reliability_table(prep, missing=missing, ci=ci)


def reliability_table(
    prep: Prepared, *, missing: MissingPolicy = "pairwise", ci: float | None = 0.95
) -> pd.DataFrame:
    """:func:`reliability` on already prepared data."""
    rows = [scale_reliability(prep, s, missing=missing, ci=ci) for s in prep.scales]
    return reliability_table_of(rows)


def reliability_table_of(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The reliability table of rows made by :func:`reliability_row` (columns, rounding)."""
    return round_frame(pd.DataFrame.from_records(rows, columns=list(RELIABILITY_COLUMNS)))


def without_constant_items(m: Moments, items: Sequence[str]) -> tuple[Moments, tuple[str, ...]]:
    """The moments of the items with variance (a sub-matrix) and the ids of the others.

    Pairwise covariances and correlations do not depend on the other items, and
    listwise ones are those of the scale's complete rows, so the sub-matrix is exact; the
    rows used stay those of all the scale's items.
    """
    varies = has_variance(m.cov)
    if varies.all():
        return m, ()
    dropped = tuple(i for i, v in zip(items, varies, strict=True) if not v)
    pick = np.ix_(varies, varies)
    kept = Moments(
        n_rows=m.n_rows,
        n_answered=m.n_answered[varies],
        n_pairs=m.n_pairs[pick],
        mean=m.mean[varies],
        cov=m.cov[pick],
        cor=m.cor[pick],
    )
    return kept, dropped


def scale_reliability(
    prep: Prepared, scale: Scale, *, missing: MissingPolicy, ci: float | None
) -> dict[str, Any]:
    """One row of the reliability table."""
    _, dropped, m = kept_items(prep, scale, missing)
    return reliability_row(scale.id, m, dropped, missing=missing, ci=ci)


def reliability_row(
    scale_id: str,
    m: Moments,
    dropped: Sequence[str] = (),
    *,
    missing: MissingPolicy,
    ci: float | None,
) -> dict[str, Any]:
    """One row of the reliability table from the moments of the items kept (those with
    variance) and the ids of the items left out; :func:`reliability_table_of` makes the
    table. Shared by every path that computes reliability (also from merged moments)."""
    k = int(m.cov.shape[0])
    notes: list[str] = []
    if dropped:
        notes.append(dropped_note(dropped))
    if k < 2:
        notes.append(f"{k} item(s) with variance: no coefficient of internal consistency")
    alpha = alpha_from_cov(m.cov)
    scaled = m.scaled_cov()
    lower = upper = float("nan")
    level = float("nan")
    if ci is not None:
        try:
            lower, upper = feldt_interval(alpha, m.n_rows, k, ci)
            level = float(ci)
        except MissingDependencyError:
            notes.append(
                "Feldt interval left out: it needs scipy (pip install 'alliance-score[stats]')"
            )
    omega = omega_total(m.cor, one_factor_minres(m.cor))
    if k >= 2 and not math.isfinite(omega):
        notes.append(
            "omega_total missing: the one-factor model did not converge or is improper "
            "(a Heywood case)"
        )
    return {
        "scale": scale_id,
        "n_items": k,
        "n_rows": m.n_rows,
        "missing": missing,
        "alpha": alpha,
        "alpha_ci_lower": lower,
        "alpha_ci_upper": upper,
        "ci_level": level,
        "alpha_std": alpha_std_from_cor(scaled),
        "omega_total": omega,
        "average_r": average_r(scaled),
        "lambda6": guttman_lambda6(scaled),
        "dropped_items": ",".join(dropped),
        "note": "; ".join(notes),
    }


def kept_items(
    prep: Prepared, scale: Scale, missing: MissingPolicy
) -> tuple[tuple[str, ...], tuple[str, ...], Moments]:
    """The scale's items with variance, those without, and the moments of the kept ones.

    As ``psych::alpha`` does, an item with no variance (every answer the same, or fewer
    than two answers) is left out of every statistic of its scale. The rows used are
    those of the whole scale (for ``listwise``, the rows that answer all its items).
    """
    m, dropped = without_constant_items(
        moments(prep.keyed[:, prep.columns(scale)], missing), scale.items
    )
    kept = tuple(i for i in scale.items if i not in dropped)
    return kept, dropped, m


def dropped_note(dropped: Sequence[str]) -> str:
    """The note saying which items were left out for having no variance."""
    return (
        f"item(s) {', '.join(dropped)} had no variance and were left out of the "
        "statistics (as psych::alpha does)"
    )
