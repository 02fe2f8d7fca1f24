"""Per-client summaries of alliance trajectories, early alliance and person-mean centring."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from ..psychometrics._coefficients import round_frame
from ._columns import check_choice, group_keys, prepare

__all__ = ["SUMMARY_COLUMNS", "EarlyRule", "decompose", "early_alliance", "summarize_clients"]

EarlyRule = Literal["session", "window"]
Centre = Literal["person", "past"]

SUMMARY_COLUMNS: tuple[str, ...] = (
    "n_sessions",
    "first_session",
    "last_session",
    "first",
    "last",
    "mean",
    "min",
    "max",
    "slope",
    "slope_se",
    "early",
    "early_n",
    "early_rule",
    "change",
)
"""Columns of :func:`summarize_clients` after the client (and rater) columns."""


def _early_rule_text(early: EarlyRule, early_session: int) -> str:
    if early == "session":
        return f"session {early_session}"
    return f"mean of sessions 1-{early_session}"


EARLY_COLUMNS: tuple[str, ...] = ("early", "early_n", "early_rule")


def _check_early(early: str, early_session: object) -> int:
    check_choice("early", early, ("session", "window"))
    if isinstance(early_session, bool) or not isinstance(early_session, int | np.integer):
        raise ArgumentError(f"early_session must be a whole number; got {early_session!r}.")
    if early_session < 1:
        raise ArgumentError(f"early_session must be 1 or more; got {early_session}.")
    return int(early_session)


def early_alliance(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    early_session: int = 3,
    early: EarlyRule = "session",
) -> pd.DataFrame:
    """Early alliance per client: the rating at one session or the mean of sessions 1..k.

    Parameters
    ----------
    data
        Long table of session scores (one row per client x session x rater).
    client, session, rater, score
        Column names.
    early_session
        The session number ``k``. With ``early="session"`` the early alliance is the score
        at session ``k`` (``k = 3`` is the common convention); with ``early="window"`` it
        is the mean of the scores rated at sessions ``1..k``.
    early
        ``"session"`` or ``"window"``, as above.

    Returns
    -------
    pandas.DataFrame
        One row per client (and rater), sorted, with columns ``early`` (float, ``NaN``
        when no qualifying session was rated), ``early_n`` (number of ratings used) and
        ``early_rule`` (the rule in words, e.g. ``"session 3"``).

    Notes
    -----
    Sessions are identified by their **number** in the ``session`` column, not by their
    rank among rated sessions: when session 3 was missed, the early alliance at session
    3 is missing (nothing is imputed and session 4 is not used instead). The window uses
    every rated session numbered ``1..k`` (an intake numbered 0 is left out), so it is
    tolerant of missed sessions and ``early_n`` says how many were averaged.

    A single session's rating is less dependable than a mean over several: Crits-Christoph
    et al. (2011) estimated, by generalizability theory, that patient alliance ratings
    averaged over four or more sessions are needed for a dependability (G) of .90 or more
    when alliance is treated as a stable patient-level variable. Prefer
    ``early="window"`` with ``early_session >= 4`` for that purpose.

    References
    ----------
    .. [1] Crits-Christoph, P., Gibbons, M. B. C., Hamilton, J., Ring-Kurtz, S., & Gallop,
       R. (2011). The dependability of alliance assessments: The alliance-outcome
       correlation is larger than you might think. *Journal of Consulting and Clinical
       Psychology, 79*(3), 267-278. https://doi.org/10.1037/a0023668

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import early_alliance
    >>> df = pd.DataFrame({"client": ["a"] * 4 + ["b"] * 2, "session": [1, 2, 3, 4, 1, 2],
    ...                    "total": [3.0, 4.0, 5.0, 6.0, 2.0, 4.0]})
    >>> early_alliance(df)
      client  early  early_n early_rule
    0      a    5.0        1  session 3
    1      b    NaN        0  session 3
    >>> early_alliance(df, early="window", early_session=3)
      client  early  early_n          early_rule
    0      a    4.0        3  mean of sessions 1-3
    1      b    3.0        2  mean of sessions 1-3
    """
    k = _check_early(early, early_session)
    keys = group_keys(client, rater)
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        dropna=False,
        outputs=EARLY_COLUMNS,
        what="early_alliance",
    )
    every = d.loc[:, keys].drop_duplicates().set_index(keys).index
    rated = d[score].notna()
    picked = (d[session] == k) if early == "session" else d[session].between(1, k)
    use = d.loc[rated & picked]
    stats = use.groupby(keys, sort=True, observed=True)[score].agg(["mean", "count"]).reindex(every)
    out = pd.DataFrame(
        {
            "early": stats["mean"].to_numpy(dtype=np.float64),
            "early_n": stats["count"].fillna(0).to_numpy(dtype=np.int64),
            "early_rule": _early_rule_text(early, k),
        },
        index=every,
    )
    return round_frame(out.sort_index().reset_index(), keep=keys)


def summarize_clients(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    early_session: int = 3,
    early: EarlyRule = "session",
) -> pd.DataFrame:
    """One row per client (and rater): counts, level, OLS trend, early alliance and change.

    Parameters
    ----------
    data
        Long table of session scores (one row per client x session x rater), such as
        ``score_frame(df, "wai-sr", keep=["client", "session"])``.
    client, session, rater, score
        Column names.
    early_session, early
        How the early alliance is defined (see :func:`early_alliance`).

    Returns
    -------
    pandas.DataFrame
        Sorted by client (and rater); after the identifier columns, the columns of
        :data:`SUMMARY_COLUMNS`:

        * ``n_sessions``: rated sessions (rows with a score);
        * ``first_session``, ``last_session``: numbers of the first and last rated session;
        * ``first``, ``last``, ``mean``, ``min``, ``max``: of the rated scores;
        * ``slope``, ``slope_se``: OLS slope of score on session number and its standard
          error;
        * ``early``, ``early_n``, ``early_rule``: as in :func:`early_alliance`;
        * ``change``: ``last - early``, the change from the early alliance to the last
          rating.

    Notes
    -----
    For client *i* with rated sessions :math:`t_j` and scores :math:`y_j`,
    :math:`j = 1..n`, the OLS slope and its standard error are

    .. math::

        b = \\frac{\\sum_j (t_j - \\bar t)(y_j - \\bar y)}{\\sum_j (t_j - \\bar t)^2},
        \\qquad
        SE(b) = \\sqrt{\\frac{\\sum_j (y_j - \\bar y - b(t_j - \\bar t))^2 / (n - 2)}
        {\\sum_j (t_j - \\bar t)^2}}

    (as R's ``coef(summary(lm(y ~ t)))[2, 1:2]``). The slope is per session *number*, so
    a missed session leaves a gap in :math:`t` rather than being closed up. The slope is
    ``NaN`` with fewer than 2 rated sessions, its SE with fewer than 3. Rows without a
    score are ignored (missing sessions are not imputed); a client with no rated session
    is kept with ``n_sessions = 0``. "Late" alliance is the last rated session; ``change``
    is ``NaN`` when the early alliance is missing. The result does not depend on the
    order of the rows.

    By hand for the example below: :math:`t = (1, 2, 3, 5)`, :math:`\\bar t = 2.75`,
    :math:`S_{tt} = 8.75`, :math:`S_{ty} = 6.25`, so :math:`b = 6.25 / 8.75 = 0.714286`;
    the residuals sum to :math:`SSE = 0.285714`, so
    :math:`SE(b) = \\sqrt{0.285714 / 2 / 8.75} = 0.127775`.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import summarize_clients
    >>> df = pd.DataFrame({"client": ["a"] * 4, "session": [1, 2, 3, 5],
    ...                    "total": [3.0, 4.0, 4.0, 6.0]})
    >>> s = summarize_clients(df)
    >>> s[["client", "n_sessions", "mean", "slope", "early", "change"]]
      client  n_sessions  mean     slope  early  change
    0      a           4  4.25  0.714286    4.0     2.0
    >>> round(float(s.loc[0, "slope_se"]), 6)  # R: coef(summary(lm(y ~ t)))[2, 2]
    0.127775
    """
    k = _check_early(early, early_session)
    keys = group_keys(client, rater)
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        dropna=False,
        outputs=SUMMARY_COLUMNS,
        what="summarize_clients",
    )
    every = d.loc[:, keys].drop_duplicates().set_index(keys).index
    d = d.loc[d[score].notna()]
    t = d[session].astype(np.float64)
    y = d[score]
    g = d.groupby(keys, sort=True, observed=True)
    gy = g[score]
    gt = t.groupby([d[c] for c in keys], sort=True, observed=True)
    dt = t - gt.transform("mean")
    dy = y - gy.transform("mean")
    by = [d[c] for c in keys]
    sxx = (dt * dt).groupby(by, sort=True, observed=True).sum()
    sxy = (dt * dy).groupby(by, sort=True, observed=True).sum()
    n = gy.count()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sxy / sxx).where((n >= 2) & (sxx > 0))
        b_row = slope.reindex(pd.MultiIndex.from_frame(d[keys]) if len(keys) > 1 else d[client])
        resid = dy.to_numpy() - b_row.to_numpy() * dt.to_numpy()
        sse = pd.Series(resid * resid, index=d.index).groupby(by, sort=True, observed=True).sum()
        slope_se = (sse / (n - 2) / sxx).pow(0.5).where((n >= 3) & (sxx > 0))
    out = pd.DataFrame(
        {
            "n_sessions": n,
            "first_session": g[session].first(),
            "last_session": g[session].last(),
            "first": gy.first(),
            "last": gy.last(),
            "mean": gy.mean(),
            "min": gy.min(),
            "max": gy.max(),
            "slope": slope,
            "slope_se": slope_se,
        }
    ).reindex(every)
    out["n_sessions"] = out["n_sessions"].fillna(0).astype(np.int64)
    ea = early_alliance(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        early_session=k,
        early=early,
    ).set_index(keys)
    out = out.join(ea).sort_index()
    out["change"] = out["last"] - out["early"]
    return round_frame(out.reset_index().loc[:, [*keys, *SUMMARY_COLUMNS]], keep=keys)


def decompose(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    centre: Centre = "person",
) -> pd.DataFrame:
    """Split each score into a between-client part and a within-client deviation.

    Parameters
    ----------
    data
        Long table of session scores.
    client, session, rater, score
        Column names.
    centre
        ``"person"``: the between part is the client's mean over all rated sessions
        (person-mean centring). ``"past"``: the between part is the running mean of the
        client's *earlier* rated sessions only, so no future rating enters a session's
        value (for lagged models).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``data`` (same index, same order), with the client, (rater), session
        and score columns and two new columns ``<score>_between`` and ``<score>_within``
        (``within = score - between``).

    Notes
    -----
    Person-mean centring (Curran & Bauer, 2011): for client *i* at session *t*,
    :math:`\\bar y_i = \\frac{1}{n_i}\\sum_t y_{it}` and :math:`y_{it} - \\bar y_i`; the
    within parts of each client sum to zero. Falkenström et al. (2017) point out that in
    cross-lagged models the full-sample person mean contains later sessions and so leaks
    future values into a predictor; ``centre="past"`` uses
    :math:`\\bar y_{i,<t} = \\text{mean}\\{y_{is}: s < t\\}` instead, which is ``NaN`` at
    the client's first rated session (no past). "Earlier" is by session number. Rows
    without a score get ``NaN`` within parts and do not enter any mean; with
    ``"person"`` they still get their client's mean as the between part.

    References
    ----------
    .. [1] Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person and
       between-person effects in longitudinal models of change. *Annual Review of
       Psychology, 62*, 583-619. https://doi.org/10.1146/annurev.psych.093008.100356
    .. [2] Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R. (2017).
       Dynamic models of individual change in psychotherapy process research. *Journal of
       Consulting and Clinical Psychology, 85*(6), 537-549.
       https://doi.org/10.1037/ccp0000203

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import decompose
    >>> df = pd.DataFrame({"client": ["a"] * 3, "session": [1, 2, 3],
    ...                    "total": [3.0, 4.0, 8.0]})
    >>> decompose(df)
      client  session  total  total_between  total_within
    0      a        1    3.0            5.0          -2.0
    1      a        2    4.0            5.0          -1.0
    2      a        3    8.0            5.0           3.0
    >>> decompose(df, centre="past")[["total_between", "total_within"]]
       total_between  total_within
    0            NaN           NaN
    1            3.0           1.0
    2            3.5           4.5
    """
    check_choice("centre", centre, ("person", "past"))
    keys = group_keys(client, rater)
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        dropna=False,
        reset_index=False,
    )
    y = d[score]
    by = [d[c] for c in keys]
    if centre == "person":
        between = y.groupby(by, sort=False, observed=True).transform("mean")
    else:
        filled = y.fillna(0.0)
        rated = y.notna().astype(np.int64)
        # up to and including this row, less this session's rows so far (itself included):
        # a row of the same session number is not earlier, even when entered twice
        same = [*by, d[session]]
        past_sum = (
            filled.groupby(by, sort=False, observed=True).cumsum()
            - filled.groupby(same, sort=False, observed=True).cumsum()
        )
        past_n = (
            rated.groupby(by, sort=False, observed=True).cumsum()
            - rated.groupby(same, sort=False, observed=True).cumsum()
        )
        between = (past_sum / past_n.where(past_n > 0)).astype(np.float64)
    names = (f"{score}_between", f"{score}_within")
    if any(name in d.columns for name in names):
        raise DataError(f"The output columns {names} clash with the data's column names.")
    d[names[0]] = between
    d[names[1]] = y - between
    d = round_frame(d.sort_index(), keep=[*keys, session, score])
    d.index = data.index
    return d
