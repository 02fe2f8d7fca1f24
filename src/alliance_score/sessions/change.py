"""Change across sessions: reliable change and clinical-significance cut-offs."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from ..instrument import Instrument, Norm
from ..psychometrics._coefficients import round_frame, round_values
from ..registry import resolve_instrument
from ._columns import check_choice, check_number, group_keys, prepare
from ._renamed import renamed_keywords

__all__ = ["RCI_COLUMNS", "clinical_cutoffs", "reliable_change"]

ReliabilityKind = Literal["retest", "alpha"]
CutoffName = Literal["a", "b", "c"]

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

CUTOFF_COLUMNS: tuple[str, ...] = ("cutoff", "past_cutoff", "recovered")
"""Columns :func:`reliable_change` adds after :data:`RCI_COLUMNS` with clinical norms."""


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
    if not isinstance(higher_is_better, bool | np.bool_):
        raise ArgumentError(f"higher_is_better must be True or False; got {higher_is_better!r}.")
    for role, norm in (("dysfunctional", dysfunctional), ("functional", functional)):
        if not isinstance(norm, Norm):
            raise ArgumentError(f"{role} must be a Norm; got {type(norm).__name__}.")
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
    return round_values(values)


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


def _pick(d: pd.DataFrame, keys: list[str], session: str, which: float | str) -> pd.DataFrame:
    """Per client, the row at session ``which`` (a number), or the first/last rated one."""
    g = d.groupby(keys, sort=True, observed=True)
    if which == "first":
        return g.head(1).set_index(keys)
    if which == "last":
        return g.tail(1).set_index(keys)
    return d.loc[d[session] == which].drop_duplicates(keys).set_index(keys)


def _check_session_choice(name: str, value: object, word: str) -> float | str:
    if value == word and isinstance(value, str):
        return word
    if isinstance(value, str):
        raise ArgumentError(f"{name} must be a session number or {word!r}; got {value!r}.")
    return check_number(name, value)


def _check_norm(name: str, norm: object, score: str) -> None:
    if norm is None:
        return
    if not isinstance(norm, Norm):
        raise ArgumentError(f"{name} must be a Norm; got {type(norm).__name__}.")
    if norm.scale != score:
        raise ArgumentError(
            f"{name}= is a norm of scale {norm.scale!r} but score={score!r}: its mean, sd and "
            "reliability belong to another scale. Pass the norm of the scored scale, or "
            "sd= and reliability= explicitly."
        )


@renamed_keywords(cutoff="clinical_cutoff")
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
    clinical_cutoff: CutoffName = "c",
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
    functional, dysfunctional, clinical_cutoff
        With both norms, add the clinical cut-off (``"a"``, ``"b"`` or ``"c"``, see
        :func:`clinical_cutoffs`) and the columns ``cutoff``, ``past_cutoff`` (post
        score on the functional side of it) and ``recovered`` (reliably improved and
        past it). ``cutoff=`` is the old name of ``clinical_cutoff=``.

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
    criterion = check_number("criterion", criterion, positive=True)
    check_choice("reliability_kind", reliability_kind, ("retest", "alpha"))
    check_choice("clinical_cutoff", clinical_cutoff, ("a", "b", "c"))
    first = _check_session_choice("pre", pre, "first")
    last = _check_session_choice("post", post, "last")
    if higher_is_better is not None and not isinstance(higher_is_better, bool | np.bool_):
        raise ArgumentError(
            f"higher_is_better must be True, False or None; got {higher_is_better!r}."
        )
    if sd is not None:
        sd = check_number("sd", sd, positive=True)
    if reliability is not None:
        reliability = check_number("reliability", reliability, minimum=0.0, below=1.0)
    for name, given in (
        ("norm", norm),
        ("functional", functional),
        ("dysfunctional", dysfunctional),
    ):
        _check_norm(name, given, score)
    if population is not None and instrument is None:
        raise ArgumentError(
            "population= chooses among an instrument's norms; give instrument= too "
            "(or a norm= directly)."
        )
    keys = group_keys(client, rater)
    ins = resolve_instrument(instrument) if instrument is not None else None
    if ins is not None and score not in ins.scale_ids:
        raise ArgumentError(
            f"score={score!r} must name a scale of {ins.ref} when instrument= is given "
            f"(its norms and direction are per scale); its scales are {list(ins.scale_ids)}. "
            "Name the score column after the scale, or pass sd= and reliability= instead."
        )
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
    d = prepare(
        data,
        client=client,
        session=session,
        rater=rater,
        score=score,
        dropna=False,
        outputs=(*RCI_COLUMNS, *CUTOFF_COLUMNS),
        what="reliable_change",
    )
    every = d.loc[:, keys].drop_duplicates().set_index(keys).index
    rated = d.loc[d[score].notna()]
    a = _pick(rated, keys, session, first).reindex(every)
    b = _pick(rated, keys, session, last).reindex(every)
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
            clinical_cutoff
        ]
        past = out["post"] > value if higher_is_better else out["post"] < value
        out["cutoff"] = value
        out["past_cutoff"] = past.astype("boolean").mask(out["post"].isna())
        improved = out["change"].eq("improved").fillna(False).astype("boolean")
        out["recovered"] = out["past_cutoff"] & improved
    return round_frame(out.sort_index().reset_index(), keep=keys)
