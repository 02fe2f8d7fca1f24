"""Cut-off events across sessions: threshold flags, drops and low items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ArgumentError, ProvisionalScaleError
from ..instrument import Cutoff
from ..psychometrics._coefficients import round_frame
from ._columns import check_choice, check_number, group_keys, prepare, require_columns
from ._renamed import renamed_keywords

__all__ = ["EVENT_COLUMNS", "cutoff_events"]

Comparison = Literal["<", "<=", ">", ">="]
DropFrom = Literal["previous", "running_mean"]

EVENT_COLUMNS: tuple[str, ...] = (
    "session",
    "event",
    "column",
    "value",
    "reference",
    "first_session",
)
"""Columns of :func:`cutoff_events` after the client (and rater) columns."""

_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


@renamed_keywords(items="item_columns")
def cutoff_events(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    cutoff: float | Cutoff | None = None,
    comparison: Comparison = "<",
    drop: float | None = None,
    drop_from: DropFrom = "previous",
    item_columns: Sequence[str] | str = (),
    item_below: float | None = None,
    allow_provisional: bool = False,
) -> pd.DataFrame:
    """Sessions where a cut-off fires, where the score drops, or where an item is low.

    Parameters
    ----------
    data
        Long table of session scores (and, for item flags, the item columns).
    client, session, rater, score
        Column names.
    cutoff, comparison
        A threshold on ``score`` and how a score is compared with it (``"<"``: the flag
        fires when ``score < cutoff``); or an instrument's :class:`~alliance_score.Cutoff`,
        whose value and comparison are used (e.g. the SRS ``total_below_36``).
    drop
        Flag a session whose score is at least ``drop`` points below the reference.
    drop_from
        The reference for drops: ``"previous"`` rated session, or ``"running_mean"`` of
        all earlier rated sessions of the client.
    item_columns, item_below
        Item columns (a list of column names; one name is one column) and a threshold:
        flag every item whose value is below ``item_below`` (e.g. any SRS item below 9
        cm). ``items=`` is the old name of ``item_columns=``.
    allow_provisional
        A provisional :class:`~alliance_score.Cutoff` is used only with
        ``allow_provisional=True``, as :func:`~alliance_score.score_frame` requires
        (:class:`~alliance_score.ProvisionalScaleError` otherwise).

    Returns
    -------
    pandas.DataFrame
        One row per event, sorted by client, (rater), session, event and column, with
        the columns of :data:`EVENT_COLUMNS`: ``event`` is ``"cutoff"``, ``"drop"`` or
        ``"item_low"``; ``column`` the score or item column; ``value`` the score or item
        value; ``reference`` the cut-off, previous score, running mean or item threshold;
        ``first_session`` the client's first session with an event of that kind (and
        column).

    Notes
    -----
    A drop at session *t* is :math:`\\text{ref}_t - y_t \\ge` ``drop``, with
    :math:`\\text{ref}_t = y_{t-1}` (previous rated session) or
    :math:`\\text{mean}\\{y_s: s < t\\}`; the first rated session has no reference. Drops
    assume higher is better (alliance scales). Unrated sessions are skipped, so the
    "previous" session is the previous *rated* one. The SRS developers suggest
    discussing the session when the total is below 36 (Duncan et al., 2003); that
    cut-off is provisional in this library's definition (see ``instruments/srs.toml``).

    References
    ----------
    .. [1] Duncan, B. L., Miller, S. D., Sparks, J. A., Claud, D. A., Reynolds, L. R.,
       Brown, J., & Johnson, L. D. (2003). The Session Rating Scale: Preliminary
       psychometric properties of a "working" alliance measure. *Journal of Brief
       Therapy, 3*(1), 3-12.

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import cutoff_events
    >>> df = pd.DataFrame({"client": ["a"] * 4, "session": [1, 2, 3, 4],
    ...                    "total": [38.0, 35.0, 39.0, 30.0]})
    >>> cutoff_events(df, cutoff=36, drop=5)
      client  session   event column  value  reference  first_session
    0      a        2  cutoff  total   35.0       36.0              2
    1      a        4  cutoff  total   30.0       36.0              2
    2      a        4    drop  total   30.0       39.0              4
    """
    keys = group_keys(client, rater)
    if isinstance(cutoff, Cutoff):
        if cutoff.status == "provisional" and allow_provisional is not True:
            raise ProvisionalScaleError(
                f"The cut-off {cutoff.flag!r} is provisional; pass allow_provisional=True "
                "(--allow-provisional) to use it, as for scoring."
            )
        comparison = cutoff.comparison
        cutoff = cutoff.value
    check_choice("comparison", comparison, list(_COMPARE))
    check_choice("drop_from", drop_from, ("previous", "running_mean"))
    if cutoff is not None:
        cutoff = check_number("cutoff", cutoff)
    if drop is not None:
        drop = check_number("drop", drop, positive=True)
    if item_below is not None:
        item_below = check_number("item_below", item_below)
    named = [item_columns] if isinstance(item_columns, str) else item_columns  # not letters
    if not isinstance(named, list | tuple) or not all(isinstance(i, str) for i in named):
        raise ArgumentError(f"item_columns must be a list of column names; got {item_columns!r}.")
    items = list(named)
    if bool(items) != (item_below is not None):
        raise ArgumentError("item_columns= and item_below= must be given together.")
    if cutoff is None and drop is None and item_below is None:
        raise ArgumentError(
            "Give at least one of cutoff=, drop= or item_columns= with item_below=."
        )
    require_columns(data, {f"item {i!r}": i for i in items})
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        extra=list(items),
        outputs=EVENT_COLUMNS[1:],
        what="cutoff_events",
    )
    parts: list[pd.DataFrame] = []

    def add(mask: pd.Series, event: str, column: str, value: pd.Series, ref: object) -> None:
        m = mask.to_numpy(dtype=bool)
        part = d.loc[m, [*keys, session]].copy()
        part["event"] = event
        part["column"] = str(column)
        part["value"] = value[m].astype(np.float64)
        part["reference"] = ref[m] if isinstance(ref, pd.Series) else float(ref)  # type: ignore[arg-type]
        parts.append(part)

    y = d[score]
    if cutoff is not None:
        fires = pd.Series(_COMPARE[comparison](y.to_numpy(), float(cutoff)), index=d.index)
        add(fires, "cutoff", score, y, float(cutoff))
    if drop is not None:
        by = [d[c] for c in keys]
        if drop_from == "previous":
            ref = y.groupby(by, sort=False, observed=True).shift(1)
        else:
            n_before = y.groupby(by, sort=False, observed=True).cumcount()
            ref = (y.groupby(by, sort=False, observed=True).cumsum() - y) / n_before.where(
                n_before > 0
            )
        add((ref - y >= drop) & ref.notna(), "drop", score, y, ref.astype(np.float64))
    for item in items:
        # float64, so that a missing item (pd.NA in a nullable column) is simply not low
        values = pd.to_numeric(d[item], errors="coerce").astype(np.float64)
        add(values < float(item_below or 0.0), "item_low", item, values, float(item_below or 0.0))
    columns = [*keys, session, "event", "column", "value", "reference"]
    events = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    events = events.loc[:, columns]
    events["first_session"] = events.groupby([*keys, "event", "column"], sort=False, observed=True)[
        session
    ].transform("min")
    events = events.sort_values([*keys, session, "event", "column"], kind="mergesort")
    return round_frame(events.reset_index(drop=True), keep=keys)
