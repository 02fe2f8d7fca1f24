"""Rupture-repair episodes in session-by-session alliance ratings."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..psychometrics._coefficients import round_frame
from ._columns import check_choice, check_number, group_keys, prepare
from ._renamed import renamed_keywords

__all__ = ["EPISODE_COLUMNS", "RUPTURE_METHODS", "detect_ruptures"]

RuptureMethod = Literal["stiles2004", "strauss2006"]
SdKind = Literal["within", "sample", "larger"]
Reference = Literal["mean", "median"]
Repair = Literal["pre", "reference"]

RUPTURE_METHODS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "stiles2004": MappingProxyType(
            {
                "threshold": 2.0,
                "sd": "within",
                "reference": "mean",
                "repair": "pre",
                "window": None,
                "exclude_session": False,
            }
        ),
        "strauss2006": MappingProxyType(
            {
                "threshold": 1.0,
                "sd": "within",
                "reference": "mean",
                "repair": "pre",
                "window": None,
                "exclude_session": False,
            }
        ),
    }
)
"""Named parameter sets of :func:`detect_ruptures`: this library's approximation of the
papers. Only the threshold (2 SD, 1 SD) is confirmed from the literature (Gumz et al.
2012 report both); the SD basis, whether the rupture session enters its own reference
mean and SD, and the repair window are this library's choices, each a parameter."""

EPISODE_COLUMNS: tuple[str, ...] = (
    "rupture_session",
    "trough_session",
    "n_below",
    "pre_session",
    "pre_level",
    "reference",
    "sd",
    "trough",
    "depth",
    "depth_sd",
    "repair_session",
    "repaired",
    "rule",
)
"""Columns of :func:`detect_ruptures` after the client (and rater) columns."""


_WORK_COLUMNS = ("_ref", "_sd", "_below", "_run", "_pre_session", "_pre_level", "_target")


