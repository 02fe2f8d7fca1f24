"""Mergeable partial statistics: compute per partition or site, merge, finish.

Each statistic of :mod:`alliance_score.psychometrics` and :mod:`alliance_score.sessions`
that can be pooled without the rows has a partial form here, built from sufficient
statistics (counts, means, co-moments, per-client sums):

* :class:`PartialReliability`: :func:`~alliance_score.psychometrics.reliability` (alpha
  pairwise and listwise, standardised alpha, average r, omega);
* :class:`PartialFrequencies`: :func:`~alliance_score.psychometrics.item_frequencies`;
* :class:`PartialNestedICC`: :func:`~alliance_score.sessions.nested_icc`.

Every partial statistic is a frozen pydantic model with ``from_frame`` (one partition's
rows), ``merge`` (two partials into one; associative and commutative up to rounding),
``to_json``/``from_json`` (for exchange between sites that may not share rows) and
``finish`` (the same table as the pandas function on all rows together). Moments merge
with the pairwise update of Chan, Golub & LeVeque, never as raw sums of squares.

Per-client summaries (:func:`~alliance_score.sessions.summarize_clients`) need each
client's rows in order, so they have no partial form: :func:`alliance_score.dask.
summarize_clients` shuffles the rows by client instead.
"""

from __future__ import annotations

from ._base import Partial, PartialMismatchError
from .frequencies import ItemCounts, PartialFrequencies
from .nested import ClientMoments, PartialNestedICC
from .reliability import PairMoments, PartialReliability, ScaleMoments

__all__ = [
    "ClientMoments",
    "ItemCounts",
    "PairMoments",
    "Partial",
    "PartialFrequencies",
    "PartialMismatchError",
    "PartialNestedICC",
    "PartialReliability",
    "ScaleMoments",
]
