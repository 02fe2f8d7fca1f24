"""Reliability of client means when sessions are nested in clients (and clients in therapists)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import ArgumentError, DataError
from ..psychometrics._coefficients import round_frame, round_values
from ._columns import check_choice, prepare, refuse_clash, require_columns

__all__ = ["NESTED_COLUMNS", "nested_icc", "one_way_icc"]

GroupSize = Literal["mean", "n0"]

NESTED_COLUMNS: tuple[str, ...] = (
    "level",
    "n_groups",
    "n_obs",
    "group_size",
    "ms_between",
    "ms_within",
    "f",
    "icc1",
    "icc2",
    "note",
)
"""Columns of :func:`nested_icc` (after the rater column when one is given)."""


def one_way_icc(
    values: pd.Series | ArrayLike,
    groups: pd.Series | ArrayLike,
    *,
    group_size: GroupSize = "mean",
) -> dict[str, float]:
    """ICC(1) and ICC(2) from a one-way ANOVA of ``values`` by ``groups`` (unbalanced).

    Parameters
    ----------
    values
        Observations (missing values are dropped).
    groups
        Group label of each observation. Two Series are paired by index label, as pandas
        aligns them (their labels must match, in any order); anything else is paired by
        position and must have the same length.
    group_size
        The group size :math:`k` in ICC(1): ``"mean"`` (:math:`N/G`, as R's
        ``psych::statsBy``) or ``"n0"`` (:math:`(N - \\sum n_g^2/N)/(G-1)`, the ANOVA
        estimator for unbalanced groups).

    Returns
    -------
    dict
        ``n_groups``, ``n_obs``, ``group_size``, ``ms_between``, ``ms_within``, ``f``,
        ``icc1``, ``icc2``.

    Notes
    -----
    With :math:`G` groups of sizes :math:`n_g`, group means :math:`\\bar y_g` and grand
    mean :math:`\\bar y` (weighted by group size):

    .. math::

        MS_B = \\frac{\\sum_g n_g(\\bar y_g - \\bar y)^2}{G - 1}, \\quad
        MS_W = \\frac{\\sum_g\\sum_i (y_{gi} - \\bar y_g)^2}{N - G}, \\\\
        ICC(1) = \\frac{MS_B - MS_W}{MS_B + (k - 1) MS_W}, \\quad
        ICC(2) = \\frac{MS_B - MS_W}{MS_B}

    (Bliese, 2000). ICC(1) estimates the share of variance between groups (the
    reliability of one observation as a measure of its group); ICC(2) the reliability of
    the group means. Groups with one observation add to :math:`MS_B` only. In R:
    ``psych::statsBy(d, group = "client")$ICC1`` and ``$ICC2``. When every observation
    is the same the ICCs and F are NaN; when only the within-group variance is 0, F is
    infinite and both ICCs are 1. By hand for the example
    (groups (1, 2, 3) and (4, 6), grand mean 3.2): :math:`MS_B = 3(2 - 3.2)^2 +
    2(5 - 3.2)^2 = 10.8`, :math:`MS_W = 4/3`, :math:`k = 2.5`, so
    ICC(1) = 9.466667 / 12.8 = 0.739583 and ICC(2) = 9.466667 / 10.8 = 0.876543.

    References
    ----------
    .. [1] Bliese, P. D. (2000). Within-group agreement, non-independence, and
       reliability: Implications for data aggregation and analysis. In K. J. Klein &
       S. W. J. Kozlowski (Eds.), *Multilevel theory, research, and methods in
       organizations* (pp. 349-381). Jossey-Bass.
    .. [2] Revelle, W. (2024). *psych: Procedures for Psychological, Psychometric, and
       Personality Research* (``statsBy``). R package.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import one_way_icc
    >>> res = one_way_icc(pd.Series([1.0, 2, 3, 4, 6]), pd.Series(list("aaabb")))
    >>> round(res["icc1"], 6), round(res["icc2"], 6)
    (0.739583, 0.876543)
    """
    check_choice("group_size", group_size, ("mean", "n0"))
    y, g = _aligned(values, groups)
    result, reason = _anova(y, g, group_size)
    if reason:
        raise DataError(f"ICC(1) cannot be computed: {reason}.")
    return round_values(result)


_EMPTY = ("n_groups", "n_obs", "group_size", "ms_between", "ms_within", "f", "icc1", "icc2")


def _anova(y: pd.Series, g: pd.Series, group_size: str) -> tuple[dict[str, float], str]:
    """The one-way ANOVA ICCs, or NaN and the reason they cannot be computed."""
    stats = y.groupby(g, sort=False, observed=True).agg(["count", "mean"])
    within = y - y.groupby(g, sort=False, observed=True).transform("mean")
    return anova_from_groups(
        stats["count"].to_numpy(dtype=np.float64),
        stats["mean"].to_numpy(dtype=np.float64),
        float((within**2).sum()),
        group_size,
    )


def anova_from_groups(
    n_g: np.ndarray[Any, np.dtype[np.float64]],
    mean_g: np.ndarray[Any, np.dtype[np.float64]],
    ss_within: float,
    group_size: str,
) -> tuple[dict[str, float], str]:
    """ICC(1), ICC(2) and the mean squares from each group's size and mean and the pooled
    within-group sum of squares (so merged partial sums give the same numbers); NaN and
    the reason when they cannot be computed."""
    n_groups = len(n_g)
    n_obs = float(n_g.sum())
    if n_groups < 2 or n_obs <= n_groups:
        empty = dict.fromkeys(_EMPTY, float("nan"))
        empty.update(n_groups=float(n_groups), n_obs=n_obs)
        what = "a single group" if n_groups < 2 else "one observation per group"
        return empty, (
            f"it needs 2 or more groups and more observations than groups; got "
            f"{n_groups} group(s) and {int(n_obs)} observation(s) ({what})"
        )
    grand = float((n_g * mean_g).sum() / n_obs)
    ms_b = float((n_g * (mean_g - grand) ** 2).sum()) / (n_groups - 1)
    ms_w = ss_within / (n_obs - n_groups)
    k = float(
        n_obs / n_groups
        if group_size == "mean"
        else (n_obs - (n_g**2).sum() / n_obs) / (n_groups - 1)
    )
    denominator = ms_b + (k - 1.0) * ms_w
    icc1 = (ms_b - ms_w) / denominator if denominator > 0 else float("nan")
    icc2 = (ms_b - ms_w) / ms_b if ms_b > 0 else float("nan")
    # no variance within groups: F is infinite, or undefined when there is none at all
    f = ms_b / ms_w if ms_w > 0 else (float("inf") if ms_b > 0 else float("nan"))
    return {
        "n_groups": float(n_groups),
        "n_obs": n_obs,
        "group_size": k,
        "ms_between": ms_b,
        "ms_within": ms_w,
        "f": f,
        "icc1": icc1,
        "icc2": icc2,
    }, ""


def icc_note(result: dict[str, float], reason: str = "") -> str:
    """Why an ICC is missing or outside its range, in words (empty when nothing needs one)."""
    if reason:
        return f"not computed: {reason}"
    notes = []
    if result["ms_between"] == 0 and result["ms_within"] == 0:
        notes.append("no variance: every score is the same, so the ICCs are undefined")
    elif result["ms_between"] < result["ms_within"]:
        notes.append(
            "negative estimates: the between-group mean square is below the within-group "
            "one (a negative between-group variance estimate, read as no group effect)"
        )
        low = [name for name in ("icc1", "icc2") if result[name] < -1]
        if low:
            notes.append(
                f"{' and '.join(low)} below -1, outside [-1, 1]: the groups hold few "
                f"observations (group size {result['group_size']:.3g}) or there are few groups "
                f"({int(result['n_groups'])})"
            )
    if result["ms_within"] == 0 and result["ms_between"] > 0:
        notes.append("no variance within groups: F is infinite")
    return "; ".join(notes)


def _level(values: pd.Series, groups: pd.Series, group_size: str) -> dict[str, object]:
    y, g = _aligned(values, groups)
    result, reason = _anova(y, g, group_size)
    return {**result, "note": icc_note(result, reason)}


def _aligned(values: object, groups: object) -> tuple[pd.Series, pd.Series]:
    """Values and groups paired by index label (two Series) or by position (otherwise),
    without the pairs that miss either."""
    if isinstance(values, pd.DataFrame) or isinstance(groups, pd.DataFrame):
        raise ArgumentError("values and groups must each be one column (a Series), not a table.")
    v = values if isinstance(values, pd.Series) else pd.Series(_one_dim("values", values))
    g = groups if isinstance(groups, pd.Series) else pd.Series(_one_dim("groups", groups))
    if isinstance(values, pd.Series) and isinstance(groups, pd.Series):
        if not v.index.equals(g.index):
            if not (v.index.is_unique and g.index.is_unique) or set(v.index) != set(g.index):
                raise DataError(
                    "values and groups are Series with different index labels; they are "
                    "paired by label, as pandas aligns them, so each label must be in both "
                    "(reset both indexes to pair them by position)."
                )
            g = g.reindex(v.index)
    elif len(v) != len(g):
        raise DataError(f"values and groups differ in length ({len(v)} and {len(g)}).")
    if not (pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)):
        raise DataError(f"values must be numbers; got dtype {v.dtype}.")
    y = v.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(y).any():
        raise DataError("values must be finite; they hold an infinite value.")
    ok = ~np.isnan(y) & g.notna().to_numpy()
    return pd.Series(y[ok]), pd.Series(g.to_numpy()[ok])


def _one_dim(name: str, data: object) -> np.ndarray[Any, Any]:
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"{name} must be a one-dimensional sequence.") from exc
    if array.ndim != 1:
        raise ArgumentError(f"{name} must be one-dimensional; got shape {array.shape}.")
    return array


def nested_icc(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    therapist: str | None = None,
    score: str = "total",
    group_size: GroupSize = "mean",
) -> pd.DataFrame:
    """ICC(1) and ICC(2) of client means over sessions, optionally of therapist means too.

    Parameters
    ----------
    data
        Long table of session scores (unbalanced: clients may have any number of rated
        sessions).
    client, session, rater, score
        Column names. With ``rater``, each rater's ratings are analysed separately.
    therapist
        Optional therapist column: adds a ``"therapist"`` level, where the client means
        are the observations and therapists the groups. Every client must have one
        therapist.
    group_size
        See :func:`one_way_icc`.

    Returns
    -------
    pandas.DataFrame
        One row per level (``"client"``, then ``"therapist"``; per rater when given)
        with the columns of :data:`NESTED_COLUMNS`. Each level that can be computed is;
        a level that cannot (one client per therapist, a single group) has NaN
        estimates and says why in ``note``, which also says when an estimate is
        negative or outside [-1, 1], and when F is infinite (no variance within groups).

    Notes
    -----
    Client level: sessions are the observations and clients the groups, as in
    ``psych::statsBy(d[, c("client", "total")], group = "client")``. ICC(1) is the share
    of rating variance that lies between clients; ICC(2) the reliability of a client's
    mean over their sessions (Bliese, 2000). Therapist level: each client's mean over
    their rated sessions is one observation, grouped by therapist, as in
    ``psych::statsBy(client_means, group = "therapist")``; this two-step estimate ignores
    the differing precision of client means (a full three-level mixed model does not).
    Rows without a score are ignored. See :func:`one_way_icc` for the formulas.

    ICC(1) and ICC(2) are ratios of mean squares, not of variances, so they can be
    negative (the between-group mean square below the within-group one: no group effect
    in this sample, with sampling error) and, with small groups or few groups, below -1
    (ICC(2) = 1 - MS_W / MS_B is unbounded below). They match psych in these cases too;
    ``note`` says so rather than clipping. When every score within each group is the
    same, MS_W = 0 and F is infinite; when no score varies at all the ICCs are NaN.

    References
    ----------
    .. [1] Bliese, P. D. (2000). Within-group agreement, non-independence, and
       reliability: Implications for data aggregation and analysis. In K. J. Klein &
       S. W. J. Kozlowski (Eds.), *Multilevel theory, research, and methods in
       organizations* (pp. 349-381). Jossey-Bass.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import nested_icc
    >>> df = pd.DataFrame({"client": list("aaabb"), "session": [1, 2, 3, 1, 2],
    ...                    "total": [1.0, 2, 3, 4, 6]})
    >>> nested_icc(df)[["level", "n_groups", "icc1", "icc2"]]
        level  n_groups      icc1      icc2
    0  client         2  0.739583  0.876543
    """
    check_choice("group_size", group_size, ("mean", "n0"))
    require_columns(data, {"therapist": therapist})
    refuse_clash([rater], NESTED_COLUMNS, "nested_icc")
    extra = [therapist] if therapist is not None else []
    d = prepare(data, client=client, session=session, rater=rater, score=score, extra=extra)
    parts = [(None, d)] if rater is None else list(d.groupby(rater, sort=True, observed=True))
    rows: list[dict[str, object]] = []
    for rater_value, sub in parts:
        head: dict[str, object] = {} if rater is None else {str(rater): rater_value}
        rows.append({**head, "level": "client", **_level(sub[score], sub[client], group_size)})
        if therapist is not None:
            per_client = sub.groupby(client, sort=True, observed=True).agg(
                mean=(score, "mean"), therapists=(therapist, "nunique"), th=(therapist, "first")
            )
            if (per_client["therapists"] > 1).any():
                raise DataError(
                    f"Every client must have one therapist in column {therapist!r}; "
                    f"{int((per_client['therapists'] > 1).sum())} client(s) have more."
                )
            level = _level(per_client["mean"], per_client["th"], group_size)
            rows.append({**head, "level": "therapist", **level})
    out = pd.DataFrame(rows)
    out["note"] = out["note"].astype(str)
    out["n_groups"] = out["n_groups"].astype(np.int64)
    out["n_obs"] = out["n_obs"].astype(np.int64)
    return round_frame(out, keep=[rater])
