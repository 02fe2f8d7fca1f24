"""A scored chunk in file terms: input lines, rows counted from the file's start, and
the problems only a file has.

:func:`alliance_score.score_frame` knows rows of a DataFrame; a file has lines, chunks
and more than one chunk's worth of rows. :func:`account` adds each problem's input
``line``, counts rows from the start of the file, and reports ragged lines
(``ragged_line``), cells with bytes invalid in the file's encoding (``undecodable``)
and duplicate administrations (``duplicate_row``, found across chunks
by :class:`DuplicateFinder`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import ProblemCode
from ..frame import FrameResult
from ..scoring import STATUS_ORDER, Status
from .source import Chunk

__all__ = ["PROBLEM_FILE_COLUMNS", "DuplicateFinder", "account"]

PROBLEM_FILE_COLUMNS: tuple[str, ...] = (
    "line",
    "row",
    "index",
    "column",
    "item",
    "value",
    "code",
    "message",
)
"""Columns of the problems file: the library's problems table plus the input ``line``."""


def account(
    result: FrameResult,
    chunk: Chunk,
    duplicates: DuplicateFinder,
    on_invalid: str,
    width: int,
) -> FrameResult:
    """Put a chunk's result in file terms: global rows, input lines, row-level problems.

    The chunk is scored with ``first_row`` set to its position in the file, so the
    library's problems already count rows from the start of the file; they get the
    input ``line`` here. Ragged lines and duplicate identifiers are added as row-level
    problems (column and item empty), before the row's cell problems. With
    ``on_invalid="reject"`` a row from a ragged line is not scored (status ``invalid``),
    as for an invalid cell.
    """
    frame = chunk.frame
    offset = int(frame.index[0]) if len(frame) else 0
    problems = result.problems.copy()
    local = problems["row"].to_numpy(dtype=np.int64) - offset
    problems.insert(0, "line", chunk.lines[local] if len(local) else np.empty(0, np.int64))
    extra: list[tuple[Any, ...]] = []
    for pos, fields in zip(chunk.ragged.tolist(), chunk.ragged_fields.tolist(), strict=True):
        line = int(chunk.lines[pos])
        then = (
            "the row is not scored (--on-invalid missing scores the fields it has)"
            if on_invalid == "reject"
            else "absent fields count as missing and extra fields are ignored"
        )
        extra.append(
            (
                line,
                offset + pos,
                str(offset + pos),
                None,
                None,
                f"{fields} field{'' if fields == 1 else 's'}",
                ProblemCode.RAGGED_LINE.value,
                f"Row {offset + pos} (line {line}) has {fields} field{'' if fields == 1 else 's'} "
                f"where the header has "
                f"{width}; {then}.",
            )
        )
    for pos, column in chunk.undecodable:
        line = int(chunk.lines[pos])
        extra.append(
            (
                line,
                offset + pos,
                str(offset + pos),
                column,
                None,
                str(frame[column].iloc[pos]),
                ProblemCode.UNDECODABLE.value,
                f"Row {offset + pos} (line {line}), column {column!r}, holds bytes that are "
                "not valid in the file's encoding; they are read as U+FFFD (\ufffd) and the "
                "rest of the file is read as it is.",
            )
        )
    for pos, first_line in duplicates.check(frame, chunk.lines):
        line = int(chunk.lines[pos])
        extra.append(
            (
                line,
                offset + pos,
                str(offset + pos),
                None,
                None,
                None,
                ProblemCode.DUPLICATE_ROW.value,
                f"Row {offset + pos} (line {line}) has the same identifiers "
                f"({', '.join(duplicates.columns)}) as the row on line {first_line}; both "
                "are kept and scored.",
            )
        )
    scores = result.scores
    if extra:
        row_level = pd.DataFrame.from_records(extra, columns=list(PROBLEM_FILE_COLUMNS))
        problems = pd.concat([row_level, problems], ignore_index=True)
        problems = problems.sort_values("row", kind="stable", ignore_index=True)
        if on_invalid == "reject" and len(chunk.ragged):
            scores = _reject_rows(scores, result, chunk.ragged)
    problems = problems.astype({"line": np.int64, "row": np.int64})
    return dataclasses.replace(result, scores=scores, problems=problems[list(PROBLEM_FILE_COLUMNS)])


