"""Scoring and statistics on Dask DataFrames: the same kernel, partition by partition.

Every function here is a thin adapter (optional ``dask`` extra,
``pip install 'alliance-score[dask]'``):

* :func:`score_frame` runs :func:`alliance_score.score_frame` on each partition through
  ``map_partitions`` with an explicit ``meta`` built from the instrument (its columns
  and dtypes are known before any data is read; nothing is inferred by running on fake
  data). With ``return_problems=True`` the problems come as a Dask DataFrame too, with
  row positions counted from the start of the whole table, as the command line's chunked
  reading does: the partitions' lengths are computed first, then each partition is scored
  with ``first_row`` set to its offset. The partitions are then fixed
  (``to_delayed``/``from_delayed``, with the same explicit ``meta``), so that an
  optimiser that fuses or splits partitions cannot put an offset on the wrong rows.
* :func:`reliability`, :func:`item_frequencies` and :func:`nested_icc` compute mergeable
  partial statistics (:mod:`alliance_score.partial`) per partition, merge them in a tree
  and finish them: the result equals the pandas function on all rows at once.
* :func:`summarize_clients` needs all rows of a client together: it shuffles the table by
  client (and rater), then runs the pandas function on each partition.

Rows are scored independently, so the scores do not depend on the partitioning.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .errors import DataError, MissingDependencyError
from .frame import PROBLEM_COLUMNS, OnInvalid, text_dtype
from .frame import score_frame as _score_pandas
from .instrument import Instrument
from .mapping import ColumnMap, resolve_columns
from .partial import PartialFrequencies, PartialNestedICC, PartialReliability
from .registry import resolve_instrument
from .scoring import STATUS_ORDER, provisional_ids, select_scales
from .sessions import SUMMARY_COLUMNS
from .sessions import summarize_clients as _summarize_pandas

__all__ = [
    "DaskFrameResult",
    "item_frequencies",
    "nested_icc",
    "partial_frequencies",
    "partial_nested_icc",
    "partial_reliability",
    "reliability",
    "score_frame",
    "scores_meta",
    "summarize_clients",
]


def _require() -> tuple[Any, Any]:
    """``(dask, dask.dataframe)``, or :class:`MissingDependencyError` with the install hint."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise MissingDependencyError("Scoring Dask DataFrames", "dask", "dask") from exc
    return dask, dd