@renamed_keywords(sd="sd_basis")
def detect_ruptures(
    data: pd.DataFrame,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    method: RuptureMethod = "stiles2004",
    threshold: float | None = None,
    sd_basis: SdKind | None = None,
    reference: Reference | None = None,
    repair: Repair | None = None,
    window: int | None = None,
    exclude_session: bool | None = None,
) -> pd.DataFrame:
    """Find V-shaped rupture-repair episodes: a fall below the client's level, then a return.

    Parameters
    ----------
    data
        Long table of session scores.
    client, session, rater, score
        Column names.
    method
        A named parameter set from :data:`RUPTURE_METHODS`: ``"stiles2004"`` (2 SD) or
        ``"strauss2006"`` (1 SD). Any parameter below that is given overrides it.
    threshold
        How far below the reference level a score must fall, in SDs.
    sd_basis
        The SD the threshold is counted in (``sd=`` is its old name): ``"within"``
        (the client's own SD across rated sessions, ``ddof=1``), ``"sample"`` (SD of
        every rating in ``data``) or ``"larger"`` (the larger of the two, after Gumz et
        al.'s proposal to guard against flagging small wobbles in very stable courses).
    reference
        The client's reference level: ``"mean"`` or ``"median"`` of the rated sessions.
    repair
        What counts as repair: a later score at least the pre-rupture score (``"pre"``)
        or at least the reference level (``"reference"``).
    window
        Repair must come within this many session numbers after the rupture session;
        ``None`` (default in both named methods) allows any later session.
    exclude_session
        ``True``: each session is compared with the reference level and within-client SD
        of the client's *other* rated sessions (leave-one-out), so a drop does not pull
        down its own criterion. ``False`` (both named methods): over every rated
        session, the session itself included.

    Returns
    -------
    pandas.DataFrame
        One row per episode, sorted by client, (rater) and rupture session, with the
        columns of :data:`EPISODE_COLUMNS`: ``rupture_session`` (first session below
        the criterion), ``trough_session`` and ``trough`` (lowest score of the run),
        ``n_below`` (rated sessions in the run), ``pre_session`` and ``pre_level`` (the
        rated session before the rupture and its score), ``reference``, ``sd``,
        ``depth = reference - trough`` in points and ``depth_sd = depth / sd``,
        ``repair_session`` (``<NA>`` when unrepaired: the session columns are nullable,
        ``Int64`` for whole-number sessions and ``Float64`` otherwise), ``repaired`` and
        ``rule`` (the parameters used, marked as this library's approximation of the
        named method).

    Notes
    -----
    For client *i* with reference level :math:`m_i` and SD :math:`s_i`, a rated session
    *t* is **below** when :math:`y_{it} \\le m_i - k\\,s_i` (*k* = ``threshold``). An
    episode is a run of consecutive rated sessions that are below; its rupture session
    is the first of the run. The run must follow a rated session that is not below (the
    pre-rupture session), so a course that *starts* low has no episode there: there is
    no fall to see. The episode is repaired at the first later rated session *s* with
    :math:`y_{is} \\ge y_{i,pre}` (``repair="pre"``) or :math:`y_{is} \\ge m_i`
    (``repair="reference"``), and, with a window *w*, :math:`s - t \\le w`.

    Stiles et al. (2004) defined rupture-repair sequences as V-shaped deviations of at
    least 2 SD below the client's level followed by a return; Strauss et al. (2006) used
    a 1 SD criterion; Gumz et al. (2012) showed that the number of episodes found
    depends strongly on this criterion, compared both, and proposed combining within-
    and between-client variability (``sd_basis="larger"``). The papers leave open the exact
    reference level, which sessions enter it, the SD and the repair horizon; the named
    methods fix them as above (client mean and SD over all rated sessions including the
    rupture, return to the pre-rupture score, no horizon): they are this library's
    approximation, not the papers' confirmed procedure, and every episode row says so in
    ``rule``. Because the rupture session
    enters the client's own mean and SD, a single drop can reach 2 within-client SDs
    only when the client has at least 6 rated sessions (the largest possible
    standardised deviation among *n* values is :math:`(n - 1)/\\sqrt{n}`). A client
    whose SD is 0 or undefined has no episodes.

    By hand for the example: scores 5,5,5,5,5,2,5,5,5,5 have mean 4.7 and SD
    :math:`\\sqrt{8.1/9} = 0.948683`; session 6 is below :math:`4.7 - 2 \\times 0.948683
    = 2.802633`, with depth 2.7 points (2.846050 SD), repaired at session 7.

    References
    ----------
    .. [1] Stiles, W. B., Glick, M. J., Osatuke, K., Hardy, G. E., Shapiro, D. A.,
       Agnew-Davies, R., Rees, A., & Barkham, M. (2004). Patterns of alliance development
       and the rupture-repair hypothesis: Are productive relationships U-shaped or
       V-shaped? *Journal of Counseling Psychology, 51*(1), 81-92.
       https://doi.org/10.1037/0022-0167.51.1.81
    .. [2] Strauss, J. L., Hayes, A. M., Johnson, S. L., Newman, C. F., Brown, G. K.,
       Barber, J. P., Laurenceau, J.-P., & Beck, A. T. (2006). Early alliance, alliance
       ruptures, and symptom change in a nonrandomized trial of cognitive therapy for
       avoidant and obsessive-compulsive personality disorders. *Journal of Consulting
       and Clinical Psychology, 74*(2), 337-345. https://doi.org/10.1037/0022-006X.74.2.337
    .. [3] Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). Crisis-repair sequences:
       Considerations on the classification and assessment of breaches in the
       therapeutic relationship. *BMC Medical Research Methodology, 12*, 10.
       https://doi.org/10.1186/1471-2288-12-10

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.sessions import detect_ruptures
    >>> df = pd.DataFrame({"client": ["a"] * 10, "session": range(1, 11),
    ...                    "total": [5, 5, 5, 5, 5, 2, 5, 5, 5, 5.0]})
    >>> ep = detect_ruptures(df)
    >>> ep[["client", "rupture_session", "depth", "depth_sd", "repair_session"]]
      client  rupture_session  depth  depth_sd  repair_session
    0      a                6    2.7   2.84605               7
    """
    check_choice("method", method, sorted(RUPTURE_METHODS))
    preset = RUPTURE_METHODS[method]
    k = check_number(
        "threshold", preset["threshold"] if threshold is None else threshold, positive=True
    )
    sd_kind = check_choice(
        "sd_basis", preset["sd"] if sd_basis is None else sd_basis, ("within", "sample", "larger")
    )
    ref_kind = check_choice(
        "reference", preset["reference"] if reference is None else reference, ("mean", "median")
    )
    repair_kind = check_choice(
        "repair", preset["repair"] if repair is None else repair, ("pre", "reference")
    )
    horizon = preset["window"] if window is None else window
    leave_out = bool(preset["exclude_session"] if exclude_session is None else exclude_session)
    if horizon is not None:
        horizon = check_number("window", horizon, minimum=1, integer=True)

    keys = group_keys(client, rater)
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        outputs=(*EPISODE_COLUMNS, *_WORK_COLUMNS),
        what="detect_ruptures",
    )
    y = d[score]
    by = [d[c] for c in keys]
    g = y.groupby(by, sort=False, observed=True)
    ref, within = _reference_and_sd(g, ref_kind, leave_out)
    sample = pd.Series(y.std(ddof=1), index=d.index)
    larger = pd.Series(np.fmax(within.to_numpy(), sample.to_numpy()), index=d.index)
    scale = {"within": within, "sample": sample, "larger": larger}[sd_kind]
    usable = scale.notna() & (scale > 0)
    below = usable & (y <= ref - k * scale)
    prev_below = (
        below.groupby(by, sort=False, observed=True).shift(1, fill_value=False).astype(bool)
    )
    has_prev = g.cumcount() > 0
    # Runs of consecutive "below" sessions: a new run starts where "below" switches on.
    starts = below & ~prev_below
    run_id = starts.groupby(by, sort=False, observed=True).cumsum()
    real_start = starts & has_prev

    d = d.assign(
        _ref=ref,
        _sd=scale,
        _below=below,
        _run=run_id,
        _pre_session=d.groupby(keys, sort=False, observed=True)[session].shift(1),
        _pre_level=g.shift(1),
    )
    runs = d.loc[d["_below"]]
    episode_keys = [*keys, "_run"]
    agg = runs.groupby(episode_keys, sort=True, observed=True)
    trough_idx = agg[score].idxmin()
    episodes = pd.DataFrame(
        {
            "rupture_session": agg[session].first(),
            "trough_session": d.loc[trough_idx.to_numpy(), session].to_numpy(),
            "n_below": agg[score].count(),
            "trough": agg[score].min(),
        }
    )
    first_rows = d.loc[real_start, [*episode_keys, "_pre_session", "_pre_level", "_ref", "_sd"]]
    episodes = episodes.join(first_rows.set_index(episode_keys), how="inner").reset_index()
    episodes = episodes.rename(
        columns={
            "_pre_session": "pre_session",
            "_pre_level": "pre_level",
            "_ref": "reference",
            "_sd": "sd",
        }
    )
    episodes["depth"] = episodes["reference"] - episodes["trough"]
    episodes["depth_sd"] = episodes["depth"] / episodes["sd"]

    target = episodes["pre_level"] if repair_kind == "pre" else episodes["reference"]
    cand = episodes.loc[:, [*episode_keys, "rupture_session"]].assign(_target=target)
    later = cand.merge(d.loc[:, [*keys, session, score]], on=keys, how="inner")
    ok = (later[session] > later["rupture_session"]) & (later[score] >= later["_target"])
    if horizon is not None:
        ok &= later[session] - later["rupture_session"] <= horizon
    repaired_at = later.loc[ok].groupby(episode_keys, sort=True, observed=True)[session].min()
    episodes = episodes.join(repaired_at.rename("repair_session"), on=episode_keys)
    episodes["repaired"] = episodes["repair_session"].notna()
    # nullable session columns, so that an unrepaired episode reads <NA> (not NaN)
    nullable: pd.Int64Dtype | pd.Float64Dtype = (
        pd.Int64Dtype() if pd.api.types.is_integer_dtype(d[session].dtype) else pd.Float64Dtype()
    )
    for col in ("rupture_session", "trough_session", "pre_session", "repair_session"):
        episodes[col] = episodes[col].astype(nullable)
    episodes["rule"] = (
        f"{method} (library approximation): {k:g} SD ({sd_kind}), reference {ref_kind} "
        + ("of the other sessions" if leave_out else "incl. the session")
        + f", repair to {'pre-rupture score' if repair_kind == 'pre' else 'reference'}"
        + (f" within {horizon:g} sessions" if horizon is not None else ", no window")
    )
    episodes = episodes.sort_values([*keys, "rupture_session"], kind="mergesort")
    return round_frame(episodes.loc[:, [*keys, *EPISODE_COLUMNS]].reset_index(drop=True), keep=keys)


def _reference_and_sd(g: Any, ref_kind: str, leave_out: bool) -> tuple[pd.Series, pd.Series]:
    """Each session's reference level and within-client SD: over every rated session of
    its client, or (``leave_out``) over the client's other rated sessions."""
    if not leave_out:
        return g.transform(ref_kind), g.transform("std")
    n = g.transform("count")
    total = g.transform("sum")
    squares = g.transform(lambda v: (v * v).sum())
    y = g.obj
    others = n - 1
    mean = (total - y) / others
    var = (squares - y * y - others * mean * mean) / (others - 1)
    sd = np.sqrt(var.clip(lower=0)).where(others >= 2)
    if ref_kind == "median":
        return g.transform(_leave_one_out_median), sd
    return mean.where(others >= 1), sd


def _leave_one_out_median(v: pd.Series) -> pd.Series:
    x = v.to_numpy(dtype=float)
    out = [float(np.median(np.delete(x, i))) if len(x) > 1 else np.nan for i in range(len(x))]
    return pd.Series(out, index=v.index)
