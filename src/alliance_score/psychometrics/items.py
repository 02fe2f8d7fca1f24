"""The parsed item matrix, item analysis per scale and response frequencies."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..instrument import Instrument
from ._coefficients import alpha_from_cov, item_rest_correlations, round_frame
from ._data import Prepared, check_options, prepare
from ._moments import MissingPolicy, moments
from .reliability import kept_items

__all__ = [
    "FREQUENCY_COLUMNS",
    "ITEM_COLUMNS",
    "item_analysis",
    "item_frequencies",
    "item_matrix",
]

ITEM_COLUMNS: Final[tuple[str, ...]] = (
    "scale",
    "item",
    "reverse",
    "n_answered",
    "mean",
    "sd",
    "r_drop",
    "alpha_if_dropped",
    "note",
)
FREQUENCY_COLUMNS: Final[tuple[str, ...]] = ("item", "kind", "value", "n", "proportion")


def item_matrix(
    data: pd.DataFrame,
    instrument: Instrument | str,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    reverse: bool = True,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
) -> pd.DataFrame:
    """The parsed answers as a float DataFrame, one column per item in instrument order.

    Cells are matched and parsed as :func:`~alliance_score.score_frame` does; missing and
    invalid cells are NaN. With ``reverse=True`` (default) reverse-keyed items are
    recoded ``min + max - x``, so the matrix is ready for a reliability analysis in any
    package. ``scales=None`` (default) gives every item of the instrument; naming scales
    gives their items only (a provisional scale needs ``allow_provisional=True``, as for
    :func:`~alliance_score.score_frame`).

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.psychometrics import item_matrix
    >>> df = pd.DataFrame({f"q{i}": ["7", "1"] for i in range(1, 13)})
    >>> m = item_matrix(df, "wai-s")
    >>> m[["1", "4", "10"]]
         1    4   10
    0  7.0  1.0  1.0
    1  1.0  7.0  7.0
    >>> item_matrix(df, "wai-s", reverse=False).loc[0, "4"]
    np.float64(7.0)
    """
    if not isinstance(reverse, bool | np.bool_):
        raise ArgumentError(f"reverse must be True or False; got {reverse!r}.")
    prep = prepare(
        data,
        instrument,
        scales=scales,
        items=items,
        missing_codes=missing_codes,
        labels=labels,
        allow_provisional=True if scales is None else allow_provisional,
    )
    values = prep.keyed if reverse else prep.raw
    ids = prep.instrument.item_ids if scales is None else prep.used_items
    position = {item: j for j, item in enumerate(prep.instrument.item_ids)}
    chosen = values[:, [position[i] for i in ids]]
    return pd.DataFrame(chosen.copy(), index=data.index.copy(), columns=pd.Index(ids))


def item_analysis(
    data: pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing: MissingPolicy = "pairwise",
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    min: float | None = None,  # noqa: A002 (psych's name)
    max: float | None = None,  # noqa: A002 (psych's name)
) -> pd.DataFrame:
    """Item statistics within each scale, after reverse keying.

    Parameters are those of :func:`~alliance_score.psychometrics.reliability`.

    Returns
    -------
    pandas.DataFrame
        One row per item of each scale: ``scale``, ``item``, ``reverse`` (declared key),
        ``n_answered``, ``mean`` and ``sd`` (after reverse keying), ``r_drop`` (corrected
        item-total correlation), ``alpha_if_dropped`` and ``note``. An item without
        variance is left out of its scale's statistics, as ``psych::alpha`` does: its
        ``r_drop`` is NaN, its ``alpha_if_dropped`` the scale's alpha, and ``note`` says
        so.

    Notes
    -----
    With ``C`` the scale's item covariance matrix (pairwise or listwise):

    * ``r_drop_i = (sum_j C_ij - C_ii) / sqrt(C_ii * S_-i)``, the correlation of item
      ``i`` with the sum of the other items, where ``S_-i`` is the sum of ``C`` without
      row and column ``i``;
    * ``alpha_if_dropped_i`` is Cronbach's alpha of ``C`` without row and column ``i``
      (NaN for a two-item scale, where one item is left).

    R equivalent: ``psych::alpha(x)$item.stats`` (``n``, ``mean``, ``sd``, ``r.drop``)
    and ``$alpha.drop$raw_alpha``.

    References
    ----------
    Revelle, W. psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package (``alpha``).

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.psychometrics import item_analysis
    >>> df = pd.DataFrame({"relationship": [9.1, 7.0, 8.2, 5.5], "goals": [8.8, 6.1, 8.0, 6.0],
    ...                    "approach": [9.5, 6.4, 7.7, 4.9], "overall": [9.0, 7.2, 8.4, 5.0]})
    >>> item_analysis(df, "srs")[["item", "mean", "r_drop", "alpha_if_dropped"]].round(3)
               item   mean  r_drop  alpha_if_dropped
    0  relationship  7.450   0.996             0.965
    1         goals  7.225   0.924             0.987
    2      approach  7.125   0.984             0.972
    3       overall  7.400   0.955             0.975
    """
    check_options(missing=missing)
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
    return item_table(prep, missing=missing)


def item_table(prep: Prepared, *, missing: MissingPolicy = "pairwise") -> pd.DataFrame:
    """:func:`item_analysis` on already prepared data."""
    reverse = {i.id: i.reverse for i in prep.instrument.items}
    rows: list[dict[str, Any]] = []
    for scale in prep.scales:
        kept, _, m = kept_items(prep, scale, missing)
        r_drop = item_rest_correlations(m.cov)
        alpha = alpha_from_cov(m.cov)
        position = {item: j for j, item in enumerate(kept)}
        every = moments(prep.keyed[:, prep.columns(scale)], missing)
        keep = np.ones(len(kept), dtype=bool)
        for i, item in enumerate(scale.items):
            j = position.get(item)
            note = ""
            if j is None:  # no variance: left out, so dropping it changes nothing
                r, dropped_alpha = float("nan"), alpha
                note = "no variance: left out of the scale's statistics (as psych::alpha)"
            else:
                keep[j] = False
                dropped_alpha = alpha_from_cov(m.cov[np.ix_(keep, keep)])
                keep[j] = True
                r = float(r_drop[j])
            rows.append(
                {
                    "scale": scale.id,
                    "item": item,
                    "reverse": reverse[item],
                    "n_answered": int(every.n_answered[i]),
                    "mean": float(every.mean[i]),
                    "sd": float(every.sd[i]),
                    "r_drop": r,
                    "alpha_if_dropped": dropped_alpha,
                    "note": note,
                }
            )
    return round_frame(pd.DataFrame.from_records(rows, columns=list(ITEM_COLUMNS)))


def item_frequencies(
    data: pd.DataFrame,
    instrument: Instrument | str | None = None,
    *,
    scales: Sequence[str] | None = None,
    items: Mapping[str, Hashable] | str | None = None,
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    allow_provisional: bool = False,
    keys: Mapping[str, Sequence[str]] | None = None,
    min: float | None = None,  # noqa: A002 (psych's name)
    max: float | None = None,  # noqa: A002 (psych's name)
) -> pd.DataFrame:
    """How often each answer, missing cell and invalid cell occurs, per item.

    Answers are counted as given (before reverse keying), so the table can be read
    against the questionnaire. Items are those of the chosen scales, in instrument order.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``kind`` (``answer``, ``missing`` or ``invalid``), ``value`` (the
        answer; NaN for the other kinds), ``n`` and ``proportion``: of the item's valid
        answers for ``answer`` rows, of all rows for ``missing`` and ``invalid`` rows
        (R: ``psych::response.frequencies(x)``, whose ``miss`` column is the proportion
        of rows missing; psych has no separate count of invalid cells).

    Examples
    --------
    >>> import pandas as pd
    >>> from alliance_score.psychometrics import item_frequencies
    >>> df = pd.DataFrame({"relationship": ["9", "9", "", "12"], "goals": ["8"] * 4,
    ...                    "approach": ["7"] * 4, "overall": ["9"] * 4})
    >>> item_frequencies(df, "srs").query("item == 'relationship'")
               item     kind  value  n  proportion
    0  relationship   answer    9.0  2        1.00
    1  relationship  missing    NaN  1        0.25
    2  relationship  invalid    NaN  1        0.25
    """
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
    return frequency_table(prep)


def frequency_table(prep: Prepared) -> pd.DataFrame:
    """:func:`item_frequencies` on already prepared data."""
    position = {item: j for j, item in enumerate(prep.instrument.item_ids)}
    n_rows = prep.raw.shape[0]
    rows: list[tuple[str, str, float, int, float]] = []
    for item in prep.used_items:
        j = position[item]
        answered = prep.raw[:, j][~np.isnan(prep.raw[:, j])]
        values, counts = np.unique(answered, return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            rows.append((item, "answer", value, count, count / answered.size))
        n_invalid = int(prep.invalid[:, j].sum())
        n_missing = n_rows - answered.size - n_invalid
        share = 1.0 / n_rows if n_rows else float("nan")
        rows.append((item, "missing", float("nan"), n_missing, n_missing * share))
        rows.append((item, "invalid", float("nan"), n_invalid, n_invalid * share))
    return round_frame(pd.DataFrame.from_records(rows, columns=list(FREQUENCY_COLUMNS)))
