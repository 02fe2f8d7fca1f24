"""Reliability from partial statistics: per-partition co-moments, merged, then finished."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, model_validator

from ..instrument import Instrument
from ..psychometrics._data import prepare
from ..psychometrics._moments import MissingPolicy, Moments
from ..psychometrics.reliability import (
    reliability_row,
    reliability_table_of,
    without_constant_items,
)
from ._base import Partial
from ._comoments import Comoments, comoments, merge_comoments

__all__ = ["PairMoments", "PartialReliability", "ScaleMoments"]


class PairMoments(BaseModel):
    """The wire form of pairwise co-moments (see :mod:`alliance_score.partial._comoments`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    n: list[list[int]]
    mean: list[list[float]]
    m2: list[list[float]]
    cross: list[list[float]]

    @model_validator(mode="after")
    def _square(self) -> Self:
        k = len(self.n)
        for name in ("n", "mean", "m2", "cross"):
            rows = getattr(self, name)
            if len(rows) != k or any(len(r) != k for r in rows):
                raise ValueError(f"{name} must be a {k} x {k} matrix")
        n = np.array(self.n)
        if (n < 0).any() or not (n == n.T).all():
            raise ValueError("n must be a symmetric matrix of counts")
        return self

    @classmethod
    def of(cls, c: Comoments) -> PairMoments:
        return cls(
            n=np.rint(c.n).astype(np.int64).tolist(),
            mean=c.mean.tolist(),
            m2=c.m2.tolist(),
            cross=c.cross.tolist(),
        )

    def arrays(self) -> Comoments:
        return Comoments(
            np.array(self.n, dtype=np.float64).reshape(len(self.n), len(self.n)),
            *(
                np.array(getattr(self, f), dtype=np.float64).reshape(len(self.n), len(self.n))
                for f in ("mean", "m2", "cross")
            ),
        )

    def merge(self, other: PairMoments) -> PairMoments:
        return PairMoments.of(merge_comoments(self.arrays(), other.arrays()))

    def moments(self, n_rows: int) -> Moments:
        """The covariance and correlation matrices, as :func:`psychometrics._moments.moments`."""
        c = self.arrays()
        with np.errstate(invalid="ignore", divide="ignore"):
            dof = c.n - 1.0
            cov = c.cross / dof
            var_given = c.m2 / dof
            cor = cov / np.sqrt(var_given * var_given.T)
        cov[c.n < 2] = np.nan
        cor[c.n < 2] = np.nan
        np.fill_diagonal(cor, np.where(np.diag(cov) > 0, 1.0, np.nan))
        return Moments(
            n_rows=n_rows,
            n_answered=np.diag(c.n).astype(np.int64),
            n_pairs=c.n.astype(np.int64),
            mean=np.diag(c.mean).copy(),
            cov=cov,
            cor=cor,
        )


class ScaleMoments(BaseModel):
    """One scale's co-moments over its items, after reverse keying."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    scale: str
    items: tuple[str, ...]
    rows_answered: int
    """Rows with at least one answered item of the scale (the pairwise ``n_rows``)."""
    pairwise: PairMoments
    """Over every row (each pair uses the rows where both items are answered)."""
    listwise: PairMoments
    """Over the rows that answer every item of the scale."""

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        k = len(self.items)
        if len(self.pairwise.n) != k or len(self.listwise.n) != k:
            raise ValueError(f"the co-moments must be {k} x {k}, one row per item")
        if self.rows_answered < 0:
            raise ValueError("rows_answered must not be negative")
        return self


class PartialReliability(Partial):
    """Sufficient statistics for :func:`alliance_score.psychometrics.reliability`.

    Build one per partition or site with :meth:`from_frame`, combine them with
    :meth:`merge` (in any order and grouping), exchange them as JSON
    (:meth:`~alliance_score.partial.Partial.to_json`), and call :meth:`finish` for the
    reliability table of all rows together. The object holds counts, item means and
    co-moments per item pair (no rows, no identifiers).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from alliance_score.partial import PartialReliability
    >>> from alliance_score.psychometrics import reliability
    >>> rng = np.random.default_rng(7)
    >>> trait = rng.normal(size=(400, 1))
    >>> answers = np.clip(np.rint(3.5 + trait + rng.normal(size=(400, 12))), 1, 5)
    >>> df = pd.DataFrame(answers, columns=[f"wai_{i}" for i in range(1, 13)])
    >>> site_a = PartialReliability.from_frame(df.iloc[:150], "wai-sr")
    >>> site_b = PartialReliability.from_frame(df.iloc[150:], "wai-sr")
    >>> received = PartialReliability.from_json(site_b.to_json())
    >>> merged = site_a.merge(received).finish(ci=None)
    >>> pooled = reliability(df, "wai-sr", ci=None)
    >>> bool(np.allclose(merged["alpha"], pooled["alpha"], rtol=0, atol=1e-12))
    True
    """

    kind: Literal["alliance-score/partial-reliability"] = "alliance-score/partial-reliability"
    format_version: Literal[1] = 1
    instrument: str
    """The definition's ``id@version``."""
    definition_hash: str
    """The definition's content hash: only statistics of the same definition merge."""
    missing_codes: tuple[float | str, ...] = ()
    labels: bool = False
    scales: tuple[ScaleMoments, ...]

    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        instrument: Instrument | str,
        *,
        scales: Sequence[str] | None = None,
        items: Mapping[str, Hashable] | str | None = None,
        missing_codes: Sequence[float | str] = (),
        labels: bool = False,
        allow_provisional: bool = False,
    ) -> PartialReliability:
        """The partial statistic of ``data`` (arguments as for ``reliability``)."""
        prep = prepare(
            data,
            instrument,
            scales=scales,
            items=items,
            missing_codes=missing_codes,
            labels=labels,
            allow_provisional=allow_provisional,
            numbers=False,  # the range check's second parse is not needed here
        )
        # A pair's pairwise co-moments depend on the two items alone: those of every item
        # used, taken once, hold each scale's as a sub-matrix.
        used = [j for j, i in enumerate(prep.instrument.item_ids) if i in prep.used_items]
        x = prep.keyed if len(used) == prep.keyed.shape[1] else prep.keyed[:, used]
        absent = np.isnan(x)
        everything = comoments(x)
        where = {prep.instrument.item_ids[j]: k for k, j in enumerate(used)}
        parts = []
        for scale in prep.scales:
            pick = np.array([where[i] for i in scale.items], dtype=np.intp)
            out = absent[:, pick]
            complete = np.logical_not(out.any(axis=1))
            parts.append(
                ScaleMoments(
                    scale=scale.id,
                    items=tuple(scale.items),
                    rows_answered=int(len(out) - np.count_nonzero(out.all(axis=1))),
                    pairwise=PairMoments.of(
                        Comoments(*(m[np.ix_(pick, pick)] for m in everything))
                    ),
                    listwise=PairMoments.of(comoments(_rows(x, complete, pick))),
                )
            )
        ins = prep.instrument
        return cls(
            instrument=ins.ref,
            definition_hash=ins.content_hash,
            missing_codes=tuple(missing_codes),
            labels=labels,
            scales=tuple(parts),
        )

    def merge(self, other: PartialReliability) -> PartialReliability:
        """The statistic of the rows of ``self`` and ``other`` together."""
        self._check_same(other, ("instrument", "definition_hash", "missing_codes", "labels"))
        mine = [(s.scale, s.items) for s in self.scales]
        theirs = [(s.scale, s.items) for s in other.scales]
        if mine != theirs:
            raise self._mismatch("scales", mine, theirs)
        return self.model_copy(
            update={
                "scales": tuple(
                    ScaleMoments(
                        scale=a.scale,
                        items=a.items,
                        rows_answered=a.rows_answered + b.rows_answered,
                        pairwise=a.pairwise.merge(b.pairwise),
                        listwise=a.listwise.merge(b.listwise),
                    )
                    for a, b in zip(self.scales, other.scales, strict=True)
                )
            }
        )

    def _mismatch(self, name: str, mine: Any, theirs: Any) -> Exception:
        from ._base import PartialMismatchError

        return PartialMismatchError(
            f"Cannot merge PartialReliability objects with different {name}: "
            f"{[m[0] for m in mine]} and {[t[0] for t in theirs]}."
        )

    def finish(
        self, *, missing: MissingPolicy = "pairwise", ci: float | None = 0.95
    ) -> pd.DataFrame:
        """The table :func:`~alliance_score.psychometrics.reliability` gives on all rows.

        Alpha and its interval, standardised alpha and the average correlation come from
        the merged covariance matrix, omega from the merged correlation matrix, by the
        same functions as ``reliability``.
        """
        if missing not in ("pairwise", "listwise"):
            raise ValueError(f"missing must be 'pairwise' or 'listwise'; got {missing!r}")
        rows = []
        for s in self.scales:
            k = len(s.items)
            if missing == "pairwise":
                m = s.pairwise.moments(s.rows_answered)
            else:
                m = s.listwise.moments(int(s.listwise.n[0][0]) if k else 0)
            kept, dropped = without_constant_items(m, s.items)
            rows.append(reliability_row(s.scale, kept, dropped, missing=missing, ci=ci))
        return reliability_table_of(rows)


def _rows(x: NDArray[np.float64], rows: NDArray[np.bool_], columns: NDArray[np.intp]) -> Any:
    """``x[rows][:, columns]``, copying only what is needed (all columns: no copy)."""
    if not np.array_equal(columns, np.arange(x.shape[1])):
        x = x[:, columns]
    return x if rows.all() else x[rows]
