"""Client-therapist agreement on the same sessions: discrepancy, correlation, ICC, RSA terms."""

from __future__ import annotations

import importlib
import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import ArgumentError, DataError, MissingDependencyError
from ..psychometrics._coefficients import round_frame, round_values
from ._columns import check_choice, check_number, prepare, require_columns

__all__ = [
    "AGREEMENT_COLUMNS",
    "ICC_COLUMNS",
    "intraclass_correlations",
    "pair_ratings",
    "rater_agreement",
    "response_surface_terms",
    "two_way_icc",
]

AGREEMENT_COLUMNS: tuple[str, ...] = (
    "n_pairs",
    "n_clients",
    "mean_rater1",
    "mean_rater2",
    "mean_difference",
    "sd_difference",
    "r",
    "icc_a1",
    "icc_a1_lower",
    "icc_a1_upper",
    "icc_c1",
    "icc_c1_lower",
    "icc_c1_upper",
    "note",
)
"""Columns of :func:`rater_agreement`."""

SURFACE_COLUMNS: tuple[str, ...] = ("c", "t", "c2", "ct", "t2")
"""Columns :func:`response_surface_terms` adds to the output of :func:`pair_ratings`."""


def two_way_icc(ratings: ArrayLike, *, ci: float | None = 0.95) -> dict[str, float]:
    """Single-measure two-way ICCs of absolute agreement, ICC(A,1), and consistency, ICC(C,1).

    Parameters
    ----------
    ratings
        An *n* x *k* array (or DataFrame): *n* targets (rows), *k* raters (columns). Rows
        with any missing value are dropped.
    ci
        Confidence level of the intervals (default 0.95, as everywhere in the library),
        or ``None`` for none. The intervals need scipy (``pip install
        'alliance-score[stats]'``); this low-level function raises
        :class:`~alliance_score.MissingDependencyError` without it, while the tables
        (:func:`rater_agreement`, :func:`intraclass_correlations`) give NaN bounds and
        say why in ``note``.

    Returns
    -------
    dict
        ``icc_a1``, ``icc_c1``, the mean squares ``ms_rows``, ``ms_columns``,
        ``ms_error`` and the numbers ``n`` (complete rows) and ``k``; with ``ci``, also
        ``icc_a1_lower``, ``icc_a1_upper``, ``icc_c1_lower`` and ``icc_c1_upper``.

    Notes
    -----
    From the two-way ANOVA without replication (McGraw & Wong, 1996, Table 4; Shrout &
    Fleiss, 1979, ICC(2,1) and ICC(3,1)):

    .. math::

        ICC(C,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E}, \\qquad
        ICC(A,1) = \\frac{MS_R - MS_E}{MS_R + (k-1) MS_E + \\frac{k}{n}(MS_C - MS_E)}

    ICC(A,1) counts a constant difference between raters as disagreement; ICC(C,1) does
    not. In R: ``psych::ICC(x)$results`` rows ``ICC2`` (= A,1) and ``ICC3`` (= C,1).

    The intervals are McGraw & Wong's (1996, Table 7), as ``psych::ICC`` computes them.
    With :math:`F = MS_R / MS_E`, :math:`d_1 = n - 1`, :math:`d_2 = (n-1)(k-1)` and
    :math:`F_{p}(a, b)` the *p* quantile of the F distribution, for ICC(C,1):
    :math:`F_L = F / F_{1-\\alpha/2}(d_1, d_2)`, :math:`F_U = F \\cdot F_{1-\\alpha/2}(d_2, d_1)`
    and the bounds :math:`(F_L - 1) / (F_L + k - 1)` and :math:`(F_U - 1) / (F_U + k - 1)`.
    ICC(A,1)'s bounds use Satterthwaite's degrees of freedom *v* for the mixed mean square
    (with :math:`F_J = MS_C / MS_E` and :math:`\\rho` = ICC(A,1)):

    .. math::

        v = \\frac{(k-1)(n-1)\\,[k \\rho F_J + n(1 + (k-1)\\rho) - k\\rho]^2}
                 {(n-1) k^2 \\rho^2 F_J^2 + [n(1 + (k-1)\\rho) - k\\rho]^2}

    and, with :math:`F_* = F_{1-\\alpha/2}(n-1, v)`, :math:`F^* = F_{1-\\alpha/2}(v, n-1)`
    and :math:`D = k\\,MS_C + (kn - k - n) MS_E`:

    .. math::

        L = \\frac{n (MS_R - F_* MS_E)}{F_* D + n MS_R}, \\qquad
        U = \\frac{n (F^* MS_R - MS_E)}{D + n F^* MS_R}

    The interval of ICC(C,1) always holds the estimate; that of ICC(A,1), an
    approximation, can lie wholly below a negative estimate (as in ``psych::ICC``).
    When :math:`MS_E = 0` (the raters differ by a constant in every row) the F ratios
    are infinite and the bounds are their limits as :math:`MS_E \\to 0`: 1 and 1 for
    ICC(C,1), and for ICC(A,1) the formulas above with :math:`MS_E = 0` and
    :math:`v = k - 1`.
    By hand for the example: :math:`MS_R = 10/3`, :math:`MS_C = 2`, :math:`MS_E = 0`,
    so ICC(C,1) = 1 and ICC(A,1) = (10/3) / (10/3 + 2 x 2/4) = 0.769231.

    References
    ----------
    .. [1] McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
       correlation coefficients. *Psychological Methods, 1*(1), 30-46.
       https://doi.org/10.1037/1082-989X.1.1.30
    .. [2] Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in
       assessing rater reliability. *Psychological Bulletin, 86*(2), 420-428.
       https://doi.org/10.1037/0033-2909.86.2.420

    Examples
    --------
    >>> from alliance_score.sessions import two_way_icc
    >>> res = two_way_icc([[1, 2], [2, 3], [3, 4], [4, 5]])
    >>> round(res["icc_c1"], 6), round(res["icc_a1"], 6)
    (1.0, 0.769231)

    Shrout & Fleiss's (1979) six targets rated by four judges, as in ``psych::ICC``:

    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> res = two_way_icc(sf, ci=0.95)
    >>> [round(res[key], 4) for key in ("icc_a1", "icc_a1_lower", "icc_a1_upper")]
    [0.2898, 0.0188, 0.7611]
    >>> [round(res[key], 4) for key in ("icc_c1", "icc_c1_lower", "icc_c1_upper")]
    [0.7148, 0.3425, 0.9459]
    """
    x = _ratings_matrix(ratings)
    if ci is not None:
        _check_level(ci)
    if x.ndim != 2 or x.shape[1] < 2:
        raise DataError(f"ratings must be a 2-D array with 2 or more raters; got shape {x.shape}")
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if n < 2:
        raise DataError(f"An ICC needs 2 or more complete rows of ratings; got {n}.")
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = max(ss_err, 0.0) / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc_c1 = (msr - mse) / (msr + (k - 1) * mse)
        icc_a1 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    result = {
        "icc_a1": float(icc_a1),
        "icc_c1": float(icc_c1),
        "ms_rows": float(msr),
        "ms_columns": float(msc),
        "ms_error": float(mse),
        "n": float(n),
        "k": float(k),
    }
    if ci is not None:
        result.update(_icc_intervals(result, ci))
    return round_values(result)