def _reject_rows(
    scores: pd.DataFrame, result: FrameResult, positions: NDArray[np.int64]
) -> pd.DataFrame:
    """Mark rows invalid as the library does for a row with an invalid cell."""
    out = scores.copy()
    attrs = scores.attrs.get("alliance_score", {})
    for scale in attrs.get("scales", []):
        values = out[scale].to_numpy(copy=True)
        values[positions] = np.nan
        out[scale] = values
        prorated = out[f"{scale}_prorated"].to_numpy(copy=True)
        prorated[positions] = False
        out[f"{scale}_prorated"] = prorated
    for cut in result.instrument.cutoffs:
        if cut.flag in out.columns:
            flags = out[cut.flag].array.copy()
            flags[positions] = pd.NA
            out[cut.flag] = flags
    codes = out["status"].cat.codes.to_numpy(copy=True)
    codes[positions] = STATUS_ORDER.index(Status.INVALID)
    out["status"] = pd.Categorical.from_codes(codes, categories=out["status"].cat.categories)
    out.attrs = scores.attrs
    return out


def _hashable(value: Any) -> Any:
    from .writers import plain_cell

    return plain_cell(value)


class DuplicateFinder:
    """Finds rows whose identifier columns repeat an earlier row's, across chunks.

    Rows are compared by a 64-bit hash of their identifier cells (pandas'
    ``hash_pandas_object``), so memory grows by 16 bytes per distinct administration,
    not with the row width. Rows whose identifiers are all empty are not compared.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> finder = DuplicateFinder(["client", "session"])
    >>> first = pd.DataFrame({"client": ["a", "b"], "session": ["1", "1"]})
    >>> list(finder.check(first, np.array([2, 3])))
    []
    >>> later = pd.DataFrame({"client": ["a", "a"], "session": ["2", "1"]}, index=[2, 3])
    >>> list(finder.check(later, np.array([4, 5])))  # (position in chunk, first line)
    [(1, 2)]
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self._hashes = np.empty(0, dtype=np.uint64)
        self._lines = np.empty(0, dtype=np.int64)

    def check(self, frame: pd.DataFrame, lines: NDArray[np.int64]) -> Iterator[tuple[int, int]]:
        """Yield ``(position in frame, line of the first row with the same identifiers)``."""
        if not self.columns or not len(frame):
            return
        ids = frame[self.columns].astype(object)
        for name in self.columns:  # list, dict or array cells (parquet) compared as text
            if pd.api.types.infer_dtype(ids[name], skipna=True) == "mixed":
                ids[name] = ids[name].map(_hashable)
        blank = ids.apply(lambda c: c.isna() | c.astype(str).str.strip().eq("")).all(axis=1)
        usable = np.flatnonzero(~blank.to_numpy())
        if not len(usable):
            return
        hashes = pd.util.hash_pandas_object(ids.iloc[usable], index=False).to_numpy()
        uniq, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        pos = np.searchsorted(self._hashes, uniq)
        seen = np.zeros(len(uniq), dtype=bool)
        inside = pos < len(self._hashes)
        seen[inside] = self._hashes[pos[inside]] == uniq[inside]
        first_line = np.where(
            seen,
            self._lines[np.minimum(pos, len(self._lines) - 1)] if len(self._lines) else 0,
            lines[usable[first]],
        )
        own_line = lines[usable]
        is_dup = first_line[inverse] != own_line
        new = ~seen
        self._hashes = np.insert(self._hashes, pos[new], uniq[new])
        self._lines = np.insert(self._lines, pos[new], lines[usable[first[new]]])
        for k in np.flatnonzero(is_dup).tolist():
            yield int(usable[k]), int(first_line[inverse[k]])