def scores_meta(
    instrument: Instrument | str,
    *,
    scales: Sequence[str] | None = None,
    keep: Mapping[Hashable, Any] | None = None,
    allow_provisional: bool = False,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """The empty scores table :func:`alliance_score.score_frame` returns, from the definition.

    ``keep`` maps the kept input columns to their dtypes. The columns and dtypes follow
    the contract of :mod:`alliance_score.frame`: per scale a float score, an int64
    ``_n_answered`` and a bool ``_prorated``; per cut-off a nullable boolean flag;
    ``n_answered`` and ``n_problems`` (int64); ``provisional`` when provisional elements
    are scored; ``status`` (categorical).

    Examples
    --------
    >>> meta = scores_meta("srs")
    >>> list(meta.columns)
    ['total', 'total_n_answered', 'total_prorated', 'n_answered', 'n_problems', 'status']
    >>> str(meta["status"].dtype), str(meta["total_n_answered"].dtype)
    ('category', 'int64')
    """
    ins = resolve_instrument(instrument)
    chosen, cutoffs = select_scales(ins, scales, allow_provisional=allow_provisional)
    columns: dict[Hashable, Any] = dict(keep or {})
    computed: dict[str, Any] = {}
    for scale in chosen:
        computed[scale.id] = np.dtype(np.float64)
        computed[f"{scale.id}_n_answered"] = np.dtype(np.int64)
        computed[f"{scale.id}_prorated"] = np.dtype(np.bool_)
    for cut in cutoffs:
        computed[cut.flag] = pd.BooleanDtype()
    computed["n_answered"] = np.dtype(np.int64)
    computed["n_problems"] = np.dtype(np.int64)
    provisional = provisional_ids(chosen, cutoffs)
    if provisional:
        computed["provisional"] = pd.CategoricalDtype(pd.Index([";".join(provisional)]))
    computed["status"] = pd.CategoricalDtype(pd.Index([s.value for s in STATUS_ORDER]))
    clash = [c for c in computed if c in columns]
    if clash:
        raise DataError(f"Columns {clash} given in keep clash with score column names.")
    columns.update(computed)
    idx = pd.RangeIndex(0) if index is None else index[:0]
    meta = pd.DataFrame(
        {c: pd.Series(np.empty(0), dtype=d, index=idx).array for c, d in columns.items()},
        index=idx,
    )
    meta.attrs["alliance_score"] = {
        "instrument": ins.ref,
        "definition_origin": ins.origin,
        "definition_hash": ins.content_hash,
        "scales": [s.id for s in chosen],
        "provisional": provisional,
    }
    return meta


def problems_meta() -> pd.DataFrame:
    """The empty problems table (:data:`alliance_score.frame.PROBLEM_COLUMNS`)."""
    text = text_dtype()
    return pd.DataFrame(
        {c: pd.Series(np.empty(0), dtype=np.int64 if c == "row" else text) for c in PROBLEM_COLUMNS}
    )


@dataclass(frozen=True, eq=False)
class DaskFrameResult:
    """Scores and problems of a Dask DataFrame, both lazy Dask DataFrames.

    Compute them together (``dask.compute(result.scores, result.problems)``) to score
    each partition once.
    """

    scores: Any
    """Dask DataFrame: one row per input row, the columns of :func:`scores_meta`."""
    problems: Any
    """Dask DataFrame of problems; ``row`` counts from the start of the whole table."""
    instrument: Instrument
    mapping: ColumnMap
    lengths: tuple[int, ...] = field(default=())
    """Rows per partition (computed to place each partition's rows)."""

    def summary(self) -> dict[str, Any]:
        """Rows per status and problems per code, as :meth:`FrameResult.summary` (computes)."""
        dask, _ = _require()
        status, codes = dask.compute(
            self.scores["status"].value_counts(), self.problems["code"].value_counts()
        )
        return {
            "instrument": {"id": self.instrument.id, "version": self.instrument.version},
            "rows": int(sum(self.lengths)),
            "status": {s.value: int(status.get(s.value, 0)) for s in STATUS_ORDER},
            "problems": {str(k): int(v) for k, v in sorted(codes.items())},
        }


@overload
def score_frame(
    data: Any,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = ...,
    scales: Sequence[str] | None = ...,
    keep: Sequence[Hashable] = ...,
    missing_codes: Sequence[float | str] = ...,
    labels: bool = ...,
    on_invalid: OnInvalid = ...,
    allow_provisional: bool = ...,
    decimal: str = ...,
    any_resolution: bool = ...,
    return_problems: Literal[False] = ...,
) -> Any: ...


@overload
def score_frame(
    data: Any,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = ...,
    scales: Sequence[str] | None = ...,
    keep: Sequence[Hashable] = ...,
    missing_codes: Sequence[float | str] = ...,
    labels: bool = ...,
    on_invalid: OnInvalid = ...,
    allow_provisional: bool = ...,
    decimal: str = ...,
    any_resolution: bool = ...,
    return_problems: Literal[True],
) -> DaskFrameResult: ...


def score_frame(
    data: Any,
    instrument: Instrument | str,
    *,
    items: Mapping[str, Hashable] | str | None = None,
    scales: Sequence[str] | None = None,
    keep: Sequence[Hashable] = (),
    missing_codes: Sequence[float | str] = (),
    labels: bool = False,
    on_invalid: OnInvalid = "reject",
    allow_provisional: bool = False,
    decimal: str = ".",
    any_resolution: bool = False,
    return_problems: bool = False,
) -> Any:
    """Score every row of a Dask DataFrame, partition by partition (lazily).

    Takes the options of :func:`alliance_score.score_frame` and returns a Dask DataFrame
    of scores whose computed value equals ``alliance_score.score_frame`` on the whole
    table (same columns, dtypes, index and rows). The column mapping, the scales and
    ``keep`` are checked here, before anything is computed.

    With ``return_problems=True`` a :class:`DaskFrameResult` holds the scores and the
    problems as Dask DataFrames. To number problem rows from the start of the table,
    the partitions' lengths are computed first (one pass over the data).

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from alliance_score import dask as asd
    >>> df = pd.DataFrame({f"wai_{i}": [4, 5, 3, 9] for i in range(1, 13)})
    >>> ddf = dd.from_pandas(df, npartitions=2)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     res = asd.score_frame(ddf, "wai-sr", return_problems=True)
    ...     scores, problems = dask.compute(res.scores, res.problems)
    >>> scores["status"].tolist()
    ['complete', 'complete', 'complete', 'invalid']
    >>> problems["row"].unique().tolist()  # counted over the whole table
    [3]
    """
    _, dd = _require()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"data must be a Dask DataFrame; got {type(data).__name__}")
    if on_invalid not in ("reject", "missing"):
        raise ValueError(f"on_invalid must be 'reject' or 'missing'; got {on_invalid!r}")
    ins = resolve_instrument(instrument)  # text names an id, never a path
    if isinstance(keep, str):  # one column name, not its letters
        keep = [keep]
    columns = data._meta.columns
    mapping = resolve_columns(columns, ins, items)
    absent = [c for c in keep if c not in columns]
    if absent:
        raise DataError(f"Column {absent[0]!r} given in keep is not in the data.")
    meta = scores_meta(
        ins,
        scales=scales,
        keep={c: data._meta[c].dtype for c in keep},
        allow_provisional=allow_provisional,
        index=data._meta.index,
    )
    options: dict[str, Any] = {
        "items": dict(mapping),
        "scales": scales,
        "keep": list(keep),
        "missing_codes": list(missing_codes),
        "labels": labels,
        "on_invalid": on_invalid,
        "allow_provisional": allow_provisional,
        "decimal": decimal,
        "any_resolution": any_resolution,
    }
    if not return_problems:
        return data.map_partitions(
            _score_part, ins, options, meta, meta=meta, enforce_metadata=False
        )
    return _score_with_problems(data, ins, mapping, options, meta)