ICC_COLUMNS: tuple[str, ...] = (
    "type",
    "model",
    "icc",
    "f",
    "df1",
    "df2",
    "p",
    "lower",
    "upper",
    "note",
)
"""Columns of :func:`intraclass_correlations`."""

_ICC_MODELS = (
    ("ICC1", "ICC(1,1)"),
    ("ICC2", "ICC(A,1)"),
    ("ICC3", "ICC(C,1)"),
    ("ICC1k", "ICC(1,k)"),
    ("ICC2k", "ICC(A,k)"),
    ("ICC3k", "ICC(C,k)"),
)


def intraclass_correlations(ratings: ArrayLike, *, ci: float | None = 0.95) -> pd.DataFrame:
    """The six ICCs of Shrout & Fleiss (1979), single and average measures, for k raters.

    Parameters
    ----------
    ratings
        An *n* x *k* array (or DataFrame): *n* targets (rows), *k* >= 2 raters (columns).
        Rows with any missing value are dropped.
    ci
        Confidence level of the intervals (default 0.95), or ``None`` for none. The
        intervals and p values need scipy (``pip install 'alliance-score[stats]'``);
        without it they are NaN and ``note`` says why.

    Returns
    -------
    pandas.DataFrame
        Six rows, in the order of ``psych::ICC(x, lmer = FALSE)$results``, with the
        columns of :data:`ICC_COLUMNS`: ``type`` (psych's name: ``ICC1`` ... ``ICC3k``),
        ``model`` (McGraw & Wong's name: ``ICC(1,1)``, ``ICC(A,1)``, ``ICC(C,1)``,
        ``ICC(1,k)``, ``ICC(A,k)``, ``ICC(C,k)``), ``icc``, the F test (``f``, ``df1``,
        ``df2``, ``p``), the interval bounds ``lower`` and ``upper``, and ``note`` (why a
        value is missing, or that an estimate is negative or outside [-1, 1]).

    Notes
    -----
    From the two-way ANOVA of targets by raters, with mean squares :math:`MS_R`
    (targets), :math:`MS_C` (raters), :math:`MS_E` (residual) and the one-way
    within-target mean square :math:`MS_W = (SS_C + SS_E) / (n (k - 1))`:

    .. math::

        ICC(1,1) = \\frac{MS_R - MS_W}{MS_R + (k-1) MS_W}, \\quad
        ICC(1,k) = \\frac{MS_R - MS_W}{MS_R}, \\\\
        ICC(A,k) = \\frac{MS_R - MS_E}{MS_R + (MS_C - MS_E)/n}, \\quad
        ICC(C,k) = \\frac{MS_R - MS_E}{MS_R}

    and ICC(A,1), ICC(C,1) as in :func:`two_way_icc`. The F tests are
    :math:`MS_R / MS_W` on :math:`n - 1` and :math:`n(k - 1)` degrees of freedom (one-way
    models) and :math:`MS_R / MS_E` on :math:`n - 1` and :math:`(n-1)(k-1)` (two-way).
    The intervals are McGraw & Wong's (1996), as ``psych::ICC`` computes them: the
    average-measure bounds are :math:`1 - 1/F_L` and :math:`1 - 1/F_U` for ICC(1,k) and
    ICC(C,k), and the Spearman-Brown step-up of ICC(A,1)'s bounds for ICC(A,k). When
    :math:`MS_E = 0` the bounds are their limits, as in :func:`two_way_icc`. In R:
    ``psych::ICC(x, lmer = FALSE)`` (psych's default ``lmer = TRUE`` estimates the
    variance components by REML instead and differs on unbalanced or unusual data).

    References
    ----------
    .. [1] Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in
       assessing rater reliability. *Psychological Bulletin, 86*(2), 420-428.
       https://doi.org/10.1037/0033-2909.86.2.420
    .. [2] McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
       correlation coefficients. *Psychological Methods, 1*(1), 30-46.
       https://doi.org/10.1037/1082-989X.1.1.30

    Examples
    --------
    Shrout & Fleiss's (1979) six targets rated by four judges (psych's ``sf`` data):

    >>> from alliance_score.sessions import intraclass_correlations
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> table = intraclass_correlations(sf)
    >>> table[["model", "icc", "lower", "upper"]].round(4)
          model     icc   lower   upper
    0  ICC(1,1)  0.1657 -0.1329  0.7226
    1  ICC(A,1)  0.2898  0.0188  0.7611
    2  ICC(C,1)  0.7148  0.3425  0.9459
    3  ICC(1,k)  0.4428 -0.8844  0.9124
    4  ICC(A,k)  0.6201  0.0711  0.9272
    5  ICC(C,k)  0.9093  0.6757  0.9859
    """
    level = None if ci is None else _check_level(ci)
    base = two_way_icc(ratings, ci=None)
    msr, msc, mse = base["ms_rows"], base["ms_columns"], base["ms_error"]
    n, k = base["n"], base["k"]
    msw = ((k - 1.0) * msc + (n - 1.0) * (k - 1.0) * mse) / (n * (k - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc = [
            _ratio(msr - msw, msr + (k - 1.0) * msw),
            base["icc_a1"],
            base["icc_c1"],
            _ratio(msr - msw, msr),
            _ratio(msr - mse, msr + (msc - mse) / n),
            _ratio(msr - mse, msr),
        ]
    f1, f2 = _ratio(msr, msw), _ratio(msr, mse)
    df = [(n - 1.0, n * (k - 1.0)), (n - 1.0, (n - 1.0) * (k - 1.0))]
    which = [0, 1, 1, 0, 1, 1]
    f = [f1 if w == 0 else f2 for w in which]
    nan = float("nan")
    p = [nan] * 6
    lower, upper = [nan] * 6, [nan] * 6
    notes = [""] * 6
    try:
        stats: Any = importlib.import_module("scipy.stats")
    except ImportError:
        stats = None
        notes = [
            "p values and intervals left out: they need scipy (pip install 'alliance-score[stats]')"
        ] * 6
    if stats is not None:
        p = [_sf(stats, f[i], *df[which[i]]) for i in range(6)]
        if level is not None:
            q = 1.0 - (1.0 - level) / 2.0
            with np.errstate(divide="ignore", invalid="ignore"):
                f1_lower = np.float64(f1) / stats.f.ppf(q, *df[0])
                f1_upper = np.float64(f1) * stats.f.ppf(q, df[0][1], df[0][0])
                f3_lower = np.float64(f2) / stats.f.ppf(q, *df[1])
                f3_upper = np.float64(f2) * stats.f.ppf(q, df[1][1], df[1][0])
            two_way = _icc_intervals(base, level)
            a_low, a_up = two_way["icc_a1_lower"], two_way["icc_a1_upper"]
            lower = [
                _bound(float(f1_lower), k),
                a_low,
                two_way["icc_c1_lower"],
                _average(float(f1_lower)),
                _step_up(a_low, k),
                _average(float(f3_lower)),
            ]
            upper = [
                _bound(float(f1_upper), k),
                a_up,
                two_way["icc_c1_upper"],
                _average(float(f1_upper)),
                _step_up(a_up, k),
                _average(float(f3_upper)),
            ]
    rows = []
    for i, (kind, model) in enumerate(_ICC_MODELS):
        note = "; ".join(
            x for x in (notes[i], _estimate_note(icc[i], msr, mse if which[i] else msw, n)) if x
        )
        rows.append(
            (
                kind,
                model,
                icc[i],
                f[i],
                df[which[i]][0],
                df[which[i]][1],
                p[i],
                lower[i],
                upper[i],
                note,
            )
        )
    return round_frame(pd.DataFrame.from_records(rows, columns=list(ICC_COLUMNS)))


def _ratio(a: float, b: float) -> float:
    """``a / b`` with the limits: infinite for a positive over 0, NaN for 0 over 0."""
    if b == 0:
        return float("nan") if a == 0 else math.copysign(float("inf"), a)
    return float(a / b)


def _sf(stats: Any, f: float, d1: float, d2: float) -> float:
    if math.isnan(f):
        return float("nan")
    return float(stats.f.sf(f, d1, d2))


def _average(f: float) -> float:
    """An average-measures bound ``1 - 1/F`` (1 when F is infinite)."""
    if math.isnan(f):
        return float("nan")
    return 1.0 - 1.0 / f if f != 0 else float("-inf")


def _step_up(r: float, k: float) -> float:
    """Spearman-Brown: the reliability of the mean of ``k`` raters from one rater's ``r``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(r) * k / (1.0 + r * (k - 1.0)))


def _estimate_note(icc: float, msr: float, error: float, n: float) -> str:
    """Why an estimate is missing, negative or outside [-1, 1], in words."""
    if math.isnan(icc):
        return "undefined: no variance between or within targets"
    if icc < -1 or icc > 1:
        return (
            f"outside [-1, 1]: the target mean square ({msr:.4g}) is far below the error "
            f"one ({error:.4g}) with {int(n)} targets (a negative variance estimate; "
            "psych reports the same value)"
        )
    if icc < 0:
        return (
            "negative: the target mean square is below the error one (a negative "
            "between-target variance estimate, read as no agreement beyond chance)"
        )
    return ""


def _ratings_matrix(ratings: object) -> NDArray[np.float64]:
    """The ratings as a float matrix; text, booleans and infinities are refused."""
    try:
        if isinstance(ratings, pd.DataFrame):  # nullable columns hold pd.NA, not NaN
            if any(pd.api.types.is_bool_dtype(t) for t in ratings.dtypes):
                raise DataError("ratings must be numbers; a column holds booleans.")
            x = ratings.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raw = np.asarray(ratings)
            if raw.dtype.kind not in "iuf" and raw.dtype != object:
                raise DataError(f"ratings must be numbers; got {raw.dtype} values.")
            x = np.asarray(ratings, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            "ratings must be a table of numbers (targets x raters); some cells are not numbers."
        ) from exc
    if np.isinf(x).any():
        raise DataError("ratings must be finite; a cell holds an infinite value.")
    return x


def _check_level(level: object) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise ArgumentError(f"ci (the confidence level) must be between 0 and 1; got {level!r}.")
    return float(level)


def _icc_intervals(icc: dict[str, float], level: float) -> dict[str, float]:
    """McGraw & Wong's (1996) intervals for ICC(A,1) and ICC(C,1) (see :func:`two_way_icc`)."""
    _check_level(level)
    try:
        stats: Any = importlib.import_module("scipy.stats")
    except ImportError as exc:
        raise MissingDependencyError("Confidence intervals of the ICC", "scipy", "stats") from exc
    msr, msc, mse = icc["ms_rows"], icc["ms_columns"], icc["ms_error"]
    n, k = icc["n"], icc["k"]
    q = 1.0 - (1.0 - level) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.float64(msr) / mse
        d1, d2 = n - 1.0, (n - 1.0) * (k - 1.0)
        f_lower = f / stats.f.ppf(q, d1, d2)
        f_upper = f * stats.f.ppf(q, d2, d1)
        rho, fj = icc["icc_a1"], np.float64(msc) / mse
        mixed = n * (1.0 + (k - 1.0) * rho) - k * rho
        v = ((k - 1.0) * (n - 1.0) * (k * rho * fj + mixed) ** 2) / (
            (n - 1.0) * k**2 * rho**2 * fj**2 + mixed**2
        )
        if mse == 0 and msr > 0:  # the limits as MS_E falls to 0
            f_lower = f_upper = np.float64(np.inf)
            v = np.float64(k - 1.0 if msc > 0 else (k - 1.0) * (n - 1.0))
        f_star = stats.f.ppf(q, n - 1.0, v)
        f_star_upper = stats.f.ppf(q, v, n - 1.0)
        d = k * msc + (k * n - k - n) * mse
        return {
            "icc_a1_lower": float(n * (msr - f_star * mse) / (f_star * d + n * msr)),
            "icc_a1_upper": float(n * (f_star_upper * msr - mse) / (d + n * f_star_upper * msr)),
            "icc_c1_lower": _bound(f_lower, k),
            "icc_c1_upper": _bound(f_upper, k),
        }


def _bound(f: float, k: float) -> float:
    """ICC(C,1)'s bound ``(F - 1) / (F + k - 1)`` for an F limit, 1 when F is infinite."""
    return 1.0 if np.isposinf(f) else float((f - 1.0) / (f + k - 1.0))


def pair_ratings(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str = "rater",
    score: str = "total",
    raters: tuple[Any, Any] = ("client", "therapist"),
) -> pd.DataFrame:
    """Put the two raters' scores of the same session side by side.

    Parameters
    ----------
    data
        Long table with a rater column (e.g. client and therapist forms scored separately
        and concatenated with a ``rater`` column).
    client, session, rater, score
        Column names.
    raters
        The two values of the rater column to pair, first and second.

    Returns
    -------
    pandas.DataFrame
        Columns ``client``, ``session``, ``<score>_<rater1>``, ``<score>_<rater2>``: one
        row per session rated by both (with a score), sorted by client and session.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import pair_ratings
    >>> df = pd.DataFrame({"client": ["a"] * 4, "session": [1, 1, 2, 3],
    ...                    "rater": ["client", "therapist", "client", "therapist"],
    ...                    "total": [5.0, 4.0, 6.0, 3.0]})
    >>> pair_ratings(df)
      client  session  total_client  total_therapist
    0      a        1           5.0              4.0
    """
    return _pairs(data, client=client, session=session, rater=rater, score=score, raters=raters)


def _check_raters(raters: object) -> tuple[Any, Any]:
    pair: tuple[Any, ...] = ()
    if isinstance(raters, tuple | list):
        pair = tuple(raters)
    distinct = len(pair) == 2 and bool(pair[0] != pair[1])
    if not distinct or isinstance(raters, str):
        raise ArgumentError(f"raters must name two different rater values; got {raters!r}.")
    return pair[0], pair[1]


def _pair_names(score: str, raters: tuple[Any, Any]) -> list[str]:
    return [f"{score}_{r}" for r in raters]


def _pairs(
    data: pd.DataFrame,
    *,
    client: str,
    session: str,
    rater: str,
    score: str,
    raters: tuple[Any, Any],
    extra_outputs: tuple[str, ...] = (),
    what: str = "pair_ratings",
) -> pd.DataFrame:
    require_columns(data, {"rater": rater}, required=("rater",))
    raters = _check_raters(raters)
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        outputs=(*_pair_names(score, raters), *extra_outputs),
        what=what,
    )
    d = d.loc[d[rater].isin(list(raters))]
    # pivot (not pivot_table): duplicates were ruled out above and nothing is aggregated
    wide = d.pivot(index=[client, session], columns=rater, values=score)  # noqa: PD010
    wide = wide.reindex(columns=list(raters)).dropna()
    wide.columns = pd.Index(_pair_names(score, raters))
    return wide.sort_index().reset_index()


def rater_agreement(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str = "rater",
    score: str = "total",
    raters: tuple[Any, Any] = ("client", "therapist"),
    ci: float | None = 0.95,
) -> pd.DataFrame:
    """Agreement of two raters (client and therapist) over the sessions both rated.

    Parameters
    ----------
    data, client, session, rater, score, raters
        As in :func:`pair_ratings`; ``raters[0]`` is rater 1.
    ci
        Confidence level of the ICCs' intervals (McGraw & Wong, 1996, as in
        ``psych::ICC``; they need scipy), or ``None``: the interval columns are then NaN.

    Returns
    -------
    pandas.DataFrame
        One row with the columns of :data:`AGREEMENT_COLUMNS`: ``n_pairs`` (sessions rated
        by both), ``n_clients``, ``mean_rater1``, ``mean_rater2``, ``mean_difference``
        (rater 1 minus rater 2) and its ``sd_difference`` (``ddof=1``), Pearson ``r``,
        ``icc_a1`` and ``icc_c1`` with their interval bounds ``icc_a1_lower`` ...
        ``icc_c1_upper`` (see :func:`two_way_icc`), and ``note``: why an ICC is
        missing, or that it is negative or outside [-1, 1] (which happens with few
        paired sessions; psych reports the same values), empty otherwise.

    Notes
    -----
    Every paired session is one target of the ICC, so sessions of the same client are
    treated as independent targets; the nesting of sessions in clients is ignored here
    (it is the subject of :func:`nested_icc`). Client ratings of the alliance are
    usually higher than therapist ratings, so ICC(A,1) is expected to fall below
    ICC(C,1).

    References
    ----------
    .. [1] McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
       correlation coefficients. *Psychological Methods, 1*(1), 30-46.
       https://doi.org/10.1037/1082-989X.1.1.30

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import rater_agreement
    >>> df = pd.DataFrame({"client": ["a", "a", "b", "b", "c", "c", "d", "d"],
    ...                    "session": [1] * 8,
    ...                    "rater": ["client", "therapist"] * 4,
    ...                    "total": [2.0, 1, 3, 2, 4, 3, 5, 4]})
    >>> rater_agreement(df)[["n_pairs", "mean_difference", "r", "icc_a1", "icc_c1"]]
       n_pairs  mean_difference    r    icc_a1  icc_c1
    0        4              1.0  1.0  0.769231     1.0
    """
    pairs = _pairs(data, client=client, session=session, rater=rater, score=score, raters=raters)
    raters = _check_raters(raters)
    a = pairs[f"{score}_{raters[0]}"]
    b = pairs[f"{score}_{raters[1]}"]
    diff = a - b
    n = len(pairs)
    icc: dict[str, float] = {c: np.nan for c in AGREEMENT_COLUMNS if c.startswith("icc")}
    icc.update(ms_rows=np.nan, ms_error=np.nan)
    no_scipy = False
    if n >= 2:
        try:
            icc.update(two_way_icc(pairs.iloc[:, 2:4].to_numpy(), ci=ci))
        except MissingDependencyError:
            icc.update(two_way_icc(pairs.iloc[:, 2:4].to_numpy(), ci=None))
            no_scipy = True
    with np.errstate(divide="ignore", invalid="ignore"):
        r = float(np.corrcoef(a, b)[0, 1]) if n >= 2 else np.nan
    row: dict[str, object] = {
        "n_pairs": n,
        "n_clients": int(pairs[client].nunique()),
        "mean_rater1": float(a.mean()) if n else np.nan,
        "mean_rater2": float(b.mean()) if n else np.nan,
        "mean_difference": float(diff.mean()) if n else np.nan,
        "sd_difference": float(diff.std(ddof=1)) if n >= 2 else np.nan,
        "r": r,
    }
    row.update({c: icc[c] for c in AGREEMENT_COLUMNS if c.startswith("icc")})
    notes = []
    if no_scipy:
        notes.append("intervals left out: they need scipy (pip install 'alliance-score[stats]')")
    if n < 2:
        notes.append(f"{n} paired session(s): the ICCs need 2 or more")
    else:
        for name, label in (("icc_a1", "ICC(A,1)"), ("icc_c1", "ICC(C,1)")):
            said = _estimate_note(icc[name], icc["ms_rows"], icc["ms_error"], n)
            if said:
                notes.append(f"{label} {said}")
            elif ci is not None and not no_scipy and math.isnan(icc[f"{name}_lower"]):
                notes.append(f"{label}: interval undefined for these mean squares")
    row["note"] = "; ".join(notes)
    return round_frame(pd.DataFrame([row], columns=list(AGREEMENT_COLUMNS)))


def response_surface_terms(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str = "rater",
    score: str = "total",
    raters: tuple[Any, Any] = ("client", "therapist"),
    centre: Literal["pooled"] | float = "pooled",
) -> pd.DataFrame:
    """Centred polynomial terms for response-surface analysis of two raters' scores.

    Parameters
    ----------
    data, client, session, rater, score, raters
        As in :func:`pair_ratings`; rater 1 gives *C* (client), rater 2 gives *T*.
    centre
        The constant subtracted from both scores: ``"pooled"`` (the grand mean of all
        paired ratings of both raters) or a number (e.g. the scale midpoint).

    Returns
    -------
    pandas.DataFrame
        The output of :func:`pair_ratings` plus the columns ``c``, ``t``, ``c2``
        (:math:`C^2`), ``ct`` (:math:`C \\cdot T`) and ``t2`` (:math:`T^2`), ready for
        the regression :math:`Z = b_0 + b_1 C + b_2 T + b_3 C^2 + b_4 CT + b_5 T^2`.

    Notes
    -----
    Both scores are centred on the **same** constant so that the line of agreement
    :math:`C = T` keeps its meaning; centring each rater on its own mean would turn a
    mean difference between raters into apparent agreement (Edwards, 2002). Marmarosh &
    Kivlighan (2012) used this approach for client and counsellor alliance ratings.
    Which constant to use is left open in the literature; ``"pooled"`` is this
    library's default because it also reduces the collinearity of the squared terms.

    References
    ----------
    .. [1] Marmarosh, C. L., & Kivlighan, D. M., Jr. (2012). Relationships among client
       and counselor agreement about the working alliance, session evaluations, and
       change in client symptoms using response surface analysis. *Journal of
       Counseling Psychology, 59*(3), 352-367. https://doi.org/10.1037/a0028907
    .. [2] Edwards, J. R. (2002). Alternatives to difference scores: Polynomial
       regression analysis and response surface methodology. In F. Drasgow & N. W.
       Schmitt (Eds.), *Measuring and analyzing behavior in organizations* (pp.
       350-400). Jossey-Bass.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import response_surface_terms
    >>> df = pd.DataFrame({"client": ["a", "a", "b", "b"], "session": [1, 1, 1, 1],
    ...                    "rater": ["client", "therapist"] * 2,
    ...                    "total": [6.0, 4.0, 5.0, 5.0]})
    >>> response_surface_terms(df)[["c", "t", "c2", "ct", "t2"]]
         c    t   c2   ct   t2
    0  1.0 -1.0  1.0 -1.0  1.0
    1  0.0  0.0  0.0  0.0  0.0
    """
    pairs = _pairs(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        raters=raters,
        extra_outputs=SURFACE_COLUMNS,
        what="response_surface_terms",
    )
    raters = _check_raters(raters)
    a = pairs[f"{score}_{raters[0]}"]
    b = pairs[f"{score}_{raters[1]}"]
    if isinstance(centre, str):
        check_choice("centre", centre, ("pooled",))
        m = float(np.concatenate([a.to_numpy(), b.to_numpy()]).mean()) if len(pairs) else 0.0
    else:
        m = check_number("centre", centre)
    c = a - m
    t = b - m
    terms = pd.DataFrame({"c": c, "t": t, "c2": c * c, "ct": c * t, "t2": t * t})
    return pd.concat([pairs, round_frame(terms)], axis=1)
