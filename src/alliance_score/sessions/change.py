"""Change across sessions: reliable change, clinical-significance cut-offs, cut-off events."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DataError
from ..instrument import Cutoff, Instrument, Norm
from ..registry import load_instrument
from ._columns import group_keys, prepare, require_columns

__all__ = [
    "EVENT_COLUMNS",
    "RCI_COLUMNS",
    "clinical_cutoffs",
    "cutoff_events",
    "reliable_change",
]

Comparison = Literal["<", "<=", ">", ">="]
ReliabilityKind = Literal["retest", "alpha"]
CutoffName = Literal["a", "b", "c"]
DropFrom = Literal["previous", "running_mean"]

RCI_COLUMNS: tuple[str, ...] = (
    "pre_session",
    "post_session",
    "pre",
    "post",
    "difference",
    "se_difference",
    "rci",
    "change",
)
"""Columns of :func:`reliable_change` after the client (and rater) columns."""

EVENT_COLUMNS: tuple[str, ...] = (
    "session",
    "event",
    "column",
    "value",
    "reference",
    "first_session",
)
"""Columns of :func:`cutoff_events` after the client (and rater) columns."""


def clinical_cutoffs(
    dysfunctional: Norm, functional: Norm, *, higher_is_better: bool = True
) -> dict[str, float]:
    """Jacobson & Truax's clinical-significance cut-offs a, b and c.

    Parameters
    ----------
    dysfunctional, functional
        Norms (mean and SD) of the dysfunctional (e.g. clinical) and the functional
        population on the same scale.
    higher_is_better
        Direction of the scale (alliance scales: higher is better).

    Returns
    -------
    dict
        ``{"a": ..., "b": ..., "c": ...}``.

    Notes
    -----
    With dysfunctional mean and SD :math:`M_d, s_d` and functional :math:`M_f, s_f`
    (Jacobson & Truax, 1991, p. 13), for a scale where higher is better:

    * a: two SDs beyond the dysfunctional mean, :math:`a = M_d + 2 s_d`;
    * b: within two SDs of the functional mean, :math:`b = M_f - 2 s_f`;
    * c: the point between the means weighted by the SDs,
      :math:`c = (s_d M_f + s_f M_d) / (s_d + s_f)`.

    When lower is better the signs of the two-SD steps flip (:math:`a = M_d - 2 s_d`,
    :math:`b = M_f + 2 s_f`); c is unchanged. By hand for the example: a = 4 + 2 = 6,
    b = 6 - 1 = 5, c = (1 x 6 + 0.5 x 4) / 1.5 = 5.333333.

    References
    ----------
    .. [1] Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
       approach to defining meaningful change in psychotherapy research. *Journal of
       Consulting and Clinical Psychology, 59*(1), 12-19.
       https://doi.org/10.1037/0022-006X.59.1.12

    Examples
    --------
    >>> from alliance_score import Norm
    >>> from alliance_score.sessions import clinical_cutoffs
    >>> dys = Norm(scale="total", population="clinic", mean=4.0, sd=1.0, source="x")
    >>> fun = Norm(scale="total", population="community", mean=6.0, sd=0.5, source="x")
    >>> {k: round(v, 6) for k, v in clinical_cutoffs(dys, fun).items()}
    {'a': 6.0, 'b': 5.0, 'c': 5.333333}
    """
    values: dict[str, float] = {}
    for role, norm in (("dysfunctional", dysfunctional), ("functional", functional)):
        if norm.mean is None or norm.sd is None or norm.sd <= 0:
            raise DataError(
                f"The {role} norm ({norm.population!r}, scale {norm.scale!r}) needs a mean and "
                f"a positive sd; got mean={norm.mean}, sd={norm.sd}."
            )
    md, sdd = float(dysfunctional.mean or 0.0), float(dysfunctional.sd or 0.0)
    mf, sdf = float(functional.mean or 0.0), float(functional.sd or 0.0)
    sign = 1.0 if higher_is_better else -1.0
    values["a"] = md + sign * 2.0 * sdd
    values["b"] = mf - sign * 2.0 * sdf
    values["c"] = (sdd * mf + sdf * md) / (sdd + sdf)
    return values


def _norm_for(ins: Instrument, score: str, population: str | None) -> Norm:
    found = [
        n
        for n in ins.norms
        if n.scale == score and (population is None or n.population == population)
    ]
    if len(found) != 1:
        pops = [n.population for n in ins.norms if n.scale == score]
        raise DataError(
            f"Instrument {ins.ref!r} needs exactly one norm for scale {score!r}"
            + (f" and population {population!r}" if population is not None else "")
            + f" to give sd and reliability; it has norms for populations {pops}. "
            "Pass population=, norm=, or sd= and reliability= explicitly."
        )
    return found[0]


def _error_terms(
    *,
    score: str,
    sd: float | None,
    reliability: float | None,
    norm: Norm | None,
    ins: Instrument | None,
    population: str | None,
    reliability_kind: ReliabilityKind,
) -> tuple[float, float]:
    if (sd is None or reliability is None) and norm is None and ins is not None:
        norm = _norm_for(ins, score, population)
    if norm is not None:
        if sd is None:
            sd = norm.sd
        if reliability is None:
            reliability = norm.retest_r if reliability_kind == "retest" else norm.alpha
    if sd is None or reliability is None:
        raise DataError(
            "Reliable change needs the scale's SD and reliability: pass sd= and reliability=, "
            f"a norm= with sd and {'retest_r' if reliability_kind == 'retest' else 'alpha'}, "
            f"or an instrument= with such a norm; got sd={sd}, reliability={reliability}."
        )
    if not (math.isfinite(sd) and sd > 0):
        raise DataError(f"sd must be a positive number; got {sd}.")
    if not (math.isfinite(reliability) and 0 <= reliability < 1):
        raise DataError(f"reliability must be in [0, 1); got {reliability}.")
    return float(sd), float(reliability)


def _pick(d: pd.DataFrame, keys: list[str], session: str, which: int | str) -> pd.DataFrame:
    """Per client, the row at session ``which`` (a number), or the first/last rated one."""
    g = d.groupby(keys, sort=True)
    if which == "first":
        return g.head(1).set_index(keys)
    if which == "last":
        return g.tail(1).set_index(keys)
    return d.loc[d[session] == which].drop_duplicates(keys).set_index(keys)


def reliable_change(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    sd: float | None = None,
    reliability: float | None = None,
    norm: Norm | None = None,
    instrument: Instrument | str | None = None,
    population: str | None = None,
    reliability_kind: ReliabilityKind = "retest",
    pre: int | Literal["first"] = "first",
    post: int | Literal["last"] = "last",
    criterion: float = 1.96,
    higher_is_better: bool | None = None,
    functional: Norm | None = None,
    dysfunctional: Norm | None = None,
    cutoff: CutoffName = "c",
) -> pd.DataFrame:
    """Jacobson & Truax's reliable change index (RCI) per client, and its classification.

    Parameters
    ----------
    data
        Long table of session scores.
    client, session, rater, score
        Column names.
    sd, reliability
        The scale's standard deviation :math:`s` and reliability :math:`r`. Each one not
        given is taken from ``norm``, or from the instrument's norm for ``score`` (and
        ``population``).
    norm, instrument, population
        Where to find :math:`s` and :math:`r` when they are not given.
    reliability_kind
        Which reliability a norm supplies: ``"retest"`` (test-retest :math:`r`, as
        Jacobson & Truax used) or ``"alpha"`` (Cronbach's alpha, a common substitute).
    pre, post
        The sessions compared: a session number, or ``"first"`` / ``"last"`` rated session
        (default).
    criterion
        Critical value of :math:`|RCI|` (1.96: change unlikely (p < .05) from
        measurement error alone).
    higher_is_better
        Direction of the scale; default from the instrument's scale, else ``True``.
    functional, dysfunctional, cutoff
        With both norms, add the clinical cut-off (``"a"``, ``"b"`` or ``"c"``, see
        :func:`clinical_cutoffs`) and the columns ``cutoff``, ``past_cutoff`` (post score
        on the functional side of it) and ``recovered`` (reliably improved and past it).

    Returns
    -------
    pandas.DataFrame
        One row per client (and rater) with the columns of :data:`RCI_COLUMNS`;
        ``change`` is ``"improved"``, ``"no reliable change"`` or ``"deteriorated"``
        (``<NA>`` when a session is missing).

    Notes
    -----
    .. math::

        SE = s\\sqrt{1 - r}, \\qquad S_{diff} = \\sqrt{2\\,SE^2}, \\qquad
        RCI = \\frac{x_{post} - x_{pre}}{S_{diff}}

    Change is reliable when :math:`|RCI| >` ``criterion`` (strictly); its direction,
    with ``higher_is_better``, decides between improved and deteriorated. A client with
    a single rated session has ``pre == post`` under the default ``"first"``/``"last"``
    and so an RCI of 0. By hand for the example: :math:`SE = 0.8\\sqrt{0.16} = 0.32`,
    :math:`S_{diff} = 0.452548`, :math:`RCI = 1.2 / 0.452548 = 2.651650`.

    References
    ----------
    .. [1] Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
       approach to defining meaningful change in psychotherapy research. *Journal of
       Consulting and Clinical Psychology, 59*(1), 12-19.
       https://doi.org/10.1037/0022-006X.59.1.12

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import reliable_change
    >>> df = pd.DataFrame({"client": ["a", "a", "b", "b"], "session": [1, 6, 1, 6],
    ...                    "total": [4.0, 5.2, 5.0, 4.9]})
    >>> rc = reliable_change(df, sd=0.8, reliability=0.84)
    >>> rc[["client", "difference", "rci", "change"]]
      client  difference       rci              change
    0      a         1.2  2.651650            improved
    1      b        -0.1 -0.220971  no reliable change
    """
    keys = group_keys(client, rater)
    ins = load_instrument(instrument) if instrument is not None else None
    s, r = _error_terms(
        score=score,
        sd=sd,
        reliability=reliability,
        norm=norm,
        ins=ins,
        population=population,
        reliability_kind=reliability_kind,
    )
    if higher_is_better is None:
        higher_is_better = ins.scale(str(score)).higher_is_better if ins is not None else True
    d = prepare(data, client=client, session=session, rater=rater, score=score, dropna=False)
    every = d.loc[:, keys].drop_duplicates().set_index(keys).index
    rated = d.loc[d[score].notna()]
    a = _pick(rated, keys, session, pre).reindex(every)
    b = _pick(rated, keys, session, post).reindex(every)
    s_diff = math.sqrt(2.0 * (s * math.sqrt(1.0 - r)) ** 2)
    out = pd.DataFrame(
        {
            "pre_session": a[session],
            "post_session": b[session],
            "pre": a[score],
            "post": b[score],
        },
        index=every,
    )
    out["difference"] = out["post"] - out["pre"]
    out["se_difference"] = s_diff
    out["rci"] = out["difference"] / s_diff
    signed = out["rci"] if higher_is_better else -out["rci"]
    change = np.select(
        [signed > criterion, signed < -criterion, signed.notna()],
        ["improved", "deteriorated", "no reliable change"],
        default="",
    )
    out["change"] = pd.Series(change, index=every, dtype="string").replace("", pd.NA)
    if functional is not None or dysfunctional is not None:
        if functional is None or dysfunctional is None:
            raise DataError("Clinical cut-offs need both functional= and dysfunctional= norms.")
        value = clinical_cutoffs(dysfunctional, functional, higher_is_better=higher_is_better)[
            cutoff
        ]
        past = out["post"] > value if higher_is_better else out["post"] < value
        out["cutoff"] = value
        out["past_cutoff"] = past.astype("boolean").mask(out["post"].isna())
        out["recovered"] = out["past_cutoff"] & (out["change"] == "improved")
    return out.sort_index().reset_index()


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


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
    items: Sequence[str] = (),
    item_below: float | None = None,
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
    items, item_below
        Item columns and a threshold: flag every item whose value is below
        ``item_below`` (e.g. any SRS item below 9 cm).

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
        comparison = cutoff.comparison
        cutoff = cutoff.value
    if comparison not in _COMPARE:
        raise ValueError(f"comparison must be one of {list(_COMPARE)}; got {comparison!r}")
    if drop_from not in ("previous", "running_mean"):
        raise ValueError(f"drop_from must be 'previous' or 'running_mean'; got {drop_from!r}")
    if bool(items) != (item_below is not None):
        raise ValueError("items= and item_below= must be given together.")
    if cutoff is None and drop is None and item_below is None:
        raise ValueError("Give at least one of cutoff=, drop= or items= with item_below=.")
    if drop is not None and not drop > 0:
        raise ValueError(f"drop must be a positive number of points; got {drop}")
    require_columns(data, {f"item {i!r}": i for i in items})
    d = prepare(data, client=client, session=session, rater=rater, score=score, extra=list(items))
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
            ref = y.groupby(by, sort=False).shift(1)
        else:
            n_before = y.groupby(by, sort=False).cumcount()
            ref = (y.groupby(by, sort=False).cumsum() - y) / n_before.where(n_before > 0)
        add((ref - y >= drop) & ref.notna(), "drop", score, y, ref.astype(np.float64))
    for item in items:
        values = pd.to_numeric(d[item], errors="coerce")
        add(values < float(item_below or 0.0), "item_low", item, values, float(item_below or 0.0))
    columns = [*keys, session, "event", "column", "value", "reference"]
    events = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    events = events.loc[:, columns]
    events["first_session"] = events.groupby([*keys, "event", "column"], sort=False)[
        session
    ].transform("min")
    events = events.sort_values([*keys, session, "event", "column"], kind="mergesort")
    return events.reset_index(drop=True)