def _score_part(
    part: pd.DataFrame, ins: Instrument, options: dict[str, Any], meta: pd.DataFrame
) -> pd.DataFrame:
    scores: pd.DataFrame = _score_pandas(part, ins, **options)
    # pandas may narrow a kept object column of text to its text dtype, depending on the
    # partition's values: keep the input's dtype, so that every partition matches meta
    changed = {c: meta[c].dtype for c in options["keep"] if scores[c].dtype != meta[c].dtype}
    return scores.astype(changed) if changed else scores


def _score_with_problems(
    data: Any, ins: Instrument, mapping: ColumnMap, options: dict[str, Any], meta: pd.DataFrame
) -> DaskFrameResult:
    dask, dd = _require()
    parts = data.to_delayed()
    lengths = tuple(int(n) for n in dask.compute(*[dask.delayed(len)(p) for p in parts]))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64).tolist()
    results = [
        dask.delayed(_score_problems_part)(p, ins, options, meta, first)
        for p, first in zip(parts, offsets, strict=True)
    ]
    scores = dd.from_delayed(
        [dask.delayed(_pick)(r, 0) for r in results], meta=meta, verify_meta=False
    )
    problems = dd.from_delayed(
        [dask.delayed(_pick)(r, 1) for r in results], meta=problems_meta(), verify_meta=False
    )
    return DaskFrameResult(scores, problems, ins, mapping, lengths)


def _score_problems_part(
    part: pd.DataFrame,
    ins: Instrument,
    options: dict[str, Any],
    meta: pd.DataFrame,
    first_row: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = _score_pandas(part, ins, first_row=first_row, return_problems=True, **options)
    problems = result.problems.astype(problems_meta().dtypes.to_dict())
    scores = result.scores
    changed = {c: meta[c].dtype for c in options["keep"] if scores[c].dtype != meta[c].dtype}
    return (scores.astype(changed) if changed else scores), problems


def _pick(pair: tuple[pd.DataFrame, pd.DataFrame], which: int) -> pd.DataFrame:
    return pair[which]


def _tree_merge(dask: Any, parts: list[Any]) -> Any:
    """Merge delayed partial statistics pairwise, in a balanced tree."""
    while len(parts) > 1:
        merged = [
            dask.delayed(_merge2)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)
        ]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


def _merge2(a: Any, b: Any) -> Any:
    return a.merge(b)


def _partials(data: Any, build: Any, *args: Any, **kwargs: Any) -> Any:
    dask, dd = _require()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"data must be a Dask DataFrame; got {type(data).__name__}")
    parts = [dask.delayed(build)(p, *args, **kwargs) for p in data.to_delayed()]
    (merged,) = dask.compute(_tree_merge(dask, parts))
    return merged


def partial_reliability(data: Any, instrument: Instrument | str, **options: Any) -> Any:
    """A :class:`~alliance_score.partial.PartialReliability` of all partitions, merged."""
    ins = resolve_instrument(instrument)
    resolve_columns(data._meta.columns, ins, options.get("items"))  # fail before computing
    return _partials(data, PartialReliability.from_frame, ins, **options)


def reliability(
    data: Any,
    instrument: Instrument | str,
    *,
    missing: Literal["pairwise", "listwise"] = "pairwise",
    ci: float | None = 0.95,
    **options: Any,
) -> pd.DataFrame:
    """:func:`alliance_score.psychometrics.reliability` of a Dask DataFrame.

    Partial statistics (counts, means and co-moments per item pair) are computed per
    partition and merged; ``options`` are those of
    :meth:`~alliance_score.partial.PartialReliability.from_frame`.
    """
    return partial_reliability(data, instrument, **options).finish(missing=missing, ci=ci)  # type: ignore[no-any-return]


def partial_frequencies(data: Any, instrument: Instrument | str, **options: Any) -> Any:
    """A :class:`~alliance_score.partial.PartialFrequencies` of all partitions, merged."""
    ins = resolve_instrument(instrument)
    resolve_columns(data._meta.columns, ins, options.get("items"))
    return _partials(data, PartialFrequencies.from_frame, ins, **options)


def item_frequencies(data: Any, instrument: Instrument | str, **options: Any) -> pd.DataFrame:
    """:func:`alliance_score.psychometrics.item_frequencies` of a Dask DataFrame."""
    return partial_frequencies(data, instrument, **options).finish()  # type: ignore[no-any-return]


def partial_nested_icc(data: Any, **options: Any) -> Any:
    """A :class:`~alliance_score.partial.PartialNestedICC` of all partitions, merged."""
    return _partials(data, PartialNestedICC.from_frame, **options)


def nested_icc(
    data: Any, *, group_size: Literal["mean", "n0"] = "mean", **options: Any
) -> pd.DataFrame:
    """:func:`alliance_score.sessions.nested_icc` of a Dask DataFrame (per-client sums)."""
    return partial_nested_icc(data, **options).finish(group_size=group_size)  # type: ignore[no-any-return]


def summarize_clients(
    data: Any,
    *,
    client: str = "client",
    session: str = "session",
    rater: str | None = None,
    score: str = "total",
    early_session: int = 3,
    early: Literal["session", "window"] = "session",
) -> Any:
    """:func:`alliance_score.sessions.summarize_clients` of a Dask DataFrame (lazily).

    A client's summary needs all of the client's rows, so the table is first **shuffled
    by client** (and rater): every row of a client lands in one partition (a full data
    movement, like a ``groupby``), and the pandas function summarises each partition.
    The computed result has the same rows as the pandas function on the whole table;
    it is sorted within each partition, so sort it after computing for the pandas order.
    """
    _, dd = _require()
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"data must be a Dask DataFrame; got {type(data).__name__}")
    keys = [client] if rater is None else [client, rater]
    for role, col in (("client", client), ("session", session), ("rater", rater), ("score", score)):
        if col is not None and col not in data._meta.columns:
            raise DataError(f"The {role} column {col!r} (given as {role}=) is not in the data.")
    dtypes = data._meta.dtypes
    text = text_dtype()
    summary: dict[str, Any] = {k: dtypes[k] for k in keys}
    for col in SUMMARY_COLUMNS:
        summary[col] = np.dtype(np.float64)
    summary["n_sessions"] = summary["early_n"] = np.dtype(np.int64)
    # float: a client without a rated session has none (pandas gives int64 only when
    # every client has one)
    summary["early_rule"] = text
    meta = pd.DataFrame({c: pd.Series(np.empty(0), dtype=d) for c, d in summary.items()})
    options = {
        "client": client,
        "session": session,
        "rater": rater,
        "score": score,
        "early_session": early_session,
        "early": early,
    }
    shuffled = data.shuffle(on=keys)
    return shuffled.map_partitions(_summarize_part, options, meta, meta=meta)


def _summarize_part(part: pd.DataFrame, options: dict[str, Any], meta: pd.DataFrame) -> Any:
    if not len(part):
        return meta
    return _summarize_pandas(part, **options).astype(meta.dtypes.to_dict())
